"""`POST /session/extend`: more time for a transfer (WCAG 2.2.1 Timing Adjustable), up to a maximum lifetime.

Two callers: the plain form on every transfer page (works without JavaScript: answered with a redirect back to
the page, or an HTML error page), and gateway.js's warning (`Accept: application/json`: answered with the new
time left, or problem+json).
"""

import datetime as dt
import hmac

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from ncp_gateway.deps import GatewayDep
from ncp_gateway.domain.errors import TransferAmbiguous
from ncp_gateway.domain.return_codes import Outcome
from ncp_gateway.domain.session_time import can_extend, extended_expiry
from ncp_gateway.domain.transfer import Stage, Transfer
from ncp_runtime import problem_response

from .context import Gateway, redirect
from .forms import read_form
from .loading import find, remember

router = APIRouter()
_PAGE_OF_STAGE = {Stage.SELECTING: "/select", Stage.PREVIEWED: "/preview"}


def _max_lifetime(gw: Gateway) -> dt.timedelta:
    return dt.timedelta(seconds=gw.settings.session_max_lifetime_seconds)


def time_state(gw: Gateway, transfer: Transfer, now: dt.datetime) -> dict[str, object]:
    return {"seconds_left": transfer.seconds_left(now), "expires_at": transfer.expires_at.isoformat(),
            "can_extend": can_extend(transfer, _max_lifetime(gw))}


@router.post("/session/extend", name="extend_session")
async def extend_session(request: Request, gw: GatewayDep) -> Response:
    wants_json = "application/json" in request.headers.get("accept", "")
    try:
        found = await find(gw, request)
    except TransferAmbiguous:
        found = None
    if found is None:
        if wants_json:
            return problem_response(404, "no_transfer", "There is no such transfer in this browser.")
        return gw.error_page(request, "error.no_session")
    remember(request, found)
    transfer, now = found.transfer, gw.clock.now()
    if transfer.expired(now):
        if wants_json:  # the page reloads and the GET hands off, the same way as for any expired transfer
            return problem_response(410, "transfer_expired", "The transfer has expired.")
        return await gw.handoff(request, transfer, Outcome.ERROR, message_key="return.session_expired",
                                token=found.token)
    sent = (await read_form(request, max_fields=10)).get("csrf")
    if not isinstance(sent, str) or not hmac.compare_digest(sent.encode(), transfer.csrf.encode()):
        if wants_json:
            return problem_response(403, "csrf", "The security token is missing or wrong.")
        return gw.error_page(request, "error.csrf", status=403, transfer=transfer)
    new_expiry = extended_expiry(transfer, now, dt.timedelta(seconds=gw.settings.session_ttl_seconds),
                                 _max_lifetime(gw))
    if new_expiry is None:
        if wants_json:
            return problem_response(409, "lifetime_reached", "The transfer cannot be extended any further.",
                                    extra=time_state(gw, transfer, now))
        return gw.error_page(request, "session.extend_limit", status=409, transfer=transfer)
    transfer = transfer.model_copy(update={"expires_at": new_expiry})
    await gw.store.put(found.token, transfer)
    if wants_json:
        return JSONResponse(time_state(gw, transfer, now))
    return redirect(f"{_PAGE_OF_STAGE.get(transfer.stage, '/login')}?t={transfer.tid}")
