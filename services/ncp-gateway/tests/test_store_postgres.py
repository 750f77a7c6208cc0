"""The session store and audit log on real PostgreSQL (asyncpg), in a schema of its own per test."""

import datetime as dt

import pytest

from ncp_gateway.adapters.store import SessionStore, migrate
from ncp_gateway.adapters.tables import AuditRow
from ncp_gateway.domain.transfer import Transfer

pytestmark = pytest.mark.postgres


def transfer(now: dt.datetime) -> Transfer:
    return Transfer(session_id="s", return_url="https://emc.example.fi/r", receiver_origin="https://emc.example.fi",
                    receiver_host="emc.example.fi", created_at=now, expires_at=now + dt.timedelta(minutes=20),
                    csrf="c")


async def test_store_round_trip_rotation_purge_and_audit(pg):
    engines = pg.engines(2)  # two replicas
    await migrate(engines[0], pg.schema)
    await migrate(engines[1], pg.schema)  # idempotent
    one, two = SessionStore(engines[0]), SessionStore(engines[1])
    now = dt.datetime.now(dt.UTC)
    await one.put("t1", transfer(now))
    assert (await two.get("t1")).session_id == "s"
    await two.rotate("t1", "t2", transfer(now))
    assert await one.get("t1") is None
    assert await one.get("t2") is not None
    assert await one.delete("t2") is True
    assert await two.delete("t2") is False  # a second replica cannot send it again
    await one.put("old", transfer(now - dt.timedelta(hours=3)))
    await two.purge(now - dt.timedelta(hours=1))
    assert await one.get("old") is None
    await one.add_audit(AuditRow(created_at=now, receiver_origin="https://emc.example.fi", return_code="NCP_OK",
                                 institutions="a.example.fi", learning_opportunities=2, credits="7.5",
                                 elmo_sha256="0" * 64, login_pseudonym="1" * 64))
    [record] = await two.audit_records()
    assert record.credits == "7.5"
    assert record.created_at.tzinfo is not None
    await one.ping()


async def test_whole_flow_on_postgresql(make_browser, kit, pg):
    async with make_browser(database_url=kit.PG_URL, database_schema=pg.schema) as b:
        await b.login("demo-learner-1")
        await b.submit(keys=["r2.0"])
        assert kit.handoff_of(await b.send()).fields["returnCode"] == "NCP_OK"
