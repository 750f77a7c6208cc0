"""Lookups, filters and certificates over HTTP, through the typed client where it has a method."""

import base64
import json

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from ncp_contracts.registry import RegistryClient


@pytest.fixture
async def loaded(service):
    assert (await service.refresh()).status_code == 200
    return service


@pytest.mark.parametrize(("url", "acronym"), [
    ("https://emp.csc.example.fi/ncp_entry", "CSC"),
    ("https://EMP.csc.example.fi:443/ncp_entry/", "CSC"),  # case, default port, trailing slash
    ("https://emp.csc.example.fi/ncp_entry?lang=fi", "CSC"),  # same origin
    ("https://emp.csc.example.fi/", "CSC"),
    ("https://fsweb.example.no/ncp/session/42", "FSAT"),
    ("https://www.unisi.example.it/ncp", "UNISI"),
])
async def test_lookup_by_url_or_origin(loaded, url, acronym):
    entry = await RegistryClient(loaded.client).lookup(url)
    assert entry is not None
    assert entry.acronym == acronym


@pytest.mark.parametrize("url", ["https://unknown.example/ncp/", "http://emp.csc.example.fi/ncp_entry",
                                 "https://emp.csc.example.fi:8443/ncp_entry", "not a url", "javascript:alert(1)"])
async def test_lookup_unknown_is_404_problem(loaded, url):
    r = await loaded.client.get("/v1/emps/lookup", params={"url": url})
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["code"] == "unknown_node"
    assert await RegistryClient(loaded.client).lookup(url) is None


async def test_lookup_prefers_the_most_specific_entry_on_a_shared_origin(service, upstream, pki, kit):
    upstream.set(kit.registry_doc(pki, extra=[
        kit.emp("UNISI-2", "https://www.unisi.example.it/ncp/second/", "IT", pki.nodes["OTHER"]),
    ]))
    await service.refresh()
    client = RegistryClient(service.client)
    assert (await client.lookup("https://www.unisi.example.it/ncp/second/x")).acronym == "UNISI-2"
    assert (await client.lookup("https://www.unisi.example.it/ncp/")).acronym == "UNISI"
    assert (await client.lookup("https://www.unisi.example.it/ncpx")).acronym in {"UNISI", "UNISI-2"}


async def test_filters(loaded):
    client = RegistryClient(loaded.client)
    assert {e.acronym for e in (await client.emps(country="it")).emps} == {"UNIVR", "UNISI"}
    assert [e.acronym for e in (await client.emps(acronym="fsat")).emps] == ["FSAT"]
    assert [e.acronym for e in (await client.emps(institution="Helsingin yliopisto")).emps] == ["CSC"]
    # A SCHAC code matches the node host or a parent domain of it.
    assert [e.acronym for e in (await client.emps(institution="unisi.example.it")).emps] == ["UNISI"]
    assert (await client.emps(country="IT", acronym="CSC")).emps == []
    everything = await client.emps()
    assert len(everything.emps) == 4
    assert everything.stale is False
    assert everything.age_seconds is not None
    csc = next(e for e in everything.emps if e.acronym == "CSC")
    assert csc.country_code == "FI"
    assert csc.institutions == ["Aalto-yliopisto", "Arcada", "Helsingin yliopisto"]
    assert csc.certificates[0].startswith("-----BEGIN CERTIFICATE-----")


async def test_answers_carry_age_and_stale_headers(loaded):
    r = await loaded.client.get("/v1/emps/lookup", params={"url": "https://emp.csc.example.fi/ncp_entry"})
    assert r.headers["age"].isdigit()
    assert r.headers["x-registry-stale"] == "false"


async def test_certificates_with_validity(loaded, pki):
    client = RegistryClient(loaded.client)
    by_url = await client.certificates(url="https://www.univr.example.it/ncp/")
    assert [n.acronym for n in by_url.nodes] == ["UNIVR"]
    cert = by_url.nodes[0].certificates[0]
    expected = pki.nodes["UNIVR"].certificate
    assert cert.pem == pki.nodes["UNIVR"].cert_pem().decode()
    assert cert.not_after == expected.not_valid_after_utc
    assert cert.valid_now is True
    assert "CN=univr.example" in cert.subject
    assert "CN=EMREX NCP dev CA" in cert.issuer
    import hashlib

    assert cert.sha256 == hashlib.sha256(expected.public_bytes(Encoding.DER)).hexdigest()
    by_acronym = await client.certificates(acronym="univr")
    assert by_acronym.nodes == by_url.nodes


async def test_expired_certificate_is_listed_with_valid_now_false(service, upstream, pki, kit):
    import datetime as dt

    from emrex_cli.devpki import make_signing_key

    old = make_signing_key(pki.ca, "old.example", bits=2048,
                           not_before=dt.datetime.now(dt.UTC) - dt.timedelta(days=800), days=365)
    upstream.set(kit.registry_doc(pki, extra=[kit.emp("OLD", "https://old.example/emp", "SE", old)]))
    await service.refresh()
    certs = (await service.client.get("/v1/certificates", params={"acronym": "OLD"})).json()
    assert certs["nodes"][0]["certificates"][0]["valid_now"] is False


@pytest.mark.parametrize("params", [{}, {"url": "https://x.example/", "acronym": "CSC"}])
async def test_certificates_need_exactly_one_selector(loaded, params):
    r = await loaded.client.get("/v1/certificates", params=params)
    assert r.status_code == 400
    assert r.json()["code"] == "invalid_request"


async def test_certificates_of_unknown_node(loaded):
    r = await loaded.client.get("/v1/certificates", params={"acronym": "NOPE"})
    assert r.status_code == 404


async def test_status_through_the_client(loaded, upstream):
    status = await RegistryClient(loaded.client).status()
    assert status.state == "fresh"
    assert status.source == upstream.url
    assert status.sources[0].kind == "emreg"
    assert status.sources[0].last_success_at is not None
    assert status.fetched_at is not None


async def test_health_and_metrics(loaded):
    assert (await loaded.client.get("/healthz")).json() == {"status": "ok"}
    ready = (await loaded.client.get("/readyz")).json()
    assert ready["status"] == "ready"
    assert ready["emps"] == 4
    metrics = await loaded.client.get("/metrics")
    assert metrics.headers["content-type"].startswith("text/plain")
    assert "ncp_registry_emps 4" in metrics.text
    assert "ncp_registry_ready 1" in metrics.text


async def test_unknown_route_is_problem_json(loaded):
    r = await loaded.client.get("/v1/nothing")
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/problem+json"


def ewp_catalogue(entries: list[tuple[str, str, str, str, list[str], bytes]]) -> bytes:
    parts = []
    for ns, url, name, country, institutions, der in entries:
        inst = "".join(f"<institution>{i}</institution>" for i in institutions)
        cert = base64.encodebytes(der).decode()
        parts.append(f'<emrex-data-access-point xmlns="{ns}" version="1.0.0"><url>{url}</url><name>{name}</name>'
                     f"<country-code>{country}</country-code>{inst}<certificate>{cert}</certificate>"
                     "</emrex-data-access-point>")
    return ('<?xml version="1.0" encoding="UTF-8"?><catalogue xmlns="https://github.com/erasmus-without-paper/'
            'ewp-specs-api-registry/tree/stable-v1"><host>' + "".join(parts) + "</host></catalogue>").encode()


NS1 = "https://github.com/erasmus-without-paper/ewp-specs-api-emrex-data-access-point/blob/stable-v1/manifest-entry.xsd"
NS2 = "https://github.com/erasmus-without-paper/ewp-specs-api-emrex-ncp/blob/stable-v1/manifest-entry.xsd"


async def test_ewp_catalogue_source_is_merged(tmp_path, upstream, pki, kit, tokens_dir, admin_token):
    der = pki.nodes["OTHER"].certificate.public_bytes(Encoding.DER)
    csc_der = pki.nodes["UNISI"].certificate.public_bytes(Encoding.DER)
    catalogue = tmp_path / "catalogue-v1.xml"
    catalogue.write_bytes(ewp_catalogue([
        (NS1, "https://app.vp.example.no/vp/init", "Norway registry", "NO", [], der),
        (NS2, "https://emp.csc.example.fi/ncp_entry", "CSC", "FI", ["Arcada", "Tampere University"], csc_der),
    ]))
    settings = kit.make_settings(tmp_path, upstream.url, tokens_dir, ewp_source=str(catalogue))
    async for running in kit.start(settings, admin_token):
        r = (await running.refresh()).json()
        assert [o["outcome"] for o in r["outcomes"]] == ["accepted", "accepted"]
        assert {s["format"] for s in r["status"]["sources"]} == {"emps", "ewp"}
        client = RegistryClient(running.client)
        norway = await client.lookup("https://app.vp.example.no/vp/init")
        assert norway is not None
        assert norway.acronym == "Norway registry"
        assert norway.country_code == "NO"
        csc = await client.lookup("https://emp.csc.example.fi/ncp_entry")
        assert csc is not None
        assert len(csc.certificates) == 2  # the JSON certificate and the catalogue one
        assert "Tampere University" in csc.institutions
        # A broken catalogue is rejected on its own; the JSON source stays fresh, the whole is stale.
        catalogue.write_bytes(ewp_catalogue([(NS1, "https://x.example/", "X", "SE", [], b"not a certificate")]))
        r = (await running.refresh()).json()
        outcomes = {o["kind"]: o["outcome"] for o in r["outcomes"]}
        assert outcomes == {"emreg": "not_modified", "ewp": "rejected"}
        assert r["status"]["stale"] is True
        assert "ewp: invalid document" in r["status"]["last_error"]
        assert await client.lookup("https://app.vp.example.no/vp/init") is not None


def test_bundled_schema_is_the_reference_schema(shared):
    from importlib import resources

    bundled = resources.files("ncp_registry_cache").joinpath("schemas/emreg.schema.json").read_text("utf-8")
    reference = (shared / "emreg" / "emrex-gateway__emregjsonschema.json").read_text("utf-8")
    assert json.loads(bundled) == json.loads(reference)
