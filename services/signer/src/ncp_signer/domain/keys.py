"""What the signing code needs from a key, whatever holds it (a PEM file, a PKCS#11 token)."""

from typing import Literal, Protocol

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from emrex_elmo import dsig

KeyType = Literal["rsa", "ec"]


class SigningKey(Protocol):
    """A private key that signs and never shows itself; thread-safe (called from worker threads)."""

    @property
    def key_id(self) -> str: ...

    @property
    def key_type(self) -> KeyType: ...

    @property
    def certificate(self) -> x509.Certificate: ...

    @property
    def in_process(self) -> bool:
        """True when `sign` is CPU work in this process (a key file): a small document is then signed on the
        event loop, where the hop to a worker thread would cost more than the signature. False for a token
        (PKCS#11), whose calls wait on the device: always a worker thread."""
        ...

    @property
    def chain(self) -> list[x509.Certificate]:
        """The certificate first, then the chain it came with (published, not put in KeyInfo)."""
        ...

    def sign(self, data: bytes) -> bytes:
        """The XMLDSig SignatureValue over `data` with SHA-256.

        RSA: PKCS#1 v1.5 signature. EC: r || s, each left-padded to the curve size (XMLDSig's format,
        not DER).
        """
        ...

    def close(self) -> None: ...


def key_type_of(public_key: object) -> KeyType:
    if isinstance(public_key, rsa.RSAPublicKey):
        if public_key.key_size < 2048:
            raise ValueError(f"RSA keys must have at least 2048 bits, this one has {public_key.key_size}")
        return "rsa"
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        if not isinstance(public_key.curve, ec.SECP256R1):
            raise ValueError(f"EC keys must be on P-256, this one is on {public_key.curve.name}")
        return "ec"
    raise ValueError(f"unsupported key type {type(public_key).__name__}")


def signature_method(key_type: KeyType) -> str:
    return dsig.ECDSA_SHA256 if key_type == "ec" else dsig.RSA_SHA256
