"""Contract of the signer: sign ELMO XML; list the published certificates; this node's EMREG entry."""

from datetime import datetime

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


class EmregEntry(BaseModel):
    """One `emps` item of the EMREG JSON, with its exact field names (camelCase on the wire)."""

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)

    url: str
    acronym: str
    country_code: str = Field(alias="countryCode")
    institutions: list[str]
    pub_key: str = Field(alias="pubKey")
    """The full PEM certificate, BEGIN/END lines included."""


class SignerClient:
    """`POST /v1/sign` takes unsigned ELMO XML and answers the signed bytes, untouched."""

    service = "signer"

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def sign(self, xml: bytes) -> bytes:
        request = self.http.build_request(
            "POST", "/v1/sign", content=xml, headers={"Content-Type": "application/xml"}
        )
        return (await send(self.http, self.service, request)).content

    async def certificates(self) -> CertificateList:
        request = self.http.build_request("GET", "/v1/certificates")
        return CertificateList.model_validate_json((await send(self.http, self.service, request)).content)

    async def emreg_entry(self) -> EmregEntry:
        request = self.http.build_request("GET", "/v1/emreg-entry")
        return EmregEntry.model_validate_json((await send(self.http, self.service, request)).content)
