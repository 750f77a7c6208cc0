"""SQLite transactions that take the write lock when they begin, so that two never wait for each other.

pysqlite begins a transaction DEFERRED, at its first write: by then the transaction holds a read snapshot (an
UPDATE reads the rows it changes) and asks for the write lock on top of it. With another connection writing to
the same file, WAL mode can leave the two waiting on each other (the writer to restart the log until the reader
leaves, the reader for the write lock) until the busy timeout, 30 s, fails one of them. The gateway's purge and
the EMREX 2.0 purge did exactly that at start-up, and everything queued behind them waited too.

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
