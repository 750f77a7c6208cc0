"""Fixtures: a real OIDC provider on loopback (oidc-provider-mock), the real signer, sis-adapter and
registry-cache apps in-process, keys and secrets made at test time, and a `Browser` that walks the flow."""

import asyncio
import datetime as dt
import json
import os
import secrets
import shutil
import threading
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import lxml.html
import pytest
import werkzeug.serving
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from emrex_cli.devpki import IssuedKey, make_ca, make_signing_key
from ncp_gateway.adapters.store import make_engine
from ncp_gateway.app import create_app
from ncp_gateway.settings import Settings
from ncp_testkit.server import silent_server

HERE = Path(__file__).resolve().parent
SHARED = Path(os.environ.get("NCP_SHARED_DIR") or HERE.parents[3] / "shared")
RETURN_URL = "https://emc.example.fi/emrex/return?tab=1"
RETURN_ORIGIN = "https://emc.example.fi"
GATEWAY_URL = "https://gateway.example.eu"
PG_URL = os.environ.get("NCP_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")


# ---- the real OIDC provider ------------------------------------------------------------------

@pytest.fixture(scope="session")
def oidc_issuer() -> Iterator[str]:
    """oidc-provider-mock (Flask) on 127.0.0.1 in a thread; its issuer is its own base URL."""
    import oidc_provider_mock

    app = oidc_provider_mock.app(require_nonce=True, user_claims=[
        oidc_provider_mock.User(sub="demo-learner-1", claims={
            "given_name": "Aino Maria", "family_name": "Virtanen", "birthdate": "2001-03-14"}),
        oidc_provider_mock.User(sub="demo-learner-empty", claims={"given_name": "Nobody"}),
    ])
    server = werkzeug.serving.make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(5)


# ---- a hand-made provider for the negative ID-token cases ------------------------------------

@dataclass
class HandmadeOp:
    """Discovery, JWKS and a token endpoint answering ID tokens the test shapes claim by claim."""

    issuer: str = "https://op.example.test"
    client_id: str = "ncp-gateway"
    key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, parameters={"kid": "k1"}))
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    token_requests: list[dict[str, str]] = field(default_factory=list)
    discovery_issuer: str | None = None  # what discovery claims, when it should differ from `issuer`

    def id_token(self, request_nonce: str, /, *, key: RSAKey | None = None, **overrides: Any) -> str:
        now = int(dt.datetime.now(dt.UTC).timestamp())
        claims: dict[str, Any] = {"iss": self.issuer, "aud": self.client_id, "sub": "demo-learner-1",
                                  "iat": now, "exp": now + 300, "nonce": request_nonce}
        for name, value in overrides.items():
            if value is None:
                claims.pop(name, None)
            else:
                claims[name] = value
        signing_key = key or self.key
        return jwt.encode({"alg": "RS256", "kid": signing_key.kid}, claims, signing_key)

    def app(self) -> Starlette:
        async def discovery(_: Request) -> JSONResponse:
            return JSONResponse({
                "issuer": self.discovery_issuer or self.issuer, "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token", "jwks_uri": f"{self.issuer}/jwks",
                "response_types_supported": ["code"], "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
            })

        async def jwks(_: Request) -> JSONResponse:
            return JSONResponse(KeySet([self.key]).as_dict(private=False))

        async def token(request: Request) -> JSONResponse:
            form = dict(await request.form())
            self.token_requests.append({k: str(v) for k, v in form.items()})
            id_token = self.codes.pop(str(form.get("code")), None)
            if id_token is None:
                return JSONResponse({"error": "invalid_grant"}, status_code=400)
            return JSONResponse({"access_token": "at", "token_type": "Bearer", "expires_in": 60, **id_token})

        return Starlette(routes=[
            Route("/.well-known/openid-configuration", discovery), Route("/jwks", jwks),
            Route("/token", token, methods=["POST"]),
        ])


@pytest.fixture
def handmade_op() -> HandmadeOp:
    return HandmadeOp()


# ---- keys, tokens, upstream services ---------------------------------------------------------

@pytest.fixture(scope="session")
def pki() -> tuple[IssuedKey, IssuedKey]:
    ca = make_ca(bits=2048)
    return ca, make_signing_key(ca, "gateway-test-signer", bits=2048)


@dataclass
class Secrets:
    directory: Path
    gateway_token: Path
    callers: Path
    # The sis-adapter's own table and the gateway's token for it: one token per callee (the gateway refuses one
    # token for two).
    sis_token: Path
    sis_callers: Path
    session_secret: Path
    pseudonym_key: Path
    client_secret: Path
    signing_key: Path
    signing_cert: Path


@pytest.fixture
def secret_files(tmp_path: Path, pki: tuple[IssuedKey, IssuedKey]) -> Secrets:
    directory = tmp_path / "secrets"
    callers = directory / "callers"
    callers.mkdir(parents=True)
    token = secrets.token_urlsafe(32)
    (callers / "gateway").write_text(token + "\n")
    (callers / "admin").write_text(secrets.token_urlsafe(32) + "\n")
    files = {}
    for name in ("gateway_token", "session_secret", "pseudonym_key", "client_secret"):
        files[name] = directory / name
        files[name].write_text((token if name == "gateway_token" else secrets.token_urlsafe(32)) + "\n")
    sis_callers = directory / "sis-callers"
    sis_callers.mkdir()
    files["sis_token"] = directory / "sis_token"
    sis_token = secrets.token_urlsafe(32)
    for path in (sis_callers / "gateway", files["sis_token"]):
        path.write_text(sis_token + "\n")
    _ca, signing = pki
    key_path, cert_path = directory / "signing.key", directory / "signing.crt"
    key_path.write_bytes(signing.key_pem())
    cert_path.write_bytes(signing.cert_pem())
    return Secrets(directory=directory, callers=callers, sis_callers=sis_callers, signing_key=key_path,
                   signing_cert=cert_path, **files)


class FailingTransport(httpx.AsyncBaseTransport):
    """An upstream that is down: every request fails to connect."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)


def emreg_document(pki: tuple[IssuedKey, IssuedKey]) -> dict[str, Any]:
    # EMREG knows the receiver host (an EMC that is also an EMP), so consent can name it.
    return {"emps": [{
        "url": "https://emc.example.fi/emrex", "acronym": "AURORA-EMC", "countryCode": "FI",
        "institutions": ["Aurora University"], "pubKey": pki[1].cert_pem().decode(),
    }], "countries": [{"countryCode": "FI", "countryName": "Finland", "singleFetch": False}]}


@pytest.fixture(scope="session")
def seeded_sis_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sis-adapter's demo database, migrated and seeded once; each test gets a copy (seeding takes ~1.5 s)."""

    from ncp_sis_adapter.app import create_app as sis_app
    from ncp_sis_adapter.settings import Settings as SisSettings

    directory = tmp_path_factory.mktemp("sis-seed")
    (directory / "callers").mkdir()
    (directory / "callers" / "gateway").write_text(secrets.token_urlsafe(32) + "\n")
    database = directory / "sis.db"

    async def seed() -> None:
        app = sis_app(SisSettings(database_url=f"sqlite+aiosqlite:///{database}",
                                  caller_tokens_path=directory / "callers", seed_demo=True))
        async with LifespanManager(app, startup_timeout=120):
            pass

    asyncio.run(seed())
    return database


@asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[httpx.ASGITransport]:
    async with LifespanManager(app, startup_timeout=60) as manager:
        yield httpx.ASGITransport(app=manager.app)


@pytest.fixture
async def upstreams(tmp_path: Path, secret_files: Secrets, pki: tuple[IssuedKey, IssuedKey],
                    seeded_sis_db: Path) -> AsyncIterator[dict[str, httpx.AsyncBaseTransport]]:
    """The real signer, sis-adapter (demo data) and registry-cache, in-process over ASGI."""
    from ncp_demo_sis import DEMO_TENANTS
    from ncp_registry_cache.app import create_app as registry_app
    from ncp_registry_cache.settings import Settings as RegistrySettings
    from ncp_signer import Settings as SignerSettings, create_app as signer_app
    from ncp_sis_adapter.app import create_app as sis_app
    from ncp_sis_adapter.settings import Settings as SisSettings

    emreg = tmp_path / "emreg.json"
    emreg.write_text(json.dumps(emreg_document(pki)))
    shutil.copy(seeded_sis_db, tmp_path / "sis.db")
    async with AsyncExitStack() as stack:
        signer = await stack.enter_async_context(running(signer_app(SignerSettings(
            key_file=secret_files.signing_key, cert_file=secret_files.signing_cert,
            caller_tokens_path=secret_files.callers))))
        sis = await stack.enter_async_context(running(sis_app(SisSettings(
            database_url=f"sqlite+aiosqlite:///{tmp_path / 'sis.db'}", caller_tokens_path=secret_files.sis_callers,
            seed_demo=False, tenants_path=DEMO_TENANTS))))
        registry = await stack.enter_async_context(running(registry_app(RegistrySettings(
            env="test", dev_mode=True, source=str(emreg),
            database_url=f"sqlite+aiosqlite:///{tmp_path / 'registry.db'}",
            caller_tokens_path=secret_files.callers))))
        yield {"signer": signer, "sis": sis, "registry": registry}


@pytest.fixture
def gateway_settings(tmp_path: Path, secret_files: Secrets, oidc_issuer: str) -> Settings:
    return Settings(
        env="test", database_path=tmp_path / "gateway.db", oidc_issuer=oidc_issuer,
        oidc_client_secret_path=secret_files.client_secret, session_secret_path=secret_files.session_secret,
        pseudonym_key_path=secret_files.pseudonym_key, signer_token_path=secret_files.gateway_token,
        registry_token_path=secret_files.gateway_token, sis_token_path=secret_files.sis_token,
        signer_url="http://signer", sis_url="http://sis", registry_url="http://registry",
    )


# ---- the student's browser -------------------------------------------------------------------

@dataclass
class Handoff:
    action: str
    fields: dict[str, str]
    response: httpx.Response


def form_fields(html: str, selector: str = "form") -> dict[str, list[str]]:
    form = lxml.html.fromstring(html).xpath(selector)[0]
    values: dict[str, list[str]] = {}
    for element in form.xpath(".//input"):
        name = element.get("name")
        if not name:
            continue
        if element.get("type") == "checkbox" and element.get("checked") is None:
            continue
        values.setdefault(name, []).append(element.get("value") or "")
    return values


class Browser:
    def __init__(self, http: httpx.AsyncClient, *, op: HandmadeOp | None = None) -> None:
        self.http = http
        self.op = op
        self.authorization_url: str | None = None

    async def enter(self, method: str = "POST", **params: str) -> httpx.Response:
        params = {"sessionId": "emc-session-1", "returnUrl": RETURN_URL, **params}
        if method == "GET":
            return await self.http.get("/emrex", params=params)
        return await self.http.post("/emrex", data=params)

    async def start_login(self, **params: str) -> httpx.Response:
        entry = await self.enter(**params)
        assert entry.status_code == 303, entry.text
        response = await self.http.get(entry.headers["location"])
        assert response.status_code == 302, response.text
        self.authorization_url = response.headers["location"]
        return response

    def auth_params(self) -> dict[str, str]:
        assert self.authorization_url
        return {k: v[0] for k, v in parse_qs(urlsplit(self.authorization_url).query).items()}

    async def provider_login(self, sub: str) -> str:
        """Logs in at the real provider (its form: one subject field) and returns the callback URL."""
        assert self.authorization_url
        async with httpx.AsyncClient(timeout=10) as op:
            answer = await op.post(self.authorization_url, data={"sub": sub})
        assert answer.status_code == 302, answer.text
        return answer.headers["location"]

    async def callback(self, url: str) -> httpx.Response:
        parts = urlsplit(url)
        return await self.http.get(f"{parts.path}?{parts.query}")

    async def login(self, sub: str = "demo-learner-1", **params: str) -> httpx.Response:
        await self.start_login(**params)
        return await self.callback(await self.provider_login(sub))

    async def selection(self, **query: str) -> httpx.Response:
        response = await self.http.get("/select", params=query)
        assert response.status_code == 200, response.text
        return response

    async def submit(self, keys: list[str] | None = None, action: str = "preview",
                     page: httpx.Response | None = None, **extra: str) -> httpx.Response:
        page = page or await self.selection()
        fields = form_fields(page.text, "//form[@id='selection']")
        chosen = fields.get("los", []) if keys is None else keys
        data: dict[str, Any] = {"csrf": fields["csrf"][0], "shown": fields.get("shown", []), "los": chosen,
                                "action": action, **extra}
        return await self.http.post("/select", data=data)

    async def csrf(self, path: str = "/select") -> str:
        page = await self.http.get(path)
        return form_fields(page.text, "//form")["csrf"][0]

    async def send(self, consent: bool = True) -> httpx.Response:
        page = await self.http.get("/preview")
        assert page.status_code == 200, page.text
        data = {"csrf": form_fields(page.text, "//form[@action='/send']")["csrf"][0]}
        if consent:
            data["consent"] = "yes"
        return await self.http.post("/send", data=data)

    async def cancel(self, path: str = "/select") -> httpx.Response:
        return await self.http.post("/cancel", data={"csrf": await self.csrf(path)})


def handoff_of(response: httpx.Response) -> Handoff:
    assert response.status_code == 200, response.text
    doc = lxml.html.fromstring(response.text)
    form = doc.xpath("//form[@id='emrex']")[0]
    assert form.get("method").lower() == "post"
    fields = {el.get("name"): el.get("value") or "" for el in form.xpath(".//input[@type='hidden']")}
    return Handoff(action=form.get("action"), fields=fields, response=response)


GatewayFactory = Callable[..., Any]


class MovableClock:
    """The gateway's clock in tests: starts at the real time and moves only when told (expiry without sleeping)."""

    def __init__(self) -> None:
        self.at = dt.datetime.now(dt.UTC)

    def now(self) -> dt.datetime:
        return self.at

    def advance(self, by: dt.timedelta) -> None:
        self.at += by


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock()


def browser_factory(upstreams: dict[str, httpx.AsyncBaseTransport], gateway_settings: Settings,
                    clock: MovableClock | None = None):

    @asynccontextmanager
    async def make(transports: dict[str, httpx.AsyncBaseTransport] | None = None, op: HandmadeOp | None = None,
                   settings: Settings | None = None, raise_app_exceptions: bool = True,
                   **overrides: Any) -> AsyncIterator[Browser]:
        merged = {**upstreams, **(transports or {})}
        if op is not None:
            merged["oidc"] = httpx.ASGITransport(app=op.app())
            overrides.setdefault("oidc_issuer", op.issuer)
        base = settings or gateway_settings
        app = create_app(base.model_copy(update=overrides), transports=merged, clock=clock)
        async with LifespanManager(app) as manager, httpx.AsyncClient(
            transport=httpx.ASGITransport(app=manager.app, raise_app_exceptions=raise_app_exceptions),
            base_url=GATEWAY_URL, timeout=30,
        ) as http:
            yield Browser(http, op=op)

    return make


@pytest.fixture
def make_browser(upstreams: dict[str, httpx.AsyncBaseTransport], gateway_settings: Settings, clock: MovableClock):
    """`async with make_browser(**setting_overrides, transports=..., op=...) as browser:` on the test's clock."""
    return browser_factory(upstreams, gateway_settings, clock)


@pytest.fixture
async def offline_browser(gateway_settings: Settings) -> AsyncIterator[Browser]:
    """A gateway whose upstreams are all down: enough for entry checks, and fast."""
    down = {name: FailingTransport() for name in ("signer", "sis", "registry")}
    async with browser_factory(down, gateway_settings)() as b:
        yield b


@pytest.fixture
async def browser(make_browser) -> AsyncIterator[Browser]:
    async with make_browser() as b:
        yield b


def unique_schema() -> str:
    return f"gw_test_{uuid.uuid4().hex[:12]}"


class Kit:
    """Test helpers as a fixture (conftest modules cannot be imported with --import-mode=importlib)."""

    RETURN_URL = RETURN_URL
    RETURN_ORIGIN = RETURN_ORIGIN
    GATEWAY_URL = GATEWAY_URL
    SHARED = SHARED
    PG_URL = PG_URL
    handoff_of = staticmethod(handoff_of)
    form_fields = staticmethod(form_fields)
    unique_schema = staticmethod(unique_schema)
    FailingTransport = FailingTransport
    running = staticmethod(running)


@pytest.fixture
def kit() -> type[Kit]:
    return Kit


@pytest.fixture
async def silent_port() -> AsyncIterator[int]:
    """A real socket that accepts the request and never answers."""
    async with silent_server() as port:
        yield port


# ---- a PostgreSQL schema of its own ---------------------------------------------------------------

@dataclass
class PgSchema:
    schema: str
    url: str  # for SQLAlchemy (asyncpg driver)
    conn: Any  # an asyncpg connection, for looking (or tampering) behind the code's back
    made: list[AsyncEngine] = field(default_factory=list)

    def engines(self, count: int) -> list[AsyncEngine]:
        """`count` engines on the schema, each with its own pool (replicas); disposed before the schema is dropped."""
        engines = [make_engine(self.url, self.schema) for _ in range(count)]
        self.made.extend(engines)
        return engines


@pytest.fixture
async def pg() -> AsyncIterator[PgSchema]:
    """A schema of its own on the test PostgreSQL, dropped afterwards (skips when the server is unreachable)."""
    import asyncpg

    try:
        conn = await asyncpg.connect(PG_URL, timeout=3)
    except (OSError, asyncpg.PostgresError) as exc:
        pytest.skip(f"PostgreSQL at {PG_URL} is unreachable: {exc}")
    db = PgSchema(unique_schema(), PG_URL.replace("postgresql://", "postgresql+asyncpg://", 1), conn)
    try:
        yield db
    finally:
        for engine in db.made:
            await engine.dispose()
        await conn.execute(f'DROP SCHEMA IF EXISTS "{db.schema}" CASCADE')
        await conn.close()
