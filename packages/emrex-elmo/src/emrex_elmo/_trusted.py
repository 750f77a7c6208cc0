"""Models built from values already checked as their validators check them (the reader's fast path, issue 13).

Pydantic validation of a 5,000-course transcript called the Python text validators 77,000 times and built 35,000
models one field check at a time; the reader now applies the same checks itself, once per distinct value, and
builds each model in one step. What a check refuses is not decided here: the value is kept as it came and the
document is marked `suspect`, so that the reader validates the whole document the ordinary way and reports
pydantic's own error (tests/test_reader_trusted.py holds both paths to the same output).
"""

import functools
import sys
from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel

from .model import _scheme, _token, _xml_text

M = TypeVar("M", bound=BaseModel)

_new = object.__new__
# BaseModel's slots, set through their descriptors: what `object.__setattr__` ends up calling, without its lookup.
_set_dict = BaseModel.__dict__["__dict__"].__set__
_set_fields_set = BaseModel.__dict__["__pydantic_fields_set__"].__set__
_set_extra = BaseModel.__dict__["__pydantic_extra__"].__set__
_set_private = BaseModel.__dict__["__pydantic_private__"].__set__
_builders: dict[type[BaseModel], tuple[Callable[[dict[str, Any]], Any], int]] = {}


def builder(cls: type[M]) -> Callable[[dict[str, Any]], M]:
    """`build` for one class, for values that name every field (the reader's hot paths, one builder per class).

    Sets exactly what pydantic-core sets on a validated model: the field values (in field order, as the caller
    writes them), every name as set, no extra values, no private attributes.
    """
    names = set(cls.model_fields)
    # Copying a set of the same names is several times faster than building it, but a copy sizes its table for
    # twice the names: for LearningOpportunityInstance's 18, 64 slots (a 1 KB allocation outside pymalloc, 8% of
    # the parse at 5,000 courses) where a set built one name at a time, as pydantic-core builds it, has 32.
    one_by_one = tuple(names)  # set(a tuple) adds one name at a time; set(a set) copies
    copy_names: Callable[[], set[str]] = names.copy
    if sys.getsizeof(names.copy()) > sys.getsizeof(set(one_by_one)):
        copy_names = functools.partial(set, one_by_one)

    def make(values: dict[str, Any]) -> M:
        model: M = _new(cls)
        _set_dict(model, values)
        _set_fields_set(model, copy_names())
        _set_extra(model, None)
        _set_private(model, None)
        return model

    return make


def build(cls: type[M], values: dict[str, Any]) -> M:
    """`cls.model_validate(values)` for values in their stored form (the given names are the set ones)."""
    try:
        make, count = _builders[cls]
    except KeyError:
        make, count = _builders[cls] = builder(cls), len(cls.model_fields)
    model: M = make(values)
    if len(values) != count:
        _set_fields_set(model, set(values))
    return model


class Stored(dict[str, str]):
    """`stored[raw]`: the stored form of a raw value, checked on first sight (a plain dict lookup after that)."""

    def __init__(self, check: Callable[[str], str]) -> None:
        super().__init__()
        self.check = check
        self.refused = False

    def __missing__(self, raw: str) -> str:
        try:
            stored = self.check(raw)
        except ValueError:
            self.refused = True
            stored = raw
        self[raw] = stored
        return stored


class Checks:
    """The model's value checks for one document, each computed once per distinct value.

    Caching also shares one string between the many fields that hold the same value (languages, statuses,
    grades): a smaller model that is faster to free.
    """

    def __init__(self) -> None:
        self.token = Stored(_token)  # model.Token
        self.text = Stored(_xml_text)  # model.Text
        self.scheme = Stored(lambda raw: _scheme(self.token[raw]))  # model.Credit.scheme
        self.other_fault = False

    @property
    def suspect(self) -> bool:
        """A value or structure some model refuses: the document needs pydantic's validation to name the fault."""
        return self.other_fault or self.token.refused or self.text.refused

    def opt_token(self, raw: str | None) -> str | None:
        return None if raw is None else self.token[raw]

    def opt_text(self, raw: str | None) -> str | None:
        return None if raw is None else self.text[raw]
