"""OpenID Connect relying party: discovery, authorization URL with PKCE, code exchange, ID-token checks.

The provider is any standard OP named by its issuer URL. authlib builds the requests; joserfc checks
the ID token (signature against the provider's JWKS, iss, aud, azp, exp, iat, nonce).
"""

import secrets
import time
from collections.abc import Sequence
from typing import Any

import httpx
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import AsyncOAuth2Client
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from ncp_contracts.aiohttp_transport import AiohttpTransport
from ncp_gateway.domain.errors import LoginFailed, LoginUnavailable

_METADATA_TTL = 3600.0
# Idle connections are dropped before a server's keep-alive timeout (uvicorn: 5 s) can close one under a request.
OIDC_LIMITS = httpx.Limits(keepalive_expiry=2.0)
_TOKEN_ERRORS = frozenset({"invalid_request", "invalid_client", "invalid_grant", "unauthorized_client",
                           "unsupported_grant_type", "invalid_scope"})


class OidcClient:
    def __init__(
        self, *, issuer: str, client_id: str, client_secret: str | None, scope: str,
        algorithms: Sequence[str], leeway: int, timeout: float,
        transport: httpx.AsyncBaseTransport | None = None, limits: httpx.Limits | None = None,
    ) -> None:
        self.issuer = issuer.rstrip("/")
        self.client_id = client_id
        self.algorithms = list(algorithms)
        self.leeway = leeway
        self._client = AsyncOAuth2Client(
            client_id=client_id, client_secret=client_secret, scope=scope,
            code_challenge_method="S256", timeout=timeout,
            transport=transport or AiohttpTransport(limits=limits or OIDC_LIMITS), limits=limits or OIDC_LIMITS,
            token_endpoint_auth_method="client_secret_basic" if client_secret else "none",
        )
        self._metadata: dict[str, Any] | None = None
        self._metadata_at = 0.0
        self._jwks: KeySet | None = None

    async def aclose(self) -> None:
        await self._client.aclose()

    async def metadata(self) -> dict[str, Any]:
        if self._metadata is None or time.monotonic() - self._metadata_at > _METADATA_TTL:
            url = f"{self.issuer}/.well-known/openid-configuration"
            try:
                response = await self._client.request("GET", url, withhold_token=True)
                response.raise_for_status()
                metadata = response.json()
            except (httpx.HTTPError, ValueError):
                raise LoginUnavailable("provider_unavailable", "discovery") from None
            # OIDC Discovery §4.3: the issuer in the document must be the one we asked.
            if not isinstance(metadata, dict) or metadata.get("issuer", "").rstrip("/") != self.issuer:
                raise LoginFailed("issuer_mismatch", "discovery names another issuer")
            self._metadata, self._metadata_at = metadata, time.monotonic()
            self._jwks = None
        return self._metadata

    async def _keys(self, refresh: bool = False) -> KeySet:
        if self._jwks is None or refresh:
            metadata = await self.metadata()
            try:
                response = await self._client.request("GET", metadata["jwks_uri"], withhold_token=True)
                response.raise_for_status()
                self._jwks = KeySet.import_key_set(response.json())
            except (httpx.HTTPError, ValueError, KeyError, JoseError):
                raise LoginUnavailable("provider_unavailable", "keys") from None
        return self._jwks

    @staticmethod
    def new_request_values() -> tuple[str, str, str]:
        """state, nonce and PKCE code_verifier for one authorization request."""
        return secrets.token_urlsafe(24), secrets.token_urlsafe(24), generate_token(64)

    async def authorization_url(self, *, redirect_uri: str, state: str, nonce: str, code_verifier: str,
                                ui_locales: str | None = None) -> str:
        metadata = await self.metadata()
        extra: dict[str, str] = {"nonce": nonce}
        if ui_locales:
            extra["ui_locales"] = ui_locales
        url, _ = self._client.create_authorization_url(
            metadata["authorization_endpoint"], state=state, code_verifier=code_verifier,
            redirect_uri=redirect_uri, **extra,
        )
        return str(url)

    async def exchange(self, *, code: str, redirect_uri: str, code_verifier: str, nonce: str) -> dict[str, Any]:
        """The validated ID-token claims for an authorization code."""
        metadata = await self.metadata()
        try:
            token = await self._client.fetch_token(
                metadata["token_endpoint"], grant_type="authorization_code", code=code,
                redirect_uri=redirect_uri, code_verifier=code_verifier,
            )
        except httpx.HTTPError:
            raise LoginUnavailable("provider_unavailable", "token request") from None
        except Exception as exc:  # authlib raises OAuthError and friends for error answers
            # Only the RFC 6749 §5.2 codes are named: no text of the provider's reaches the client.
            error = getattr(exc, "error", None)
            named = f": {error}" if error in _TOKEN_ERRORS else ""
            raise LoginFailed("token_rejected", f"code refused{named}") from None
        id_token = token.get("id_token") if isinstance(token, dict) else None
        if not isinstance(id_token, str):
            raise LoginFailed("id_token_missing", "no ID token")
        return await self.validate_id_token(id_token, nonce=nonce)

    async def validate_id_token(self, id_token: str, *, nonce: str) -> dict[str, Any]:
        keys = await self._keys()
        try:
            try:
                decoded = jwt.decode(id_token, keys, algorithms=self.algorithms)
            except JoseError as exc:
                if exc.error not in ("bad_signature", "invalid_key_id", "missing_key"):
                    raise
                # The provider may have rotated its keys: fetch them once more.
                decoded = jwt.decode(id_token, await self._keys(refresh=True), algorithms=self.algorithms)
        except (JoseError, ValueError):
            raise LoginFailed("id_token_invalid", "ID token signature") from None
        claims = decoded.claims
        registry = jwt.JWTClaimsRegistry(
            leeway=self.leeway,
            iss={"essential": True, "value": self.issuer},
            aud={"essential": True, "value": self.client_id},
            sub={"essential": True},
            exp={"essential": True},
            iat={"essential": True},
            nonce={"essential": True, "value": nonce},
        )
        try:
            registry.validate(claims)
        except JoseError as exc:
            claim = getattr(exc, "claim", None)
            reason = f"ID token {exc.error}" + (f": {claim}" if claim else "")
            raise LoginFailed(f"id_token_{exc.error}", reason) from None
        aud = claims.get("aud")
        # OIDC Core §3.1.3.7: with several audiences azp must be present and be us.
        if isinstance(aud, list) and len(aud) > 1 and claims.get("azp") != self.client_id:
            raise LoginFailed("id_token_invalid_claim", "ID token azp")
        if "azp" in claims and claims["azp"] != self.client_id:
            raise LoginFailed("id_token_invalid_claim", "ID token azp")
        return claims

    async def readiness(self) -> str:
        """"ok", or what stopped discovery, named as the other upstreams' checks name it."""
        try:
            await self.metadata()
        except LoginUnavailable as exc:
            cause = exc.__context__  # the transport's error, kept out of the student's message by `from None`
            return f"unreachable ({type(cause).__name__})" if cause is not None else "unreachable"
        except LoginFailed as exc:
            return f"error: {exc.reason}"
        return "ok"
