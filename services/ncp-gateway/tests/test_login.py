"""OIDC login: PKCE, state, nonce, issuer, audience, expiry and signature checks; session fixation."""

import base64
import hashlib
import logging
from urllib.parse import urlencode

import httpx
import lxml.html
import pytest
from joserfc.jwk import RSAKey

from ncp_gateway.domain.provider_errors import PROVIDER_ERRORS, UNKNOWN_PROVIDER_ERROR
from ncp_gateway.messages import CATALOG, missing_translations


def cookie_value(browser) -> str:
    return next(c.value for c in browser.http.cookies.jar if "ncp_t_" in c.name)


def cookie_name(browser) -> str:
    return next(c.name for c in browser.http.cookies.jar if "ncp_t_" in c.name)


async def test_authorization_request_uses_pkce_state_nonce_and_the_callback(browser, gateway_settings):
    await browser.start_login()
    params = browser.auth_params()
    assert browser.authorization_url.startswith(gateway_settings.oidc_issuer + "/")
    assert params["response_type"] == "code"
    assert params["code_challenge_method"] == "S256"
    assert len(params["code_challenge"]) == 43
    assert len(params["state"]) >= 32
    assert len(params["nonce"]) >= 32
    assert "openid" in params["scope"].split()
    assert params["redirect_uri"] == "https://gateway.example.eu/login/callback"


async def test_login_at_the_real_provider_rotates_the_session_cookie(browser, kit):
    await browser.start_login()
    before = cookie_value(browser)
    callback = await browser.callback(await browser.provider_login("demo-learner-1"))
    assert callback.status_code == 303
    after = cookie_value(browser)
    assert after != before
    # The pre-login cookie (which an attacker could have planted) no longer opens the transfer.
    async with httpx.AsyncClient(transport=browser.http._transport, base_url=kit.GATEWAY_URL) as other:
        other.cookies.set(cookie_name(browser), before)
        stale = await other.get("/select")
        assert stale.status_code == 400
        assert "no active transfer" in stale.text
    assert (await browser.selection()).status_code == 200


async def assert_transfer_goes_on(browser, kit, response):
    """A callback that is not ours ends nothing: a page with Try again and Cancel; the login can still finish."""
    assert response.status_code == 400
    assert 'id="emrex"' not in response.text
    assert "login was not completed" in response.text
    links = [a.get("href") for a in lxml.html.fromstring(response.text).xpath("//main//a")]
    assert any(href.startswith("/login?t=") for href in links)
    kit.form_fields(response.text, "//form[@action='/cancel']")["csrf"][0]  # the student's way out


@pytest.mark.parametrize("query", [
    "error=access_denied&state=forged", "error=access_denied", "error=server_error",
    "code=abc&state=forged", "code=abc", "state=", "error=access_denied&state=",
])
async def test_a_callback_without_this_browsers_state_never_ends_the_transfer(browser, kit, gateway_settings, query):
    """Any site can send the student's browser to /login/callback (SameSite=Lax cookies come along on a top-level
    GET); only `state` proves the answer is for the login this browser started."""
    await browser.start_login()
    response = await browser.callback(f"/login/callback?{query}")
    await assert_transfer_goes_on(browser, kit, response)
    # The real login still completes afterwards.
    callback = await browser.callback(await browser.provider_login("demo-learner-1"))
    assert callback.status_code == 303, callback.text


async def test_a_forged_callback_is_answered_the_same_with_two_logins_in_progress(browser, kit):
    await browser.start_login()
    second = await browser.http.post("/emrex", data={"sessionId": "two", "returnUrl": kit.RETURN_URL})
    await browser.http.get(second.headers["location"])
    response = await browser.callback("/login/callback?error=access_denied")
    assert response.status_code == 400
    assert 'id="emrex"' not in response.text
    assert 'action="/cancel"' not in response.text  # which one would it be? neither is touched


async def test_declining_at_a_provider_that_drops_state_asks_the_student_then_cancels(browser, kit):
    """The development provider's Deny answers error=access_denied without state: one more click to cancel."""
    await browser.start_login()
    async with httpx.AsyncClient(timeout=10) as op:  # the provider's Deny button
        answer = await op.post(browser.authorization_url, data={"action": "deny"})
    assert "error=access_denied" in answer.headers["location"]
    assert "state=" not in answer.headers["location"]
    page = await browser.callback(answer.headers["location"])
    await assert_transfer_goes_on(browser, kit, page)
    form = kit.form_fields(page.text, "//form[@action='/cancel']")
    handoff = kit.handoff_of(await browser.http.post("/cancel", data={"t": form["t"][0], "csrf": form["csrf"][0]}))
    assert handoff.fields["returnCode"] == "NCP_CANCEL"
    assert handoff.fields["returnMessage"] == "The user cancelled the transfer."


async def test_declining_with_state_returns_ncp_cancel(browser, kit):
    await browser.start_login()
    state = browser.auth_params()["state"]
    handoff = kit.handoff_of(await browser.callback(f"/login/callback?error=access_denied&state={state}"))
    assert handoff.fields["returnCode"] == "NCP_CANCEL"
    assert handoff.fields["returnMessage"] == "The user cancelled the login."


PROVIDER_CODES = [*PROVIDER_ERRORS, "unknown_code", "", "x" * 500]
INJECTED = "<b>call+0800+now</b> https://evil.example"


@pytest.mark.parametrize("code", PROVIDER_CODES)
@pytest.mark.parametrize("lang", ["en", "de"])
async def test_provider_errors_become_fixed_catalogue_texts(browser, kit, code, lang):
    browser.http.headers["accept-language"] = lang
    await browser.start_login()
    state = browser.auth_params()["state"]
    query = urlencode({"error": code, "state": state, "error_description": INJECTED, "error_uri": INJECTED})
    handoff = kit.handoff_of(await browser.callback(f"/login/callback?{query}"))
    assert handoff.fields["returnCode"] == "NCP_ERROR"
    expected_key = PROVIDER_ERRORS.get(code, UNKNOWN_PROVIDER_ERROR)
    assert handoff.fields["returnMessage"] == CATALOG[expected_key][lang]
    assert "evil" not in handoff.response.text
    assert "0800" not in handoff.response.text
    if code:
        assert code not in handoff.response.text.replace(kit.RETURN_URL, "")


def test_every_provider_error_text_is_translated():
    keys = {*PROVIDER_ERRORS.values(), UNKNOWN_PROVIDER_ERROR, "return.login_cancel"}
    assert not missing_translations(keys)
    assert len(set(PROVIDER_ERRORS)) == 15  # RFC 6749 §4.1.2.1 (6 besides access_denied) + OIDC Core §3.1.2.6 (9)


async def test_callback_without_a_session_is_an_error_page(browser):
    response = await browser.http.get("/login/callback?code=abc&state=def")
    assert response.status_code == 400
    assert 'id="emrex"' not in response.text


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


async def test_handmade_provider_valid_token_logs_in_and_sends_the_pkce_verifier(make_browser, handmade_op):
    async with make_browser(op=handmade_op) as b:
        await b.start_login()
        params = b.auth_params()
        handmade_op.codes["good"] = {"id_token": handmade_op.id_token(params["nonce"])}
        response = await b.callback(f"/login/callback?code=good&state={params['state']}")
        assert response.status_code == 303, response.text
        token_request = handmade_op.token_requests[-1]
        assert s256(token_request["code_verifier"]) == params["code_challenge"]
        assert token_request["redirect_uri"] == params["redirect_uri"]


OTHER_KEY = RSAKey.generate_key(2048, parameters={"kid": "k1"})


@pytest.mark.parametrize(("claims", "reason"), [
    ({"nonce": "not-the-nonce"}, "nonce"),
    ({"nonce": None}, "nonce"),
    ({"iss": "https://evil.example.test"}, "iss"),
    ({"aud": "someone-else"}, "aud"),
    ({"aud": ["ncp-gateway", "other"], "azp": "other"}, "azp"),
    ({"exp": 1_600_000_000, "iat": 1_599_999_000}, "expired"),
    ({"iat": 4_000_000_000, "exp": 4_000_000_600}, "iat"),
    ({"sub": None}, "sub"),
    ({"_key": OTHER_KEY}, "signature"),
])
async def test_bad_id_tokens_return_ncp_error(make_browser, handmade_op, kit, claims, reason):
    async with make_browser(op=handmade_op) as b:
        await b.start_login()
        params = b.auth_params()
        key = claims.pop("_key", None)
        handmade_op.codes["c"] = {"id_token": handmade_op.id_token(params["nonce"], key=key, **claims)}
        handoff = kit.handoff_of(await b.callback(f"/login/callback?code=c&state={params['state']}"))
        assert handoff.fields["returnCode"] == "NCP_ERROR"
        assert reason in handoff.fields["returnMessage"]
        assert handoff.fields["elmo"] == ""


async def test_token_endpoint_refusal_returns_ncp_error(make_browser, handmade_op, kit):
    async with make_browser(op=handmade_op) as b:
        await b.start_login()
        state = b.auth_params()["state"]
        handoff = kit.handoff_of(await b.callback(f"/login/callback?code=unknown&state={state}"))
        assert handoff.fields["returnCode"] == "NCP_ERROR"
        assert "refused" in handoff.fields["returnMessage"]


async def test_discovery_naming_another_issuer_returns_ncp_error(make_browser, handmade_op, kit):
    handmade_op.discovery_issuer = "https://op.example.test/other"
    async with make_browser(op=handmade_op) as b:
        entry = await b.enter()
        handoff = kit.handoff_of(await b.http.get(entry.headers["location"]))
        assert handoff.fields["returnCode"] == "NCP_ERROR"
        assert "another issuer" in handoff.fields["returnMessage"]


async def test_provider_down_returns_ncp_error(make_browser, kit, caplog):
    caplog.set_level(logging.INFO)
    async with make_browser(transports={"oidc": kit.FailingTransport()}) as b:
        entry = await b.enter()
        handoff = kit.handoff_of(await b.http.get(entry.headers["location"]))
        assert handoff.fields["returnCode"] == "NCP_ERROR"
        assert handoff.fields["returnMessage"] == CATALOG["return.login_unavailable"]["en"].format(reason="discovery")
    # The operator's log names the step and the transport's failure (a type, never a text or a person's data).
    [ended] = [r for r in caplog.records if r.getMessage() == "transfer ended"]
    assert (ended.error_code, ended.reason, ended.cause) == ("provider_unavailable", "discovery", "ConnectError")


async def test_configured_claim_is_the_learner_id_and_audit_keeps_only_a_pseudonym(make_browser, handmade_op, kit,
                                                                                  gateway_settings):
    async with make_browser(op=handmade_op, oidc_subject_claims=["uid", "sub"]) as b:
        await b.start_login()
        params = b.auth_params()
        handmade_op.codes["c"] = {"id_token": handmade_op.id_token(params["nonce"], uid="demo-learner-1",
                                                                   sub="opaque-123")}
        assert (await b.callback(f"/login/callback?code=c&state={params['state']}")).status_code == 303
        page = await b.selection()
        assert "Aurora University" in page.text
        handoff = kit.handoff_of(await b.cancel())
        assert handoff.fields["returnCode"] == "NCP_CANCEL"
    from ncp_gateway.adapters.store import SessionStore, make_engine
    from ncp_gateway.domain.outgoing import pseudonym

    engine = make_engine(gateway_settings.sqlalchemy_url)
    records = await SessionStore(engine).audit_records()
    await engine.dispose()
    key = gateway_settings.pseudonym_key_path.read_text().strip().encode()
    assert records[-1].login_pseudonym == pseudonym(key, handmade_op.issuer, "opaque-123")


async def test_callback_naming_another_issuer_returns_ncp_error(browser, kit):
    """RFC 9207: the authorization response's `iss`, when present, must be our provider (mix-up defence)."""
    await browser.start_login()
    url = await browser.provider_login("demo-learner-1")
    handoff = kit.handoff_of(await browser.callback(url + "&iss=https%3A%2F%2Fevil.example.test"))
    assert handoff.fields["returnCode"] == "NCP_ERROR"
    assert "(iss)" in handoff.fields["returnMessage"]
