"""EMREX 2.0 authorization server (emrex2.md): `GET /oauth2/authorize` starts a transfer on the shared student
pages, `leave` ends it with a redirect carrying a code, `POST /oauth2/token` trades the code for an access token,
and `/.well-known/oauth-authorization-server` with `/oauth2/jwks` describe the node (RFC 8414).

An unknown client or a redirect_uri that is not registered gets the HTML error page and is never redirected
(RFC 6749 §4.1.2.1); every other authorization error goes back to the client with `error`, `state` and `iss`.
"""

import contextlib
import datetime as dt
import json
import logging
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.ext.asyncio import AsyncEngine

from ncp_contracts import RequestRejected, ServiceError
from ncp_contracts.registry import RegistryClient
from ncp_contracts.signer import Jwks, SignerClient
from ncp_gateway.adapters.oauth2_store import (
    CodeRow,
    ConsentRow,
    OAuth2Store,
    ReleaseRow,
    TokenRow,
    purge,
)
from ncp_gateway.adapters.store import SessionStore
from ncp_gateway.deps import GatewayDep
from ncp_gateway.domain.clock import Clock
from ncp_gateway.domain.entry import EntryError, parse_origin
from ncp_gateway.domain.oauth2 import (
    ASSERTION_ALGORITHMS,
    ASSERTION_TYPE,
    SCOPES,
    Client,
    ClientRequestError,
    OAuthError,
    assertion_client_id,
    check_redirect_uri,
    client_and_redirect,
    new_secret,
    parse_authorization,
    pkce_holds,
    secret_key,
    single,
    verify_assertion,
)
from ncp_gateway.domain.return_codes import Outcome
from ncp_gateway.domain.transfer import Emrex2Request, Transfer
from ncp_gateway.periodic import every
from ncp_gateway.settings import Settings
from ncp_runtime import flow_context, from_state, join_flow

from .context import Gateway, redirect
from .forms import read_form
from .loading import browser_transfers
from .security import handoff_csp

log = logging.getLogger("ncp_gateway.emrex2")
_JWKS_TTL = 300.0
_PURGE_SECONDS = 300.0
JSON_HEADERS = {"cache-control": "no-store", "pragma": "no-cache"}


@dataclass
class Emrex2:
    """The EMREX 2.0 side of the gateway, built in the lifespan beside `Gateway`."""

    settings: Settings
    store: OAuth2Store
    signer: SignerClient
    registry: RegistryClient
    clock: Clock
    records: SessionStore  # the gateway's store: the purge runs on its runner
    _jwks: tuple[float, Jwks] | None = field(default=None, repr=False)

    @classmethod
    @asynccontextmanager
    async def open(cls, settings: Settings, engine: AsyncEngine, signer: SignerClient,
                   registry: RegistryClient, clock: Clock, records: SessionStore) -> AsyncIterator["Emrex2"]:
        # Its tables come with the gateway's migrations (alembic 0003_emrex2), applied before this opens.
        service = cls(settings, OAuth2Store(engine), signer, registry, clock, records)
        async with every(_PURGE_SECONDS, service._purge, name="emrex2 purge"):
            yield service

    async def _purge(self) -> None:
        now = self.clock.now()
        await self.records.run(purge(now, now - dt.timedelta(days=self.settings.audit_retention_days)))

    def issuer(self, request: Request) -> str:
        """RFC 8414 / 9207 issuer: the public URL, else this request's own base URL."""
        return (self.settings.public_url or str(request.base_url)).rstrip("/")

    def token_endpoint(self, request: Request) -> str:
        return self.issuer(request) + "/oauth2/token"

    async def client(self, client_id: str) -> Client | None:
        try:
            found = await self.registry.client(client_id)
        except RequestRejected:  # a client_id the registry will not even look up is no registered client
            return None
        if found is None:
            return None
        return Client(client_id=found.client_id, redirect_uris=found.redirect_uris, name=found.name, jwks=found.jwks)

    async def jwks(self) -> Jwks:
        cached = self._jwks
        if cached is None or time.monotonic() - cached[0] > _JWKS_TTL:
            cached = self._jwks = (time.monotonic(), await self.signer.jwks())
        return cached[1]


Emrex2Dep = Annotated[Emrex2, Depends(from_state("emrex2", Emrex2))]
router = APIRouter()


def _with_query(uri: str, params: dict[str, str]) -> str:
    # RFC 6749 §3.1.2: the redirect URI's own query is kept; ours is appended.
    return uri + ("&" if "?" in uri else "?") + urlencode(params)


def _params(request: Request) -> dict[str, list[str]]:
    params: dict[str, list[str]] = {}
    for key, value in request.query_params.multi_items():
        params.setdefault(key, []).append(value)
    return params


@router.get("/oauth2/authorize", name="oauth2_authorize")
async def authorize(request: Request, gw: GatewayDep, service: Emrex2Dep) -> Response:
    params = _params(request)
    try:
        client_id, redirect_uri = client_and_redirect(params)
        try:
            client = check_redirect_uri(await service.client(client_id), redirect_uri)
        except ServiceError:
            log.warning("registry unavailable for an authorization request")
            return gw.error_page(request, "error.busy", status=503, headers={"retry-after": "60"})
        try:
            origin = parse_origin(redirect_uri)
        except EntryError as exc:
            raise ClientRequestError("redirect_uri_unusable", exc.message) from None
    except ClientRequestError as exc:
        log.info("authorization request refused", extra={"error_code": exc.code})
        return gw.error_page(request, "error.bad_request", detail=exc.description)
    issuer = service.issuer(request)
    try:
        wanted = parse_authorization(params, client, redirect_uri)
    except OAuthError as exc:
        back = {"error": exc.error, "error_description": exc.description}
        with contextlib.suppress(OAuthError):
            state = single(params, "state")
            if state is not None and len(state) <= 1024:
                back["state"] = state
        back["iss"] = issuer
        log.info("authorization request refused", extra={"error_code": exc.error})
        return redirect(_with_query(redirect_uri, back), 303)
    settings = gw.settings
    now = gw.clock.now()
    open_here = await browser_transfers(gw, request)
    if len(open_here) >= settings.max_transfers_per_browser:
        return gw.error_page(request, "error.too_many_here", status=429, count=len(open_here))
    if await gw.store.count_live(now) >= settings.max_live_transfers:
        return gw.error_page(request, "error.busy", status=503, headers={"retry-after": "60"})
    transfer = Transfer(
        tid=gw.cookie.new_tid(), session_id="", return_url=redirect_uri, receiver_origin=str(origin),
        receiver_host=origin.host, created_at=now,
        expires_at=now + dt.timedelta(seconds=settings.session_ttl_seconds), csrf=secrets.token_urlsafe(24),
        emrex2=Emrex2Request(client_id=client.client_id, client_name=client.name, redirect_uri=redirect_uri,
                             state=wanted.state, code_challenge=wanted.code_challenge, scope=wanted.scope),
        trace_context=flow_context(),
    )
    token = gw.cookie.new_token()
    await gw.store.put(token, transfer)
    response = redirect(f"/login?t={transfer.tid}")
    gw.cookie.set(response, transfer.tid, token)
    return response


async def leave(gw: Gateway, request: Request, transfer: Transfer, outcome: Outcome) -> Response:
    """The way out of an EMREX 2.0 transfer (called by Gateway.handoff): the client's redirect_uri with a code,
    or with `error` (access_denied on cancel, server_error otherwise), always with `state` and `iss`."""
    wanted = transfer.emrex2
    assert wanted is not None
    service: Emrex2 = request.state.emrex2
    back: dict[str, str]
    if outcome is Outcome.CANCEL:
        back = {"error": "access_denied", "error_description": "the student cancelled"}
    elif outcome is Outcome.ERROR:
        back = {"error": "server_error", "error_description": "the transfer could not be completed"}
    else:
        back = await _release(service, transfer, wanted, outcome)
    back.update(state=wanted.state, iss=service.issuer(request))
    url = _with_query(wanted.redirect_uri, back)
    if request.method == "POST":
        # CSP form-action also governs redirects after a form submission, so a 303 from /send or /cancel would
        # be blocked by the browser: a page that navigates (script, or the link) leaves instead.
        nonce = secrets.token_urlsafe(16)
        response: Response = gw.page(
            request, "emrex2_redirect.html", {"url": url, "host": transfer.receiver_host, "script_nonce": nonce},
            headers={"content-security-policy": handoff_csp(transfer.receiver_origin, nonce)})
    else:
        response = redirect(url, 303)
    gw.cookie.clear(response, transfer.tid)
    return response


async def _release(service: Emrex2, transfer: Transfer, wanted: Emrex2Request, outcome: Outcome
                   ) -> dict[str, str]:
    """Consent under a new ref_id, the consented document, and a code bound to ref_id, client, redirect_uri
    and code_challenge (emrex2.md steps 2-3)."""
    now = service.clock.now()
    ref_id = secrets.token_hex(16)
    code = new_secret()
    settings = service.settings
    document = transfer.prepared_xml if outcome is Outcome.OK else None
    try:
        await service.store.release(
            ConsentRow(ref_id=ref_id, learner_pseudonym=transfer.pseudonym,
                       selected=json.dumps(transfer.selected if document is not None else []),
                       client_id=wanted.client_id, consented_at=now,
                       wording_version=settings.emrex2_consent_wording_version),
            ReleaseRow(ref_id=ref_id, document=document,
                       expires_at=now + dt.timedelta(seconds=settings.emrex2_results_ttl_seconds)),
            CodeRow(id=secret_key(code), ref_id=ref_id, client_id=wanted.client_id,
                    redirect_uri=wanted.redirect_uri, code_challenge=wanted.code_challenge, scope=wanted.scope,
                    expires_at=now + dt.timedelta(seconds=settings.emrex2_code_ttl_seconds),
                    trace_context=transfer.trace_context),
        )
    except Exception as exc:  # the database failing: the client still hears back, with an error
        log.error("emrex2 release not stored", extra={"error_type": type(exc).__name__})
        return {"error": "server_error", "error_description": "the transfer could not be completed"}
    return {"code": code}


# ---- the token endpoint ------------------------------------------------------------------------

def oauth_error(exc: OAuthError, *, www_authenticate: str | None = None) -> JSONResponse:
    headers = dict(JSON_HEADERS)
    if www_authenticate:
        headers["www-authenticate"] = www_authenticate
    return JSONResponse({"error": exc.error, "error_description": exc.description}, status_code=exc.status,
                        headers=headers)


@router.post("/oauth2/token", name="oauth2_token")
async def token(request: Request, service: Emrex2Dep) -> Response:
    try:
        form = await read_form(request, max_fields=20)
    except Exception:  # BadForm and friends: a token client gets JSON, not the HTML page
        return oauth_error(OAuthError("invalid_request", "the body is not a form"))
    params: dict[str, list[str]] = {}
    for key, value in form.multi_items():
        if isinstance(value, str):
            params.setdefault(key, []).append(value)
    if request.headers.get("authorization"):
        # RFC 6749 §5.2: a client that tried HTTP authentication hears 401 with the scheme; we take none.
        return oauth_error(OAuthError("invalid_client", "authenticate with private_key_jwt", 401),
                           www_authenticate='Bearer error="invalid_client"')
    try:
        body = await _token(request, service, params)
    except OAuthError as exc:
        log.info("token request refused", extra={"error_code": exc.error})
        return oauth_error(exc)
    return JSONResponse(body, headers=JSON_HEADERS)


async def _token(request: Request, service: Emrex2, params: dict[str, list[str]]) -> dict[str, Any]:
    if single(params, "grant_type") != "authorization_code":
        raise OAuthError("unsupported_grant_type", "only authorization_code is supported")
    # Client authentication first (RFC 6749 §3.2.1): nothing about the code is revealed to an unknown caller.
    if single(params, "client_assertion_type") != ASSERTION_TYPE:
        raise OAuthError("invalid_client", "client_assertion_type must be jwt-bearer (private_key_jwt)")
    assertion = single(params, "client_assertion")
    if assertion is None:
        raise OAuthError("invalid_client", "client_assertion is missing")
    client_id = assertion_client_id(assertion)
    named = single(params, "client_id")
    if named is not None and named != client_id:
        raise OAuthError("invalid_client", "client_id does not match the assertion")
    try:
        client = await service.client(client_id)
    except ServiceError:
        raise OAuthError("temporarily_unavailable", "the client registry cannot be reached", 503) from None
    if client is None:
        raise OAuthError("invalid_client", "unknown client")
    now = service.clock.now()
    checked = verify_assertion(assertion, client, service.token_endpoint(request), int(now.timestamp()))
    if not await service.store.remember_jti(client.client_id, checked.jti,
                                            dt.datetime.fromtimestamp(checked.expires_at, dt.UTC)):
        raise OAuthError("invalid_client", "client_assertion jti was used before")
    code, redirect_uri, verifier = (single(params, n) for n in ("code", "redirect_uri", "code_verifier"))
    if code is None or redirect_uri is None or verifier is None:
        raise OAuthError("invalid_request", "code, redirect_uri and code_verifier are required")
    grant, first_use = await service.store.claim_code(secret_key(code))
    if grant is None:
        raise OAuthError("invalid_grant", "the code is unknown")
    join_flow(grant.trace_context)  # the client's token request is a step of the student's flow
    if not first_use:
        revoked = await service.store.revoke_from_code(grant.code_id)
        log.warning("authorization code replayed", extra={"revoked_tokens": revoked})
        raise OAuthError("invalid_grant", "the code was used before; its tokens are revoked")
    # The code is spent now, whatever follows: a wrong guess cannot be retried.
    if grant.client_id != client.client_id:
        raise OAuthError("invalid_grant", "the code was issued to another client")
    if grant.expires_at <= now:
        raise OAuthError("invalid_grant", "the code has expired")
    if redirect_uri != grant.redirect_uri:
        # emrex2.md's error table: a redirect_uri mismatch is invalid_request (RFC 6749 §5.2 would say invalid_grant).
        raise OAuthError("invalid_request", "redirect_uri differs from the authorization request")
    if not pkce_holds(verifier, grant.code_challenge):
        raise OAuthError("invalid_grant", "code_verifier does not match the code_challenge")
    access = new_secret()
    ttl = service.settings.emrex2_token_ttl_seconds
    await service.store.issue(TokenRow(id=secret_key(access), code_id=grant.code_id, ref_id=grant.ref_id,
                                       client_id=client.client_id, scope=grant.scope,
                                       expires_at=now + dt.timedelta(seconds=ttl),
                                       trace_context=grant.trace_context))
    return {"access_token": access, "token_type": "Bearer", "expires_in": ttl, "scope": grant.scope}


# ---- metadata ------------------------------------------------------------------------------------

@router.get("/.well-known/oauth-authorization-server", name="oauth2_metadata")
async def metadata(request: Request, service: Emrex2Dep) -> Response:
    issuer = service.issuer(request)
    return JSONResponse({
        "issuer": issuer,
        "authorization_endpoint": f"{issuer}/oauth2/authorize",
        "token_endpoint": f"{issuer}/oauth2/token",
        "jwks_uri": f"{issuer}/oauth2/jwks",
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code"],
        "scopes_supported": list(SCOPES),
        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": list(ASSERTION_ALGORITHMS),
        "code_challenge_methods_supported": ["S256"],
        "authorization_response_iss_parameter_supported": True,
        # EMREX 2.0 resource server (emrex2.md step 5): X-Signature is a detached JWS by a key of jwks_uri.
        "emrex_resource_endpoint": f"{issuer}/results",
        "emrex_data_formats_supported": ["elmo", "userinfo", "pdf", "pdf_metadata"],
        "emrex_response_signing_alg_values_supported": ["RS256", "ES256"],
    }, headers={"cache-control": "public, max-age=300"})


@router.get("/oauth2/jwks", name="oauth2_jwks")
async def jwks(service: Emrex2Dep) -> Response:
    try:
        keys = await service.jwks()
    except ServiceError:
        return JSONResponse({"error": "temporarily_unavailable"}, status_code=503, headers={"retry-after": "30"})
    return JSONResponse(keys.model_dump(), media_type="application/jwk-set+json",
                        headers={"cache-control": "public, max-age=300"})


def install(app: FastAPI, settings: Settings) -> None:
    """The one switch (NCP_GATEWAY_EMREX2_ENABLED): off, none of the EMREX 2.0 routes exists (404)."""
    if not settings.emrex2_enabled:
        return
    from . import results

    app.include_router(router)
    app.include_router(results.router)
