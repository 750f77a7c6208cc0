"""The gateway's schema comes from its Alembic migrations, on SQLite and on PostgreSQL: the migrated database
matches the tables the code uses, migrating twice changes nothing, a database made by the old create_all is
adopted with its rows, and the app migrates at start-up (nothing is created outside the migrations)."""

import asyncio
import datetime as dt

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from asgi_lifespan import LifespanManager
from sqlalchemy import MetaData, inspect, text

from ncp_gateway.adapters.oauth2_store import TABLES as EMREX2_TABLES
from ncp_gateway.adapters.store import SessionStore, make_engine, migrate
from ncp_gateway.adapters.tables import AuditChainRow, AuditRow, SessionRow
from ncp_gateway.app import create_app
from ncp_gateway.domain.transfer import Transfer

GATEWAY_TABLES = (SessionRow.__table__, AuditRow.__table__, AuditChainRow.__table__,  # type: ignore[attr-defined]
                  *(t.__table__ for t in EMREX2_TABLES))  # type: ignore[attr-defined]
HEAD = "0004"
ALL_TABLES = {"gateway_session", "gateway_audit", "gateway_audit_chain", "alembic_version", "emrex2_consent",
              "emrex2_release", "emrex2_code", "emrex2_token", "emrex2_jti"}


def code_metadata() -> MetaData:
    metadata = MetaData()
    for table in GATEWAY_TABLES:
        table.to_metadata(metadata)
    return metadata


def _baseline_without_version_table(connection) -> None:
    from alembic import command

    from ncp_gateway.adapters.store import _alembic_config

    command.upgrade(_alembic_config(connection), "0001")
    connection.execute(text("DROP TABLE alembic_version"))


def differences(connection) -> list:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return [d for d in compare_metadata(context, code_metadata()) if not _alembic_own(d)]


def _alembic_own(diff) -> bool:
    return diff[0] == "remove_table" and diff[1].name == "alembic_version"


def a_transfer(now: dt.datetime) -> Transfer:
    return Transfer(session_id="s", return_url="https://emc.example.fi/r", receiver_origin="https://emc.example.fi",
                    receiver_host="emc.example.fi", created_at=now, expires_at=now + dt.timedelta(minutes=20),
                    csrf="c")


async def check_migrated_schema(url: str, schema: str | None = None) -> None:
    engine = make_engine(url, schema)
    try:
        await migrate(engine, schema)
        await migrate(engine, schema)  # a second replica, or a restart: nothing to do
        async with engine.connect() as conn:
            assert await conn.run_sync(differences) == []
            assert (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar_one() == HEAD
        store = SessionStore(engine)
        now = dt.datetime.now(dt.UTC)
        await store.put("token", a_transfer(now))
        assert (await store.get("token")) is not None
        await store.add_audit(AuditRow(created_at=now, receiver_origin="https://emc.example.fi",
                                       return_code="NCP_OK"))
        assert [r.return_code for r in await store.audit_records()] == ["NCP_OK"]
    finally:
        await engine.dispose()


async def test_the_migrations_make_the_schema_the_code_uses_on_sqlite(tmp_path):
    await check_migrated_schema(f"sqlite+aiosqlite:///{tmp_path / 'gateway.db'}")


@pytest.mark.postgres
async def test_the_migrations_make_the_schema_the_code_uses_on_postgresql(pg):
    await check_migrated_schema(pg.url, pg.schema)
    tables = {r["tablename"] for r in await pg.conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = $1",
                                                          pg.schema)}
    assert tables == ALL_TABLES


async def test_a_database_made_by_create_all_is_adopted_with_its_rows(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    engine = make_engine(url)
    try:
        async with engine.begin() as conn:  # what start-up's create_all made before migrations (revision 0001)
            await conn.run_sync(_baseline_without_version_table)
        store = SessionStore(engine)
        await store.put("kept", a_transfer(dt.datetime.now(dt.UTC)))
        await migrate(engine)
        async with engine.connect() as conn:
            assert (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar_one() == HEAD
            assert await conn.run_sync(differences) == []
        assert await store.get("kept") is not None
    finally:
        await engine.dispose()


async def test_the_app_migrates_its_database_at_start_up(gateway_settings, tmp_path):
    settings = gateway_settings.model_copy(update={"database_path": tmp_path / "fresh.db"})
    async with LifespanManager(create_app(settings)):
        pass
    engine = make_engine(settings.sqlalchemy_url)
    try:
        async with engine.connect() as conn:
            tables = await conn.run_sync(lambda sync: set(inspect(sync).get_table_names()))
            assert tables == ALL_TABLES
            assert (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar_one() == HEAD
    finally:
        await engine.dispose()


@pytest.mark.postgres
async def test_a_replica_opens_at_most_twice_its_pool_size_of_postgresql_connections(pg):
    engine = make_engine(pg.url, pg.schema, pool_size=2)
    pg.made.append(engine)

    async def backend() -> int:
        async with engine.connect() as conn:
            pid = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()
            await conn.execute(text("SELECT pg_sleep(0.3)"))
            return int(pid)

    pids = await asyncio.gather(*(backend() for _ in range(8)))
    assert len(set(pids)) == 4  # two kept and two more for the burst; the other four waited for one
    assert engine.pool.size() == 2  # type: ignore[attr-defined]
