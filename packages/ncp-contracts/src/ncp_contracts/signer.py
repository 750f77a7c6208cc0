"""Contract of the signer: sign ELMO XML; detached JWS; list the published certificates and keys;
this node's EMREG entry."""

import httpx

from ._http import send

# The models this client speaks, re-exported for its callers (the rest: ncp_contracts.signer_models).
from .signer_models import (
    CertificateList as CertificateList,
    DetachedSignature as DetachedSignature,
    ElmoVersion as ElmoVersion,
    EmregEntry as EmregEntry,
    Jwks as Jwks,
)


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
