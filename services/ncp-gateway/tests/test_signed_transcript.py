"""The "EMREX transcript" PDF inside the sent ELMO is signed as PAdES B-B by the signer: pyHanko's validator
and poppler's pdfsig both accept the PDF taken from an ELMO that went through the whole flow; a signer that
answers anything but a signed copy of our PDF ends the transfer with NCP_ERROR."""

import asyncio
import base64
import shutil
import subprocess
from io import BytesIO

import httpx
import pytest
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives.serialization import Encoding
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import async_validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

import emrex_elmo
from emrex_elmo import transport


def transcript_of(signed_elmo: bytes) -> bytes:
    [attachment] = emrex_elmo.from_xml(signed_elmo).attachments
    assert attachment.type == "EMREX transcript"
    content = attachment.contents[0].value
    assert content.startswith("data:application/pdf;base64,")
    return base64.b64decode(content.split(",", 1)[1])


async def test_the_transcript_in_a_sent_elmo_is_pades_signed_and_verifies(browser, kit, pki, tmp_path) -> None:
    await browser.login("demo-learner-1")
    await browser.submit(keys=["r0.0.0.0", "r1.0"])
    handoff = kit.handoff_of(await browser.send())
    assert handoff.fields["returnCode"] == "NCP_OK"
    pdf = transcript_of(transport.decode(handoff.fields["elmo"]))

    reader = PdfFileReader(BytesIO(pdf))
    [embedded] = reader.embedded_signatures
    assert embedded.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"
    signed_attrs = {a["type"].native for a in embedded.signer_info["signed_attrs"]}
    assert "signing_certificate_v2" in signed_attrs  # PAdES B-B binds the signing certificate
    ca, signing = pki
    assert embedded.signer_cert.dump() == signing.certificate.public_bytes(Encoding.DER)
    context = ValidationContext(trust_roots=[asn1_x509.Certificate.load(ca.certificate.public_bytes(Encoding.DER))])
    status = await async_validate_pdf_signature(embedded, context)
    assert status.intact, status.pretty_print_details()
    assert status.valid, status.pretty_print_details()
    assert status.trusted, status.pretty_print_details()
    assert status.coverage.name == "ENTIRE_FILE"

    if shutil.which("pdfsig") is None:
        pytest.skip("pdfsig is not installed (Debian package poppler-utils; make test installs it)")
    path = tmp_path / "transcript.pdf"
    path.write_bytes(pdf)
    result = await asyncio.to_thread(subprocess.run, ["pdfsig", str(path)], capture_output=True, text=True,
                                     timeout=60, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Signature is Valid" in result.stdout, result.stdout
    assert "ETSI.CAdES.detached" in result.stdout, result.stdout
    assert "gateway-test-signer" in result.stdout, result.stdout


class PdfSwapper(httpx.AsyncBaseTransport):
    """The real signer, except that /v1/sign-pdf answers `answer(original, signed)`."""

    def __init__(self, inner: httpx.AsyncBaseTransport, answer) -> None:
        self.inner, self.answer = inner, answer

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if request.url.path != "/v1/sign-pdf" or response.status_code != 200:
            return response
        original = request.content
        signed = await response.aread()
        return httpx.Response(200, content=self.answer(original, signed),
                              headers={"content-type": "application/pdf"})


@pytest.mark.parametrize("answer", [
    pytest.param(lambda original, signed: original, id="unsigned"),
    pytest.param(lambda original, signed: b"%PDF-1.7\n" + signed[9:], id="other-document"),
    pytest.param(lambda original, signed: b"", id="empty"),
])
async def test_a_transcript_not_signed_as_sent_ends_in_ncp_error(make_browser, upstreams, kit, answer) -> None:
    async with make_browser(transports={"signer": PdfSwapper(upstreams["signer"], answer)}) as browser:
        await browser.login("demo-learner-1")
        response = await browser.submit(keys=["r0.0.0.0"])
        handoff = kit.handoff_of(response)
        assert handoff.fields["returnCode"] == "NCP_ERROR"
        assert handoff.fields["elmo"] == ""


async def test_signer_down_when_the_transcript_is_signed_ends_in_ncp_error(make_browser, upstreams, kit) -> None:
    class PdfDown(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            if request.url.path == "/v1/sign-pdf":
                raise httpx.ConnectError("connection refused", request=request)
            return await upstreams["signer"].handle_async_request(request)

    async with make_browser(transports={"signer": PdfDown()}) as browser:
        await browser.login("demo-learner-1")
        handoff = kit.handoff_of(await browser.submit(keys=["r0.0.0.0"]))
        assert handoff.fields["returnCode"] == "NCP_ERROR"
        assert "could not be signed" in handoff.fields["returnMessage"]
