"""Engine creation and Alembic migrations (SQLite via aiosqlite, PostgreSQL via asyncpg)."""

import re
from importlib import resources
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from ncp_runtime.sqlite import begin_immediate

_SCHEMA = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
# Any constant will do; it only has to be the same for every replica.
_MIGRATION_LOCK = 0x4E4350_5245_47  # "NCPREG"


def is_postgres(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "postgresql"


def create_engine(url: str, schema: str | None = None) -> AsyncEngine:
    parsed = make_url(url)
    connect_args: dict[str, Any] = {}
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        connect_args["timeout"] = 30
    elif schema is not None:
        if not _SCHEMA.fullmatch(schema):
            raise ValueError(f"database schema {schema!r} is not a plain identifier")
        connect_args["server_settings"] = {"search_path": schema}
    engine = create_async_engine(url, connect_args=connect_args, pool_pre_ping=True)
    # Every transaction takes the write lock first on SQLite: the lease and the refresh read, then write.
    begin_immediate(engine.sync_engine)
    return engine


def _alembic_config(connection: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(resources.files("ncp_registry_cache").joinpath("alembic")))
    config.attributes["connection"] = connection
    return config


async def migrate(engine: AsyncEngine, schema: str | None = None) -> None:
    """Upgrade to head; replicas starting together on PostgreSQL take turns on an advisory lock."""
    async with engine.begin() as conn:
        if is_postgres(engine):
            await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
            if schema is not None:
                await conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
        await conn.run_sync(lambda sync: command.upgrade(_alembic_config(sync), "head"))
