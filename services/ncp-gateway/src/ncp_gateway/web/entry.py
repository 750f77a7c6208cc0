"""`GET|POST /emrex`: the EMC's request. A bad returnUrl or sessionId gets an error page, never a redirect.

Each entry is a transfer of its own with its own cookie, so a second entry in the same browser (another tab,
another client) never replaces the first. Limits: transfers per browser, and live transfers overall.
"""

import datetime as dt
import secrets

from fastapi import Request
from fastapi.responses import Response
from starlette.routing import Match, Route
from starlette.types import Scope

from ncp_gateway.domain.entry import EntryError, EntryPolicy, parse_entry
from ncp_gateway.domain.transfer import Transfer
from ncp_runtime import flow_context, state_of

from .context import Gateway, redirect
from .forms import read_form_items
from .loading import browser_transfers

_PURGE_EVERY = 50
# Expired records stay an hour so a late click still gets NCP_ERROR back to the client.
EXPIRED_GRACE = dt.timedelta(hours=1)


async def _params(request: Request) -> dict[str, list[str]]:
    params: dict[str, list[str]] = {}
    if request.method == "POST":
        items = await read_form_items(request, max_fields=100)
    else:
        items = request.query_params.multi_items()
    for key, value in items:
        params.setdefault(key, []).append(value)
    return params


async def start_transfer(request: Request) -> Response:
    # The state is read here rather than through a dependency: FastAPI's dependency resolution is a large part
    # of the entry's CPU per request, and the entry is the busiest request of the node.
    gw = state_of(request, "gateway", Gateway)
    settings = gw.settings
    policy = EntryPolicy(settings.allow_http_loopback, settings.allowed_return_origins)
    try:
        entry = parse_entry(await _params(request), policy)
    except EntryError as exc:
        return gw.error_page(request, "error.bad_request", detail=exc.message)
    now = gw.clock.now()
    held = gw.cookie.transfers(request.cookies)
    open_here = await browser_transfers(gw, request, held)
    stale = set(held) - {loaded.transfer.tid for loaded in open_here}
    if len(open_here) >= settings.max_transfers_per_browser:
        # Asked, not dropped: the student finishes or cancels one of the open transfers first.
        return gw.error_page(request, "error.too_many_here", status=429, count=len(open_here))
    transfer = Transfer(
        tid=gw.cookie.new_tid(), session_id=entry.session_id, return_url=entry.return_url,
        receiver_origin=entry.receiver_origin, receiver_host=entry.receiver_host,
        allow_to_pick_courses=entry.allow_to_pick_courses,
        allow_not_passed_courses=entry.allow_not_passed_courses, hei_id=entry.hei_id,
        created_at=now, expires_at=now + dt.timedelta(seconds=settings.session_ttl_seconds),
        csrf=secrets.token_urlsafe(24), trace_context=flow_context(),
    )
    token = gw.cookie.new_token()
    # Counted and stored in one database operation: the entry is the busiest request of the node.
    if not await gw.store.put_new(token, transfer, now=now, max_live=settings.max_live_transfers):
        return gw.error_page(request, "error.busy", status=503, headers={"retry-after": "60"})
    gw.entries += 1
    if gw.entries % _PURGE_EVERY == 0:
        await gw.store.purge(now - EXPIRED_GRACE)
    # Relative: right behind any proxy, whatever scheme or host it terminates.
    response = redirect(f"/login?t={transfer.tid}")
    gw.cookie.set(response, transfer.tid, token)
    for tid in stale:  # cookies of transfers that have ended or been purged
        gw.cookie.clear(response, tid)
    return response



class _EntryRoute(Route):
    """A plain Starlette route, first in the app's list: FastAPI's included-router matching and request handler
    (the routes' version walk, the scope bookkeeping, its exit stacks) were a sixth of the entry's CPU and give
    it nothing, as it takes the request alone. It names itself in the scope as FastAPI's routes do, for the
    metrics' and traces' route template."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        match, child_scope = super().matches(scope)
        if match is not Match.NONE:
            child_scope["route"] = self
        return match, child_scope


route = _EntryRoute("/emrex", start_transfer, methods=["GET", "POST"], name="entry")
route.methods = {"GET", "POST"}  # not the HEAD Starlette adds to GET: a HEAD must not start a transfer
