"""axe-core on every page of the EMREX 1 flow and of /my-results, in English and German: zero WCAG 2.1 A/AA violations.

Not checked: the development OpenID provider's login page. It is a third-party test tool (oidc-provider-mock)
that `make run` uses in place of the national identity provider; in production the student logs in at that
provider's pages, which its operator answers for (the accessibility statement says so).
"""

import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

pytestmark = pytest.mark.e2e
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def held(page, url_prefix, action):
    """Runs `action`, stopping the navigation to `url_prefix` it leads to (an auto-submitting page's) without an
    error page, and returns once that navigation was stopped: the page stays on screen, fully loaded."""
    pattern = re.compile("^" + re.escape(url_prefix))
    page.context.route(pattern, lambda route: route.abort("aborted"))
    try:
        with page.expect_event("requestfailed", lambda r: bool(pattern.match(r.url)), timeout=30_000):
            action()
    finally:
        page.context.unroute(pattern)


def tid_of(page):
    return parse_qs(urlsplit(page.url).query)["t"][0]


def walk_transfer(student, axe, lang):
    """Demo client -> selection (plain, with an error, filtered) -> preview -> an error page of the transfer ->
    preview with its error -> hand-off -> the demo client's result page; then the pages outside a transfer."""
    page, stack = student.page, student.stack
    gateway = stack.url("gateway")
    page.goto(stack.demo_url)
    axe.check(page, f"{lang} demo client start")
    held(page, gateway + "/emrex",
         lambda: page.get_by_role("button", name="Import my results from the national node").click())
    page.wait_for_selector("form#emrex-handoff")
    axe.check(page, f"{lang} demo client hand-off to the node")
    page.get_by_role("button", name="Continue to the national node").click()
    page.wait_for_url(re.compile(rf"^{re.escape(stack.url('oidc'))}/"))
    student.log_in("demo-learner-1")
    page.wait_for_url(re.compile(rf"^{re.escape(gateway)}/select"))
    tid = tid_of(page)
    axe.check(page, f"{lang} selection")
    page.locator("button[name=action][value=preview]").click()  # nothing chosen: the form's error
    page.wait_for_selector("#form-error")
    axe.check(page, f"{lang} selection with an error")
    page.select_option("#f-type", index=1)
    page.locator("button[name=action][value=filter]").click()
    page.wait_for_load_state()
    axe.check(page, f"{lang} selection filtered")
    page.locator("button[name=action][value=reset]").click()
    page.wait_for_load_state()
    page.locator("input[name=los]").first.check()
    page.locator("button[name=action][value=preview]").click()
    page.wait_for_url(re.compile(rf"^{re.escape(gateway)}/preview"))
    axe.check(page, f"{lang} preview and consent")
    page.goto(f"{gateway}/login?t={tid}")  # a step that is over: the error page that keeps the transfer
    axe.check(page, f"{lang} error page within a transfer")
    page.goto(f"{gateway}/preview?t={tid}")
    page.evaluate("document.getElementById('consent').required = false")  # as a browser without validation
    page.locator("form[action='/send'] button.primary").click()
    page.wait_for_selector("#form-error")
    axe.check(page, f"{lang} preview with the consent error")
    page.locator("#consent").check()
    held(page, stack.url("demo", "/return"), lambda: page.locator("form[action='/send'] button.primary").click())
    page.wait_for_selector("form#emrex")
    axe.check(page, f"{lang} hand-off to the client")
    page.locator("form#emrex button").click()
    assert student.answer()["code"] == "NCP_OK"
    axe.check(page, f"{lang} demo client result (NCP_OK)")
    page.goto(f"{gateway}/select")
    axe.check(page, f"{lang} error page without a transfer")
    page.goto(f"{gateway}/emrex?sessionId=s&returnUrl=ftp%3A%2F%2Fclient.example%2F")
    axe.check(page, f"{lang} error page of a bad entry")
    page.goto(f"{gateway}/accessibility")
    axe.check(page, f"{lang} accessibility statement")


def walk_cancel_and_no_results(student, axe, lang):
    page = student.page
    student.start_import()
    student.log_in("demo-learner-1")
    page.locator("button[formaction='/cancel']").click()
    assert student.answer()["code"] == "NCP_CANCEL"
    axe.check(page, f"{lang} demo client result (NCP_CANCEL)")
    student.start_import()
    student.log_in("demo-learner-empty")
    assert student.answer()["code"] == "NCP_NO_RESULTS"
    axe.check(page, f"{lang} demo client result (NCP_NO_RESULTS)")


def walk_my_results(student, axe, lang):
    """The node's own pages (/my-results): start, the results after login, and the page after logging out."""
    page = student.page
    gateway = student.stack.url("gateway")
    page.goto(f"{gateway}/my-results")
    axe.check(page, f"{lang} my results: start")
    page.locator("a[href='/my-results/login']").click()
    page.wait_for_url(re.compile(rf"^{re.escape(student.stack.url('oidc'))}/"))
    student.log_in("demo-learner-1")
    page.wait_for_url(re.compile(rf"^{re.escape(gateway)}/my-results\?t="))
    page.wait_for_selector("form[action='/my-results/download']")
    axe.check(page, f"{lang} my results: the results")
    page.locator("form[action='/my-results/end'] button").click()
    page.wait_for_selector("a[href='/my-results']")
    axe.check(page, f"{lang} my results: logged out")


@pytest.mark.parametrize("who", ["student", "german_student"])
def test_every_page_of_the_flow_has_no_wcag_violation(who, request, axe):
    student = request.getfixturevalue(who)
    lang = "de" if who == "german_student" else "en"
    walk_transfer(student, axe, lang)
    walk_cancel_and_no_results(student, axe, lang)
    walk_my_results(student, axe, lang)
    assert len(axe.checked) == 18
    # What axe could not decide itself, for a human review (test-artifacts/ is kept by CI, not committed).
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"axe-needs-review-{lang}.txt").write_text("\n".join(map(str, axe.review)) + "\n")
    assert axe.found == [], axe.report()
