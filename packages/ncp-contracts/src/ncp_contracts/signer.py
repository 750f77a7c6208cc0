"""Contract of the signer: sign ELMO XML; detached JWS; list the published certificates and keys;
this node's EMREG entry."""

from datetime import datetime
from typing import Any, Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field

from ._http import send


class CertificateInfo(BaseModel):
    key_id: str
    pem: str
    not_before: datetime
    not_after: datetime
    active: bool
    publish_until: datetime | None = None


class CertificateList(BaseModel):
    certificates: list[CertificateInfo]


ElmoVersion = Literal["1.7.0", "2.0.0"]


class DetachedSignature(BaseModel):
    """`POST /v1/jws`: a compact JWS over the request body with the payload left out (RFC 7515 App. F)."""

    signature: str
    """`header..signature`, ready for the X-Signature header."""
    alg: str
    """RS256 or ES256, for X-Signature-Algorithm."""
    kid: str
    """The RFC 7638 thumbprint of the key; names one key of `GET /v1/jwks`."""


class Jwks(BaseModel):
    """A JWK Set of public signing keys (RFC 7517); each key carries kid, use, alg and x5c."""

    keys: list[dict[str, Any]]


class SupportedDataFormat(BaseModel):
    """One EMREX 2.0 `data_format` this node serves, for the EMREG entry."""

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)

    name: str
    versions: list[str] = Field(default_factory=list)
    schema_url: str | None = Field(default=None, alias="schemaUrl")


class EmregEntry(BaseModel):
    """One `emps` item of the EMREG JSON, with its exact field names (camelCase on the wire)."""

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)

    url: str
    acronym: str
    country_code: str = Field(alias="countryCode")
    institutions: list[str]
    pub_key: str = Field(alias="pubKey")
    """The full PEM certificate, BEGIN/END lines included."""
    # EMREX 2.0 (present only when the node publishes its OAuth endpoints; EMREX 1 entries stay as they were).
    authorization_url: str | None = Field(default=None, alias="authorizationUrl")
    token_url: str | None = Field(default=None, alias="tokenUrl")
    resource_url: str | None = Field(default=None, alias="resourceUrl")
    supported_data_formats: list[SupportedDataFormat] | None = Field(default=None, alias="supportedDataFormats")
    jwks: Jwks | None = None


class SignerClient:
    """`POST /v1/sign` takes unsigned ELMO XML and answers the signed bytes, untouched."""

    service = "signer"

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def sign(self, xml: bytes, version: ElmoVersion | None = None) -> bytes:
        """`version` picks the XSD the document is checked against (the signer's default is 1.7.0)."""
        request = self.http.build_request(
            "POST", "/v1/sign", content=xml, headers={"Content-Type": "application/xml"},
            params={"version": version} if version is not None else None,
        )
        return (await send(self.http, self.service, request)).content

    async def sign_pdf(self, pdf: bytes) -> bytes:
        """A PAdES (B-B) signature with the active key, added to `pdf` as an incremental update."""
        request = self.http.build_request(
            "POST", "/v1/sign-pdf", content=pdf, headers={"Content-Type": "application/pdf"}
        )
        return (await send(self.http, self.service, request)).content

    async def sign_jws(self, payload: bytes) -> DetachedSignature:
        """A detached JWS over exactly these bytes (a /results body), made with the active key."""
        request = self.http.build_request(
            "POST", "/v1/jws", content=payload, headers={"Content-Type": "application/octet-stream"}
        )
        return DetachedSignature.model_validate_json((await send(self.http, self.service, request)).content)

    async def jwks(self) -> Jwks:
        request = self.http.build_request("GET", "/v1/jwks")
        return Jwks.model_validate_json((await send(self.http, self.service, request)).content)

    async def certificates(self) -> CertificateList:
        request = self.http.build_request("GET", "/v1/certificates")
        return CertificateList.model_validate_json((await send(self.http, self.service, request)).content)

    async def emreg_entry(self) -> EmregEntry:
        request = self.http.build_request("GET", "/v1/emreg-entry")
        return EmregEntry.model_validate_json((await send(self.http, self.service, request)).content)
