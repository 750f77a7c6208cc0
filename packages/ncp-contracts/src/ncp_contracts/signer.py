"""Contract of the signer: sign ELMO XML; list the published certificates."""

from datetime import datetime

import httpx
from pydantic import BaseModel

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
