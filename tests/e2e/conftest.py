"""The real product on loopback for browser tests: four services, the dev OIDC provider and the demo client
as uvicorn processes on free ports (the same settings `make run` uses), driven by Playwright through the
system's Chromium. Nothing is downloaded; only 127.0.0.1 is reached.
"""

import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.error import URLError

import pytest

from emrex_cli.devpki import write_dev_pki

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("NCP_E2E_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = ROOT / "test-artifacts"
DEMO_INSTITUTIONS = ["aurora.example.fi", "nordlys.example.se", "rheinau.example.de", "aegean.example.gr"]
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-dev-shm-usage"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # loopback only
            return bool(response.status == 200)
    except (URLError, OSError, ValueError):
        return False


@dataclass
class Process:
    name: str
    args: list[str]
    env: dict[str, str]
    ready_url: str
    log: Path
    popen: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        handle = self.log.open("ab")
        self.popen = subprocess.Popen(self.args, env=self.env, cwd=ROOT, stdout=handle, stderr=subprocess.STDOUT,
                                      start_new_session=True)
        handle.close()

    def stop(self) -> None:
        if self.popen is None or self.popen.poll() is not None:
            return
        self.popen.terminate()
        try:
            self.popen.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait(timeout=5)

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.popen is not None and self.popen.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.popen.returncode}:\n{self.tail()}")
            if _ready(self.ready_url):
                return
            threading.Event().wait(0.2)
        raise RuntimeError(f"{self.name} not ready at {self.ready_url} after {timeout}s:\n{self.tail()}")

    def tail(self, lines: int = 40) -> str:
        if not self.log.exists():
            return ""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


@dataclass
class Stack:
    dev_dir: Path
    ports: dict[str, int]
    processes: dict[str, Process] = field(default_factory=dict)

    def url(self, name: str, path: str = "") -> str:
        return f"http://127.0.0.1:{self.ports[name]}{path}"

    @property
    def demo_url(self) -> str:
        return self.url("demo", "/")

    def stop(self, name: str) -> None:
        self.processes[name].stop()

    def start(self, name: str) -> None:
        self.processes[name].start()
        self.processes[name].wait_ready()


def _secret(path: Path, value: str | None = None) -> Path:
    import secrets

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text((value or secrets.token_urlsafe(32)) + "\n")
    path.chmod(0o600)
    return path


def _environment(extra: dict[str, str]) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("NCP_", "PYTEST_"))}
    base["PATH"] = f"{Path(sys.executable).parent}:{base.get('PATH', '/usr/bin:/bin')}"
    base.update(extra)
    return base


def build_stack(dev: Path) -> Stack:
    """Generate keys, tokens and config like deploy/dev/run.sh, and describe every process."""
    ports = {name: free_port() for name in ("gateway", "signer", "registry", "sis", "oidc", "demo")}
    stack = Stack(dev, ports)
    keys = write_dev_pki(dev / "keys")
    callers = dev / "callers"
    subprocess.run([sys.executable, str(ROOT / "deploy" / "dev" / "make_tokens.py"), str(dev)], check=True)
    client_id = _secret(dev / "oidc-client-id", "ncp-gateway-e2e")
    client_secret = _secret(dev / "oidc-client-secret")
    (dev / "data").mkdir()
    logs = dev / "logs"
    logs.mkdir()
    py = sys.executable
    institutions = [a for i in DEMO_INSTITUTIONS for a in ("--institution", i)]
    subprocess.run([py, str(ROOT / "deploy" / "dev" / "make_emreg.py"), "--url", stack.url("gateway", "/emrex"),
                    "--cert", str(keys.signing_cert), *institutions, "--out", str(dev / "emreg.json"),
                    "--oauth-base", stack.url("gateway")], check=True)
    # EMREX 2.0: the demo client's own key and the client list the registry-cache mirrors, as make run does.
    subprocess.run([py, str(ROOT / "deploy" / "dev" / "make_clients.py"), "--key", str(dev / "keys" / "emrex2.key"),
                    "--redirect-uri", stack.url("demo", "/emrex2/callback"), "--out", str(dev / "clients.json")],
                   check=True)
    specs: dict[str, tuple[list[str], dict[str, str], str]] = {
        "signer": ([py, "-m", "ncp_signer"], {
            "NCP_SIGNER_PORT": str(ports["signer"]), "NCP_SIGNER_KEY_FILE": str(keys.signing_key),
            "NCP_SIGNER_CERT_FILE": str(keys.signing_cert), "NCP_SIGNER_CALLER_TOKENS_PATH": str(callers / "signer"),
        }, "/readyz"),
        "sis": ([py, "-m", "ncp_sis_adapter"], {
            "NCP_SIS_PORT": str(ports["sis"]), "NCP_SIS_DATABASE_URL": f"sqlite+aiosqlite:///{dev}/data/sis.db",
            "NCP_SIS_SEED_DEMO": "true", "NCP_SIS_CALLER_TOKENS_PATH": str(callers / "sis-adapter"),
        }, "/readyz"),
        "registry": ([py, "-m", "ncp_registry_cache"], {
            "NCP_REGISTRY_PORT": str(ports["registry"]), "NCP_REGISTRY_SOURCE": str(dev / "emreg.json"),
            "NCP_REGISTRY_DATABASE_URL": f"sqlite+aiosqlite:///{dev}/data/registry.db",
            "NCP_REGISTRY_CALLER_TOKENS_PATH": str(callers / "registry-cache"), "NCP_REGISTRY_RETRY_INTERVAL": "1",
            "NCP_REGISTRY_DEV_MODE": "true", "NCP_REGISTRY_CLIENTS_SOURCE": str(dev / "clients.json"),
            "NCP_REGISTRY_CLIENTS_ALLOW_HTTP_LOOPBACK": "true",
        }, "/readyz"),
        "oidc": ([py, str(ROOT / "deploy" / "dev" / "oidc_provider.py"), "--port", str(ports["oidc"]),
                  "--client-id-file", str(client_id), "--client-secret-file", str(client_secret),
                  "--redirect-uri", stack.url("gateway", "/login/callback")], {}, "/.well-known/openid-configuration"),
        "gateway": ([py, "-m", "ncp_gateway"], {
            "NCP_GATEWAY_ENV": "dev", "NCP_GATEWAY_PORT": str(ports["gateway"]),
            "NCP_GATEWAY_OIDC_ISSUER": stack.url("oidc"),
            "NCP_GATEWAY_OIDC_CLIENT_ID": "ncp-gateway-e2e",
            "NCP_GATEWAY_OIDC_CLIENT_SECRET_PATH": str(client_secret),
            "NCP_GATEWAY_SESSION_SECRET_PATH": str(_secret(dev / "session-secret")),
            "NCP_GATEWAY_PSEUDONYM_KEY_PATH": str(_secret(dev / "pseudonym-key")),
            "NCP_GATEWAY_DATABASE_PATH": str(dev / "data" / "gateway.db"),
            "NCP_GATEWAY_ALLOW_HTTP_LOOPBACK": "true", "NCP_GATEWAY_COOKIE_SECURE": "false",
            "NCP_GATEWAY_SIGNER_URL": stack.url("signer"), "NCP_GATEWAY_REGISTRY_URL": stack.url("registry"),
            "NCP_GATEWAY_SIS_URL": stack.url("sis"),
            "NCP_GATEWAY_SIGNER_TOKEN_PATH": str(callers / "signer" / "gateway"),
            "NCP_GATEWAY_SIS_TOKEN_PATH": str(callers / "sis-adapter" / "gateway"),
            "NCP_GATEWAY_HTTP_TIMEOUT_SECONDS": "5",
            "NCP_GATEWAY_EMREX2_ENABLED": "true",
        }, "/healthz"),
        "demo": ([py, "-m", "ncp_demo_client"], {
            "NCP_DEMO_PORT": str(ports["demo"]), "NCP_DEMO_PUBLIC_URL": stack.url("demo"),
            "NCP_DEMO_GATEWAY_URL": stack.url("gateway", "/emrex"), "NCP_DEMO_REGISTRY_URL": stack.url("registry"),
            "NCP_DEMO_EMREX2_KEY_FILE": str(dev / "keys" / "emrex2.key"),
            "NCP_DEMO_EMREX2_AUTHORIZATION_URL": stack.url("gateway", "/oauth2/authorize"),
            "NCP_DEMO_EMREX2_TOKEN_URL": stack.url("gateway", "/oauth2/token"),
            "NCP_DEMO_EMREX2_RESOURCE_URL": stack.url("gateway", "/results"),
        }, "/readyz"),
    }
    for name, (args, env, ready) in specs.items():
        stack.processes[name] = Process(name, args, _environment(env), stack.url(name, ready), logs / f"{name}.log")
    return stack


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM}: `make system-deps` installs Debian's chromium (as root)")
    stack = build_stack(tmp_path_factory.mktemp("ncp-e2e"))
    try:
        for process in stack.processes.values():
            process.start()
        for process in stack.processes.values():
            process.wait_ready()
        # Every dependency answering: the gateway's own readiness.
        gateway = stack.processes["gateway"]
        Process("gateway", [], {}, stack.url("gateway", "/readyz"), gateway.log, gateway.popen).wait_ready()
        yield stack
    finally:
        for process in reversed(list(stack.processes.values())):
            process.stop()


@pytest.fixture(scope="session")
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
