"""A pure ASGI middleware that gives each request an id (taken from X-Request-ID when sane) and logs an
unhandled error once, with that id, an error id and the traceback, while the id is still current."""

import logging
import re
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .context import REQUEST_ID_SCOPE_KEY, logged_error_id, mark_logged, request_id
from .problems import new_error_id

_SAFE = re.compile(r"[A-Za-z0-9._-]{1,64}")
log = logging.getLogger("ncp.errors")


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        rid = incoming if _SAFE.fullmatch(incoming) else uuid.uuid4().hex
        scope[REQUEST_ID_SCOPE_KEY] = rid
        token = request_id.set(rid)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", []).append((b"x-request-id", rid.encode()))
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            if logged_error_id(exc) is None:
                error_id = new_error_id()
                # The path only: query strings and bodies may carry personal data; the traceback has no values.
                log.error("unhandled error", exc_info=exc, extra={
                    "error_id": error_id, "method": scope.get("method"), "path": scope.get("path"),
                })
                mark_logged(exc, error_id)
            raise  # to the app's error handler, which answers 500 with the same error id
        finally:
            request_id.reset(token)
