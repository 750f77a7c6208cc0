"""The query's answer as JSON: `ResultsAnswer.model_dump_json(exclude_none=True)`, byte for byte.

Written by orjson from the reports' plain documents (`domain/documents.py`): about four times quicker than
pydantic-core's `to_json` for a 500-result answer, whose dates and decimals pydantic-core infers value by value.
Model objects in the answer (the learner, warnings) are still written by pydantic itself, as fragments.
"""

from decimal import Decimal
from typing import Any

import orjson
from pydantic import BaseModel
from pydantic_core import to_json

# pydantic writes a zero UTC offset as "Z"; dates, times and the other offsets orjson writes as it does.
_OPTIONS = orjson.OPT_UTC_Z


def _other(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)  # pydantic's JSON form of a Decimal: a string, as str() writes it
    if isinstance(value, BaseModel):
        return orjson.Fragment(value.__pydantic_serializer__.to_json(value, exclude_none=True))
    raise TypeError(type(value).__name__)


def answer_json(answer: dict[str, Any]) -> bytes:
    """`answer` as pydantic-core's `to_json(answer, exclude_none=True)` writes it (its plain dicts hold no None).

    What orjson refuses (nesting deeper than 254, integers beyond 64 bits, a type it does not know) goes to
    `to_json`, which writes the same bytes or raises its own error.
    """
    try:
        return orjson.dumps(answer, default=_other, option=_OPTIONS)
    except orjson.JSONEncodeError:
        return to_json(answer, exclude_none=True)
