"""Server-side session store and audit log on SQLAlchemy Core (SQLite or PostgreSQL via asyncpg); the schema
is Alembic's (`ncp_gateway/alembic`), migrated at start-up.

Each operation is one synchronous function over a Connection, run in one transaction: on PostgreSQL through the
async engine (`run_sync`), on SQLite whole on one worker thread (sqlite_thread.py). On SQLite the transfer
records' operations are plain sqlite3, on the event loop's thread when they need not wait (sqlite_thread.py).
"""

import datetime as dt
import hashlib
import sqlite3
from collections.abc import Callable
from importlib import resources
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, bindparam, delete, event, func, inspect, select, text, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.orm import Session

from ncp_gateway.domain.audit_chain import CHAINED_FIELDS, ChainState, Link, Value, next_link
from ncp_gateway.domain.transfer import Transfer
from ncp_runtime.sqlite import begin_immediate

from .live_count import LiveCount
from .sqlite_thread import OnSqliteThread, Work, sqlite_pragmas
from .tables import AuditChainRow, AuditRow, SessionRow

T = TypeVar("T")
SESSIONS = SessionRow.__table__  # type: ignore[attr-defined]
AUDIT = AuditRow.__table__  # type: ignore[attr-defined]
CHAIN = AuditChainRow.__table__  # type: ignore[attr-defined]


def token_key(token: str) -> str:
    # The row id is a hash: a read of the table does not yield usable cookies.
    return hashlib.sha256(token.encode()).hexdigest()


def make_engine(url: str, schema: str | None = None, *, pool_size: int = 10) -> AsyncEngine:
    kwargs: dict[str, Any] = {"pool_pre_ping": True}
    if url.startswith("postgresql+asyncpg"):
        kwargs.update(pool_size=pool_size, max_overflow=pool_size)
        if schema:
            kwargs["connect_args"] = {"server_settings": {"search_path": schema}}
    engine = create_async_engine(url, **kwargs)
    if url.startswith("sqlite"):
        event.listen(engine.sync_engine, "connect", sqlite_pragmas)
        begin_immediate(engine.sync_engine)  # the EMREX 2.0 store and migrations share the file with the worker's
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


class _OnAsyncEngine:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def __call__(self, work: Work[T]) -> T:
        async with self.engine.begin() as conn:
            return await conn.run_sync(work)

    async def aclose(self) -> None:
        pass  # the engine is its owner's


# Built once: SQLAlchemy then finds their compiled form in its cache without walking a new statement each time.
_GET = select(SESSIONS.c.data).where(SESSIONS.c.id == bindparam("key"))
_GET_MANY = select(SESSIONS.c.id, SESSIONS.c.data).where(SESSIONS.c.id.in_(bindparam("keys", expanding=True)))
_COUNT_LIVE = select(func.count()).select_from(SESSIONS).where(SESSIONS.c.expires_at > bindparam("now"))
_ROTATE = (update(SESSIONS).where(SESSIONS.c.id == bindparam("old_key"))
           .values(id=bindparam("new_key"), expires_at=bindparam("new_expires_at"), data=bindparam("new_data")))
_DELETE = delete(SESSIONS).where(SESSIONS.c.id == bindparam("key"))
_PURGE = delete(SESSIONS).where(SESSIONS.c.expires_at < bindparam("before"))
_HEAD = select(CHAIN).where(CHAIN.c.id == 1)
_MOVE_HEAD = (update(CHAIN).where(CHAIN.c.id == 1)
              .values(head_seq=bindparam("new_seq"), head_hash=bindparam("new_hash")))
_INSERT_AUDIT = AUDIT.insert()
# The transfer records' statements for plain sqlite3, as SQLAlchemy compiles the ones above for SQLite.
_SQLITE_COUNT_LIVE = "SELECT count(*) FROM gateway_session WHERE expires_at > ?"
_SQLITE_UPSERT = ("INSERT INTO gateway_session (id, expires_at, data) VALUES (?, ?, ?) "
                  "ON CONFLICT (id) DO UPDATE SET expires_at = excluded.expires_at, data = excluded.data")
_SQLITE_GET = "SELECT data FROM gateway_session WHERE id = ?"
_SQLITE_GET_MANY = "SELECT id, data FROM gateway_session WHERE id IN ({})"
_SQLITE_ROTATE = "UPDATE gateway_session SET id = ?, expires_at = ?, data = ? WHERE id = ?"
_SQLITE_DELETE = "DELETE FROM gateway_session WHERE id = ?"


def _upsert(dialect: str) -> Any:
    statement = (postgresql_insert if dialect == "postgresql" else sqlite_insert)(SESSIONS)
    # One statement: no read-then-write transaction holding SQLite's lock.
    return statement.on_conflict_do_update(
        index_elements=[SESSIONS.c.id],
        set_={"expires_at": statement.excluded.expires_at, "data": statement.excluded.data},
    )


class SessionStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._dialect = engine.dialect.name
        if self._dialect not in ("sqlite", "postgresql"):
            raise ValueError(f"unsupported database {self._dialect!r}: use SQLite or PostgreSQL")
        self._sqlite = OnSqliteThread(engine) if self._dialect == "sqlite" else None
        self._run: OnSqliteThread | _OnAsyncEngine = self._sqlite or _OnAsyncEngine(engine)
        self._live = LiveCount()
        self._upsert = _upsert(self._dialect)
        # A datetime as SQLAlchemy stores it in SQLite (text that sorts as the time does), for the raw statements.
        self._sqlite_time: Callable[[dt.datetime], str] = (
            SESSIONS.c.expires_at.type.dialect_impl(engine.dialect).bind_processor(engine.dialect)
            if self._sqlite is not None else dt.datetime.isoformat)

    async def aclose(self) -> None:
        """Ends the SQLite worker thread and its connections (the async engine is disposed by its owner)."""
        await self._run.aclose()

    async def _sqlite_write(self, sqlite: OnSqliteThread, statement: str, parameters: tuple[Any, ...]) -> int:
        """A transfer record's write: on the event loop when SQLite's write lock is free, else queued on the
        worker; its row count. (SQLAlchemy's execute and commit, and the hop to the worker, cost several
        times the statement.)"""
        count = sqlite.write_now(statement, parameters)
        if count is None:
            count = await sqlite.raw(lambda db: db.execute(statement, parameters).rowcount)
        return count

    async def _sqlite_read(self, sqlite: OnSqliteThread, statement: str, parameters: tuple[Any, ...]) -> list[Any]:
        rows = sqlite.read_now(statement, parameters)
        if rows is None:
            rows = await sqlite.raw(lambda db: db.execute(statement, parameters).fetchall())
        return rows

    async def _write_record(self, values: dict[str, Any]) -> None:
        """The upsert of one transfer record (`values`: id, expires_at, data)."""
        if self._sqlite is not None:
            row = (values["id"], self._sqlite_time(values["expires_at"]), values["data"])
            await self._sqlite_write(self._sqlite, _SQLITE_UPSERT, row)
            return
        await self._run(lambda conn: conn.execute(self._upsert, values))

    async def put(self, token: str, transfer: Transfer) -> None:
        await self._write_record({"id": token_key(token), "expires_at": transfer.expires_at,
                                  "data": transfer.model_dump_json()})

    async def put_new(self, token: str, transfer: Transfer, *, now: dt.datetime, max_live: int) -> bool:
        """Stores a new transfer unless `max_live` transfers are live already (False then): one operation, and
        no count while the limit is certainly far (live_count.py)."""
        values = {"id": token_key(token), "expires_at": transfer.expires_at, "data": transfer.model_dump_json()}
        if self._live.room_for_sure(now, max_live):
            await self._write_record(values)
            self._live.added()
            return True
        self._live.recounting = True
        try:
            live = await self._count_and_put(values, now, max_live)
        except BaseException:
            self._live.recounting = False
            raise
        stored = live < max_live
        self._live.counted(live + stored, now)
        return stored

    async def _count_and_put(self, values: dict[str, Any], now: dt.datetime, max_live: int) -> int:
        """The live transfers before this one; it is stored when they are fewer than `max_live`."""
        if self._sqlite is not None:
            now_text = self._sqlite_time(now)
            row = (values["id"], self._sqlite_time(values["expires_at"]), values["data"])

            def put_if_room_sqlite(db: sqlite3.Connection) -> int:
                live = int(db.execute(_SQLITE_COUNT_LIVE, (now_text,)).fetchone()[0])
                if live < max_live:
                    db.execute(_SQLITE_UPSERT, row)
                return live

            return await self._sqlite.raw(put_if_room_sqlite)

        def put_if_room(conn: Connection) -> int:
            live = int(conn.execute(_COUNT_LIVE, {"now": now}).scalar_one())
            if live < max_live:
                conn.execute(self._upsert, values)
            return live

        return await self._run(put_if_room)

    async def get(self, token: str) -> Transfer | None:
        key = token_key(token)
        if self._sqlite is not None:
            rows = await self._sqlite_read(self._sqlite, _SQLITE_GET, (key,))
            data = rows[0][0] if rows else None
        else:
            data = await self._run(lambda conn: conn.execute(_GET, {"key": key}).scalar_one_or_none())
        return None if data is None else Transfer.model_validate_json(data)

    async def get_many(self, tokens: list[str]) -> dict[str, Transfer]:
        """token -> transfer for those of `tokens` that have a record (one query)."""
        by_key = {token_key(t): t for t in tokens}
        if not by_key:
            return {}
        if self._sqlite is not None:
            statement = _SQLITE_GET_MANY.format(", ".join("?" * len(by_key)))
            rows = await self._sqlite_read(self._sqlite, statement, tuple(by_key))
        else:
            rows = await self._run(lambda conn: list(conn.execute(_GET_MANY, {"keys": list(by_key)}).all()))
        return {by_key[key]: Transfer.model_validate_json(data) for key, data in rows}

    async def count_live(self, now: dt.datetime) -> int:
        return int(await self._run(lambda conn: conn.execute(_COUNT_LIVE, {"now": now}).scalar_one()))

    async def rotate(self, old_token: str, new_token: str, transfer: Transfer) -> None:
        """Moves the record to a new token (session fixation: the pre-login token stops working)."""
        values = {"old_key": token_key(old_token), "new_key": token_key(new_token),
                  "new_expires_at": transfer.expires_at, "new_data": transfer.model_dump_json()}
        if self._sqlite is not None:
            row = (values["new_key"], self._sqlite_time(transfer.expires_at), values["new_data"], values["old_key"])
            await self._sqlite_write(self._sqlite, _SQLITE_ROTATE, row)
            return
        await self._run(lambda conn: conn.execute(_ROTATE, values))

    async def delete(self, token: str) -> bool:
        key = token_key(token)
        if self._sqlite is not None:
            return bool(await self._sqlite_write(self._sqlite, _SQLITE_DELETE, (key,)))
        return bool(await self._run(lambda conn: conn.execute(_DELETE, {"key": key}).rowcount))

    async def run(self, work: Work[T]) -> T:
        """`work` in one transaction where the store runs its own (on SQLite: its worker thread and connection),
        so another table's purge never contends with the store's for SQLite's write lock."""
        return await self._run(work)

    async def purge(self, before: dt.datetime) -> None:
        await self._run(lambda conn: conn.execute(_PURGE, {"before": before}))

    def _lock_chain(self, conn: Connection) -> ChainState:
        """The chain head, locked until the transaction ends: appends and purges on all replicas take turns.
        (SQLite has no row locks: its transactions here began IMMEDIATE, holding the database's write lock.)"""
        head = conn.execute(_HEAD.with_for_update()).one()
        return ChainState(head.head_seq, head.head_hash, head.anchor_seq, head.anchor_hash)

    async def add_audit(self, row: AuditRow) -> AuditRow:
        """Appends `row` to the hash chain (its seq, prev_hash and row_hash are set here) in one transaction."""

        def append(conn: Connection) -> None:
            head = self._lock_chain(conn)
            content = {k: v for k, v in audit_content(row).items() if k != "seq"}
            row.seq, row.prev_hash, row.row_hash = next_link(head, content)
            values = {c.name: getattr(row, c.name) for c in AUDIT.columns if c.name != "id" or row.id is not None}
            inserted = conn.execute(_INSERT_AUDIT, values).inserted_primary_key
            row.id = inserted[0] if inserted else None
            conn.execute(_MOVE_HEAD, {"new_seq": row.seq, "new_hash": row.row_hash})

        await self._run(append)
        return row

    async def purge_audit(self, before: dt.datetime) -> int:
        """Removes the records older than `before` from the start of the chain; the last one removed becomes
        the anchor the rest verifies from."""

        def purge(conn: Connection) -> int:
            head = self._lock_chain(conn)
            young = select(func.min(AUDIT.c.seq)).where(AUDIT.c.created_at >= before)
            keep_from = conn.execute(young).scalar_one_or_none()
            # A prefix only: a record appended a moment late with an older timestamp waits for the next purge.
            last = head.head_seq if keep_from is None else int(keep_from) - 1
            if last <= head.anchor_seq:
                return 0
            anchor = conn.execute(select(AUDIT.c.row_hash).where(AUDIT.c.seq == last)).scalar_one()
            result = conn.execute(delete(AUDIT).where(AUDIT.c.seq <= last))
            conn.execute(update(CHAIN).where(CHAIN.c.id == 1).values(anchor_seq=last, anchor_hash=anchor))
            return int(result.rowcount or 0)

        return await self._run(purge)

    async def audit_records(self) -> list[AuditRow]:
        return await self._run(lambda conn: _audit_rows(conn))

    async def audit_chain(self) -> tuple[ChainState, list[Link]]:
        """The chain as stored (head and anchor, then every record in sequence order), read in one transaction."""

        def read(conn: Connection) -> tuple[ChainState, list[Link]]:
            head = conn.execute(_HEAD).one()
            state = ChainState(head.head_seq, head.head_hash, head.anchor_seq, head.anchor_hash)
            return state, [audit_link(row) for row in _audit_rows(conn)]

        return await self._run(read)

    async def audit_of(self, pseudonym: str) -> list[AuditRow]:
        return await self._run(lambda conn: _audit_rows(conn, AuditRow.login_pseudonym == pseudonym))

    async def ping(self) -> None:
        await self._run(lambda conn: conn.execute(text("SELECT 1")))


def _audit_rows(conn: Connection, *where: Any) -> list[AuditRow]:
    with Session(conn) as db:
        return list(db.scalars(select(AuditRow).where(*where).order_by(AUDIT.c.seq)))
