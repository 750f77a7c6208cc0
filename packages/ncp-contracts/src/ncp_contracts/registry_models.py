"""The registry-cache's request and answer models (no HTTP client here: domains import these without httpx)."""

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel

from .text import RequestModel


class EmpEntry(BaseModel):
    url: str
    acronym: str
    country_code: str
    institutions: list[str]
    certificates: list[str]  # PEM
    # EMREX 2.0, when the node's EMREG entry publishes it (emrex2.md, "Registry entries").
    authorization_url: str | None = None
    token_url: str | None = None
    resource_url: str | None = None
    supported_data_formats: list[dict[str, Any]] | None = None
    jwks: dict[str, Any] | None = None
    """The node's public signing keys; the `kid` of an X-Signature names one of them."""


class EmpList(BaseModel):
    emps: list[EmpEntry]
    version: str | None = None
    stale: bool = False
    age_seconds: float | None = None


class VerifyRequest(RequestModel):
    """SHA-1 acceptance is the registry-cache's configuration (NCP_REGISTRY_ALLOW_SHA1), not a field here:
    an `allow_sha1` sent by an older client is ignored, so it can never lower the server's bar."""

    node_url: str
    xml: str | None = None
    elmo: str | None = None  # the base64(gzip) wire value


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
    # emrex_elmo error code (signature_invalid, signature_profile, ...), or certificate_expired,
    # certificate_not_yet_valid, no_signing_certificate
    reason_code: str | None = None
    node_url: str
    node_acronym: str | None = None
    matched_certificate_sha256: str | None = None
    signature_method: str | None = None
    learner: LearnerSummary | None = None
    issuers: list[IssuerSummary] = []


class SourceStatus(BaseModel):
    kind: Literal["emreg", "ewp", "clients"]
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


class RegisteredClient(BaseModel):
    """`GET /v1/clients/{client_id}`: one registered EMREX 2.0 client (EMC), as the registry lists it."""

    client_id: str
    name: str | None = None
    redirect_uris: list[str]
    """Exact strings; an authorization request's redirect_uri must equal one of them."""
    jwks: dict[str, Any] | None = None
    """`{"keys": [JWK, ...]}`: public RSA (2048+) or EC P-256 keys, each with a kid. Or `jwks_uri`."""
    jwks_uri: str | None = None
    stale: bool = False
    """True when the client list is served from the last good copy (the source failed or is overdue)."""
    age_seconds: float | None = None
