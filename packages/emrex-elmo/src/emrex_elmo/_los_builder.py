"""The reader's fast path for learning opportunity trees: models built from its field dicts without pydantic.

A large transcript is thousands of specifications, each with an instance, identifiers, titles, a credit and a
level: about 35,000 models for 5,000 courses, and pydantic-core spent about 2.5 µs on each (see bench/). Every
value here comes from the reader, which has already typed it (dates, decimals) and checked what the model
checks beyond text (status, gender, required elements). What the model would still do to text is its two text
validators (`model._xml_text`, `model._token`): they change or refuse a string only when it holds a character
that `_TOKENS_PLAIN`/`_TEXTS_PLAIN` below reject. So every string is collected, all of them are checked in one
regex search, and only when none would be changed are the models kept; otherwise (and for the rare parts
handled by `model_validate` here) the caller validates the whole document as before.
"""

import re
from typing import Any, TypeVar

from pydantic import BaseModel

from . import model as m

M = TypeVar("M", bound=BaseModel)
Fields = dict[str, Any]

# Strings are joined with NUL, which XML text cannot hold. A token is already in its stored form when it has only
# characters `_token` keeps and single spaces, none at either end (`\s`: str.strip() trims every Unicode space);
# a text when it has only characters `_xml_text` keeps and no CR.
_SEP = "\x00"
_TOKENS_NOT_PLAIN = re.compile("[^\x00\u0021-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff ]|  |\x00\\s|\\s\x00|^\\s|\\s$")
_TEXTS_NOT_PLAIN = re.compile("[^\x00\u0009\u000a\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _model(cls: type[M], data: Fields) -> M:
    # What BaseModel.model_construct does, without its per-field default handling: the reader gives every field.
    obj = cls.__new__(cls)
    object.__setattr__(obj, "__dict__", data)
    object.__setattr__(obj, "__pydantic_fields_set__", set(data))
    object.__setattr__(obj, "__pydantic_extra__", None)
    object.__setattr__(obj, "__pydantic_private__", None)
    return obj


class LosBuilder:
    """Builds specification trees; `plain()` says whether every string seen is already in its stored form."""

    def __init__(self) -> None:
        self.tokens: list[str] = []
        self.texts: list[str] = []

    def plain(self) -> bool:
        return (
            _TOKENS_NOT_PLAIN.search(_SEP.join(self.tokens)) is None
            and _TEXTS_NOT_PLAIN.search(_SEP.join(self.texts)) is None
        )

    def _identifiers(self, items: list[Fields]) -> list[m.Identifier]:
        tokens = self.tokens
        out = []
        for item in items:
            tokens.append(item["type"])
            tokens.append(item["value"])
            out.append(_model(m.Identifier, {"type": item["type"], "value": item["value"]}))
        return out

    def _titles(self, items: list[Fields]) -> list[m.LocalizedToken]:
        tokens = self.tokens
        out = []
        for item in items:
            lang = item["lang"]
            tokens.append(item["value"])
            tokens.append(lang or "")
            out.append(_model(m.LocalizedToken, {"value": item["value"], "lang": lang}))
        return out

    def _texts(self, items: list[Fields]) -> list[m.LocalizedText]:
        out = []
        for item in items:
            lang = item["lang"]
            self.texts.append(item["value"])
            self.tokens.append(lang or "")
            out.append(_model(m.LocalizedText, {"value": item["value"], "lang": lang}))
        return out

    def _optional_tokens(self, data: Fields, names: tuple[str, ...]) -> None:
        tokens = self.tokens
        for name in names:
            value = data[name]
            if value is not None:
                tokens.append(value)

    def los(self, fields: Fields) -> m.LearningOpportunitySpecification:
        data = dict(fields)
        data["identifiers"] = self._identifiers(fields["identifiers"])
        data["titles"] = self._titles(fields["titles"])
        self._optional_tokens(fields, ("type", "subject_area", "isced_code", "url"))
        data["descriptions"] = self._texts(fields["descriptions"]) if fields["descriptions"] else []
        data["descriptions_html"] = self._texts(fields["descriptions_html"]) if fields["descriptions_html"] else []
        data["specifies"] = self.loi(fields["specifies"])
        data["has_part"] = [self.los(part) for part in fields["has_part"]]
        return _model(m.LearningOpportunitySpecification, data)

    def loi(self, fields: Fields) -> m.LearningOpportunityInstance:
        data = dict(fields)
        data["identifiers"] = self._identifiers(fields["identifiers"])
        self._optional_tokens(
            fields, ("grading_scheme_local_id", "grading_scheme_external_id", "result_label", "language_of_instruction")
        )
        data["credits"] = [self.credit(c) for c in fields["credits"]]
        data["levels"] = [self.level(x) for x in fields["levels"]]
        if fields["attachment_refs"]:
            self.texts.extend(fields["attachment_refs"])
        # Rare parts, validated by pydantic as before.
        for name, cls in _RARE:
            if fields[name] is not None:
                data[name] = cls.model_validate(fields[name])
        return _model(m.LearningOpportunityInstance, data)

    def credit(self, fields: Fields) -> m.Credit:
        scheme = fields["scheme"]
        self.tokens.append(scheme)
        if fields["level"] is not None:
            self.tokens.append(fields["level"])
        return _model(m.Credit, {"scheme": m._scheme(scheme), "level": fields["level"], "value": fields["value"]})

    def level(self, fields: Fields) -> m.Level:
        self.tokens.append(fields["type"])
        if fields["value"] is not None:
            self.tokens.append(fields["value"])
        description = fields["description"]
        return _model(
            m.Level,
            {
                "type": fields["type"],
                "description": m.LocalizedText.model_validate(description) if description is not None else None,
                "value": fields["value"],
            },
        )


_RARE: tuple[tuple[str, type[BaseModel]], ...] = (
    ("academic_term", m.AcademicTerm),
    ("shortened_grading", m.ShortenedGrading),
    ("result_distribution", m.ResultDistribution),
    ("grouping", m.Grouping),
)
