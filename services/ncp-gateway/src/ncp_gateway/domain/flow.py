"""The transfer as a service: each step's decisions (what is checked, what is fetched, how the transfer ends).

Pure: it talks to the identity provider, the results source, the signer and the transfer records through the
small protocols below (adapters implement them) and raises the typed errors of `errors.py`. It never builds an
HTTP answer; the web layer renders its results, and `answers.ANSWERS` says what each error gives the client.
"""

import hashlib
import hmac
import secrets
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NoReturn, Protocol

from cryptography import x509

from emrex_elmo import Elmo, ElmoError, Learner, Report, all_keys, parse_xml, to_xml, transport, validate

from .clock import Clock
from .errors import (
    AlreadyEnded,
    Cancelled,
    DocumentInvalid,
    FormRejected,
    LoginFailed,
    NoResults,
    ResultsUnavailable,
    SessionExpired,
    SigningFailed,
    WrongStep,
)
from .outgoing import Summary, choose, has_results, pseudonym, restrict_to_institution, summarize, with_transcript
from .prepared import ParsedDocuments
from .provider_errors import provider_error
from .return_codes import Outcome
from .signed_check import SignedDocumentError, canonical_sha256, check_signed, check_signed_pdf
from .transfer import OidcRequest, Stage, Transfer

# ---- the ports (adapters implement them) ----------------------------------------------------------


class IdentityProvider(Protocol):
    issuer: str

    def new_request_values(self) -> tuple[str, str, str]: ...

    async def authorization_url(
        self, *, redirect_uri: str, state: str, nonce: str, code_verifier: str, ui_locales: str | None = None
    ) -> str: ...

    async def exchange(self, *, code: str, redirect_uri: str, code_verifier: str, nonce: str) -> dict[str, Any]: ...


@dataclass(frozen=True)
class FetchedResults:
    learner: Learner
    reports: list[Report]
    no_results: bool = False
    unreachable_institutions: list[str] = field(default_factory=list)


class ResultsSource(Protocol):
    """Raises ResultsUnavailable or ResultsRefused."""

    async def fetch(self, claims: Mapping[str, Any], *, include_not_passed: bool) -> FetchedResults: ...


class DocumentSigner(Protocol):
    """Raises SigningFailed when the signer cannot be reached or refuses."""

    async def sign(self, document: bytes) -> bytes: ...

    async def sign_pdf(self, pdf: bytes) -> bytes: ...

    async def active_certificates(self, *, refresh: bool = False) -> list[x509.Certificate]: ...


class TransferRecords(Protocol):
    async def put(self, token: str, transfer: Transfer) -> None: ...

    async def rotate(self, old_token: str, new_token: str, transfer: Transfer) -> None: ...

    async def delete(self, token: str) -> bool: ...


# ---- what the steps return --------------------------------------------------------------------


@dataclass(frozen=True)
class Ending:
    """How a transfer ends normally (errors end it through the table instead)."""

    outcome: Outcome
    message_key: str | None = None
    signed: bytes | None = None
    summary: Summary | None = None
    claimed: bool = False  # the record is already deleted (send claims it before signing)

    @property
    def elmo_wire(self) -> str:
        return transport.encode(self.signed) if self.signed is not None else ""

    @property
    def signed_sha256(self) -> str | None:
        return hashlib.sha256(self.signed).hexdigest() if self.signed is not None else None


@dataclass(frozen=True)
class CallbackAnswer:
    """The provider's answer at the redirect URI (only the parameters the flow reads)."""

    iss: str | None
    error: str | None
    has_error: bool
    code: str | None


@dataclass
class TransferService:
    idp: IdentityProvider
    results: ResultsSource
    signer: DocumentSigner
    records: TransferRecords
    clock: Clock
    pseudonym_key: bytes
    render_transcript: Callable[[Elmo], bytes]
    new_token: Callable[[], str]
    # The prepared documents as parsed for the preview, read again by the signed check and the audit summary.
    prepared: ParsedDocuments = field(default_factory=ParsedDocuments)

    def check(self, transfer: Transfer, stages: Collection[Stage]) -> None:
        # emrex.md §7: on expiry, tell the client (NCP_ERROR) instead of stranding the student.
        if transfer.expired(self.clock.now()):
            raise SessionExpired
        if transfer.stage not in stages:
            raise WrongStep

    @staticmethod
    def check_csrf(transfer: Transfer, sent: object) -> None:
        if not isinstance(sent, str) or not hmac.compare_digest(sent.encode(), transfer.csrf.encode()):
            raise FormRejected

    # ---- login -----------------------------------------------------------------------------

    async def begin_login(self, token: str, transfer: Transfer, *, redirect_uri: str, language: str) -> str:
        """The provider's authorization URL (PKCE, state, nonce), remembered in the transfer."""
        state, nonce, verifier = self.idp.new_request_values()
        url = await self.idp.authorization_url(
            redirect_uri=redirect_uri, state=state, nonce=nonce, code_verifier=verifier, ui_locales=language
        )
        transfer.oidc = OidcRequest(state=state, nonce=nonce, code_verifier=verifier, redirect_uri=redirect_uri)
        transfer.stage = Stage.LOGIN
        await self.records.put(token, transfer)
        return url

    @staticmethod
    def login_of(candidates: Sequence[tuple[str, Transfer]], state: str | None) -> tuple[str, Transfer] | None:
        """The transfer whose login `state` matches: only that proves an answer belongs to this browser."""
        if state is None:
            return None
        return next(
            (
                (token, t)
                for token, t in candidates
                if t.oidc is not None and secrets.compare_digest(state.encode(), t.oidc.state.encode())
            ),
            None,
        )

    async def finish_login(self, token: str, transfer: Transfer, answer: CallbackAnswer) -> str:
        """Checks the answer, exchanges the code, fetches the results; returns the transfer's new token."""
        self.check(transfer, {Stage.LOGIN})
        expected = transfer.oidc
        if expected is None:
            raise WrongStep
        if answer.iss is not None and answer.iss.rstrip("/") != self.idp.issuer:
            # RFC 9207: a provider that names itself must be the one we sent the student to (mix-up attacks).
            raise LoginFailed("issuer_mismatch", "iss")
        if answer.has_error:
            raise provider_error(answer.error)
        if not answer.code:
            raise LoginFailed("code_missing")
        claims = await self.idp.exchange(
            code=answer.code,
            redirect_uri=expected.redirect_uri,
            code_verifier=expected.code_verifier,
            nonce=expected.nonce,
        )
        transfer.pseudonym = pseudonym(self.pseudonym_key, self.idp.issuer, str(claims["sub"]))
        transfer.oidc = None
        fetched = await self.results.fetch(claims, include_not_passed=transfer.allow_not_passed_courses)
        results = restrict_to_institution(
            Elmo(generated_date=self.clock.now(), learner=fetched.learner, reports=fetched.reports), transfer.hei_id
        )
        if fetched.no_results or not has_results(results):
            if fetched.unreachable_institutions:
                raise ResultsUnavailable("sis_partial")  # nothing fetched because institutions did not answer
            raise NoResults
        transfer.results = results
        transfer.warnings = sorted(set(fetched.unreachable_institutions))
        transfer.stage = Stage.SELECTING
        transfer.csrf = secrets.token_urlsafe(24)
        if not transfer.allow_to_pick_courses:
            transfer.selected = all_keys(results)
        # Session fixation: the token used before login stops working now.
        new_token = self.new_token()
        await self.records.rotate(token, new_token, transfer)
        return new_token

    # ---- selection and preview -------------------------------------------------------------

    def chosen(self, transfer: Transfer) -> Elmo:
        assert transfer.results is not None
        return choose(
            transfer.results,
            transfer.selected,
            include_not_passed=transfer.allow_not_passed_courses,
            now=self.clock.now(),
        )

    async def select(
        self, token: str, transfer: Transfer, *, shown: Collection[str], picked: Collection[str], prepare: bool
    ) -> bool:
        """Records the choice; with `prepare`, also freezes the document to be signed. False: nothing chosen."""
        assert transfer.results is not None
        if transfer.allow_to_pick_courses:
            shown_here = set(shown) & set(all_keys(transfer.results))
            # Entries hidden by a filter keep their earlier choice.
            transfer.selected = sorted((set(transfer.selected) - shown_here) | (set(picked) & shown_here))
        transfer.stage = Stage.SELECTING
        transfer.prepared_xml = transfer.prepared_c14n_sha256 = None
        chosen = self.chosen(transfer) if prepare else None
        if chosen is not None and chosen.reports:
            try:
                # The transcript is signed as PAdES by the signer (the key never leaves it) before it is attached.
                pdf = self.render_transcript(chosen)
                signed_pdf = await self.signer.sign_pdf(pdf)
                try:
                    check_signed_pdf(signed_pdf, pdf)
                except SignedDocumentError as exc:
                    raise SigningFailed(f"signed_{exc.code}") from None
                document = to_xml(with_transcript(chosen, signed_pdf), version="1.7.0")
                # emrex.md Part A: every emitted document is validated against the 1.7.0 XSD before signing.
                root = parse_xml(document)
                validate(root, "1.7.0")
            except ElmoError as exc:
                raise DocumentInvalid(exc.code) from None
            transfer.prepared_xml = document.decode("utf-8")
            # Parsed here anyway: the check of the signed answer compares with this instead of parsing it again.
            transfer.prepared_c14n_sha256 = canonical_sha256(root)
            transfer.stage = Stage.PREVIEWED
        await self.records.put(token, transfer)
        return chosen is None or bool(chosen.reports)

    # ---- the ends --------------------------------------------------------------------------

    @staticmethod
    def cancel() -> NoReturn:
        raise Cancelled

    async def send(self, token: str, transfer: Transfer) -> Ending:
        """Claims the transfer, signs and checks the document: the NCP_OK ending."""
        # Claim first: a double click or a second replica cannot send twice.
        if not await self.records.delete(token):
            raise AlreadyEnded
        assert transfer.prepared_xml is not None
        document = transfer.prepared_xml.encode("utf-8")
        signed = await self.signer.sign(document)
        try:
            prepared = self.prepared.parse(document)  # usually parsed for the preview already
        finally:
            self.prepared.forget(document)  # sent, or never will be
        try:
            try:
                check_signed(signed, document, await self.signer.active_certificates(), prepared,
                             transfer.prepared_c14n_sha256)
            except SignedDocumentError:  # perhaps a key rotation since the certificates were cached
                check_signed(signed, document, await self.signer.active_certificates(refresh=True), prepared,
                             transfer.prepared_c14n_sha256)
        except SignedDocumentError as exc:
            raise SigningFailed(f"signed_{exc.code}") from None
        return Ending(Outcome.OK, signed=signed, summary=summarize(prepared), claimed=True)
