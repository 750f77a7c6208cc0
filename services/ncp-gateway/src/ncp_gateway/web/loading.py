"""Finding the caller's transfer: `t` (URL or form) -> that transfer's cookie -> record; expiry turns into
NCP_ERROR; CSRF on every form.

Without `t`, a browser holding exactly one transfer gets that one; with several it is asked to use the page of
the one it means (none is dropped or picked at random).
"""

import hmac
from collections.abc import Collection
from dataclasses import dataclass

from fastapi import Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from ncp_gateway.domain.return_codes import Outcome
from ncp_gateway.domain.transfer import Stage, Transfer

from .context import Gateway, utcnow
from .forms import read_form

MAX_FIELDS = 10_000  # the selection form: one field per result shown


@dataclass
class Loaded:
    token: str
    transfer: Transfer


class Ambiguous(Exception):
    """Several transfers in this browser and the request does not say which."""


async def requested_tid(request: Request) -> str | None:
    tid = request.query_params.get("t")
    if tid is None and request.method == "POST":
        value = (await read_form(request, max_fields=MAX_FIELDS)).get("t")
        tid = value if isinstance(value, str) else None
    return tid


async def browser_transfers(gw: Gateway, request: Request) -> list[Loaded]:
    """Every transfer whose cookie this browser holds (and whose record still exists)."""
    cookies = gw.cookie.transfers(request.cookies)
    records = await gw.store.get_many(list(cookies.values()))
    return [Loaded(token, transfer) for token, transfer in records.items() if cookies.get(transfer.tid) == token]


async def find(gw: Gateway, request: Request) -> Loaded | None:
    tid = await requested_tid(request)
    if tid is not None:
        token = gw.cookie.token(request.cookies, tid)
        transfer = await gw.store.get(token) if token else None
        return Loaded(token, transfer) if token and transfer is not None and transfer.tid == tid else None
    mine = await browser_transfers(gw, request)
    if len(mine) > 1:
        raise Ambiguous
    return mine[0] if mine else None


def remember(request: Request, found: Loaded) -> None:
    """From here on the request belongs to a valid transfer: any failure ends in its NCP_ERROR hand-off."""
    request.state.transfer = found


async def load(gw: Gateway, request: Request, stages: Collection[Stage]) -> Loaded | Response:
    try:
        found = await find(gw, request)
    except Ambiguous:
        return gw.error_page(request, "error.which_transfer", status=409)
    if found is None:
        return gw.error_page(request, "error.no_session")
    remember(request, found)
    if found.transfer.expired(utcnow()):
        # emrex.md §7: on expiry, tell the client (NCP_ERROR) instead of stranding the student.
        return await gw.handoff(request, found.transfer, Outcome.ERROR, message_key="return.session_expired",
                                token=found.token)
    if found.transfer.stage not in stages:
        return gw.error_page(request, "error.wrong_step", status=409, transfer=found.transfer)
    return found


async def checked_form(gw: Gateway, request: Request, transfer: Transfer) -> FormData | Response:
    form = await read_form(request, max_fields=MAX_FIELDS)
    sent = form.get("csrf")
    if not isinstance(sent, str) or not hmac.compare_digest(sent.encode(), transfer.csrf.encode()):
        return gw.error_page(request, "error.csrf", status=403, transfer=transfer)
    return form
