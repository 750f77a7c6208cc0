"""Whole flows in-process: entry -> real OIDC login -> selection -> preview -> consent -> signed hand-off."""

import base64

import emrex_elmo
from emrex_elmo import transport


async def test_full_flow_sends_signed_elmo_with_exactly_the_chosen_results(browser, kit, secret_files):
    callback = await browser.login("demo-learner-1")
    assert callback.status_code == 303
    assert callback.headers["location"].endswith("/select")
    page = await browser.selection()
    assert "Aurora University" in page.text
    response = await browser.submit(keys=["r0.0", "r1.0"])
    assert response.status_code == 303, response.text
    preview = await browser.http.get("/preview")
    assert preview.status_code == 200
    handoff = kit.handoff_of(await browser.send())
    assert handoff.action == kit.RETURN_URL
    assert handoff.fields["sessionId"] == "emc-session-1"
    assert handoff.fields["returnCode"] == "NCP_OK"
    signed = transport.decode(handoff.fields["elmo"])
    emrex_elmo.validate(signed, "1.7.0")
    cert = emrex_elmo.load_certificates(secret_files.signing_cert.read_bytes())
    emrex_elmo.verify(signed, cert)
    elmo = emrex_elmo.from_xml(signed)
    assert len(elmo.reports) == 2
    assert elmo.attachments[0].type == "EMREX transcript"
    content = elmo.attachments[0].contents[0].value
    assert content.startswith("data:application/pdf;base64,")
    assert base64.b64decode(content.split(",", 1)[1]).startswith(b"%PDF-")
