"""The signer stops while a student is choosing: the client gets NCP_ERROR with a message, not a stack trace."""

import re

import pytest

pytestmark = pytest.mark.e2e


def test_signer_stopped_mid_flow(student):
    student.start_import()
    student.log_in("demo-learner-1")
    student.select("Introduction to Programming")
    page = student.page
    page.get_by_role("button", name="Continue to preview").click()
    student.stack.stop("signer")
    try:
        page.get_by_role("checkbox", name=re.compile("I agree")).check()
        page.get_by_role("button", name="Send", exact=True).click()
        answer = student.answer()
    finally:
        student.stack.start("signer")
    assert answer["code"] == "NCP_ERROR"
    assert answer["message"]
    assert answer["signature"] == ""
    text = page.inner_text("body")
    assert "Traceback" not in text
    assert "could not complete the import" in text
