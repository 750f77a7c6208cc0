import asyncio
from datetime import UTC, datetime

import pytest

from emrex_elmo import Learner
from ncp_contracts.sis import LearnerIdentity, QueryOptions
from ncp_sis_adapter.domain.breaker import CircuitBreaker
from ncp_sis_adapter.domain.fanout import Institution, query_institutions
from ncp_sis_adapter.domain.mapping import build_issuer, build_report
from ncp_sis_adapter.domain.records import RecordIssue, ResultRecord, SourceAnswer
from ncp_sis_adapter.domain.sources import SourceBadData, SourceUnavailable

IDENTITY = LearnerIdentity(national_id="010101-123N", learner_id="demo-learner-1")


class FakeSis:
    """An upstream SIS stand-in with a chosen behaviour (these are external systems, not our services)."""

    def __init__(self, schac, behaviour="ok", known_by="national_id", records=None):
        self.schac = schac
        self.behaviour = behaviour
        self.known_by = known_by
        self.records = records or [
            ResultRecord(key=f"{schac}-1", code="C1", titles=(("en", "Passed course"),)),
            ResultRecord(key=f"{schac}-2", code="C2", titles=(("en", "Failed course"),), status="failed"),
        ]
        self.calls = []

    async def lookup(self, kind, value):
        self.calls.append(kind)
        if self.behaviour == "slow":
            await asyncio.sleep(5)
        if self.behaviour == "down":
            raise SourceUnavailable("the SIS answered HTTP 500")
        if self.behaviour == "garbage":
            raise SourceBadData("the SIS answered malformed JSON")
        if self.behaviour == "bug":
            raise KeyError("oops")
        if kind != self.known_by:
            return None
        issuer = build_issuer(schac=self.schac, titles={"en": self.schac}, url=f"https://{self.schac}/")
        report, issues = build_report(issuer, self.records, [], datetime.now(UTC))
        if self.behaviour == "partly_bad":
            issues.append(RecordIssue("grade", "not in the code list"))
        return SourceAnswer(Learner(given_names="Aino", family_name="Virtanen"), [report], issues)

    async def aclose(self):
        return None


def institution(source, timeout=1.0, breaker=None, matching=("national_id", "learner_id")):
    return Institution(schac=source.schac, source=source, matching=list(matching), timeout_seconds=timeout,
                       breaker=breaker or CircuitBreaker(3, 60))


async def test_all_answer_gives_one_report_per_institution_in_config_order():
    a, b = FakeSis("a.example.fi"), FakeSis("b.example.se", known_by="learner_id")
    outcome = await query_institutions([institution(a), institution(b)], IDENTITY, QueryOptions())
    assert [r.model().issuer.identifier("schac") for r in outcome.reports] == ["a.example.fi", "b.example.se"]
    assert outcome.warnings == []
    assert not outcome.unknown
    assert b.calls == ["national_id", "learner_id"]  # national id found nothing; retried by learner id
    assert a.calls == ["national_id"]  # first match stops the chain


async def test_partial_failure_returns_results_and_a_warning_per_failed_institution():
    sources = [FakeSis("ok.example.fi"), FakeSis("slow.example.fi", "slow"), FakeSis("down.example.fi", "down"),
               FakeSis("bad.example.fi", "garbage"), FakeSis("bug.example.fi", "bug")]
    started = asyncio.get_running_loop().time()
    outcome = await query_institutions([institution(s, timeout=0.3) for s in sources], IDENTITY, QueryOptions())
    assert asyncio.get_running_loop().time() - started < 2  # concurrent, bounded by the timeout
    assert len(outcome.reports) == 1
    assert {(w.institution, w.code) for w in outcome.warnings} == {
        ("slow.example.fi", "timeout"), ("down.example.fi", "unavailable"), ("bad.example.fi", "bad_data"),
        ("bug.example.fi", "internal_error"),
    }
    assert not outcome.unknown
    assert outcome.failed == 4


async def test_all_failing_is_unknown_not_no_results():
    sources = [FakeSis("down.example.fi", "down"), FakeSis("slow.example.fi", "slow")]
    outcome = await query_institutions([institution(s, timeout=0.2) for s in sources], IDENTITY, QueryOptions())
    assert outcome.all_failed
    assert outcome.unknown
    assert outcome.reports == []


async def test_nobody_knows_the_learner_is_no_results():
    outcome = await query_institutions([institution(FakeSis("a.example.fi", known_by="esi"))], IDENTITY,
                                       QueryOptions())
    assert not outcome.unknown
    assert outcome.reports == []
    assert outcome.learner is None


async def test_not_passed_results_are_dropped_unless_asked_for():
    source = FakeSis("a.example.fi")
    with_all = await query_institutions([institution(source)], IDENTITY, QueryOptions(include_not_passed=True))
    passed = await query_institutions([institution(source)], IDENTITY, QueryOptions(include_not_passed=False))
    assert len(with_all.reports[0].model().learning_opportunity_specifications) == 2
    assert [los.identifier("local") for los in passed.reports[0].model().learning_opportunity_specifications] == [
        "C1"]


async def test_skipped_records_become_bad_data_warnings_beside_the_results():
    outcome = await query_institutions([institution(FakeSis("a.example.fi", "partly_bad"))], IDENTITY,
                                       QueryOptions())
    assert len(outcome.reports) == 1
    assert [(w.code, w.message) for w in outcome.warnings] == [
        ("bad_data", "1 record: field 'grade': not in the code list")
    ]


async def test_circuit_breaker_stops_asking_a_failing_institution():
    source = FakeSis("down.example.fi", "down")
    breaker = CircuitBreaker(failure_threshold=2, reset_seconds=60)
    inst = institution(source, breaker=breaker)
    for _ in range(2):
        outcome = await query_institutions([inst], IDENTITY, QueryOptions())
        assert outcome.warnings[0].code == "unavailable"
    calls = len(source.calls)
    outcome = await query_institutions([inst], IDENTITY, QueryOptions())
    assert outcome.warnings[0].code == "circuit_open"
    assert len(source.calls) == calls  # not asked at all


@pytest.mark.parametrize("behaviour", ["slow", "down"])
async def test_breaker_counts_timeouts_and_errors(behaviour):
    breaker = CircuitBreaker(failure_threshold=1, reset_seconds=60)
    await query_institutions([institution(FakeSis("x.example.fi", behaviour), 0.1, breaker)], IDENTITY,
                             QueryOptions())
    assert breaker.state == "open"
