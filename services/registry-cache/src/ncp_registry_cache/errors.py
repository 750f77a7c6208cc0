"""The one translation of this service's domain errors to problem+json."""

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from ncp_runtime import install_problem_handlers, problem_response

from .domain.verification import DocumentUnusable

_STATUS = {"too_large": 413}


def register_error_handlers(app: FastAPI) -> None:
    install_problem_handlers(app)

    async def on_unusable(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, DocumentUnusable)
        return problem_response(_STATUS.get(exc.code, 400), exc.code, exc.message)

    app.add_exception_handler(DocumentUnusable, on_unusable)
