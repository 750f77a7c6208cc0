"""Reading the HTML forms: bounded in size and field count, every value text that encodes as UTF-8.

Whatever a form cannot be read for (too large, too many fields, a file, broken multipart, a lone surrogate)
raises `BadForm`; the app answers it with the HTML error page, never JSON.
"""

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BadForm(Exception):
    def __init__(self, status: int, message_key: str) -> None:
        super().__init__(message_key)
        self.status = status
        self.message_key = message_key


def encodable(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate
        return False
    return True


async def read_form(request: Request, *, max_fields: int) -> FormData:
    try:
        form = await request.form(max_files=0, max_fields=max_fields)
    except HTTPException:  # Starlette's answer to a multipart or field-count problem
        raise BadForm(400, "error.bad_form") from None
    for key, value in form.multi_items():
        if not isinstance(value, str) or not encodable(key) or not encodable(value):
            raise BadForm(400, "error.bad_form")
    return form


class BodyLimitMiddleware:
    """Refuses request bodies above `max_bytes` while they are read (declared or streamed)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"")
        too_large_declared = declared.isdigit() and int(declared) > self.max_bytes
        received = 0

        async def bounded_receive() -> Message:
            nonlocal received
            # Raised inside the route's read, so the app's handler renders the error page.
            if too_large_declared:
                raise BadForm(413, "error.too_large")
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BadForm(413, "error.too_large")
            return message

        await self.app(scope, receive if scope["method"] in ("GET", "HEAD") else bounded_receive, send)
