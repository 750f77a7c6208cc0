"""The EMREX 2.0 client list: mirrored like the EMP list (schema, conditional GET, last good copy), and
GET /v1/clients/{client_id}."""

import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest
from joserfc.jwk import ECKey, RSAKey

from ncp_contracts.registry import RegistryClient
from ncp_testkit import serve_on_loopback


@pytest.fixture(scope="session")
def keys() -> dict[str, dict[str, Any]]:
    rsa = RSAKey.generate_key(2048, private=True)
    ec = ECKey.generate_key("P-256", private=True)
    return {"rsa": {**rsa.as_dict(private=False), "kid": "rsa-1", "use": "sig"},
            "ec": {**ec.as_dict(private=False), "kid": "ec-1"},
            "rsa_private": {**rsa.as_dict(private=True), "kid": "rsa-1"},
            "rsa_small": _small_rsa_jwk()}


def _small_rsa_jwk() -> dict[str, Any]:
    # Built by hand: joserfc (rightly) warns about generating or importing one, and warnings are errors here.
    import base64

    from cryptography.hazmat.primitives.asymmetric import rsa

    numbers = rsa.generate_private_key(65537, 1024).public_key().public_numbers()

    def b64(value: int) -> str:
        return base64.urlsafe_b64encode(value.to_bytes((value.bit_length() + 7) // 8, "big")).rstrip(b"=").decode()

    return {"kty": "RSA", "n": b64(numbers.n), "e": b64(numbers.e), "kid": "small"}


def clients_doc(keys: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {"clients": [
        {"client_id": "admissions.example.org", "name": "Example admissions",
         "redirect_uris": ["https://admissions.example.org/emrex2/callback", "https://admissions.example.org/cb2"],
         "jwks": {"keys": [keys["rsa"], keys["ec"]]}},
        {"client_id": "urn:example:mobility/portal", "name": "Mobility portal",
         "redirect_uris": ["https://mobility.example.eu/oauth/return?tenant=7"],
         "jwks_uri": "https://mobility.example.eu/.well-known/jwks.json"},
    ]}


@pytest.fixture
def clients_upstream(kit, keys) -> Iterator[Any]:
    state = kit.Upstream()
    state.set(clients_doc(keys))
    with serve_on_loopback(kit.upstream_app(state), lifespan="on") as base_url:
        state.url = f"{base_url}/clients.json"
        yield state


@pytest.fixture
async def running(tmp_path, upstream, clients_upstream, tokens_dir, admin_token, kit):
    settings = kit.make_settings(tmp_path, upstream.url, tokens_dir, clients_source=clients_upstream.url)
    async for service in kit.start(settings, admin_token):
        yield service


def outcome(result: dict[str, Any], kind: str) -> dict[str, Any]:
    return next(o for o in result["outcomes"] if o["kind"] == kind)


async def test_clients_are_mirrored_and_served(running, keys):
    result = (await running.refresh()).json()
    assert outcome(result, "clients")["outcome"] == "accepted"
    response = await running.client.get("/v1/clients/admissions.example.org")  # a public read: no token
    assert response.status_code == 200, response.text
    assert response.headers["x-registry-stale"] == "false"
    body = response.json()
    assert body["client_id"] == "admissions.example.org"
    assert body["name"] == "Example admissions"
    assert body["redirect_uris"] == ["https://admissions.example.org/emrex2/callback",
                                     "https://admissions.example.org/cb2"]
    assert body["jwks"] == {"keys": [keys["rsa"], keys["ec"]]}
    assert body["jwks_uri"] is None
    assert body["stale"] is False
    # The typed client, with a client_id that needs escaping in a path.
    registry = RegistryClient(running.client)
    portal = await registry.client("urn:example:mobility/portal")
    assert portal is not None
    assert portal.jwks_uri == "https://mobility.example.eu/.well-known/jwks.json"
    assert portal.redirect_uris == ["https://mobility.example.eu/oauth/return?tenant=7"]
    assert await registry.client("nobody") is None


@pytest.mark.parametrize("client_id", ["nobody", "ADMISSIONS.EXAMPLE.ORG", "admissions.example.org/",
                                       "admissions.example.org%00", "x" * 3000, "é"])
async def test_unknown_client_is_a_404_problem(running, client_id):
    await running.refresh()
    response = await running.client.get(f"/v1/clients/{client_id}")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "unknown_client"


async def test_conditional_get_and_stored_versions(running, clients_upstream):
    await running.refresh()
    result = (await running.refresh()).json()
    assert outcome(result, "clients")["outcome"] == "not_modified"
    assert clients_upstream.requests[-1]["if-none-match"] == clients_upstream.etag
    assert clients_upstream.requests[-1]["if-modified-since"] == "Wed, 25 Nov 2026 10:00:00 GMT"
    status = (await running.client.get("/v1/status")).json()
    assert status["versions_stored"] == 2  # one EMP list version, one client list version
    source = next(s for s in status["sources"] if s["kind"] == "clients")
    assert source["format"] == "clients"
    assert source["version"] is not None


def _edit(keys, change):
    doc = copy.deepcopy(clients_doc(keys))
    change(doc["clients"][0], keys)
    return doc


BAD_LISTS = {
    "private_key": (lambda c, k: c["jwks"].update(keys=[k["rsa_private"]]), "private key material"),
    "short_rsa_key": (lambda c, k: c["jwks"].update(keys=[k["rsa_small"]]),
                      "2048 bits"),
    "http_redirect": (lambda c, k: c.update(redirect_uris=["http://admissions.example.org/cb"]), "must use https"),
    "http_loopback_in_production": (lambda c, k: c.update(redirect_uris=["http://127.0.0.1:9000/cb"]),
                                    "must use https"),
    "fragment": (lambda c, k: c.update(redirect_uris=["https://admissions.example.org/cb#x"]), "fragment"),
    "relative_redirect": (lambda c, k: c.update(redirect_uris=["/cb"]), "absolute https URL"),
    "no_redirect": (lambda c, k: c.update(redirect_uris=[]), "schema: clients/0/redirect_uris"),
    "both_key_forms": (lambda c, k: c.update(jwks_uri="https://a.example/jwks"), "schema: clients/0"),
    "no_key": (lambda c, k: c.pop("jwks"), "schema: clients/0"),
    "key_without_kid": (lambda c, k: c["jwks"]["keys"][0].pop("kid"), "'kid' is a required property"),
    "duplicate_kid": (lambda c, k: c["jwks"]["keys"][1].update(kid="rsa-1"), "kid 'rsa-1' twice"),
    "symmetric_key": (lambda c, k: c["jwks"].update(keys=[{"kty": "oct", "k": "c2VjcmV0", "kid": "h"}]),
                      "schema: clients/0/jwks/keys/0/kty"),
    "ec_other_curve": (lambda c, k: c["jwks"]["keys"][1].update(crv="P-384"), "P-256"),
    "garbage_modulus": (lambda c, k: c["jwks"]["keys"][0].update(n="!!!"), "2048 bits"),
    "encryption_key": (lambda c, k: c["jwks"]["keys"][0].update(use="enc"), "not a signing key"),
    "duplicate_client": (lambda c, k: c.update(client_id="urn:example:mobility/portal"), "registered twice"),
    "space_in_id": (lambda c, k: c.update(client_id="a b"), "schema: clients/0/client_id"),
}


@pytest.mark.parametrize("case", list(BAD_LISTS))
async def test_bad_list_keeps_the_last_good_copy(running, clients_upstream, upstream, keys, case):
    change, reason = BAD_LISTS[case]
    await running.refresh()
    clients_upstream.set(_edit(keys, change))
    result = (await running.refresh()).json()
    assert outcome(result, "clients")["outcome"] == "rejected"
    assert reason in outcome(result, "clients")["detail"]
    assert "BEGIN" not in json.dumps(result)
    response = await running.client.get("/v1/clients/admissions.example.org")
    assert response.status_code == 200
    assert response.json()["redirect_uris"][0] == "https://admissions.example.org/emrex2/callback"
    assert response.json()["stale"] is True
    assert response.headers["x-registry-stale"] == "true"
    # The EMP list is not made stale by the client list.
    emps = await running.client.get("/v1/emps")
    assert emps.headers["x-registry-stale"] == "false"
    assert (await running.client.get("/readyz")).status_code == 200
    # Recovery.
    clients_upstream.set(clients_doc(keys))
    result = (await running.refresh()).json()
    assert outcome(result, "clients")["outcome"] in {"accepted", "unchanged", "not_modified"}
    assert (await running.client.get("/v1/clients/admissions.example.org")).json()["stale"] is False


@pytest.mark.parametrize("mode", ["500", "truncated", "short"])
async def test_failing_source_keeps_serving(running, clients_upstream, mode):
    await running.refresh()
    clients_upstream.mode = mode
    result = (await running.refresh()).json()
    assert outcome(result, "clients")["outcome"] in {"failed", "rejected"}
    response = await running.client.get("/v1/clients/admissions.example.org")
    assert response.status_code == 200
    assert response.json()["stale"] is True


async def test_not_loaded_yet_is_503_and_not_configured_is_404(tmp_path, upstream, tokens_dir, admin_token, kit):
    missing = kit.make_settings(tmp_path / "a", upstream.url, tokens_dir, clients_source=str(tmp_path / "none.json"))
    async for service in kit.start(missing, admin_token):
        await service.refresh()
        assert (await service.client.get("/readyz")).status_code == 200  # the EMP list alone makes it ready
        response = await service.client.get("/v1/clients/admissions.example.org")
        assert response.status_code == 503
        assert response.json()["code"] == "registry_unavailable"
    plain = kit.make_settings(tmp_path / "b", upstream.url, tokens_dir)
    async for service in kit.start(plain, admin_token):
        await service.refresh()
        response = await service.client.get("/v1/clients/admissions.example.org")
        assert response.status_code == 404
        assert response.json()["code"] == "unknown_client"


async def test_clients_alone_do_not_make_the_node_ready(tmp_path, clients_upstream, tokens_dir, admin_token, kit):
    settings = kit.make_settings(tmp_path, str(tmp_path / "no-emreg.json"), tokens_dir,
                                 clients_source=clients_upstream.url)
    async for service in kit.start(settings, admin_token):
        await service.refresh()
        assert (await service.client.get("/readyz")).status_code == 503
        assert (await service.client.get("/v1/emps")).status_code == 503
        assert (await service.client.get("/v1/clients/admissions.example.org")).status_code == 200


async def test_restart_serves_the_stored_list_at_once(tmp_path, upstream, clients_upstream, tokens_dir, admin_token,
                                                      kit):
    settings = kit.make_settings(tmp_path, upstream.url, tokens_dir, clients_source=clients_upstream.url)
    async for service in kit.start(settings, admin_token):
        await service.refresh()
    clients_upstream.mode = "500"
    async for service in kit.start(settings, admin_token):
        response = await service.client.get("/v1/clients/admissions.example.org")
        assert response.status_code == 200
        assert response.json()["stale"] is False


async def test_loopback_http_only_where_allowed(tmp_path, upstream, tokens_dir, admin_token, kit, keys):
    doc = clients_doc(keys)
    doc["clients"][0]["redirect_uris"] = ["http://127.0.0.1:8020/emrex2/callback", "http://[::1]:8020/cb",
                                          "http://localhost:8020/cb"]
    source = tmp_path / "clients.json"
    source.write_text(json.dumps(doc))
    allowed = kit.make_settings(tmp_path / "a", upstream.url, tokens_dir, clients_source=str(source),
                                clients_allow_http_loopback=True)
    async for service in kit.start(allowed, admin_token):
        assert outcome((await service.refresh()).json(), "clients")["outcome"] == "accepted"
        body = (await service.client.get("/v1/clients/admissions.example.org")).json()
        assert body["redirect_uris"][0] == "http://127.0.0.1:8020/emrex2/callback"
    doc["clients"][0]["redirect_uris"] = ["http://evil.example:8020/cb"]
    source.write_text(json.dumps(doc))
    async for service in kit.start(allowed.model_copy(update={"database_url": allowed.database_url + "2"}),
                                   admin_token):
        assert outcome((await service.refresh()).json(), "clients")["outcome"] == "rejected"


def test_loopback_http_is_refused_outside_development(tmp_path, kit):
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="development only"):
        kit.make_settings(tmp_path, "https://emreg.example/emreg.json", None, env="prod", dev_mode=False,
                          clients_allow_http_loopback=True)
    with pytest.raises(ValidationError, match="must be https"):
        kit.make_settings(tmp_path, "https://emreg.example/emreg.json", None, env="prod", dev_mode=False,
                          clients_source=str(tmp_path / "clients.json"))
