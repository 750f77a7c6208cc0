"""A fourth, independent verifier: the JDK's JSR-105 with secure validation, as the EMREX Java
clients (gateway, FI/DK SMPs) verify: the first ds:Signature, the EMREG certificate's public key."""

import pytest
from cryptography import x509

from ncp_signer import Settings
from ncp_testkit import signing_key
from ncp_testkit.elmo import sample_xml

XML = {"Content-Type": "application/xml"}
pytestmark = pytest.mark.interop


async def test_file_keys_rsa_and_ec(tmp_path, ca, rsa_key, tokens, run_app, write_key, java_verifier, fi_sample):
    ec_key = signing_key(ca, "java-ec", key_type="ec")
    key_path, cert_path = write_key(tmp_path / "ec", "ec", ec_key)
    for issued, settings in (
        (rsa_key, None),
        (ec_key, Settings(key_file=key_path, cert_file=cert_path, caller_tokens_path=tokens.path)),
    ):
        if settings is None:
            rsa_path, rsa_cert = write_key(tmp_path / "rsa", "rsa", rsa_key)
            settings = Settings(key_file=rsa_path, cert_file=rsa_cert, caller_tokens_path=tokens.path)
        async with run_app(settings) as client:
            signed = (await client.post("/v1/sign", content=sample_xml(30), headers=XML)).content
            fi = (await client.post("/v1/sign", content=fi_sample, headers=XML)).content
        assert java_verifier(signed, issued.certificate) == "VALID"
        assert java_verifier(fi, issued.certificate) == "VALID"
        # The verifier is real: a changed document or another certificate does not pass.
        assert java_verifier(signed.replace(b"Course number 7 ", b"Course number 8 "),
                             issued.certificate) == "INVALID"
    assert java_verifier(signed, rsa_key.certificate) != "VALID"


@pytest.mark.parametrize("label", ["rsa1", "ec1"])
async def test_pkcs11_keys(hsm, tokens, run_app, java_verifier, label):
    settings = Settings(keys=[hsm.key_config("hsm", label)], caller_tokens_path=tokens.path)
    async with run_app(settings) as client:
        signed = (await client.post("/v1/sign", content=sample_xml(30), headers=XML)).content
    assert java_verifier(signed, x509.load_pem_x509_certificate(hsm.certs[label].read_bytes())) == "VALID"
