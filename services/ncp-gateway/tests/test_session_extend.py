"""WCAG 2.2.1: every transfer page shows the time left and a way to extend it; `POST /session/extend` extends by
another session lifetime, CSRF-checked, never beyond the maximum lifetime, and not once the transfer expired."""

import datetime as dt

import lxml.html
import pytest
from pydantic import ValidationError

from ncp_gateway.settings import Settings


def tid_of(browser) -> str:
    return next(c.name for c in browser.http.cookies.jar if "ncp_t_" in c.name).split("ncp_t_")[1]


def seconds_shown(html: str) -> int:
    return int(lxml.html.fromstring(html).xpath("//span[@id='time-left']")[0].get("data-seconds"))


def form_fields(html: str, selector: str) -> dict[str, list[str]]:
    form = lxml.html.fromstring(html).xpath(selector)[0]
    return {i.get("name"): [i.get("value") or ""] for i in form.xpath(".//input[@type='hidden']")}


async def extend(browser, *, json_answer: bool, csrf: str | None = "from-page"):
    if csrf == "from-page":
        csrf = form_fields((await browser.selection()).text, "//form[@id='extend-form']")["csrf"][0]
    data = {"t": tid_of(browser), **({"csrf": csrf} if csrf is not None else {})}
    headers = {"accept": "application/json"} if json_answer else {"accept": "text/html"}
    return await browser.http.post("/session/extend", data=data, headers=headers)


async def test_every_transfer_page_offers_extending_without_javascript(browser):
    await browser.login("demo-learner-1")
    for path in ("/select", "/preview"):
        if path == "/preview":
            await browser.submit(keys=["r2.0"])
        doc = lxml.html.fromstring((await browser.http.get(path)).text)
        form = doc.xpath("//form[@id='extend-form']")[0]
        assert form.get("method") == "post"
        assert form.get("action") == "/session/extend"
        fields = form_fields(lxml.html.tostring(form).decode(), "//form")
        assert fields["t"] == [tid_of(browser)]
        assert fields["csrf"][0]
        assert form.xpath(".//button")[0].text_content().strip() == "Extend the time"
        # The warning the script opens is in the page, labelled and described.
        dialog = doc.xpath("//dialog[@id='session-warning']")[0]
        assert doc.xpath(f"//*[@id='{dialog.get('aria-labelledby')}']")[0].text_content().strip()
        assert dialog.get("aria-describedby")
        assert int(doc.xpath("//div[@id='timer']")[0].get("data-warn")) == 120


@pytest.mark.parametrize("json_answer", [True, False])
async def test_extending_gives_another_session_lifetime(browser, clock, json_answer):
    await browser.login("demo-learner-1")
    clock.advance(dt.timedelta(minutes=18))  # 2 of the session's 20 minutes left, on the gateway's clock
    assert seconds_shown((await browser.selection()).text) <= 120
    answer = await extend(browser, json_answer=json_answer)
    if json_answer:
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert 1190 <= body["seconds_left"] <= 1200
        assert body["can_extend"] is True
    else:  # without JavaScript: back to the page the student was on
        assert answer.status_code == 303
        assert answer.headers["location"] == f"/select?t={tid_of(browser)}"
    assert 1190 <= seconds_shown((await browser.selection()).text) <= 1200


@pytest.mark.parametrize("csrf", [None, "wrong"])
async def test_extending_needs_the_csrf_token(browser, clock, csrf):
    await browser.login("demo-learner-1")
    clock.advance(dt.timedelta(minutes=18))
    problem = await extend(browser, json_answer=True, csrf=csrf)
    assert problem.status_code == 403
    assert problem.headers["content-type"] == "application/problem+json"
    assert problem.json()["code"] == "csrf"
    page = await extend(browser, json_answer=False, csrf=csrf)
    assert page.status_code == 403
    assert page.headers["content-type"].startswith("text/html")
    assert seconds_shown((await browser.selection()).text) <= 120  # unchanged


async def test_extending_stops_at_the_maximum_lifetime(make_browser, clock):
    async with make_browser(session_max_lifetime_seconds=1500) as browser:
        await browser.login("demo-learner-1")
        clock.advance(dt.timedelta(minutes=10))
        first = await extend(browser, json_answer=True)
        assert first.status_code == 200
        assert 890 <= first.json()["seconds_left"] <= 900  # 1500 s after the entry, not 1200 s from now
        assert first.json()["can_extend"] is False
        page = await browser.selection()
        assert not lxml.html.fromstring(page.text).xpath("//form[@id='extend-form']")
        data = {"t": tid_of(browser), "csrf": await csrf_of(browser)}
        again = await browser.http.post("/session/extend", data=data, headers={"accept": "application/json"})
        assert again.status_code == 409
        assert again.json()["code"] == "lifetime_reached"
        html = await browser.http.post("/session/extend", data=data)
        assert html.status_code == 409
        assert "cannot be extended any further" in html.text
        assert 880 <= seconds_shown((await browser.selection()).text) <= 900


async def csrf_of(browser) -> str:
    return form_fields((await browser.selection()).text, "//form[@id='selection']")["csrf"][0]


async def test_an_expired_transfer_is_not_extended_but_ends_with_ncp_error(browser, gateway_settings, kit, clock):
    await browser.login("demo-learner-1")
    csrf = await csrf_of(browser)
    tid = tid_of(browser)
    clock.advance(dt.timedelta(seconds=gateway_settings.session_ttl_seconds + 1))  # on the gateway's clock
    problem = await browser.http.post("/session/extend", data={"t": tid, "csrf": csrf},
                                      headers={"accept": "application/json"})
    assert problem.status_code == 410
    assert problem.json()["code"] == "transfer_expired"
    handoff = kit.handoff_of(await browser.http.post("/session/extend", data={"t": tid, "csrf": csrf}))
    assert handoff.fields["returnCode"] == "NCP_ERROR"
    assert handoff.fields["sessionId"] == "emc-session-1"


async def test_extending_without_a_transfer(offline_browser):
    problem = await offline_browser.http.post("/session/extend", data={"t": "A" * 16, "csrf": "x"},
                                              headers={"accept": "application/json"})
    assert problem.status_code == 404
    assert problem.headers["content-type"] == "application/problem+json"
    page = await offline_browser.http.post("/session/extend", data={"t": "A" * 16, "csrf": "x"})
    assert page.status_code == 400
    assert "no active transfer" in page.text


def test_the_maximum_lifetime_cannot_be_shorter_than_one_session(gateway_settings):
    with pytest.raises(ValidationError, match="MAX_LIFETIME"):
        Settings(**{**gateway_settings.model_dump(), "session_ttl_seconds": 1200,
                    "session_max_lifetime_seconds": 600})
