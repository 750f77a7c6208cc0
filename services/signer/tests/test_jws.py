"""POST /v1/jws (detached JWS over the exact body bytes) and GET /v1/jwks, for PEM and PKCS#11 keys.

Every signature is checked by joserfc against the key published in the JWKS, never against our own code.
"""

import datetime as dt
import json

import pytest
from joserfc import jws
from joserfc.errors import BadSignatureError
from joserfc.jwk import ECKey, KeySet, RSAKey

from ncp_contracts.signer import SignerClient
from ncp_signer import KeyConfig, Settings
from ncp_testkit import signing_key
from ncp_testkit.elmo import sample_xml

PDF_LIKE = b"%PDF-1.7\n\x00\xff\xfe binary \r\n bytes \x00" * 50


def _verify(compact: str, payload: bytes, jwks: dict, algorithms: list[str]) -> dict:
    """joserfc's verdict on a detached compact JWS; the key is picked by `kid` from the JWKS."""
    assert compact.count(".") == 2
    assert compact.split(".")[1] == "", "the payload must be detached"
    result = jws.deserialize_compact(compact, KeySet.import_key_set(jwks), algorithms=algorithms, payload=payload)
    assert result.payload == payload
    return dict(result.protected)


@pytest.mark.parametrize("payload", [sample_xml(3), PDF_LIKE, b"", json.dumps({"a": "\u00e4"}).encode()],
                         ids=["xml", "binary", "empty", "json"])
async def test_file_rsa_key_jws_verifies_with_published_jwks(client, payload):
    response = await client.post("/v1/jws", content=payload, headers={"Content-Type": "application/octet-stream"})
    assert response.status_code == 200, response.text
    answer = response.json()
    jwks = (await client.get("/v1/jwks")).json()
    header = _verify(answer["signature"], payload, jwks, ["RS256"])
    assert header == {"alg": "RS256", "kid": answer["kid"]}
    assert answer["alg"] == "RS256"
    assert answer["kid"] in {k["kid"] for k in jwks["keys"]}


async def test_tampered_payload_or_other_key_is_refused(client, ca):
    payload = sample_xml(2)
    signature = (await client.post("/v1/jws", content=payload)).json()["signature"]
    jwks = (await client.get("/v1/jwks")).json()
    with pytest.raises(BadSignatureError):
        _verify(signature, payload.replace(b"Course", b"Cour5e", 1), jwks, ["RS256"])
    other = RSAKey.import_key(signing_key(ca, "someone-else").key_pem())
    with pytest.raises(BadSignatureError):
        jws.deserialize_compact(signature, other, algorithms=["RS256"], payload=payload)


async def test_jwks_has_public_members_only_and_rfc7638_kid(client, rsa_key):
    jwks = (await client.get("/v1/jwks")).json()
    [key] = jwks["keys"]
    assert key["kty"] == "RSA"
    assert key["use"] == "sig"
    assert key["alg"] == "RS256"
    assert not {"d", "p", "q", "dp", "dq", "qi"} & set(key)
    imported = RSAKey.import_key(key)
    assert not imported.is_private
    assert key["kid"] == imported.thumbprint()
    # x5c ties the JWK to the certificate registered in EMREG.
    from base64 import b64decode

    from cryptography import x509
    assert x509.load_der_x509_certificate(b64decode(key["x5c"][0])) == rsa_key.certificate


async def test_ec_file_key_signs_es256(tmp_path, ca, tokens, run_app, write_key):
    issued = signing_key(ca, "signer-ec", key_type="ec")
    key_path, cert_path = write_key(tmp_path / "ec", "ec", issued)
    async with run_app(Settings(key_file=key_path, cert_file=cert_path, caller_tokens_path=tokens.path)) as client:
        answer = await SignerClient(client).sign_jws(PDF_LIKE)
        jwks = (await SignerClient(client).jwks()).model_dump()
    assert answer.alg == "ES256"
    assert _verify(answer.signature, PDF_LIKE, jwks, ["ES256"])["alg"] == "ES256"
    assert ECKey.import_key(jwks["keys"][0]).thumbprint() == answer.kid


@pytest.mark.parametrize(("label", "alg"), [("rsa1", "RS256"), ("ec1", "ES256")])
async def test_pkcs11_key_signs_jws_in_the_token(hsm, tokens, run_app, label, alg):
    settings = Settings(keys=[hsm.key_config("hsm", label)], caller_tokens_path=tokens.path)
    async with run_app(settings) as client:
        assert (await client.get("/readyz")).status_code == 200
        signer = SignerClient(client)
        answers = [await signer.sign_jws(sample_xml(i + 1)) for i in range(3)]
        jwks = (await signer.jwks()).model_dump()
    for i, answer in enumerate(answers):
        assert answer.alg == alg
        assert _verify(answer.signature, sample_xml(i + 1), jwks, [alg]) == {"alg": alg, "kid": answer.kid}


async def test_rotation_publishes_old_key_and_signs_with_new(tmp_path, ca, tokens, run_app, write_key):
    old, new = signing_key(ca, "old"), signing_key(ca, "new")
    configs = []
    for issued, key_id in ((old, "a"), (new, "b")):
        key_path, cert_path = write_key(tmp_path / key_id, key_id, issued)
        configs.append(KeyConfig(id=key_id, key_path=key_path, cert_path=cert_path,
                                 publish_until=dt.datetime.now(dt.UTC) + dt.timedelta(days=9)))
    async with run_app(Settings(keys=configs, active_key_id="a", caller_tokens_path=tokens.path)) as client:
        before = await SignerClient(client).sign_jws(b"old response")
    async with run_app(Settings(keys=configs, active_key_id="b", caller_tokens_path=tokens.path)) as client:
        after = await SignerClient(client).sign_jws(b"new response")
        jwks = (await SignerClient(client).jwks()).model_dump()
    assert before.kid != after.kid
    assert [k["kid"] for k in jwks["keys"]] == [after.kid, before.kid]  # the active key first
    _verify(before.signature, b"old response", jwks, ["RS256"])
    _verify(after.signature, b"new response", jwks, ["RS256"])


async def test_body_over_the_limit_is_413(settings, run_app):
    async with run_app(settings.model_copy(update={"max_document_bytes": 2048})) as client:
        response = await client.post("/v1/jws", content=b"x" * 4096)
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_no_usable_key_is_503_not_a_traceback(tmp_path, tokens, run_app):
    settings = Settings(key_file=tmp_path / "missing.key", cert_file=tmp_path / "missing.crt",
                        caller_tokens_path=tokens.path)
    async with run_app(settings) as client:
        response = await client.post("/v1/jws", content=b"payload")
        keys = await client.get("/v1/jwks")
    assert response.status_code == 503
    assert response.json()["code"] == "signing_unavailable"
    assert keys.status_code == 503


@pytest.mark.parametrize(("method", "path"), [("POST", "/v1/jws"), ("GET", "/v1/jwks")])
async def test_callers_authenticate(client, tokens, method, path):
    client.headers.pop("Authorization")
    assert (await client.request(method, path, content=b"x" if method == "POST" else None)).status_code == 401
    response = await client.request(method, path, headers=tokens.auth("admin"))
    assert response.status_code == 403
