"""RFC 9457 problem+json: the one error shape of every internal API, and its handlers."""

import json
import logging
import uuid
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from .context import REQUEST_ID_SCOPE_KEY, logged_error_id, mark_logged

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger("ncp.problems")


class Problem(BaseModel):
    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    code: str | None = None
    instance: str | None = None
    error_id: str | None = None


class ProblemError(Exception):
    """Raise from a route (or map a domain error to it) to answer problem+json."""

    def __init__(
        self, status: int, code: str, detail: str, *, title: str | None = None,
        headers: Mapping[str, str] | None = None, extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.title = title or code.replace("_", " ").capitalize()
        self.headers = headers
        self.extra = extra or {}


class ProblemJSONResponse(JSONResponse):
    media_type = PROBLEM_JSON

    def render(self, content: Any) -> bytes:
        # ASCII with escapes: a detail that quotes the caller's input can never fail to encode.
        return json.dumps(content, ensure_ascii=True, separators=(",", ":")).encode("ascii")


def new_error_id() -> str:
    return uuid.uuid4().hex[:12]


def problem_response(
    status: int, code: str, detail: str, *, title: str | None = None,
    headers: Mapping[str, str] | None = None, extra: dict[str, Any] | None = None, error_id: str | None = None,
) -> JSONResponse:
    body = Problem(
        type=f"urn:emrex-ncp:problem:{code}", title=title or code.replace("_", " ").capitalize(),
        status=status, detail=detail, code=code, error_id=error_id or new_error_id(),
    ).model_dump(exclude_none=True)
    body.update(extra or {})
    return ProblemJSONResponse(body, status_code=status, headers=headers)


# The pydantic error type of ncp_contracts.text.RequestModel (this package does not import the contracts).
_UNENCODABLE_TEXT = "unencodable_text"


def install_problem_handlers(app: FastAPI, *, text_codes: Mapping[str, str] | None = None) -> None:
    """Every error an app answers becomes problem+json; unexpected ones are logged once, with their
    error id and request id, and answered with the same error id.

    `text_codes` names the problem code for unencodable text in a given body field (`{"xml": "bad_xml"}`);
    elsewhere it is `invalid_request`, like any other malformed request.
    """

    async def on_problem(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ProblemError)
        return problem_response(
            exc.status, exc.code, exc.detail, title=exc.title, headers=exc.headers, extra=exc.extra
        )

    async def on_http(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return problem_response(exc.status_code, code, str(exc.detail), headers=exc.headers)

    async def on_validation(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = [
            {"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", ""))}
            for e in exc.errors()
        ]
        first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
        detail = f"{'.'.join(first['loc'])}: {first['msg']}"
        raw = exc.errors()
        if text_codes and len(raw) == 1 and raw[0].get("type") == _UNENCODABLE_TEXT:
            code = text_codes.get(str(raw[0].get("ctx", {}).get("field")))
            if code is not None:
                return problem_response(400, code, str(raw[0].get("msg")), extra={"errors": errors})
        return problem_response(400, "invalid_request", detail, extra={"errors": errors})

    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        # Runs in Starlette's ServerErrorMiddleware, outside RequestIdMiddleware (which logged the error,
        # traceback included, while the request id was still current); log here only what it did not see.
        request_id = request.scope.get(REQUEST_ID_SCOPE_KEY)
        error_id = logged_error_id(exc)
        if error_id is None:
            error_id = new_error_id()
            log.error("unhandled error", exc_info=exc, extra={
                "error_id": error_id, "request_id": request_id or "-",
                "method": request.method, "path": request.url.path,
            })
            mark_logged(exc, error_id)
        headers = {"X-Request-ID": request_id} if request_id else None
        return problem_response(500, "internal_error", "an unexpected error occurred", error_id=error_id,
                                headers=headers)

    app.add_exception_handler(ProblemError, on_problem)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(Exception, on_unexpected)
