"""Pure parsing of EMREG documents: the reference shapes, and what makes a version unacceptable."""

import json
import re

import pytest

from ncp_registry_cache.domain.emreg import RegistryInvalid, parse_emreg, parse_ewp_catalogue


def repaired_reference(shared, pki) -> bytes:
    """The 2015 `ncps` file as stored is not JSON (ISO-8859-1, a trailing comma, cut PEMs): repair only that."""
    text = (shared / "emreg" / "emrex-client__emreg.json").read_bytes().decode("latin-1")
    text = re.sub(r",(\s*})", r"\1", text)
    pems = iter(k.cert_pem().decode() for k in pki.nodes.values())
    text = re.sub(r'"-----BEGIN CERTIFICATE-----[^"]*"', lambda _: json.dumps(next(pems)), text)
    return text.encode("utf-8")


def test_reference_ncps_file_shape_is_accepted(shared, pki):
    registry = parse_emreg(repaired_reference(shared, pki))
    assert registry.format == "ncps"
    assert [n.acronym for n in registry.nodes] == ["CSC", "SEK", "FSAT", "UNIVR", "UNISI"]
    assert registry.nodes[1].institutions == ("Umeå", "KTH")
    assert registry.nodes[0].url == "http://virtawstesti.csc.fi/norex/"
    italy = next(c for c in registry.countries if c.country_code == "IT")
    assert italy.single_fetch is True  # "singleFetch": "true" in the 2015 file
    assert next(c for c in registry.countries if c.country_code == "FI").single_fetch is False


def test_reference_file_as_stored_is_rejected(shared):
    with pytest.raises(RegistryInvalid, match="not UTF-8"):
        parse_emreg((shared / "emreg" / "emrex-client__emreg.json").read_bytes())


def test_current_shape_needs_single_fetch(pki, kit):
    doc = kit.registry_doc(pki)
    del doc["countries"][0]["singleFetch"]
    with pytest.raises(RegistryInvalid, match="singleFetch"):
        parse_emreg(kit.dumps(doc))


def test_pem_bundle_gives_several_certificates(pki, kit):
    doc = kit.registry_doc(pki)
    doc["emps"][0]["pubKey"] += pki.nodes["OTHER"].cert_pem().decode()
    registry = parse_emreg(kit.dumps(doc))
    assert len(registry.nodes[0].certificates) == 2


@pytest.mark.parametrize(("mutate", "message"), [
    (lambda d: d["emps"][0].update(url="ftp://emp.example/"), "not an absolute http"),
    (lambda d: d["emps"][0].update(url="/relative"), "not an absolute http"),
    (lambda d: d["emps"][0].update(institutions="Aalto"), "schema: emps/0/institutions"),
    (lambda d: d.update(extra=[]), "schema"),
    (lambda d: d.pop("countries"), "'countries' is a required property"),
    (lambda d: d["emps"][3].update(pubKey=""), "emps[3] (UNISI): pubKey is not a PEM certificate"),
])
def test_unacceptable_documents(pki, kit, mutate, message):
    doc = kit.registry_doc(pki)
    mutate(doc)
    with pytest.raises(RegistryInvalid, match=re.escape(message)):
        parse_emreg(kit.dumps(doc))


def test_ewp_catalogue_needs_entries_and_certificates():
    with pytest.raises(RegistryInvalid, match="no <emrex-data-access-point>"):
        parse_ewp_catalogue(b"<catalogue/>")
    with pytest.raises(RegistryInvalid, match="no <certificate>"):
        parse_ewp_catalogue(b"<c><emrex-data-access-point><url>https://x.example/</url></emrex-data-access-point></c>")
    with pytest.raises(RegistryInvalid, match="not usable XML"):
        parse_ewp_catalogue(b"<!DOCTYPE c [<!ENTITY x 'y'>]><c>&x;</c>")
