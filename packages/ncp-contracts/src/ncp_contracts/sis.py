"""Contract of the sis-adapter: a learner's results from every institution of a tenant."""

import re
from collections.abc import Callable
from functools import cache
from typing import Any

import httpx
from pydantic_core import SchemaValidator

from emrex_elmo import model as elmo_model

from ._http import send
from .sis_models import InstitutionWarning, LearnerIdentity, QueryOptions, ResultsAnswer, ResultsQuery

__all__ = [
    "InstitutionWarning", "LearnerIdentity", "QueryOptions", "ResultsAnswer", "ResultsQuery", "SisClient",
    "decode_answer",
]

# What the model's text validators (emrex_elmo.model: XML characters, whitespace collapse) could change or refuse,
# as it appears in compact JSON: an escaped control character (\b, \f, \t, \n, \r, \u00XX), a surrogate or
# U+FFFE/U+FFFF, two spaces, or a space next to a quote (a string's first or last character; compact JSON has
# no space outside strings). A body without any of them passes those validators unchanged.
_TEXT_VALIDATORS_WOULD_ACT = re.compile(
    rb'\\[bftnr]|\\u00[01][0-9a-fA-F]|\\u[dD][89a-fA-F]|\\u[fF]{3}[eEfF]|\xef\xbf[\xbe\xbf]|  |" | "'
)
_TEXT_VALIDATORS: tuple[Callable[[str], str], ...] = (elmo_model._token, elmo_model._xml_text)


def _without_text_validators(schema: Any) -> Any:
    if isinstance(schema, dict):
        function = schema.get("function")
        if (schema.get("type") == "function-after" and isinstance(function, dict)
                and function.get("function") in _TEXT_VALIDATORS):
            return _without_text_validators(schema["schema"])
        return {key: _without_text_validators(value) for key, value in schema.items()}
    if isinstance(schema, list):
        return [_without_text_validators(item) for item in schema]
    return schema


def _model_classes(schema: Any) -> set[type]:
    if isinstance(schema, dict):
        found = {schema["cls"]} if schema.get("type") == "model" else set()
        return found.union(*(_model_classes(value) for value in schema.values()))
    if isinstance(schema, list):
        return set().union(*(_model_classes(item) for item in schema))
    return set()


@cache
def _structural_validator() -> SchemaValidator:
    # The same schema (types, literals, required fields, extra=forbid, the `ects` rule) without the per-string
    # Python validators, which were most of the cost of reading a 500-result answer: it runs in pydantic-core.
    schema = ResultsAnswer.__pydantic_core_schema__
    # pydantic-core reuses a complete model class's own validator for its `model` schema (text validators
    # and all), so the classes are marked incomplete while this one is built. A test checks that the fast
    # path calls no text validator.
    classes = {cls: cls.__dict__.get("__pydantic_complete__") for cls in _model_classes(schema)}
    try:
        for cls in classes:
            type.__setattr__(cls, "__pydantic_complete__", False)
        return SchemaValidator(_without_text_validators(schema))
    finally:
        for cls, complete in classes.items():
            type.__setattr__(cls, "__pydantic_complete__", complete)


# Each alternative of the pattern starts with one of these: substring searches (memchr-fast) rule out most
# bodies, where the pattern's scan of a 350 KB answer took longer than a tenth of its decoding.
_WOULD_ACT_PREFIXES = (b"\\", b"\xef\xbf", b"  ", b'" ', b' "')


def _text_validators_would_act(body: bytes) -> bool:
    return any(p in body for p in _WOULD_ACT_PREFIXES) and _TEXT_VALIDATORS_WOULD_ACT.search(body) is not None


def decode_answer(body: bytes) -> ResultsAnswer:
    """ResultsAnswer.model_validate_json(body), faster when no text validator would act (the usual answer)."""
    if _text_validators_would_act(body):
        return ResultsAnswer.model_validate_json(body)
    answer: ResultsAnswer = _structural_validator().validate_json(body)
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
