"""A learner without results anywhere: the client receives NCP_NO_RESULTS."""

import pytest

pytestmark = pytest.mark.e2e


def test_learner_without_results(student):
    student.start_import()
    student.log_in("demo-learner-empty")
    page = student.page
    if not page.url.startswith(student.stack.url("demo")):
        # The node may first tell the student there is nothing to send; leaving returns to the client.
        page.get_by_role("button", name="Return to the service").click()
    answer = student.answer()
    assert answer["code"] == "NCP_NO_RESULTS"
    assert "found no results" in page.inner_text("main")
