"""The whole product on loopback as real processes (signer, sis-adapter, registry-cache, an OIDC provider,
one or more gateways, optionally the demo client), plus a student's browser walk through the EMREX flow over HTTP.

The one launcher of the workspace: both end-to-end suites (tests/e2e, the gateway's test_e2e) and every
benchmark start processes here. Keys, tokens and config are made the way `make run` makes them
(deploy/dev/make_tokens.py: one token per callee and caller; deploy/dev/make_emreg.py); one log file per
process under DIR/logs, databases under DIR/data.
"""

import os
import secrets
import shutil
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from urllib.parse import urljoin, urlsplit

import httpx
import lxml.html

from .server import free_port

REPO = Path(__file__).resolve().parents[4]
PYTHON = sys.executable
DEV_TOOLS = REPO / "deploy" / "dev"
DEMO_INSTITUTIONS = ("aurora.example.fi", "nordlys.example.se", "rheinau.example.de", "aegean.example.gr")
Provider = Literal["mock", "node"]

__all__ = ["PYTHON", "Process", "Stack", "free_port", "node_provider_dir", "running_stack", "start_process",
           "student_flow"]


def _environment(extra: dict[str, str]) -> dict[str, str]:
    """This interpreter's environment without any NCP_ or pytest variable, plus `extra`."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("NCP_", "PYTEST_"))}
    base["PATH"] = f"{Path(PYTHON).parent}:{base.get('PATH', '/usr/bin:/bin')}"
    return {**base, **extra}


@dataclass
class Process:
    """One process of a stack: its command, its readiness URL and its own log file; stops and starts again."""

    name: str
    argv: list[str]
    env: dict[str, str]
    ready_url: str
    log: Path
    cwd: Path = REPO
    popen: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.popen is not None, f"{self.name} is not running"
        return self.popen.pid

    def start(self) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as handle:
            self.popen = subprocess.Popen(self.argv, env=self.env, cwd=self.cwd, stdout=handle,
                                          stderr=subprocess.STDOUT, start_new_session=True)

    def stop(self) -> None:
        if self.popen is None or self.popen.poll() is not None:
            return
        self.popen.terminate()
        try:
            self.popen.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait(timeout=5)

    def wait_ready(self, timeout: float = 90.0, *, url: str | None = None, status: int = 200,
                   verify: ssl.SSLContext | bool = True) -> httpx.Response:
        """Until `url` (the readiness URL by default) answers `status`; fails early when the process exits."""
        target = url or self.ready_url
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.popen is not None and self.popen.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.popen.returncode}:\n{self.tail()}")
            try:
                response = httpx.get(target, timeout=2, verify=verify)
                if response.status_code == status:
                    return response
            except (httpx.HTTPError, ssl.SSLError):
                pass
            threading.Event().wait(0.1)  # a sync helper, run outside any event loop
        raise RuntimeError(f"{self.name} did not answer {status} at {target} after {timeout}s:\n{self.tail()}")

    def tail(self, lines: int = 40) -> str:
        if not self.log.exists():
            return ""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


@contextmanager
def start_process(name: str, argv: Sequence[str], env: dict[str, str], ready_url: str, log: Path, *,
                  timeout: float = 90.0, status: int = 200, verify: ssl.SSLContext | bool = True,
                  cwd: Path = REPO) -> Iterator[Process]:
    """One process (a service alone, a test's or a benchmark's server), answering `status` at `ready_url`
    until the block ends. Its environment is this one without NCP_ variables, plus `env`."""
    process = Process(name, list(argv), _environment(env), ready_url, log, cwd)
    process.start()
    try:
        process.wait_ready(timeout, status=status, verify=verify)
        yield process
    finally:
        process.stop()


@contextmanager
def run_beside(argv: Sequence[str], env: dict[str, str] | None = None) -> Iterator[Callable[[float], str]]:
    """A helper process that is not a server (no readiness URL: a benchmark's measurement running beside its
    load) for the length of the block. The block gets a function that waits up to the given seconds for the
    process to end and returns its standard output; a process still running when the block ends is killed."""
    popen = subprocess.Popen(list(argv), env=_environment(env or {}), cwd=REPO, stdout=subprocess.PIPE)

    def output(timeout: float) -> str:
        out, _ = popen.communicate(timeout=timeout)
        if popen.returncode:
            raise RuntimeError(f"{argv[1] if len(argv) > 1 else argv[0]} exited with {popen.returncode}")
        return out.decode()

    try:
        yield output
    finally:
        if popen.poll() is None:
            popen.kill()
            popen.communicate()


@dataclass
class Stack:
    directory: Path
    ports: dict[str, int]
    signer_cert: Path
    processes: dict[str, Process] = field(default_factory=dict)

    def url(self, name: str, path: str = "") -> str:
        return f"http://127.0.0.1:{self.ports[name]}{path}"

    @property
    def dev_dir(self) -> Path:
        return self.directory

    @property
    def gateway(self) -> str:
        return self.url("gateway")

    @property
    def gateways(self) -> list[str]:
        """Every gateway process (more than one with running_stack(gateways=N)), all on one database."""
        return [self.url(name) for name in self.ports if name.startswith("gateway")]

    @property
    def demo_url(self) -> str:
        return self.url("demo", "/")

    def log(self, name: str) -> str:
        return self.processes[name].log.read_text(errors="replace")

    def stop(self, name: str) -> None:
        self.processes[name].stop()

    def start(self, name: str) -> None:
        self.processes[name].start()
        self.processes[name].wait_ready()


def _secret(path: Path, value: str | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text((value or secrets.token_urlsafe(32)) + "\n")
    path.chmod(0o600)
    return path


NODE_OP_SOURCE = REPO / "services" / "ncp-gateway" / "tests" / "node_op"


def node_provider_dir(cache: Path = REPO / "var" / "cache" / "gateway-node-op") -> Path | None:
    """npm `oidc-provider` installed under `cache` (once), or None when Node.js or the npm registry is missing."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        return None
    cache.mkdir(parents=True, exist_ok=True)
    for name in ("package.json", "provider.mjs"):
        source = (NODE_OP_SOURCE / name).read_bytes()
        target = cache / name
        if not target.exists() or target.read_bytes() != source:
            target.write_bytes(source)
    if not (cache / "node_modules" / "oidc-provider").is_dir():
        result = subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--loglevel=error"], cwd=cache,
                                capture_output=True, timeout=300, check=False)
        if result.returncode != 0:
            return None
    return cache


def _describe(directory: Path, *, provider: Provider, node_dir: Path | None, gateways: int,
              demo_client: bool) -> tuple[Stack, dict[str, tuple[list[str], dict[str, str], str]]]:
    """Keys, tokens and config like deploy/dev/run.sh; the command, environment and probe of every process."""
    from emrex_cli.devpki import write_dev_pki

    gateway_names = ["gateway", *(f"gateway{n}" for n in range(2, gateways + 1))]
    names = ["signer", "sis", "registry", "oidc", *gateway_names, *(["demo"] if demo_client else [])]
    keys = write_dev_pki(directory / "keys")
    stack = Stack(directory, {name: free_port() for name in names}, keys.signing_cert)
    (directory / "data").mkdir(parents=True, exist_ok=True)
    callers = directory / "callers"
    subprocess.run([PYTHON, str(DEV_TOOLS / "make_tokens.py"), str(directory)], check=True)
    client_id = _secret(directory / "oidc-client-id", "ncp-gateway-e2e")
    client_secret = _secret(directory / "oidc-client-secret")
    session_secret, pseudonym_key = _secret(directory / "session-secret"), _secret(directory / "pseudonym-key")
    subprocess.run([PYTHON, str(DEV_TOOLS / "make_emreg.py"), "--url", stack.url("gateway", "/emrex"),
                    "--cert", str(keys.signing_cert), *(a for i in DEMO_INSTITUTIONS for a in ("--institution", i)),
                    "--out", str(directory / "emreg.json"), "--oauth-base", stack.url("gateway")], check=True)
    # EMREX 2.0: the demo client's own key and the client list the registry-cache mirrors, as make run does.
    clients = directory / "clients.json"
    emrex2_key = directory / "keys" / "emrex2.key"
    client_list: dict[str, str] = {}
    if demo_client:
        subprocess.run([PYTHON, str(DEV_TOOLS / "make_clients.py"), "--key", str(emrex2_key),
                        "--redirect-uri", stack.url("demo", "/emrex2/callback"), "--out", str(clients)], check=True)
        client_list = {"NCP_REGISTRY_CLIENTS_SOURCE": str(clients), "NCP_REGISTRY_CLIENTS_ALLOW_HTTP_LOOPBACK": "true"}
    data = directory / "data"
    callbacks = [stack.url(name, "/login/callback") for name in gateway_names]
    oidc = ([PYTHON, str(DEV_TOOLS / "oidc_provider.py"), "--port", str(stack.ports["oidc"]),
             "--client-id-file", str(client_id), "--client-secret-file", str(client_secret),
             *(arg for url in callbacks for arg in ("--redirect-uri", url))]
            if provider == "mock" else
            ["node", str((node_dir or NODE_OP_SOURCE) / "provider.mjs"), str(stack.ports["oidc"]),
             client_id.read_text().strip(), client_secret.read_text().strip(), callbacks[0]])
    specs: dict[str, tuple[list[str], dict[str, str], str]] = {
        "signer": ([PYTHON, "-m", "ncp_signer"], {
            "NCP_SIGNER_PORT": str(stack.ports["signer"]), "NCP_SIGNER_KEY_FILE": str(keys.signing_key),
            "NCP_SIGNER_CERT_FILE": str(keys.signing_cert), "NCP_SIGNER_CALLER_TOKENS_PATH": str(callers / "signer"),
        }, "/readyz"),
        "sis": ([PYTHON, "-m", "ncp_sis_adapter"], {
            "NCP_SIS_PORT": str(stack.ports["sis"]), "NCP_SIS_DATABASE_URL": f"sqlite+aiosqlite:///{data}/sis.db",
            "NCP_SIS_SEED_DEMO": "true", "NCP_SIS_CALLER_TOKENS_PATH": str(callers / "sis-adapter"),
        }, "/readyz"),
        "registry": ([PYTHON, "-m", "ncp_registry_cache"], {
            "NCP_REGISTRY_PORT": str(stack.ports["registry"]), "NCP_REGISTRY_SOURCE": str(directory / "emreg.json"),
            "NCP_REGISTRY_DATABASE_URL": f"sqlite+aiosqlite:///{data}/registry.db",
            "NCP_REGISTRY_CALLER_TOKENS_PATH": str(callers / "registry-cache"), "NCP_REGISTRY_RETRY_INTERVAL": "1",
            "NCP_REGISTRY_DEV_MODE": "true", **client_list,
        }, "/readyz"),
        "oidc": (oidc, {}, "/.well-known/openid-configuration"),
    }
    for name in gateway_names:
        specs[name] = ([PYTHON, "-m", "ncp_gateway"], {
            "NCP_GATEWAY_ENV": "dev", "NCP_GATEWAY_PORT": str(stack.ports[name]),
            "NCP_GATEWAY_OIDC_ISSUER": stack.url("oidc"),
            "NCP_GATEWAY_OIDC_CLIENT_ID": client_id.read_text().strip(),
            "NCP_GATEWAY_OIDC_CLIENT_SECRET_PATH": str(client_secret),
            "NCP_GATEWAY_SESSION_SECRET_PATH": str(session_secret),
            "NCP_GATEWAY_PSEUDONYM_KEY_PATH": str(pseudonym_key),
            "NCP_GATEWAY_DATABASE_PATH": str(data / "gateway.db"),
            "NCP_GATEWAY_ALLOW_HTTP_LOOPBACK": "true", "NCP_GATEWAY_COOKIE_SECURE": "false",
            "NCP_GATEWAY_SIGNER_URL": stack.url("signer"), "NCP_GATEWAY_REGISTRY_URL": stack.url("registry"),
            "NCP_GATEWAY_SIS_URL": stack.url("sis"),
            "NCP_GATEWAY_SIGNER_TOKEN_PATH": str(callers / "signer" / "gateway"),
            "NCP_GATEWAY_SIS_TOKEN_PATH": str(callers / "sis-adapter" / "gateway"),
            "NCP_GATEWAY_EMREX2_ENABLED": "true",
        }, "/readyz")
    if demo_client:
        specs["demo"] = ([PYTHON, "-m", "ncp_demo_client"], {
            "NCP_DEMO_PORT": str(stack.ports["demo"]), "NCP_DEMO_PUBLIC_URL": stack.url("demo"),
            "NCP_DEMO_GATEWAY_URL": stack.url("gateway", "/emrex"), "NCP_DEMO_REGISTRY_URL": stack.url("registry"),
            "NCP_DEMO_EMREX2_KEY_FILE": str(emrex2_key),
            "NCP_DEMO_EMREX2_AUTHORIZATION_URL": stack.url("gateway", "/oauth2/authorize"),
            "NCP_DEMO_EMREX2_TOKEN_URL": stack.url("gateway", "/oauth2/token"),
            "NCP_DEMO_EMREX2_RESOURCE_URL": stack.url("gateway", "/results"),
        }, "/readyz")
    return stack, specs


@contextmanager
def running_stack(directory: Path, *, gateway_env: dict[str, str] | None = None, provider: Provider = "mock",
                  node_dir: Path | None = None, gateways: int = 1, demo_client: bool = False,
                  service_env: dict[str, dict[str, str]] | None = None) -> Iterator[Stack]:
    """Every process started at once, then each waited for in dependency order (the gateway's readiness
    checks its callees). provider: "mock" (PyPI oidc-provider-mock, deploy/dev/oidc_provider.py) or "node"
    (npm oidc-provider, `node_dir` from node_provider_dir()).

    gateways: how many gateway processes (ports "gateway", "gateway2", ...); give them a shared database
    (NCP_GATEWAY_DATABASE_URL in gateway_env) when more than one. service_env: extra environment by
    process name ("sis", "signer", "demo", ...), e.g. a PostgreSQL database for the sis-adapter.
    """
    stack, specs = _describe(directory, provider=provider, node_dir=node_dir, gateways=gateways,
                             demo_client=demo_client)
    extra = {**(service_env or {})}
    for name in specs:
        if name.startswith("gateway"):
            extra[name] = {**(gateway_env or {}), **extra.get(name, {})}
    for name, (argv, env, probe) in specs.items():
        stack.processes[name] = Process(name, argv, _environment({**env, **extra.get(name, {})}),
                                        stack.url(name, probe), directory / "logs" / f"{name}.log")
    try:
        for process in stack.processes.values():
            process.start()
        for process in stack.processes.values():
            process.wait_ready()
        yield stack
    finally:
        for process in reversed(list(stack.processes.values())):
            process.stop()


# ---- a student's browser ----------------------------------------------------------------------

def hidden_fields(html: str, xpath: str) -> tuple[str, dict[str, list[str]]]:
    form = lxml.html.fromstring(html).xpath(xpath)[0]
    fields: dict[str, list[str]] = {}
    for element in form.xpath(".//input"):
        if element.get("type") == "checkbox" and element.get("checked") is None:
            continue
        if element.get("name"):
            fields.setdefault(element.get("name"), []).append(element.get("value") or "")
    return form.get("action") or "", fields


async def provider_login(provider: httpx.AsyncClient, authorization_url: str, sub: str, gateway: str) -> str:
    """Logs in at the provider as `sub` and returns the callback URL it sends the browser to.

    oidc-provider-mock: one form posting the subject. npm oidc-provider: its development login form (any
    name and password), then the consent form, with its interaction cookies held by `provider`.
    """
    response = await provider.get(authorization_url)
    for _ in range(12):
        if response.status_code in (301, 302, 303):
            location = urljoin(str(response.url), response.headers["location"])
            if location.startswith(gateway):
                return location
            response = await provider.get(location)
            continue
        assert response.status_code == 200, f"provider: {response.status_code} {response.text[:300]}"
        form = lxml.html.fromstring(response.text).xpath("//form")[0]
        data = {i.get("name"): i.get("value") or "" for i in form.xpath(".//input[@name]")}
        if "sub" in data:
            data["sub"] = sub
        if "login" in data:
            data.update(login=sub, password="any")  # noqa: S106 - the dev provider accepts any password
        response = await provider.post(urljoin(str(response.url), form.get("action") or ""), data=data)
    raise AssertionError("the provider never sent the browser back")


async def student_flow(browser: httpx.AsyncClient, provider: httpx.AsyncClient, gateway: str, return_url: str,
                       *, sub: str = "demo-learner-1", keys: list[str] | None = None, pick_first: int = 0,
                       session_id: str = "bench", provider_kind: str = "mock") -> tuple[str, dict[str, str]]:
    """entry -> login at the provider -> callback -> selection -> preview -> consent; the hand-off form."""
    entry = await browser.post(f"{gateway}/emrex", data={"sessionId": session_id, "returnUrl": return_url})
    assert entry.status_code == 303, entry.text
    login = await browser.get(urljoin(gateway + "/", entry.headers["location"]))
    assert login.status_code == 302, login.text
    if provider_kind == "mock":
        answer = await provider.post(login.headers["location"], data={"sub": sub})
        assert answer.status_code == 302, answer.text
        callback_url = answer.headers["location"]
    else:
        callback_url = await provider_login(provider, login.headers["location"], sub, gateway)
    callback = await browser.get(callback_url)
    if callback.status_code == 200 and 'id="emrex"' in callback.text:
        _, early = hidden_fields(callback.text, "//form[@id='emrex']")
        raise AssertionError(f"callback: {early['returnCode'][0]} {early['returnMessage'][0]}")
    assert callback.status_code == 303, f"callback: {callback.status_code} {callback.text[:600]}"
    page = await browser.get(f"{gateway}/select")
    _, fields = hidden_fields(page.text, "//form[@id='selection']")
    shown = fields.get("shown", [])
    chosen = (shown[:pick_first] if pick_first else shown) if keys is None else keys
    chosen_response = await browser.post(f"{gateway}/select", data={
        "csrf": fields["csrf"][0], "shown": fields.get("shown", []), "los": chosen, "action": "preview"})
    assert chosen_response.status_code == 303, f"choose: {chosen_response.status_code} {chosen_response.text[:300]}"
    preview = await browser.get(f"{gateway}/preview")
    assert preview.status_code == 200, f"preview: {preview.status_code} {preview.text[:300]}"
    _, consent = hidden_fields(preview.text, "//form[@action='/send']")
    sent = await browser.post(f"{gateway}/send", data={"csrf": consent["csrf"][0], "consent": "yes"})
    assert sent.status_code == 200, sent.text
    action, handoff = hidden_fields(sent.text, "//form[@id='emrex']")
    return action, {k: v[0] for k, v in handoff.items()}


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")
