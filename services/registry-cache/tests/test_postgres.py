"""Several replicas on one PostgreSQL: one refresher wins, versions are never duplicated."""

import asyncio
import os
import secrets
from datetime import UTC, datetime

import pytest

from ncp_registry_cache.adapters.db import create_engine, migrate
from ncp_registry_cache.adapters.store import Store

pytestmark = pytest.mark.postgres

PG_URL = os.environ.get("NCP_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.fixture
async def pg_schema():
    import asyncpg

    try:
        conn = await asyncio.wait_for(asyncpg.connect(PG_URL), timeout=5)
    except (TimeoutError, OSError, asyncpg.PostgresError) as exc:
        pytest.skip(f"PostgreSQL at NCP_TEST_DATABASE_URL is unreachable: {type(exc).__name__}: {exc}")
    schema = f"registry_cache_test_{secrets.token_hex(6)}"
    try:
        yield schema
    finally:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        await conn.close()


def pg_settings(kit, tmp_path, upstream, tokens_dir, schema, name):
    return kit.make_settings(tmp_path, upstream.url, tokens_dir, database_url=PG_URL, database_schema=schema,
                             instance_id=name)


async def test_two_replicas_store_each_content_once(tmp_path, upstream, pki, kit, tokens_dir, admin_token, pg_schema):
    a_settings = pg_settings(kit, tmp_path, upstream, tokens_dir, pg_schema, "replica-a")
    b_settings = pg_settings(kit, tmp_path, upstream, tokens_dir, pg_schema, "replica-b")
    a_gen, b_gen = kit.start(a_settings, admin_token), kit.start(b_settings, admin_token)
    # Both start (and migrate) at the same time.
    a, b = await asyncio.gather(a_gen.__anext__(), b_gen.__anext__())
    try:
        docs = [kit.registry_doc(pki), kit.registry_doc(pki, extra=[
            kit.emp("NEW", "https://new.example.se/emp", "SE", pki.nodes["OTHER"])])]
        for round_, doc in enumerate([*docs, docs[0]]):
            upstream.set(doc)
            results = await asyncio.gather(a.refresh(), b.refresh(), a.refresh(), b.refresh())
            codes = sorted(r.status_code for r in results)
            assert set(codes) <= {200, 409}, [r.text for r in results]
            outcomes = [r.json()["outcomes"][0]["outcome"] for r in results if r.status_code == 200]
            assert outcomes.count("accepted") == 1, (round_, outcomes)
            status_a = (await a.client.get("/v1/status")).json()
            status_b = (await b.client.get("/v1/status")).json()
            assert status_a["version"] == status_b["version"]
            assert status_a["emps"] == status_b["emps"] == len(doc["emps"])
        assert status_a["versions_stored"] == 2
        # Both serve the same data; a lookup answered by either replica agrees.
        for running in (a, b):
            r = await running.client.get("/v1/emps/lookup", params={"url": "https://fsweb.example.no/ncp/"})
            assert r.json()["acronym"] == "FSAT"
    finally:
        for gen in (a_gen, b_gen):
            with pytest.raises(StopAsyncIteration):
                await gen.__anext__()


async def test_read_only_replica_follows_the_database(tmp_path, upstream, kit, tokens_dir, admin_token, pg_schema):
    writer = pg_settings(kit, tmp_path, upstream, tokens_dir, pg_schema, "writer")
    reader = kit.make_settings(tmp_path, upstream.url, tokens_dir, database_url=PG_URL, database_schema=pg_schema,
                               instance_id="reader", run_refresher=False, refresh_interval=0.2, retry_interval=0.1)
    async for w in kit.start(writer, admin_token):
        async for r in kit.start(reader, admin_token):
            assert (await r.client.get("/readyz")).status_code == 503
            assert (await w.refresh()).status_code == 200
            for _ in range(50):
                if (await r.client.get("/readyz")).status_code == 200:
                    break
                await asyncio.sleep(0.1)
            assert (await r.client.get("/readyz")).status_code == 200
            assert len((await r.client.get("/v1/emps")).json()["emps"]) == 4
            assert len(upstream.requests) == 1  # only the writer fetched


async def test_unique_content_and_lease_on_postgres(pg_schema):
    engine_a = create_engine(PG_URL.replace("postgresql://", "postgresql+asyncpg://"), pg_schema)
    engine_b = create_engine(PG_URL.replace("postgresql://", "postgresql+asyncpg://"), pg_schema)
    try:
        await asyncio.gather(migrate(engine_a, pg_schema), migrate(engine_b, pg_schema))
        a, b = Store(engine_a), Store(engine_b)
        now = datetime.now(UTC)
        kwargs = {"kind": "emreg", "source": "https://emreg.example/emp-list.json", "sha256": "ab" * 32,
                  "body": b"{}", "etag": None, "last_modified": None, "format": "emps", "emps": 0, "now": now}
        ids = await asyncio.gather(*(store.accept_version(**kwargs) for store in (a, b, a, b)))
        assert len(set(ids)) == 1
        assert await a.count_versions() == 1
        wins = await asyncio.gather(*(s.try_acquire_lease(name, 60, now) for s, name in
                                      ((a, "a"), (b, "b"), (a, "c"), (b, "d"))))
        assert wins.count(True) == 1
        winner = "abcd"[wins.index(True)]
        assert await a.try_acquire_lease(winner, 60, now)  # the holder may renew
        later = datetime.fromtimestamp(now.timestamp() + 120, UTC)
        assert await b.try_acquire_lease("z", 60, later)  # an expired lease can be taken over
        await b.release_lease("z")
        assert await a.try_acquire_lease("y", 60, later)
    finally:
        await engine_a.dispose()
        await engine_b.dispose()
