import datetime as dt
import logging
import secrets
import ssl
from collections.abc import AsyncIterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from ncp_contracts import BearerAuth
from ncp_contracts.aiohttp_transport import AiohttpTransport
from ncp_contracts.registry import RegistryClient
from ncp_contracts.signer import SignerClient
from ncp_contracts.sis import SisClient
from ncp_runtime import (
    BodyLimitMiddleware,
    RequestIdMiddleware,
    configure_logging,
    health_router,
    install_problem_handlers,
    read_secret,
)

from .adapters.oidc import OidcClient
from .adapters.store import SessionStore, make_engine, migrate
from .adapters.transcript_pdf import TranscriptRenderer
from .adapters.upstreams import CheckedSigner, ReceiverEntries, SisResults
from .deps import State
from .domain.clock import Clock, SystemClock
from .domain.entry import normalize_origin
from .domain.errors import TransferError, Unexpected
from .domain.flow import TransferService
from .periodic import every
from .settings import Settings
from .telemetry import install as install_telemetry
from .web import accessibility, entry, login, my_results, oauth2, preview, select, session_extend
from .web.context import TEMPLATES, Gateway
from .web.cookies import SessionCookie
from .web.entry import EXPIRED_GRACE
from .web.forms import BadForm, too_large
from .web.loading import browser_transfers
from .web.oauth2 import Emrex2
from .web.security import SecurityHeadersMiddleware, hsts_header

log = logging.getLogger("ncp_gateway")
STATIC = Path(__file__).resolve().parent / "static"
UPSTREAMS = ("signer", "registry", "sis", "oidc")
# Idle connections are dropped before a server's keep-alive timeout (uvicorn: 5 s) can close one under a request.
POOL_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=20, keepalive_expiry=2.0)


def _secret(path: Path | None, what: str, settings: Settings) -> bytes:
    if path is not None:
        return read_secret(path).encode()
    if not settings.development:  # Settings refuses this already; never fall back to a random key in production
        raise RuntimeError(f"no {what} file configured")
    log.warning("no %s file configured: using a random one for this process (dev only)", what)
    return secrets.token_bytes(32)


def _upstream(url: str, token_path: Path | None, timeout: float,
              transport: httpx.AsyncBaseTransport | None, verify: ssl.SSLContext | bool = True) -> httpx.AsyncClient:
    auth = BearerAuth(read_secret(token_path)) if token_path is not None else None
    return httpx.AsyncClient(base_url=url, auth=auth, timeout=timeout, limits=POOL_LIMITS, verify=verify,
                             transport=transport or AiohttpTransport(verify=verify, limits=POOL_LIMITS))


def signer_tls(settings: Settings) -> ssl.SSLContext | bool:
    """The TLS context for the signer: its own CA, and our client certificate when it asks for one (mTLS)."""
    if settings.signer_ca_file is None and settings.signer_client_cert_file is None:
        return True
    context = ssl.create_default_context(cafile=str(settings.signer_ca_file) if settings.signer_ca_file else None)
    if settings.signer_client_cert_file is not None:
        context.load_cert_chain(str(settings.signer_client_cert_file), str(settings.signer_client_key_file))
    return context


async def purge_once(store: SessionStore, settings: Settings, clock: Clock | None = None) -> None:
    now = (clock or SystemClock()).now()
    await store.purge(now - EXPIRED_GRACE)
    await store.purge_audit(now - dt.timedelta(days=settings.audit_retention_days))


def _templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(TEMPLATES))
    # The templates ship with the package and change only with a new release (a restart, as code does): Jinja2's
    # default re-checks each file's modification time on every render.
    templates.env.auto_reload = False
    return templates


def create_app(
    settings: Settings | None = None, *, transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
    clock: Clock | None = None,
) -> FastAPI:
    """The gateway app. `transports` replaces the network for named upstreams (signer, registry, sis, oidc);
    `clock` the time (tests move it to expire transfers)."""
    settings = settings or Settings()
    clock = clock or SystemClock()
    transports = dict(transports or {})
    unknown = set(transports) - set(UPSTREAMS)
    if unknown:
        raise ValueError(f"unknown upstreams: {sorted(unknown)}")
    configure_logging("ncp-gateway", settings.log_level)
    # httpx logs every request line with its full URL at INFO (query strings, provider codes): not in our logs.
    # fontTools reports each step of cutting the transcript's font (tables pruned, glyphs missing): not ours either.
    for chatty in ("httpx", "fontTools"):
        logging.getLogger(chatty).setLevel(max(logging.WARNING, logging.getLogger().level))
    if settings.database_url is None:
        settings.database_path.parent.mkdir(parents=True, exist_ok=True)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[State]:
        async with AsyncExitStack() as stack:
            timeout = settings.http_timeout_seconds
            signer_http = await stack.enter_async_context(
                _upstream(settings.signer_url, settings.signer_token_path, settings.signer_timeout,
                          transports.get("signer"), signer_tls(settings)))
            registry_http = await stack.enter_async_context(
                _upstream(settings.registry_url, None, timeout, transports.get("registry")))
            sis_http = await stack.enter_async_context(
                _upstream(settings.sis_url, settings.sis_token_path, timeout, transports.get("sis")))
            client_secret = (read_secret(settings.oidc_client_secret_path)
                             if settings.oidc_client_secret_path is not None else None)
            oidc = OidcClient(
                issuer=settings.oidc_issuer, client_id=settings.oidc_client_id, client_secret=client_secret,
                scope=settings.oidc_scopes, algorithms=settings.oidc_id_token_algorithms,
                leeway=settings.oidc_leeway_seconds, timeout=timeout, transport=transports.get("oidc"),
                limits=POOL_LIMITS,
            )
            stack.push_async_callback(oidc.aclose)
            engine = make_engine(settings.sqlalchemy_url, settings.database_schema,
                                 pool_size=settings.database_pool_size)
            stack.push_async_callback(engine.dispose)
            await migrate(engine, settings.database_schema)
            store = SessionStore(engine)
            stack.push_async_callback(store.aclose)
            # Every replica purges; the deletes are idempotent, so no coordination is needed. Stopped before the
            # store and the engine close (LIFO).
            await stack.enter_async_context(every(settings.purge_interval_seconds,
                                                  lambda: purge_once(store, settings, clock), name="purge"))
            signer, sis = SignerClient(signer_http), SisClient(sis_http)
            transcript = TranscriptRenderer(settings.pdf_font_path)
            cookie = SessionCookie(_secret(settings.session_secret_path, "session secret", settings),
                                   secure=settings.cookie_secure, max_age=settings.session_max_lifetime_seconds + 3600)
            pseudonym_key = _secret(settings.pseudonym_key_path, "pseudonym key", settings)
            flow = TransferService(
                idp=oidc, results=SisResults(sis, settings), signer=CheckedSigner(signer), records=store,
                clock=clock, pseudonym_key=pseudonym_key, render_transcript=transcript.render,
                new_token=cookie.new_token,
            )
            registry = RegistryClient(registry_http)
            gateway = Gateway(
                settings=settings, store=store, oidc=oidc, signer=signer, registry=registry,
                receivers=ReceiverEntries(registry, ttl=settings.receiver_cache_seconds),
                sis=sis, transcript=transcript, cookie=cookie, pseudonym_key=pseudonym_key, flow=flow, clock=clock,
                templates=_templates(),
                return_prefix_by_origin={normalize_origin(o): p
                                         for o, p in settings.return_code_prefix_by_origin.items()},
            )
            emrex2 = await stack.enter_async_context(Emrex2.open(settings, engine, gateway.signer, gateway.registry,
                                                                 gateway.clock, store))
            yield {"gateway": gateway, "emrex2": emrex2}

    app = FastAPI(title="ncp-gateway", version="0.1.0", lifespan=lifespan, docs_url=None, redoc_url=None,
                  openapi_url=None)
    install_problem_handlers(app)
    app.add_exception_handler(BadForm, _bad_form)
    app.add_exception_handler(TransferError, _transfer_error)
    app.add_exception_handler(Exception, _unexpected)  # replaces ncp_runtime's JSON 500: this app speaks HTML
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_form_bytes, refusal=too_large)
    app.add_middleware(SecurityHeadersMiddleware, hsts=hsts_header(settings.hsts_max_age_seconds,
                                                                   settings.hsts_include_subdomains))
    app.add_middleware(RequestIdMiddleware)
    app.router.routes.insert(0, entry.route)  # the busiest request: matched first, without FastAPI's routing
    app.include_router(health_router(_ready))
    app.include_router(login.router)
    app.include_router(select.router)
    app.include_router(preview.router)
    app.include_router(my_results.router)
    app.include_router(session_extend.router)
    app.include_router(accessibility.router)
    oauth2.install(app, settings)  # EMREX 2.0, behind its switch
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    install_telemetry(app)
    return app


async def _bad_form(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, BadForm)
    gw: Gateway = request.state.gateway
    # The form could not be read, so its CSRF token neither: the transfer is kept, with its Cancel.
    mine = await browser_transfers(gw, request)
    transfer = mine[0].transfer if len(mine) == 1 else None
    return gw.error_page(request, exc.message_key, status=exc.status, transfer=transfer)


_LAST_RESORT = ("<!doctype html><html lang=en><meta charset=utf-8><title>Error – EMREX</title>"
                "<h1>An unexpected error occurred</h1><p>Reference: {error_id}</p>"
                "<p><a href=/accessibility>Accessibility statement</a></p></html>")


async def _transfer_error(request: Request, exc: Exception) -> Response:
    """Every typed error of the flow, answered by the table (domain/answers.py) through Gateway.answer."""
    assert isinstance(exc, TransferError)
    gw: Gateway = request.state.gateway
    found = getattr(request.state, "transfer", None)
    return await gw.answer(request, exc, transfer=found.transfer if found else None,
                           token=found.token if found else None)


async def _unexpected(request: Request, exc: Exception) -> Response:
    """The one place an unexpected failure is turned into an answer: after a valid entry, the client's NCP_ERROR
    hand-off; before one, the HTML error page. The error id is logged and shown, the same one."""
    error_id = secrets.token_hex(6)
    # exc_info: the formatter logs the types and frames of the chain, never the messages (they quote values).
    log.error("unexpected error", exc_info=exc, extra={"error_id": error_id, "error_type": type(exc).__name__,
                                                       "path": request.url.path})
    gw: Gateway | None = getattr(request.state, "gateway", None)
    found = getattr(request.state, "transfer", None)
    try:
        if gw is not None:
            return await gw.answer(request, Unexpected(type(exc).__name__), error_id=error_id,
                                   transfer=found.transfer if found else None, token=found.token if found else None)
    except Exception as again:  # a template or the language cookie failing too: the plain page below
        log.error("error page failed", extra={"error_id": error_id, "error_type": type(again).__name__})
    return HTMLResponse(_LAST_RESORT.format(error_id=error_id), status_code=500)


async def _ready(request: Request) -> tuple[bool, dict[str, Any]]:
    gw: Gateway = request.state.gateway
    checks: dict[str, str] = {}
    try:
        await gw.store.ping()
        checks["database"] = "ok"
    except Exception as exc:  # any driver error means not ready
        checks["database"] = f"error: {type(exc).__name__}"
    checks["oidc"] = await gw.oidc.readiness()
    for name, http in (("signer", gw.signer.http), ("sis", gw.sis.http), ("registry", gw.registry.http)):
        try:
            response = await http.get("/healthz")
            checks[name] = "ok" if response.status_code == 200 else f"status {response.status_code}"
        except httpx.HTTPError as exc:
            checks[name] = f"unreachable ({type(exc).__name__})"
    # The registry only adds receiver names to the consent page: the flow works without it.
    required = ("database", "oidc", "signer", "sis")
    return all(checks[name] == "ok" for name in required), {"checks": checks}
