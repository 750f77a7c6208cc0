"""The signer stops while a student is choosing: the client gets NCP_ERROR with a message, not a stack trace."""

import pytest

pytestmark = pytest.mark.e2e


def test_signer_stopped_mid_flow(student):
    student.to_preview("Introduction to Programming")
    student.stack.stop("signer")
    try:
        student.agree_and_send()
        answer = student.answer()
    finally:
        student.stack.start("signer")
    assert answer["code"] == "NCP_ERROR"
    assert answer["message"]
    assert answer["signature"] == ""
    text = student.page.inner_text("body")
    assert "Traceback" not in text
    assert "could not complete the import" in text
