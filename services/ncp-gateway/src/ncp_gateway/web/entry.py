"""`GET|POST /emrex`: the EMC's request. A bad returnUrl or sessionId gets an error page, never a redirect."""

import datetime as dt
import secrets

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ncp_gateway.deps import GatewayDep
from ncp_gateway.domain.entry import EntryError, EntryPolicy, parse_entry
from ncp_gateway.domain.transfer import Transfer

from .context import redirect, utcnow

router = APIRouter()
_PURGE_EVERY = 50


async def _params(request: Request) -> dict[str, list[str]]:
    params: dict[str, list[str]] = {}
    if request.method == "POST":
        form = await request.form(max_files=0, max_fields=100)
        items = [(k, v) for k, v in form.multi_items() if isinstance(v, str)]
    else:
        items = list(request.query_params.multi_items())
    for key, value in items:
        params.setdefault(key, []).append(value)
    return params


@router.api_route("/emrex", methods=["GET", "POST"], name="entry")
async def start_transfer(request: Request, gw: GatewayDep) -> Response:
    settings = gw.settings
    policy = EntryPolicy(settings.allow_http_loopback, settings.allowed_return_origins)
    try:
        entry = parse_entry(await _params(request), policy)
    except EntryError as exc:
        return gw.error_page(request, "error.bad_request", detail=exc.message)
    now = utcnow()
    transfer = Transfer(
        session_id=entry.session_id, return_url=entry.return_url, receiver_origin=entry.receiver_origin,
        receiver_host=entry.receiver_host, allow_to_pick_courses=entry.allow_to_pick_courses,
        allow_not_passed_courses=entry.allow_not_passed_courses, hei_id=entry.hei_id,
        created_at=now, expires_at=now + dt.timedelta(seconds=settings.session_ttl_seconds),
        csrf=secrets.token_urlsafe(24),
    )
    token = gw.cookie.new_token()
    await gw.store.put(token, transfer)
    gw.entries += 1
    if gw.entries % _PURGE_EVERY == 0:
        # Expired records stay an hour so a late click still gets NCP_ERROR back to the client.
        await gw.store.purge(now - dt.timedelta(hours=1))
    # Relative: right behind any proxy, whatever scheme or host it terminates.
    response = redirect("/login")
    gw.cookie.set(response, token)
    return response
