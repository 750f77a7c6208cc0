"""The gateway's decoding of an answer (ncp_contracts.sis.decode_answer) is exactly the model's validation,
also when it skips the per-string validators for an answer that cannot need them."""

import json
import re
import sys
from collections.abc import Callable
from types import FrameType

import pytest
from pydantic import ValidationError

from emrex_elmo import model as elmo_model
from ncp_contracts.sis import ResultsAnswer, decode_answer

ANSWER = {
    "status": "ok",
    "learner": {"given_names": "Ωμέγα", "family_name": "Жук", "identifiers": [], "citizenship": "FI"},
    "reports": [{
        "issuer": {"identifiers": [{"type": "schac", "value": "a.example.fi"}],
                   "titles": [{"value": "Aurora", "lang": "en"}], "url": "https://a.example.fi/"},
        "issue_date": "2026-05-04T12:00:00Z",
        "learning_opportunity_specifications": [{
            "identifiers": [{"type": "local", "value": "C1"}],
            "titles": [{"value": "Algebra", "lang": "en"}],
            "descriptions": [{"value": "Line one", "lang": "en"}],
            "type": "Course",
            "specifies": {"status": "passed", "result_label": "5",
                          "credits": [{"scheme": "ects", "value": "5"}]},
        }],
    }],
    "warnings": [],
}


def body_with(title: str = "Algebra", description: str = "Line one", scheme: str = "ects") -> bytes:
    answer = json.loads(json.dumps(ANSWER))
    los = answer["reports"][0]["learning_opportunity_specifications"][0]
    los["titles"][0]["value"] = title
    los["descriptions"][0]["value"] = description
    los["specifies"]["credits"][0]["scheme"] = scheme
    # As the sis-adapter writes it: compact, UTF-8.
    return json.dumps(answer, separators=(",", ":"), ensure_ascii=False).encode()


@pytest.mark.parametrize("body", [
    body_with(),
    body_with(title="Ab\tc"), body_with(title="Ab  c"), body_with(title=" Abc"), body_with(title="Abc "),
    body_with(title="A\nb"), body_with(description="one\r\ntwo"), body_with(description="one\rtwo"),
    body_with(scheme="ECTS"), body_with(title="Zoë \"quoted\" title"), body_with(title="emoji 😀 ok"),
    # Whitespace in Python's (str.isspace) sense at a token's ends is trimmed, inside it is kept.
    body_with(title="a\u00a0"), body_with(title="\u3000a"), body_with(title="a\u00a0b"), body_with(title="\u2028"),
    body_with(title="a\x85"), body_with(title=""), body_with(description="tab\there"), body_with(description=" x "),
])
def test_decoding_equals_the_model_validation(body: bytes) -> None:
    assert decode_answer(body) == ResultsAnswer.model_validate_json(body)


@pytest.mark.parametrize("bad", ["bell\x07", "nul\x00", "\ufffe", "\ud800", "form\x0cfeed", "bs\x08"])
def test_characters_xml_cannot_carry_are_refused_as_by_the_model(bad: str) -> None:
    answer = json.loads(body_with())
    answer["reports"][0]["learning_opportunity_specifications"][0]["titles"][0]["value"] = bad
    body = json.dumps(answer, separators=(",", ":")).encode()
    with pytest.raises(ValidationError):
        ResultsAnswer.model_validate_json(body)
    with pytest.raises(ValidationError):
        decode_answer(body)


def test_structure_is_still_checked_on_the_fast_path() -> None:
    answer = json.loads(body_with())
    answer["reports"][0]["learning_opportunity_specifications"][0]["specifies"]["status"] = "maybe"
    with pytest.raises(ValidationError):
        decode_answer(json.dumps(answer, separators=(",", ":")).encode())
    answer = json.loads(body_with())
    answer["learner"]["unexpected"] = "x"
    with pytest.raises(ValidationError):
        decode_answer(json.dumps(answer, separators=(",", ":")).encode())


def _text_validator_calls(decode: Callable[[bytes], object], body: bytes) -> list[str]:
    codes = {elmo_model._token.__code__, elmo_model._xml_text.__code__}
    calls: list[str] = []

    def profile(frame: FrameType, event: str, _: object) -> None:
        if event == "call" and frame.f_code in codes:
            calls.append(frame.f_code.co_name)

    sys.setprofile(profile)
    try:
        decode(body)
    finally:
        sys.setprofile(None)
    return calls


def test_the_usual_answer_is_read_without_the_per_string_validators():
    # pydantic-core reuses a model class's own (complete) validator unless told otherwise: then the fast
    # path would silently be the full one. The model's validation calls them, so this check can see them.
    assert _text_validator_calls(ResultsAnswer.model_validate_json, body_with())
    assert _text_validator_calls(decode_answer, body_with()) == []
    assert _text_validator_calls(decode_answer, body_with(title="A  b"))  # the full path when they could act


def test_the_listed_whitespace_is_what_python_calls_whitespace():
    from ncp_contracts import sis

    listed: set[int] = set()
    for low, high in re.findall(r"\\x\{([0-9A-F]+)\}(?:-\\x\{([0-9A-F]+)\})?", sis._SPACES):
        listed.update(range(int(low, 16), int(high or low, 16) + 1))
    assert listed == {c for c in range(0x21, 0x110000) if chr(c).isspace()}
