"""The sis-adapter's error vocabulary and its one translation to problem+json."""

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from ncp_runtime import problem_response


class SisAdapterError(Exception):
    status = 500
    code = "internal_error"

    def __init__(self, detail: str, *, extra: dict[str, Any] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra or {}


class UnknownTenantError(SisAdapterError):
    status = 404
    code = "unknown_tenant"


class InvalidIdentityError(SisAdapterError):
    status = 422
    code = "invalid_identity"


class AllInstitutionsFailedError(SisAdapterError):
    """No institution could answer, or none that answered had results while others failed."""

    status = 503
    code = "sis_unavailable"


def install_error_handler(app: FastAPI) -> None:
    async def on_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, SisAdapterError)
        return problem_response(exc.status, exc.code, exc.detail, extra=exc.extra)

    app.add_exception_handler(SisAdapterError, on_error)
