"""Fixtures: generated PKI, a misbehaving EMREG server on loopback, settings -> app -> client."""

import hashlib
import json
import secrets
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import anyio
import httpx
import pytest
from fastapi import FastAPI

from emrex_cli.devpki import IssuedKey
from ncp_registry_cache.app import create_app
from ncp_registry_cache.settings import Settings
from ncp_testkit import asgi_client, bearer, dev_ca, reference_dir, serve_on_loopback, signing_key, write_caller_tokens

SHARED = reference_dir()


@pytest.fixture(scope="session")
def shared() -> Path:
    if not SHARED.is_dir():
        pytest.skip(f"shared reference data not found at {SHARED}")
    return SHARED


@dataclass(frozen=True)
class Pki:
    ca: IssuedKey
    nodes: dict[str, IssuedKey]


@pytest.fixture(scope="session")
def pki() -> Pki:
    ca = dev_ca()
    return Pki(ca, {name: signing_key(ca, f"{name.lower()}.example")
                    for name in ("CSC", "UNISI", "UNIVR", "FSAT", "OTHER")})


def emp(acronym: str, url: str, country: str, key: IssuedKey | str, *institutions: str) -> dict[str, Any]:
    pem = key if isinstance(key, str) else key.cert_pem().decode()
    return {"acronym": acronym, "countryCode": country, "institutions": list(institutions) or [acronym],
            "url": url, "pubKey": pem}


def registry_doc(pki: Pki, *, key: str = "emps", extra: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Real-shaped EMREG JSON (the reference file's nodes, with generated certificates)."""
    emps = [
        emp("CSC", "https://emp.csc.example.fi/ncp_entry", "FI", pki.nodes["CSC"],
            "Aalto-yliopisto", "Arcada", "Helsingin yliopisto"),
        emp("FSAT", "https://fsweb.example.no/ncp/", "NO", pki.nodes["FSAT"], "Universitetet i Oslo", "NTNU"),
        emp("UNIVR", "https://www.univr.example.it/ncp/", "IT", pki.nodes["UNIVR"], "University of Verona"),
        emp("UNISI", "https://www.unisi.example.it/ncp/", "IT", pki.nodes["UNISI"], "University of Siena"),
        *(extra or []),
    ]
    return {
        "countries": [
            {"countryCode": "FI", "countryName": "Finland", "singleFetch": False},
            {"countryCode": "NO", "countryName": "Norway", "singleFetch": False},
            {"countryCode": "IT", "countryName": "Italy", "singleFetch": True},
        ],
        key: emps,
    }


def dumps(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, indent=2).encode()


@dataclass
class Upstream:
    """An EMREG server whose behaviour the test sets: ok, 500, slow, truncated, short, ..."""

    url: str = ""
    body: bytes = b""
    mode: str = "ok"
    slow_seconds: float = 5.0
    content_type: str = "application/json"
    requests: list[dict[str, str]] = field(default_factory=list)

    @property
    def etag(self) -> str:
        return '"' + hashlib.sha256(self.body).hexdigest()[:20] + '"'

    def set(self, doc: dict[str, Any] | bytes, mode: str = "ok") -> None:
        self.body = doc if isinstance(doc, bytes) else dumps(doc)
        self.mode = mode


def _upstream_app(state: Upstream) -> Any:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                else:
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        state.requests.append(headers)
        mode, body = state.mode, state.body
        status, out_headers = 200, [(b"content-type", state.content_type.encode()), (b"etag", state.etag.encode()),
                                    (b"last-modified", b"Wed, 25 Nov 2026 10:00:00 GMT")]
        if mode == "500":
            status, body, out_headers = 500, b"<html>Internal Server Error</html>", [(b"content-type", b"text/html")]
        elif mode == "slow":
            await anyio.sleep(state.slow_seconds)
        elif mode == "truncated":
            body = body[: len(body) // 2]
        elif mode == "lastmod-only":  # no ETag; answers If-Modified-Since
            out_headers = [h for h in out_headers if h[0] != b"etag"]
            if headers.get("if-modified-since") == "Wed, 25 Nov 2026 10:00:00 GMT":
                await send({"type": "http.response.start", "status": 304, "headers": out_headers})
                await send({"type": "http.response.body", "body": b""})
                return
        elif mode not in ("ignore-conditional", "short") and headers.get("if-none-match") == state.etag:
            await send({"type": "http.response.start", "status": 304, "headers": out_headers})
            await send({"type": "http.response.body", "body": b""})
            return
        if mode == "short":  # declares more bytes than it sends, then closes
            out_headers.append((b"content-length", str(len(body)).encode()))
            await send({"type": "http.response.start", "status": 200, "headers": out_headers})
            await send({"type": "http.response.body", "body": body[: len(body) // 2], "more_body": True})
            raise ConnectionAbortedError("test server hangs up mid-body")
        await send({"type": "http.response.start", "status": status, "headers": out_headers})
        await send({"type": "http.response.body", "body": body})

    return app


@pytest.fixture
def upstream(pki: Pki) -> Iterator[Upstream]:
    state = Upstream()
    state.set(registry_doc(pki))
    with serve_on_loopback(_upstream_app(state), lifespan="on") as base_url:
        state.url = f"{base_url}/emp-list.json"
        yield state


@pytest.fixture
def admin_token(tmp_path: Path) -> str:
    return secrets.token_urlsafe(24)


@pytest.fixture
def tokens_dir(tmp_path: Path, admin_token: str) -> Path:
    write_caller_tokens(tmp_path / "tokens", "gateway", admin=admin_token)
    return tmp_path / "tokens"


@pytest.fixture
def settings(tmp_path: Path, upstream: Upstream, tokens_dir: Path) -> Settings:
    return make_settings(tmp_path, upstream.url, tokens_dir)


def make_settings(tmp_path: Path, source: str, tokens_dir: Path | None, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "env": "test", "dev_mode": True, "source": source,
        "database_url": f"sqlite+aiosqlite:///{tmp_path / 'data' / 'registry.db'}",
        "caller_tokens_path": tokens_dir, "run_refresher": False, "refresh_interval": 3600,
        "fetch_timeout": 1.0, "log_level": "WARNING",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


class Running:
    def __init__(self, app: FastAPI, client: httpx.AsyncClient, admin: dict[str, str]) -> None:
        self.app = app
        self.client = client
        self.admin = admin

    async def refresh(self) -> httpx.Response:
        return await self.client.post("/v1/refresh", headers=self.admin)


async def start(settings: Settings, admin_token: str) -> AsyncIterator[Running]:
    app = create_app(settings)
    async with asgi_client(app, "http://registry-cache", startup_timeout=30) as client:
        yield Running(app, client, bearer(admin_token))


@pytest.fixture
async def service(settings: Settings, admin_token: str) -> AsyncIterator[Running]:
    async for running in start(settings, admin_token):
        yield running


@pytest.fixture(scope="session")
def kit() -> SimpleNamespace:
    """Helpers for test modules (conftest is not importable under --import-mode=importlib)."""
    return SimpleNamespace(emp=emp, registry_doc=registry_doc, dumps=dumps, make_settings=make_settings,
                           start=start, Upstream=Upstream, upstream_app=_upstream_app)
