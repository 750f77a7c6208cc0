"""WCAG 2.2.1 in a real browser: before the transfer's time runs out a dialog warns the student, Extend (one key
press) gives the transfer more time on the server, and the dialog passes axe. A gateway whose transfers last
60 seconds (warning 50 seconds before the end, at most 100 seconds in all) keeps the test short."""

import re
from urllib.parse import urlencode

import pytest

pytestmark = pytest.mark.e2e


def seconds_left(page):
    return int(page.locator("#time-left").get_attribute("data-seconds"))


def shown_seconds(page):
    minutes, seconds = re.search(r"(\d+)\D+(\d+)", page.locator("#time-left").inner_text()).groups()
    return int(minutes) * 60 + int(seconds)


@pytest.mark.parametrize("who", ["student", "german_student"])
def test_the_warning_appears_and_extending_gives_more_time(who, request, short_session_gateway, axe):
    student = request.getfixturevalue(who)
    page, stack = student.page, student.stack
    query = urlencode({"sessionId": "timeout-test", "returnUrl": stack.url("demo", "/return")})
    page.goto(f"{short_session_gateway}/emrex?{query}")
    student.log_in("demo-learner-1")
    page.wait_for_url(re.compile(rf"^{re.escape(short_session_gateway)}/select"))
    assert seconds_left(page) <= 60
    dialog = page.get_by_role("dialog")
    expect_heading = "Your transfer will end soon" if who == "student" else "Ihre Übertragung endet bald"
    dialog.wait_for(state="visible", timeout=30_000)  # 50 s before the end
    assert dialog.get_attribute("aria-labelledby") == "session-warning-heading"
    assert page.locator("#session-warning-heading").inner_text() == expect_heading
    assert re.search(r"\d", page.locator("#session-warning-text").inner_text())
    # The modal dialog takes the focus to its first button: one key press extends.
    assert page.evaluate("document.activeElement.id") == "session-warning-extend"
    axe.check(page, f"{who}: session-time warning")
    before = shown_seconds(page)
    assert before <= 50
    with page.expect_response(lambda r: r.url.endswith("/session/extend")) as answer:
        page.keyboard.press("Enter")
    assert answer.value.status == 200
    dialog.wait_for(state="hidden")
    assert shown_seconds(page) > before + 5
    assert page.locator("#session-status").inner_text().strip()  # announced to screen readers
    page.reload()  # the server's record moved, not only the countdown
    assert seconds_left(page) > before + 5
    assert axe.found == [], axe.report()
