"""Refuses a URL whose path or query does not decode to UTF-8 text.

Starlette and uvicorn decode percent-escapes leniently: `%ED%A0%80` (an encoded surrogate) or `%FF` silently
become U+FFFD, so a parameter would not be what the caller sent. Bad text is the caller's error: 400.
"""

from urllib.parse import unquote_to_bytes

from starlette.types import ASGIApp, Receive, Scope, Send

from .problems import problem_response


def _is_utf8(raw: bytes) -> bool:
    try:
        unquote_to_bytes(raw.replace(b"+", b" ")).decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


class Utf8UrlMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            raw_path = scope.get("raw_path") or scope["path"].encode("utf-8", "surrogateescape")
            for part, raw in (("path", raw_path), ("query", scope.get("query_string", b""))):
                if not _is_utf8(raw):
                    response = problem_response(400, "invalid_request", f"the {part} of the URL is not UTF-8 text")
                    await response(scope, receive, send)
                    return
        await self.app(scope, receive, send)
