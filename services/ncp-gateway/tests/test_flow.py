"""Every return path in-process: OK, NO_RESULTS, CANCEL (each page), ERROR (each failing dependency)."""

import base64
import datetime as dt
import hashlib

import httpx
import lxml.html
import pytest

import emrex_elmo
from emrex_elmo import transport, vocabulary
from ncp_gateway.domain.results_view import pick_title


def labels(page: httpx.Response) -> dict[str, str]:
    doc = lxml.html.fromstring(page.text)
    return {el.get("for").removeprefix("los-"): el.text_content().strip() for el in doc.xpath("//label[@for]")
            if el.get("for", "").startswith("los-")}


def leaves(elmo: emrex_elmo.Elmo) -> set[str]:
    return {pick_title(los.titles, "en") for report in elmo.reports
            for los in vocabulary.leaves(report.learning_opportunity_specifications)}


async def audit(settings):
    from ncp_gateway.adapters.store import SessionStore, make_engine

    engine = make_engine(settings.sqlalchemy_url)
    try:
        return await SessionStore(engine).audit_records()
    finally:
        await engine.dispose()


async def test_ok_sends_exactly_the_chosen_results_signed_with_the_transcript(browser, kit, secret_files,
                                                                             gateway_settings):
    callback = await browser.login("demo-learner-1")
    assert callback.headers["location"].startswith("/select?t=")
    page = await browser.selection()
    names = labels(page)
    assert "Aurora University" in page.text
    chosen = ["r0.0.0.0", "r1.0"]
    response = await browser.submit(keys=chosen)
    assert response.status_code == 303, response.text
    prepared = await browser.http.get("/preview.xml")
    assert prepared.headers["content-type"].startswith("application/xml")
    handoff = kit.handoff_of(await browser.send())
    assert handoff.action == kit.RETURN_URL
    assert handoff.fields == {"sessionId": "emc-session-1", "returnCode": "NCP_OK", "returnMessage": "",
                              "elmo": handoff.fields["elmo"]}
    signed = transport.decode(handoff.fields["elmo"])
    emrex_elmo.validate(signed, "1.7.0")
    emrex_elmo.verify(signed, emrex_elmo.load_certificates(secret_files.signing_cert.read_bytes()))
    sent = emrex_elmo.from_xml(signed)
    assert sent == emrex_elmo.from_xml(prepared.content)  # the preview showed exactly what was signed
    assert leaves(sent) == {names[k] for k in chosen}
    assert [r.issuer.identifier("schac") for r in sent.reports] == ["aurora.example.fi", "nordlys.example.se"]
    # The chosen course keeps its degree and module as structure (emrex_elmo.select).
    assert sent.reports[0].learning_opportunity_specifications[0].type == "Degree Programme"
    assert sent.generated_date == sent.reports[0].issue_date
    [attachment] = sent.attachments
    assert attachment.type == "EMREX transcript"
    content = attachment.contents[0].value
    assert content.startswith("data:application/pdf;base64,")
    pdf = base64.b64decode(content.split(",", 1)[1])
    assert pdf.startswith(b"%PDF-")
    assert b"DejaVu" in pdf
    assert len(pdf) < 100_000
    [record] = await audit(gateway_settings)
    assert record.return_code == "NCP_OK"
    assert record.receiver_origin == kit.RETURN_ORIGIN
    assert record.institutions == "aurora.example.fi nordlys.example.se"
    assert record.learning_opportunities == 4
    assert record.credits == "12.5"
    assert record.elmo_sha256 == hashlib.sha256(signed).hexdigest()
    assert len(record.login_pseudonym) == 64
    assert "Virtanen" not in repr(record)
    assert "demo-learner" not in repr(record)
    # The session is gone after the hand-off.
    assert (await browser.http.get("/select")).status_code == 400


async def test_handoff_page_autosubmits_with_a_fallback_button_and_a_csp_for_the_receiver(browser, kit):
    await browser.login("demo-learner-1")
    response = await browser.cancel()
    csp = response.headers["content-security-policy"]
    assert f"form-action {kit.RETURN_ORIGIN}" in csp
    assert "frame-ancestors 'none'" in csp
    nonce = csp.split("'nonce-")[1].split("'")[0]
    doc = lxml.html.fromstring(response.text)
    assert doc.xpath("//script")[0].get("nonce") == nonce
    assert doc.xpath("//form[@id='emrex']//button[@type='submit']")
    assert "ncp_gateway=;" in response.headers["set-cookie"] or "Max-Age=0" in response.headers["set-cookie"]
    assert 'action="https://emc.example.fi/emrex/return?tab=1"' in response.text


async def test_no_results_anywhere_returns_ncp_no_results(browser, kit, gateway_settings):
    handoff = kit.handoff_of(await browser.login("demo-learner-empty"))
    assert handoff.fields["returnCode"] == "NCP_NO_RESULTS"
    assert handoff.fields["elmo"] == ""
    assert (await audit(gateway_settings))[0].return_code == "NCP_NO_RESULTS"


async def test_hei_id_limits_results_to_one_institution(browser, kit):
    await browser.login("demo-learner-1", hei_id="nordlys.example.se")
    page = await browser.selection()
    assert "Nordlys" in page.text
    assert "Aurora University" not in page.text


async def test_hei_id_without_results_returns_no_results(browser, kit):
    handoff = kit.handoff_of(await browser.login("demo-learner-1", hei_id="unknown.example.org"))
    assert handoff.fields["returnCode"] == "NCP_NO_RESULTS"


@pytest.mark.parametrize("page", ["/select", "/preview"])
async def test_cancel_from_each_page_returns_ncp_cancel(browser, kit, gateway_settings, page):
    await browser.login("demo-learner-1")
    if page == "/preview":
        await browser.submit(keys=["r2.0"])
    handoff = kit.handoff_of(await browser.cancel(page))
    assert handoff.fields["returnCode"] == "NCP_CANCEL"
    assert handoff.fields["elmo"] == ""
    assert handoff.fields["returnMessage"]
    [record] = await audit(gateway_settings)
    assert record.return_code == "NCP_CANCEL"
    assert record.elmo_sha256 is None


async def test_sis_down_returns_ncp_error(make_browser, kit):
    async with make_browser(transports={"sis": kit.FailingTransport()}) as b:
        handoff = kit.handoff_of(await b.login("demo-learner-1"))
        assert handoff.fields["returnCode"] == "NCP_ERROR"
        assert "could not be reached" in handoff.fields["returnMessage"]


class DownFrom(httpx.AsyncBaseTransport):
    """The real signer until `path` is asked for; from then on it is down."""

    def __init__(self, inner: httpx.AsyncBaseTransport, path: str) -> None:
        self.inner, self.path = inner, path

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == self.path:
            raise httpx.ConnectError("connection refused", request=request)
        return await self.inner.handle_async_request(request)


async def test_signer_down_returns_ncp_error(make_browser, kit, gateway_settings):
    # Down from the start: the first signature (the transcript PDF, made before the preview) fails.
    async with make_browser(transports={"signer": kit.FailingTransport()}) as b:
        await b.login("demo-learner-1")
        handoff = kit.handoff_of(await b.submit(keys=["r2.0"]))
        assert handoff.fields["returnCode"] == "NCP_ERROR"
        assert "could not be signed" in handoff.fields["returnMessage"]
        assert handoff.fields["elmo"] == ""
        assert (await b.http.get("/preview")).status_code == 400  # the session is over
    assert [r.return_code for r in await audit(gateway_settings)] == ["NCP_ERROR"]


async def test_signer_down_at_send_returns_ncp_error(make_browser, upstreams, kit, gateway_settings):
    # Up for the transcript, down when the ELMO is to be signed.
    async with make_browser(transports={"signer": DownFrom(upstreams["signer"], "/v1/sign")}) as b:
        await b.login("demo-learner-1")
        await b.submit(keys=["r2.0"])
        handoff = kit.handoff_of(await b.send())
        assert handoff.fields["returnCode"] == "NCP_ERROR"
        assert "could not be signed" in handoff.fields["returnMessage"]
        assert handoff.fields["elmo"] == ""
        assert (await b.http.get("/preview")).status_code == 400  # the session is over
    assert [r.return_code for r in await audit(gateway_settings)] == ["NCP_ERROR"]


async def test_signer_refusing_the_caller_returns_ncp_error(make_browser, kit, tmp_path):
    wrong = tmp_path / "wrong-token"
    wrong.write_text("not-the-gateway-token-at-all\n")
    async with make_browser(signer_token_path=wrong) as b:
        await b.login("demo-learner-1")
        handoff = kit.handoff_of(await b.submit(keys=["r2.0"]))
        assert handoff.fields["returnCode"] == "NCP_ERROR"
        assert "401" in handoff.fields["returnMessage"] or "token" in handoff.fields["returnMessage"]


async def test_registry_down_still_names_the_receiver_host(make_browser, kit):
    async with make_browser(transports={"registry": kit.FailingTransport()}) as b:
        await b.login("demo-learner-1")
        await b.submit(keys=["r2.0"])
        preview = await b.http.get("/preview")
        assert "emc.example.fi" in preview.text
        assert "operated for" not in preview.text
        assert kit.handoff_of(await b.send()).fields["returnCode"] == "NCP_OK"


@pytest.mark.parametrize("stage", ["select", "preview", "send"])
async def test_session_expiry_returns_ncp_error(browser, kit, clock, stage):
    await browser.login("demo-learner-1")
    if stage != "select":
        await browser.submit(keys=["r2.0"])
    csrf = kit.form_fields((await browser.http.get("/preview" if stage == "send" else "/select")).text,
                           "//form")["csrf"][0]
    clock.advance(dt.timedelta(minutes=20))  # the session's lifetime (setting), on the gateway's clock
    if stage == "send":
        response = await browser.http.post("/send", data={"csrf": csrf, "consent": "yes"})
    else:
        response = await browser.http.get(f"/{stage}")
    handoff = kit.handoff_of(response)
    assert handoff.fields["returnCode"] == "NCP_ERROR"
    assert "expired" in handoff.fields["returnMessage"]


@pytest.mark.parametrize(("overrides", "code"), [
    ({"return_code_prefix": "EMP"}, "EMP_CANCEL"),
    ({"return_code_prefix_by_origin": {"https://EMC.example.fi": "EMP"}}, "EMP_CANCEL"),
    ({"return_code_prefix_by_origin": {"https://other.example.fi": "EMP"}}, "NCP_CANCEL"),
])
async def test_emp_return_codes_by_configuration(make_browser, kit, overrides, code):
    async with make_browser(**overrides) as b:
        await b.login("demo-learner-1")
        assert kit.handoff_of(await b.cancel()).fields["returnCode"] == code


async def test_emp_prefix_applies_to_ok_too(make_browser, kit):
    async with make_browser(return_code_prefix="EMP") as b:
        await b.login("demo-learner-1")
        await b.submit(keys=["r2.1"])
        assert kit.handoff_of(await b.send()).fields["returnCode"] == "EMP_OK"


async def test_nothing_chosen_stays_on_the_page_with_a_message(browser):
    await browser.login("demo-learner-1")
    response = await browser.submit(keys=[])
    assert response.status_code == 400
    assert "Choose at least one result" in response.text


async def test_consent_is_required_before_sending(browser, kit):
    await browser.login("demo-learner-1")
    await browser.submit(keys=["r2.0"])
    refused = await browser.send(consent=False)
    assert refused.status_code == 400
    assert "confirm your consent" in refused.text
    assert kit.handoff_of(await browser.send()).fields["returnCode"] == "NCP_OK"


async def test_consent_names_receiver_and_registry_institution(browser):
    await browser.login("demo-learner-1")
    await browser.submit(keys=["r2.0"])
    preview = await browser.http.get("/preview")
    assert "emc.example.fi" in preview.text
    assert "Aurora University" in preview.text
    assert "outside the EU/EEA" not in preview.text


async def test_receiver_outside_eu_eea_gets_a_notice(browser):
    await browser.login("demo-learner-1", returnUrl="https://emc.example.com/return")
    await browser.submit(keys=["r2.0"])
    preview = await browser.http.get("/preview")
    assert "may be outside the EU/EEA" in preview.text


async def test_not_passed_results_cannot_be_chosen_unless_allowed(browser, make_browser, kit):
    await browser.login("demo-learner-1")
    names = labels(await browser.selection())
    assert not any(v.startswith("Distributed Systems") for v in names.values())  # failed
    assert "Models of Computation" not in names.values()  # failed
    assert names["r0.0"].startswith("Bachelor")  # the degree in progress: chosen for its passed parts
    await browser.submit(keys=["r0.0"])
    sent = emrex_elmo.from_xml(transport.decode(kit.handoff_of(await browser.send()).fields["elmo"]))
    statuses = {los.specifies.status for _, los, _ in sent.iter_los()}
    assert "failed" not in statuses
    assert "passed" in statuses
    async with make_browser() as other:
        await other.login("demo-learner-1", allowNotPassedCourses="true")
        names = labels(await other.selection())
        failed = next(k for k, v in names.items() if v.startswith("Distributed Systems"))
        await other.submit(keys=[failed])
        sent = emrex_elmo.from_xml(transport.decode(kit.handoff_of(await other.send()).fields["elmo"]))
        assert sent.reports[0].learning_opportunity_specifications[0].specifies.status == "failed"


async def test_without_picking_everything_passed_is_sent(browser, kit):
    callback = await browser.login("demo-learner-1", allowToPickCourses="false")
    assert callback.status_code == 303
    page = await browser.selection()
    assert 'type="checkbox"' not in page.text
    assert (await browser.submit(keys=[])).status_code == 303
    sent = emrex_elmo.from_xml(transport.decode(kit.handoff_of(await browser.send()).fields["elmo"]))
    assert len(sent.reports) == 3


async def test_filters_hide_entries_but_keep_their_choice(browser):
    await browser.login("demo-learner-1")
    page = await browser.selection()
    first = await browser.submit(keys=["r2.0"], action="filter", page=page, institution="aurora.example.fi")
    assert first.status_code == 303
    assert "institution=aurora.example.fi" in first.headers["location"]
    filtered = await browser.http.get(first.headers["location"])
    assert "Rheinau" not in filtered.text.split("<table")[1] if "<table" in filtered.text else True
    assert set(labels(filtered)) <= {k for k in labels(page) if k.startswith("r0.")}
    # Choose an Aurora course while Rheinau is hidden: the Rheinau choice stays.
    await browser.submit(keys=["r0.1"], page=filtered)
    preview = await browser.http.get("/preview")
    assert "Maschinelles Lernen" in preview.text or "Machine Learning" in preview.text
    assert "Lineaarialgebra" in preview.text or "Linear Algebra" in preview.text


async def test_date_type_and_level_filters(browser):
    await browser.login("demo-learner-1")
    by_type = labels(await browser.selection(type="Module"))
    assert "r0.0.0" in by_type
    assert "r1.0" not in by_type
    by_date = labels(await browser.selection(date_from="2025-01-01"))
    assert set(by_date) == {"r2.0", "r2.1"}
    by_level = labels(await browser.selection(level="7"))
    assert set(by_level) == set()  # the only EQF 7 result failed: shown, but not selectable


async def test_sending_twice_is_refused(browser, kit):
    await browser.login("demo-learner-1")
    await browser.submit(keys=["r2.0"])
    page = await browser.http.get("/preview")
    csrf = kit.form_fields(page.text, "//form[@action='/send']")["csrf"][0]
    first = await browser.http.post("/send", data={"csrf": csrf, "consent": "yes"})
    assert kit.handoff_of(first).fields["returnCode"] == "NCP_OK"
    second = await browser.http.post("/send", data={"csrf": csrf, "consent": "yes"})
    assert second.status_code == 400
    assert 'id="emrex"' not in second.text


@pytest.mark.parametrize("step", ["login", "callback"])
async def test_session_expiry_before_the_login_ends_returns_ncp_error(browser, kit, clock, step):
    """The lifetime runs from the entry on the gateway's clock, also while the student is at the provider."""
    entry = await browser.enter()
    if step == "login":
        clock.advance(dt.timedelta(minutes=20))
        response = await browser.http.get(entry.headers["location"])
    else:
        browser.authorization_url = (await browser.http.get(entry.headers["location"])).headers["location"]
        callback = await browser.provider_login("demo-learner-1")
        clock.advance(dt.timedelta(minutes=20))
        response = await browser.callback(callback)
    handoff = kit.handoff_of(response)
    assert handoff.fields["sessionId"] == "emc-session-1"
    assert handoff.fields["returnCode"] == "NCP_ERROR"
    assert "expired" in handoff.fields["returnMessage"]


async def test_a_transfer_shortly_before_expiry_still_works_and_shows_the_time_left(browser, clock):
    await browser.login("demo-learner-1")
    clock.advance(dt.timedelta(minutes=20) - dt.timedelta(seconds=30))
    page = await browser.selection()
    assert "0 min 30 s" in page.text
