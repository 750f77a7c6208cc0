"""The EMREX 2.0 calls of the demo client to the node: the token request (PKCE + private_key_jwt) and
GET /results, whose X-Signature is checked against the node's keys in the registry and whose ELMO is
checked (XMLDSig) by the registry-cache, as in EMREX 1."""

import logging
from dataclasses import dataclass

import httpx
from joserfc.jwk import KeySet

from ncp_contracts import ServiceError
from ncp_contracts.registry import RegistryClient, VerifyRequest, VerifyResult
from ncp_demo_client.domain.emrex2 import (
    ClientKey,
    Pkce,
    SignatureInvalid,
    client_assertion,
    jwks_keys,
    node_keys,
    token_request,
    verify_detached,
)
from ncp_demo_client.errors import DemoClientError

log = logging.getLogger("ncp.demo.emrex2")
MAX_ERROR_TEXT = 200


class Emrex2Error(DemoClientError):
    """The node refused a step (its OAuth `error` is in the detail) or answered something unusable."""

    code = "emrex2_error"


class ResponseSignatureError(DemoClientError):
    code = "response_signature_invalid"


@dataclass(frozen=True)
class AccessToken:
    access_token: str
    expires_in: int | None
    scope: str | None


@dataclass(frozen=True)
class Results:
    status: int
    """200, or 204 when the student has no results to send."""
    body: bytes
    content_type: str | None
    kid: str | None
    """The node key that signed X-Signature (None for 204, which carries no body)."""
    xml_signature: VerifyResult | None
    """The registry-cache's XMLDSig verdict on an `elmo` body."""
    signature: str | None = None
    """The X-Signature header as received (shown, so anyone can check it again)."""


def _oauth_error(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code}"
    if not isinstance(body, dict):
        return f"HTTP {response.status_code}"
    error = str(body.get("error", f"HTTP {response.status_code}"))[:MAX_ERROR_TEXT]
    description = body.get("error_description")
    return f"{error}: {str(description)[:MAX_ERROR_TEXT]}" if description else error


class Emrex2Node:
    def __init__(self, http: httpx.AsyncClient, registry: RegistryClient, *, client_id: str, key: ClientKey,
                 token_url: str, resource_url: str, node_url: str) -> None:
        self.http = http
        self.registry = registry
        self.client_id = client_id
        self.key = key
        self.token_url = token_url
        self.resource_url = resource_url
        self.node_url = node_url

    async def token(self, code: str, *, redirect_uri: str, pkce: Pkce) -> AccessToken:
        assertion = client_assertion(self.client_id, self.token_url, self.key)
        try:
            response = await self.http.post(self.token_url, data=token_request(
                code, redirect_uri=redirect_uri, pkce=pkce, assertion=assertion))
        except httpx.HTTPError as exc:
            raise Emrex2Error(f"The node's token endpoint is unreachable ({type(exc).__name__}).") from None
        if response.status_code != 200:
            raise Emrex2Error(f"The node refused the token request: {_oauth_error(response)}")
        try:
            body = response.json()
            token = str(body["access_token"])
            token_type = str(body.get("token_type", ""))
        except (ValueError, KeyError, TypeError):
            raise Emrex2Error("The token endpoint answered no access token.") from None
        if token_type.lower() != "bearer":
            raise Emrex2Error(f"The token endpoint answered token_type {token_type[:20]!r}, not Bearer.")
        expires = body.get("expires_in")
        return AccessToken(token, expires if isinstance(expires, int) else None,
                           str(body["scope"]) if body.get("scope") else None)

    async def results(self, access_token: str, *, data_format: str = "elmo",
                      data_format_version: str | None = "2.0.0") -> Results:
        params = {"data_format": data_format}
        if data_format_version:
            params["data_format_version"] = data_format_version
        try:
            response = await self.http.get(self.resource_url, params=params,
                                           headers={"Authorization": f"Bearer {access_token}"})
        except httpx.HTTPError as exc:
            raise Emrex2Error(f"The node's resource endpoint is unreachable ({type(exc).__name__}).") from None
        if response.status_code == 204:
            return Results(204, b"", None, None, None)
        if response.status_code != 200:
            raise Emrex2Error(f"The node refused the results request: {_oauth_error(response)}")
        kid = await self.check_signature(response.content, response.headers.get("x-signature"))
        verdict = None
        if data_format == "elmo":
            verdict = await self.check_xml_signature(response.content)
        return Results(200, response.content, response.headers.get("content-type"), kid, verdict,
                       response.headers.get("x-signature"))

    async def check_signature(self, body: bytes, signature: str | None) -> str:
        """The X-Signature JWS over exactly `body`, with a key the node registered (else an error)."""
        if not signature:
            raise ResponseSignatureError("The node's answer carries no X-Signature.")
        try:
            keys = await self.registered_keys()
            return verify_detached(signature, body, keys)
        except SignatureInvalid as exc:
            log.warning("response signature invalid", extra={"node_url": self.node_url})
            raise ResponseSignatureError(str(exc)) from None

    async def registered_keys(self) -> KeySet:
        """The node's JWKS from its registry entry; for an entry without one, the keys of its certificates."""
        try:
            entry = await self.registry.lookup(self.node_url)
            if entry is not None and entry.jwks is not None:
                return jwks_keys(entry.jwks)
            listed = await self.registry.certificates(url=self.node_url)
        except ServiceError as exc:
            raise ResponseSignatureError(f"The registry-cache has no keys for the node: {exc.detail}") from None
        return node_keys([c.pem for node in listed.nodes for c in node.certificates])

    async def check_xml_signature(self, body: bytes) -> VerifyResult:
        try:
            xml = body.decode("utf-8")
        except UnicodeDecodeError:
            raise Emrex2Error("The ELMO document is not UTF-8 text.") from None
        try:
            return await self.registry.verify(VerifyRequest(node_url=self.node_url, xml=xml))
        except ServiceError as exc:
            raise Emrex2Error(f"The registry-cache could not verify the ELMO signature: {exc.detail}") from None
