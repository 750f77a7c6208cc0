"""`/` and `/my-results`: a student who comes to the node directly (no client system) logs in with the same
login, sees their results and downloads the signed ELMO XML or the signed PDF transcript. Each download is an
audit record (protocol `download`), like a transfer.

A visit is a transfer of kind `download` (same record, cookie, expiry and login as a client's transfer); its
end (log out, expiry, no results, a failure) is a page here instead of a hand-off.
"""

import datetime as dt
import logging
import secrets

from fastapi import APIRouter, Request
from fastapi.responses import Response

from emrex_elmo import ElmoError, all_keys, format_decimal, to_xml, validate
from ncp_contracts import ServiceError
from ncp_gateway.adapters.tables import AuditRow
from ncp_gateway.deps import GatewayDep
from ncp_gateway.domain.outgoing import choose, summarize, with_transcript
from ncp_gateway.domain.results_view import Filters, build_groups, pick_title
from ncp_gateway.domain.return_codes import Outcome
from ncp_gateway.domain.signed_check import SignedDocumentError, check_signed
from ncp_gateway.domain.transfer import Kind, Stage, Transfer

from .context import Gateway, redirect, sha256_hex
from .loading import Loaded, browser_transfers, checked_form, load

router = APIRouter()
log = logging.getLogger("ncp_gateway.flow")
DOWNLOAD = "download"
_FILES = {"xml": ("emrex-results.xml", "application/xml"), "pdf": ("emrex-transcript.pdf", "application/pdf")}
# A downloaded file is never rendered by the browser as a page of ours.
_FILE_CSP = "default-src 'none'; frame-ancestors 'none'; sandbox"


@router.get("/", name="home")
async def home() -> Response:
    return redirect("/my-results")


@router.get("/my-results", name="my_results")
async def my_results(request: Request, gw: GatewayDep) -> Response:
    if request.query_params.get("t") is None:
        mine = [found for found in await browser_transfers(gw, request) if found.transfer.kind is Kind.DOWNLOAD
                and found.transfer.stage == Stage.SELECTING and not found.transfer.expired(gw.clock.now())]
        if not mine:
            return gw.page(request, "my_results_start.html", {})
        return redirect(f"/my-results?t={mine[0].transfer.tid}")
    loaded = await _load(gw, request)
    if isinstance(loaded, Response):
        return loaded
    return _results_page(gw, request, loaded.transfer)


@router.get("/my-results/login", name="my_results_login")
async def start_login(request: Request, gw: GatewayDep) -> Response:
    """A visit of its own (cookie, record, expiry), then the node's usual login."""
    now = gw.clock.now()
    if len(await browser_transfers(gw, request)) >= gw.settings.max_transfers_per_browser:
        return gw.error_page(request, "error.too_many_here", status=429,
                             count=gw.settings.max_transfers_per_browser)
    if await gw.store.count_live(now) >= gw.settings.max_live_transfers:
        return gw.error_page(request, "error.busy", status=503, headers={"retry-after": "60"})
    transfer = Transfer(
        tid=gw.cookie.new_tid(), kind=Kind.DOWNLOAD, session_id="", return_url="", receiver_origin="",
        receiver_host="", created_at=now, expires_at=now + dt.timedelta(seconds=gw.settings.session_ttl_seconds),
        csrf=secrets.token_urlsafe(24),
    )
    token = gw.cookie.new_token()
    await gw.store.put(token, transfer)
    response = redirect(f"/login?t={transfer.tid}")
    gw.cookie.set(response, transfer.tid, token)
    return response


@router.post("/my-results/download", name="my_results_download")
async def download(request: Request, gw: GatewayDep) -> Response:
    loaded = await _load(gw, request)
    if isinstance(loaded, Response):
        return loaded
    transfer = loaded.transfer
    form = await checked_form(gw, request, transfer)
    kind = form.get("format")
    if not isinstance(kind, str) or kind not in _FILES:
        return _results_page(gw, request, transfer, status=400, error_key="my_results.bad_format")
    assert transfer.results is not None
    chosen = choose(transfer.results, all_keys(transfer.results),
                    include_not_passed=transfer.allow_not_passed_courses, now=gw.clock.now())
    try:
        pdf = await gw.signed_transcript(chosen)
        body, sent_sha256 = pdf, None
        if kind == "xml":
            document = to_xml(with_transcript(chosen, pdf), version="1.7.0")
            validate(document, "1.7.0")
            body = await gw.signer.sign(document)
            try:
                check_signed(body, document, await gw.active_certificates())
            except SignedDocumentError:  # perhaps a key rotation since the certificates were cached
                check_signed(body, document, await gw.active_certificates(refresh=True))
            sent_sha256 = sha256_hex(body)
    except (ServiceError, SignedDocumentError, ElmoError) as exc:
        # The visit goes on: the student may try again or log out; the page and the log share the error id.
        error_id = secrets.token_hex(6)
        log.warning("download failed", extra={"error_code": getattr(exc, "code", None) or type(exc).__name__,
                                              "error_id": error_id})
        return _results_page(gw, request, transfer, status=503 if isinstance(exc, ServiceError) else 500,
                             error_key="my_results.failed", error_id=error_id)
    summary = summarize(chosen)
    row = await gw.store.add_audit(AuditRow(
        created_at=gw.clock.now(), protocol=DOWNLOAD, receiver_origin=f"{DOWNLOAD}:{kind}", return_code="NCP_OK",
        institutions=" ".join(summary.institutions), learning_opportunities=summary.learning_opportunities,
        credits=format_decimal(summary.credits), elmo_sha256=sent_sha256, login_pseudonym=transfer.pseudonym,
    ))
    log.info("download", extra={"format": kind, "audit_seq": row.seq, "audit_hash": row.row_hash})
    filename, media_type = _FILES[kind]
    return Response(body, media_type=media_type, headers={
        "content-disposition": f'attachment; filename="{filename}"', "cache-control": "no-store",
        "content-security-policy": _FILE_CSP,
    })


@router.post("/my-results/end", name="my_results_end")
async def end_visit(request: Request, gw: GatewayDep) -> Response:
    """Log out / cancel, at any step: the visit's record is deleted (results and all)."""
    loaded = await _load(gw, request, frozenset(Stage))
    if isinstance(loaded, Response):
        return loaded
    await checked_form(gw, request, loaded.transfer)
    return await gw.handoff(request, loaded.transfer, Outcome.CANCEL, message_key="my_results.ended",
                            token=loaded.token)


async def _load(gw: Gateway, request: Request, stages: frozenset[Stage] = frozenset({Stage.SELECTING})
                ) -> Loaded | Response:
    loaded = await load(gw, request, stages)
    if loaded.transfer.kind is not Kind.DOWNLOAD:
        # A client's transfer goes on at its own pages, never to a download.
        return gw.error_page(request, "error.wrong_step", status=409, transfer=loaded.transfer)
    return loaded


def _results_page(gw: Gateway, request: Request, transfer: Transfer, *, status: int = 200,
                  error_key: str | None = None, error_id: str | None = None) -> Response:
    assert transfer.results is not None
    lang = gw.language(request)
    results = transfer.results
    groups = build_groups(results, lang=lang, filters=Filters(), selected=(), include_not_passed=True)
    return gw.page(request, "my_results.html", {
        "document": results, "groups": groups, "summary": summarize(results), "error_key": error_key,
        "error_id": error_id, "report_titles": [pick_title(r.issuer.titles, lang) for r in results.reports],
    }, transfer=transfer, status=status)
