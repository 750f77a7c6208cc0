"""The audit trail is a hash chain: an edited, deleted or reordered record is found; replicas appending at once
(SQLite file, real PostgreSQL) leave one valid chain; the retention purge leaves an anchor the rest verifies from."""

import asyncio
import datetime as dt
import itertools
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from ncp_gateway.adapters.store import SessionStore, create_tables, make_engine
from ncp_gateway.adapters.tables import AuditRow
from ncp_gateway.domain.audit_chain import ChainReport, verify

NOW = dt.datetime(2026, 11, 30, 8, 0, tzinfo=dt.UTC)


def record(n: int, *, at: dt.datetime = NOW, pseudonym: str | None = None) -> AuditRow:
    return AuditRow(created_at=at, receiver_origin=f"https://emc{n % 3}.example.fi", return_code="NCP_OK",
                    institutions="a.example.fi b.example.de", learning_opportunities=n, credits=f"{n}.5",
                    elmo_sha256=f"{n:064x}", login_pseudonym=pseudonym or f"{n % 5:064x}", protocol="emrex1")


async def replica_stores(engines: list[AsyncEngine], schema: str | None = None) -> list[SessionStore]:
    """One store per engine (a replica with its own pool); replicas start one after the other (tables made once)."""
    for engine in engines:
        await create_tables(engine, schema)
    return [SessionStore(engine) for engine in engines]


async def append(store: SessionStore, numbers: range) -> None:
    """One writer: records one after the other."""
    for n in numbers:
        await store.add_audit(record(n))


async def chain_report(store: SessionStore) -> ChainReport:
    state, links = await store.audit_chain()
    return verify(links, state)


@pytest.fixture
async def sqlite_engine(tmp_path: Path):
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'gw.db'}")
    await create_tables(engine)
    yield engine
    await engine.dispose()


@pytest.fixture
async def filled(sqlite_engine: AsyncEngine) -> SessionStore:
    store = SessionStore(sqlite_engine)
    for n in range(1, 7):
        await store.add_audit(record(n))
    report = await chain_report(store)
    assert report.ok
    assert report.checked == 6
    return store


async def sql(engine: AsyncEngine, statement: str, **params: object) -> None:
    async with engine.begin() as conn:
        await conn.execute(text(statement), params)


async def test_each_record_links_to_the_one_before(filled: SessionStore) -> None:
    rows = await filled.audit_records()
    assert [r.seq for r in rows] == [1, 2, 3, 4, 5, 6]
    assert all(later.prev_hash == earlier.row_hash for earlier, later in itertools.pairwise(rows))
    assert len({r.row_hash for r in rows}) == 6


@pytest.mark.parametrize(("column", "value"), [
    ("return_code", "NCP_CANCEL"), ("receiver_origin", "https://evil.example"), ("credits", "99"),
    ("elmo_sha256", "f" * 64), ("login_pseudonym", "e" * 64), ("protocol", "emrex2"),
    ("learning_opportunities", 40), ("institutions", "x.example.fi"),
])
async def test_an_edited_record_is_found(filled: SessionStore, sqlite_engine: AsyncEngine, column: str,
                                         value: object) -> None:
    await sql(sqlite_engine, f"UPDATE gateway_audit SET {column} = :v WHERE seq = 3", v=value)
    report = await chain_report(filled)
    assert report.first_break is not None
    assert (report.first_break.seq, report.checked) == (3, 2)
    assert "changed" in report.first_break.reason


async def test_an_edited_timestamp_is_found(filled: SessionStore, sqlite_engine: AsyncEngine) -> None:
    async with sqlite_engine.begin() as conn:
        await conn.execute(text("UPDATE gateway_audit SET created_at = :v WHERE seq = 4"),
                           {"v": NOW - dt.timedelta(days=400)})
    report = await chain_report(filled)
    assert report.first_break is not None
    assert report.first_break.seq == 4


async def test_an_edit_with_its_hash_recomputed_breaks_the_next_link(filled: SessionStore,
                                                                     sqlite_engine: AsyncEngine) -> None:
    from ncp_gateway.adapters.store import audit_content
    from ncp_gateway.domain.audit_chain import link_hash

    [row] = [r for r in await filled.audit_records() if r.seq == 2]
    row.return_code = "NCP_CANCEL"
    forged = link_hash(row.prev_hash, audit_content(row))
    await sql(sqlite_engine, "UPDATE gateway_audit SET return_code = 'NCP_CANCEL', row_hash = :h WHERE seq = 2",
              h=forged)
    report = await chain_report(filled)
    assert report.first_break is not None
    assert report.first_break.seq == 3
    assert "previous" in report.first_break.reason


@pytest.mark.parametrize("seq", [1, 3, 6])
async def test_a_deleted_record_is_found(filled: SessionStore, sqlite_engine: AsyncEngine, seq: int) -> None:
    await sql(sqlite_engine, "DELETE FROM gateway_audit WHERE seq = :s", s=seq)
    report = await chain_report(filled)
    assert report.first_break is not None
    assert report.checked == seq - 1
    assert "missing" in report.first_break.reason


async def test_a_deleted_record_with_the_rest_renumbered_is_found(filled: SessionStore,
                                                                 sqlite_engine: AsyncEngine) -> None:
    await sql(sqlite_engine, "DELETE FROM gateway_audit WHERE seq = 3")
    for seq in (4, 5, 6):
        await sql(sqlite_engine, "UPDATE gateway_audit SET seq = :n WHERE seq = :s", n=seq - 1, s=seq)
    await sql(sqlite_engine, "UPDATE gateway_audit_chain SET head_seq = 5")
    report = await chain_report(filled)
    assert report.first_break is not None
    assert report.first_break.seq == 3


async def test_reordered_records_are_found(filled: SessionStore, sqlite_engine: AsyncEngine) -> None:
    # Swap the places of records 2 and 4 (their sequence numbers), contents and hashes untouched.
    await sql(sqlite_engine, "UPDATE gateway_audit SET seq = -1 WHERE seq = 2")
    await sql(sqlite_engine, "UPDATE gateway_audit SET seq = 2 WHERE seq = 4")
    await sql(sqlite_engine, "UPDATE gateway_audit SET seq = 4 WHERE seq = -1")
    report = await chain_report(filled)
    assert report.first_break is not None
    assert report.first_break.seq == 2


async def test_swapped_contents_are_found(filled: SessionStore, sqlite_engine: AsyncEngine) -> None:
    # Records 2 and 5 exchange everything but their place in the chain.
    async with sqlite_engine.begin() as conn:
        two = (await conn.execute(text("SELECT return_code, credits, elmo_sha256 FROM gateway_audit "
                                       "WHERE seq = 2"))).one()
        five = (await conn.execute(text("SELECT return_code, credits, elmo_sha256 FROM gateway_audit "
                                        "WHERE seq = 5"))).one()
        for seq, values in ((2, five), (5, two)):
            await conn.execute(text("UPDATE gateway_audit SET return_code = :r, credits = :c, elmo_sha256 = :e "
                                    "WHERE seq = :s"), {"r": values[0], "c": values[1], "e": values[2], "s": seq})
    report = await chain_report(filled)
    assert report.first_break is not None
    assert report.first_break.seq == 2


async def test_records_cut_from_the_end_are_found(filled: SessionStore, sqlite_engine: AsyncEngine) -> None:
    await sql(sqlite_engine, "DELETE FROM gateway_audit WHERE seq >= 5")
    report = await chain_report(filled)
    assert report.first_break is not None
    assert report.checked == 4
    assert "end" in report.first_break.reason


async def test_the_purge_leaves_an_anchor_the_rest_verifies_from(sqlite_engine: AsyncEngine) -> None:
    store = SessionStore(sqlite_engine)
    for n in range(1, 5):
        await store.add_audit(record(n, at=NOW - dt.timedelta(days=400 - n)))
    for n in range(5, 8):
        await store.add_audit(record(n, at=NOW - dt.timedelta(days=1)))
    assert await store.purge_audit(NOW - dt.timedelta(days=365)) == 4
    assert await store.purge_audit(NOW - dt.timedelta(days=365)) == 0  # idempotent, anchor kept
    state, links = await store.audit_chain()
    assert (state.anchor_seq, [link.seq for link in links]) == (4, [5, 6, 7])
    assert verify(links, state).ok
    await store.add_audit(record(8))
    assert (await chain_report(store)).ok
    # Removing the oldest remaining record by hand is still found: the anchor does not meet it.
    await sql(sqlite_engine, "DELETE FROM gateway_audit WHERE seq = 5")
    assert not (await chain_report(store)).ok


async def test_a_purge_of_everything_still_verifies_and_continues(sqlite_engine: AsyncEngine) -> None:
    store = SessionStore(sqlite_engine)
    for n in range(1, 4):
        await store.add_audit(record(n, at=NOW - dt.timedelta(days=500)))
    assert await store.purge_audit(NOW) == 3
    assert (await chain_report(store)).ok
    await store.add_audit(record(4))
    state, links = await store.audit_chain()
    assert [link.seq for link in links] == [4]
    assert verify(links, state).ok


async def test_replicas_appending_at_once_on_one_sqlite_file_keep_one_chain(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'shared.db'}"
    engines = [make_engine(url) for _ in range(3)]
    try:
        stores = await replica_stores(engines)
        await asyncio.gather(*(stores[n % 3].add_audit(record(n)) for n in range(60)))
        report = await chain_report(stores[0])
        assert report.ok
        assert report.checked == 60
    finally:
        for engine in engines:
            await engine.dispose()


@pytest.mark.postgres
async def test_replicas_appending_at_once_on_postgresql_keep_one_chain(pg) -> None:
    stores = await replica_stores(pg.engines(4), pg.schema)
    # Each replica runs several writers at once too: 4 x 3 concurrent writers, 360 records.
    await asyncio.gather(*(append(store, range(1000 * i + 100 * j, 1000 * i + 100 * j + 30))
                           for i, store in enumerate(stores) for j in range(3)))
    for _ in range(2):
        # A purge racing with appends still removes a prefix and leaves a verifiable chain.
        await asyncio.gather(stores[0].purge_audit(NOW + dt.timedelta(seconds=1)),
                             *(stores[k].add_audit(record(9000 + k, at=NOW + dt.timedelta(hours=1)))
                               for k in range(1, 4)))
    state, links = await stores[1].audit_chain()
    assert state.anchor_seq == 360
    assert state.head_seq == 366
    report = verify(links, state)
    assert report.ok
    assert report.checked == 6
    seqs = [link.seq for link in links]
    assert seqs == list(range(361, 367))


@pytest.mark.postgres
async def test_replicas_on_postgresql_chain_every_record(pg) -> None:
    stores = await replica_stores(pg.engines(3), pg.schema)
    # 3 replicas x 5 writers each (a connection each: the shared server's connection limit is not the test).
    await asyncio.gather(*(append(stores[k % 3], range(10 * k, 10 * k + 10)) for k in range(15)))
    report = await chain_report(stores[2])
    assert report.ok
    assert report.checked == 150
    rows = await stores[0].audit_records()
    assert sorted(r.learning_opportunities for r in rows) == list(range(150))
    # An edit on PostgreSQL is found as well.
    await pg.conn.execute(f'UPDATE "{pg.schema}".gateway_audit SET credits = $1 WHERE seq = 77', "0")
    report = await chain_report(stores[1])
    assert report.first_break is not None
    assert report.first_break.seq == 77


_BEFORE_THE_CHAIN = """CREATE TABLE gateway_audit (
    id {id_type} PRIMARY KEY, created_at {ts} NOT NULL, receiver_origin VARCHAR(2048) NOT NULL,
    return_code VARCHAR(32) NOT NULL, institutions VARCHAR(4096) NOT NULL, learning_opportunities INTEGER NOT NULL,
    credits VARCHAR NOT NULL, elmo_sha256 VARCHAR(64), login_pseudonym VARCHAR(64))"""


async def _upgrade_keeps_and_chains_old_records(engine: AsyncEngine, schema: str | None, *, postgres: bool) -> None:
    async with engine.begin() as conn:
        if postgres:
            await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        await conn.execute(text(_BEFORE_THE_CHAIN.format(id_type="SERIAL" if postgres else "INTEGER",
                                                         ts="TIMESTAMP WITH TIME ZONE" if postgres else "DATETIME")))
        # create_all made both tables before migrations; such a database is taken as revision 0001.
        ts = "TIMESTAMP WITH TIME ZONE" if postgres else "DATETIME"
        await conn.execute(text(f"CREATE TABLE gateway_session (id VARCHAR(64) PRIMARY KEY, expires_at {ts} NOT NULL, "
                                "data TEXT NOT NULL)"))
        for n in (1, 2):
            await conn.execute(text("INSERT INTO gateway_audit (created_at, receiver_origin, return_code, "
                                    "institutions, learning_opportunities, credits) VALUES (:at, 'https://e.fi', "
                                    "'NCP_OK', 'a.fi', :n, '1')"), {"at": NOW - dt.timedelta(days=3 - n), "n": n})
    await create_tables(engine, schema)
    await create_tables(engine, schema)  # a second replica starting: nothing more to do
    store = SessionStore(engine)
    report = await chain_report(store)
    assert report.ok
    assert report.checked == 2
    await store.add_audit(record(3))
    rows = await store.audit_records()
    assert [(r.seq, r.protocol, r.learning_opportunities) for r in rows] == [(1, "emrex1", 1), (2, "emrex1", 2),
                                                                           (3, "emrex1", 3)]
    assert (await chain_report(store)).ok


async def test_an_audit_table_from_before_the_chain_is_upgraded_and_chained(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'old.db'}")
    try:
        await _upgrade_keeps_and_chains_old_records(engine, None, postgres=False)
    finally:
        await engine.dispose()


@pytest.mark.postgres
async def test_an_audit_table_from_before_the_chain_is_upgraded_on_postgresql(pg) -> None:
    [engine] = pg.engines(1)
    await _upgrade_keeps_and_chains_old_records(engine, pg.schema, postgres=True)
