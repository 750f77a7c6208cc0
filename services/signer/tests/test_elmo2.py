"""ELMO 2.0.0 documents: validated against the official 2.0.0 XSD and signed with the same XMLDSig profile."""

import pytest
from lxml import etree

import emrex_elmo
from ncp_contracts.errors import RequestRejected
from ncp_contracts.signer import SignerClient
from ncp_testkit.elmo import sample_xml

XML = {"Content-Type": "application/xml"}
ELMO = f"{{{emrex_elmo.ELMO_NS}}}"


def elmo2(courses: int = 3) -> bytes:
    """A 2.0.0-valid document: the learner has `alternativeName` and `dateOfBirth` (1.7.0: `bday`)."""
    root = emrex_elmo.parse_xml(sample_xml(courses))
    learner = root.find(f"{ELMO}learner")
    alternative = etree.Element(f"{ELMO}alternativeName")
    alternative.text = "Fictitious Learner"
    learner.find(f"{ELMO}familyName").addnext(alternative)
    bday = learner.find(f"{ELMO}bday")
    if bday is not None:
        bday.tag = f"{ELMO}dateOfBirth"
    document = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    assert emrex_elmo.schema_issues(document, "2.0.0") == []
    assert emrex_elmo.schema_issues(document, "1.7.0") != []
    return document


async def test_elmo2_document_is_signed_and_verifies_everywhere(client, rsa_key, verify_all, signature_of):
    response = await client.post("/v1/sign", params={"version": "2.0.0"}, content=elmo2(), headers=XML)
    assert response.status_code == 200, response.text
    verify_all(response.content, rsa_key.certificate)
    signature_of(response.content)
    # The signed document is still valid ELMO 2.0.0 (ds:Signature is allowed as the last child).
    assert emrex_elmo.schema_issues(response.content, "2.0.0") == []


async def test_contract_client_signs_elmo2(client, rsa_key):
    signed = await SignerClient(client).sign(elmo2(5), version="2.0.0")
    emrex_elmo.verify(signed, [rsa_key.certificate])


async def test_pkcs11_signs_elmo2(hsm, tokens, run_app, verify_all):
    from cryptography import x509

    from ncp_signer import Settings

    async with run_app(Settings(keys=[hsm.key_config("hsm", "ec1")], caller_tokens_path=tokens.path)) as client:
        signed = await SignerClient(client).sign(elmo2(4), version="2.0.0")
    verify_all(signed, x509.load_pem_x509_certificate(hsm.certs["ec1"].read_bytes()))


async def test_version_picks_the_schema_both_ways(client):
    as_17 = await client.post("/v1/sign", content=elmo2(), headers=XML)
    assert as_17.status_code == 422
    assert as_17.json()["code"] == "schema_invalid"
    assert "1.7.0" in as_17.json()["detail"]
    as_20 = await client.post("/v1/sign", params={"version": "2.0.0"}, content=sample_xml(2), headers=XML)
    assert as_20.status_code == 422
    assert "2.0.0" in as_20.json()["detail"]
    default = await client.post("/v1/sign", content=sample_xml(2), headers=XML)
    assert default.status_code == 200


@pytest.mark.parametrize("version", ["2.1.2", "2.0", "1.6.0", "", "latest", "2.0.0 ", "x" * 5000])
async def test_unknown_version_is_a_clear_400(client, version):
    response = await client.post("/v1/sign", params={"version": version}, content=elmo2(), headers=XML)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == "unsupported_version"
    assert "1.7.0" in body["detail"]
    assert "2.0.0" in body["detail"]
    assert len(body["detail"]) < 200
    with pytest.raises(RequestRejected) as caught:
        await SignerClient(client).sign(elmo2(), version=version)  # type: ignore[arg-type]
    assert caught.value.code == "unsupported_version"
