"""Finding the caller's transfer: `t` (URL or form) -> that transfer's cookie -> record; then the transfer
service's checks (expiry, step, CSRF), whose typed errors the app's one handler answers.

Without `t`, a browser holding exactly one transfer gets that one; with several it is asked to use the page of
the one it means (none is dropped or picked at random).
"""

from collections.abc import Collection
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from starlette.datastructures import FormData

from ncp_gateway.domain.errors import TransferAmbiguous, TransferNotFound
from ncp_gateway.domain.transfer import Stage, Transfer
from ncp_runtime import from_state, join_flow

from .context import Gateway
from .forms import read_form

MAX_FIELDS = 10_000  # the selection form: one field per result shown


@dataclass
class Loaded:
    token: str
    transfer: Transfer


async def requested_tid(request: Request) -> str | None:
    tid = request.query_params.get("t")
    if tid is None and request.method == "POST":
        value = (await read_form(request, max_fields=MAX_FIELDS)).get("t")
        tid = value if isinstance(value, str) else None
    return tid


async def browser_transfers(gw: Gateway, request: Request, held: dict[str, str] | None = None) -> list[Loaded]:
    """Every transfer whose cookie this browser holds (and whose record still exists); `held` is
    `gw.cookie.transfers(request.cookies)` when the caller has it already (each cookie's signature is checked)."""
    cookies = gw.cookie.transfers(request.cookies) if held is None else held
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
        raise TransferAmbiguous
    return mine[0] if mine else None


def remember(request: Request, found: Loaded) -> None:
    """From here on the request belongs to a valid transfer: any failure ends in its hand-off."""
    request.state.transfer = found
    join_flow(found.transfer.trace_context)  # this request's work belongs to the flow's trace


async def load(gw: Gateway, request: Request, stages: Collection[Stage]) -> Loaded:
    found = await find(gw, request)
    if found is None:
        raise TransferNotFound
    remember(request, found)
    gw.flow.check(found.transfer, stages)
    return found


def transfer_at(*stages: Stage) -> Any:
    """A dependency: the caller's transfer at one of `stages`, or a typed error (answered by the app)."""

    async def dependency(request: Request, gw: Annotated[Gateway, Depends(from_state("gateway", Gateway))]) -> Loaded:
        return await load(gw, request, stages)

    return Depends(dependency)


async def checked_form(gw: Gateway, request: Request, transfer: Transfer) -> FormData:
    form = await read_form(request, max_fields=MAX_FIELDS)
    gw.flow.check_csrf(transfer, form.get("csrf"))
    return form
