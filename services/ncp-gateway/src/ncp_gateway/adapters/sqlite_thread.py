"""The store's SQLite side: every operation whole on one worker thread with plain sqlite3, and the transfer
records' reads, and their writes when the write lock is free, right on the event loop's thread.

aiosqlite hands every cursor call to its thread and back (about a dozen thread switches per statement); here an
operation is one switch, and the entry's insert none.
"""

import asyncio
import logging
import sqlite3
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.ext.asyncio import AsyncEngine

from ncp_runtime.sqlite import begin_immediate

T = TypeVar("T")
Work = Callable[[Connection], T]
Raw = Callable[[sqlite3.Connection], T]
log = logging.getLogger("ncp_gateway.store")
# The inline connection never checkpoints (that writes and syncs the database file: milliseconds on the event
# loop); every this many inline commits the worker thread does, as SQLite's automatic checkpoint would (1,000
# pages, a few hundred entries).
CHECKPOINT_EVERY = 500


def sqlite_pragmas(dbapi_connection: Any, _: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets several gateway processes share one file; busy_timeout waits for a writer.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _relaxed(db: sqlite3.Connection) -> sqlite3.Connection:
    # synchronous=NORMAL: in WAL mode a commit is durable against a crash of the process; only the last commits
    # can be lost on power loss. For the transfer records alone (ephemeral: the client starts the transfer
    # again); the audit chain is written on the SQLAlchemy connection, which keeps SQLite's default FULL, so
    # each audit commit syncs the WAL (and with it any earlier relaxed commit).
    db.execute("PRAGMA synchronous=NORMAL")
    return db


class OnSqliteThread:
    """Runs each operation whole on one thread with plain sqlite3 (a file on this machine: no pre-ping)."""

    def __init__(self, engine: AsyncEngine) -> None:
        if engine.url.database in (None, "", ":memory:"):
            raise ValueError("the session store needs an SQLite file (a second engine opens it), not memory")
        self.path = str(engine.url.database)
        self.engine: Engine = create_engine(engine.url.set(drivername="sqlite+pysqlite"))
        event.listen(self.engine, "connect", sqlite_pragmas)
        begin_immediate(self.engine)  # the audit chain and the purges write; a reader first would risk a deadlock
        # One thread: this process's operations queue here instead of for SQLite's write lock.
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ncp-gateway-sqlite")
        self._conn: Connection | None = None
        self._sessions_db: sqlite3.Connection | None = None  # the worker's plain connection (raw)
        self._inline_db: sqlite3.Connection | None = None  # the event loop's (write_now, read_now)
        self._inline_commits = 0
        self._closed = False

    def _connection(self) -> Connection:
        # Kept open on the one worker thread (the pool kept the same sqlite3 connection open anyway): the pool's
        # check-out, reset-on-return (a rollback) and check-in cost more than an entry's two statements.
        if self._conn is None or self._conn.closed or self._conn.invalidated:
            self._conn = self.engine.connect()
        return self._conn

    def _run(self, work: Work[T]) -> T:
        conn = self._connection()
        with conn.begin():
            return work(conn)

    async def __call__(self, work: Work[T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self.executor, self._run, work)

    # ---- the entry's statements: plain sqlite3, without SQLAlchemy's execute and commit ----------------------

    def _sessions(self) -> sqlite3.Connection:
        if self._sessions_db is None:
            db = sqlite3.connect(self.path, isolation_level=None)
            sqlite_pragmas(db, None)
            self._sessions_db = _relaxed(db)
        return self._sessions_db

    def _run_raw(self, work: Raw[T]) -> T:
        db = self._sessions()
        # IMMEDIATE: the write lock first, so what the operation reads stays true until its commit.
        db.execute("BEGIN IMMEDIATE")
        try:
            result = work(db)
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
        return result

    async def raw(self, work: Raw[T]) -> T:
        """`work` on the worker's plain connection (synchronous=NORMAL) in one transaction."""
        return await asyncio.get_running_loop().run_in_executor(self.executor, self._run_raw, work)

    def _inline(self) -> sqlite3.Connection:
        if self._inline_db is None:
            # Used on the event loop's thread only (and closed from close(), wherever that runs).
            db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA busy_timeout=0")  # never waits: a busy database goes to the worker instead
            db.execute("PRAGMA wal_autocheckpoint=0")
            self._inline_db = _relaxed(db)
        return self._inline_db

    def write_now(self, statement: str, parameters: Sequence[Any]) -> int | None:
        """One write in its own transaction on the calling thread if the write lock is free at once (a
        relaxed commit only writes to the WAL, no sync: microseconds): its row count. None, with nothing done,
        when another connection holds the lock: the caller queues the write on the worker (raw), which waits
        its turn."""
        db = self._inline()
        try:
            db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode == sqlite3.SQLITE_BUSY:
                return None
            raise
        try:
            count = db.execute(statement, parameters).rowcount
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        self._inline_commits += 1
        if self._inline_commits % CHECKPOINT_EVERY == 0:
            self.executor.submit(self._checkpoint).add_done_callback(_log_failure)
        return count

    def read_now(self, statement: str, parameters: Sequence[Any]) -> list[Any] | None:
        """A read on the calling thread: in WAL mode a reader never waits for the writer (it sees the last
        commit), so this is microseconds; None in the rare case SQLite answers busy (a WAL reset under way):
        the caller reads on the worker instead."""
        try:
            return self._inline().execute(statement, parameters).fetchall()
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode == sqlite3.SQLITE_BUSY:
                return None
            raise

    def _checkpoint(self) -> None:
        self._sessions().execute("PRAGMA wal_checkpoint(PASSIVE)")

    def _close_connection(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self._sessions_db is not None:
            self._sessions_db.close()
            self._sessions_db = None

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._inline_db is not None:
            self._inline_db.close()
            self._inline_db = None
        # Closed on its own thread (sqlite3 refuses a connection used from another), awaited: the worker may be
        # waiting out SQLite's busy timeout, and the event loop must not wait with it.
        await asyncio.get_running_loop().run_in_executor(self.executor, self._close_connection)
        self.executor.shutdown(wait=True)  # nothing is left in its queue
        self.engine.dispose()


def _log_failure(done: "Future[None]") -> None:
    if not done.cancelled() and (exc := done.exception()) is not None:
        log.warning("checkpoint failed (%s)", type(exc).__name__)  # the next one, or SQLite's own, catches up
