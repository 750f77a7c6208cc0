"""Server-side session store and audit log on SQLAlchemy async (SQLite or PostgreSQL via asyncpg); the schema
is Alembic's (`ncp_gateway/alembic`), migrated at start-up."""

import datetime as dt
import hashlib
from importlib import resources
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, delete, event, func, inspect, select, text, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlmodel import col

from ncp_gateway.domain.audit_chain import CHAINED_FIELDS, ChainState, Link, Value, next_link
from ncp_gateway.domain.transfer import Transfer

from .tables import AuditChainRow, AuditRow, SessionRow


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


# Any constant will do; it only has to be the same for every replica.
_MIGRATION_LOCK = 0x4E4350_4757  # "NCPGW"
_BASELINE = "0001"  # the tables as create_all made them before migrations


def _alembic_config(connection: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(resources.files("ncp_gateway").joinpath("alembic")))
    config.attributes["connection"] = connection
    return config


def _upgrade(connection: Connection) -> None:
    config = _alembic_config(connection)
    tables = set(inspect(connection).get_table_names())
    if "alembic_version" not in tables and {"gateway_session", "gateway_audit"} <= tables:
        # A database from before migrations (create_all at start-up) holds exactly the baseline's tables.
        command.stamp(config, _BASELINE)
    command.upgrade(config, "head")


async def migrate(engine: AsyncEngine, schema: str | None = None) -> None:
    """Upgrade to head; replicas starting together on PostgreSQL take turns on an advisory lock."""
    async with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
            if schema:
                await conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
        await conn.run_sync(_upgrade)


create_tables = migrate  # the name tests and tools used before migrations


def audit_content(row: AuditRow) -> dict[str, Value]:
    return {name: getattr(row, name) for name in CHAINED_FIELDS}


def audit_link(row: AuditRow) -> Link:
    return Link(row.id, audit_content(row), row.prev_hash, row.row_hash)


def chain_state(head: AuditChainRow) -> ChainState:
    return ChainState(head.head_seq, head.head_hash, head.anchor_seq, head.anchor_hash)


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

    async def _lock_chain(self, db: AsyncSession) -> AuditChainRow:
        """The chain head, locked until the transaction ends: appends and purges on all replicas take turns."""
        if self._dialect == "sqlite":
            # SQLite has no row locks: a write as the first statement takes the database's write lock now, so
            # the head read next is the latest and stays so (WAL; busy_timeout queues the other writers).
            await db.execute(update(AuditChainRow).where(col(AuditChainRow.id) == 1)
                             .values(head_seq=AuditChainRow.head_seq))
        query = select(AuditChainRow).where(col(AuditChainRow.id) == 1).with_for_update()
        return (await db.execute(query)).scalar_one()

    async def add_audit(self, row: AuditRow) -> AuditRow:
        """Appends `row` to the hash chain (its seq, prev_hash and row_hash are set here) in one transaction."""
        async with self._sessions() as db:
            head = await self._lock_chain(db)
            content = {k: v for k, v in audit_content(row).items() if k != "seq"}
            row.seq, row.prev_hash, row.row_hash = next_link(chain_state(head), content)
            head.head_seq, head.head_hash = row.seq, row.row_hash
            db.add(row)
            db.add(head)
            await db.commit()
        return row

    async def purge_audit(self, before: dt.datetime) -> int:
        """Removes the records older than `before` from the start of the chain; the last one removed becomes
        the anchor the rest verifies from."""
        async with self._sessions() as db:
            head = await self._lock_chain(db)
            young = select(func.min(AuditRow.seq)).where(col(AuditRow.created_at) >= before)
            keep_from = (await db.execute(young)).scalar_one_or_none()
            # A prefix only: a record appended a moment late with an older timestamp waits for the next purge.
            last = head.head_seq if keep_from is None else int(keep_from) - 1
            if last <= head.anchor_seq:
                await db.rollback()
                return 0
            anchor = (await db.execute(select(col(AuditRow.row_hash)).where(col(AuditRow.seq) == last))).scalar_one()
            result = await db.execute(delete(AuditRow).where(col(AuditRow.seq) <= last))
            head.anchor_seq, head.anchor_hash = last, anchor
            db.add(head)
            await db.commit()
        return int(getattr(result, "rowcount", 0) or 0)

    async def audit_records(self) -> list[AuditRow]:
        async with self._sessions() as db:
            return list((await db.execute(select(AuditRow).order_by(col(AuditRow.seq)))).scalars())

    async def audit_chain(self) -> tuple[ChainState, list[Link]]:
        """The chain as stored (head and anchor, then every record in sequence order), read in one transaction."""
        async with self._sessions() as db, db.begin():
            head = (await db.execute(select(AuditChainRow).where(col(AuditChainRow.id) == 1))).scalar_one()
            rows = (await db.execute(select(AuditRow).order_by(col(AuditRow.seq)))).scalars()
            return chain_state(head), [audit_link(row) for row in rows]

    async def audit_of(self, pseudonym: str) -> list[AuditRow]:
        async with self._sessions() as db:
            query = select(AuditRow).where(col(AuditRow.login_pseudonym) == pseudonym).order_by(col(AuditRow.seq))
            return list((await db.execute(query)).scalars())

    async def ping(self) -> None:
        async with self._sessions() as db:
            await db.execute(text("SELECT 1"))
