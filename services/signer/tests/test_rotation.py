"""Rotation: several keys, one active; retired certificates stay published until their date."""

import datetime as dt

from cryptography import x509

import emrex_elmo
from ncp_contracts.signer import SignerClient
from ncp_signer import KeyConfig, Settings
from ncp_testkit import signing_key
from ncp_testkit.elmo import sample_xml

XML = {"Content-Type": "application/xml"}


def _file_key(tmp_path, write_key, issued, key_id, **extra) -> KeyConfig:
    key_path, cert_path = write_key(tmp_path / key_id, key_id, issued)
    return KeyConfig(id=key_id, backend="file", key_path=key_path, cert_path=cert_path, **extra)


async def test_switch_to_new_key_keeps_old_certificate_published(tmp_path, ca, tokens, run_app, write_key):
    old, new = signing_key(ca, "old"), signing_key(ca, "new")
    until = dt.datetime.now(dt.UTC) + dt.timedelta(days=90)
    old_cfg = _file_key(tmp_path, write_key, old, "2026-a")
    new_cfg = _file_key(tmp_path, write_key, new, "2026-b")

    # Before the switch: only the old key is configured and active.
    async with run_app(Settings(keys=[old_cfg], caller_tokens_path=tokens.path)) as client:
        before = (await client.post("/v1/sign", content=sample_xml(3), headers=XML)).content
        listed = (await SignerClient(client).certificates()).certificates
    assert [(c.key_id, c.active) for c in listed] == [("2026-a", True)]

    # After the switch: new key active, old one retired but published until `until`.
    settings = Settings(keys=[old_cfg.model_copy(update={"publish_until": until}), new_cfg],
                        active_key_id="2026-b", caller_tokens_path=tokens.path)
    async with run_app(settings) as client:
        response = await client.post("/v1/sign", content=sample_xml(3), headers=XML)
        listed = (await SignerClient(client).certificates()).certificates
        ready = (await client.get("/readyz")).json()
    assert response.headers["x-signer-key-id"] == "2026-b"
    after = response.content
    assert ready["active_key_id"] == "2026-b"
    by_id = {c.key_id: c for c in listed}
    assert set(by_id) == {"2026-a", "2026-b"}
    assert by_id["2026-b"].active
    assert not by_id["2026-a"].active
    assert by_id["2026-a"].publish_until == until
    published = {k: x509.load_pem_x509_certificate(c.pem.encode()) for k, c in by_id.items()}
    assert published["2026-a"] == old.certificate
    assert by_id["2026-b"].not_after == new.certificate.not_valid_after_utc

    # Documents signed before the switch still verify with the old (published) certificate...
    emrex_elmo.verify(before, [published["2026-a"]])
    # ...and new documents are signed with the new key only.
    emrex_elmo.verify(after, [published["2026-b"]])
    try:
        emrex_elmo.verify(after, [published["2026-a"]])
        raise AssertionError("a new document verified with the retired certificate")
    except emrex_elmo.SignatureError:
        pass


async def test_retired_certificate_disappears_after_its_date(tmp_path, ca, tokens, run_app, write_key):
    old, new = signing_key(ca, "old"), signing_key(ca, "new")
    past = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    settings = Settings(keys=[_file_key(tmp_path, write_key, old, "old", publish_until=past),
                              _file_key(tmp_path, write_key, new, "new")],
                        active_key_id="new", caller_tokens_path=tokens.path)
    async with run_app(settings) as client:
        listed = (await client.get("/v1/certificates")).json()["certificates"]
    assert [c["key_id"] for c in listed] == ["new"]


async def test_retired_key_needs_only_its_certificate(tmp_path, ca, tokens, run_app, write_key):
    old, new = signing_key(ca, "old"), signing_key(ca, "new")
    _, old_cert = write_key(tmp_path / "old", "old", old)
    settings = Settings(keys=[KeyConfig(id="old", cert_path=old_cert), _file_key(tmp_path, write_key, new, "new")],
                        active_key_id="new", caller_tokens_path=tokens.path)
    async with run_app(settings) as client:
        assert (await client.get("/readyz")).status_code == 200
        listed = (await client.get("/v1/certificates")).json()["certificates"]
    assert {c["key_id"] for c in listed} == {"old", "new"}


async def test_keys_file_and_env_json(tmp_path, ca, tokens, write_key, monkeypatch, run_app):
    old, new = signing_key(ca, "old"), signing_key(ca, "new")
    old_cfg = _file_key(tmp_path, write_key, old, "old")
    new_cfg = _file_key(tmp_path, write_key, new, "new")
    keys_file = tmp_path / "keys.json"
    keys_file.write_text('{"keys": [' + new_cfg.model_dump_json() + "]}")
    monkeypatch.setenv("NCP_SIGNER_KEYS", "[" + old_cfg.model_dump_json() + "]")
    monkeypatch.setenv("NCP_SIGNER_KEYS_FILE", str(keys_file))
    monkeypatch.setenv("NCP_SIGNER_ACTIVE_KEY_ID", "new")
    monkeypatch.setenv("NCP_SIGNER_CALLER_TOKENS_PATH", str(tokens.path))
    settings = Settings()
    assert [c.id for c in settings.key_configs()] == ["old", "new"]
    async with run_app(settings) as client:
        signed = (await client.post("/v1/sign", content=sample_xml(1), headers=XML)).content
    emrex_elmo.verify(signed, [new.certificate])


async def test_rotation_to_pkcs11_key(tmp_path, ca, hsm, tokens, run_app, write_key):
    old = signing_key(ca, "old")
    settings = Settings(keys=[_file_key(tmp_path, write_key, old, "file-old"), hsm.key_config("hsm-new", "rsa1")],
                        active_key_id="hsm-new", caller_tokens_path=tokens.path)
    async with run_app(settings) as client:
        response = await client.post("/v1/sign", content=sample_xml(2), headers=XML)
        listed = (await client.get("/v1/certificates")).json()["certificates"]
    assert response.headers["x-signer-key-id"] == "hsm-new"
    hsm_cert = x509.load_pem_x509_certificate(hsm.certs["rsa1"].read_bytes())
    emrex_elmo.verify(response.content, [hsm_cert])
    assert {c["key_id"]: c["active"] for c in listed} == {"file-old": False, "hsm-new": True}


async def test_several_keys_need_an_active_id(tmp_path, ca, tokens, run_app, write_key):
    a, b = signing_key(ca, "a"), signing_key(ca, "b")
    settings = Settings(keys=[_file_key(tmp_path, write_key, a, "a"), _file_key(tmp_path, write_key, b, "b")],
                        caller_tokens_path=tokens.path)
    async with run_app(settings) as client:
        ready = await client.get("/readyz")
    assert ready.status_code == 503
    assert "ACTIVE_KEY_ID" in ready.json()["reasons"][0]
