"""Contract of the registry-cache: EMREG entries, certificates, and signature verification."""

from datetime import datetime
from typing import Literal

import httpx
from pydantic import BaseModel

from ._http import send
from .errors import RequestRejected
from .text import RequestModel


class EmpEntry(BaseModel):
    url: str
    acronym: str
    country_code: str
    institutions: list[str]
    certificates: list[str]  # PEM


class EmpList(BaseModel):
    emps: list[EmpEntry]
    version: str | None = None
    stale: bool = False
    age_seconds: float | None = None


class VerifyRequest(RequestModel):
    node_url: str
    xml: str | None = None
    elmo: str | None = None  # the base64(gzip) wire value
    allow_sha1: bool = False


class LearnerSummary(BaseModel):
    given_names: str
    family_name: str
    bday: str | None = None


class IssuerSummary(BaseModel):
    title: str
    schac: str | None = None
    country: str | None = None
    learning_opportunities: int


class VerifyResult(BaseModel):
    valid: bool
    reason: str | None = None
    reason_code: str | None = None  # emrex_elmo error code: signature_invalid, signature_profile, ...
    node_url: str
    node_acronym: str | None = None
    matched_certificate_sha256: str | None = None
    signature_method: str | None = None
    learner: LearnerSummary | None = None
    issuers: list[IssuerSummary] = []


class SourceStatus(BaseModel):
    kind: Literal["emreg", "ewp"]
    source: str | None
    version: str | None  # sha256 of the current document
    format: str | None = None  # emps | ncps | ewp
    fetched_at: datetime | None = None  # when the current version was first fetched
    last_checked_at: datetime | None = None
    last_success_at: datetime | None = None  # last time the source confirmed (or delivered) the copy
    age_seconds: float | None = None
    stale: bool = True
    last_error: str | None = None
    last_error_at: datetime | None = None
    failures: int = 0
    emps: int = 0


class RegistryStatus(BaseModel):
    version: str | None
    fetched_at: datetime | None
    age_seconds: float | None
    stale: bool
    last_error: str | None
    emps: int
    source: str | None = None
    state: Literal["empty", "fresh", "stale"] = "empty"
    countries: int = 0
    versions_stored: int = 0
    sources: list[SourceStatus] = []


class NodeCertificate(BaseModel):
    pem: str
    sha256: str  # of the DER certificate
    subject: str
    issuer: str
    not_before: datetime
    not_after: datetime
    valid_now: bool


class NodeCertificates(BaseModel):
    url: str
    acronym: str
    certificates: list[NodeCertificate]


class CertificateList(BaseModel):
    nodes: list[NodeCertificates]
    version: str | None = None
    stale: bool = False
    age_seconds: float | None = None


class RefreshOutcome(BaseModel):
    kind: str
    outcome: Literal["accepted", "not_modified", "unchanged", "failed", "rejected", "skipped"]
    detail: str | None = None


class RefreshResult(BaseModel):
    outcomes: list[RefreshOutcome]
    status: RegistryStatus


class RegistryClient:
    service = "registry-cache"

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def lookup(self, url: str) -> EmpEntry | None:
        """The node whose entry URL (or origin) matches `url`, if any."""
        request = self.http.build_request("GET", "/v1/emps/lookup", params={"url": url})
        try:
            response = await send(self.http, self.service, request)
        except RequestRejected as exc:
            if exc.status == 404:
                return None
            raise
        return EmpEntry.model_validate_json(response.content)

    async def emps(self, **filters: str) -> EmpList:
        request = self.http.build_request("GET", "/v1/emps", params=filters)
        return EmpList.model_validate_json((await send(self.http, self.service, request)).content)

    async def verify(self, body: VerifyRequest) -> VerifyResult:
        request = self.http.build_request(
            "POST", "/v1/verify", json=body.model_dump(exclude_none=True)
        )
        return VerifyResult.model_validate_json((await send(self.http, self.service, request)).content)

    async def certificates(self, *, url: str | None = None, acronym: str | None = None) -> CertificateList:
        params = {k: v for k, v in (("url", url), ("acronym", acronym)) if v is not None}
        request = self.http.build_request("GET", "/v1/certificates", params=params)
        return CertificateList.model_validate_json((await send(self.http, self.service, request)).content)

    async def refresh(self) -> RefreshResult:
        """Admin only: fetch the sources now (send an admin BearerAuth on the client)."""
        request = self.http.build_request("POST", "/v1/refresh")
        return RefreshResult.model_validate_json((await send(self.http, self.service, request)).content)

    async def status(self) -> RegistryStatus:
        request = self.http.build_request("GET", "/v1/status")
        return RegistryStatus.model_validate_json((await send(self.http, self.service, request)).content)
