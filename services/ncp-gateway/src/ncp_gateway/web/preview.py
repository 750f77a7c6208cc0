"""`/preview`: exactly what will be sent, the XML behind it, and consent; `/send` signs and hands off."""

from fastapi import APIRouter, Request
from fastapi.responses import Response

from emrex_elmo import from_xml, transport
from ncp_contracts import ServiceError, ServiceUnavailable
from ncp_contracts.registry import EmpEntry
from ncp_gateway.deps import GatewayDep
from ncp_gateway.domain.outgoing import summarize
from ncp_gateway.domain.receiver import maybe_outside_eu_eea
from ncp_gateway.domain.results_view import Filters, build_groups, pick_title
from ncp_gateway.domain.return_codes import Outcome
from ncp_gateway.domain.signed_check import SignedDocumentError, check_signed
from ncp_gateway.domain.transfer import Stage, Transfer

from .context import Gateway, sha256_hex
from .loading import Loaded, checked_form, load

router = APIRouter()


async def _receiver(gw: Gateway, transfer: Transfer) -> EmpEntry | None:
    try:
        return await gw.registry.lookup(transfer.return_url)
    except ServiceError:
        return None  # the registry only adds a name; consent still names the host


async def render_preview(gw: Gateway, request: Request, transfer: Transfer, *, status: int = 200,
                         error_key: str | None = None) -> Response:
    assert transfer.prepared_xml is not None
    lang = gw.language(request)
    document = from_xml(transfer.prepared_xml.encode("utf-8"))
    groups = build_groups(document, lang=lang, filters=Filters(), selected=(), include_not_passed=True)
    entry = await _receiver(gw, transfer)
    name = None
    if entry is not None:
        name = ", ".join(entry.institutions[:3]) or entry.acronym or None
    if transfer.emrex2 is not None and transfer.emrex2.client_name:  # EMREX 2.0: the registered client's name
        name = transfer.emrex2.client_name
    return gw.page(request, "preview.html", {
        "document": document, "groups": groups, "summary": summarize(document),
        "receiver_name": name, "host": transfer.receiver_host,
        "outside_eea": maybe_outside_eu_eea(transfer.receiver_host, entry.country_code if entry else None),
        "error_key": error_key, "report_titles": [pick_title(r.issuer.titles, lang) for r in document.reports],
    }, transfer=transfer, status=status)


@router.get("/preview", name="preview_page")
async def show_preview(request: Request, gw: GatewayDep) -> Response:
    loaded = await load(gw, request, {Stage.PREVIEWED})
    if not isinstance(loaded, Loaded):
        return loaded
    return await render_preview(gw, request, loaded.transfer)


@router.get("/preview.xml", name="preview_xml")
async def show_preview_xml(request: Request, gw: GatewayDep) -> Response:
    loaded = await load(gw, request, {Stage.PREVIEWED})
    if not isinstance(loaded, Loaded):
        return loaded
    assert loaded.transfer.prepared_xml is not None
    return Response(loaded.transfer.prepared_xml.encode("utf-8"), media_type="application/xml; charset=utf-8",
                    headers={"content-security-policy": "default-src 'none'; frame-ancestors 'none'; sandbox"})


@router.post("/send", name="send")
async def send_results(request: Request, gw: GatewayDep) -> Response:
    loaded = await load(gw, request, {Stage.PREVIEWED})
    if not isinstance(loaded, Loaded):
        return loaded
    transfer = loaded.transfer
    form = await checked_form(gw, request, transfer)
    if isinstance(form, Response):
        return form
    if form.get("consent") != "yes":
        return await render_preview(gw, request, transfer, status=400, error_key="consent.required")
    # Claim the session first: a double click or a second replica cannot send twice.
    if not await gw.store.delete(loaded.token):
        return gw.error_page(request, "error.no_session")
    assert transfer.prepared_xml is not None
    document = transfer.prepared_xml.encode("utf-8")
    try:
        signed = await gw.signer.sign(document)
    except ServiceUnavailable:
        return await gw.error_handoff(request, transfer, None, "signer_unavailable",
                                      "The results could not be signed right now; try again later.")
    except ServiceError as exc:
        return await gw.error_handoff(request, transfer, None, "signer_rejected",
                                      f"The results could not be signed ({exc.code or exc.status}).")
    try:
        try:
            check_signed(signed, document, await gw.active_certificates())
        except SignedDocumentError:  # perhaps a key rotation since the certificates were cached
            check_signed(signed, document, await gw.active_certificates(refresh=True))
    except SignedDocumentError as exc:
        return await gw.error_handoff(request, transfer, None, f"signed_{exc.code}",
                                      "The results could not be signed correctly; try again later.")
    except ServiceError:
        return await gw.error_handoff(request, transfer, None, "signer_certificates_unavailable",
                                      "The results could not be signed right now; try again later.")
    summary = summarize(from_xml(document))
    return await gw.handoff(request, transfer, Outcome.OK, elmo_wire=transport.encode(signed), summary=summary,
                            signed_sha256=sha256_hex(signed))
