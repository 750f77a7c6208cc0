"""`/select`: the results tree with filters; `/cancel` from any page ends the transfer as cancelled."""

import datetime as dt
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ncp_gateway.deps import GatewayDep, OpenTransferDep, SelectingDep
from ncp_gateway.domain.outgoing import summarize
from ncp_gateway.domain.results_view import Filters, build_groups, filter_options
from ncp_gateway.domain.transfer import Transfer

from .context import Gateway, redirect
from .loading import checked_form

router = APIRouter()
_FILTERS = ("institution", "type", "level", "date_from", "date_to")


def _date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _filters(values: dict[str, str]) -> Filters:
    return Filters(
        institution=values.get("institution") or None,
        type=values.get("type") or None,
        level=values.get("level") or None,
        date_from=_date(values.get("date_from")),
        date_to=_date(values.get("date_to")),
    )


def render_selection(
    gw: Gateway,
    request: Request,
    transfer: Transfer,
    filters: Filters,
    *,
    status: int = 200,
    error_key: str | None = None,
) -> Response:
    assert transfer.results is not None
    lang = gw.language(request)
    groups = build_groups(
        transfer.results,
        lang=lang,
        filters=filters,
        selected=transfer.selected,
        include_not_passed=transfer.allow_not_passed_courses,
    )
    totals = summarize(gw.flow.chosen(transfer))
    return gw.page(
        request,
        "select.html",
        {
            "groups": groups,
            "options": filter_options(transfer.results, lang),
            "filters": filters,
            "totals": totals,
            "error_key": error_key,
            "pick": transfer.allow_to_pick_courses,
            "institution_count": len(transfer.results.reports),
            "warnings": transfer.warnings,
        },
        transfer=transfer,
        status=status,
    )


@router.get("/select", name="select_page")
async def show_selection(request: Request, gw: GatewayDep, loaded: SelectingDep) -> Response:
    filters = _filters({k: request.query_params.get(k, "") for k in _FILTERS})
    return render_selection(gw, request, loaded.transfer, filters)


@router.post("/select", name="select_submit")
async def submit_selection(request: Request, gw: GatewayDep, loaded: SelectingDep) -> Response:
    transfer = loaded.transfer
    form = await checked_form(gw, request, transfer)
    action = form.get("action")
    filtering = action in ("filter", "reset")
    chosen_any = await gw.flow.select(
        loaded.token,
        transfer,
        shown={k for k in form.getlist("shown") if isinstance(k, str)},
        picked={k for k in form.getlist("los") if isinstance(k, str)},
        prepare=not filtering,
    )
    filter_values = {k: v for k in _FILTERS if isinstance(v := form.get(k), str) and v}
    if filtering:
        query = urlencode({"t": transfer.tid, **(filter_values if action == "filter" else {})})
        return redirect(f"/select?{query}")
    if not chosen_any:
        return render_selection(
            gw, request, transfer, _filters(filter_values), status=400, error_key="select.none_chosen"
        )
    return redirect(f"/preview?t={transfer.tid}")


@router.post("/cancel", name="cancel")
async def cancel_transfer(request: Request, gw: GatewayDep, loaded: OpenTransferDep) -> Response:
    await checked_form(gw, request, loaded.transfer)
    gw.flow.cancel()
