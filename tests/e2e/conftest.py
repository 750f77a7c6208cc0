"""The real product on loopback for browser tests: four services, the dev OIDC provider and the demo client
as processes on free ports (ncp_testkit.stack, the same settings `make run` uses), driven by Playwright through
the system's Chromium. Nothing is downloaded; only 127.0.0.1 is reached.
"""

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ncp_testkit.axe import Axe, install_axe
from ncp_testkit.stack import Stack, running_stack

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("NCP_E2E_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = ROOT / "test-artifacts"
SHORT_GATEWAY = "gateway2"  # running_stack(gateways=2) names the second gateway process
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-dev-shm-usage"]


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM}: `make system-deps` installs Debian's chromium (as root)")
    directory = tmp_path_factory.mktemp("ncp-e2e")
    # SHORT_GATEWAY: a second gateway on the same services whose transfers last 60 s (the warning comes 50 s
    # before the end, extending stops 100 s after the entry); its own database, so the two never migrate one file.
    short = {"NCP_GATEWAY_SESSION_TTL_SECONDS": "60", "NCP_GATEWAY_SESSION_WARNING_SECONDS": "50",
             "NCP_GATEWAY_SESSION_MAX_LIFETIME_SECONDS": "100",
             "NCP_GATEWAY_DATABASE_PATH": str(directory / "data" / "gateway-short.db")}
    with running_stack(directory, demo_client=True, gateways=2, service_env={SHORT_GATEWAY: short},
                       gateway_env={"NCP_GATEWAY_HTTP_TIMEOUT_SECONDS": "5"}) as running:
        yield running


# One browser per module, not per session: the sync API keeps its event loop running in this thread while it is
# open, so a session-wide browser would break every asyncio test collected after tests/e2e in the same run.
@pytest.fixture(scope="module")
def browser(stack: Stack) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.when == "call":
        item.stash[FAILED] = report.failed
        stack = getattr(item, "funcargs", {}).get("stack")
        if report.failed and isinstance(stack, Stack):
            # Show why a page went wrong: the services' error lines (they never log personal data).
            for process in stack.processes.values():
                errors = [line for line in process.tail(400).splitlines()
                          if '"level": "error"' in line or "Traceback" in line or "Error" in line]
                if errors:
                    report.sections.append((f"{process.name} errors", "\n".join(errors[-15:])))
    return report


FAILED = pytest.StashKey[bool]()


def _only_loopback(route: Any) -> None:
    if route.request.url.startswith(("http://127.0.0.1:", "data:", "about:")):
        route.continue_()
    else:  # the mock provider's page asks a CDN for CSS; this machine has no internet and tests need none
        route.abort()


def new_page(browser: Any, request: pytest.FixtureRequest, **context_args: Any) -> Iterator[Any]:
    context = browser.new_context(**context_args)
    context.set_default_timeout(15_000)
    context.route("**/*", _only_loopback)
    page = context.new_page()
    try:
        yield page
    finally:
        if request.node.stash.get(FAILED, False):
            where = ARTIFACTS / re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)
            where.mkdir(parents=True, exist_ok=True)
            for i, each in enumerate(context.pages):
                try:
                    each.screenshot(path=str(where / f"page{i}.png"), full_page=True)
                    (where / f"page{i}.html").write_text(each.content())
                except Exception as exc:  # the page may be gone; keep what we can
                    (where / f"page{i}.error.txt").write_text(repr(exc))
        context.close()


@pytest.fixture
def page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """An English-speaking student's browser tab."""
    yield from new_page(browser, request, locale="en-GB")


@pytest.fixture
def german_page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A browser that asks for German first (Accept-Language: de-DE)."""
    yield from new_page(browser, request, locale="de-DE")


class Student:
    """What a student does in the browser, starting at the demo client (an EMC)."""

    def __init__(self, page: Any, stack: Stack) -> None:
        self.page = page
        self.stack = stack

    def start_import(self) -> None:
        self.page.goto(self.stack.demo_url)
        self.page.get_by_role("button", name="Import my results from the national node").click()
        self.page.wait_for_url(re.compile(rf"^{re.escape(self.stack.url('oidc'))}/"))

    def log_in(self, who: str = "demo-learner-1") -> None:
        self.page.get_by_role("button", name=who, exact=True).click()
        self.page.wait_for_load_state()

    def select(self, *titles: str) -> None:
        """Tick the results whose names match `titles`; without titles, press "Select all"."""
        if not titles:
            self.page.get_by_role("button", name="Select all").click()
        for title in titles:
            self.page.get_by_role("checkbox", name=re.compile(title)).check()

    def preview(self, button: str = "Continue to preview") -> None:
        self.page.get_by_role("button", name=button).click()

    def agree_and_send(self, agree: Any = re.compile("I agree"), send: str = "Send") -> None:
        self.page.get_by_role("checkbox", name=agree).check()
        self.page.get_by_role("button", name=send, exact=True).click()

    def preview_and_send(self) -> None:
        self.preview()
        self.agree_and_send()

    def to_preview(self, *titles: str) -> None:
        """Import, log in as the demo learner, choose `titles` (all without titles) and go to the preview."""
        self.start_import()
        self.log_in()
        self.select(*titles)
        self.preview()

    def send_everything(self, who: str = "demo-learner-1") -> dict[str, str]:
        """One whole flow: import, log in, select all, preview, agree and send; the client's answer."""
        self.start_import()
        self.log_in(who)
        self.select()
        self.preview_and_send()
        return self.answer()

    def answer(self) -> dict[str, str]:
        """The demo client's result page: return code, message, and what it found."""
        self.page.wait_for_url(self.stack.url("demo", "/return"))
        page = self.page
        out = {"code": page.locator("#return-code").inner_text().strip(),
               "message": page.locator("#return-message").inner_text().strip()}
        signature = page.locator("#signature")
        out["signature"] = signature.get_attribute("data-valid") if signature.count() else ""
        for name in ("total-courses", "total-credits", "total-institutions"):
            locator = page.locator(f"#{name}")
            out[name] = locator.inner_text().strip() if locator.count() else ""
        return out


@pytest.fixture
def student(page: Any, stack: Stack) -> Student:  # `stack` named here so failures can show service errors
    return Student(page, stack)


@pytest.fixture
def german_student(german_page: Any, stack: Stack) -> Student:
    return Student(german_page, stack)


@pytest.fixture(scope="session")
def axe_script() -> Path:
    script = install_axe()
    if script is None:
        pytest.skip("npm (or the npm registry) missing: axe-core from tests/e2e/axe/package-lock.json not installed")
    return script


@pytest.fixture
def axe(axe_script: Path) -> Axe:
    """axe-core for this test: `axe.check(page, "name")` after each page; the test asserts `axe.found == []`."""
    return Axe(axe_script)


@pytest.fixture(scope="session")
def short_session_gateway(stack: Stack) -> str:
    """The base URL of the gateway with short transfers (see `stack`)."""
    return stack.url(SHORT_GATEWAY)
