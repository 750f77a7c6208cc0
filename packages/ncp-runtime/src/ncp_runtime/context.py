"""Per-request context carried into log lines, and the error id an unhandled error was logged under."""

from contextvars import ContextVar

request_id: ContextVar[str] = ContextVar("request_id", default="-")

# The request id is also kept in the ASGI scope: error handlers outside the middleware (Starlette's
# ServerErrorMiddleware) run after the context variable has been reset.
REQUEST_ID_SCOPE_KEY = "ncp.request_id"


_ERROR_ID_ATTRIBUTE = "ncp_error_id"


def mark_logged(exc: BaseException, error_id: str) -> None:
    """Remember that `exc` was logged under `error_id`, so the answer carries that id and nobody logs it again."""
    setattr(exc, _ERROR_ID_ATTRIBUTE, error_id)


def logged_error_id(exc: BaseException) -> str | None:
    """The error id `exc` was logged under, if it was."""
    value = getattr(exc, _ERROR_ID_ATTRIBUTE, None)
    return value if isinstance(value, str) else None
