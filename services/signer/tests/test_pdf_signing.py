"""POST /v1/sign-pdf: PAdES B-B with the node's key (PEM file and PKCS#11 token), checked by pyHanko's
validator and by poppler's pdfsig, an independent implementation."""

import shutil
import subprocess
from pathlib import Path

import pytest
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import async_validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from ncp_signer import Settings


def tiny_pdf(text: str = "EMREX transcript") -> bytes:
    """A one-page PDF written by hand (byte offsets in the xref table computed here)."""
    stream = f"BT /F1 18 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


async def validate(signed: bytes, ca: x509.Certificate) -> None:
    from io import BytesIO

    reader = PdfFileReader(BytesIO(signed))
    assert len(reader.embedded_signatures) == 1
    embedded = reader.embedded_signatures[0]
    assert embedded.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"
    signed_attrs = {a["type"].native for a in embedded.signer_info["signed_attrs"]}
    # PAdES B-B: the signing certificate is bound by signing-certificate-v2; no CMS signing-time.
    assert "signing_certificate_v2" in signed_attrs
    assert "signing_time" not in signed_attrs
    context = ValidationContext(trust_roots=[asn1_x509.Certificate.load(ca.public_bytes(Encoding.DER))])
    status = await async_validate_pdf_signature(embedded, context)
    assert status.intact, status.pretty_print_details()
    assert status.valid, status.pretty_print_details()
    assert status.trusted, status.pretty_print_details()
    assert status.coverage.name == "ENTIRE_FILE"


def pdfsig(signed: bytes, tmp_path: Path) -> str:
    if shutil.which("pdfsig") is None:
        pytest.skip("pdfsig is not installed (Debian package poppler-utils; make test installs it)")
    path = tmp_path / "signed.pdf"
    path.write_bytes(signed)
    result = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Signature is Valid" in result.stdout, result.stdout
    assert "ETSI.CAdES.detached" in result.stdout, result.stdout
    assert "Total document signed" in result.stdout, result.stdout
    return result.stdout


async def test_pem_key_signs_a_pdf_that_pyhanko_and_pdfsig_verify(client, ca, tmp_path):
    original = tiny_pdf()
    response = await client.post("/v1/sign-pdf", content=original, headers={"Content-Type": "application/pdf"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["x-signer-key-id"] == "default"
    signed = response.content
    assert signed.startswith(original)  # an incremental update: the original bytes are untouched
    await validate(signed, ca.certificate)
    assert "signer-test" in pdfsig(signed, tmp_path)
    metrics = (await client.get("/metrics")).text
    assert 'ncp_signer_signatures_total{key_id="default",kind="pdf"} 1.0' in metrics


@pytest.mark.parametrize("label", ["rsa1", "ec1"])
async def test_pkcs11_key_signs_a_pdf_without_leaving_the_token(hsm, tokens, run_app, ca, tmp_path, label):
    settings = Settings(keys=[hsm.key_config("hsm", label)], caller_tokens_path=tokens.path)
    async with run_app(settings) as client:
        response = await client.post("/v1/sign-pdf", content=tiny_pdf(), headers={"Content-Type": "application/pdf"})
    assert response.status_code == 200, response.text
    await validate(response.content, ca.certificate)
    assert f"hsm-{label}" in pdfsig(response.content, tmp_path)


@pytest.mark.parametrize("body", [b"", b"not a pdf", b"%PDF-1.7\n garbage", tiny_pdf()[:200], tiny_pdf()[:-40]])
async def test_bad_pdf_is_a_problem_not_a_500(client, body):
    response = await client.post("/v1/sign-pdf", content=body, headers={"Content-Type": "application/pdf"})
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "invalid_pdf"


async def test_sign_pdf_needs_pdf_media_type_and_a_caller(client, app):
    wrong = await client.post("/v1/sign-pdf", content=tiny_pdf(), headers={"Content-Type": "application/xml"})
    assert wrong.status_code == 415
    anonymous = await client.post(
        "/v1/sign-pdf", content=tiny_pdf(), headers={"Content-Type": "application/pdf", "Authorization": ""}
    )
    assert anonymous.status_code == 401
