"""Contract of the sis-adapter: a learner's results from every institution of a tenant."""

from collections.abc import Callable
from functools import cache
from typing import Any

import httpx
from pydantic import ValidationError
from pydantic_core import SchemaValidator

from emrex_elmo import model as elmo_model

from ._http import send
from .sis_models import InstitutionWarning, LearnerIdentity, QueryOptions, ResultsAnswer, ResultsQuery

__all__ = [
    "InstitutionWarning", "LearnerIdentity", "QueryOptions", "ResultsAnswer", "ResultsQuery", "SisClient",
    "decode_answer",
]

# The text the model's validators (emrex_elmo.model: XML characters, whitespace collapse) pass unchanged, as
# Rust regexes: their own "already plain" checks, turned round. A token: allowed characters, single spaces
# only, and no whitespace (in Python's sense, str.isspace) at either end. A text: allowed characters, no CR.
_ALLOWED = r"\x{21}-\x{D7FF}\x{E000}-\x{FFFD}\x{10000}-\x{10FFFF}"
# Every character above U+0020 that str.isspace() calls whitespace (a test checks the list).
_SPACES = r"\x{85}\x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}"
_EDGE = rf"[{_ALLOWED}--[{_SPACES}]]"
_PLAIN_TOKEN = rf"^(?:{_EDGE}|{_EDGE}(?: ?[{_ALLOWED}])* ?{_EDGE})?$"
_PLAIN_TEXT = rf"^[\t\n\x{{20}}{_ALLOWED}]*$"
_PLAIN: dict[Callable[[str], str], str] = {elmo_model._token: _PLAIN_TOKEN, elmo_model._xml_text: _PLAIN_TEXT}


def _plain_text_only(schema: Any) -> Any:
    """The schema with each per-string Python validator replaced by a check that its input is already plain."""
    if isinstance(schema, dict):
        function = schema.get("function")
        if (schema.get("type") == "function-after" and isinstance(function, dict)
                and function.get("function") in _PLAIN):
            inner = _plain_text_only(schema["schema"])
            if inner.get("type") != "str" or "pattern" in inner:
                raise TypeError(f"unexpected schema under a text validator: {inner.get('type')}")
            return {**inner, "pattern": _PLAIN[function["function"]]}
        return {key: _plain_text_only(value) for key, value in schema.items()}
    if isinstance(schema, list):
        return [_plain_text_only(item) for item in schema]
    return schema


def _model_classes(schema: Any) -> set[type]:
    if isinstance(schema, dict):
        found = {schema["cls"]} if schema.get("type") == "model" else set()
        return found.union(*(_model_classes(value) for value in schema.values()))
    if isinstance(schema, list):
        return set().union(*(_model_classes(item) for item in schema))
    return set()


@cache
def _plain_validator() -> SchemaValidator:
    # The model's schema (types, literals, required fields, extra=forbid, the `ects` rule), with the per-string
    # Python validators, ~9,500 calls for a 500-result answer, replaced by regexes that run in pydantic-core.
    schema = ResultsAnswer.__pydantic_core_schema__
    # pydantic-core reuses a complete model class's own validator for its `model` schema (text validators
    # and all), so the classes are marked incomplete while this one is built. A test checks that the fast
    # path calls no text validator.
    classes = {cls: cls.__dict__.get("__pydantic_complete__") for cls in _model_classes(schema)}
    try:
        for cls in classes:
            type.__setattr__(cls, "__pydantic_complete__", False)
        return SchemaValidator(_plain_text_only(schema))
    finally:
        for cls, complete in classes.items():
            type.__setattr__(cls, "__pydantic_complete__", complete)


def decode_answer(body: bytes) -> ResultsAnswer:
    """ResultsAnswer.model_validate_json(body): in pydantic-core alone when all text is already plain (the usual
    answer, which the text validators would pass unchanged); otherwise, or when the body is wrong, by the model
    itself, which gives the same answer or the same error."""
    try:
        answer: ResultsAnswer = _plain_validator().validate_json(body)
    except ValidationError:
        return ResultsAnswer.model_validate_json(body)
    return answer


class SisClient:
    service = "sis-adapter"

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def query(self, query: ResultsQuery) -> ResultsAnswer:
        """Raises ServiceUnavailable when every institution failed (the gateway's NCP_ERROR)."""
        request = self.http.build_request(
            "POST", "/v1/results/query", content=query.model_dump_json(),
            headers={"Content-Type": "application/json"},
        )
        return decode_answer((await send(self.http, self.service, request)).content)
