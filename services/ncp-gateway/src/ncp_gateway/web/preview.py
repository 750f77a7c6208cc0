"""`/preview`: exactly what will be sent, the XML behind it, and consent; `/send` hands the consent to the flow."""

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ncp_gateway.deps import GatewayDep, PreviewedDep
from ncp_gateway.domain.outgoing import summarize
from ncp_gateway.domain.receiver import maybe_outside_eu_eea
from ncp_gateway.domain.results_view import Filters, build_groups, pick_title
from ncp_gateway.domain.transfer import Transfer

from .context import Gateway
from .loading import checked_form

router = APIRouter()


async def render_preview(
    gw: Gateway, request: Request, transfer: Transfer, *, status: int = 200, error_key: str | None = None
) -> Response:
    assert transfer.prepared_xml is not None
    lang = gw.language(request)
    document = gw.flow.prepared.parse(transfer.prepared_xml.encode("utf-8"))
    groups = build_groups(document, lang=lang, filters=Filters(), selected=(), include_not_passed=True)
    entry = await gw.receivers.entry(transfer.return_url)  # only adds a name: None when unavailable
    name = None
    if entry is not None:
        name = ", ".join(entry.institutions[:3]) or entry.acronym or None
    if transfer.emrex2 is not None and transfer.emrex2.client_name:  # EMREX 2.0: the registered client's name
        name = transfer.emrex2.client_name
    return gw.page(
        request,
        "preview.html",
        {
            "document": document,
            "groups": groups,
            "summary": summarize(document),
            "receiver_name": name,
            "host": transfer.receiver_host,
            "outside_eea": maybe_outside_eu_eea(transfer.receiver_host, entry.country_code if entry else None),
            "error_key": error_key,
            "report_titles": [pick_title(r.issuer.titles, lang) for r in document.reports],
        },
        transfer=transfer,
        status=status,
    )


@router.get("/preview", name="preview_page")
async def show_preview(request: Request, gw: GatewayDep, loaded: PreviewedDep) -> Response:
    return await render_preview(gw, request, loaded.transfer)


@router.get("/preview.xml", name="preview_xml")
async def show_preview_xml(loaded: PreviewedDep) -> Response:
    assert loaded.transfer.prepared_xml is not None
    return Response(
        loaded.transfer.prepared_xml.encode("utf-8"),
        media_type="application/xml; charset=utf-8",
        headers={"content-security-policy": "default-src 'none'; frame-ancestors 'none'; sandbox"},
    )


@router.post("/send", name="send")
async def send_results(request: Request, gw: GatewayDep, loaded: PreviewedDep) -> Response:
    transfer = loaded.transfer
    form = await checked_form(gw, request, transfer)
    if form.get("consent") != "yes":
        return await render_preview(gw, request, transfer, status=400, error_key="consent.required")
    ending = await gw.flow.send(loaded.token, transfer)
    return await gw.end(request, transfer, loaded.token, ending)
