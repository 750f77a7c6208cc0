import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

import anyio
import httpx
from fastapi import FastAPI, Request

from ncp_runtime import (
    BodyLimitMiddleware,
    CallerTokens,
    RequestIdMiddleware,
    Utf8UrlMiddleware,
    configure_logging,
    health_router,
    install_observability,
    install_openapi,
)

from .adapters.db import create_engine, migrate
from .adapters.sources import Source, make_source
from .adapters.store import Store
from .api import clients, emps, status, verify
from .deps import State
from .domain.clients import CLIENTS
from .domain.emreg import parse_document
from .errors import register_error_handlers
from .refresher import Metrics, Refresher
from .settings import Settings

log = logging.getLogger("ncp_registry_cache")


def build_sources(settings: Settings, http: httpx.AsyncClient) -> dict[str, Source]:
    sources: dict[str, Source] = {}
    for kind, location in (("emreg", settings.source), ("ewp", settings.ewp_source)):
        if location:
            sources[kind] = make_source(location, http, timeout=settings.fetch_timeout,
                                        max_bytes=settings.max_body_bytes)
    if not sources:
        raise ValueError("no registry source: set NCP_REGISTRY_SOURCE (and/or NCP_REGISTRY_EWP_SOURCE)")
    if settings.clients_source:
        sources[CLIENTS] = make_source(settings.clients_source, http, timeout=settings.fetch_timeout,
                                       max_bytes=settings.max_body_bytes)
    return sources


def make_refresher(settings: Settings, store: Store, http: httpx.AsyncClient,
                   metrics: Metrics | None = None) -> Refresher:
    return Refresher(
        store, build_sources(settings, http), interval=settings.refresh_interval, jitter=settings.refresh_jitter,
        retry_interval=settings.retry_interval, stale_after=settings.effective_stale_after,
        fetch_timeout=settings.fetch_timeout, owner=settings.instance_id, metrics=metrics,
        parse=partial(parse_document, allow_http_loopback=settings.clients_allow_http_loopback),
    )


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    configure_logging("registry-cache", settings.log_level)
    tokens = CallerTokens.load(settings.caller_tokens_path) if settings.caller_tokens_path else None

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[State]:
        engine = create_engine(settings.async_database_url, settings.database_schema)
        try:
            await migrate(engine, settings.database_schema)
            # Redirects: followed by HttpSource itself, and only within the source's origin.
            async with httpx.AsyncClient(follow_redirects=False, trust_env=False) as http:
                refresher = make_refresher(settings, Store(engine), http, registry_metrics)
                await refresher.sync()  # serve the last good copy at once, before any fetch
                log.info("registry-cache started", extra={"ready": refresher.view.ready})
                stop = anyio.Event()
                async with anyio.create_task_group() as tasks:
                    tasks.start_soon(partial(refresher.run, fetch=settings.run_refresher, stop=stop))
                    try:
                        yield {"settings": settings, "refresher": refresher, "tokens": tokens}
                    finally:
                        # Let the current tick finish; cancel only if it overruns.
                        stop.set()
                        tasks.cancel_scope.deadline = anyio.current_time() + settings.fetch_timeout + 5
        finally:
            await engine.dispose()

    app = FastAPI(title="ncp-registry-cache", version="0.1.0", lifespan=lifespan)
    # A document travels as JSON-escaped XML or base64, both larger than the document itself.
    app.add_middleware(BodyLimitMiddleware, max_bytes=2 * settings.max_document_bytes + 64 * 1024)
    app.add_middleware(Utf8UrlMiddleware)
    app.add_middleware(RequestIdMiddleware)
    register_error_handlers(app)
    install_openapi(app)
    app.include_router(health_router(_ready))
    app.include_router(emps.router)
    app.include_router(verify.router)
    app.include_router(clients.router)
    app.include_router(status.build_router(settings.refresh_callers))
    registry_metrics = Metrics(install_observability(app, "registry-cache").registry)
    return app


async def _ready(request: Request) -> tuple[bool, dict[str, Any]]:
    refresher: Refresher = request.state.refresher
    view = refresher.view
    fresh = view.freshness(refresher.now())
    return view.ready, {"emps": len(view.index) if view.index is not None else 0, "stale": fresh.stale}
