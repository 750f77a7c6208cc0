"""Entry (`GET|POST /emrex`): what starts a transfer, and what gets an error page instead of a redirect."""

import sqlite3

import pytest

LONG_URL = "https://emc.example.fi/" + "a" * 2030


@pytest.mark.parametrize("method", ["POST", "GET"])
async def test_valid_entry_starts_login_with_a_secure_session_cookie(offline_browser, method):
    response = await offline_browser.enter(method=method)
    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith("/login?t=")
    cookie = response.headers["set-cookie"]
    # One cookie per transfer, named after the transfer id the URL carries.
    assert cookie.startswith(f"__Host-ncp_t_{location.removeprefix('/login?t=')}=")
    for attribute in ("HttpOnly", "Secure", "SameSite=lax", "Path=/"):
        assert attribute.lower() in cookie.lower()


@pytest.mark.parametrize(("params", "message"), [
    ({"returnUrl": None}, "returnUrl is missing"),
    ({"returnUrl": ""}, "returnUrl is missing"),
    ({"returnUrl": "http://emc.example.fi/return"}, "must use https"),
    ({"returnUrl": "http://127.0.0.1:9000/return"}, "must use https"),  # loopback http needs the dev setting
    ({"returnUrl": "javascript:alert(1)"}, "absolute URL"),
    ({"returnUrl": "data:text/html,hi"}, "absolute URL"),
    ({"returnUrl": "ftp://emc.example.fi/return"}, "must use https"),
    ({"returnUrl": "/relative/return"}, "absolute URL"),
    ({"returnUrl": "//emc.example.fi/return"}, "must use https"),
    ({"returnUrl": "https://user:pw@emc.example.fi/return"}, "credentials"),
    ({"returnUrl": "https://user@emc.example.fi/return"}, "credentials"),
    ({"returnUrl": LONG_URL}, "longer than 2048"),
    ({"returnUrl": "https://emc.example.fi/re turn"}, "not allowed in a URL"),
    ({"returnUrl": 'https://emc.example.fi/"><script>'}, "not allowed in a URL"),
    ({"returnUrl": "https://emc.example.fi:99999/return"}, "not a valid URL"),
    ({"returnUrl": "https:///return"}, "absolute URL"),
    ({"sessionId": None}, "sessionId is missing"),
    ({"sessionId": ""}, "sessionId is missing"),
    ({"sessionId": "x" * 129}, "longer than 128"),
    ({"sessionId": "abc\tdef"}, "printable ASCII"),
    ({"sessionId": "caf\u00e9"}, "printable ASCII"),
])
async def test_unusable_entry_gets_an_error_page_never_a_redirect(offline_browser, params, message):
    data = {"sessionId": "emc-session-1", "returnUrl": "https://emc.example.fi/return"}
    for key, value in params.items():
        if value is None:
            data.pop(key)
        else:
            data[key] = value
    response = await offline_browser.http.post("/emrex", data=data)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/html")
    assert "location" not in response.headers
    assert "<form" not in response.text  # nothing posts anywhere
    assert message in response.text.replace("&#34;", '"')
    assert "set-cookie" not in response.headers or "ncp_lang" in response.headers["set-cookie"]


async def test_repeated_parameter_is_refused(offline_browser):
    response = await offline_browser.http.get("/emrex?sessionId=a&sessionId=b&returnUrl=https://emc.example.fi/r")
    assert response.status_code == 400
    assert "more than once" in response.text


async def test_unknown_parameters_are_ignored_and_extras_are_read(offline_browser):
    response = await offline_browser.enter(foo="bar", pubKey="x", allowToPickCourses="false",
                                   allowNotPassedCourses="true", hei_id="aurora.example.fi")
    assert response.status_code == 303


async def test_http_loopback_return_url_needs_the_development_setting(make_browser):
    async with make_browser(allow_http_loopback=True) as b:
        response = await b.enter(returnUrl="http://127.0.0.1:9000/return")
        assert response.status_code == 303
        response = await b.enter(returnUrl="http://localhost:9000/return")
        assert response.status_code == 303
        response = await b.enter(returnUrl="http://emc.example.fi/return")
        assert response.status_code == 400


async def test_allowlist_limits_receiver_origins(make_browser):
    async with make_browser(allowed_return_origins=["https://EMC.example.fi:443/"]) as b:
        assert (await b.enter(returnUrl="https://emc.example.fi/any/path")).status_code == 303
        refused = await b.enter(returnUrl="https://other.example.fi/return")
        assert refused.status_code == 400
        assert "not a registered receiver" in refused.text
        assert (await b.enter(returnUrl="https://emc.example.fi:8443/return")).status_code == 400


async def test_session_id_of_128_printable_characters_is_echoed_byte_for_byte(browser, kit):
    session_id = ('<a href="x">&\'' + "".join(chr(c) for c in range(0x20, 0x7F))).ljust(128, "Z")
    assert len(session_id) == 128
    await browser.login("demo-learner-1", sessionId=session_id)
    handoff = kit.handoff_of(await browser.cancel())
    assert handoff.fields["sessionId"] == session_id


@pytest.mark.parametrize("method", ["HEAD", "PUT", "DELETE"])
async def test_the_entry_answers_get_and_post_only(offline_browser, method):
    # The entry is a plain Starlette route (no FastAPI routing): Starlette's implicit HEAD for GET is not on it.
    response = await offline_browser.http.request(
        method, "/emrex", params={"sessionId": "emc-session-1", "returnUrl": "https://emc.example.fi/return"})
    assert response.status_code == 405
    assert "set-cookie" not in response.headers


async def test_the_entry_keeps_the_middlewares_and_its_route_template(offline_browser):
    response = await offline_browser.enter(method="POST")
    assert response.status_code == 303
    for header in ("x-request-id", "x-content-type-options", "content-security-policy"):
        assert header in response.headers
    metrics = await offline_browser.http.get("/metrics")
    assert 'route="/emrex"' in metrics.text
    assert 'route="unmatched"' not in metrics.text


async def test_a_new_entry_clears_the_cookies_of_transfers_that_are_gone_and_keeps_the_others(
        offline_browser, gateway_settings):
    tids = []
    for _ in range(2):
        entered = await offline_browser.enter()
        assert entered.status_code == 303
        tids.append(entered.headers["location"].removeprefix("/login?t="))
    gone, kept = tids
    with sqlite3.connect(gateway_settings.database_path) as db:  # purged, as an expired record is
        assert db.execute("DELETE FROM gateway_session WHERE data LIKE ?", (f'%"tid":"{gone}"%',)).rowcount == 1
    third = await offline_browser.enter()
    assert third.status_code == 303
    cookies = third.headers.get_list("set-cookie")
    assert any(c.startswith(f"__Host-ncp_t_{gone}=") and "Max-Age=0" in c for c in cookies)
    assert not any(kept in c for c in cookies)
    assert len(cookies) == 2  # the new transfer's, and the gone one's cleared
