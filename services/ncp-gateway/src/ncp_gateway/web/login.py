"""OIDC login: `/login` sends the student to the provider, `/login/callback` hands its answer to the flow."""

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ncp_gateway.deps import GatewayDep, StartingDep
from ncp_gateway.domain.flow import CallbackAnswer
from ncp_gateway.domain.transfer import Stage

from .context import Gateway, redirect
from .loading import browser_transfers, remember

router = APIRouter()


def _redirect_uri(gw: Gateway, request: Request) -> str:
    if gw.settings.public_url:
        return gw.settings.public_url.rstrip("/") + "/login/callback"
    return str(request.url_for("login_callback"))


@router.get("/login", name="login")
async def begin_login(request: Request, gw: GatewayDep, loaded: StartingDep) -> Response:
    url = await gw.flow.begin_login(
        loaded.token, loaded.transfer, redirect_uri=_redirect_uri(gw, request), language=gw.language(request)
    )
    return redirect(url, 302)


@router.get("/login/callback", name="login_callback")
async def finish_login(request: Request, gw: GatewayDep) -> Response:
    params = request.query_params
    in_login = [
        found
        for found in await browser_transfers(gw, request)
        if found.transfer.stage == Stage.LOGIN and found.transfer.oidc is not None
    ]
    match = gw.flow.login_of([(f.token, f.transfer) for f in in_login], params.get("state"))
    if match is None:
        # Only `state` proves that an answer belongs to a login this browser started: SameSite=Lax cookies come
        # along on any site's top-level GET to this URL. Without a match (missing, wrong, replayed) the answer
        # ends nothing; the student may try again or cancel (a CSRF-protected POST).
        if not in_login:
            return gw.error_page(request, "error.no_session")
        only = in_login[0].transfer if len(in_login) == 1 else None
        return gw.error_page(request, "error.login_not_completed", transfer=only)
    token, transfer = match
    remember(request, next(f for f in in_login if f.token == token))
    answer = CallbackAnswer(
        iss=params.get("iss"), error=params.get("error"), has_error="error" in params, code=params.get("code")
    )
    new_token = await gw.flow.finish_login(token, transfer, answer)
    response = redirect(transfer.after_login)
    gw.cookie.set(response, transfer.tid, new_token)
    return response
