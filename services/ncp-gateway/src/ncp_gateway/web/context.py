"""The gateway's wiring as one object (built in the lifespan): the transfer service, clients, store, templates,
and the hand-off.

`handoff` is the single exit to the client: it deletes the session, writes the audit record and renders the
auto-submitting form. `answer` is the one translation point from a transfer error to what the client and the
student receive (through the table in `domain/answers.py`).
"""

import datetime as dt
import hashlib
import logging
import secrets
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from cryptography import x509
from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates

from emrex_elmo import Elmo, format_decimal
from ncp_contracts.registry import RegistryClient
from ncp_contracts.signer import SignerClient
from ncp_contracts.sis import SisClient
from ncp_gateway.adapters.oidc import OidcClient
from ncp_gateway.adapters.store import SessionStore
from ncp_gateway.adapters.tables import AuditRow
from ncp_gateway.adapters.transcript_pdf import TranscriptRenderer
from ncp_gateway.adapters.upstreams import ReceiverEntries
from ncp_gateway.domain.answers import HandOff, answer_for
from ncp_gateway.domain.clock import Clock
from ncp_gateway.domain.errors import TransferError
from ncp_gateway.domain.flow import Ending, TransferService
from ncp_gateway.domain.outgoing import Summary
from ncp_gateway.domain.return_codes import Outcome, return_code
from ncp_gateway.domain.session_time import can_extend
from ncp_gateway.domain.signed_check import check_signed_pdf
from ncp_gateway.domain.transfer import Kind, Transfer
from ncp_gateway.messages import CATALOG, LANGUAGE_NAMES, LANGUAGES, negotiate, translator
from ncp_gateway.settings import Settings
from ncp_gateway.telemetry import record_transfer

from .cookies import SessionCookie
from .security import handoff_csp

log = logging.getLogger("ncp_gateway.flow")
TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
LANG_COOKIE = "ncp_lang"


@dataclass
class Gateway:
    settings: Settings
    store: SessionStore
    oidc: OidcClient
    signer: SignerClient
    registry: RegistryClient
    receivers: ReceiverEntries
    sis: SisClient
    transcript: TranscriptRenderer
    cookie: SessionCookie
    pseudonym_key: bytes
    templates: Jinja2Templates
    return_prefix_by_origin: dict[str, str]
    flow: TransferService
    clock: Clock
    entries: int = 0  # entries served by this process, for the occasional purge of old records

    async def active_certificates(self, *, refresh: bool = False) -> list[x509.Certificate]:
        """The signer's active certificates, cached for a few minutes (refreshed once when a check fails)."""
        return await self.flow.signer.active_certificates(refresh=refresh)

    async def signed_transcript(self, elmo: Elmo) -> bytes:
        """The "EMREX transcript" PDF of `elmo`, signed as PAdES by the signer (the key never leaves it)."""
        pdf = self.transcript.render(elmo)
        signed = await self.signer.sign_pdf(pdf)
        check_signed_pdf(signed, pdf)
        return signed

    # ---- language and pages -------------------------------------------------------------

    def language(self, request: Request) -> str:
        chosen = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE)
        if chosen in LANGUAGES:
            return chosen
        return negotiate(request.headers.get("accept-language"), self.settings.default_language)

    def page(
        self, request: Request, template: str, context: dict[str, Any], *, status: int = 200,
        transfer: Transfer | None = None, headers: dict[str, str] | None = None,
    ) -> HTMLResponse:
        lang = self.language(request)
        now = self.clock.now()
        left = transfer.seconds_left(now) if transfer is not None else None
        base = {
            "lang": lang, "_": translator(lang), "languages": LANGUAGE_NAMES, "transfer": transfer,
            "seconds_left": left, "minutes_left": None if left is None else left // 60,
            "csrf": transfer.csrf if transfer is not None else "", "path": request.url.path,
            "tid": transfer.tid if transfer is not None else "",
            "fmt_decimal": _fmt_decimal, "known_keys": CATALOG,
            "warn_seconds": self.settings.session_warning_seconds, "extendable": transfer is not None and can_extend(
                transfer, dt.timedelta(seconds=self.settings.session_max_lifetime_seconds)),
            # The language links must lead to a page that answers GET.
            "lang_path": {"/send": "/preview", "/cancel": "/select"}.get(request.url.path, request.url.path),
        }
        response = self.templates.TemplateResponse(
            request, template, {**base, **context}, status_code=status, headers=headers
        )
        if request.query_params.get("lang") in LANGUAGES:
            response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax", httponly=True,
                                secure=self.settings.cookie_secure)
        response.headers["content-language"] = lang
        return response

    def error_page(self, request: Request, message_key: str, *, status: int = 400, transfer: Transfer | None = None,
                   headers: dict[str, str] | None = None, error_id: str | None = None,
                   **fields: object) -> HTMLResponse:
        """An error page; with the transfer known it keeps the way back (Cancel) and a link to go on."""
        error_id = error_id or secrets.token_hex(6)
        log.info("error page", extra={"error_code": message_key, "error_id": error_id, "status": status})
        return self.page(request, "error.html", {"message_key": message_key, "fields": fields,
                                                 "error_id": error_id}, status=status, transfer=transfer,
                         headers=headers)

    # ---- the hand-off -------------------------------------------------------------------

    async def handoff(
        self, request: Request, transfer: Transfer, outcome: Outcome, *, message_key: str | None = None,
        message: str = "", token: str | None = None, elmo_wire: str = "", summary: Summary | None = None,
        signed_sha256: str | None = None, error_id: str | None = None, reason: str = "",
    ) -> Response:
        """The EMREX answer. `message_key` names a catalogue text (in the student's language); `message` is a
        fixed text of ours. Nothing a request carried ends up in either."""
        if transfer.kind is Kind.DOWNLOAD:  # no client to answer: the student reads the outcome here
            return await self.end_download(request, transfer, message_key=message_key, message=message, token=token,
                                           error_id=error_id)
        code = return_code(outcome, transfer.receiver_origin, self.settings.return_code_prefix,
                           self.return_prefix_by_origin)
        protocol = "emrex2" if transfer.emrex2 is not None else "emrex1"
        row = AuditRow(
            created_at=self.clock.now(), receiver_origin=transfer.receiver_origin, return_code=code,
            institutions=" ".join(summary.institutions) if summary else "",
            learning_opportunities=summary.learning_opportunities if summary else 0,
            credits=format_decimal(summary.credits) if summary else "0",
            elmo_sha256=signed_sha256, login_pseudonym=transfer.pseudonym, protocol=protocol,
        )
        if error_id is None:
            if token is not None:
                await self.store.delete(token)
            await self.store.add_audit(row)
        else:
            # The unexpected-error path: the database may be what failed; the client still gets its answer.
            try:
                if token is not None:
                    await self.store.delete(token)
                await self.store.add_audit(row)
            except Exception as exc:  # logged with the error id; the hand-off goes out regardless
                log.error("hand-off not recorded",
                          extra={"error_id": error_id, "error_type": type(exc).__name__})
        # The chain position and hash in the log as well: a witness outside the database for `emrex audit verify`.
        log.info("hand-off", extra={"return_code": code, "receiver": transfer.receiver_origin,
                                    "audit_seq": row.seq or None, "audit_hash": row.row_hash or None})
        record_transfer(request, code, entered_at=transfer.created_at, protocol=protocol, now=self.clock.now())
        # ---- the protocol switch: an EMREX 2.0 transfer leaves by redirect with a code (web/oauth2.py) ----
        if transfer.emrex2 is not None:
            from .oauth2 import leave  # here, not at the top: oauth2 builds on this module

            return await leave(self, request, transfer, outcome)
        nonce = secrets.token_urlsafe(16)
        translate = translator(self.language(request))
        fields = {"error_id": error_id or "", "reason": reason}
        text = translate(message_key, **fields) if message_key else message
        response = self.page(
            request, "handoff.html",
            {"action": transfer.return_url, "fields": {
                "sessionId": transfer.session_id, "returnCode": code,
                "returnMessage": text, "elmo": elmo_wire if outcome is Outcome.OK else "",
            }, "script_nonce": nonce, "host": transfer.receiver_host, "error_id": error_id},
            headers={"content-security-policy": handoff_csp(transfer.receiver_origin, nonce)},
        )
        self.cookie.clear(response, transfer.tid)
        return response

    async def end(self, request: Request, transfer: Transfer, token: str, ending: Ending) -> Response:
        """A transfer's normal end, as the transfer service decided it."""
        return await self.handoff(request, transfer, ending.outcome, message_key=ending.message_key,
                                  token=None if ending.claimed else token, elmo_wire=ending.elmo_wire,
                                  summary=ending.summary, signed_sha256=ending.signed_sha256)

    async def answer(self, request: Request, error: TransferError, *, transfer: Transfer | None,
                     token: str | None, error_id: str | None = None) -> Response:
        """The one translation point: the table's hand-off (the transfer known) or error page for `error`."""
        answer, message_key = answer_for(error)
        if isinstance(answer, HandOff) and transfer is not None:
            # The reason is fixed by our code; the cause names only an exception type (a transport's, say).
            cause = error.__cause__ or error.__context__
            log.warning("transfer ended", extra={"error_code": error.log_code, "reason": error.reason,
                                                 "cause": type(cause).__name__ if cause else None,
                                                 "error_id": error_id})
            return await self.handoff(request, transfer, answer.outcome, message_key=message_key, token=token,
                                      error_id=error_id, reason=error.reason)
        if isinstance(answer, HandOff):  # an ending without a transfer to end: nothing to hand off to
            return self.error_page(request, "error.unexpected", status=500, error_id=error_id)
        return self.error_page(request, message_key, status=answer.status, error_id=error_id,
                               transfer=transfer if answer.keeps_transfer else None)

    async def end_download(self, request: Request, transfer: Transfer, *, message_key: str | None, message: str,
                           token: str | None, error_id: str | None) -> HTMLResponse:
        """The end of a visit to /my-results (logged out, expired, nothing found, a failure): said on a page."""
        if token is not None:
            try:
                await self.store.delete(token)
            except Exception as exc:  # the record expires anyway; the page still goes out
                log.error("download session not deleted", extra={"error_id": error_id,
                                                                   "error_type": type(exc).__name__})
        fields = {"error_id": error_id} if error_id else {}
        text = translator(self.language(request))(message_key, **fields) if message_key else message
        response = self.page(request, "my_results_end.html", {"text": text, "error_id": error_id})
        self.cookie.clear(response, transfer.tid)
        return response


def _fmt_decimal(value: Decimal | None) -> str:
    return "" if value is None else format_decimal(value)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def redirect(url: str, status: int = 303) -> Response:
    return Response(status_code=status, headers={"location": url})
