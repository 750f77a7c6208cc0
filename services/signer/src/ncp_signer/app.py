"""create_app: the signer service (the only holder of private keys in the NCP)."""

import asyncio
import datetime as dt
import gc
import logging
import threading
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Any

import anyio
from fastapi import FastAPI, Request

from ncp_runtime import (
    BodyLimitMiddleware,
    CallerTokens,
    DuplicateTokenError,
    RequestIdMiddleware,
    Utf8UrlMiddleware,
    configure_logging,
    health_router,
    install_openapi,
    install_problem_handlers,
)
from ncp_signer.adapters.keyring import Keyring
from ncp_signer.api import jwks, jws, pdf
from ncp_signer.api.routes import router
from ncp_signer.deps import SignerState, State
from ncp_signer.domain.signing import warm_up
from ncp_signer.observability import install as install_metrics
from ncp_signer.settings import Settings

log = logging.getLogger("ncp_signer")


def check_expiry(state: SignerState, now: dt.datetime | None = None) -> None:
    """Warn (once a day) when the active certificate expires within expiry_warning_days."""
    moment = now or dt.datetime.now(dt.UTC)
    days = state.keyring.days_left(moment)
    key = state.keyring.active
    if days is None or key is None or days >= state.settings.expiry_warning_days:
        return
    today = moment.date().isoformat()
    if today in state.expiry_warned_day:
        return
    state.expiry_warned_day[:] = [today]
    log.warning("active signing certificate expires soon", extra={
        "key_id": key.key_id, "days_left": round(days, 1),
        "not_after": key.certificate.not_valid_after_utc.isoformat(),
    })


def _load_tokens(settings: Settings) -> tuple[CallerTokens, str | None]:
    if settings.caller_tokens_path is None:
        return CallerTokens({}), "NCP_SIGNER_CALLER_TOKENS_PATH is not set"
    try:
        return CallerTokens.load(settings.caller_tokens_path), None
    except DuplicateTokenError:
        raise  # a table that confuses callers: refuse to start rather than run unready
    except (OSError, ValueError) as exc:
        return CallerTokens({}), f"caller tokens not loaded: {type(exc).__name__}"


async def start_workers(count: int) -> ThreadPoolExecutor:
    """Start `count` signing threads now and prepare each (warm_up) before any request arrives."""
    executor = ThreadPoolExecutor(max_workers=count, thread_name_prefix="ncp-signer")
    barrier = threading.Barrier(count)

    def start() -> None:
        warm_up()
        barrier.wait(timeout=60)  # every task holds its thread until all threads exist

    loop = asyncio.get_running_loop()
    await asyncio.gather(*(loop.run_in_executor(executor, start) for _ in range(count)))
    return executor


def tune_gc(gen0_threshold: int) -> None:
    """Collect less often, and never again scan what start-up created (modules, keys, compiled schemas)."""
    gc.collect()
    gc.freeze()
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(gen0_threshold, gen1, gen2)


async def ready(request: Request) -> tuple[bool, dict[str, Any]]:
    state: SignerState = request.state.signer
    keyring = state.keyring
    problem = keyring.active_problem()
    details: dict[str, Any] = {"active_key_id": keyring.active_id}
    if keyring.active is not None:
        details["not_after"] = keyring.active.certificate.not_valid_after_utc.isoformat()
    reasons = [r for r in (problem, state.tokens_error) if r]
    if reasons:
        details["reasons"] = reasons
    return not reasons, details


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    configure_logging("signer", settings.log_level)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[State]:
        keyring = await anyio.to_thread.run_sync(Keyring, settings)
        tokens, tokens_error = _load_tokens(settings)
        if tokens_error:
            log.error("caller authentication not configured", extra={"reason": tokens_error})
        executor = await start_workers(settings.sign_concurrency)
        if settings.sign_inline_max_bytes:
            warm_up()  # this thread signs small documents too (sign_inline_max_bytes): prepared like the workers
        state = SignerState(settings, keyring, tokens, tokens_error, executor)
        metrics.watch(keyring)
        check_expiry(state)
        if settings.gc_gen0_threshold:
            tune_gc(settings.gc_gen0_threshold)
        try:
            async with anyio.create_task_group() as tg:

                async def watch_expiry() -> None:
                    while True:
                        await anyio.sleep(settings.expiry_check_interval_s)
                        check_expiry(state)

                tg.start_soon(watch_expiry)
                yield {"signer": state}
                tg.cancel_scope.cancel()
        finally:
            await anyio.to_thread.run_sync(executor.shutdown)
            await anyio.to_thread.run_sync(keyring.close)

    app = FastAPI(title="NCP signer", version="0.1.0", lifespan=lifespan)
    install_problem_handlers(app)
    install_openapi(app)
    # Every body the signer takes is one document (ELMO, PDF or JWS payload): one limit, before it is read.
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_document_bytes)
    app.add_middleware(Utf8UrlMiddleware)
    app.add_middleware(RequestIdMiddleware)
    app.include_router(health_router(ready))
    app.include_router(router)
    app.include_router(jws.router)
    app.include_router(jwks.router)
    app.include_router(pdf.router)
    metrics = install_metrics(app)
    return app
