"""The one translation of this service's domain errors to problem+json."""

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError

from ncp_runtime import install_problem_handlers, problem_response

from .domain.verification import DocumentUnusable

_STATUS = {"too_large": 413}
log = logging.getLogger("ncp_registry_cache.errors")


def register_error_handlers(app: FastAPI) -> None:
    # Text that cannot be encoded is refused at the edge (ncp_contracts.text); in a document field it is
    # reported like any other unusable document.
    install_problem_handlers(app, text_codes={"xml": "bad_xml", "elmo": "bad_wire_value"})

    async def on_unusable(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, DocumentUnusable)
        return problem_response(_STATUS.get(exc.code, 400), exc.code, exc.message)

    async def on_database(_: Request, exc: Exception) -> JSONResponse:
        log.error("database error", extra={"error": type(exc).__name__})
        return problem_response(503, "database_unavailable", "the registry database cannot be reached",
                                headers={"Retry-After": "5"})

    app.add_exception_handler(DocumentUnusable, on_unusable)
    app.add_exception_handler(SQLAlchemyError, on_database)
