"""/readyz follows the active certificate; a warning is logged before it expires."""

import datetime as dt
import json
import logging

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from emrex_cli.devpki import IssuedKey, issue_signing_cert
from ncp_runtime.logging import JsonFormatter
from ncp_signer import Settings, create_app
from ncp_signer.app import check_expiry
from ncp_testkit.elmo import sample_xml

XML = {"Content-Type": "application/xml"}


def _with_cert(tmp_path, ca, rsa_key, tokens, *, not_before: dt.datetime, days: int, **extra) -> Settings:
    cert = issue_signing_cert(ca, "timed", not_before=not_before, days=days, public_key=rsa_key.key.public_key())
    issued = IssuedKey(rsa_key.key, cert)
    (tmp_path / "t.key").write_bytes(issued.key_pem())
    (tmp_path / "t.crt").write_bytes(cert.public_bytes(Encoding.PEM))
    return Settings(key_file=tmp_path / "t.key", cert_file=tmp_path / "t.crt", caller_tokens_path=tokens.path,
                    **extra)


async def test_valid_certificate_is_ready(client):
    response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["status"] == "ready"


async def test_expired_certificate_is_not_ready_and_refuses_to_sign(tmp_path, ca, rsa_key, tokens, run_app):
    settings = _with_cert(tmp_path, ca, rsa_key, tokens,
                          not_before=dt.datetime.now(dt.UTC) - dt.timedelta(days=30), days=10)
    async with run_app(settings) as client:
        ready = await client.get("/readyz")
        sign = await client.post("/v1/sign", content=sample_xml(1), headers=XML)
        health = await client.get("/healthz")
    assert ready.status_code == 503
    assert "expired" in ready.json()["reasons"][0]
    assert sign.status_code == 503
    assert sign.json()["code"] == "signing_unavailable"
    assert health.status_code == 200


async def test_not_yet_valid_certificate_is_not_ready(tmp_path, ca, rsa_key, tokens, run_app):
    settings = _with_cert(tmp_path, ca, rsa_key, tokens,
                          not_before=dt.datetime.now(dt.UTC) + dt.timedelta(days=2), days=365)
    async with run_app(settings) as client:
        ready = await client.get("/readyz")
    assert ready.status_code == 503
    assert "not valid before" in ready.json()["reasons"][0]


@pytest.mark.parametrize("problem", ["missing", "garbage"])
async def test_unreadable_certificate_is_not_ready(settings, tmp_path, run_app, problem):
    cert = tmp_path / "broken.crt"
    if problem == "garbage":
        cert.write_text("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n")
    async with run_app(settings.model_copy(update={"cert_file": cert})) as client:
        ready = await client.get("/readyz")
        sign = await client.post("/v1/sign", content=sample_xml(1), headers=XML)
    assert ready.status_code == 503
    assert "cannot read certificate" in ready.json()["reasons"][0]
    assert sign.status_code == 503


async def test_warning_before_expiry(tmp_path, ca, rsa_key, tokens, run_app, caplog):
    settings = _with_cert(tmp_path, ca, rsa_key, tokens,
                          not_before=dt.datetime.now(dt.UTC) - dt.timedelta(days=355), days=365,
                          expiry_warning_days=14)
    with caplog.at_level(logging.WARNING, logger="ncp_signer"):
        async with run_app(settings) as client:
            assert (await client.get("/readyz")).status_code == 200
    warnings = [r for r in caplog.records if r.getMessage() == "active signing certificate expires soon"]
    assert len(warnings) == 1
    assert warnings[0].key_id == "default"
    assert 9 < warnings[0].days_left < 11


async def test_no_warning_far_from_expiry_and_once_a_day(settings, caplog):
    from ncp_testkit import asgi_client

    app = create_app(settings)
    with caplog.at_level(logging.WARNING, logger="ncp_signer"):
        async with asgi_client(app) as client:
            state = client.lifespan_state["signer"]
            assert not [r for r in caplog.records if "expires soon" in r.getMessage()]
            later = state.keyring.active.certificate.not_valid_after_utc - dt.timedelta(days=3)
            check_expiry(state, later)
            check_expiry(state, later + dt.timedelta(hours=1))
            check_expiry(state, later + dt.timedelta(days=1))
    assert len([r for r in caplog.records if "expires soon" in r.getMessage()]) == 2


async def test_one_log_line_per_signature_without_personal_data(client, caplog):
    with caplog.at_level(logging.INFO, logger="ncp_signer"):
        response = await client.post("/v1/sign", content=sample_xml(4), headers=XML)
    assert response.status_code == 200
    lines = [r for r in caplog.records if r.name == "ncp_signer.sign"]
    assert len(lines) == 1
    record = lines[0]
    assert record.caller == "gateway"
    assert record.key_id == "default"
    assert record.sha256 == response.headers["x-content-sha256"]
    assert record.size == len(response.content)
    assert record.duration_ms > 0
    # The JSON line on stderr carries the same fields and nothing from the document.
    text = JsonFormatter("signer").format(record)
    assert {"caller", "key_id", "sha256", "size", "duration_ms"} <= set(json.loads(text))
    for personal in ("Testi", "Testaaja", "2000-01-01", "Course number"):
        assert personal not in text
