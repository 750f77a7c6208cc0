"""Reading the HTML forms: bounded in size and field count, every value text that encodes as UTF-8.

Whatever a form cannot be read for (too large, too many fields, a file, broken multipart, a lone surrogate)
raises `BadForm`; the app answers it with the HTML error page, never JSON.
"""

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request


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


def too_large(limit: int) -> BadForm:
    """The gateway's refusal for ncp_runtime's body limit: raised inside the route's read, so the app's handler
    renders the HTML error page."""
    return BadForm(413, "error.too_large")
