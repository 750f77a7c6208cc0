"""The sis-adapter's per-institution series: outcomes, latency and circuit-breaker state, as scraped."""

import asyncio
from datetime import UTC, datetime

import httpx
from fastapi import FastAPI

from emrex_elmo import Learner
from ncp_contracts.sis import LearnerIdentity, QueryOptions
from ncp_sis_adapter.domain.breaker import CircuitBreaker
from ncp_sis_adapter.domain.fanout import Institution, query_institutions
from ncp_sis_adapter.domain.mapping import build_issuer, build_report
from ncp_sis_adapter.domain.records import ResultRecord, SourceAnswer
from ncp_sis_adapter.domain.sources import SourceUnavailable
from ncp_sis_adapter.observability import install
from ncp_testkit.observe import sample, scrape

IDENTITY = LearnerIdentity(national_id="010101-123N", learner_id="demo-learner-1")


class Sis:
    """An upstream SIS stand-in (an external system, not one of our services)."""

    def __init__(self, schac: str, behaviour: str) -> None:
        self.schac = schac
        self.behaviour = behaviour

    async def lookup(self, kind: str, value: str) -> SourceAnswer | None:
        if self.behaviour == "down":
            raise SourceUnavailable("the SIS answered HTTP 500")
        if self.behaviour == "slow":
            await asyncio.sleep(5)
        issuer = build_issuer(schac=self.schac, titles={"en": self.schac}, url=f"https://{self.schac}/")
        report, _ = build_report(issuer, [ResultRecord(key="k1", code="C1", titles=(("en", "Course"),))], [],
                                 datetime.now(UTC))
        return SourceAnswer(Learner(given_names="Aino", family_name="Virtanen"), [report], [])

    async def aclose(self) -> None:
        return None


async def test_outcomes_latency_and_an_open_breaker_per_institution():
    app = FastAPI()
    metrics = install(app)
    institutions = [
        Institution(schac=s.schac, source=s, matching=["national_id"], timeout_seconds=0.2,
                    breaker=CircuitBreaker(2, 60))
        for s in (Sis("ok.example.fi", "ok"), Sis("down.example.se", "down"), Sis("slow.example.de", "slow"))
    ]
    metrics.watch(institutions)
    for _ in range(3):
        await query_institutions(institutions, IDENTITY, QueryOptions())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sis") as http:
        text, samples = await scrape(http)
    assert sample(samples, "ncp_sis_requests_total", institution="ok.example.fi", outcome="ok") == 3
    assert sample(samples, "ncp_sis_requests_total", institution="down.example.se", outcome="unavailable") == 2
    assert sample(samples, "ncp_sis_requests_total", institution="down.example.se", outcome="circuit_open") == 1
    assert sample(samples, "ncp_sis_requests_total", institution="slow.example.de", outcome="timeout") == 2
    assert sample(samples, "ncp_sis_request_duration_seconds_count", institution="ok.example.fi") == 3
    assert sample(samples, "ncp_sis_request_duration_seconds_sum", institution="slow.example.de") >= 0.4
    for schac, state in (("ok.example.fi", "closed"), ("down.example.se", "open"), ("slow.example.de", "open")):
        assert sample(samples, "ncp_sis_circuit_breaker_state", institution=schac, state=state) == 1
        assert sum(sample(samples, "ncp_sis_circuit_breaker_state", institution=schac, state=s)
                   for s in ("closed", "open", "half_open")) == 1
    for value in ("010101-123N", "demo-learner-1", "Virtanen"):
        assert value not in text
