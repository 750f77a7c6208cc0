"""Downloads without a client: at `/` or `/my-results` a student logs in (the node's usual login), sees their
results and downloads the signed ELMO XML and the signed PDF; each download is an audit record (protocol
`download`) in the chain; forms carry CSRF, pages the security headers; logging out ends the visit."""

import base64
import hashlib
from io import BytesIO

import httpx
import pytest
from pyhanko.pdf_utils.reader import PdfFileReader

import emrex_elmo
from ncp_gateway.adapters.store import SessionStore, make_engine
from ncp_gateway.domain.audit_chain import verify


async def log_in(browser, sub: str = "demo-learner-1") -> httpx.Response:
    start = await browser.http.get("/")
    assert (start.status_code, start.headers["location"]) == (303, "/my-results")
    page = await browser.http.get("/my-results")
    assert page.status_code == 200
    assert 'href="/my-results/login"' in page.text
    begin = await browser.http.get("/my-results/login")
    assert begin.status_code == 303
    login = await browser.http.get(begin.headers["location"])
    assert login.status_code == 302
    browser.authorization_url = login.headers["location"]
    callback = await browser.callback(await browser.provider_login(sub))
    assert callback.status_code == 303, callback.text
    assert callback.headers["location"].startswith("/my-results?t=")
    results = await browser.http.get(callback.headers["location"])
    assert results.status_code == 200, results.text
    return results


async def audit(settings) -> SessionStore:
    engine = make_engine(settings.sqlalchemy_url)
    try:
        state, links = await SessionStore(engine).audit_chain()
        assert verify(links, state).ok
        return await SessionStore(engine).audit_records()
    finally:
        await engine.dispose()


async def test_a_student_downloads_the_signed_xml_and_pdf_and_each_is_audited(browser, kit, secret_files,
                                                                             gateway_settings) -> None:
    page = await log_in(browser)
    assert "Aurora University" in page.text
    assert "Virtanen" in page.text
    assert page.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    fields = kit.form_fields(page.text, "//form[@action='/my-results/download']")
    data = {"t": fields["t"][0], "csrf": fields["csrf"][0]}

    xml = await browser.http.post("/my-results/download", data={**data, "format": "xml"})
    assert xml.status_code == 200, xml.text
    assert xml.headers["content-disposition"] == 'attachment; filename="emrex-results.xml"'
    assert "sandbox" in xml.headers["content-security-policy"]
    emrex_elmo.validate(xml.content, "1.7.0")
    emrex_elmo.verify(xml.content, emrex_elmo.load_certificates(secret_files.signing_cert.read_bytes()))
    sent = emrex_elmo.from_xml(xml.content)
    assert {r.issuer.identifier("schac") for r in sent.reports} >= {"aurora.example.fi"}
    [attachment] = sent.attachments
    embedded_pdf = base64.b64decode(attachment.contents[0].value.split(",", 1)[1])
    assert len(PdfFileReader(BytesIO(embedded_pdf)).embedded_signatures) == 1

    pdf = await browser.http.post("/my-results/download", data={**data, "format": "pdf"})
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["content-disposition"] == 'attachment; filename="emrex-transcript.pdf"'
    [signature] = PdfFileReader(BytesIO(pdf.content)).embedded_signatures
    assert signature.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"

    records = await audit(gateway_settings)
    assert [(r.protocol, r.receiver_origin, r.return_code) for r in records] == [
        ("download", "download:xml", "NCP_OK"), ("download", "download:pdf", "NCP_OK")]
    assert records[0].elmo_sha256 == hashlib.sha256(xml.content).hexdigest()
    assert records[1].elmo_sha256 is None
    assert records[0].login_pseudonym == records[1].login_pseudonym
    assert len(records[0].login_pseudonym) == 64
    assert records[0].learning_opportunities > 0


async def test_downloads_need_the_csrf_token_and_a_known_format(browser, kit, gateway_settings) -> None:
    page = await log_in(browser)
    fields = kit.form_fields(page.text, "//form[@action='/my-results/download']")
    tid = fields["t"][0]
    forged = await browser.http.post("/my-results/download", data={"t": tid, "csrf": "forged", "format": "xml"})
    assert forged.status_code == 403
    missing = await browser.http.post("/my-results/download", data={"t": tid, "format": "pdf"})
    assert missing.status_code == 403
    odd = await browser.http.post("/my-results/download", data={"t": tid, "csrf": fields["csrf"][0],
                                                                 "format": "docx"})
    assert odd.status_code == 400
    assert await audit(gateway_settings) == []


async def test_logging_out_ends_the_visit(browser, kit, gateway_settings) -> None:
    page = await log_in(browser)
    fields = kit.form_fields(page.text, "//form[@action='/my-results/end']")
    assert (await browser.http.post("/my-results/end", data={"t": fields["t"][0], "csrf": "x"})).status_code == 403
    ended = await browser.http.post("/my-results/end", data={"t": fields["t"][0], "csrf": fields["csrf"][0]})
    assert ended.status_code == 200
    assert "You are logged out." in ended.text
    assert 'href="/my-results"' in ended.text
    again = await browser.http.get(f"/my-results?t={fields['t'][0]}")
    assert again.status_code == 400  # the visit is gone
    assert (await browser.http.get("/my-results")).text.count('href="/my-results/login"') == 1
    assert await audit(gateway_settings) == []


async def test_a_client_transfer_cannot_be_downloaded(browser, kit) -> None:
    await browser.login("demo-learner-1")  # entered through /emrex by a client
    page = await browser.selection()
    tid = kit.form_fields(page.text, "//form[@id='selection']")["t"][0]
    csrf = kit.form_fields(page.text, "//form[@id='selection']")["csrf"][0]
    assert (await browser.http.get(f"/my-results?t={tid}")).status_code == 409
    response = await browser.http.post("/my-results/download", data={"t": tid, "csrf": csrf, "format": "xml"})
    assert response.status_code == 409


async def test_no_results_is_said_on_a_page_not_posted_anywhere(browser) -> None:
    await browser.http.get("/my-results")
    begin = await browser.http.get("/my-results/login")
    login = await browser.http.get(begin.headers["location"])
    browser.authorization_url = login.headers["location"]
    answer = await browser.callback(await browser.provider_login("demo-learner-empty"))
    assert answer.status_code == 200
    assert "No results were found" in answer.text
    assert "<form" not in answer.text
    assert "/my-results" in answer.text


@pytest.mark.parametrize("lang", ["en", "de"])
async def test_the_pages_speak_both_languages(browser, lang) -> None:
    page = await browser.http.get(f"/my-results?lang={lang}")
    assert page.headers["content-language"] == lang
    assert ("Your study results" if lang == "en" else "Ihre Studienleistungen") in page.text
