import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, Request

from ncp_runtime import (
    CallerTokens,
    RequestIdMiddleware,
    Utf8UrlMiddleware,
    bearer_caller,
    configure_logging,
    health_router,
    install_openapi,
    install_problem_handlers,
)

from .adapters.build import build_tenants
from .adapters.demo_plugin import DemoSis, load_demo
from .adapters.sql.db import make_engine, migrate, ping
from .api import results
from .config import ConfigError, load_tenants
from .deps import State, caller_tokens
from .errors import install_error_handler
from .observability import install as install_metrics
from .settings import Settings

log = logging.getLogger("ncp_sis_adapter")


def tune_gc(gen0_threshold: int) -> None:
    """Collect less often, and never again scan what start-up created (modules, schemas, config)."""
    gc.collect()
    gc.freeze()
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(gen0_threshold, gen1, gen2)


def tenants_path(settings: Settings, demo: DemoSis | None) -> Path:
    if settings.tenants_path is not None:
        return settings.tenants_path
    if demo is not None:
        return demo.tenants_path
    raise ConfigError("NCP_SIS_TENANTS_PATH is not set: name the tenants file (TOML) of the institutions to serve")


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    configure_logging("sis-adapter", settings.log_level)
    # These log request URLs or SQL parameters, which carry learner identifiers: never below WARNING.
    for name in ("httpx", "httpcore", "aiosqlite", "asyncpg", "sqlalchemy.engine", "sqlalchemy.pool"):
        logging.getLogger(name).setLevel(logging.WARNING)
    # Read and checked before anything starts: a bad file stops the service with the key named.
    demo = load_demo() if settings.seed_demo else None
    tenants_config = load_tenants(tenants_path(settings, demo))

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[State]:
        tokens = CallerTokens.load(settings.caller_tokens_path)
        engine = make_engine(settings.database_url, schema=settings.database_schema,
                             pool_size=settings.database_pool_size)
        try:
            if settings.migrate_on_start:
                await migrate(engine, schema=settings.database_schema)
            if demo is not None:
                summary = await demo.seed(engine)
                log.info("demo data", extra={"seeded": summary.seeded, "learners": summary.learners})
            tenants = build_tenants(tenants_config, engine, settings)
            for institutions in tenants.by_name.values():
                sis_metrics.watch(institutions)
            if settings.gc_gen0_threshold:
                tune_gc(settings.gc_gen0_threshold)
            try:
                yield {"settings": settings, "engine": engine, "tenants": tenants, "tokens": tokens}
            finally:
                await tenants.aclose()
        finally:
            await engine.dispose()

    async def ready(request: Request) -> tuple[bool, dict[str, Any]]:
        ok = await ping(request.state.engine)
        return ok, {"database": "ok" if ok else "unreachable"}

    app = FastAPI(title="ncp-sis-adapter", version="0.1.0", lifespan=lifespan)
    install_problem_handlers(app)
    install_openapi(app)
    install_error_handler(app)
    app.add_middleware(Utf8UrlMiddleware)
    app.add_middleware(RequestIdMiddleware)

    caller = bearer_caller(caller_tokens, allowed=settings.allowed_callers)
    app.include_router(results.router, dependencies=[Depends(caller)])
    app.include_router(health_router(ready))
    sis_metrics = install_metrics(app)
    return app
