"""Reads are public to the node's clients; only the operator's token refreshes (issue 11 §3)."""

import secrets

import pytest

from ncp_testkit import bearer, golden_elmo, sign_enveloped

CSC = "https://emp.csc.example.fi/ncp_entry"


def reads(pki) -> list[tuple[str, str, dict]]:
    signed = sign_enveloped(golden_elmo(), pki.nodes["CSC"]).decode()
    return [
        ("GET", "/v1/emps", {"params": {"country": "FI"}}),
        ("GET", "/v1/emps/lookup", {"params": {"url": CSC}}),
        ("GET", "/v1/certificates", {"params": {"acronym": "CSC"}}),
        ("GET", "/v1/status", {}),
        ("POST", "/v1/verify", {"json": {"node_url": CSC, "xml": signed}}),
    ]


@pytest.mark.parametrize("header", [None, "Bearer " + "x" * 32, "Basic Zm9vOmJhcg=="])
async def test_reads_need_no_token(service, pki, header):
    await service.refresh()
    headers = {"Authorization": header} if header else {}
    for method, path, kwargs in reads(pki):
        r = await service.client.request(method, path, headers=headers, **kwargs)
        assert r.status_code == 200, (path, r.status_code, r.text)
    verified = await service.client.post("/v1/verify", json=reads(pki)[-1][2]["json"])
    assert verified.json()["valid"] is True


async def test_reads_work_on_a_replica_without_any_token_configured(tmp_path, upstream, kit, admin_token, pki,
                                                                    tokens_dir):
    async for writer in kit.start(kit.make_settings(tmp_path, upstream.url, tokens_dir), admin_token):
        assert (await writer.refresh()).status_code == 200
    async for reader in kit.start(kit.make_settings(tmp_path, upstream.url, None), admin_token):
        for method, path, kwargs in reads(pki):
            assert (await reader.client.request(method, path, **kwargs)).status_code == 200, path
        refused = await reader.client.post("/v1/refresh", headers=reader.admin)
        assert refused.status_code == 401


async def test_refresh_needs_the_admin_token(service):
    missing = await service.client.post("/v1/refresh")
    assert missing.status_code == 401
    assert missing.headers["content-type"].startswith("application/problem+json")
    # A token issued for another callee (the gateway's for the signer, say) is unknown here.
    other = await service.client.post("/v1/refresh", headers=bearer(secrets.token_urlsafe(32)))
    assert other.status_code == 401
    assert (await service.refresh()).status_code == 200


async def test_a_caller_known_here_but_not_an_admin_is_refused(service, tokens_dir):
    gateway = (tokens_dir / "gateway").read_text().strip()
    refused = await service.client.post("/v1/refresh", headers=bearer(gateway))
    assert refused.status_code == 403


def test_the_registry_cache_refuses_to_start_with_one_token_for_two_callers(settings, tmp_path):
    from ncp_registry_cache.app import create_app
    from ncp_runtime import DuplicateTokenError

    table = tmp_path / "one-token-twice"
    table.write_text(f"gateway={'t' * 32}\nadmin={'t' * 32}\n")
    with pytest.raises(DuplicateTokenError, match="admin and gateway"):
        create_app(settings.model_copy(update={"caller_tokens_path": table}))
