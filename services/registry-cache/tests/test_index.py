"""The in-memory index: URL normalisation, origin fallback, filters, merging of sources."""

from cryptography.hazmat.primitives.serialization import Encoding

from ncp_registry_cache.domain.emreg import Certificate, Node, sha256_hex
from ncp_registry_cache.domain.index import RegistryIndex, merge_nodes, normalize_url


def node(url: str, acronym: str = "X", country: str = "FI", *institutions: str, certs=()) -> Node:
    return Node(url, acronym, country, tuple(institutions), tuple(certs))


def test_normalize_url():
    assert normalize_url("HTTPS://Example.ORG:443/a/b/") == normalize_url("https://example.org/a/b")
    assert normalize_url("http://example.org:8080/").origin == "http://example.org:8080"
    assert normalize_url("mailto:x@example.org") is None
    assert normalize_url("https://[::1") is None
    assert normalize_url("https://example.org:99999/") is None


def test_lookup_exact_then_longest_prefix_then_origin():
    index = RegistryIndex([node("https://u.example/ncp/", "A"), node("https://u.example/ncp/b", "B"),
                           node("https://v.example/", "C")])
    assert index.lookup("https://u.example/ncp/").acronym == "A"
    assert index.lookup("https://u.example/ncp/b/c").acronym == "B"
    assert index.lookup("https://u.example/ncp/x").acronym == "A"
    assert index.lookup("https://u.example/other").acronym == "A"  # same origin, no path match
    assert index.lookup("https://v.example/anything").acronym == "C"
    assert index.lookup("https://w.example/") is None


def test_filters_are_case_insensitive():
    index = RegistryIndex([node("https://a.uw.edu.pl/x", "USOS", "PL", "University of Warsaw"),
                           node("https://b.example.fi/", "CSC", "FI", "Arcada")])
    assert [n.acronym for n in index.filter(country="pl")] == ["USOS"]
    assert [n.acronym for n in index.filter(institution="university of warsaw")] == ["USOS"]
    assert [n.acronym for n in index.filter(institution="uw.edu.pl")] == ["USOS"]
    assert index.filter(institution="edu") == []  # not a SCHAC code
    assert [n.acronym for n in index.filter(acronym="csc")] == ["CSC"]
    assert len(index.filter()) == 2


def test_merge_unites_certificates_and_institutions(pki):
    def cert(name):
        c = pki.nodes[name].certificate
        return Certificate(pki.nodes[name].cert_pem().decode(), c, sha256_hex(c.public_bytes(Encoding.DER)))

    a = node("https://x.example/", "X", "FI", "One", certs=[cert("CSC")])
    b = node("https://x.example/", "X-EWP", "", "One", "Two", certs=[cert("CSC"), cert("OTHER")])
    merged = merge_nodes([[a], [b, node("https://y.example/", "Y")]])
    assert len(merged) == 2
    assert merged[0].institutions == ("One", "Two")
    assert len(merged[0].certificates) == 2
    assert merged[0].acronym == "X"
