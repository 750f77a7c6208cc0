"""Models built from values already checked as their validators check them (the reader's fast path, issue 13).

Pydantic validation of a 5,000-course transcript called the Python text validators 77,000 times and built 35,000
models one field check at a time; the reader now applies the same checks itself, once per distinct value, and
builds each model in one step. What a check refuses is not decided here: the value is kept as it came and the
document is marked `suspect`, so that the reader validates the whole document the ordinary way and reports
pydantic's own error (tests/test_reader_trusted.py holds both paths to the same output).
"""

from typing import Any, TypeVar

from pydantic import BaseModel

from .model import _scheme, _token, _xml_text

M = TypeVar("M", bound=BaseModel)

_new = object.__new__
_set = object.__setattr__


def build(cls: type[M], values: dict[str, Any]) -> M:
    """`cls.model_validate(values)` for values in their stored form, with every field given (as the reader does).

    Sets exactly what pydantic-core sets on a validated model: the field values (in field order, as the caller
    writes them), every given name as set, no extra values, no private attributes.
    """
    model: M = _new(cls)
    _set(model, "__dict__", values)
    _set(model, "__pydantic_fields_set__", set(values))
    _set(model, "__pydantic_extra__", None)
    _set(model, "__pydantic_private__", None)
    return model


class Checks:
    """The model's value checks for one document, each computed once per distinct value.

    Caching also shares one string, date or Decimal object between the many fields that hold the same value
    (languages, statuses, grades, dates): a smaller model that is faster to free. All cached values are immutable.
    """

    def __init__(self) -> None:
        self.suspect = False
        self.tokens: dict[str, str] = {}
        self.texts: dict[str, str] = {}
        self.schemes: dict[str, str] = {}

    def token(self, raw: str) -> str:
        """The stored form of an xs:token (model.Token)."""
        stored = self.tokens.get(raw)
        if stored is None:
            try:
                stored = _token(raw)
            except ValueError:
                self.suspect = True
                stored = raw
            self.tokens[raw] = stored
        return stored

    def opt_token(self, raw: str | None) -> str | None:
        return None if raw is None else self.token(raw)

    def text(self, raw: str) -> str:
        """The stored form of plain text (model.Text)."""
        stored = self.texts.get(raw)
        if stored is None:
            try:
                stored = _xml_text(raw)
            except ValueError:
                self.suspect = True
                stored = raw
            self.texts[raw] = stored
        return stored

    def opt_text(self, raw: str | None) -> str | None:
        return None if raw is None else self.text(raw)

    def scheme(self, raw: str) -> str:
        """A credit scheme: a token, "ects" in any case stored as "ects" (model.Credit.scheme)."""
        stored = self.schemes.get(raw)
        if stored is None:
            stored = self.schemes[raw] = _scheme(self.token(raw))
        return stored
