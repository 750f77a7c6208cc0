"""Caller authentication: a bearer token per calling service; health endpoints stay open."""

import pytest

from ncp_testkit.elmo import sample_xml

ENDPOINTS = [("POST", "/v1/sign"), ("GET", "/v1/certificates"), ("GET", "/v1/emreg-entry")]


def _request(client, method, path, headers):
    if method == "POST":
        return client.post(path, content=sample_xml(1), headers={"Content-Type": "application/xml", **headers})
    return client.get(path, headers=headers)


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
async def test_missing_token_is_401(client, method, path):
    client.headers.pop("Authorization")
    response = await _request(client, method, path, {})
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "unauthenticated"
    assert response.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
async def test_wrong_token_is_401(client, method, path):
    response = await _request(client, method, path, {"Authorization": "Bearer " + "x" * 32})
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_token"


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
async def test_known_caller_not_allowed_is_403(client, tokens, method, path):
    response = await _request(client, method, path, tokens.auth("admin"))
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
    assert tokens.admin not in response.text


async def test_allowed_callers_setting(settings, tokens, run_app):
    async with run_app(settings.model_copy(update={"allowed_callers": {"gateway", "admin"}})) as client:
        response = await client.get("/v1/certificates", headers=tokens.auth("admin"))
    assert response.status_code == 200


async def test_token_file_of_caller_lines(settings, tokens, tmp_path, run_app):
    token_file = tmp_path / "callers"
    token_file.write_text(f"# caller=token\ngateway={tokens.gateway}\n")
    async with run_app(settings.model_copy(update={"caller_tokens_path": token_file})) as client:
        assert (await client.get("/v1/certificates")).status_code == 200


async def test_health_is_open(client):
    client.headers.pop("Authorization")
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["active_key_id"] == "default"


async def test_no_tokens_configured_is_not_ready_and_refuses(settings, run_app, tokens):
    async with run_app(settings.model_copy(update={"caller_tokens_path": None})) as client:
        assert (await client.get("/readyz")).status_code == 503
        response = await client.get("/v1/certificates")
    assert response.status_code == 401


def test_allowed_callers_from_the_environment(monkeypatch):
    from ncp_signer import Settings

    monkeypatch.setenv("NCP_SIGNER_ALLOWED_CALLERS", '["gateway", "demo-client"]')
    monkeypatch.setenv("NCP_SIGNER_EMREG_INSTITUTIONS", '["A", "B"]')
    settings = Settings()
    assert settings.allowed_callers == {"gateway", "demo-client"}
    assert settings.emreg_institutions == ["A", "B"]


async def test_the_signer_refuses_to_start_with_one_token_for_two_callers(settings, tmp_path):
    from ncp_runtime import DuplicateTokenError
    from ncp_signer import create_app
    from ncp_testkit import asgi_client

    table = tmp_path / "callers"
    table.write_text(f"gateway={'t' * 32}\nadmin={'t' * 32}\n")
    with pytest.raises(DuplicateTokenError, match="admin and gateway"):
        async with asgi_client(create_app(settings.model_copy(update={"caller_tokens_path": table})), timeout=30):
            pass
