"""The store's own operations on SQLite: a new transfer is counted and stored in one operation, the audit append
sets the record's id and chain fields, and an SQLite store needs a file."""

import asyncio
import datetime as dt
import sqlite3
import threading

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.exc import PendingRollbackError

from ncp_gateway.adapters import sqlite_thread
from ncp_gateway.adapters.store import SessionStore, make_engine, migrate
from ncp_gateway.adapters.tables import AuditRow
from ncp_gateway.domain.audit_chain import verify
from ncp_gateway.domain.transfer import Transfer


def _transfer(expires: dt.datetime) -> Transfer:
    return Transfer(tid="B" * 16, session_id="s", return_url="https://emc.example.fi/r",
                    receiver_origin="https://emc.example.fi", receiver_host="emc.example.fi", created_at=expires,
                    expires_at=expires, csrf="c")


async def test_put_new_stores_until_the_live_limit(tmp_path):
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'gw.db'}")
    await migrate(engine)
    store = SessionStore(engine)
    try:
        now = dt.datetime.now(dt.UTC)
        live = _transfer(now + dt.timedelta(minutes=5))
        assert await store.put_new("one", live, now=now, max_live=2)
        assert await store.put_new("old", _transfer(now - dt.timedelta(minutes=1)), now=now, max_live=2)  # expired
        assert await store.put_new("two", live, now=now, max_live=2)
        assert not await store.put_new("three", live, now=now, max_live=2)
        assert await store.get("three") is None
        assert set(await store.get_many(["one", "two", "three", "old"])) == {"one", "two", "old"}
        assert await store.count_live(now) == 2
        assert await store.delete("one")
        assert not await store.delete("one")
    finally:
        await store.aclose()
        await engine.dispose()


async def test_the_sqlite_thread_keeps_its_connection_through_a_failed_operation_and_an_invalidated_one(tmp_path):
    # The worker thread keeps one connection open (no pool check-out per operation): a failed operation must
    # still roll back whole, and a connection SQLAlchemy invalidated must be replaced, not reused.
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'gw.db'}")
    await migrate(engine)
    store = SessionStore(engine)
    try:
        now = dt.datetime.now(dt.UTC)
        assert await store.put_new("one", _transfer(now + dt.timedelta(minutes=5)), now=now, max_live=10)

        def delete_then_fail(conn: Connection) -> None:
            conn.execute(text("DELETE FROM gateway_session"))
            raise RuntimeError("after the delete")

        with pytest.raises(RuntimeError):
            await store._run(delete_then_fail)
        assert await store.get("one") is not None  # the delete was rolled back
        with pytest.raises(PendingRollbackError):  # as a disconnect does: this operation fails...
            await store._run(lambda conn: conn.invalidate())
        assert await store.get("one") is not None  # ...and the next one runs on a new connection
        assert await store.put_new("two", _transfer(now + dt.timedelta(minutes=5)), now=now, max_live=10)
        assert await store.count_live(now) == 2
    finally:
        await store.aclose()
        await store.aclose()  # idempotent: the lifespan and a test may both close it
        await engine.dispose()


async def test_add_audit_sets_id_and_chain_and_the_chain_verifies(tmp_path):
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'gw.db'}")
    await migrate(engine)
    store = SessionStore(engine)
    try:
        now = dt.datetime.now(dt.UTC)
        first = await store.add_audit(AuditRow(created_at=now, receiver_origin="x", return_code="NCP_OK"))
        second = await store.add_audit(AuditRow(created_at=now, receiver_origin="y", return_code="NCP_CANCEL"))
        assert first.id is not None
        assert second.id is not None
        assert second.id != first.id
        assert (first.seq, second.seq) == (1, 2)
        assert second.prev_hash == first.row_hash
        state, links = await store.audit_chain()
        assert state.head_seq == 2
        assert state.head_hash == second.row_hash
        assert verify(links, state).ok
        assert [r.receiver_origin for r in await store.audit_records()] == ["x", "y"]
    finally:
        await store.aclose()
        await engine.dispose()


async def test_an_sqlite_store_in_memory_is_refused():
    engine = make_engine("sqlite+aiosqlite://")
    try:
        with pytest.raises(ValueError, match="SQLite file"):
            SessionStore(engine)
    finally:
        await engine.dispose()


async def test_the_entry_insert_is_relaxed_on_its_own_connection_and_the_audit_stays_fully_synced(tmp_path):
    # synchronous=NORMAL (WAL: durable against a process crash) for the ephemeral transfer records only; the
    # hash-chained audit is written on the SQLAlchemy connection with SQLite's FULL.
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'gw.db'}")
    await migrate(engine)
    store = SessionStore(engine)
    try:
        now = dt.datetime.now(dt.UTC)
        assert await store.put_new("one", _transfer(now + dt.timedelta(minutes=5)), now=now, max_live=10)
        assert store._sqlite is not None
        sessions = await store._sqlite.raw(lambda db: db.execute("PRAGMA synchronous").fetchone()[0])
        audit = await store._run(lambda conn: conn.execute(text("PRAGMA synchronous")).scalar_one())
        journal = await store._sqlite.raw(lambda db: db.execute("PRAGMA journal_mode").fetchone()[0])
        assert (sessions, audit, journal) == (1, 2, "wal")  # NORMAL, FULL
        await store.add_audit(AuditRow(created_at=now, receiver_origin="x", return_code="NCP_OK"))
        assert len(await store.audit_records()) == 1
    finally:
        await store.aclose()
        await engine.dispose()


async def test_a_failed_operation_on_the_sessions_connection_rolls_back_whole(tmp_path):
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'gw.db'}")
    await migrate(engine)
    store = SessionStore(engine)
    try:
        now = dt.datetime.now(dt.UTC)
        assert await store.put_new("one", _transfer(now + dt.timedelta(minutes=5)), now=now, max_live=10)
        assert store._sqlite is not None

        def delete_then_fail(db: sqlite3.Connection) -> None:
            db.execute("DELETE FROM gateway_session")
            raise RuntimeError("after the delete")

        with pytest.raises(RuntimeError):
            await store._sqlite.raw(delete_then_fail)
        assert await store.get("one") is not None  # rolled back, and no transaction left open:
        assert await store.put_new("two", _transfer(now + dt.timedelta(minutes=5)), now=now, max_live=10)
        assert await store.count_live(now) == 2
    finally:
        await store.aclose()
        await engine.dispose()


async def test_far_below_the_limit_the_entry_insert_runs_on_the_event_loop_without_a_count(tmp_path):
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'gw.db'}")
    await migrate(engine)
    store = SessionStore(engine)
    try:
        now = dt.datetime.now(dt.UTC)
        later = _transfer(now + dt.timedelta(minutes=5))
        assert await store.put_new("one", later, now=now, max_live=100)  # counted, on the worker
        assert store._sqlite is not None
        assert store._sqlite._inline_commits == 0
        assert await store.put_new("two", later, now=now, max_live=100)  # 1 live: far below 100
        assert store._sqlite._inline_commits == 1
        assert await store.count_live(now) == 2
        assert (await store.get("two")) == later
    finally:
        await store.aclose()
        await engine.dispose()


async def test_the_entry_insert_goes_to_the_worker_when_another_connection_holds_the_write_lock(tmp_path):
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'gw.db'}")
    await migrate(engine)
    store = SessionStore(engine)
    other = sqlite3.connect(tmp_path / "gw.db", isolation_level=None)  # another replica, mid-transaction
    try:
        now = dt.datetime.now(dt.UTC)
        later = _transfer(now + dt.timedelta(minutes=5))
        assert await store.put_new("one", later, now=now, max_live=100)
        other.execute("BEGIN IMMEDIATE")
        waiting = asyncio.create_task(store.put_new("two", later, now=now, max_live=100))
        await asyncio.sleep(0.2)
        assert not waiting.done()  # queued on the worker, which waits its turn (busy_timeout)
        other.execute("COMMIT")
        assert await waiting
        assert store._sqlite is not None
        assert store._sqlite._inline_commits == 0
        assert await store.count_live(now) == 2
    finally:
        other.close()
        await store.aclose()
        await engine.dispose()


async def test_the_inline_connection_leaves_its_checkpoints_to_the_worker(tmp_path, monkeypatch):
    monkeypatch.setattr(sqlite_thread, "CHECKPOINT_EVERY", 2)
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'gw.db'}")
    await migrate(engine)
    store = SessionStore(engine)
    try:
        assert store._sqlite is not None
        checkpoints: list[str] = []
        monkeypatch.setattr(store._sqlite, "_checkpoint", lambda: checkpoints.append(threading.current_thread().name))
        now = dt.datetime.now(dt.UTC)
        for name in ("one", "two", "three", "four", "five"):
            assert await store.put_new(name, _transfer(now + dt.timedelta(minutes=5)), now=now, max_live=100)
        await store.ping()  # after any checkpoint queued before it
        assert store._sqlite._inline_commits == 4
        assert len(checkpoints) == 2
        assert all(name.startswith("ncp-gateway-sqlite") for name in checkpoints)
        inline = store._sqlite._inline()
        assert inline.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 0
        assert inline.execute("PRAGMA synchronous").fetchone()[0] == 1
    finally:
        await store.aclose()
        await engine.dispose()


async def test_a_failed_count_lets_the_next_entry_count_again(tmp_path, monkeypatch):
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'gw.db'}")
    await migrate(engine)
    store = SessionStore(engine)
    try:
        now = dt.datetime.now(dt.UTC)

        async def failing(*_: object) -> int:
            raise RuntimeError("database gone")

        monkeypatch.setattr(store, "_count_and_put", failing)
        with pytest.raises(RuntimeError):
            await store.put_new("one", _transfer(now + dt.timedelta(minutes=5)), now=now, max_live=100)
        assert not store._live.recounting
        monkeypatch.undo()
        assert await store.put_new("one", _transfer(now + dt.timedelta(minutes=5)), now=now, max_live=100)
        assert store._live.count == 1
    finally:
        await store.aclose()
        await engine.dispose()


async def test_every_transfer_record_operation_works_inline_and_queued_behind_another_writer(tmp_path):
    """put, get, get_many, rotate and delete: on the event loop when the write lock is free; while another
    connection writes, the reads still answer at once (WAL) and the writes wait their turn on the worker."""
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'gw.db'}")
    await migrate(engine)
    store = SessionStore(engine)
    other = sqlite3.connect(tmp_path / "gw.db", isolation_level=None)  # another replica
    try:
        now = dt.datetime.now(dt.UTC)
        first = _transfer(now + dt.timedelta(minutes=5))
        second = first.model_copy(update={"csrf": "changed"})
        await store.put("a", first)
        await store.rotate("a", "b", second)
        assert await store.get("a") is None
        assert await store.get("b") == second
        assert store._sqlite is not None
        inline = store._sqlite._inline_commits
        assert inline == 2  # neither write went to the worker

        other.execute("BEGIN IMMEDIATE")
        other.execute("DELETE FROM gateway_session")  # not committed yet: invisible to readers
        assert await store.get_many(["b", "missing"]) == {"b": second}
        writes = [asyncio.create_task(store.put("c", first)), asyncio.create_task(store.delete("b"))]
        await asyncio.sleep(0.2)
        assert not any(w.done() for w in writes)  # queued behind the other writer
        other.execute("ROLLBACK")
        assert await writes[0] is None
        assert await writes[1] is True
        assert store._sqlite._inline_commits == inline
        assert await store.get_many(["b", "c"]) == {"c": first}
        assert await store.delete("b") is False
        assert await store.delete("c") is True
    finally:
        other.close()
        await store.aclose()
        await engine.dispose()


async def test_the_gateway_and_emrex2_purges_on_one_file_never_wait_for_each_other(tmp_path):
    # Both purges read before they write, on two connections (the worker's and the async engine's). Begun DEFERRED
    # they once waited on each other for the whole 30 s busy timeout (about one start-up in ten under load; this
    # loop is a guard, not a reliable reproduction: see ncp_runtime.sqlite and its tests for the mechanism).
    from ncp_gateway.adapters.oauth2_store import purge

    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'gw.db'}")
    await migrate(engine)
    store = SessionStore(engine)
    try:
        now = dt.datetime.now(dt.UTC)
        for round_ in range(40):
            await store.put(f"t{round_}", _transfer(now - dt.timedelta(minutes=1)))
            await store.add_audit(AuditRow(created_at=now - dt.timedelta(days=400), receiver_origin="https://e.fi",
                                           return_code="NCP_OK", protocol="emrex1"))
            async with asyncio.timeout(5):
                await asyncio.gather(store.purge(now), store.purge_audit(now - dt.timedelta(days=365)),
                                     store.run(purge(now, now - dt.timedelta(days=365))), store.ping())
        assert await store.count_live(now - dt.timedelta(hours=1)) == 0
        state, links = await store.audit_chain()
        assert links == []
        assert state.anchor_seq == state.head_seq == 40
    finally:
        await store.aclose()
        await engine.dispose()
