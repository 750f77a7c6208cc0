"""EMREX 2.0 state on real PostgreSQL shared by two replicas: a jti is accepted once, a code is claimed once
(even when both replicas race for it), and a replay revokes the tokens issued from the code."""

import asyncio
import datetime as dt

import pytest

from ncp_gateway.adapters.oauth2_store import (
    CodeRow,
    ConsentRow,
    OAuth2Store,
    ReleaseRow,
    TokenRow,
    purge,
)
from ncp_gateway.adapters.store import SessionStore, migrate

pytestmark = pytest.mark.postgres


@pytest.fixture
async def replicas(pg):
    engines = pg.engines(2)
    for engine in engines:
        await migrate(engine, pg.schema)  # both replicas migrate: the second finds nothing to do
    return [OAuth2Store(engine) for engine in engines], [SessionStore(engine) for engine in engines]


async def test_jti_once_code_once_and_replay_revokes_across_replicas(replicas):
    (one, two), (records, _) = replicas
    now = dt.datetime.now(dt.UTC)
    later = now + dt.timedelta(seconds=60)
    assert await one.remember_jti("emc", "j1", later)
    assert not await two.remember_jti("emc", "j1", later)
    assert await two.remember_jti("other-emc", "j1", later)  # jti is unique per client

    await one.release(
        ConsentRow(ref_id="r1", learner_pseudonym="p", selected="[]", client_id="emc", consented_at=now,
                   wording_version="1"),
        ReleaseRow(ref_id="r1", document="<elmo/>", expires_at=later),
        CodeRow(id="c1", ref_id="r1", client_id="emc", redirect_uri="https://emc/cb", code_challenge="x" * 43,
                scope="elmo", expires_at=later))
    claims = await asyncio.gather(*(store.claim_code("c1") for store in (one, two, one, two)))
    assert sorted(first for _, first in claims) == [False, False, False, True]
    assert all(grant is not None and grant.ref_id == "r1" for grant, _ in claims)

    await one.issue(TokenRow(id="t1", code_id="c1", ref_id="r1", client_id="emc", scope="elmo", expires_at=later))
    assert (await two.access("t1", now)).ref_id == "r1"
    assert await two.document("r1", now) == (True, "<elmo/>")
    assert await two.revoke_from_code("c1") == 1
    assert await one.access("t1", now) is None
    assert await one.access("t1", later + dt.timedelta(seconds=1)) is None

    await records.run(purge(later + dt.timedelta(hours=1), now - dt.timedelta(days=1)))
    assert await two.document("r1", now) == (False, None)
    assert (await two.consent("r1")) is not None  # consent stays for the audit period
    assert await two.remember_jti("emc", "j1", later)  # forgotten once expired
