"""The whole product on loopback as real processes (signer, sis-adapter, registry-cache, the development
OIDC provider, the gateway), plus a student's browser walk through the EMREX flow over HTTP.

Used by the gateway's e2e test and by the benchmarks (ncp_testkit.stack). Keys, tokens and secrets are made here.
"""

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpx
import lxml.html

REPO = Path(__file__).resolve().parents[4]
PYTHON = sys.executable


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Stack:
    directory: Path
    ports: dict[str, int]
    signer_cert: Path
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    @property
    def gateway(self) -> str:
        return self.url("gateway")

    @property
    def gateways(self) -> list[str]:
        """Every gateway process (more than one with running_stack(gateways=N)), all on one database."""
        return [self.url(name) for name in self.ports if name.startswith("gateway")]

    def log(self, name: str) -> str:
        return (self.directory / f"{name}.log").read_text(errors="replace")


def _write_secrets(directory: Path) -> dict[str, Path]:
    from emrex_cli.devpki import make_ca, make_signing_key

    directory.mkdir(parents=True, exist_ok=True)
    callers = directory / "callers"
    callers.mkdir(exist_ok=True)
    files: dict[str, Path] = {"callers": callers}
    for caller in ("gateway", "admin", "registry-cache", "demo-client"):
        (callers / caller).write_text(secrets.token_urlsafe(32) + "\n")
    for name in ("session-secret", "pseudonym-key", "oidc-client-secret"):
        files[name] = directory / name
        files[name].write_text(secrets.token_urlsafe(32) + "\n")
    files["oidc-client-id"] = directory / "oidc-client-id"
    files["oidc-client-id"].write_text("ncp-gateway-e2e\n")
    ca = make_ca(bits=2048)
    signing = make_signing_key(ca, "e2e-signer", bits=2048)
    files["signing.key"] = directory / "signing.key"
    files["signing.key"].write_bytes(signing.key_pem())
    files["signing.crt"] = directory / "signing.crt"
    files["signing.crt"].write_bytes(signing.cert_pem())
    files["emreg.json"] = directory / "emreg.json"
    return files


def _wait(url: str, process: subprocess.Popen[bytes], name: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with {process.returncode}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        threading.Event().wait(0.1)  # a sync helper run before the event loop starts
    raise RuntimeError(f"{name} not ready at {url} within {timeout}s")


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


@contextmanager
def running_stack(directory: Path, *, gateway_env: dict[str, str] | None = None, provider: str = "mock",
                  node_dir: Path | None = None, gateways: int = 1,
                  service_env: dict[str, dict[str, str]] | None = None) -> Iterator[Stack]:
    """provider: "mock" (PyPI oidc-provider-mock, deploy/dev/oidc_provider.py) or "node" (npm oidc-provider).

    gateways: how many gateway processes (ports "gateway", "gateway2", ...); give them a shared database
    (NCP_GATEWAY_DATABASE_URL in gateway_env) when more than one. service_env: extra environment by
    process name ("sis", "signer", ...), e.g. a PostgreSQL database for the sis-adapter.
    """
    files = _write_secrets(directory / "secrets")
    gateway_names = ["gateway", *(f"gateway{n}" for n in range(2, gateways + 1))]
    ports = {name: free_port() for name in ("signer", "sis", "registry", "oidc", *gateway_names)}
    stack = Stack(directory=directory, ports=ports, signer_cert=files["signing.crt"])
    gateway = f"http://127.0.0.1:{ports['gateway']}"
    files["emreg.json"].write_text(json.dumps({"emps": [{
        "url": f"{gateway}/emrex", "acronym": "E2E", "countryCode": "FI",
        "institutions": ["aurora.example.fi", "nordlys.example.se"],
        "pubKey": files["signing.crt"].read_text(),
    }], "countries": [{"countryCode": "FI", "countryName": "Finland", "singleFetch": False}]}))
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("NCP_")}
    token = str(files["callers"] / "gateway")
    commands: dict[str, tuple[list[str], dict[str, str], str]] = {
        "signer": ([PYTHON, "-m", "ncp_signer"], {
            "NCP_SIGNER_PORT": str(ports["signer"]), "NCP_SIGNER_KEY_FILE": str(files["signing.key"]),
            "NCP_SIGNER_CERT_FILE": str(files["signing.crt"]), "NCP_SIGNER_CALLER_TOKENS_PATH": str(files["callers"]),
        }, "/readyz"),
        "sis": ([PYTHON, "-m", "ncp_sis_adapter"], {
            "NCP_SIS_PORT": str(ports["sis"]), "NCP_SIS_DATABASE_URL": f"sqlite+aiosqlite:///{directory / 'sis.db'}",
            "NCP_SIS_SEED_DEMO": "true", "NCP_SIS_CALLER_TOKENS_PATH": str(files["callers"]),
        }, "/readyz"),
        "registry": ([PYTHON, "-m", "ncp_registry_cache"], {
            "NCP_REGISTRY_PORT": str(ports["registry"]), "NCP_REGISTRY_SOURCE": str(files["emreg.json"]),
            "NCP_REGISTRY_DATABASE_URL": f"sqlite+aiosqlite:///{directory / 'registry.db'}",
            "NCP_REGISTRY_CALLER_TOKENS_PATH": str(files["callers"]), "NCP_REGISTRY_DEV_MODE": "true",
        }, "/readyz"),
        "oidc": (([PYTHON, str(REPO / "deploy" / "dev" / "oidc_provider.py"), "--port", str(ports["oidc"]),
                   "--client-id-file", str(files["oidc-client-id"]),
                   "--client-secret-file", str(files["oidc-client-secret"]),
                   *(arg for name in gateway_names
                     for arg in ("--redirect-uri", f"http://127.0.0.1:{ports[name]}/login/callback"))]
                  if provider == "mock" else
                  ["node", str((node_dir or NODE_OP_SOURCE) / "provider.mjs"), str(ports["oidc"]),
                   files["oidc-client-id"].read_text().strip(), files["oidc-client-secret"].read_text().strip(),
                   f"{gateway}/login/callback"]), {}, "/.well-known/openid-configuration"),
    }
    for name in gateway_names:
        commands[name] = ([PYTHON, "-m", "ncp_gateway"], {
            "NCP_GATEWAY_ENV": "dev", "NCP_GATEWAY_PORT": str(ports[name]), "NCP_GATEWAY_LOG_LEVEL": "WARNING",
            "NCP_GATEWAY_OIDC_ISSUER": f"http://127.0.0.1:{ports['oidc']}",
            "NCP_GATEWAY_OIDC_CLIENT_ID": files["oidc-client-id"].read_text().strip(),
            "NCP_GATEWAY_OIDC_CLIENT_SECRET_PATH": str(files["oidc-client-secret"]),
            "NCP_GATEWAY_SESSION_SECRET_PATH": str(files["session-secret"]),
            "NCP_GATEWAY_PSEUDONYM_KEY_PATH": str(files["pseudonym-key"]),
            "NCP_GATEWAY_DATABASE_PATH": str(directory / "gateway.db"),
            "NCP_GATEWAY_ALLOW_HTTP_LOOPBACK": "true", "NCP_GATEWAY_COOKIE_SECURE": "false",
            "NCP_GATEWAY_SIGNER_URL": f"http://127.0.0.1:{ports['signer']}",
            "NCP_GATEWAY_REGISTRY_URL": f"http://127.0.0.1:{ports['registry']}",
            "NCP_GATEWAY_SIS_URL": f"http://127.0.0.1:{ports['sis']}",
            "NCP_GATEWAY_SIGNER_TOKEN_PATH": token,
            "NCP_GATEWAY_SIS_TOKEN_PATH": token, **(gateway_env or {}),
        }, "/readyz")
    try:
        for name, (argv, env, probe) in commands.items():
            log = (directory / f"{name}.log").open("wb")
            extra = (service_env or {}).get(name, {})
            stack.processes[name] = subprocess.Popen(argv, env={**base_env, **env, **extra}, stdout=log,
                                                     stderr=subprocess.STDOUT, cwd=directory)
            log.close()
            _wait(stack.url(name) + probe, stack.processes[name], name)
        yield stack
    finally:
        for process in reversed(list(stack.processes.values())):
            process.terminate()
        for process in stack.processes.values():
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()


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
