"""Fail closed: outside an explicit development mode no random secrets, no public OIDC client, no http; HSTS."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from ncp_gateway.settings import Settings


@pytest.fixture(autouse=True)
def no_gateway_environment(monkeypatch):
    for name in list(os.environ):
        if name.startswith("NCP_GATEWAY_"):
            monkeypatch.delenv(name)


@pytest.fixture
def production(tmp_path: Path) -> dict[str, object]:
    files = {}
    for name in ("session_secret_path", "pseudonym_key_path", "oidc_client_secret_path"):
        files[name] = tmp_path / name
        files[name].write_text("x" * 40)
    return {**files, "public_url": "https://emrex.example.org", "oidc_issuer": "https://login.example.org"}


def refusal(**values: object) -> str:
    with pytest.raises(ValidationError) as caught:
        Settings(**values)
    return str(caught.value)


def test_a_complete_production_configuration_is_accepted(production):
    settings = Settings(**production)
    assert settings.env == "prod"
    assert not settings.development


def test_without_an_explicit_mode_the_gateway_is_in_production_and_refuses_the_development_defaults():
    message = refusal()
    for name in ("NCP_GATEWAY_SESSION_SECRET_PATH", "NCP_GATEWAY_PSEUDONYM_KEY_PATH",
                 "NCP_GATEWAY_OIDC_CLIENT_SECRET_PATH", "NCP_GATEWAY_OIDC_ISSUER", "NCP_GATEWAY_PUBLIC_URL"):
        assert name in message


@pytest.mark.parametrize("env", ["prod", "staging"])
@pytest.mark.parametrize(("change", "named"), [
    ({"session_secret_path": None}, "NCP_GATEWAY_SESSION_SECRET_PATH"),
    ({"pseudonym_key_path": None}, "NCP_GATEWAY_PSEUDONYM_KEY_PATH"),
    ({"oidc_client_secret_path": None}, "NCP_GATEWAY_OIDC_CLIENT_SECRET_PATH"),
    ({"public_url": None}, "NCP_GATEWAY_PUBLIC_URL"),
    ({"public_url": "http://emrex.example.org"}, "NCP_GATEWAY_PUBLIC_URL"),
    ({"public_url": "emrex.example.org"}, "NCP_GATEWAY_PUBLIC_URL"),
    ({"oidc_issuer": "http://login.example.org"}, "NCP_GATEWAY_OIDC_ISSUER"),
    ({"allow_http_loopback": True}, "NCP_GATEWAY_ALLOW_HTTP_LOOPBACK"),
    ({"cookie_secure": False}, "NCP_GATEWAY_COOKIE_SECURE"),
    ({"allowed_return_origins": ["http://emc.example.fi"]}, "NCP_GATEWAY_ALLOWED_RETURN_ORIGINS"),
])
def test_each_development_convenience_is_refused_outside_development_naming_the_setting(production, env, change,
                                                                                         named):
    assert named in refusal(**{**production, "env": env, **change})


@pytest.mark.parametrize("env", ["dev", "test"])
def test_the_explicit_development_modes_allow_them(env):
    settings = Settings(env=env, oidc_issuer="http://127.0.0.1:8010", allow_http_loopback=True, cookie_secure=False)
    assert settings.development


@pytest.mark.parametrize("origin", ["https://evil.example;frame-ancestors", "https://user@emc.example.fi",
                                    "https://emc.example.fi./"])
def test_invalid_allowlisted_origins_stop_start_up(origin):
    assert "ALLOWED_RETURN_ORIGINS" in refusal(env="dev", allowed_return_origins=[origin])


def test_start_up_fails_with_a_clear_message_naming_the_setting(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("NCP_")}
    env["NCP_GATEWAY_PORT"] = "1"  # never reached: the settings stop it first
    result = subprocess.run([sys.executable, "-m", "ncp_gateway"], env=env, capture_output=True, text=True,
                            timeout=60, cwd=tmp_path, check=False)
    assert result.returncode != 0
    assert "invalid configuration" in result.stderr
    assert "NCP_GATEWAY_SESSION_SECRET_PATH is required" in result.stderr
    assert "Traceback" not in result.stderr


def test_one_token_for_the_signer_and_the_sis_adapter_is_refused(production, tmp_path):
    signer, sis = tmp_path / "signer-token", tmp_path / "sis-token"
    signer.write_text("s" * 40 + "\n")
    sis.write_text("t" * 40 + "\n")
    Settings(**production, signer_token_path=signer, sis_token_path=sis)
    sis.write_text("s" * 40)
    assert "hold the same token" in refusal(**production, signer_token_path=signer, sis_token_path=sis)


def test_start_up_with_one_token_for_two_callees_stops_with_one_message(tmp_path):
    shared = tmp_path / "token"
    shared.write_text("s" * 40 + "\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("NCP_")}
    env |= {"NCP_GATEWAY_ENV": "dev", "NCP_GATEWAY_PORT": "1", "NCP_GATEWAY_SIGNER_TOKEN_PATH": str(shared),
            "NCP_GATEWAY_SIS_TOKEN_PATH": str(shared)}
    result = subprocess.run([sys.executable, "-m", "ncp_gateway"], env=env, capture_output=True, text=True,
                            timeout=60, cwd=tmp_path, check=False)
    assert result.returncode != 0
    assert "hold the same token" in result.stderr
    assert "Traceback" not in result.stderr


async def test_hsts_on_every_answer_and_configurable(offline_browser, make_browser):
    for response in (await offline_browser.enter(), await offline_browser.http.post("/emrex", data={}),
                     await offline_browser.http.get("/healthz")):
        assert response.headers["strict-transport-security"] == "max-age=31536000"
    async with make_browser(hsts_max_age_seconds=600, hsts_include_subdomains=True) as b:
        response = await b.http.get("/healthz")
        assert response.headers["strict-transport-security"] == "max-age=600; includeSubDomains"
    async with make_browser(hsts_max_age_seconds=0) as b:
        assert "strict-transport-security" not in (await b.http.get("/healthz")).headers
