"""POST /v1/verify: real Java-signed sample, signxml output made here, and every kind of bad input."""

import base64
import gzip
from pathlib import Path

import httpx
import pytest
from lxml import etree

from emrex_elmo import transport
from ncp_contracts.registry import RegistryClient, VerifyRequest
from ncp_testkit import sign_enveloped

DK_URL = "https://dk-emrex.example.dk/ncp/"

ELMO = b"""<?xml version="1.0" encoding="UTF-8"?>
<elmo xmlns="https://github.com/emrex-eu/elmo-schemas/tree/v1">
  <generatedDate>2025-01-15T10:00:00+01:00</generatedDate>
  <learner>
    <givenNames>Maria</givenNames>
    <familyName>Example</familyName>
    <bday>2000-02-29</bday>
  </learner>
  <report>
    <issuer>
      <country>FI</country>
      <identifier type="schac">helsinki.fi</identifier>
      <title xml:lang="fi">Helsingin yliopisto</title>
      <title xml:lang="en">University of Helsinki</title>
      <url>https://www.helsinki.fi/</url>
    </issuer>
    <learningOpportunitySpecification>
      <title xml:lang="en">Degree</title>
      <specifies><learningOpportunityInstance><status>passed</status></learningOpportunityInstance></specifies>
      <hasPart><learningOpportunitySpecification>
        <title xml:lang="en">Course</title>
        <specifies><learningOpportunityInstance>
          <credit><scheme>ects</scheme><value>5</value></credit>
        </learningOpportunityInstance></specifies>
      </learningOpportunitySpecification></hasPart>
    </learningOpportunitySpecification>
    <issueDate>2025-01-15T10:00:00+01:00</issueDate>
  </report>
</elmo>
"""


def sign(key) -> bytes:
    """emrex.md 4.3: enveloped, RSA-SHA256, SHA-256, C14N 1.0, certificate in KeyInfo."""
    return sign_enveloped(etree.fromstring(ELMO), key)


@pytest.fixture
async def legacy(settings, admin_token, kit):
    """A registry-cache whose operator accepts SHA-1 signatures (NCP_REGISTRY_ALLOW_SHA1), as the DK sample needs."""
    async for running in kit.start(settings.model_copy(update={"allow_sha1": True}), admin_token):
        yield running


async def _list_dk(running, upstream, pki, kit, shared):
    dk_pem = (shared / "samples" / "dk-emrex__dk-emrex-test.cer").read_text()
    upstream.set(kit.registry_doc(pki, extra=[kit.emp("DK-EMREX", DK_URL, "DK", dk_pem, "Københavns Universitet")]))
    assert (await running.refresh()).status_code == 200
    return running


@pytest.fixture
async def with_dk(legacy, upstream, pki, kit, shared):
    """A registry that lists the DK test certificate for DK_URL and accepts SHA-1."""
    return await _list_dk(legacy, upstream, pki, kit, shared)


@pytest.fixture
async def strict_dk(service, upstream, pki, kit, shared):
    """The same registry with the default policy: no SHA-1."""
    return await _list_dk(service, upstream, pki, kit, shared)


@pytest.fixture
async def without_dk(legacy, upstream, pki, kit):
    """The same node URL, registered with a different certificate."""
    upstream.set(kit.registry_doc(pki, extra=[kit.emp("DK-EMREX", DK_URL, "DK", pki.nodes["OTHER"])]))
    assert (await legacy.refresh()).status_code == 200
    return legacy


def dk_sample(shared: Path) -> str:
    return (shared / "samples" / "dk-emrex__elmo-tomcat-signed.xml").read_text(encoding="utf-8")


def not_valid(response: httpx.Response, reason_code: str) -> dict:
    """The answer of a verification that ran and found the document not valid, for `reason_code`."""
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["valid"] is False, result
    assert result["reason_code"] == reason_code, result
    return result

async def test_java_signed_sample_verifies_with_its_registered_certificate(with_dk, shared):
    r = await with_dk.client.post("/v1/verify", json={"node_url": DK_URL, "xml": dk_sample(shared)})
    assert r.status_code == 200, r.text
    result = r.json()
    assert result["valid"] is True, result
    assert result["node_acronym"] == "DK-EMREX"
    assert result["signature_method"].endswith("rsa-sha1")
    certs = (await with_dk.client.get("/v1/certificates", params={"url": DK_URL})).json()
    assert result["matched_certificate_sha256"] == certs["nodes"][0]["certificates"][0]["sha256"]
    assert result["learner"]["family_name"] == "Hansen"
    assert result["learner"]["bday"] == "1980-12-09"
    assert result["issuers"][0]["country"] == "DK"
    assert result["issuers"][0]["learning_opportunities"] > 0


async def test_java_signed_wire_sample_verifies(with_dk, shared):
    wire = (shared / "samples" / "dk-emrex__elmo-tomcat-signed-zipped-base64.txt").read_text().strip()
    r = await with_dk.client.post("/v1/verify", json={"node_url": DK_URL, "elmo": wire})
    assert r.status_code == 200, r.text
    assert r.json()["valid"] is True, r.json()


async def test_java_signed_sample_needs_the_legacy_setting(strict_dk, shared):
    r = await strict_dk.client.post("/v1/verify", json={"node_url": DK_URL, "xml": dk_sample(shared)})
    result = not_valid(r, "signature_profile")
    assert "rsa-sha1" in result["reason"]
    assert result["learner"] is None


@pytest.mark.parametrize("value", [True, "true", 1])
async def test_a_client_cannot_turn_sha1_on(strict_dk, shared, value):
    """SHA-1 is the server's policy: an old client's `allow_sha1` is ignored (it can never lower the bar)."""
    r = await strict_dk.client.post("/v1/verify", json={"node_url": DK_URL, "xml": dk_sample(shared),
                                                        "allow_sha1": value})
    result = not_valid(r, "signature_profile")
    assert "policy" in result["reason"]


async def test_allow_sha1_is_not_in_the_verify_contract(service):
    schema = (await service.client.get("/openapi.json")).json()["components"]["schemas"]["VerifyRequest"]
    assert "allow_sha1" not in schema["properties"]


async def test_java_signed_sample_fails_when_registry_lists_another_certificate(without_dk, shared):
    r = await without_dk.client.post("/v1/verify", json={"node_url": DK_URL, "xml": dk_sample(shared)})
    result = not_valid(r, "signature_invalid")
    assert result["matched_certificate_sha256"] is None
    assert result["learner"] is None
    assert result["issuers"] == []


async def test_document_signed_here_verifies_through_the_client(service, pki):
    await service.refresh()
    signed = sign(pki.nodes["CSC"])
    client = RegistryClient(service.client)
    for body in (VerifyRequest(node_url="https://emp.csc.example.fi/ncp_entry", xml=signed.decode()),
                 VerifyRequest(node_url="https://emp.csc.example.fi/other/path", elmo=transport.encode(signed))):
        result = await client.verify(body)
        assert result.valid is True, result
        assert result.node_acronym == "CSC"
        assert result.signature_method == "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
        assert result.learner is not None
        assert result.learner.given_names == "Maria"
        assert result.issuers[0].title == "University of Helsinki"
        assert result.issuers[0].schac == "helsinki.fi"
        assert result.issuers[0].learning_opportunities == 2


async def test_document_signed_by_another_node_or_changed_is_invalid(service, pki):
    await service.refresh()
    signed = sign(pki.nodes["UNISI"])
    r = await service.client.post("/v1/verify", json={"node_url": "https://emp.csc.example.fi/ncp_entry",
                                                      "xml": signed.decode()})
    assert r.json()["valid"] is False
    assert r.json()["reason_code"] == "signature_invalid"
    tampered = sign(pki.nodes["CSC"]).replace(b"<value>5</value>", b"<value>50</value>")
    r = await service.client.post("/v1/verify", json={"node_url": "https://emp.csc.example.fi/ncp_entry",
                                                      "xml": tampered.decode()})
    assert r.status_code == 200
    assert r.json()["valid"] is False
    assert "digest" in r.json()["reason"]


async def test_unsigned_document_is_invalid(service):
    await service.refresh()
    r = await service.client.post("/v1/verify", json={"node_url": "https://emp.csc.example.fi/",
                                                      "xml": ELMO.decode()})
    assert r.status_code == 200
    assert r.json()["reason_code"] == "signature_missing"


BAD_INPUT = {
    "not_xml": ({"xml": "this is not xml"}, 400, "bad_xml"),
    "truncated_xml": ({"xml": ELMO.decode()[:200]}, 400, "bad_xml"),
    "doctype": ({"xml": '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><elmo>&a;</elmo>'}, 400, "bad_xml"),
    "wire_not_base64": ({"elmo": "%%% not base64 %%%"}, 400, "bad_wire_value"),
    "wire_not_gzip": ({"elmo": base64.b64encode(b"<elmo/>").decode()}, 400, "bad_wire_value"),
    "wire_truncated": ({"elmo": base64.b64encode(gzip.compress(ELMO)[:40]).decode()}, 400, "bad_wire_value"),
    "wire_not_xml": ({"elmo": base64.b64encode(gzip.compress(b"hello")).decode()}, 400, "bad_xml"),
    "neither": ({}, 400, "invalid_request"),
    "both": ({"xml": "<a/>", "elmo": "AAAA"}, 400, "invalid_request"),
}


@pytest.mark.parametrize("case", list(BAD_INPUT))
async def test_bad_input_is_a_problem_saying_which(service, case):
    await service.refresh()
    extra, status, code = BAD_INPUT[case]
    r = await service.client.post("/v1/verify", json={"node_url": "https://emp.csc.example.fi/ncp_entry", **extra})
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["code"] == code
    field = "elmo" if code == "bad_wire_value" else ("xml" if code == "bad_xml" else None)
    if field:
        assert r.json()["detail"].startswith(field + ":")


async def test_unknown_node_is_a_problem(service, pki):
    await service.refresh()
    r = await service.client.post("/v1/verify", json={"node_url": "https://unknown.example/emrex",
                                                      "xml": sign(pki.nodes["CSC"]).decode()})
    assert r.status_code == 422
    assert r.json()["code"] == "unknown_node"
    assert "node_url" in r.json()["detail"]


async def test_malformed_request_body_is_a_problem(service):
    await service.refresh()
    r = await service.client.post("/v1/verify", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 400
    assert r.headers["content-type"] == "application/problem+json"
    r = await service.client.post("/v1/verify", json={"xml": "<a/>"})
    assert r.status_code == 400
    assert "node_url" in r.json()["detail"]


async def test_verify_before_any_copy_is_unavailable(service):
    r = await service.client.post("/v1/verify", json={"node_url": DK_URL, "xml": "<a/>"})
    assert r.status_code == 503
    assert r.json()["code"] == "registry_unavailable"


async def test_oversized_documents_are_refused(tmp_path, upstream, kit, tokens_dir, admin_token, pki):
    settings = kit.make_settings(tmp_path, upstream.url, tokens_dir, max_document_bytes=2000)
    async for running in kit.start(settings, admin_token):
        await running.refresh()
        signed = sign(pki.nodes["CSC"]).decode()
        url = "https://emp.csc.example.fi/ncp_entry"
        huge = await running.client.post("/v1/verify", json={"node_url": url, "xml": signed * 40})
        assert huge.status_code == 413
        assert huge.headers["content-type"] == "application/problem+json"
        big = await running.client.post("/v1/verify", json={"node_url": url, "xml": signed})
        assert big.status_code == 413
        assert big.json()["code"] == "too_large"
        bomb = transport.encode(b"<elmo>" + b" " * 5_000_000 + b"</elmo>")
        inflated = await running.client.post("/v1/verify", json={"node_url": url, "elmo": bomb})
        assert inflated.status_code == 400
        assert inflated.json()["code"] == "bad_wire_value"
        assert "inflates beyond" in inflated.json()["detail"]


async def test_database_down_is_503_not_500(service, upstream):
    from sqlalchemy.ext.asyncio import create_async_engine

    from ncp_registry_cache.adapters.store import Store

    await service.refresh()
    refresher = await _lifespan_refresher(service)
    healthy = refresher.store
    refresher.store = Store(create_async_engine("sqlite+aiosqlite:////nonexistent/dir/registry.db"))
    try:
        r = await service.refresh()
        assert r.status_code == 503
        assert r.json()["code"] == "database_unavailable"
        # Reads are answered from memory all the same.
        assert (await service.client.get("/v1/emps")).status_code == 200
        status = await service.client.get("/v1/status")
        assert status.status_code == 200
        assert status.json()["emps"] == 4
    finally:
        await refresher.store.engine.dispose()
        refresher.store = healthy


async def _lifespan_refresher(service):
    """The refresher held in the lifespan state, reached through a probe route."""
    from starlette.requests import Request
    from starlette.responses import Response

    captured = []

    async def probe(request: Request) -> Response:
        captured.append(request.state.refresher)
        return Response(b"")

    service.app.add_api_route("/_probe", probe)
    await service.client.get("/_probe")
    return captured[0]
