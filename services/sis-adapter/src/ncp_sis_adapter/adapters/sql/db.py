"""The service database: an async engine (aiosqlite or asyncpg), Alembic migrations, a readiness ping."""

from importlib import resources
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from ncp_runtime.sqlite import READS, begin_immediate


def make_engine(url: str, *, schema: str | None = None, pool_size: int = 10) -> AsyncEngine:
    """An engine for `sqlite+aiosqlite://` or `postgresql+asyncpg://` URLs; `schema` sets the search path."""
    parsed = make_url(url)
    kwargs: dict[str, Any] = {}
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"timeout": 30}
    elif parsed.get_backend_name() == "postgresql":
        if parsed.get_driver_name() != "asyncpg":
            raise ValueError("PostgreSQL needs the asyncpg driver: postgresql+asyncpg://...")
        kwargs.update(pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)
        if schema:
            kwargs["connect_args"] = {"server_settings": {"search_path": schema}}
    else:
        raise ValueError(f"unsupported database {parsed.get_backend_name()!r}: use SQLite or PostgreSQL")
    engine = create_async_engine(parsed, **kwargs)
    begin_immediate(engine.sync_engine)  # writers (seeding, replicas migrating together) take turns on SQLite
    return engine


def alembic_config() -> Config:
    """The migrations in the package (`ncp_sis_adapter/alembic`, as in every service): no alembic.ini."""
    config = Config()
    config.set_main_option("script_location", str(resources.files("ncp_sis_adapter").joinpath("alembic")))
    return config


async def migrate(engine: AsyncEngine, *, schema: str | None = None) -> None:
    """Bring the schema to the newest Alembic revision (creating the PostgreSQL schema if asked)."""
    if schema and engine.dialect.name == "postgresql":
        async with engine.begin() as conn:
            await conn.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))

    def upgrade(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, "head")

    async with engine.begin() as conn:
        await conn.run_sync(upgrade)


async def ping(engine: AsyncEngine) -> bool:
    try:
        async with engine.execution_options(**READS).connect() as conn:
            await conn.execute(sa.text("SELECT 1"))
    except Exception:
        return False
    return True
