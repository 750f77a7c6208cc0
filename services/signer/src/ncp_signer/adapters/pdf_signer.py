"""PAdES signatures over PDF documents with pyHanko, through the signer's own key backend.

pyHanko drives the key through its `Signer` interface; `KeyBackedSigner` implements that interface over our
`SigningKey` (a PEM file or a PKCS#11 token), so the private key stays wherever it lives and never reaches
pyHanko. The signature is PAdES baseline B-B: ETSI.CAdES.detached, SHA-256, with the signing certificate
(signing-certificate-v2) among the signed attributes.
"""

import asyncio
import hashlib
from dataclasses import dataclass
from io import BytesIO

from asn1crypto import algos, x509 as asn1_x509  # type: ignore[import-untyped]
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.sign import fields, signers
from pyhanko.sign.general import SigningError
from pyhanko_certvalidator.registry import SimpleCertificateStore

from ncp_signer.domain.keys import SigningKey

FIELD_NAME = "NCP-Signature"
EC_SIGNATURE_MAX = 72  # DER ECDSA-P256: SEQUENCE of two INTEGERs of up to 33 bytes


class PdfRejected(Exception):
    """The input is not a PDF pyHanko can sign (or is one it must not, e.g. encrypted)."""


@dataclass(frozen=True)
class SignedPdf:
    pdf: bytes
    key_id: str
    sha256: str


def _asn1(cert_der: bytes) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert_der)


class KeyBackedSigner(signers.Signer):
    def __init__(self, key: SigningKey) -> None:
        chain = [_asn1(c.public_bytes(Encoding.DER)) for c in key.chain]
        mechanism = "sha256_ecdsa" if key.key_type == "ec" else "sha256_rsa"
        super().__init__(
            signing_cert=chain[0],
            cert_registry=SimpleCertificateStore.from_certs(chain),  # type: ignore[no-untyped-call]
            signature_mechanism=algos.SignedDigestAlgorithm({"algorithm": mechanism}),
            embed_roots=False,
        )
        self.key = key
        public = key.certificate.public_key()
        self._size = (public.key_size + 7) // 8 if isinstance(public, rsa.RSAPublicKey) else EC_SIGNATURE_MAX

    async def async_sign_raw(self, data: bytes, digest_algorithm: str, dry_run: bool = False) -> bytes:
        if digest_algorithm != "sha256":
            raise SigningError(f"only sha256 is supported, not {digest_algorithm}")
        if dry_run:
            return bytes(self._size)
        raw = self.key.sign(data)  # SHA-256 inside the key backend
        if self.key.key_type == "rsa":
            return raw
        half = len(raw) // 2  # XMLDSig r || s -> the DER form CMS wants
        return encode_dss_signature(int.from_bytes(raw[:half], "big"), int.from_bytes(raw[half:], "big"))


def sign_pdf(pdf: bytes, key: SigningKey, *, reason: str | None = None) -> SignedPdf:
    """Sign `pdf` in an incremental update; blocking (run it in a worker thread)."""
    if not pdf.startswith(b"%PDF-"):
        raise PdfRejected("the body is not a PDF document")
    meta = signers.PdfSignatureMetadata(
        field_name=FIELD_NAME,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        reason=reason,
    )
    try:
        writer = IncrementalPdfFileWriter(BytesIO(pdf), strict=False)
        if writer.prev.encrypted:
            raise PdfRejected("encrypted PDF documents are not signed")
        out = asyncio.run(signers.async_sign_pdf(writer, meta, signer=KeyBackedSigner(key)))
    except PdfRejected:
        raise
    except (PdfError, SigningError, ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
        raise PdfRejected(f"the PDF could not be read: {type(exc).__name__}") from None
    signed = out.getvalue()
    return SignedPdf(signed, key.key_id, hashlib.sha256(signed).hexdigest())
