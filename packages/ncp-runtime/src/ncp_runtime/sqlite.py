"""SQLite transactions that take the write lock when they begin, so that two never wait for each other.

pysqlite begins a transaction DEFERRED, at its first write, and runs the reads before it in no transaction at
all: another connection can commit between a read and the write built on it (a lost update; the tests show one).
A deferred transaction also holds a read snapshot while it asks for the write lock. The gateway's purge and its
EMREX 2.0 purge, on two connections to one file, were seen both waiting out the 30 s busy timeout at start-up
(the exact wait inside SQLite was not pinned down); with every transaction taking the lock first, a writer only
ever waits for a lock whose holder is running.

`begin_immediate(engine)` makes SQLAlchemy begin every transaction with BEGIN IMMEDIATE (the write lock first,
then the reads): a second writer waits its turn and is never holding what the first needs. A transaction that
only reads may begin DEFERRED instead (a WAL reader never waits) with `connection.execution_options(**READS)`.
PostgreSQL engines are left as they are.
"""

from typing import Any

from sqlalchemy import Connection, Engine, event

BEGIN = "sqlite_begin"  # the execution option read when a transaction begins
READS: dict[str, str] = {BEGIN: "DEFERRED"}
_MODES = frozenset({"DEFERRED", "IMMEDIATE", "EXCLUSIVE"})


def begin_immediate(engine: Engine) -> None:
    """For an SQLite engine (an async engine's `sync_engine` too): BEGIN IMMEDIATE unless the connection says
    otherwise."""
    if engine.dialect.name != "sqlite":
        return
    event.listen(engine, "connect", _no_implicit_begin)
    event.listen(engine, "begin", _begin)


def _no_implicit_begin(dbapi_connection: Any, _: Any) -> None:
    # pysqlite's own BEGIN (DEFERRED, before the first write) is off; the begin event below sends ours.
    dbapi_connection.isolation_level = None


def _begin(conn: Connection) -> None:
    mode = conn.get_execution_options().get(BEGIN, "IMMEDIATE")
    if mode not in _MODES:
        raise ValueError(f"{BEGIN} must be one of {sorted(_MODES)}, not {mode!r}")
    conn.exec_driver_sql(f"BEGIN {mode}")
