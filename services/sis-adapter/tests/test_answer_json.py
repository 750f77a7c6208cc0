"""The answer is written by orjson: byte for byte what pydantic-core writes, and pydantic-core where orjson
cannot."""

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from functools import reduce

import pytest
from pydantic_core import PydanticSerializationError, to_json

from emrex_elmo import Identifier, Learner
from ncp_contracts.sis_models import InstitutionWarning
from ncp_sis_adapter.api.answer_json import answer_json


def answer(**more: object) -> dict[str, object]:
    learner = Learner(citizenship="FI", identifiers=[Identifier(type="esi", value="urn:esi:x")],
                      given_names="Aino", family_name="Äijälä", bday=date(1990, 1, 2))
    return {"status": "ok", "learner": learner, "reports": [{
        "issue_date": datetime(2025, 1, 2, 3, 4, 5, 120000, tzinfo=UTC),
        "dates": [date(2020, 9, 1), datetime(2025, 1, 2, 3, 4, 5), datetime(2025, 1, 2, tzinfo=timezone(timedelta(0))),
                  datetime(2025, 1, 2, 3, 4, 5, 1, tzinfo=timezone(timedelta(hours=2)))],
        "credits": [Decimal("2.50"), Decimal("1E+2"), Decimal("-0"), Decimal("0.0000001")],
        "text": "tab\there\nline \"quoted\" \\ / ä \u2028 \U0001f600 \x7f",
        "numbers": [0, -1, 2**63 - 1, 1.5], "flags": [True, False], "empty": [[], {}], **more,
    }], "warnings": [InstitutionWarning(institution="x.example.fi", code="timeout", message="no answer in 5 s")]}


def test_answer_is_what_pydantic_core_writes_byte_for_byte():
    assert answer_json(answer()) == to_json(answer(), exclude_none=True)


def test_model_objects_are_written_by_pydantic_without_their_none_fields():
    written = answer_json(answer())
    assert b'"learner":{"citizenship":"FI","identifiers":[{"type":"esi","value":"urn:esi:x"}],' in written
    assert b"null" not in written  # Learner's unset optional fields are left out, as exclude_none does


def outcome(write: Callable[[dict[str, object]], bytes], document: dict[str, object]) -> bytes | type:
    try:
        return write(document)
    except Exception as exc:  # the error's type is what is compared
        return type(exc)


@pytest.mark.parametrize("more", [
    {"big": 2**70},  # orjson: 64-bit integers only
    # orjson takes 254 levels at most, pydantic-core about as many: the same bytes or the same error.
    *({"deep": reduce(lambda inner, _: [inner], range(depth), [])} for depth in (240, 251, 252, 300)),
    {"odd": object()},  # neither knows it
])
def test_what_orjson_refuses_goes_to_pydantic_core_with_the_same_outcome(more: dict[str, object]):
    def previous(document: dict[str, object]) -> bytes:
        return to_json(document, exclude_none=True)

    assert outcome(answer_json, answer(**more)) == outcome(previous, answer(**more))


def test_the_fallback_is_taken_when_orjson_refuses():
    assert answer_json(answer(big=2**70)).count(b"1180591620717411303424") == 1
    with pytest.raises(PydanticSerializationError):
        answer_json(answer(odd=object()))
