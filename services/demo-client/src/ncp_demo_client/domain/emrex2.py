"""The EMREX 2.0 client side, without I/O (emrex2.md): PKCE, the RFC 7523 client assertion signed with
this client's own key, the authorization request, and the check of the node's detached JWS (X-Signature)
against the keys the node registered (the public keys of its EMREG certificates, named by RFC 7638
thumbprint, as the node's JWKS names them)."""

import base64
import hashlib
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from cryptography import x509
from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeySet, RSAKey

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ASSERTION_LIFETIME_S = 60
"""Well under the profile's 300 s; the node remembers each jti until exp."""
RESPONSE_ALGORITHMS = ("RS256", "ES256")

ClientKey = RSAKey | ECKey


class SignatureInvalid(Exception):
    """The X-Signature of a response does not hold with any key the node registered."""


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class Pkce:
    verifier: str
    challenge: str
    method: str = "S256"

    @classmethod
    def new(cls) -> "Pkce":
        """RFC 7636: a 43-character verifier from 32 random bytes; challenge = BASE64URL(SHA256(verifier))."""
        verifier = _b64url(secrets.token_bytes(32))
        return cls(verifier, _b64url(hashlib.sha256(verifier.encode("ascii")).digest()))


def load_client_key(pem: bytes) -> ClientKey:
    """This client's private key (PEM), its kid the RFC 7638 thumbprint as registered by make run."""
    try:
        key: ClientKey = ECKey.import_key(pem)
    except (JoseError, ValueError):
        key = RSAKey.import_key(pem)
    if not key.is_private:
        raise ValueError("the EMREX 2.0 client key must be a private key")
    key.ensure_kid()
    return key


def assertion_algorithm(key: ClientKey) -> str:
    return "ES256" if isinstance(key, ECKey) else "RS256"


def client_assertion(client_id: str, token_url: str, key: ClientKey, *, now: float | None = None,
                     lifetime: int = ASSERTION_LIFETIME_S) -> str:
    """RFC 7523 §2.2: iss = sub = client_id, aud = the token endpoint URL, a fresh jti, short exp."""
    issued = int(now if now is not None else time.time())
    alg = assertion_algorithm(key)
    header = {"alg": alg, "kid": key.kid, "typ": "JWT"}
    claims = {"iss": client_id, "sub": client_id, "aud": token_url, "jti": secrets.token_urlsafe(24),
              "iat": issued, "exp": issued + lifetime}
    return jwt.encode(header, claims, key, algorithms=[alg])


def authorization_request(authorization_url: str, *, client_id: str, redirect_uri: str, state: str,
                          pkce: Pkce, scope: str = "elmo") -> str:
    query = urlencode({"response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri,
                       "state": state, "code_challenge": pkce.challenge, "code_challenge_method": pkce.method,
                       "scope": scope})
    separator = "&" if "?" in authorization_url else "?"
    return f"{authorization_url}{separator}{query}"


def token_request(code: str, *, redirect_uri: str, pkce: Pkce, assertion: str) -> dict[str, str]:
    """The form fields of POST /oauth2/token (emrex2.md, step 4)."""
    return {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
            "code_verifier": pkce.verifier, "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": assertion}


def node_keys(certificates_pem: list[str]) -> KeySet:
    """The node's registered signing keys as a JWK Set, each named by its RFC 7638 thumbprint."""
    keys: list[ClientKey] = []
    for pem in certificates_pem:
        for cert in x509.load_pem_x509_certificates(pem.encode("ascii")):
            public: Any = cert.public_key()
            key: ClientKey = ECKey.import_key(public) if hasattr(public, "curve") else RSAKey.import_key(public)
            key.ensure_kid()
            keys.append(key)
    return KeySet(keys)  # type: ignore[arg-type]


def jwks_keys(jwks: dict[str, Any]) -> KeySet:
    """A registry entry's JWKS, public keys only (a private member would mean a broken registry)."""
    try:
        keys = KeySet.import_key_set(jwks)  # type: ignore[arg-type]
    except (JoseError, ValueError, TypeError) as exc:
        raise SignatureInvalid(f"the node's registered JWKS does not parse ({type(exc).__name__})") from None
    if any(key.is_private for key in keys.keys):
        raise SignatureInvalid("the node's registered JWKS holds private key material")
    return keys


def verify_detached(signature: str, body: bytes, keys: KeySet) -> str:
    """Check a compact JWS with a detached payload over `body`; answer the `kid` of the key that holds."""
    parts = signature.split(".")
    if len(parts) != 3 or parts[1] != "":
        raise SignatureInvalid("X-Signature is not a compact JWS with a detached payload")
    try:
        result = jws.deserialize_compact(signature, keys, algorithms=list(RESPONSE_ALGORITHMS), payload=body)
    except (JoseError, ValueError) as exc:
        raise SignatureInvalid(f"X-Signature does not verify with the node's registered keys "
                               f"({type(exc).__name__})") from None
    kid = result.protected.get("kid")
    if not isinstance(kid, str):
        raise SignatureInvalid("X-Signature names no kid")
    return kid
