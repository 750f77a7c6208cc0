"""Security headers on every answer; pages that post elsewhere (the hand-off) set their own CSP."""

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ncp_gateway.domain.entry import csp_source_of

DEFAULT_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]


def handoff_csp(receiver_origin: str, script_nonce: str) -> str:
    # form-action must allow the receiver, or the browser refuses the auto-submit (emrex.md §2.5). The source is
    # rebuilt from the origin's validated parts, never pasted from the request.
    return (
        f"default-src 'none'; script-src 'nonce-{script_nonce}'; style-src 'self'; "
        f"form-action {csp_source_of(receiver_origin)}; frame-ancestors 'none'; base-uri 'none'"
    )


def hsts_header(max_age: int, include_subdomains: bool) -> str | None:
    if max_age <= 0:
        return None
    return f"max-age={max_age}" + ("; includeSubDomains" if include_subdomains else "")


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp, hsts: str | None = None) -> None:
        self.app = app
        self.headers = [*_HEADERS, *([(b"strict-transport-security", hsts.encode())] if hsts else [])]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.setdefault("headers", [])
                names = {name.lower() for name, _ in headers}
                headers.extend(h for h in self.headers if h[0] not in names)
                if b"content-security-policy" not in names:
                    headers.append((b"content-security-policy", DEFAULT_CSP.encode()))
                if b"cache-control" not in names:
                    # Pages carry personal data: never store them in shared or browser caches.
                    headers.append((b"cache-control", b"no-store"))
            await send(message)

        await self.app(scope, receive, send_with_headers)
