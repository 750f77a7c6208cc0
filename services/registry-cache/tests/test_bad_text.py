"""Text that cannot be encoded (lone surrogates) or URLs that are not UTF-8: a 400 problem, never a 500."""

import json

import pytest

NODE = "https://emp.csc.example.fi/ncp_entry"

BODIES = [
    pytest.param(b'{"node_url": "' + NODE.encode() + b'", "xml": "<elmo>\\ud800</elmo>"}', "bad_xml", id="xml-escape"),
    pytest.param(b'{"node_url": "' + NODE.encode() + b'", "xml": "<elmo>\xed\xa0\x80</elmo>"}', "bad_xml",
                 id="xml-cesu8"),
    pytest.param(b'{"node_url": "' + NODE.encode() + b'", "xml": "\\udfff"}', "bad_xml", id="xml-low-surrogate"),
    pytest.param(b'{"node_url": "' + NODE.encode() + b'", "elmo": "H4sI\\ud800"}', "bad_wire_value", id="elmo"),
    pytest.param(b'{"node_url": "https://emp.csc.example.fi/\\ud800", "xml": "<a/>"}', "invalid_request",
                 id="node_url"),
    pytest.param(b'{"node_url": "' + NODE.encode() + b'", "xml": "<a/>", "\\ud800": true}', "invalid_request",
                 id="extra-key"),
]


@pytest.mark.parametrize(("body", "code"), BODIES)
async def test_unencodable_text_in_verify_is_a_400_problem(service, body: bytes, code: str):
    await service.refresh()
    r = await service.client.post("/v1/verify", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 400, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["code"] == code
    assert "surrogate" in r.json()["detail"]
    json.loads(r.content.decode("utf-8"))  # the answer itself is valid UTF-8 JSON


@pytest.mark.parametrize("path", [
    "/v1/emps?country=%ED%A0%80", "/v1/emps?institution=%FF", "/v1/emps/lookup?url=https://a.example/%ED%B0%80",
    "/v1/certificates?acronym=%C3", "/v1/emps%ED%A0%80",
])
async def test_url_text_that_is_not_utf8_is_a_400_problem(service, path: str):
    await service.refresh()
    r = await service.client.get(path)
    assert r.status_code == 400, r.text
    assert r.headers["content-type"] == "application/problem+json"
