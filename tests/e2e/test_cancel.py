"""Cancel is possible at login, at selection and at consent, and the client receives NCP_CANCEL."""


import pytest

pytestmark = pytest.mark.e2e


def test_cancel_at_login(student):
    student.start_import()
    student.page.get_by_role("button", name="Deny").click()
    answer = student.answer()
    assert answer["code"] == "NCP_CANCEL"
    assert "You cancelled the import" in student.page.inner_text("main")


def test_cancel_at_selection(student):
    student.start_import()
    student.log_in("demo-learner-1")
    student.select("Introduction to Programming")
    student.page.get_by_role("button", name="Cancel", exact=True).click()
    assert student.answer()["code"] == "NCP_CANCEL"


def test_cancel_at_consent(student):
    student.to_preview("Introduction to Programming")
    student.page.get_by_role("button", name="Cancel", exact=True).click()
    answer = student.answer()
    assert answer["code"] == "NCP_CANCEL"
    assert answer["signature"] == ""  # nothing was sent
