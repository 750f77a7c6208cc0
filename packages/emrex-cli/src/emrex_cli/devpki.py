"""Development PKI: a CA and a signing certificate it issues, generated on demand, never committed.

Used by `emrex keys dev`, by `make run` on first start, and by the tests (through ncp_testkit).
"""

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

KeyType = Literal["rsa", "ec"]
PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


@dataclass(frozen=True)
class IssuedKey:
    key: PrivateKey
    certificate: x509.Certificate

    def key_pem(self, passphrase: bytes | None = None) -> bytes:
        encryption: serialization.KeySerializationEncryption = (
            serialization.BestAvailableEncryption(passphrase)
            if passphrase
            else serialization.NoEncryption()
        )
        return self.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
        )

    def cert_pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)


def new_key(key_type: KeyType = "rsa", bits: int = 3072) -> PrivateKey:
    if key_type == "ec":
        return ec.generate_private_key(ec.SECP256R1())
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def _name(common_name: str, country: str) -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, country),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "EMREX NCP development"),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ])


def make_ca(common_name: str = "EMREX NCP dev CA", *, country: str = "FI",
            days: int = 3650, bits: int = 3072) -> IssuedKey:
    key = new_key("rsa", bits)
    now = dt.datetime.now(dt.UTC)
    name = _name(common_name, country)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=False, content_commitment=False, key_encipherment=False,
            data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
            encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return IssuedKey(key, cert)


def issue_signing_cert(
    ca: IssuedKey, common_name: str = "emrex-ncp.localhost", *, country: str = "FI",
    key_type: KeyType = "rsa", bits: int = 3072,
    not_before: dt.datetime | None = None, days: int = 365,
    public_key: rsa.RSAPublicKey | ec.EllipticCurvePublicKey | None = None,
) -> x509.Certificate:
    """A document-signing certificate for `public_key` (or a new key's), issued by `ca`."""
    if public_key is None:
        raise ValueError("public_key is required; use make_signing_key for a new key")
    start = not_before or dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    return (
        x509.CertificateBuilder()
        .subject_name(_name(common_name, country)).issuer_name(ca.certificate.subject)
        .public_key(public_key).serial_number(x509.random_serial_number())
        .not_valid_before(start).not_valid_after(start + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=True, key_encipherment=False,
            data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
            encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()),
            critical=False,
        )
        .sign(ca.key, hashes.SHA256())
    )


def make_signing_key(
    ca: IssuedKey, common_name: str = "emrex-ncp.localhost", *, key_type: KeyType = "rsa",
    bits: int = 3072, not_before: dt.datetime | None = None, days: int = 365,
) -> IssuedKey:
    key = new_key(key_type, bits)
    cert = issue_signing_cert(ca, common_name, key_type=key_type, bits=bits,
                              not_before=not_before, days=days, public_key=key.public_key())
    return IssuedKey(key, cert)


@dataclass(frozen=True)
class DevPkiFiles:
    ca_cert: Path
    signing_key: Path
    signing_cert: Path


def write_dev_pki(directory: Path, *, common_name: str = "emrex-ncp.localhost",
                  key_type: KeyType = "rsa", days: int = 365,
                  passphrase: bytes | None = None) -> DevPkiFiles:
    """Write ca.crt, signing.key (mode 0600) and signing.crt into `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    ca = make_ca()
    signing = make_signing_key(ca, common_name, key_type=key_type, days=days)
    files = DevPkiFiles(directory / "ca.crt", directory / "signing.key", directory / "signing.crt")
    files.ca_cert.write_bytes(ca.cert_pem())
    files.signing_key.touch(mode=0o600)
    files.signing_key.write_bytes(signing.key_pem(passphrase))
    files.signing_cert.write_bytes(signing.cert_pem() + ca.cert_pem())
    return files
