"""Keys and certificates made at test time (never committed), on top of `emrex_cli.devpki`."""

from collections.abc import Sequence
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from lxml import etree
from signxml import methods
from signxml.algorithms import CanonicalizationMethod, DigestAlgorithm, SignatureMethod
from signxml.signer import XMLSigner

import emrex_elmo
from emrex_cli.devpki import IssuedKey, KeyType, make_ca, make_signing_key

# 2048-bit RSA: fast enough for tests (the dev PKI of `make run` uses 3072).
TEST_BITS = 2048


def dev_ca(common_name: str = "EMREX NCP dev CA") -> IssuedKey:
    return make_ca(common_name, bits=TEST_BITS)


def signing_key(
    ca: IssuedKey | None = None, common_name: str = "signer.example", *, key_type: KeyType = "rsa"
) -> IssuedKey:
    """A document-signing key and its certificate, issued by `ca` (a new dev CA if none is given)."""
    return make_signing_key(ca or dev_ca(), common_name, key_type=key_type, bits=TEST_BITS)


def write_key_files(
    directory: Path, name: str, issued: IssuedKey, passphrase: bytes | None = None,
    chain: Sequence[x509.Certificate] = (),
) -> tuple[Path, Path]:
    """Write `<name>.key` (PKCS#8 PEM) and `<name>.crt` (the certificate, then `chain`); returns both paths."""
    directory.mkdir(parents=True, exist_ok=True)
    key_path, cert_path = directory / f"{name}.key", directory / f"{name}.crt"
    key_path.write_bytes(issued.key_pem(passphrase))
    cert_path.write_bytes(issued.cert_pem() + b"".join(c.public_bytes(Encoding.PEM) for c in chain))
    return key_path, cert_path


def sign_enveloped(
    document: emrex_elmo.Elmo | bytes | etree._Element, key: IssuedKey, method: SignatureMethod | None = None
) -> bytes:
    """An enveloped XMLDSig over `document` in the EMREX profile (C14N 1.0, SHA-256), made by signxml,
    an implementation independent of ours; the signature method follows the key unless `method` is given."""
    if isinstance(document, emrex_elmo.Elmo):
        root = emrex_elmo.to_element(document)
    elif isinstance(document, bytes):
        root = emrex_elmo.parse_xml(document)
    else:
        root = document
    if method is None:
        is_ec = isinstance(key.key, ec.EllipticCurvePrivateKey)
        method = SignatureMethod.ECDSA_SHA256 if is_ec else SignatureMethod.RSA_SHA256
    signer = XMLSigner(
        method=methods.enveloped,
        signature_algorithm=method,
        digest_algorithm=DigestAlgorithm.SHA256,
        c14n_algorithm=CanonicalizationMethod.CANONICAL_XML_1_0,
    )
    signed = signer.sign(root, key=key.key_pem(), cert=key.cert_pem().decode())
    xml: bytes = etree.tostring(signed, xml_declaration=True, encoding="UTF-8")
    return xml
