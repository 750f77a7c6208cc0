"""Unencodable text reaches the signer only inside the XML body, the URL or a header: always a 4xx problem."""

import httpx
import pytest

from ncp_testkit.elmo import sample_xml

XML = {"Content-Type": "application/xml"}
DOC = sample_xml(1)


@pytest.mark.parametrize("body", [
    pytest.param(DOC.replace(b"Course number 0", b"Course &#xD800; 0", 1), id="char-ref-high"),
    pytest.param(DOC.replace(b"Course number 0", b"Course &#xDFFF; 0", 1), id="char-ref-low"),
    pytest.param(DOC.replace(b"Course number 0", b"Course \xed\xa0\x80 0", 1), id="cesu8-bytes"),
    pytest.param(DOC.replace(b"Course number 0", b"Course \xff 0", 1), id="not-utf8"),
])
async def test_unencodable_text_in_the_document_is_a_4xx(client: httpx.AsyncClient, body: bytes):
    assert b"Course number 0" in DOC
    response = await client.post("/v1/sign", content=body, headers=XML)
    assert 400 <= response.status_code < 500, response.text
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_a_url_that_is_not_utf8_is_a_400(client: httpx.AsyncClient):
    response = await client.post("/v1/sign?x=%ED%A0%80", content=DOC, headers=XML)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_request"


async def test_odd_header_bytes_are_a_4xx(client: httpx.AsyncClient):
    response = await client.post("/v1/sign", content=DOC, headers={"Content-Type": b"application/\xff\xed\xa0\x80"})
    assert response.status_code == 415
