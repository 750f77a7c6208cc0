"""begin_immediate: SQLite transactions hold the write lock from BEGIN, so read-then-write ones take turns."""

import sqlite3
import threading
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.ext.asyncio import create_async_engine

from ncp_runtime.sqlite import READS, _begin, begin_immediate


def _wal(dbapi_connection: object, _: object) -> None:
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def _engine(path: Path, *, immediate: bool) -> Engine:
    engine = create_engine(f"sqlite:///{path}")
    event.listen(engine, "connect", _wal)
    if immediate:
        begin_immediate(engine)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)"))
        conn.execute(text("INSERT OR IGNORE INTO counter VALUES (1, 0)"))
    return engine


def _write_lock_is_free(path: Path) -> bool:
    other = sqlite3.connect(path, isolation_level=None, timeout=0)
    try:
        other.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        if exc.sqlite_errorcode != sqlite3.SQLITE_BUSY:
            raise
        return False
    finally:
        other.close()
    return True


def test_a_transaction_holds_the_write_lock_from_its_begin(tmp_path: Path) -> None:
    engine = _engine(tmp_path / "db.sqlite", immediate=True)
    with engine.connect() as conn:
        conn.execute(text("SELECT n FROM counter"))  # only a read so far
        assert not _write_lock_is_free(tmp_path / "db.sqlite")
    assert _write_lock_is_free(tmp_path / "db.sqlite")


def test_a_connection_that_only_reads_can_begin_deferred(tmp_path: Path) -> None:
    engine = _engine(tmp_path / "db.sqlite", immediate=True)
    with engine.connect().execution_options(**READS) as conn:
        assert conn.execute(text("SELECT n FROM counter")).scalar_one() == 0
        assert _write_lock_is_free(tmp_path / "db.sqlite")


def test_without_it_a_read_takes_no_write_lock(tmp_path: Path) -> None:
    """The control: pysqlite's own transactions begin at the first write."""
    engine = _engine(tmp_path / "db.sqlite", immediate=False)
    with engine.connect() as conn:
        conn.execute(text("SELECT n FROM counter"))
        assert _write_lock_is_free(tmp_path / "db.sqlite")


def _increment_concurrently(engine: Engine, threads: int = 4, rounds: int = 25) -> list[BaseException]:
    errors: list[BaseException] = []
    start = threading.Barrier(threads)

    def work() -> None:
        start.wait()
        for _ in range(rounds):
            try:
                with engine.begin() as conn:  # read, then write what was read: the lost-update shape
                    n = conn.execute(text("SELECT n FROM counter WHERE id = 1")).scalar_one()
                    conn.execute(text("UPDATE counter SET n = :n WHERE id = 1"), {"n": n + 1})
            except Exception as exc:
                errors.append(exc)

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return errors


def test_read_then_write_transactions_on_several_connections_take_turns(tmp_path: Path) -> None:
    engine = _engine(tmp_path / "db.sqlite", immediate=True)
    assert _increment_concurrently(engine) == []
    with engine.connect() as conn:
        assert conn.execute(text("SELECT n FROM counter")).scalar_one() == 100


def test_without_it_another_connection_writes_under_a_read_and_an_update_is_lost(tmp_path: Path) -> None:
    """The control: begun by pysqlite (at the first write), the read is in no transaction at all."""
    engine = _engine(tmp_path / "db.sqlite", immediate=False)
    with engine.begin() as conn:
        n = conn.execute(text("SELECT n FROM counter WHERE id = 1")).scalar_one()
        other = sqlite3.connect(tmp_path / "db.sqlite", isolation_level=None, timeout=0)
        other.execute("UPDATE counter SET n = n + 1 WHERE id = 1")  # not refused: nobody holds the lock
        other.close()
        conn.execute(text("UPDATE counter SET n = :n WHERE id = 1"), {"n": n + 1})
    with engine.connect() as conn:
        assert conn.execute(text("SELECT n FROM counter")).scalar_one() == 1  # two increments, one kept


@pytest.mark.parametrize("mode", ["SHARED", "IMMEDIATE; DROP TABLE counter"])
def test_an_unknown_begin_mode_is_refused(tmp_path: Path, mode: str) -> None:
    engine = _engine(tmp_path / "db.sqlite", immediate=True)
    with pytest.raises(ValueError, match="sqlite_begin"), engine.connect().execution_options(sqlite_begin=mode) as c:
        c.execute(text("SELECT 1"))


async def test_it_applies_to_an_async_engine_and_leaves_postgresql_alone(tmp_path: Path) -> None:
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}")
    event.listen(engine.sync_engine, "connect", _wal)
    begin_immediate(engine.sync_engine)
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
            assert not _write_lock_is_free(tmp_path / "db.sqlite")
    finally:
        await engine.dispose()
    postgres = create_async_engine("postgresql+asyncpg://nobody@127.0.0.1:1/none").sync_engine  # never connects
    begin_immediate(postgres)
    assert not event.contains(postgres, "begin", _begin)
