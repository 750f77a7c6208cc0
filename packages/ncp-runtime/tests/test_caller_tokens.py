"""One token per caller: a table that gives two callers the same token is refused, naming the callers only."""

import pytest

from ncp_runtime import CallerTokens, DuplicateTokenError

A, B = "a" * 32, "b" * 32


def test_distinct_tokens_load():
    tokens = CallerTokens({"gateway": A, "admin": B})
    assert tokens.caller_for(A) == "gateway"
    assert tokens.caller_for(B) == "admin"


def test_one_token_for_two_callers_is_refused(tmp_path):
    (tmp_path / "gateway").write_text(A + "\n")
    (tmp_path / "admin").write_text(A + "\n")
    with pytest.raises(DuplicateTokenError, match="admin and gateway have the same token") as refused:
        CallerTokens.load(tmp_path)
    assert A not in str(refused.value)
