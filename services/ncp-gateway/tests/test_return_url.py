"""returnUrl hosts: only DNS names (LDH labels, IDNA 2008) or IP literals; the hand-off CSP is built from the
validated parts, so nothing the client sends can add a CSP directive."""

import string

import pytest
from hypothesis import given, settings, strategies as st

from ncp_gateway.domain.entry import EntryError, EntryPolicy, check_return_url, csp_source_of, parse_origin
from ncp_gateway.web.security import handoff_csp

HOST_CHARS = set(string.ascii_lowercase + string.digits + "-.")
POLICY = EntryPolicy()


def accepted(url: str, policy: EntryPolicy = POLICY) -> str:
    return str(check_return_url(url, policy))


def refused(url: str, policy: EntryPolicy = POLICY) -> EntryError:
    with pytest.raises(EntryError) as caught:
        check_return_url(url, policy)
    return caught.value


@pytest.mark.parametrize("char", sorted(chr(c) for c in range(0x21, 0x7F) if chr(c).lower() not in HOST_CHARS))
@pytest.mark.parametrize("where", ["start", "middle", "end"])
def test_every_character_outside_the_host_alphabet_is_refused(char, where):
    host = {"start": f"{char}emc.example.fi", "middle": f"emc{char}x.example.fi", "end": f"emc.example.fi{char}"}
    url = f"https://{host[where]}/return"
    if char in "/?#":  # these end the authority: what precedes them must then stand on its own
        origin = parse_origin(url) if where != "start" else None
        if origin is not None:
            assert set(origin.host) <= HOST_CHARS
        return
    if char == ":" and where == "end":
        refused(url)  # an empty port
        return
    refused(url)


@pytest.mark.parametrize("char", ["\u00fc", "\u0430", "\uff0e", "\u3002", "\u200b", "\ud800", "\x00", " ", "\t"])
def test_non_ascii_and_control_characters_in_the_host_are_refused(char):
    refused(f"https://emc{char}example.fi/return")


@pytest.mark.parametrize("url", [
    "https://evil.example;frame-ancestors/x",
    "https://evil.example;frame-ancestors *; script-src * /x",
    "https://evil.example,https:/x",
    "https://evil.example'unsafe-inline'/x",
    "https://evil.example*/x",
])
def test_the_reported_csp_injection_class_is_refused(url):
    refused(url)


@pytest.mark.parametrize("url", [
    "https://user@emc.example.fi/r", "https://user:pw@emc.example.fi/r", "https://@emc.example.fi/r",
    "https://emc.example.fi@evil.example/r", "https://:@emc.example.fi/r",
])
def test_userinfo_in_any_form_is_refused(url):
    assert refused(url).code == "return_url_credentials"


@pytest.mark.parametrize(("url", "origin"), [
    ("https://emc.example.fi:443/r", "https://emc.example.fi"),
    ("https://emc.example.fi:8443/r", "https://emc.example.fi:8443"),
    ("https://EMC.Example.FI:1/r", "https://emc.example.fi:1"),
    ("https://emc.example.fi:65535/r", "https://emc.example.fi:65535"),
])
def test_ports_are_kept_except_the_default(url, origin):
    assert accepted(url) == origin


@pytest.mark.parametrize("port", ["0", "65536", "99999", "+443", "-1", "0x1bb", "443 ", "", "44a", "123456",
                                  "443:443"])
def test_bad_ports_are_refused(port):
    refused(f"https://emc.example.fi:{port}/r")


@pytest.mark.parametrize(("url", "origin"), [
    ("https://xn--bcher-kva.example/r", "https://xn--bcher-kva.example"),  # bücher.example
    ("https://XN--BCHER-KVA.example/r", "https://xn--bcher-kva.example"),
])
def test_valid_idna_a_labels_are_accepted(url, origin):
    assert accepted(url) == origin


@pytest.mark.parametrize("host", [
    "xn--zz.example",  # not decodable punycode
    "xn--abc-.example",  # trailing hyphen
    "ab--cd.example",  # hyphens in the 3rd and 4th position are reserved (IDNA 2008, R-LDH)
    "xn--bcher-kva\u00fc.example",
    "b\u00fccher.example",  # U-labels: clients send A-labels (and consent shows the host as sent)
    "xn--ls8h.example",  # an emoji: not allowed by IDNA 2008
])
def test_invalid_or_unicode_idn_hosts_are_refused(host):
    refused(f"https://{host}/r")


@pytest.mark.parametrize(("url", "origin", "csp"), [
    ("https://[2001:db8::1]/r", "https://[2001:db8::1]", "https:"),
    ("https://[2001:DB8:0:0::1]:8443/r", "https://[2001:db8::1]:8443", "https:"),
    ("https://[::ffff:192.0.2.1]/r", "https://[::ffff:c000:201]", "https:"),
    ("https://192.0.2.10/r", "https://192.0.2.10", "https://192.0.2.10"),
    ("https://192.0.2.10:8443/r", "https://192.0.2.10:8443", "https://192.0.2.10:8443"),
])
def test_ip_literals_are_accepted_and_csp_names_them_safely(url, origin, csp):
    assert accepted(url) == origin
    assert csp_source_of(origin) == csp


@pytest.mark.parametrize("host", [
    "[fe80::1%25eth0]", "[fe80::1%eth0]", "[v1.abc]", "[::1", "::1", "[2001:db8::g]", "[]", "[1.2.3.4]",
    "256.1.1.1", "01.2.3.4", "1.2.3", "1.2.3.4.5", "0x7f.0.0.1", "example.0x1f", "example.123", "2130706433",
])
def test_malformed_ip_literals_and_numeric_hosts_are_refused(host):
    refused(f"https://{host}/r")


@pytest.mark.parametrize("host", ["emc.example.fi.", "emc..example.fi", ".emc.example.fi", "-emc.example.fi",
                                  "emc-.example.fi", "a" * 64 + ".example.fi", ("a" * 62 + ".") * 4 + "fi", "."])
def test_trailing_dots_empty_and_overlong_labels_are_refused(host):
    refused(f"https://{host}/r")


@pytest.mark.parametrize("host", ["emc%2eexample.fi", "%65mc.example.fi", "emc.example.fi%00", "%5b::1%5d",
                                  "emc.example.fi%3b"])
def test_percent_encoding_in_the_host_is_refused(host):
    refused(f"https://{host}/r")


def test_loopback_http_needs_the_setting_and_is_judged_on_the_parsed_host():
    dev = EntryPolicy(allow_http_loopback=True)
    assert accepted("http://127.0.0.1:9000/r", dev) == "http://127.0.0.1:9000"
    assert accepted("http://[::1]:9000/r", dev) == "http://[::1]:9000"
    assert accepted("http://localhost:9000/r", dev) == "http://localhost:9000"
    for url in ("http://127.0.0.1.evil.example/r", "http://localhost.evil.example:9/r", "http://127.1/r"):
        refused(url, dev)


@given(st.text(min_size=1, max_size=40))
@settings(max_examples=400, deadline=None)
def test_any_accepted_host_makes_a_csp_of_only_safe_characters(host):
    try:
        origin = check_return_url(f"https://{host}/r", POLICY)
    except EntryError:
        return
    source = origin.csp_source
    assert set(source) <= set(string.ascii_lowercase + string.digits + "-.:/[]")
    assert not set(source) & set(";, '\"*")
    csp = handoff_csp(str(origin), "n")
    assert csp.count(";") == 5  # exactly the six directives of the hand-off policy


def test_a_stored_origin_that_is_not_valid_becomes_none_in_the_csp():
    assert "form-action 'none';" in handoff_csp("https://evil.example;frame-ancestors *", "n")


async def test_entry_with_the_injection_gets_an_error_page_and_no_transfer(offline_browser):
    response = await offline_browser.enter(returnUrl="https://evil.example;frame-ancestors/x")
    assert response.status_code == 400
    assert "set-cookie" not in response.headers


async def test_handoff_csp_names_the_validated_origin(make_browser, kit):
    async with make_browser() as b:
        await b.login("demo-learner-1", returnUrl="https://EMC.example.fi:443/emrex/return;x?a=b")
        response = await b.cancel()
        assert "form-action https://emc.example.fi;" in response.headers["content-security-policy"]
        assert kit.handoff_of(response).action == "https://EMC.example.fi:443/emrex/return;x?a=b"
