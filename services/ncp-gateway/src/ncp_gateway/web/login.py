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
from ncp_gateway.domain.return_codes import Outcome
from ncp_gateway.domain.transfer import OidcRequest, Stage
from ncp_gateway.errors import LoginError
from ncp_gateway.messages import RETURN_MESSAGES
from ncp_gateway.settings import Settings

from .context import Gateway, redirect, utcnow
from .loading import Loaded, load

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
    loaded = await load(gw, request, {Stage.LOGIN})
    if not isinstance(loaded, Loaded):
        return loaded
    transfer, token = loaded.transfer, loaded.token
    params = request.query_params
    expected = transfer.oidc
    state = params.get("state")
    # RFC 6749 §4.1.2.1 wants state on error answers too, but some providers drop it there (the development
    # provider's Deny does): an error without state may only end this transfer, it cannot log anyone in.
    state_optional = "error" in params and state is None
    if expected is None or not (state_optional or (
            state and secrets.compare_digest(state.encode(), expected.state.encode()))):
        return await gw.error_handoff(request, transfer, token, "state_mismatch",
                                      "Login failed: the login answer does not belong to this transfer (state).")
    issuer = params.get("iss")
    if issuer is not None and issuer.rstrip("/") != gw.oidc.issuer:
        # RFC 9207: a provider that names itself must be the one we sent the student to (mix-up attacks).
        return await gw.error_handoff(request, transfer, token, "issuer_mismatch",
                                      "Login failed: the answer came from another identity provider (iss).")
    if params.get("error") == "access_denied":
        # The student declined at the provider (its Cancel/Deny): that is a cancel, not a failure.
        return await gw.handoff(request, transfer, Outcome.CANCEL, message=RETURN_MESSAGES["login_cancel"],
                                token=token)
    if "error" in params:
        error = params.get("error", "")[:64]
        return await gw.error_handoff(request, transfer, token, "provider_error",
                                      f"Login failed at the identity provider ({error}).")
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
        return await gw.handoff(request, transfer, Outcome.NO_RESULTS, message=RETURN_MESSAGES["no_results"],
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
    response = redirect("/select")
    gw.cookie.set(response, new_token)
    return response
