"""The entry reads an urlencoded body directly (forms.parse_urlencoded): every body must come out exactly as
Starlette's form parser reads it, with the same field count and field size limits; other bodies still go through
Starlette's parser."""

import pytest
from starlette.datastructures import Headers
from starlette.formparsers import FormParser, MultiPartException

from ncp_gateway.web.forms import MAX_FIELD_BYTES, BadForm, parse_urlencoded

BODIES = [
    b"", b"&", b"a=1", b"a=1&b=2", b"&&a=1&&b=2&", b"a", b"a&b=", b"=", b"=x", b"a=1=2", b"a==", b"k=v&k=w",
    b"a+b=c+d", b"%41=%zz%4", b"%26=%3D", b"s=%C3%A9", b"s=%FF%FE", b"x=%ED%A0%80", "\u00e9=\u00e9".encode("latin-1"),
    b"a=1;b=2", b"sessionId=bench&returnUrl=http%3A%2F%2F127.0.0.1%3A9%2Femrex%2Freturn",
]


async def starlette_items(body: bytes, max_fields: int) -> list[tuple[str, str]]:
    async def stream():  # two chunks: the parser keeps its state across the body's messages
        yield body[: len(body) // 2]
        yield body[len(body) // 2 :]

    form = await FormParser(Headers(), stream(), max_fields=max_fields).parse()
    return [(key, value) for key, value in form.multi_items() if isinstance(value, str)]


@pytest.mark.parametrize("body", BODIES)
async def test_fields_are_read_as_starlette_reads_them(body):
    assert parse_urlencoded(body, max_fields=100) == await starlette_items(body, 100)


@pytest.mark.parametrize(("body", "max_fields"), [
    (b"a=1&b=2&c=3", 2), (b"a=1&&b=2&c", 2), (b"f=" + b"x" * MAX_FIELD_BYTES, 100),
    (b"x" * (MAX_FIELD_BYTES + 1), 100),
])
async def test_over_the_limits_is_refused_as_starlette_refuses_it(body, max_fields):
    with pytest.raises(MultiPartException):
        await starlette_items(body, max_fields)
    with pytest.raises(BadForm) as refused:
        parse_urlencoded(body, max_fields=max_fields)
    assert (refused.value.status, refused.value.message_key) == (400, "error.bad_form")


@pytest.mark.parametrize(("body", "max_fields"), [(b"a=1&b=2", 2), (b"f=" + b"x" * (MAX_FIELD_BYTES - 1), 1)])
async def test_at_the_limits_is_read(body, max_fields):
    assert parse_urlencoded(body, max_fields=max_fields) == await starlette_items(body, max_fields)


async def test_entry_with_a_charset_parameter_is_read(offline_browser):
    response = await offline_browser.http.post(
        "/emrex", content=b"sessionId=emc-session-1&returnUrl=https%3A%2F%2Femc.example.fi%2Freturn",
        headers={"content-type": "Application/X-WWW-Form-Urlencoded; charset=UTF-8"})
    assert response.status_code == 303, response.text


async def test_entry_as_multipart_still_goes_through_starlettes_parser(offline_browser):
    files = {"sessionId": (None, "emc-session-1"), "returnUrl": (None, "https://emc.example.fi/return")}
    response = await offline_browser.http.post("/emrex", files=files)
    assert response.status_code == 303, response.text


async def test_entry_with_too_many_fields_gets_the_html_error_page(offline_browser):
    body = b"sessionId=emc-session-1&returnUrl=https%3A%2F%2Femc.example.fi%2Freturn&" + b"&".join(
        b"f%d=1" % i for i in range(100))
    response = await offline_browser.http.post(
        "/emrex", content=body, headers={"content-type": "application/x-www-form-urlencoded"})
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/html")
    assert "location" not in response.headers
