"""Contract of the registry-cache: EMREG entries, certificates, signature verification, and the
registered EMREX 2.0 clients."""

from urllib.parse import quote

import httpx

from ._http import send
from .errors import RequestRejected

# The models this client speaks, re-exported for its callers (the rest: ncp_contracts.registry_models).
from .registry_models import (
    CertificateList as CertificateList,
    EmpEntry as EmpEntry,
    EmpList as EmpList,
    RefreshResult as RefreshResult,
    RegisteredClient as RegisteredClient,
    RegistryStatus as RegistryStatus,
    VerifyRequest as VerifyRequest,
    VerifyResult as VerifyResult,
)


class RegistryClient:
    service = "registry-cache"

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def lookup(self, url: str) -> EmpEntry | None:
        """The node whose entry URL (or origin) matches `url`, if any."""
        found = await self._unless_404(self.http.build_request("GET", "/v1/emps/lookup", params={"url": url}))
        return None if found is None else EmpEntry.model_validate_json(found)

    async def client(self, client_id: str) -> RegisteredClient | None:
        """The registered EMREX 2.0 client, or None if no such client is registered (404)."""
        found = await self._unless_404(self.http.build_request("GET", f"/v1/clients/{quote(client_id, safe='')}"))
        return None if found is None else RegisteredClient.model_validate_json(found)

    async def _unless_404(self, request: httpx.Request) -> bytes | None:
        """The answer's body, or None when the registry knows no such entry (404)."""
        try:
            return (await send(self.http, self.service, request)).content
        except RequestRejected as exc:
            if exc.status == 404:
                return None
            raise

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
