"""Key backend 1: a PEM private key and certificate chain from files (a Kubernetes Secret mount)."""

import os

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from emrex_elmo import load_certificates
from ncp_runtime import read_secret
from ncp_signer.domain.keys import KeyType, key_type_of
from ncp_signer.settings import KeyConfig


class KeyLoadError(Exception):
    """A configured key or certificate cannot be used; the message names files, never contents."""


def load_chain(config: KeyConfig) -> list[x509.Certificate]:
    try:
        chain = load_certificates(config.cert_path.read_bytes())
    except (OSError, ValueError) as exc:
        raise KeyLoadError(f"key {config.id}: cannot read certificate {config.cert_path}: "
                           f"{type(exc).__name__}") from None
    if not chain:
        raise KeyLoadError(f"key {config.id}: no certificate in {config.cert_path}")
    return chain


def checked_key_type(config: KeyConfig, public_key: object) -> KeyType:
    """The key type of `public_key`, or a KeyLoadError naming the key if the signer cannot use it."""
    try:
        return key_type_of(public_key)
    except ValueError as exc:
        raise KeyLoadError(f"key {config.id}: {exc}") from None


class CertifiedKey:
    """What every key backend shares: its configured id, the certificate chain (leaf first) and the key type."""

    _id: str
    _type: KeyType
    chain: list[x509.Certificate]

    @property
    def key_id(self) -> str:
        return self._id

    @property
    def key_type(self) -> KeyType:
        return self._type

    @property
    def certificate(self) -> x509.Certificate:
        return self.chain[0]


def _passphrase(config: KeyConfig) -> bytes | None:
    if config.passphrase_file is not None:
        try:
            return read_secret(config.passphrase_file).encode("utf-8")
        except (OSError, ValueError) as exc:
            raise KeyLoadError(f"key {config.id}: cannot read passphrase file {config.passphrase_file}: "
                               f"{type(exc).__name__}") from None
    if config.passphrase_env is not None:
        # The keys file names the variable (a Secret mounted as env), so it cannot be a Settings field.
        value = os.environ.get(config.passphrase_env)  # noqa: TID251
        if not value:
            raise KeyLoadError(f"key {config.id}: environment variable {config.passphrase_env} is not set")
        return value.encode("utf-8")
    return None


class FileKey(CertifiedKey):
    """Loaded once (parsing a PEM key costs tens of milliseconds); cryptography keys are thread-safe."""

    in_process = True  # a signature is CPU work here (SigningKey.in_process)

    def __init__(self, config: KeyConfig) -> None:
        if config.key_path is None:
            raise KeyLoadError(f"key {config.id}: key_path is required for the file backend")
        self._id = config.id
        self.chain = load_chain(config)
        try:
            data = config.key_path.read_bytes()
        except OSError as exc:
            raise KeyLoadError(f"key {config.id}: cannot read {config.key_path}: {type(exc).__name__}") from None
        try:
            key = serialization.load_pem_private_key(data, password=_passphrase(config))
        except (TypeError, ValueError):
            raise KeyLoadError(f"key {config.id}: {config.key_path} is not a PEM private key, or the "
                               "passphrase is wrong or missing") from None
        if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
            raise KeyLoadError(f"key {config.id}: only RSA and EC P-256 keys are supported")
        spki = serialization.PublicFormat.SubjectPublicKeyInfo
        if (key.public_key().public_bytes(serialization.Encoding.DER, spki)
                != self.chain[0].public_key().public_bytes(serialization.Encoding.DER, spki)):
            raise KeyLoadError(f"key {config.id}: the first certificate in {config.cert_path} is not "
                               "for this private key")
        self._type = checked_key_type(config, key.public_key())
        self._key = key

    def sign(self, data: bytes) -> bytes:
        if isinstance(self._key, rsa.RSAPrivateKey):
            return self._key.sign(data, padding.PKCS1v15(), hashes.SHA256())
        r, s = decode_dss_signature(self._key.sign(data, ec.ECDSA(hashes.SHA256())))
        size = (self._key.curve.key_size + 7) // 8
        return r.to_bytes(size, "big") + s.to_bytes(size, "big")

    def close(self) -> None:
        return None
