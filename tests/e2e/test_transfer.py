"""A student imports results into the demo client through the whole node, in a real browser."""

import re

import pytest

pytestmark = pytest.mark.e2e

LEAVES_JS = """() => {
  const boxes = [...document.querySelectorAll('input[type=checkbox][name=los]')];
  const parents = new Set(boxes.map(b => b.dataset.parent).filter(Boolean));
  return boxes.filter(b => !parents.has(b.id)).length;
}"""


def test_some_courses_from_two_institutions_arrive_signed_and_verified(student):
    student.start_import()
    student.log_in("demo-learner-1")
    page = student.page
    assert page.url.startswith(student.stack.url("gateway", "/select"))
    student.select("Introduction to Programming", "Swedish for Exchange Students")
    student.preview_and_send()
    answer = student.answer()
    assert answer["code"] == "NCP_OK"
    assert answer["signature"] == "true"
    assert answer["total-institutions"] == "2"
    assert answer["total-courses"] == "2"
    assert answer["total-credits"] == "8"
    body = page.inner_text("main")
    assert "Introduction to Programming" in body
    assert "Swedish for Exchange Students" in body
    assert "Advanced Course in Programming" not in body
    assert "Aurora University" in body
    assert "Nordlys Institute of Technology" in body
    assert "EMREX transcript" in body
    # The attached transcript is a real PDF.
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the PDF").click()
    path = download.value.path()
    with open(path, "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"


def test_everything_can_be_sent(student):
    student.start_import()
    student.log_in("demo-learner-1")
    page = student.page
    institutions = page.locator("main h2").count()
    student.select()
    leaves = page.evaluate(LEAVES_JS)
    assert leaves >= 5
    student.preview_and_send()
    answer = student.answer()
    assert answer["code"] == "NCP_OK"
    assert answer["signature"] == "true"
    assert answer["total-courses"] == str(leaves)
    assert answer["total-institutions"] == str(institutions)


def test_german_interface(german_student):
    german_student.start_import()
    german_student.log_in("demo-learner-1")
    page = german_student.page
    assert page.locator("html").get_attribute("lang") == "de"
    assert "Wählen Sie" in page.inner_text("h1")
    page.get_by_role("checkbox", name=re.compile("Introduction to Programming")).check()
    page.get_by_role("button", name="Weiter zur Vorschau").click()
    assert page.locator("html").get_attribute("lang") == "de"
    page.get_by_role("checkbox", name=re.compile("einverstanden|stimme", re.I)).check()
    page.get_by_role("button", name="Senden", exact=True).click()
    answer = german_student.answer()
    assert answer["code"] == "NCP_OK"
    assert answer["signature"] == "true"


def _focused(page):
    return page.evaluate("""() => {
      const el = document.activeElement;
      if (!el) return '';
      const label = el.getAttribute('aria-label') || (el.labels && el.labels.length ? el.labels[0].innerText : '');
      return (label || el.innerText || el.value || '').trim();
    }""")


def tab_to(page, name, then=None, limit=250):
    """Press Tab until the focused element's accessible name matches, then the key `then`; fail if the focus order
    never gets there."""
    pattern = re.compile(name) if isinstance(name, str) else name
    seen = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        current = _focused(page)
        if pattern.search(current):
            if then:
                page.keyboard.press(then)
            return
        seen.append(current)
    raise AssertionError(f"Tab never reached {pattern.pattern!r}; focus went through {seen[:40]}")


def test_keyboard_only(student):
    page = student.page
    page.goto(student.stack.demo_url)
    tab_to(page, "^Import my results from the national node$", "Enter")
    page.wait_for_url(re.compile(rf"^{re.escape(student.stack.url('oidc'))}/"))
    tab_to(page, "^demo-learner-1$", "Enter")
    page.wait_for_url(re.compile(rf"^{re.escape(student.stack.url('gateway', '/select'))}"))
    tab_to(page, "Introduction to Programming", "Space")
    tab_to(page, "Swedish for Exchange Students", "Space")
    tab_to(page, "^Continue to preview$", "Enter")
    page.wait_for_url(re.compile(rf"^{re.escape(student.stack.url('gateway', '/preview'))}"))
    tab_to(page, "I agree", "Space")
    tab_to(page, "^Send$", "Enter")
    answer = student.answer()
    assert answer["code"] == "NCP_OK"
    assert answer["signature"] == "true"
    assert answer["total-courses"] == "2"
