"""The flow's ports over the internal services' typed clients: transport failures become the domain's errors."""

import datetime as dt
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from cryptography import x509
from pydantic import ValidationError

from emrex_elmo import Learner, load_certificates
from ncp_contracts import ServiceError, ServiceUnavailable
from ncp_contracts.registry import EmpEntry, RegistryClient
from ncp_contracts.signer import SignerClient
from ncp_contracts.sis import LearnerIdentity, QueryOptions, ResultsQuery, SisClient
from ncp_gateway.domain.errors import ResultsRefused, ResultsUnavailable, SigningFailed
from ncp_gateway.domain.flow import FetchedResults
from ncp_gateway.domain.recent import Recent
from ncp_gateway.settings import Settings

log = logging.getLogger("ncp_gateway.upstreams")
_CERTIFICATES_TTL = 300.0


def identity_from_claims(settings: Settings, claims: Mapping[str, Any]) -> LearnerIdentity:
    def claim(name: str | None) -> str | None:
        value = claims.get(name) if name else None
        return str(value) if isinstance(value, str | int) and str(value).strip() else None

    learner_id = next((v for n in settings.oidc_subject_claims if (v := claim(n))), None) or str(claims["sub"])
    bday: dt.date | None = None
    if (raw := claim(settings.oidc_birthdate_claim)) is not None:
        try:
            bday = dt.date.fromisoformat(raw)
        except ValueError:
            bday = None
    return LearnerIdentity(
        learner_id=learner_id,
        subject=learner_id,
        national_id=claim(settings.oidc_national_id_claim),
        esi=claim(settings.oidc_esi_claim),
        given_names=claim(settings.oidc_given_name_claim),
        family_name=claim(settings.oidc_family_name_claim),
        bday=bday,
    )


class SisResults:
    def __init__(self, sis: SisClient, settings: Settings) -> None:
        self.sis = sis
        self.settings = settings

    async def fetch(self, claims: Mapping[str, Any], *, include_not_passed: bool) -> FetchedResults:
        identity = identity_from_claims(self.settings, claims)
        try:
            answer = await self.sis.query(
                ResultsQuery(
                    tenant=self.settings.sis_tenant,
                    identity=identity,
                    options=QueryOptions(include_not_passed=include_not_passed),
                )
            )
        except ServiceUnavailable:
            raise ResultsUnavailable("sis_unavailable") from None
        except ServiceError as exc:
            raise ResultsRefused("sis_rejected", str(exc.code or exc.status)) from None
        learner = answer.learner or Learner(
            given_names=identity.given_names or "", family_name=identity.family_name or "", bday=identity.bday
        )
        return FetchedResults(
            learner=learner,
            reports=answer.reports,
            no_results=answer.status == "no_results",
            unreachable_institutions=[w.institution for w in answer.warnings],
        )


class CheckedSigner:
    """Signs, and lists the signer's active certificates (cached a few minutes; re-read on request)."""

    def __init__(self, signer: SignerClient) -> None:
        self.client = signer
        self._active: tuple[float, list[x509.Certificate]] | None = None

    async def sign(self, document: bytes) -> bytes:
        return await self._signed(self.client.sign, document)

    async def sign_pdf(self, pdf: bytes) -> bytes:
        return await self._signed(self.client.sign_pdf, pdf)

    @staticmethod
    async def _signed(call: Callable[[bytes], Awaitable[bytes]], body: bytes) -> bytes:
        """One signer call, its transport failures as the domain's `SigningFailed`."""
        try:
            return await call(body)
        except ServiceUnavailable:
            raise SigningFailed("signer_unavailable") from None
        except ServiceError as exc:
            raise SigningFailed("signer_rejected", str(exc.code or exc.status)) from None

    async def active_certificates(self, *, refresh: bool = False) -> list[x509.Certificate]:
        cached = self._active
        if refresh or cached is None or time.monotonic() - cached[0] > _CERTIFICATES_TTL:
            try:
                listing = await self.client.certificates()
            except ServiceError:
                raise SigningFailed("signer_certificates_unavailable") from None
            certificates = [
                c for info in listing.certificates if info.active for c in load_certificates(info.pem.encode())[:1]
            ]
            self._active = cached = (time.monotonic(), certificates)
        return cached[1]


class ReceiverEntries:
    """The registry's entry for a receiver, if it answers sensibly: it only adds a name to the consent page, so
    anything else (down, 5xx, a body that breaks the contract) leaves consent naming the host alone.

    Remembered for `ttl` seconds per return URL: the consent page of every flow asks, a node
    serves a handful of client systems, and EMREG changes a few times a day (the registry-cache itself refreshes
    every few minutes). The registry's answers are kept, "no such entry" included; a failed lookup is not, so the
    next flow asks again. At most `kept` URLs, the least recently asked dropped first."""

    def __init__(self, registry: RegistryClient, *, ttl: float = 60.0, kept: int = 256,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.registry = registry
        self._ttl, self._clock = ttl, clock
        self._entries: Recent[str, tuple[float, EmpEntry | None]] = Recent(kept)

    async def entry(self, return_url: str) -> EmpEntry | None:
        now = self._clock()
        found = self._entries.get(return_url)
        if found is not None and now - found[0] < self._ttl:
            return found[1]
        try:
            entry = await self.registry.lookup(return_url)
        except (ServiceError, ValidationError, ValueError) as exc:
            log.warning("receiver lookup failed", extra={"error_type": type(exc).__name__})
            return found[1] if found is not None else None  # a stale name beats none while the registry is down
        self._entries.put(return_url, (now, entry))
        return entry
