"""OIDC login: `/login` sends the student to the provider, `/login/callback` checks and fetches results."""

import datetime as dt
import secrets
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from emrex_elmo import Elmo, Learner, all_keys
from ncp_contracts import ServiceError, ServiceUnavailable
from ncp_contracts.sis import LearnerIdentity, QueryOptions, ResultsQuery
from ncp_gateway.deps import GatewayDep
from ncp_gateway.domain.outgoing import has_results, pseudonym, restrict_to_institution
from ncp_gateway.domain.provider_errors import provider_error
from ncp_gateway.domain.return_codes import Outcome
from ncp_gateway.domain.transfer import OidcRequest, Stage
from ncp_gateway.errors import LoginError
from ncp_gateway.settings import Settings

from .context import Gateway, redirect, utcnow
from .loading import Loaded, browser_transfers, load, remember

router = APIRouter()


def _redirect_uri(gw: Gateway, request: Request) -> str:
    if gw.settings.public_url:
        return gw.settings.public_url.rstrip("/") + "/login/callback"
    return str(request.url_for("login_callback"))


@router.get("/login", name="login")
async def begin_login(request: Request, gw: GatewayDep) -> Response:
    loaded = await load(gw, request, {Stage.ENTERED, Stage.LOGIN})
    if not isinstance(loaded, Loaded):
        return loaded
    transfer = loaded.transfer
    state, nonce, verifier = gw.oidc.new_request_values()
    redirect_uri = _redirect_uri(gw, request)
    try:
        url = await gw.oidc.authorization_url(redirect_uri=redirect_uri, state=state, nonce=nonce,
                                              code_verifier=verifier, ui_locales=gw.language(request))
    except LoginError as exc:
        return await gw.error_handoff(request, transfer, loaded.token, exc.code,
                                      f"Login is not possible right now: {exc.message}")
    transfer.oidc = OidcRequest(state=state, nonce=nonce, code_verifier=verifier, redirect_uri=redirect_uri)
    transfer.stage = Stage.LOGIN
    await gw.store.put(loaded.token, transfer)
    return redirect(url, 302)


def identity_from_claims(settings: Settings, claims: dict[str, Any]) -> LearnerIdentity:
    def claim(name: str | None) -> str | None:
        value = claims.get(name) if name else None
        return str(value) if isinstance(value, str | int) and str(value).strip() else None

    learner_id = next((v for n in settings.oidc_subject_claims if (v := claim(n))), None) or str(claims["sub"])
    bday: dt.date | None = None
    if (raw := claim(settings.oidc_birthdate_claim)) is not None:
        try:
            bday = dt.date.fromisoformat(raw)
        except ValueError:
            bday = None
    return LearnerIdentity(
        learner_id=learner_id, subject=learner_id, national_id=claim(settings.oidc_national_id_claim),
        esi=claim(settings.oidc_esi_claim), given_names=claim(settings.oidc_given_name_claim),
        family_name=claim(settings.oidc_family_name_claim), bday=bday,
    )


@router.get("/login/callback", name="login_callback")
async def finish_login(request: Request, gw: GatewayDep) -> Response:
    params = request.query_params
    state = params.get("state")
    in_login = [found for found in await browser_transfers(gw, request)
                if found.transfer.stage == Stage.LOGIN and found.transfer.oidc is not None]
    loaded = next((found for found in in_login if state is not None and found.transfer.oidc is not None
                   and secrets.compare_digest(state.encode(), found.transfer.oidc.state.encode())), None)
    if loaded is None:
        # Only `state` proves that an answer belongs to a login this browser started: SameSite=Lax cookies come
        # along on any site's top-level GET to this URL. Without a match (missing, wrong, replayed) the answer
        # ends nothing; the student may try again or cancel (a CSRF-protected POST).
        if not in_login:
            return gw.error_page(request, "error.no_session")
        only = in_login[0].transfer if len(in_login) == 1 else None
        return gw.error_page(request, "error.login_not_completed", transfer=only)
    remember(request, loaded)
    transfer, token = loaded.transfer, loaded.token
    expected = transfer.oidc
    assert expected is not None
    if transfer.expired(utcnow()):
        return await gw.handoff(request, transfer, Outcome.ERROR, message_key="return.session_expired", token=token)
    issuer = params.get("iss")
    if issuer is not None and issuer.rstrip("/") != gw.oidc.issuer:
        # RFC 9207: a provider that names itself must be the one we sent the student to (mix-up attacks).
        return await gw.error_handoff(request, transfer, token, "issuer_mismatch",
                                      "Login failed: the answer came from another identity provider (iss).")
    if "error" in params:
        outcome, message_key, log_code = provider_error(params.get("error"))
        if outcome is Outcome.CANCEL:
            return await gw.handoff(request, transfer, outcome, message_key=message_key, token=token)
        return await gw.error_handoff(request, transfer, token, log_code, message_key=message_key)
    code = params.get("code")
    if not code:
        return await gw.error_handoff(request, transfer, token, "code_missing", "Login failed: no code returned.")
    try:
        claims = await gw.oidc.exchange(code=code, redirect_uri=expected.redirect_uri,
                                        code_verifier=expected.code_verifier, nonce=expected.nonce)
    except LoginError as exc:
        return await gw.error_handoff(request, transfer, token, exc.code, f"Login failed: {exc.message}")
    identity = identity_from_claims(gw.settings, claims)
    transfer.pseudonym = pseudonym(gw.pseudonym_key, gw.oidc.issuer, str(claims["sub"]))
    transfer.oidc = None
    try:
        answer = await gw.sis.query(ResultsQuery(
            tenant=gw.settings.sis_tenant, identity=identity,
            options=QueryOptions(include_not_passed=transfer.allow_not_passed_courses),
        ))
    except ServiceUnavailable:
        return await gw.error_handoff(request, transfer, token, "sis_unavailable",
                                      "The student information systems could not be reached; try again later.")
    except ServiceError as exc:
        return await gw.error_handoff(request, transfer, token, "sis_rejected",
                                      f"The results could not be fetched ({exc.code or exc.status}).")
    learner = answer.learner or Learner(given_names=identity.given_names or "",
                                        family_name=identity.family_name or "", bday=identity.bday)
    results = restrict_to_institution(Elmo(generated_date=utcnow(), learner=learner, reports=answer.reports),
                                      transfer.hei_id)
    if answer.status == "no_results" or not has_results(results):
        if answer.warnings:
            return await gw.error_handoff(request, transfer, token, "sis_partial",
                                          "No results could be fetched: the student information systems "
                                          "did not answer.")
        return await gw.handoff(request, transfer, Outcome.NO_RESULTS, message_key="return.no_results",
                                token=token)
    transfer.results = results
    transfer.warnings = sorted({w.institution for w in answer.warnings})
    transfer.stage = Stage.SELECTING
    transfer.csrf = secrets.token_urlsafe(24)
    if not transfer.allow_to_pick_courses:
        transfer.selected = all_keys(results)
    # Session fixation: the token used before login stops working now.
    new_token = gw.cookie.new_token()
    await gw.store.rotate(token, new_token, transfer)
    response = redirect(transfer.after_login)
    gw.cookie.set(response, transfer.tid, new_token)
    return response
