"""The fast paths of the text validators store exactly what the full rules store (issue 13: no check traded away)."""

import re

import pytest
from hypothesis import given, settings, strategies as st

from emrex_elmo import model

_INVALID = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_WS = re.compile(r"[\u0009\u000a\u000d\u0020]+")


def reference_text(value: str) -> str:
    bad = _INVALID.search(value)
    if bad:
        raise ValueError(bad.group())
    return value.replace("\r\n", "\n").replace("\r", "\n")


def reference_token(value: str) -> str:
    return _WS.sub(" ", reference_text(value)).strip()


TRICKY = st.sampled_from([" ", "  ", "\t", "\n", "\r", "\r\n", "\x00", "\x0b", "\x85", "\xa0", "\u2028", "\u3000",
                          "\ud800", "\udfff", "\ufffe", "\uffff", "a", "é", "😀"])
TEXT = st.lists(st.one_of(TRICKY, st.characters(exclude_categories=())), max_size=12).map("".join)


def _outcome(fn: object, value: str) -> str:
    assert callable(fn)
    try:
        return str(fn(value))
    except ValueError:
        return "<refused>"


@settings(max_examples=3000)
@given(TEXT)
def test_fast_and_full_rules_agree(value: str) -> None:
    assert _outcome(model._xml_text, value) == _outcome(reference_text, value)
    assert _outcome(model._token, value) == _outcome(reference_token, value)


@pytest.mark.parametrize("value", ["a\xa0", "\u2028a", " a", "a  b", "a\tb", "a\r\nb", "\x00"])
def test_values_off_the_fast_path_are_still_normalized_or_refused(value: str) -> None:
    assert _outcome(model._token, value) == _outcome(reference_token, value)
