import asyncio
import datetime as dt
import json
from collections.abc import AsyncIterator

import httpx
import pytest
from asgi_lifespan import LifespanManager
from ncp_demo_client.app import create_app
from ncp_demo_client.settings import Settings

from emrex_cli.devpki import IssuedKey
from emrex_elmo import (
    Attachment,
    Elmo,
    LearningOpportunitySpecification,
    LocalizedToken,
    to_xml,
    verify,
)
from ncp_testkit import asgi_client, course, institution, learner, make_elmo, sign_enveloped, signing_key

GATEWAY = "http://127.0.0.1:8000/emrex"


def _los(title: str, code: str, *, grade: str = "5", ects: str | None = "5", status: str | None = "passed",
         type_: str = "Course", parts: list[LearningOpportunitySpecification] | None = None
         ) -> LearningOpportunitySpecification:
    return course(title, *(parts or []), code=code, grade=grade, ects=ects, status=status,
                  kind=type_, lang="en", date=dt.date(2024, 6, 1))


def sample_elmo() -> Elmo:
    when = dt.datetime(2026, 1, 5, 12, 0, tzinfo=dt.UTC)
    helsinki = institution("helsinki.fi", "University of Helsinki", lang="en", country="FI",
                           url="https://www.helsinki.fi")
    aalto = institution("aalto.fi", "Aalto University", lang="en", country="FI", url="https://www.aalto.fi")
    degree = _los("Computer Science BSc", "CS-BSC", ects="180", grade="", type_="Degree Programme", parts=[
        _los("Algorithms", "CS101", ects="5"),
        _los("Databases", "CS102", ects="7.5", grade="4"),
        _los("Compilers", "CS103", ects="5", grade="0", status="failed"),
    ])
    return make_elmo(
        courses=[[degree], [_los("Design Thinking", "DES-1", ects="3", grade="pass")]],
        institutions=[helsinki, aalto], student=learner("Aino", "Virtanen"), generated=when,
        attachments=[Attachment(type="EMREX transcript", titles=[LocalizedToken(value="EMREX transcript", lang="en")],
                                contents=[LocalizedToken(value="data:application/pdf;base64,JVBERi0xLjQK")])],
    )


def sign(xml: bytes, key: IssuedKey) -> bytes:
    """Enveloped XMLDSig in the EMREX profile (C14N 1.0, RSA-SHA256), as the signer makes it."""
    return sign_enveloped(xml, key)


@pytest.fixture
def sample() -> Elmo:
    return sample_elmo()


@pytest.fixture(scope="session")
def node_key() -> IssuedKey:
    return signing_key(common_name="emrex-ncp.localhost")


@pytest.fixture
def signed_xml(node_key: IssuedKey) -> bytes:
    signed = sign(to_xml(sample_elmo()), node_key)
    verify(signed, [node_key.certificate])  # the fixture itself follows the profile
    return signed


@pytest.fixture
def settings() -> Settings:
    return Settings(gateway_url=GATEWAY, public_url="http://127.0.0.1:8020", registry_url="http://registry")


@pytest.fixture
async def registry_app(tmp_path, node_key: IssuedKey) -> AsyncIterator[object]:
    """The real registry-cache, in process, with an EMREG file that lists our node and its certificate."""
    from ncp_registry_cache import app as registry, settings as settings_module

    emreg = tmp_path / "emreg.json"
    emreg.write_text(json.dumps({
        "emps": [{"url": GATEWAY, "acronym": "DEV-NCP", "countryCode": "FI",
                  "institutions": ["helsinki.fi", "aalto.fi"], "pubKey": node_key.cert_pem().decode()}],
        "countries": [{"countryCode": "FI", "countryName": "Finland", "singleFetch": True}],
    }))
    app = registry.create_app(settings_module.Settings(
        env="test", dev_mode=True, source=str(emreg), database_url=f"sqlite+aiosqlite:///{tmp_path / 'registry.db'}",
    ))
    async with LifespanManager(app) as manager, httpx.AsyncClient(
        transport=httpx.ASGITransport(app=manager.app), base_url="http://registry"
    ) as http:
        # The refresher loads the file in the background; wait until the registry serves it.
        for _ in range(200):
            if (await http.get("/readyz")).status_code == 200:
                break
            await asyncio.sleep(0.05)
        else:
            pytest.fail("registry-cache did not become ready")
        yield manager.app


@pytest.fixture
async def client(settings: Settings, registry_app) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, registry_transport=httpx.ASGITransport(app=registry_app))
    async with asgi_client(app, "http://127.0.0.1:8020") as http:
        yield http


@pytest.fixture
async def offline_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The demo client with its registry-cache unreachable."""
    settings = settings.model_copy(update={"registry_url": "http://127.0.0.1:9", "http_timeout_seconds": 2.0})
    app = create_app(settings)
    async with asgi_client(app, "http://127.0.0.1:8020") as http:
        yield http
