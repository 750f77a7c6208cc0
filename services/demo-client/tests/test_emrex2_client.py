"""The demo client's EMREX 2.0 building blocks against the real signer and registry-cache, in process.

The node's OAuth endpoints do not exist yet, so a small stand-in serves /oauth2/token and /results here.
It checks what the profile asks of a client (PKCE S256, an RFC 7523 assertion signed with the key the
registry lists for the client) with joserfc, and it signs its answers with the real signer: the ELMO
with POST /v1/sign, the body with POST /v1/jws. The demo client then verifies both through the registry.
"""

import base64
import hashlib
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI, Form, Header, Response
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet, RSAKey
from ncp_demo_client.adapters.emrex2_node import Emrex2Error, Emrex2Node, ResponseSignatureError
from ncp_demo_client.app import create_app as demo_app
from ncp_demo_client.domain.emrex2 import (
    ASSERTION_TYPE,
    Pkce,
    authorization_request,
    client_assertion,
    load_client_key,
    node_keys,
    verify_detached,
)
from ncp_demo_client.settings import Settings as DemoSettings

from emrex_elmo import to_xml
from ncp_contracts.registry import RegistryClient
from ncp_contracts.signer import SignerClient
from ncp_registry_cache.app import create_app as registry_app
from ncp_registry_cache.settings import Settings as RegistrySettings
from ncp_signer import Settings as SignerSettings, create_app as signer_app
from ncp_testkit import asgi_client, bearer, dev_ca, make_elmo, signing_key, write_caller_tokens, write_key_files

NODE_URL = "http://127.0.0.1:8000/emrex"
TOKEN_URL = "http://node/oauth2/token"
RESOURCE_URL = "http://node/results"
CLIENT_ID = "demo-client-dev"
REDIRECT_URI = "http://127.0.0.1:8020/emrex2/callback"


@dataclass
class NodeStandIn:
    """What the stand-in node remembers and how it misbehaves on demand."""

    signer: SignerClient
    registry: RegistryClient
    codes: dict[str, str] = field(default_factory=dict)  # code -> code_challenge
    seen_jti: set[str] = field(default_factory=set)
    mode: str = "ok"
    other_signer: SignerClient | None = None


def node_app(node: NodeStandIn) -> FastAPI:
    app = FastAPI()

    @app.post("/oauth2/token")
    async def token(grant_type: str = Form(), code: str = Form(), redirect_uri: str = Form(),
                    code_verifier: str = Form(), client_assertion_type: str = Form(),
                    client_assertion: str = Form()) -> Response:
        def error(status: int, name: str) -> Response:
            return Response(json.dumps({"error": name}), status, media_type="application/json")

        if grant_type != "authorization_code" or client_assertion_type != ASSERTION_TYPE:
            return error(400, "invalid_request")
        unverified = json.loads(base64.urlsafe_b64decode(client_assertion.split(".")[1] + "=="))
        registered = await node.registry.client(unverified.get("iss", ""))
        if registered is None or registered.jwks is None:
            return error(401, "invalid_client")
        try:
            claims = jwt.decode(client_assertion, KeySet.import_key_set(registered.jwks),  # type: ignore[arg-type]
                                algorithms=["RS256", "ES256"]).claims
        except Exception:
            return error(401, "invalid_client")
        if (claims["iss"] != claims["sub"] or claims["aud"] != TOKEN_URL or claims["exp"] - claims["iat"] > 300
                or claims["exp"] < time.time() or claims["jti"] in node.seen_jti):
            return error(401, "invalid_client")
        node.seen_jti.add(claims["jti"])
        if redirect_uri not in registered.redirect_uris:
            return error(400, "invalid_request")
        challenge = node.codes.pop(code, None)
        digest = base64.urlsafe_b64encode(hashlib.sha256(code_verifier.encode()).digest()).rstrip(b"=").decode()
        if challenge is None or digest != challenge:
            return error(400, "invalid_grant")
        return Response(json.dumps({"access_token": "at-" + code, "token_type": "Bearer", "expires_in": 300,
                                    "scope": "elmo"}), media_type="application/json",
                        headers={"Cache-Control": "no-store"})

    @app.get("/results")
    async def results(data_format: str, authorization: str = Header(), data_format_version: str = "2.0.0"
                      ) -> Response:
        if not authorization.startswith("Bearer at-"):
            return Response(json.dumps({"error": "invalid_token"}), 401, media_type="application/json",
                            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
        if node.mode == "empty":
            return Response(status_code=204)
        body = await node.signer.sign(to_xml(make_elmo(courses=2)))
        signer = node.other_signer if node.mode == "other_key" and node.other_signer else node.signer
        signed = await signer.sign_jws(body)
        if node.mode == "tampered":
            body = body.replace(b"Course", b"C0urse", 1)
        headers = {"X-Signature": signed.signature, "X-Signature-Algorithm": signed.alg}
        if node.mode == "unsigned":
            headers = {}
        if node.mode == "attached":
            header, _, sig = signed.signature.split(".")
            payload = base64.urlsafe_b64encode(body).rstrip(b"=").decode()
            headers["X-Signature"] = f"{header}.{payload}.{sig}"
        return Response(body, media_type="application/xml", headers=headers)

    return app


def _signer_settings(tmp: Path, name: str, tokens: Path) -> tuple[SignerSettings, Any]:
    issued = signing_key(dev_ca(), f"{name}.example")
    key, cert = write_key_files(tmp / name, name, issued)
    return SignerSettings(key_file=key, cert_file=cert, caller_tokens_path=tokens, log_level="WARNING"), issued


@dataclass
class World:
    node: NodeStandIn
    client_key: ECKey | RSAKey
    demo: Emrex2Node
    registry: RegistryClient
    registry_asgi: Any
    node_transport: httpx.ASGITransport
    client_key_file: Path


@pytest.fixture
async def world(tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[World]:
    """`entry`: "certificates" (an EMREX 1 entry: keys from its certificates) or "jwks" (the signer's own
    EMREG entry with the EMREX 2.0 members and JWKS), by indirect parametrization."""
    entry_kind = getattr(request, "param", "certificates")
    tokens = write_caller_tokens(tmp_path / "tokens", "gateway", "admin")
    main_settings, issued = _signer_settings(tmp_path, "node", tmp_path / "tokens")
    other_settings, _ = _signer_settings(tmp_path, "impostor", tmp_path / "tokens")
    entry: dict[str, Any] = {"url": NODE_URL, "acronym": "DEV", "countryCode": "FI", "institutions": ["x"],
                             "pubKey": issued.cert_pem().decode()}
    if entry_kind == "jwks":
        main_settings = main_settings.model_copy(update={
            "emreg_url": NODE_URL, "emreg_acronym": "DEV", "emreg_country_code": "FI", "emreg_institutions": ["x"],
            "emreg_authorization_url": "http://node/oauth2/authorize", "emreg_token_url": TOKEN_URL,
            "emreg_resource_url": RESOURCE_URL})
        async with asgi_client(signer_app(main_settings), "http://signer",
                               headers=bearer(tokens["gateway"])) as http:
            entry = (await http.get("/v1/emreg-entry")).json()
        assert "jwks" in entry
    emreg = {"emps": [entry], "countries": [{"countryCode": "FI", "countryName": "Finland", "singleFetch": False}]}
    (tmp_path / "emreg.json").write_text(json.dumps(emreg))
    client_key = ECKey.generate_key("P-256", private=True)
    (tmp_path / "client.key").write_bytes(client_key.as_pem(private=True))
    demo_key = load_client_key((tmp_path / "client.key").read_bytes())
    clients = {"clients": [{"client_id": CLIENT_ID, "name": "Demo", "redirect_uris": [REDIRECT_URI],
                            "jwks": {"keys": [{**demo_key.as_dict(private=False), "use": "sig"}]}}]}
    (tmp_path / "clients.json").write_text(json.dumps(clients))
    registry_settings = RegistrySettings(
        env="test", source=str(tmp_path / "emreg.json"), clients_source=str(tmp_path / "clients.json"),
        clients_allow_http_loopback=True, dev_mode=True, database_url=f"sqlite+aiosqlite:///{tmp_path / 'registry.db'}",
        caller_tokens_path=tmp_path / "tokens", run_refresher=False, log_level="WARNING")
    auth = bearer(tokens["gateway"])
    async with (asgi_client(signer_app(main_settings), "http://signer", headers=auth, timeout=30) as signer_http,
                asgi_client(signer_app(other_settings), "http://other", headers=auth, timeout=30) as other_http,
                LifespanManager(registry_app(registry_settings), startup_timeout=30) as registry_running,
                httpx.AsyncClient(transport=httpx.ASGITransport(app=registry_running.app),
                                  base_url="http://registry") as reg_http):
        assert (await reg_http.post("/v1/refresh", headers=bearer(tokens["admin"]))).status_code == 200
        registry = RegistryClient(reg_http)
        node = NodeStandIn(SignerClient(signer_http), registry, other_signer=SignerClient(other_http))
        node_transport = httpx.ASGITransport(app=node_app(node))
        async with httpx.AsyncClient(transport=node_transport, base_url="http://node") as h:
            demo = Emrex2Node(h, registry, client_id=CLIENT_ID, key=demo_key, token_url=TOKEN_URL,
                              resource_url=RESOURCE_URL, node_url=NODE_URL)
            yield World(node, demo_key, demo, registry, registry_running.app, node_transport, tmp_path / "client.key")


def test_pkce_pair_is_s256_of_a_fresh_verifier():
    pairs = [Pkce.new() for _ in range(20)]
    assert len({p.verifier for p in pairs}) == 20
    for pair in pairs:
        assert 43 <= len(pair.verifier) <= 128
        assert set(pair.verifier) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
        expected = base64.urlsafe_b64encode(hashlib.sha256(pair.verifier.encode()).digest()).rstrip(b"=").decode()
        assert pair.challenge == expected
        assert pair.method == "S256"


def test_authorization_request_carries_the_profile_parameters():
    pkce = Pkce.new()
    url = authorization_request("http://node/oauth2/authorize", client_id=CLIENT_ID, redirect_uri=REDIRECT_URI,
                                state="s-1", pkce=pkce)
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert query == {"response_type": "code", "client_id": CLIENT_ID, "redirect_uri": REDIRECT_URI,
                     "state": "s-1", "code_challenge": pkce.challenge, "code_challenge_method": "S256",
                     "scope": "elmo"}


@pytest.mark.parametrize("kind", ["ec", "rsa"])
def test_assertion_follows_rfc7523(kind):
    private = ECKey.generate_key("P-256") if kind == "ec" else RSAKey.generate_key(2048)
    key = load_client_key(private.as_pem(private=True))
    now = time.time()
    token = client_assertion(CLIENT_ID, TOKEN_URL, key, now=now)
    public = KeySet([type(key).import_key(key.as_dict(private=False))])  # type: ignore[list-item]
    decoded = jwt.decode(token, public, algorithms=["ES256" if kind == "ec" else "RS256"])
    assert decoded.header["kid"] == key.thumbprint()
    assert decoded.header["alg"] == ("ES256" if kind == "ec" else "RS256")
    claims = decoded.claims
    assert claims["iss"] == claims["sub"] == CLIENT_ID
    assert claims["aud"] == TOKEN_URL
    assert 0 < claims["exp"] - claims["iat"] <= 300
    assert claims["iat"] == int(now)
    assert client_assertion(CLIENT_ID, TOKEN_URL, key)  # each call a fresh jti
    assert jwt.decode(client_assertion(CLIENT_ID, TOKEN_URL, key), public).claims["jti"] != claims["jti"]


def test_public_key_is_refused_as_client_key():
    public = ECKey.generate_key("P-256").as_pem(private=False)
    with pytest.raises(ValueError, match="private"):
        load_client_key(public)


async def test_whole_client_side_against_the_real_signer_and_registry(world):
    pkce = Pkce.new()
    world.node.codes["c1"] = pkce.challenge
    token = await world.demo.token("c1", redirect_uri=REDIRECT_URI, pkce=pkce)
    assert token.access_token == "at-c1"
    results = await world.demo.results(token.access_token)
    assert results.status == 200
    assert results.body.startswith(b"<?xml")
    assert results.xml_signature is not None
    assert results.xml_signature.valid, results.xml_signature.reason
    jwks = await world.node.signer.jwks()
    assert results.kid == jwks.keys[0]["kid"]


async def test_no_results_is_204_without_signature_checks(world):
    world.node.mode = "empty"
    results = await world.demo.results("at-x")
    assert results.status == 204
    assert results.body == b""


@pytest.mark.parametrize("mode", ["tampered", "other_key", "unsigned", "attached"])
async def test_bad_response_signature_is_refused(world, mode):
    world.node.mode = mode
    with pytest.raises(ResponseSignatureError):
        await world.demo.results("at-x")


async def test_wrong_verifier_and_refused_token_are_clear_errors(world):
    pkce = Pkce.new()
    world.node.codes["c2"] = pkce.challenge
    with pytest.raises(Emrex2Error, match="invalid_grant"):
        await world.demo.token("c2", redirect_uri=REDIRECT_URI, pkce=Pkce.new())
    with pytest.raises(Emrex2Error, match="invalid_token"):
        await world.demo.results("not-a-token")


async def test_assertion_with_an_unregistered_key_is_refused_by_the_stand_in(world):
    stranger = load_client_key(ECKey.generate_key("P-256").as_pem(private=True))
    world.demo.key = stranger
    pkce = Pkce.new()
    world.node.codes["c3"] = pkce.challenge
    with pytest.raises(Emrex2Error, match="invalid_client"):
        await world.demo.token("c3", redirect_uri=REDIRECT_URI, pkce=pkce)


async def test_node_keys_from_the_registry_match_the_signer_jwks(world):
    listed = await world.registry.certificates(url=NODE_URL)
    keys = node_keys([c.pem for n in listed.nodes for c in n.certificates])
    jwks = await world.node.signer.jwks()
    assert [k.kid for k in keys.keys] == [k["kid"] for k in jwks.keys]
    signed = await world.node.signer.sign_jws(b"payload")
    assert verify_detached(signed.signature, b"payload", keys) == signed.kid


@pytest.fixture
async def browser(world) -> AsyncIterator[httpx.AsyncClient]:
    """The demo client app, its registry calls and its calls to the node routed in process."""
    settings = DemoSettings(gateway_url=NODE_URL, public_url="http://127.0.0.1:8020", registry_url="http://registry",
                            emrex2_key_file=world.client_key_file, emrex2_authorization_url="http://node/oauth2/authorize",
                            emrex2_token_url=TOKEN_URL, emrex2_resource_url=RESOURCE_URL, log_level="WARNING")
    app = demo_app(settings, registry_transport=httpx.ASGITransport(app=world.registry_asgi),
                   node_transport=world.node_transport)
    async with asgi_client(app, "http://127.0.0.1:8020") as http:
        yield http


async def _authorize(world, browser) -> dict[str, str]:
    """Press the button; play the node: remember the code's challenge and answer the redirect URI's query."""
    page = await browser.get("/")
    assert 'id="emrex2"' in page.text
    start = await browser.post("/emrex2/start")
    assert start.status_code == 303
    query = {k: v[0] for k, v in parse_qs(urlsplit(start.headers["location"]).query).items()}
    assert start.headers["location"].startswith("http://node/oauth2/authorize?")
    assert query["client_id"] == CLIENT_ID
    assert query["redirect_uri"] == REDIRECT_URI
    assert query["code_challenge_method"] == "S256"
    code = "code-" + query["state"][:8]
    world.node.codes[code] = query["code_challenge"]
    return {"code": code, "state": query["state"]}


async def test_button_runs_the_whole_client_side_to_the_transcript_page(world, browser):
    answer = await _authorize(world, browser)
    page = await browser.get("/emrex2/callback", params=answer)
    assert page.status_code == 200, page.text
    assert 'id="protocol">EMREX 2.0' in page.text
    assert 'id="jws" data-valid="true"' in page.text
    assert 'id="signature" data-valid="true"' in page.text
    assert 'id="learner-name"' in page.text
    # One use per flow: the same callback again is refused, and no second token call is made.
    again = await browser.get("/emrex2/callback", params=answer)
    assert again.status_code == 400
    assert 'data-code="session_mismatch"' in again.text


@pytest.mark.parametrize("change", ["state", "cookie"])
async def test_callback_of_another_flow_is_refused(world, browser, change):
    answer = await _authorize(world, browser)
    if change == "state":
        answer["state"] = "forged"
    else:
        browser.cookies.clear()
    page = await browser.get("/emrex2/callback", params=answer)
    assert page.status_code == 400
    assert 'data-code="session_mismatch"' in page.text
    assert answer["code"] in world.node.codes  # the code was never redeemed


async def test_denied_and_bad_signature_show_as_such(world, browser):
    answer = await _authorize(world, browser)
    page = await browser.get("/emrex2/callback", params={"error": "access_denied", "state": answer["state"]})
    assert page.status_code == 200
    assert "access_denied" in page.text
    assert 'id="learner-name"' not in page.text
    world.node.mode = "tampered"
    answer = await _authorize(world, browser)
    page = await browser.get("/emrex2/callback", params=answer)
    assert page.status_code == 400
    assert 'data-code="response_signature_invalid"' in page.text
    assert 'id="learner-name"' not in page.text


async def test_without_a_key_there_is_no_emrex2_button(world):
    settings = DemoSettings(gateway_url=NODE_URL, registry_url="http://registry", log_level="WARNING")
    app = demo_app(settings, registry_transport=httpx.ASGITransport(app=world.registry_asgi))
    async with asgi_client(app, "http://127.0.0.1:8020") as http:
        assert 'id="emrex2"' not in (await http.get("/")).text
        response = await http.post("/emrex2/start")
    assert response.status_code == 404
    assert response.json()["code"] == "emrex2_not_configured"


@pytest.mark.parametrize("world", ["jwks"], indirect=True)
async def test_node_jwks_in_the_registry_entry_is_used(world, browser):
    entry = await world.registry.lookup(NODE_URL)
    assert entry is not None
    assert entry.jwks is not None
    assert entry.token_url == TOKEN_URL
    answer = await _authorize(world, browser)
    page = await browser.get("/emrex2/callback", params=answer)
    assert page.status_code == 200, page.text
    assert 'id="jws" data-valid="true"' in page.text
    assert entry.jwks["keys"][0]["kid"] in page.text
    for mode in ("tampered", "other_key"):
        world.node.mode = mode
        with pytest.raises(ResponseSignatureError):
            await world.demo.results("at-x")
