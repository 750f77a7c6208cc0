"""Server-side session store and audit log on SQLAlchemy async (SQLite or PostgreSQL via asyncpg)."""

import datetime as dt
import hashlib
from typing import Any

from sqlalchemy import delete, event, func, inspect, select, text, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlmodel import SQLModel, col

from ncp_gateway.domain.transfer import Transfer

from .tables import AuditRow, SessionRow


def token_key(token: str) -> str:
    # The row id is a hash: a read of the table does not yield usable cookies.
    return hashlib.sha256(token.encode()).hexdigest()


def make_engine(url: str, schema: str | None = None) -> AsyncEngine:
    kwargs: dict[str, Any] = {"pool_pre_ping": True}
    if url.startswith("postgresql+asyncpg") and schema:
        kwargs["connect_args"] = {"server_settings": {"search_path": schema}}
    engine = create_async_engine(url, **kwargs)
    if url.startswith("sqlite"):
        @event.listens_for(engine.sync_engine, "connect")
        def _pragmas(dbapi_connection: Any, _: Any) -> None:
            cursor = dbapi_connection.cursor()
            # WAL lets several gateway processes share one file; busy_timeout waits for a writer.
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()
    return engine


async def create_tables(engine: AsyncEngine, schema: str | None = None) -> None:
    async with engine.begin() as conn:
        if schema and engine.dialect.name == "postgresql":
            await conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
        await conn.run_sync(SQLModel.metadata.create_all, tables=[
            SessionRow.__table__, AuditRow.__table__,  # type: ignore[attr-defined]
        ])
        await conn.run_sync(_add_audit_protocol)


def _add_audit_protocol(conn: Any) -> None:
    # Audit tables made before EMREX 2.0 lack `protocol`; create_all does not alter tables. Every old row is EMREX 1.
    if "protocol" not in {c["name"] for c in inspect(conn).get_columns("gateway_audit")}:
        conn.execute(text("ALTER TABLE gateway_audit ADD COLUMN protocol VARCHAR(16) NOT NULL DEFAULT 'emrex1'"))


class SessionStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._dialect = engine.dialect.name
        if self._dialect not in ("sqlite", "postgresql"):
            raise ValueError(f"unsupported database {self._dialect!r}: use SQLite or PostgreSQL")
        self._sessions = async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)

    async def put(self, token: str, transfer: Transfer) -> None:
        # One upsert statement: no read-then-write transaction holding SQLite's lock across awaits.
        values = {"id": token_key(token), "expires_at": transfer.expires_at, "data": transfer.model_dump_json()}
        table = SessionRow.__table__  # type: ignore[attr-defined]
        insert = postgresql_insert if self._dialect == "postgresql" else sqlite_insert
        statement = insert(table).values(**values)
        statement = statement.on_conflict_do_update(
            index_elements=[table.c.id], set_={"expires_at": statement.excluded.expires_at,
                                               "data": statement.excluded.data},
        )
        async with self._sessions() as db:
            await db.execute(statement)
            await db.commit()

    async def get(self, token: str) -> Transfer | None:
        async with self._sessions() as db:
            query = select(SessionRow).where(col(SessionRow.id) == token_key(token))
            row = (await db.execute(query)).scalar_one_or_none()
        return None if row is None else Transfer.model_validate_json(row.data)

    async def get_many(self, tokens: list[str]) -> dict[str, Transfer]:
        """token -> transfer for those of `tokens` that have a record (one query)."""
        by_key = {token_key(t): t for t in tokens}
        if not by_key:
            return {}
        async with self._sessions() as db:
            rows = (await db.execute(select(SessionRow).where(col(SessionRow.id).in_(list(by_key))))).scalars()
            return {by_key[row.id]: Transfer.model_validate_json(row.data) for row in rows}

    async def count_live(self, now: dt.datetime) -> int:
        async with self._sessions() as db:
            query = select(func.count()).select_from(SessionRow).where(col(SessionRow.expires_at) > now)
            return int((await db.execute(query)).scalar_one())

    async def rotate(self, old_token: str, new_token: str, transfer: Transfer) -> None:
        """Moves the record to a new token (session fixation: the pre-login token stops working)."""
        async with self._sessions() as db:
            await db.execute(
                update(SessionRow).where(SessionRow.id == token_key(old_token))  # type: ignore[arg-type]
                .values(id=token_key(new_token), expires_at=transfer.expires_at, data=transfer.model_dump_json())
            )
            await db.commit()

    async def delete(self, token: str) -> bool:
        async with self._sessions() as db:
            result = await db.execute(delete(SessionRow).where(SessionRow.id == token_key(token)))  # type: ignore[arg-type]
            await db.commit()
        return bool(getattr(result, "rowcount", 0))

    async def purge(self, before: dt.datetime) -> None:
        async with self._sessions() as db:
            await db.execute(delete(SessionRow).where(SessionRow.expires_at < before))  # type: ignore[arg-type]
            await db.commit()

    async def purge_audit(self, before: dt.datetime) -> int:
        async with self._sessions() as db:
            result = await db.execute(delete(AuditRow).where(col(AuditRow.created_at) < before))
            await db.commit()
        return int(getattr(result, "rowcount", 0) or 0)

    async def add_audit(self, row: AuditRow) -> None:
        async with self._sessions() as db:
            db.add(row)
            await db.commit()

    async def audit_records(self) -> list[AuditRow]:
        async with self._sessions() as db:
            return list((await db.execute(select(AuditRow).order_by(AuditRow.id))).scalars())  # type: ignore[arg-type]

    async def ping(self) -> None:
        async with self._sessions() as db:
            await db.execute(text("SELECT 1"))
