from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ncp_contracts import BearerAuth
from ncp_contracts.registry import RegistryClient
from ncp_runtime import (
    RequestIdMiddleware,
    configure_logging,
    health_router,
    install_observability,
    install_problem_handlers,
    read_secret,
)

from .adapters.emrex2_node import Emrex2Node
from .deps import State
from .domain.emrex2 import load_client_key
from .settings import Settings
from .web import emrex2, pages
from .web.flows import Flows

HERE = Path(__file__).parent
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
       "frame-ancestors 'none'; base-uri 'none'")


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.setdefault("headers", [])
                headers += [
                    (b"content-security-policy", CSP.encode()),
                    (b"referrer-policy", b"no-referrer"),
                    (b"x-content-type-options", b"nosniff"),
                    (b"cache-control", b"no-store"),
                ]
            await send(message)

        await self.app(scope, receive, with_headers if scope["type"] == "http" else send)


def create_app(settings: Settings | None = None, *, registry_transport: httpx.AsyncBaseTransport | None = None,
               node_transport: httpx.AsyncBaseTransport | None = None) -> FastAPI:
    """The demo client; `registry_transport` and `node_transport` (EMREX 2.0 token and /results calls) let
    tests route calls to in-process apps."""
    settings = settings or Settings()
    configure_logging("demo-client", settings.log_level)
    templates = Jinja2Templates(directory=HERE / "templates")

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[State]:
        auth = BearerAuth(read_secret(settings.registry_token_path)) if settings.registry_token_path else None
        async with httpx.AsyncClient(
            base_url=settings.registry_url, timeout=settings.http_timeout_seconds, auth=auth,
            transport=registry_transport,
        ) as http, httpx.AsyncClient(timeout=settings.http_timeout_seconds, transport=node_transport) as node_http:
            node = None
            if settings.emrex2_key_file is not None:
                node = Emrex2Node(node_http, RegistryClient(http), client_id=settings.emrex2_client_id,
                                  key=load_client_key(settings.emrex2_key_file.read_bytes()),
                                  token_url=settings.emrex2_token_url, resource_url=settings.emrex2_resource_url,
                                  node_url=settings.verify_node_url)
            yield {"settings": settings, "registry": RegistryClient(http), "templates": templates,
                   "registry_http": http, "emrex2": node, "emrex2_flows": Flows()}

    async def ready(request: Request) -> tuple[bool, dict[str, Any]]:
        # A health check (ncp_runtime.health_router), not a route: it reads the lifespan state itself.
        http: httpx.AsyncClient = request.state.registry_http
        try:
            response = await http.get("/healthz", timeout=2.0)
            ok = response.status_code == 200
        except httpx.HTTPError:
            ok = False
        return ok, {"registry_cache": "ok" if ok else "unreachable"}

    app = FastAPI(title="EMREX demo client", lifespan=lifespan, docs_url=None, redoc_url=None,
                  openapi_url=None)
    install_problem_handlers(app)
    app.include_router(health_router(ready))
    app.include_router(pages.router)
    app.include_router(emrex2.router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.add_middleware(SecurityHeaders)
    app.add_middleware(RequestIdMiddleware)
    install_observability(app, "demo-client")
    return app
