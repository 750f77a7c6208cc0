import os
import uuid
from collections.abc import AsyncIterator

import pytest

PG_URL = os.environ.get("NCP_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.fixture
def pg_url() -> str:
    return PG_URL.replace("postgresql://", "postgresql+asyncpg://", 1)


@pytest.fixture
async def pg_schema() -> AsyncIterator[str]:
    """A fresh PostgreSQL schema for the test, dropped afterwards; skips when PostgreSQL is unreachable."""
    import asyncpg

    name = f"demo_test_{uuid.uuid4().hex[:12]}"
    try:
        conn = await asyncpg.connect(PG_URL, timeout=3)
    except (OSError, asyncpg.PostgresError) as exc:
        pytest.skip(f"PostgreSQL at {PG_URL} is unreachable: {exc}")
    await conn.close()
    yield name
    conn = await asyncpg.connect(PG_URL, timeout=3)
    try:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
    finally:
        await conn.close()
