"""One request-body limit for every service, acting while the body is read (the declared length or the bytes that
stream in), before a framework has read it whole.

Internal APIs answer problem+json 413 from the middleware itself. A browser-facing app injects its own refusal: an
exception raised inside the app's read of the body, which the app's own handler answers (the gateway's HTML page).
"""

from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .problems import problem_response

Refusal = Callable[[int], Exception]


class _TooLarge(Exception):
    pass


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, max_bytes: int, refusal: Refusal | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.refusal = refusal

    def _exceeded(self) -> Exception:
        return self.refusal(self.max_bytes) if self.refusal is not None else _TooLarge()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"")
        over_declared = declared.isdigit() and int(declared) > self.max_bytes
        if over_declared and self.refusal is None:
            await self._refuse(scope, receive, send)
            return
        if scope["method"] in ("GET", "HEAD"):  # never read: nothing to limit
            await self.app(scope, receive, send)
            return
        seen = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal seen
            if over_declared:  # an injected refusal: raised where the app reads, for its handler
                raise self._exceeded()
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise self._exceeded()
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _TooLarge:
            if started:
                raise
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = problem_response(413, "too_large", f"the request body is larger than {self.max_bytes} bytes")
        await response(scope, receive, send)
