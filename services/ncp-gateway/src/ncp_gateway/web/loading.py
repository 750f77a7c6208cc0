"""Finding the caller's transfer: cookie -> record; expiry turns into NCP_ERROR; CSRF on every form."""

import hmac
from collections.abc import Collection
from dataclasses import dataclass

from fastapi import Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from ncp_gateway.domain.return_codes import Outcome
from ncp_gateway.domain.transfer import Stage, Transfer
from ncp_gateway.messages import RETURN_MESSAGES

from .context import Gateway, utcnow


@dataclass
class Loaded:
    token: str
    transfer: Transfer


async def load(gw: Gateway, request: Request, stages: Collection[Stage]) -> Loaded | Response:
    token = gw.cookie.read(request.cookies.get(gw.cookie.name))
    transfer = await gw.store.get(token) if token else None
    if token is None or transfer is None:
        return gw.error_page(request, "error.no_session")
    if transfer.expired(utcnow()):
        # emrex.md §7: on expiry, tell the client (NCP_ERROR) instead of stranding the student.
        return await gw.handoff(request, transfer, Outcome.ERROR, message=RETURN_MESSAGES["session_expired"],
                                token=token)
    if transfer.stage not in stages:
        return gw.error_page(request, "error.wrong_step", status=409, transfer=transfer)
    return Loaded(token, transfer)


async def checked_form(gw: Gateway, request: Request, transfer: Transfer) -> FormData | Response:
    form = await request.form(max_files=0, max_fields=10_000)
    sent = form.get("csrf")
    if not isinstance(sent, str) or not hmac.compare_digest(sent.encode(), transfer.csrf.encode()):
        return gw.error_page(request, "error.csrf", status=403, transfer=transfer)
    return form
