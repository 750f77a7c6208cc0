import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from ncp_contracts import BearerAuth
from ncp_contracts.sis import SisClient
from ncp_sis_adapter.app import create_app
from ncp_sis_adapter.settings import Settings
from ncp_testkit import write_caller_tokens

PG_URL = os.environ.get("NCP_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.fixture
def tokens(tmp_path: Path) -> dict[str, str]:
    return write_caller_tokens(tmp_path / "tokens", "gateway", "demo-client")


@pytest.fixture
def settings(tmp_path: Path, tokens: dict[str, str]) -> Settings:
    return Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'sis.db'}",
        caller_tokens_path=tmp_path / "tokens",
        seed_demo=True,
        log_level="INFO",
    )


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    async with LifespanManager(application) as manager:
        yield manager.app  # type: ignore[misc]


@pytest.fixture
async def http(app: FastAPI, tokens: dict[str, str]) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://sis", auth=BearerAuth(tokens["gateway"])
    ) as client:
        yield client


@pytest.fixture
def sis(http: httpx.AsyncClient) -> SisClient:
    return SisClient(http)


def pg_async_url() -> str:
    return PG_URL.replace("postgresql://", "postgresql+asyncpg://", 1)


class PgSchema:
    """A fresh PostgreSQL schema per test, dropped afterwards, so parallel runs never collide."""

    def __init__(self) -> None:
        self.name = f"sis_test_{uuid.uuid4().hex[:12]}"

    async def __aenter__(self) -> str:
        import asyncpg

        try:
            conn = await asyncpg.connect(PG_URL, timeout=3)
        except (OSError, asyncpg.PostgresError) as exc:
            pytest.skip(f"PostgreSQL at {PG_URL} is unreachable: {exc}")
        await conn.close()
        return self.name

    async def __aexit__(self, *_: object) -> None:
        import asyncpg

        conn = await asyncpg.connect(PG_URL, timeout=3)
        try:
            await conn.execute(f'DROP SCHEMA IF EXISTS "{self.name}" CASCADE')
        finally:
            await conn.close()


@pytest.fixture
async def pg_schema() -> AsyncIterator[str]:
    async with PgSchema() as schema:
        yield schema


@pytest.fixture
def make_pg_schema() -> type[PgSchema]:
    return PgSchema


@pytest.fixture
def pg_url() -> str:
    return pg_async_url()
