"""`/healthz` (the process answers) and `/readyz` (it can do its job) for every service."""

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

ReadyCheck = Callable[[Request], Awaitable[tuple[bool, dict[str, Any]]]]


def health_router(ready: ReadyCheck) -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz", responses={503: {
        "description": "not ready: the details say what is missing",
        "content": {"application/json": {"schema": {"type": "object", "properties": {"status": {"const": "not_ready"}},
                                                    "required": ["status"]}}},
    }})
    async def readyz(request: Request) -> JSONResponse:
        ok, details = await ready(request)
        return JSONResponse(
            {"status": "ready" if ok else "not_ready", **details}, status_code=200 if ok else 503
        )

    return router
