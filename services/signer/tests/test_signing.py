"""POST /v1/sign with both key backends; every signature checked by three verifiers."""

import base64
import hashlib
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.serialization import Encoding
from lxml import etree

import emrex_elmo
from ncp_contracts.signer import SignerClient
from ncp_signer import Settings
from ncp_testkit import signing_key
from ncp_testkit.elmo import sample_elmo, sample_xml


async def _sign(client: httpx.AsyncClient, xml: bytes) -> httpx.Response:
    return await client.post("/v1/sign", content=xml, headers={"Content-Type": "application/xml"})


@pytest.mark.interop
@pytest.mark.parametrize("courses", [0, 1, 25])
async def test_file_key_signature_verifies_everywhere(client, rsa_key, verify_all, signature_of, courses):
    unsigned = sample_xml(courses)
    response = await _sign(client, unsigned)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/xml")
    signed = response.content
    assert response.headers["x-content-sha256"] == hashlib.sha256(signed).hexdigest()
    assert response.headers["x-signer-key-id"] == "default"
    verify_all(signed, rsa_key.certificate)
    emrex_elmo.validate(emrex_elmo.parse_xml(signed), "1.7.0")
    # The content is what was sent: the same model, now signed.
    assert emrex_elmo.from_xml(signed) == sample_elmo(courses)
    signature = signature_of(signed)
    ds = "{http://www.w3.org/2000/09/xmldsig#}"
    info = signature.find(f"{ds}SignedInfo")
    assert info.find(f"{ds}CanonicalizationMethod").get("Algorithm") == emrex_elmo.dsig.C14N_1_0
    assert info.find(f"{ds}SignatureMethod").get("Algorithm") == emrex_elmo.dsig.RSA_SHA256
    [reference] = info.findall(f"{ds}Reference")
    assert reference.get("URI") == ""
    assert [t.get("Algorithm") for t in reference.iter(f"{ds}Transform")] == [
        emrex_elmo.dsig.ENVELOPED, emrex_elmo.dsig.C14N_1_0]
    assert reference.find(f"{ds}DigestMethod").get("Algorithm") == emrex_elmo.dsig.SHA256
    [cert_el] = signature.iter(f"{ds}X509Certificate")
    assert base64.b64decode(cert_el.text) == rsa_key.certificate.public_bytes(Encoding.DER)


@pytest.mark.interop
async def test_real_sample_with_prefixed_dsig_namespace_verifies(client, rsa_key, verify_all, fi_sample):
    # The FI sample declares xmlns:ns3 for XMLDSig on <elmo> and has a standalone declaration.
    response = await _sign(client, fi_sample)
    assert response.status_code == 200, response.text
    verify_all(response.content, rsa_key.certificate)


async def test_signed_bytes_are_answered_untouched_and_tampering_is_detected(client, rsa_key):
    unsigned = sample_xml(3)
    signed = (await _sign(client, unsigned)).content
    assert signed.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<elmo ')
    # The answer is the canonical form of the input with the Signature inserted before </elmo>.
    canonical = etree.tostring(emrex_elmo.parse_xml(unsigned), method="c14n", with_comments=False)
    start, end = signed.index(b"<ds:Signature"), signed.rindex(b"</ds:Signature>") + len(b"</ds:Signature>")
    assert signed[signed.index(b"<elmo"):start] + signed[end:] == canonical
    tampered = signed.replace(b"Course number 1 ", b"Course number 9 ")
    assert tampered != signed
    with pytest.raises(emrex_elmo.SignatureError):
        emrex_elmo.verify(tampered, [rsa_key.certificate])


async def test_contract_client_signs(client, rsa_key):
    signed = await SignerClient(client).sign(sample_xml(2))
    emrex_elmo.verify(signed, [rsa_key.certificate])


@pytest.mark.interop
async def test_ec_p256_file_key(tmp_path, ca, tokens, run_app, write_key, verify_all, signature_of):
    issued = signing_key(ca, "signer-ec", key_type="ec")
    key_path, cert_path = write_key(tmp_path / "ec", "ec", issued)
    async with run_app(Settings(key_file=key_path, cert_file=cert_path, caller_tokens_path=tokens.path)) as client:
        response = await _sign(client, sample_xml(5))
    assert response.status_code == 200, response.text
    verify_all(response.content, issued.certificate)
    method = signature_of(response.content).find(".//{http://www.w3.org/2000/09/xmldsig#}SignatureMethod")
    assert method.get("Algorithm") == emrex_elmo.dsig.ECDSA_SHA256


@pytest.mark.parametrize("via", ["file", "env"])
async def test_encrypted_key_with_passphrase(tmp_path, ca, rsa_key, tokens, run_app, write_key, monkeypatch, via):
    key_path, cert_path = write_key(tmp_path / "enc", "enc", rsa_key, passphrase=b"correct horse battery")
    extra: dict[str, object] = {}
    if via == "file":
        (tmp_path / "passphrase").write_text("correct horse battery\n")
        extra["key_passphrase_file"] = tmp_path / "passphrase"
    else:
        monkeypatch.setenv("SIGNER_TEST_PASSPHRASE", "correct horse battery")
        extra["key_passphrase_env"] = "SIGNER_TEST_PASSPHRASE"
    settings = Settings(key_file=key_path, cert_file=cert_path, caller_tokens_path=tokens.path, **extra)
    async with run_app(settings) as client:
        assert (await client.get("/readyz")).status_code == 200
        signed = (await _sign(client, sample_xml(1))).content
    emrex_elmo.verify(signed, [rsa_key.certificate])


async def test_wrong_passphrase_is_not_ready(tmp_path, rsa_key, tokens, run_app, write_key):
    key_path, cert_path = write_key(tmp_path / "enc", "enc", rsa_key, passphrase=b"right")
    (tmp_path / "passphrase").write_text("wrong\n")
    settings = Settings(key_file=key_path, cert_file=cert_path, caller_tokens_path=tokens.path,
                        key_passphrase_file=tmp_path / "passphrase")
    async with run_app(settings) as client:
        ready = await client.get("/readyz")
        assert ready.status_code == 503
        assert "passphrase" in ready.json()["reasons"][0]
        response = await _sign(client, sample_xml(1))
    assert response.status_code == 503
    assert response.json()["code"] == "signing_unavailable"


async def test_certificate_not_matching_key_is_not_ready(tmp_path, ca, rsa_key, tokens, run_app, write_key):
    other = signing_key(ca, "other")
    key_path, _ = write_key(tmp_path / "a", "a", rsa_key)
    _, cert_path = write_key(tmp_path / "b", "b", other)
    async with run_app(Settings(key_file=key_path, cert_file=cert_path, caller_tokens_path=tokens.path)) as client:
        ready = await client.get("/readyz")
    assert ready.status_code == 503
    assert "not for this private key" in ready.json()["reasons"][0]


@pytest.mark.interop
@pytest.mark.parametrize("label", ["rsa1", "ec1"])
async def test_pkcs11_signature_verifies_everywhere(hsm, tokens, run_app, verify_all, fi_sample, label):
    from cryptography import x509

    settings = Settings(keys=[hsm.key_config("hsm", label)], caller_tokens_path=tokens.path)
    async with run_app(settings) as client:
        assert (await client.get("/readyz")).status_code == 200
        response = await _sign(client, sample_xml(20))
        assert response.status_code == 200, response.text
        fi = await _sign(client, fi_sample)
    cert = x509.load_pem_x509_certificate(hsm.certs[label].read_bytes())
    verify_all(response.content, cert)
    verify_all(fi.content, cert)


async def test_pkcs11_pool_signs_in_parallel(hsm, tokens, run_app):
    import anyio
    from cryptography import x509

    config = hsm.key_config("hsm", "rsa2", pool_size=3)
    results: list[bytes] = []
    async with run_app(Settings(keys=[config], caller_tokens_path=tokens.path, sign_concurrency=8)) as client:

        async def one(i: int) -> None:
            response = await _sign(client, sample_xml(i % 7))
            assert response.status_code == 200, response.text
            results.append(response.content)

        async with anyio.create_task_group() as tg:
            for i in range(24):
                tg.start_soon(one, i)
    cert = x509.load_pem_x509_certificate(hsm.certs["rsa2"].read_bytes())
    assert len(results) == 24
    for signed in results:
        emrex_elmo.verify(signed, [cert])


async def test_pkcs11_unknown_key_label_is_not_ready(hsm, tokens, run_app):
    config = hsm.key_config("hsm", "rsa1").model_copy(update={"key_label": "no-such-key"})
    async with run_app(Settings(keys=[config], caller_tokens_path=tokens.path)) as client:
        ready = await client.get("/readyz")
    assert ready.status_code == 503
    assert "no-such-key" in ready.json()["reasons"][0]


@pytest.mark.interop
@pytest.mark.parametrize("edit", [
    lambda x: x.replace(b"<learner>", b"<!-- a comment --><learner>"),
    lambda x: x.replace(b"<elmo ", b"<?pi data?><elmo ", 1),
    lambda x: x + b"<!-- trailing comment -->\n<?pi after?>",
    lambda x: x.replace(b"Example University", b"Example &amp; University &#xD; \t tab"),
    lambda x: x.replace(b"\n", b"\r\n").replace(b"<learner>", b"<learner>\r\n  "),
], ids=["comment", "processing-instruction", "after-root", "escapes", "crlf"])
async def test_awkward_but_valid_input_verifies_everywhere(client, rsa_key, verify_all, edit):
    unsigned = edit(sample_xml(2))
    assert unsigned != sample_xml(2)
    response = await _sign(client, unsigned)
    assert response.status_code == 200, response.text
    verify_all(response.content, rsa_key.certificate)


@pytest.mark.parametrize("change", [
    {"token_label": "no-such-token"},
    {"pkcs11_module": Path("/nonexistent/libpkcs11.so")},
    {"pin_file": Path("/nonexistent/pin")},
])
async def test_pkcs11_misconfiguration_is_not_ready(hsm, tokens, run_app, change):
    config = hsm.key_config("hsm", "rsa1").model_copy(update=change)
    async with run_app(Settings(keys=[config], caller_tokens_path=tokens.path)) as client:
        ready = await client.get("/readyz")
        sign = await _sign(client, sample_xml(1))
    assert ready.status_code == 503
    assert ready.json()["reasons"][0].startswith("key hsm:")
    assert sign.status_code == 503


async def test_pkcs11_certificate_for_another_key_is_not_ready(hsm, tokens, run_app):
    config = hsm.key_config("hsm", "rsa1").model_copy(update={"cert_path": hsm.certs["rsa2"]})
    async with run_app(Settings(keys=[config], caller_tokens_path=tokens.path)) as client:
        ready = await client.get("/readyz")
    assert ready.status_code == 503
    assert "not for the token key" in ready.json()["reasons"][0]


async def test_pkcs11_login_lost_is_recovered(hsm, tokens, run_app, caplog):
    """After the token drops the login (an HSM restart), the next signature logs in again."""
    import logging

    from cryptography import x509

    from ncp_signer.adapters import pkcs11_key

    settings = Settings(keys=[hsm.key_config("hsm", "rsa1", pool_size=2)], caller_tokens_path=tokens.path)
    async with run_app(settings) as client:
        assert (await _sign(client, sample_xml(1))).status_code == 200
        with pkcs11_key._call_lock:
            for session, _users in pkcs11_key._logins.values():
                session.close()  # C_Logout: every session of the process loses the private key
        with caplog.at_level(logging.WARNING, logger="ncp_signer.pkcs11"):
            responses = [await _sign(client, sample_xml(2)) for _ in range(3)]
    assert [r.status_code for r in responses] == [200, 200, 200]
    assert len([r for r in caplog.records if "session lost" in r.getMessage()]) == 1
    cert = x509.load_pem_x509_certificate(hsm.certs["rsa1"].read_bytes())
    for response in responses:
        emrex_elmo.verify(response.content, [cert])
