"""EMREX 2.0 through the real gateway, signer, sis-adapter and registry-cache (in process): the authorization
request, the shared student pages, the code, the token endpoint with private_key_jwt and PKCE, and /results in
every format, plus each row of emrex2.md's error table. None of the bad requests may give a 5xx, a redirect to
an unregistered URI, or data."""

import base64
import datetime as dt
import hashlib
import json
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import lxml.html
import pytest
from joserfc import jws, jwt
from joserfc.jwk import ECKey, KeySet, OctKey, RSAKey
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from emrex_elmo import from_xml, validate, verify

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
GATEWAY = "https://gateway.example.eu"
TOKEN_URL = f"{GATEWAY}/oauth2/token"
CLIENT_ID = "emc-test"
OTHER_ID = "emc-other"
REDIRECT_URI = "https://emc.example.fi/emrex2/callback?tab=1"
OTHER_REDIRECT = "https://other.example.se/cb"


@dataclass
class Emc:
    """A registered EMREX 2.0 client: its id, key and redirect URI."""

    client_id: str
    key: ECKey | RSAKey
    redirect_uri: str

    def assertion(self, *, aud: str = TOKEN_URL, key: Any = None, alg: str | None = None, **claims: Any) -> str:
        now = int(time.time())
        body = {"iss": self.client_id, "sub": self.client_id, "aud": aud, "jti": secrets.token_urlsafe(16),
                "iat": now, "exp": now + 60}
        body.update(claims)
        body = {k: v for k, v in body.items() if v is not None}
        signing = key or self.key
        alg = alg or ("ES256" if isinstance(signing, ECKey) else "RS256")
        return jwt.encode({"alg": alg, "kid": self.key.kid}, body, signing, algorithms=[alg])


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


@pytest.fixture(scope="module")
def emcs() -> dict[str, Emc]:
    ec = ECKey.generate_key("P-256", private=True)
    ec.ensure_kid()
    rsa = RSAKey.generate_key(2048, private=True)
    rsa.ensure_kid()
    return {CLIENT_ID: Emc(CLIENT_ID, ec, REDIRECT_URI), OTHER_ID: Emc(OTHER_ID, rsa, OTHER_REDIRECT)}


@pytest.fixture
async def registry_with_clients(tmp_path: Path, secret_files, pki, emcs, kit) -> AsyncIterator[httpx.ASGITransport]:
    """The real registry-cache, mirroring an EMREG file and a client list with our two test clients."""
    from ncp_registry_cache.app import create_app as registry_app
    from ncp_registry_cache.settings import Settings as RegistrySettings

    emreg = tmp_path / "emreg-2.json"
    emreg.write_text(json.dumps({"emps": [{
        "url": "https://emc.example.fi/emrex", "acronym": "AURORA-EMC", "countryCode": "FI",
        "institutions": ["Aurora University"], "pubKey": pki[1].cert_pem().decode()}],
        "countries": [{"countryCode": "FI", "countryName": "Finland", "singleFetch": False}]}))
    clients = tmp_path / "clients.json"
    clients.write_text(json.dumps({"clients": [
        {"client_id": e.client_id, "name": f"Test EMC {e.client_id}", "redirect_uris": [e.redirect_uri],
         "jwks": {"keys": [{**e.key.as_dict(private=False), "use": "sig"}]}} for e in emcs.values()]}))
    settings = RegistrySettings(
        env="test", dev_mode=True, source=str(emreg), clients_source=str(clients), run_refresher=False,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'registry-2.db'}", caller_tokens_path=secret_files.callers)
    async with kit.running(registry_app(settings)) as transport:
        admin = (secret_files.callers / "admin").read_text().strip()
        async with httpx.AsyncClient(transport=transport, base_url="http://registry") as http:
            refreshed = await http.post("/v1/refresh", headers={"Authorization": f"Bearer {admin}"})
            assert refreshed.status_code == 200, refreshed.text
        yield transport


@dataclass
class Node:
    browser: Any
    http: httpx.AsyncClient
    database: Path
    signer: httpx.AsyncBaseTransport


@pytest.fixture
async def node(make_browser, registry_with_clients, upstreams, gateway_settings) -> AsyncIterator[Node]:
    async with make_browser(transports={"registry": registry_with_clients}, emrex2_enabled=True) as browser:
        yield Node(browser, browser.http, gateway_settings.database_path, upstreams["signer"])


def authorize_params(emc: Emc, challenge: str, **extra: str | None) -> dict[str, str]:
    params: dict[str, str | None] = {"response_type": "code", "client_id": emc.client_id,
                                     "redirect_uri": emc.redirect_uri, "state": "st-" + secrets.token_hex(4),
                                     "code_challenge": challenge, "code_challenge_method": "S256",
                                     "scope": "elmo userinfo pdf"}
    params.update(extra)
    return {k: v for k, v in params.items() if v is not None}


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def exit_url(response: httpx.Response) -> str:
    """Where the node sends the student back: a 303, or (after a form POST) the page's continue link."""
    if response.status_code == 303:
        return response.headers["location"]
    assert response.status_code == 200, response.text
    return lxml.html.fromstring(response.text).xpath("//a[@id='emrex2-continue']/@href")[0]


async def consent(node: Node, emc: Emc, challenge: str, *, who: str = "demo-learner-1",
                  keys: list[str] | None = None, cancel: bool = False, **extra: str | None) -> dict[str, str]:
    """The student's part: authorize, log in, select, consent. Answers the query the client receives."""
    params = authorize_params(emc, challenge, **extra)
    url = await student(node, f"/oauth2/authorize?{httpx.QueryParams(params)}", who=who, keys=keys, cancel=cancel)
    assert url.startswith(emc.redirect_uri + ("&" if "?" in emc.redirect_uri else "?")), url
    answer = query_of(url)
    assert answer["state"] == params["state"]
    assert answer["iss"] == GATEWAY
    return answer


async def student(node: Node, authorization_url: str, *, who: str = "demo-learner-1",
                  keys: list[str] | None = None, cancel: bool = False) -> str:
    """From the authorization request to the URL the node sends the student back to."""
    entry = await node.http.get(authorization_url)
    assert entry.status_code == 303, entry.text
    assert entry.headers["location"].startswith("/login?t=")
    login = await node.http.get(entry.headers["location"])
    assert login.status_code == 302
    node.browser.authorization_url = login.headers["location"]
    back = await node.browser.callback(await node.browser.provider_login(who))
    if back.status_code != 303 or not back.headers["location"].startswith("/select"):
        return exit_url(back)
    if cancel:
        return exit_url(await node.browser.cancel())
    assert (await node.browser.submit(keys=keys or ["r0.0.0.0", "r1.0"])).status_code == 303
    return exit_url(await node.browser.send())


async def token_request(node: Node, emc: Emc, code: str, verifier: str, *, assertion: str | None = None,
                        **fields: str | None) -> httpx.Response:
    data: dict[str, str | None] = {
        "grant_type": "authorization_code", "code": code, "redirect_uri": emc.redirect_uri,
        "code_verifier": verifier, "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": assertion or emc.assertion()}
    data.update(fields)
    response = await node.http.post("/oauth2/token", data={k: v for k, v in data.items() if v is not None})
    assert response.status_code < 500, response.text
    if response.status_code != 200:
        assert "access_token" not in response.json()
    return response


async def access_token(node: Node, emc: Emc, **extra: str | None) -> str:
    verifier, challenge = _pkce()
    answer = await consent(node, emc, challenge, **extra)
    response = await token_request(node, emc, answer["code"], verifier)
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


async def results(node: Node, token: str | None, **params: str) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    response = await node.http.get("/results", params=params, headers=headers)
    assert response.status_code < 500, response.text
    return response


def assert_bearer_error(response: httpx.Response, status: int, error: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error"] == error
    assert response.headers["www-authenticate"].startswith("Bearer ")
    assert f'error="{error}"' in response.headers["www-authenticate"]
    assert "x-signature" not in response.headers


async def node_keys(node: Node) -> KeySet:
    published = await node.http.get("/oauth2/jwks")
    assert published.status_code == 200
    keys = KeySet.import_key_set(published.json())
    assert not any(k.is_private for k in keys.keys)
    return keys


async def check_jws(node: Node, response: httpx.Response) -> None:
    signature = response.headers["x-signature"]
    _, payload, _ = signature.split(".")
    assert payload == ""  # RFC 7515 Appendix F: detached
    assert response.headers["x-signature-algorithm"] in ("RS256", "ES256")
    verified = jws.deserialize_compact(signature, await node_keys(node), payload=response.content,
                                       algorithms=[response.headers["x-signature-algorithm"]])
    assert verified.protected["alg"] == response.headers["x-signature-algorithm"]
    assert response.headers["x-request-id"]


# ---- happy paths ---------------------------------------------------------------------------------------

async def test_metadata_describes_the_authorization_server(node):
    response = await node.http.get("/.well-known/oauth-authorization-server")
    assert response.status_code == 200
    meta = response.json()
    assert meta["issuer"] == GATEWAY
    assert meta["authorization_endpoint"] == f"{GATEWAY}/oauth2/authorize"
    assert meta["token_endpoint"] == TOKEN_URL
    assert meta["token_endpoint_auth_methods_supported"] == ["private_key_jwt"]
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert set(meta["token_endpoint_auth_signing_alg_values_supported"]) == {"RS256", "ES256"}
    assert meta["jwks_uri"] == f"{GATEWAY}/oauth2/jwks"
    assert (await node_keys(node)).keys


async def test_elmo_in_both_versions_signed_twice(node, emcs, pki, kit):
    emc = emcs[CLIENT_ID]
    verifier, challenge = _pkce()
    answer = await consent(node, emc, challenge)
    issued = await token_request(node, emc, answer["code"], verifier)
    assert issued.status_code == 200
    assert issued.headers["cache-control"] == "no-store"
    body = issued.json()
    assert body["token_type"] == "Bearer"
    assert 0 < body["expires_in"] <= 300
    assert body["scope"] == "elmo userinfo pdf"
    token = body["access_token"]
    for asked, version in ((None, "1.7.0"), ("1.7", "1.7.0"), ("1.7.0", "1.7.0"), ("2.0", "2.0.0"),
                           ("2.0.0", "2.0.0")):
        params = {"data_format": "elmo", **({"data_format_version": asked} if asked else {})}
        response = await results(node, token, **params)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("application/xml")
        validate(response.content, version)
        verify(response.content, [pki[1].certificate])  # XMLDSig, exactly as in EMREX 1
        await check_jws(node, response)
        document = from_xml(response.content)
        assert len(document.reports) == 2
    audit = await node.browser.http.get("/healthz")
    assert audit.status_code == 200


async def test_userinfo_pdf_and_pdf_metadata(node, emcs):
    token = await access_token(node, emcs[CLIENT_ID])
    userinfo = await results(node, token, data_format="userinfo")
    assert userinfo.status_code == 200
    root = lxml.etree.fromstring(userinfo.content)
    assert lxml.etree.QName(root).localname == "learner"
    assert "Virtanen" in userinfo.text
    await check_jws(node, userinfo)
    pdf = await results(node, token, data_format="pdf")
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")
    await check_jws(node, pdf)
    listing = await results(node, token, data_format="pdf_metadata")
    assert listing.status_code == 200
    await check_jws(node, listing)
    [entry] = listing.json()
    assert entry["media_type"] == "application/pdf"
    assert entry["sha256"] == hashlib.sha256(pdf.content).hexdigest()


async def test_no_results_gives_204(node, emcs):
    token = await access_token(node, emcs[CLIENT_ID], who="demo-learner-empty")
    for data_format in ("elmo", "userinfo", "pdf", "pdf_metadata"):
        response = await results(node, token, data_format=data_format)
        assert response.status_code == 204
        assert response.content == b""


async def test_cancel_redirects_access_denied(node, emcs):
    _, challenge = _pkce()
    answer = await consent(node, emcs[CLIENT_ID], challenge, cancel=True)
    assert answer["error"] == "access_denied"
    assert "code" not in answer


async def test_audit_row_and_metrics_name_the_protocol(node, emcs, gateway_settings):
    from ncp_testkit.observe import sample, scrape

    await access_token(node, emcs[CLIENT_ID])
    engine = create_async_engine(f"sqlite+aiosqlite:///{gateway_settings.database_path}")
    async with engine.connect() as conn:
        rows = (await conn.execute(text("SELECT protocol, return_code FROM gateway_audit"))).all()
        consents = (await conn.execute(text(
            "SELECT ref_id, learner_pseudonym, selected, client_id, consented_at, wording_version "
            "FROM emrex2_consent"))).all()
    await engine.dispose()
    assert [tuple(r) for r in rows] == [("emrex2", "NCP_OK")]
    [(ref_id, pseudonym, selected, client_id, consented_at, wording)] = consents
    assert all((ref_id, pseudonym, consented_at, wording))
    assert client_id == CLIENT_ID
    assert json.loads(selected) == ["r0.0.0.0", "r1.0"]
    _, metrics = await scrape(node.http)
    assert sample(metrics, "ncp_transfers_total", return_code="NCP_OK", protocol="emrex2") == 1


async def test_switch_off_answers_404(make_browser, registry_with_clients, emcs):
    async with make_browser(transports={"registry": registry_with_clients}, emrex2_enabled=False) as browser:
        _, challenge = _pkce()
        for method, path in (("GET", "/oauth2/authorize"), ("POST", "/oauth2/token"), ("GET", "/results"),
                             ("GET", "/.well-known/oauth-authorization-server"), ("GET", "/oauth2/jwks")):
            response = await browser.http.request(
                method, path, params=authorize_params(emcs[CLIENT_ID], challenge) if method == "GET" else None)
            assert response.status_code == 404, path
        assert (await browser.enter()).status_code == 303  # EMREX 1 unchanged


# ---- the authorization request --------------------------------------------------------------------------

@pytest.mark.parametrize("change", [
    {"client_id": "nobody"}, {"client_id": None}, {"client_id": "x" * 5000}, {"client_id": "emc\u00e9"},
    {"client_id": "../v1/status"}, {"client_id": "emc-test\n"}, {"redirect_uri": "https://evil.example.com/cb"},
    {"redirect_uri": "https://emc.example.fi/emrex2/callback"}, {"redirect_uri": REDIRECT_URI + "&x=1"},
    {"redirect_uri": REDIRECT_URI.upper()}, {"redirect_uri": None}, {"redirect_uri": OTHER_REDIRECT},
])
async def test_unknown_client_or_unregistered_redirect_gets_a_page_never_a_redirect(node, emcs, change):
    _, challenge = _pkce()
    params = authorize_params(emcs[CLIENT_ID], challenge, code_challenge_method="plain", **change)
    response = await node.http.get("/oauth2/authorize", params=params)
    assert response.status_code == 400
    assert "location" not in response.headers
    assert response.headers["content-type"].startswith("text/html")


async def test_repeated_client_id_gets_a_page(node, emcs):
    _, challenge = _pkce()
    query = httpx.QueryParams(authorize_params(emcs[CLIENT_ID], challenge)).add("client_id", OTHER_ID)
    response = await node.http.get(f"/oauth2/authorize?{query}")
    assert response.status_code == 400
    assert "location" not in response.headers


@pytest.mark.parametrize(("change", "error"), [
    ({"code_challenge_method": "plain"}, "invalid_request"),
    ({"code_challenge_method": None}, "invalid_request"),
    ({"code_challenge": None}, "invalid_request"),
    ({"code_challenge": "short"}, "invalid_request"),
    ({"code_challenge": "A" * 43 + "\n"}, "invalid_request"),
    ({"state": "st\n"}, "invalid_request"),
    ({"response_type": "token"}, "unsupported_response_type"),
    ({"response_type": None}, "unsupported_response_type"),
    ({"scope": "elmo everything"}, "invalid_scope"),
    ({"state": None}, "invalid_request"),
])
async def test_other_authorization_errors_go_back_to_the_registered_uri(node, emcs, change, error):
    _, challenge = _pkce()
    params = authorize_params(emcs[CLIENT_ID], challenge, **change)
    response = await node.http.get("/oauth2/authorize", params=params)
    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith(REDIRECT_URI + "&")
    answer = query_of(location)
    assert answer["error"] == error
    assert answer["iss"] == GATEWAY
    assert "code" not in answer
    if "state" in params:
        assert answer["state"] == params["state"]


# ---- the token request ----------------------------------------------------------------------------------

@pytest.fixture
async def code(node, emcs) -> tuple[str, str]:
    verifier, challenge = _pkce()
    return (await consent(node, emcs[CLIENT_ID], challenge))["code"], verifier


async def test_replayed_code_is_refused_and_revokes_its_token(node, emcs, code):
    emc = emcs[CLIENT_ID]
    first = await token_request(node, emc, *code)
    assert first.status_code == 200
    token = first.json()["access_token"]
    assert (await results(node, token, data_format="elmo")).status_code == 200
    again = await token_request(node, emc, *code)
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"
    assert_bearer_error(await results(node, token, data_format="elmo"), 401, "invalid_token")


async def test_wrong_verifier_spends_the_code(node, emcs, code):
    emc = emcs[CLIENT_ID]
    wrong = await token_request(node, emc, code[0], _pkce()[0])
    assert wrong.status_code == 400
    assert wrong.json()["error"] == "invalid_grant"
    assert (await token_request(node, emc, *code)).json()["error"] == "invalid_grant"


@pytest.mark.parametrize("verifier", [None, "", "short", "x" * 129, "x" * 43 + "\n"])
async def test_missing_or_malformed_verifier(node, emcs, code, verifier):
    response = await token_request(node, emcs[CLIENT_ID], code[0], "", code_verifier=verifier)
    assert response.status_code == 400
    assert response.json()["error"] in ("invalid_request", "invalid_grant")


async def test_expired_code(node, emcs, code, clock, gateway_settings):
    clock.advance(dt.timedelta(seconds=gateway_settings.emrex2_code_ttl_seconds + 1))  # on the gateway's clock
    response = await token_request(node, emcs[CLIENT_ID], *code)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


async def test_unknown_code(node, emcs, code):
    response = await token_request(node, emcs[CLIENT_ID], "not-a-code", code[1])
    assert response.json()["error"] == "invalid_grant"


async def test_code_of_another_client(node, emcs, code):
    other = emcs[OTHER_ID]
    response = await token_request(node, other, *code)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


async def test_redirect_uri_mismatch_at_the_token_endpoint(node, emcs, code):
    response = await token_request(node, emcs[CLIENT_ID], *code, redirect_uri="https://emc.example.fi/other")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


async def test_replayed_jti(node, emcs, code):
    emc = emcs[CLIENT_ID]
    assertion = emc.assertion()
    assert (await token_request(node, emc, *code, assertion=assertion)).status_code == 200
    verifier, challenge = _pkce()
    second = (await consent(node, emc, challenge))["code"]
    replay = await token_request(node, emc, second, verifier, assertion=assertion)
    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_client"
    # The code was not touched by the refused client: a fresh assertion still redeems it.
    assert (await token_request(node, emc, second, verifier)).status_code == 200


def _none_alg(emc: Emc) -> str:
    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    now = int(time.time())
    return part({"alg": "none", "kid": emc.key.kid}) + "." + part({
        "iss": emc.client_id, "sub": emc.client_id, "aud": TOKEN_URL, "jti": "j", "iat": now, "exp": now + 60}) + "."


@pytest.mark.parametrize("case", [
    "other_key", "alg_none", "hs256", "wrong_aud", "expired", "too_long", "no_jti", "iss_not_sub", "unknown_client",
    "huge_client_id",
    "garbage", "missing", "wrong_type", "client_id_differs",
])
async def test_bad_client_assertions_are_invalid_client(node, emcs, code, case):
    emc = emcs[CLIENT_ID]
    now = int(time.time())
    fields: dict[str, str | None] = {}
    assertion = {
        "other_key": lambda: emc.assertion(key=ECKey.generate_key("P-256", private=True)),
        "alg_none": lambda: _none_alg(emc),
        "hs256": lambda: emc.assertion(key=OctKey.import_key(json.dumps(emc.key.as_dict(private=False)).encode()),
                                       alg="HS256"),
        "wrong_aud": lambda: emc.assertion(aud="https://gateway.example.eu/other"),
        "expired": lambda: emc.assertion(iat=now - 400, exp=now - 100),
        "too_long": lambda: emc.assertion(exp=now + 3600),
        "no_jti": lambda: emc.assertion(jti=None),
        "iss_not_sub": lambda: emc.assertion(sub=OTHER_ID),
        "unknown_client": lambda: Emc("nobody", emc.key, REDIRECT_URI).assertion(),
        "huge_client_id": lambda: Emc("x" * 5000, emc.key, REDIRECT_URI).assertion(),
        "garbage": lambda: "not.a.jwt",
        "missing": lambda: "",
        "wrong_type": lambda: emc.assertion(),
        "client_id_differs": lambda: emc.assertion(),
    }[case]()
    if case == "missing":
        fields["client_assertion"] = None
    if case == "wrong_type":
        fields["client_assertion_type"] = "urn:ietf:params:oauth:client-assertion-type:saml2-bearer"
    if case == "client_id_differs":
        fields["client_id"] = OTHER_ID
    response = await token_request(node, emc, *code, assertion=assertion or "x", **fields)
    assert response.status_code in (400, 401)
    assert response.json()["error"] == "invalid_client"
    assert response.headers["cache-control"] == "no-store"
    # The refused request did not spend the code.
    assert (await token_request(node, emc, *code)).status_code == 200


async def test_basic_auth_is_401_with_www_authenticate(node, emcs, code):
    response = await node.http.post("/oauth2/token", auth=(CLIENT_ID, "secret"), data={
        "grant_type": "authorization_code", "code": code[0], "redirect_uri": REDIRECT_URI, "code_verifier": code[1]})
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert "www-authenticate" in response.headers


@pytest.mark.parametrize("grant_type", ["client_credentials", "password", None])
async def test_other_grant_types(node, emcs, code, grant_type):
    response = await token_request(node, emcs[CLIENT_ID], *code, grant_type=grant_type)
    assert response.json()["error"] == "unsupported_grant_type"


async def test_rsa_client_gets_a_token_too(node, emcs):
    token = await access_token(node, emcs[OTHER_ID])
    assert (await results(node, token, data_format="elmo")).status_code == 200


# ---- the resource request -------------------------------------------------------------------------------

@pytest.fixture
async def elmo_token(node, emcs) -> str:
    return await access_token(node, emcs[CLIENT_ID], scope="elmo")


@pytest.mark.parametrize("authorization", [None, "Bearer", "Bearer nope", "Basic abc", "bearer  "])
async def test_missing_or_unknown_token(node, elmo_token, authorization):
    headers = {"Authorization": authorization} if authorization is not None else {}
    response = await node.http.get("/results", params={"data_format": "elmo"}, headers=headers)
    assert_bearer_error(response, 401, "invalid_token")


async def test_expired_token(node, elmo_token, clock, gateway_settings):
    clock.advance(dt.timedelta(seconds=gateway_settings.emrex2_token_ttl_seconds + 1))  # on the gateway's clock
    assert_bearer_error(await results(node, elmo_token, data_format="elmo"), 401, "invalid_token")


@pytest.mark.parametrize("data_format", ["pdf", "pdf_metadata"])
async def test_insufficient_scope(node, elmo_token, data_format):
    response = await results(node, elmo_token, data_format=data_format)
    assert_bearer_error(response, 403, "insufficient_scope")


@pytest.mark.parametrize("params", [
    {"data_format": "elmo", "data_format_version": "3.0"}, {"data_format": "elmo", "data_format_version": "2.1"},
    {"data_format": "elmo", "data_format_version": "1.9"}, {"data_format": "elmo", "data_format_version": "latest"},
    {"data_format": "elmo", "data_format_version": "2.0\n"}, {"data_format": "elmo\n"},
    {"data_format": "json"}, {}, {"data_format": "ELMO"},
])
async def test_unsupported_format_or_version(node, elmo_token, params):
    response = await results(node, elmo_token, **params)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert "x-signature" not in response.headers


# ---- interop: an OAuth client that is not ours ---------------------------------------------------------

async def test_authlib_client_with_private_key_jwt_and_pkce_gets_results(node, emcs):
    """authlib's client side (AsyncOAuth2Client, PrivateKeyJWT, PKCE S256) drives the node end to end."""
    from authlib.common.security import generate_token
    from authlib.integrations.httpx_client import AsyncOAuth2Client
    from authlib.oauth2.rfc7523 import PrivateKeyJWT, private_key_jwt_sign

    class ProfilePrivateKeyJWT(PrivateKeyJWT):  # type: ignore[misc]
        """authlib's private_key_jwt with the profile's limit: its default exp is iat + 3600, the profile's 300."""

        def sign(self, auth: Any, token_endpoint: str) -> Any:
            return private_key_jwt_sign(auth.client_secret, client_id=auth.client_id, token_endpoint=token_endpoint,
                                        header=dict(self.headers), alg=self.alg, expires_in=120)

    for emc, alg in ((emcs[OTHER_ID], "RS256"), (emcs[CLIENT_ID], "ES256")):
        async with AsyncOAuth2Client(
            client_id=emc.client_id, client_secret=emc.key.as_pem(private=True).decode(),
            token_endpoint_auth_method="private_key_jwt", redirect_uri=emc.redirect_uri, scope="elmo pdf",
            code_challenge_method="S256", transport=node.http._transport,
        ) as client:
            # The profile asks for a kid in the assertion header; authlib sends what it is told to.
            client.register_client_auth_method(
                ProfilePrivateKeyJWT(TOKEN_URL, headers={"kid": emc.key.kid}, alg=alg))
            verifier = generate_token(48)
            url, state = client.create_authorization_url(f"{GATEWAY}/oauth2/authorize", code_verifier=verifier)
            back = await student(node, url.removeprefix(GATEWAY))
            token = await client.fetch_token(TOKEN_URL, authorization_response=back, code_verifier=verifier,
                                             state=state)
            assert token["token_type"] == "Bearer"
            assert token["scope"] == "elmo pdf"
            answer = await client.get(f"{GATEWAY}/results", params={"data_format": "elmo"})
            assert answer.status_code == 200
            await check_jws(node, answer)
            pdf = await client.get(f"{GATEWAY}/results", params={"data_format": "pdf"})
            assert pdf.content.startswith(b"%PDF-")
            # The same code once more, through the same library: refused.
            from authlib.integrations.base_client import OAuthError

            with pytest.raises(OAuthError, match="invalid_grant"):
                await client.fetch_token(TOKEN_URL, authorization_response=back, code_verifier=verifier,
                                         state=state)


async def test_an_emrex2_flow_without_any_traceparent_is_one_trace(node, emcs):
    from opentelemetry.trace import SpanKind

    from ncp_testkit.observe import flow_trace, span_exporter, trace_id

    exporter = span_exporter()
    exporter.clear()
    assert "traceparent" not in node.http.headers
    token = await access_token(node, emcs[CLIENT_ID])
    assert (await results(node, token, data_format="elmo")).status_code == 200
    spans = exporter.get_finished_spans()
    flow = flow_trace(spans, "/oauth2/authorize")
    in_flow = [s for s in spans if trace_id(s) == flow]
    signed = [s for s in in_flow if s.kind is SpanKind.SERVER and s.attributes["ncp.service"] == "signer"]
    assert {s.attributes["http.route"] for s in signed} >= {"/v1/sign", "/v1/jws"}
    steps = {s.attributes.get("http.route") for s in in_flow if s.kind is SpanKind.INTERNAL}
    assert steps >= {"/login", "/login/callback", "/select", "/send", "/oauth2/token", "/results"}
