"""JWS with a detached payload (RFC 7515 Appendix F) and the JWKS of the published keys (RFC 7517).

Only the structure is built here; the signature itself comes from the key backend (`SigningKey.sign`),
whose output is already what JWS wants: RSASSA-PKCS1-v1_5 with SHA-256 for RS256, and r || s for
ES256 (RFC 7518 §3.4, the same fixed-size form as XMLDSig). So a PKCS#11 key signs JWS unchanged.
"""

import base64
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import Encoding

from ncp_signer.domain.keys import KeyType

JWS_ALGORITHMS: dict[KeyType, str] = {"rsa": "RS256", "ec": "ES256"}


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _int_b64url(value: int, size: int | None = None) -> str:
    length = size if size is not None else max(1, (value.bit_length() + 7) // 8)
    return b64url(value.to_bytes(length, "big"))


def public_jwk_members(public_key: object) -> dict[str, str]:
    """The required public members of a JWK, in the lexicographic order RFC 7638 hashes them."""
    if isinstance(public_key, rsa.RSAPublicKey):
        numbers = public_key.public_numbers()
        return {"e": _int_b64url(numbers.e), "kty": "RSA", "n": _int_b64url(numbers.n)}
    if isinstance(public_key, ec.EllipticCurvePublicKey) and isinstance(public_key.curve, ec.SECP256R1):
        point = public_key.public_numbers()
        return {"crv": "P-256", "kty": "EC", "x": _int_b64url(point.x, 32), "y": _int_b64url(point.y, 32)}
    raise ValueError(f"no JWK form for {type(public_key).__name__}")


def thumbprint(public_key: object) -> str:
    """RFC 7638 SHA-256 thumbprint: the `kid`, so it names the key itself, not a configuration label."""
    members = json.dumps(public_jwk_members(public_key), separators=(",", ":"), sort_keys=True)
    return b64url(hashlib.sha256(members.encode("ascii")).digest())


def jwk(certificate: x509.Certificate, key_type: KeyType) -> dict[str, Any]:
    """The public JWK of a signing certificate's key, with `x5c` tying it to the EMREG certificate."""
    public_key = certificate.public_key()
    return {
        **public_jwk_members(public_key),
        "kid": thumbprint(public_key),
        "use": "sig",
        "alg": JWS_ALGORITHMS[key_type],
        "x5c": [base64.b64encode(certificate.public_bytes(Encoding.DER)).decode("ascii")],
    }


@dataclass(frozen=True)
class DetachedJws:
    compact: str
    """`header..signature`: the payload part is empty (RFC 7515 Appendix F)."""
    alg: str
    kid: str


def sign_detached(payload: bytes, key_type: KeyType, certificate: x509.Certificate,
                  sign: Callable[[bytes], bytes]) -> DetachedJws:
    """A compact JWS over `payload`, answered without it; `sign` is the key backend's primitive."""
    alg = JWS_ALGORITHMS[key_type]
    kid = thumbprint(certificate.public_key())
    header = b64url(json.dumps({"alg": alg, "kid": kid}, separators=(",", ":")).encode("ascii"))
    signing_input = f"{header}.{b64url(payload)}".encode("ascii")
    return DetachedJws(f"{header}..{b64url(sign(signing_input))}", alg, kid)
