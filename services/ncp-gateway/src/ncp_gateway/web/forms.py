"""Reading the HTML forms: bounded in size and field count, every value text that encodes as UTF-8.

Whatever a form cannot be read for (too large, too many fields, a file, broken multipart, a lone surrogate)
raises `BadForm`; the app answers it with the HTML error page, never JSON.
"""

from urllib.parse import unquote_plus

from python_multipart.multipart import parse_options_header
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request

URLENCODED = b"application/x-www-form-urlencoded"
# Starlette's own bound on one urlencoded field (name and value), kept by the direct parse below.
MAX_FIELD_BYTES = 1024 * 1024


class BadForm(Exception):
    def __init__(self, status: int, message_key: str) -> None:
        super().__init__(message_key)
        self.status = status
        self.message_key = message_key


def encodable(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate
        return False
    return True


async def read_form(request: Request, *, max_fields: int) -> FormData:
    try:
        form = await request.form(max_files=0, max_fields=max_fields)
    except HTTPException:  # Starlette's answer to a multipart or field-count problem
        raise BadForm(400, "error.bad_form") from None
    for key, value in form.multi_items():
        if not isinstance(value, str) or not encodable(key) or not encodable(value):
            raise BadForm(400, "error.bad_form")
    return form


def parse_urlencoded(body: bytes, *, max_fields: int) -> list[tuple[str, str]]:
    """The fields of an urlencoded body exactly as Starlette's form parser reads them (python-multipart's
    non-strict querystring parser): empty chunks skipped, a name without `=` has an empty value, names and values
    decoded with `unquote_plus` from Latin-1; the same field count and field size limits."""
    items: list[tuple[str, str]] = []
    for chunk in body.split(b"&"):
        if not chunk:
            continue
        name, equals, value = chunk.partition(b"=")
        if len(items) == max_fields or len(chunk) - len(equals) > MAX_FIELD_BYTES:
            raise BadForm(400, "error.bad_form")
        items.append((unquote_plus(name.decode("latin-1")), unquote_plus(value.decode("latin-1"))))
    return items


async def read_form_items(request: Request, *, max_fields: int) -> list[tuple[str, str]]:
    """`read_form`'s fields as (name, value) pairs. An urlencoded body (what a client's POST to /emrex sends) is
    parsed directly: Starlette's parser costs a tenth of the busiest request's CPU; any other body goes through
    `read_form`."""
    content_type, _ = parse_options_header(request.headers.get("content-type"))
    if content_type != URLENCODED:
        return [(key, value) for key, value in (await read_form(request, max_fields=max_fields)).multi_items()
                if isinstance(value, str)]
    items = parse_urlencoded(await request.body(), max_fields=max_fields)
    for key, value in items:
        if not encodable(key) or not encodable(value):
            raise BadForm(400, "error.bad_form")
    return items


def too_large(limit: int) -> BadForm:
    """The gateway's refusal for ncp_runtime's body limit: raised inside the route's read, so the app's handler
    renders the HTML error page."""
    return BadForm(413, "error.too_large")
