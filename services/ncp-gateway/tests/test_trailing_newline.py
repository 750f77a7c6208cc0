"""Whole-string validations use fullmatch: a value with a trailing newline is refused everywhere, as Python's
`$` would have accepted it (issue: `re.match("^...$")` on the EMREX 1 entry's sessionId)."""

import pytest

from ncp_gateway.domain.entry import EntryError, EntryPolicy, check_host, parse_entry, parse_origin
from ncp_gateway.domain.oauth2 import OAuthError, parse_format, pkce_holds, valid_client_id
from ncp_gateway.web.cookies import SessionCookie

RETURN = "https://client.example.org/back"


def entry(**params: str):
    return parse_entry({"returnUrl": [RETURN], "sessionId": ["s-1"]} | {k: [v] for k, v in params.items()},
                       EntryPolicy())


def test_session_id_with_a_trailing_newline_is_refused():
    assert entry().session_id == "s-1"
    with pytest.raises(EntryError) as refused:
        entry(sessionId="s-1\n")
    assert refused.value.code == "session_id_invalid"


def test_hei_id_with_a_newline_inside_is_dropped():
    assert entry(hei_id="uni.example.fi").hei_id == "uni.example.fi"
    assert entry(hei_id="uni.example.fi\nx").hei_id is None


@pytest.mark.parametrize("url", [RETURN + "\n", "https://client.example.org:443\n/back"])
def test_return_url_with_a_newline_is_refused(url):
    with pytest.raises(EntryError):
        parse_origin(url)


@pytest.mark.parametrize("host", ["client.example.org\n", "127.0.0.1\n"])
def test_host_with_a_trailing_newline_is_refused(host):
    check_host(host.rstrip("\n"))
    with pytest.raises(EntryError):
        check_host(host)


def test_oauth_values_with_a_trailing_newline_are_refused():
    verifier = "a" * 43
    from authlib.oauth2.rfc7636 import create_s256_code_challenge

    challenge = create_s256_code_challenge(verifier)
    assert pkce_holds(verifier, challenge)
    assert not pkce_holds(verifier + "\n", challenge)
    assert valid_client_id("client-1")
    assert not valid_client_id("client-1\n")
    assert parse_format({"data_format": ["elmo"], "data_format_version": ["1.7"]}).elmo_version == "1.7.0"
    for version in ("1.7\n", "2.0\n"):
        with pytest.raises(OAuthError):
            parse_format({"data_format": ["elmo"], "data_format_version": [version]})


def test_transfer_cookie_id_with_a_trailing_newline_is_refused():
    tid = SessionCookie.new_tid()
    assert SessionCookie.valid_tid(tid)
    assert not SessionCookie.valid_tid(tid + "\n")
