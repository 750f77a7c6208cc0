"""Request text that every later layer can encode: the base of all internal API request models.

A JSON `"\\ud800"` escape (or CESU-8 bytes, which `json.loads` passes through) decodes to a lone UTF-16
surrogate, which no encoder accepts: it would crash whatever next writes the value (a database driver, an
HTTP client, a log line). Such text is refused where it enters, with the field named and the value never echoed.
"""

import re
from typing import Any

from pydantic import BaseModel, model_validator
from pydantic_core import PydanticCustomError

_SURROGATE = re.compile("[\ud800-\udfff]")
UNENCODABLE_TEXT = "unencodable_text"
"""The pydantic error type of text that cannot be encoded; its context names the field (`identity.learner_id`)."""
_MESSAGE = "text holds a lone UTF-16 surrogate and cannot be encoded as UTF-8"


def unencodable(value: str) -> bool:
    """Whether `value` holds a lone surrogate (a str that cannot be encoded as UTF-8)."""
    return _SURROGATE.search(value) is not None


def _first_unencodable(value: Any, path: str) -> str | None:
    # Iterative walk: nesting depth is bounded by the JSON parser, not by this function.
    stack: list[tuple[Any, str]] = [(value, path)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, str):
            if unencodable(item):
                return where or "body"
        elif isinstance(item, dict):
            for key, child in item.items():
                if isinstance(key, str) and unencodable(key):
                    return f"{where}.<key>" if where else "<key>"
                name = str(key)[:64]  # a caller's key, named in the answer: keep it short
                stack.append((child, f"{where}.{name}" if where else name))
        elif isinstance(item, list | tuple):
            stack.extend((child, f"{where}[{n}]") for n, child in enumerate(item))
    return None


class RequestModel(BaseModel):
    """Base of every request model: no string anywhere in the input (keys included) may be unencodable,
    whatever the field's type (a `str` field, a dict, or an extra key that would be ignored)."""

    @model_validator(mode="before")
    @classmethod
    def _refuse_unencodable(cls, data: Any) -> Any:
        where = _first_unencodable(data, "")
        if where is not None:
            # A typed error, so a service can name the field in its own vocabulary (e.g. `bad_xml` for `xml`).
            raise PydanticCustomError(UNENCODABLE_TEXT, "{field}: " + _MESSAGE, {"field": where})
        return data
