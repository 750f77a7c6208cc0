"""Every kind of bad input answers a 4xx problem+json that says what is wrong; nothing is signed."""

import pytest

from ncp_contracts import RequestRejected
from ncp_contracts.signer import SignerClient
from ncp_signer import Settings
from ncp_testkit.elmo import sample_xml

XML = {"Content-Type": "application/xml"}


def _problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == code
    assert body["status"] == status
    assert "SignatureValue" not in response.text
    return body


@pytest.mark.parametrize(("body", "code"), [
    (b"this is not xml", "xml_malformed"),
    (b"<elmo xmlns='https://github.com/emrex-eu/elmo-schemas/tree/v1'><unclosed></elmo>", "xml_malformed"),
    (b"", "xml_malformed"),
])
async def test_not_xml(client, body, code):
    body = _problem(await client.post("/v1/sign", content=body, headers=XML), 400, code)
    assert "well-formed" in body["detail"] or "empty" in body["detail"]


@pytest.mark.parametrize("body", [
    b"\xff\xfe\x00garbage",
    "<elmo/>".encode("utf-16"),
    b'<?xml version="1.0" encoding="ISO-8859-1"?><elmo/>',
])
async def test_not_utf8(client, body):
    # EMREX documents are UTF-8; anything else is refused before libxml2 sees it (it could name external files).
    body = _problem(await client.post("/v1/sign", content=body, headers=XML), 400, "xml_forbidden")
    assert "UTF-8" in body["detail"]


@pytest.mark.parametrize("doc", [
    b'<?xml version="1.0"?><!DOCTYPE elmo [<!ENTITY x "boom">]><elmo>&x;</elmo>',
    b'<!DOCTYPE elmo SYSTEM "http://127.0.0.1:9/evil.dtd"><elmo/>',
    b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]><elmo>&lol2;</elmo>',
])
async def test_dtd_and_entities(client, doc):
    body = _problem(await client.post("/v1/sign", content=doc, headers=XML), 400, "xml_forbidden")
    assert "DOCTYPE" in body["detail"]


async def test_too_large_by_content_length_and_by_stream(settings, run_app):
    limited = settings.model_copy(update={"max_document_bytes": 20_000})
    big = sample_xml(60)
    assert len(big) > 20_000
    async with run_app(limited) as client:
        _problem(await client.post("/v1/sign", content=big, headers=XML), 413, "too_large")

        async def chunks():
            for i in range(0, len(big), 4096):
                yield big[i:i + 4096]

        # No Content-Length (chunked): the limit applies while reading.
        _problem(await client.post("/v1/sign", content=chunks(), headers=XML), 413, "too_large")
        assert (await client.post("/v1/sign", content=sample_xml(5), headers=XML)).status_code == 200


async def test_default_limit_is_ten_megabytes(client):
    assert Settings().max_document_bytes == 10 * 1024 * 1024
    huge = b"<elmo>" + b" " * (10 * 1024 * 1024) + b"</elmo>"
    _problem(await client.post("/v1/sign", content=huge, headers=XML), 413, "too_large")


@pytest.mark.parametrize("doc", [
    b"<elmo><generatedDate>2026-01-01T00:00:00Z</generatedDate></elmo>",
    b'<elmo xmlns="http://purl.org/net/elmo"/>',
    b'<elmo xmlns="https://github.com/emrex-eu/elmo-schemas/tree/v2"/>',
    b'<report xmlns="https://github.com/emrex-eu/elmo-schemas/tree/v1"/>',
])
async def test_wrong_namespace_or_root(client, doc):
    body = _problem(await client.post("/v1/sign", content=doc, headers=XML), 422, "wrong_namespace")
    assert "https://github.com/emrex-eu/elmo-schemas/tree/v1" in body["detail"]


async def test_schema_invalid_lists_the_issues(client):
    doc = sample_xml(2).replace(b"<givenNames>", b"<nickname>x</nickname><givenNames>")
    body = _problem(await client.post("/v1/sign", content=doc, headers=XML), 422, "schema_invalid")
    assert body["issues"]
    assert any("nickname" in issue for issue in body["issues"])
    assert "nickname" in body["detail"]


async def test_already_signed(client):
    signed = (await client.post("/v1/sign", content=sample_xml(1), headers=XML)).content
    body = _problem(await client.post("/v1/sign", content=signed, headers=XML), 409, "already_signed")
    assert "already contains a ds:Signature" in body["detail"]


async def test_signature_anywhere_counts_as_signed(client):
    doc = sample_xml(1).replace(
        b"</learner>", b'</learner><Signature xmlns="http://www.w3.org/2000/09/xmldsig#"/>')
    _problem(await client.post("/v1/sign", content=doc, headers=XML), 409, "already_signed")


async def test_wrong_media_type(client):
    _problem(await client.post("/v1/sign", content=sample_xml(1), headers={"Content-Type": "application/json"}),
             415, "unsupported_media_type")


async def test_contract_client_raises_request_rejected(client):
    with pytest.raises(RequestRejected) as caught:
        await SignerClient(client).sign(b"not xml")
    assert caught.value.status == 400
    assert caught.value.code == "xml_malformed"


async def test_unknown_route_and_method_are_problems(client):
    _problem(await client.get("/v1/sign"), 405, "method_not_allowed")
    _problem(await client.get("/v1/nothing"), 404, "not_found")


async def test_relative_namespace_uri_cannot_be_canonicalized(client):
    doc = sample_xml(1).replace(b"<elmo ", b'<elmo xmlns:rel="relative/uri" ', 1)
    body = _problem(await client.post("/v1/sign", content=doc, headers=XML), 422, "not_canonicalizable")
    assert "C14N" in body["detail"]
