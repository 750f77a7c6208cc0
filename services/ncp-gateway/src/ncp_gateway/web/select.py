"""`/select`: the results tree with filters; `/cancel` from any page returns NCP_CANCEL."""

import datetime as dt
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from emrex_elmo import ElmoError, all_keys, to_xml, validate
from ncp_contracts import ServiceError, ServiceUnavailable
from ncp_gateway.deps import GatewayDep
from ncp_gateway.domain.outgoing import choose, summarize, with_transcript
from ncp_gateway.domain.results_view import Filters, build_groups, filter_options
from ncp_gateway.domain.return_codes import Outcome
from ncp_gateway.domain.signed_check import SignedDocumentError
from ncp_gateway.domain.transfer import Stage, Transfer

from .context import Gateway, redirect, utcnow
from .loading import Loaded, checked_form, load

router = APIRouter()
_FILTERS = ("institution", "type", "level", "date_from", "date_to")


def _date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _filters(values: dict[str, str]) -> Filters:
    return Filters(
        institution=values.get("institution") or None, type=values.get("type") or None,
        level=values.get("level") or None, date_from=_date(values.get("date_from")),
        date_to=_date(values.get("date_to")),
    )


def render_selection(gw: Gateway, request: Request, transfer: Transfer, filters: Filters, *,
                     status: int = 200, error_key: str | None = None) -> Response:
    assert transfer.results is not None
    lang = gw.language(request)
    include = transfer.allow_not_passed_courses
    groups = build_groups(transfer.results, lang=lang, filters=filters, selected=transfer.selected,
                          include_not_passed=include)
    chosen = choose(transfer.results, transfer.selected, include_not_passed=include, now=utcnow())
    totals = summarize(chosen)
    return gw.page(request, "select.html", {
        "groups": groups, "options": filter_options(transfer.results, lang), "filters": filters,
        "totals": totals, "error_key": error_key, "pick": transfer.allow_to_pick_courses,
        "institution_count": len(transfer.results.reports), "warnings": transfer.warnings,
    }, transfer=transfer, status=status)


@router.get("/select", name="select_page")
async def show_selection(request: Request, gw: GatewayDep) -> Response:
    loaded = await load(gw, request, {Stage.SELECTING, Stage.PREVIEWED})
    if not isinstance(loaded, Loaded):
        return loaded
    filters = _filters({k: request.query_params.get(k, "") for k in _FILTERS})
    return render_selection(gw, request, loaded.transfer, filters)


@router.post("/select", name="select_submit")
async def submit_selection(request: Request, gw: GatewayDep) -> Response:
    loaded = await load(gw, request, {Stage.SELECTING, Stage.PREVIEWED})
    if not isinstance(loaded, Loaded):
        return loaded
    transfer = loaded.transfer
    form = await checked_form(gw, request, transfer)
    if isinstance(form, Response):
        return form
    assert transfer.results is not None
    known = set(all_keys(transfer.results))
    if transfer.allow_to_pick_courses:
        shown = {k for k in form.getlist("shown") if isinstance(k, str)} & known
        picked = {k for k in form.getlist("los") if isinstance(k, str)} & shown
        # Entries hidden by a filter keep their earlier choice.
        transfer.selected = sorted((set(transfer.selected) - shown) | picked)
    transfer.stage = Stage.SELECTING
    transfer.prepared_xml = None
    action = form.get("action")
    filter_values = {k: v for k in _FILTERS if isinstance(v := form.get(k), str) and v}
    if action in ("filter", "reset"):
        await gw.store.put(loaded.token, transfer)
        query = urlencode({"t": transfer.tid, **(filter_values if action == "filter" else {})})
        return redirect(f"/select?{query}")
    chosen = choose(transfer.results, transfer.selected, include_not_passed=transfer.allow_not_passed_courses,
                    now=utcnow())
    if not chosen.reports:
        await gw.store.put(loaded.token, transfer)
        return render_selection(gw, request, transfer, _filters(filter_values), status=400,
                                error_key="select.none_chosen")
    try:
        pdf = await gw.signed_transcript(chosen)
    except ServiceUnavailable:
        return await gw.error_handoff(request, transfer, loaded.token, "signer_unavailable",
                                      "The results could not be signed right now; try again later.")
    except ServiceError as exc:
        return await gw.error_handoff(request, transfer, loaded.token, "signer_rejected",
                                      f"The transcript could not be signed ({exc.code or exc.status}).")
    except SignedDocumentError as exc:
        return await gw.error_handoff(request, transfer, loaded.token, f"signed_{exc.code}",
                                      "The results could not be signed correctly; try again later.")
    try:
        document = to_xml(with_transcript(chosen, pdf), version="1.7.0")
        # emrex.md Part A: every emitted document is validated against the 1.7.0 XSD before signing.
        validate(document, "1.7.0")
    except ElmoError as exc:
        return await gw.error_handoff(request, transfer, loaded.token, exc.code,
                                      "The results could not be converted into a valid ELMO document.")
    transfer.prepared_xml = document.decode("utf-8")
    transfer.stage = Stage.PREVIEWED
    await gw.store.put(loaded.token, transfer)
    return redirect(f"/preview?t={transfer.tid}")


@router.post("/cancel", name="cancel")
async def cancel_transfer(request: Request, gw: GatewayDep) -> Response:
    loaded = await load(gw, request, {Stage.ENTERED, Stage.LOGIN, Stage.SELECTING, Stage.PREVIEWED})
    if not isinstance(loaded, Loaded):
        return loaded
    form = await checked_form(gw, request, loaded.transfer)
    if isinstance(form, Response):
        return form
    return await gw.handoff(request, loaded.transfer, Outcome.CANCEL, message_key="return.cancel",
                            token=loaded.token)
