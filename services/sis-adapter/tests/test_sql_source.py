"""The SQL SIS and its demo data, on SQLite and on the real PostgreSQL (marker `postgres`)."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from emrex_elmo import Elmo, LearningOpportunitySpecification, to_xml, validate
from emrex_elmo.vocabulary import walk_with_depth
from ncp_contracts.sis import LearnerIdentity, QueryOptions
from ncp_demo_sis import DEMO_TENANTS, data as demo
from ncp_sis_adapter.adapters.build import build_tenants
from ncp_sis_adapter.adapters.sql.db import make_engine, migrate, ping
from ncp_sis_adapter.adapters.sql.source import SqlSource
from ncp_sis_adapter.adapters.sql.tables import (
    attainment_table,
    grading_scheme_table,
    learner_table,
    opportunity_table,
)
from ncp_sis_adapter.config import load_tenants
from ncp_sis_adapter.domain.fanout import query_institutions
from ncp_sis_adapter.domain.mapping import build_issuer
from ncp_sis_adapter.domain.sources import SourceUnavailable
from ncp_sis_adapter.settings import Settings

ISSUER = build_issuer(schac="aurora.example.fi", titles={"en": "Aurora"}, url="https://aurora.example.fi/")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def engine(request, tmp_path: Path, make_pg_schema, pg_url) -> AsyncIterator[AsyncEngine]:
    if request.param == "sqlite":
        eng = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'sis.db'}")
        await migrate(eng)
        await demo.seed(eng)
        yield eng
        await eng.dispose()
        return
    async with make_pg_schema() as schema:
        eng = make_engine(pg_url, schema=schema, pool_size=5)
        await migrate(eng, schema=schema)
        await demo.seed(eng)
        yield eng
        await eng.dispose()


async def dump(engine: AsyncEngine) -> list[tuple[object, ...]]:
    rows: list[tuple[object, ...]] = []
    async with engine.connect() as conn:
        for table, order in ((learner_table, "id"), (opportunity_table, "id"), (grading_scheme_table, "id"),
                             (attainment_table, "id")):
            cols = [c for c in table.c if c.name not in ("id", "learner_pk", "opportunity_id", "parent_id")]
            result = await conn.execute(sa.select(*cols).order_by(table.c[order]))
            rows.extend(tuple(r) for r in result)
    return rows


def demo_query(engine: AsyncEngine):
    tenants = build_tenants(load_tenants(DEMO_TENANTS), engine, Settings())
    institutions = tenants.by_name["default"]

    async def query(identity: LearnerIdentity, include_not_passed: bool = True):
        return await query_institutions(institutions, identity, QueryOptions(include_not_passed=include_not_passed))

    return query


def walk(items: list[LearningOpportunitySpecification]):
    return walk_with_depth(items, 1)


async def test_migrations_and_ping(engine):
    assert await ping(engine)
    async with engine.connect() as conn:
        version = (await conn.execute(sa.text("SELECT version_num FROM alembic_version"))).scalar_one()
    assert version == "0001"
    await migrate(engine)  # again: nothing to do


async def test_seed_is_idempotent_and_deterministic(engine, tmp_path):
    before = await dump(engine)
    summary = await demo.seed(engine)
    assert not summary.seeded
    assert await dump(engine) == before
    again = await demo.seed(engine, reset=True)
    assert again.seeded
    assert again.learners == 24
    assert await dump(engine) == before  # same content after a reset
    other = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'other.db'}")
    await migrate(other)
    await demo.seed(other)
    assert await dump(other) == before  # and the same on another database
    await other.dispose()


async def test_demo_data_covers_what_the_issue_asks(engine):
    async with engine.connect() as conn:
        learners = (await conn.execute(sa.select(learner_table))).all()
        attainments = (await conn.execute(sa.select(attainment_table))).all()
        schemes = (await conn.execute(sa.select(grading_scheme_table.c.local_id))).scalars().all()
    people = {(r.given_names, r.family_name) for r in learners}
    assert len(people) >= 20
    assert any("\u0370" <= ch <= "\u03ff" for g, f in people for ch in g + f)  # Greek
    assert any("\u0400" <= ch <= "\u04ff" for g, f in people for ch in g + f)  # Cyrillic
    assert {a.status for a in attainments} == {"passed", "failed", "in-progress"}
    assert {"ECTS-A-F", "FI-0-5", "PASS-FAIL", "DE-1.0-5.0"} <= set(schemes)
    assert any(a.credits is not None and a.credits != a.credits.to_integral_value() for a in attainments)
    assert len({a.language for a in attainments if a.language}) >= 5
    assert all(r.national_id and r.esi and r.learner_id for r in learners)


async def test_demo_learner_1(engine):
    query = demo_query(engine)
    outcome = await query(LearnerIdentity(learner_id="demo-learner-1", subject="demo-learner-1"))
    assert outcome.warnings == []
    assert len(outcome.reports) >= 2
    reports = [r.model() for r in outcome.reports]
    nodes = [pair for report in reports for pair in walk(report.learning_opportunity_specifications)]
    courses = [los for los, _ in nodes if los.type == "Course"]
    assert len(courses) >= 10
    assert any(los.specifies.status == "failed" for los in courses)
    assert any(los.specifies.status == "in-progress" for los in courses)
    degree = next(los for los, _ in nodes if los.type == "Degree Programme")
    assert max(depth for _, depth in walk([degree])) >= 3
    assert any(child.type == "Module" and any(g.type == "Module" for g in child.has_part)
               for child in degree.has_part)
    assert outcome.learner.given_names == "Aino Maria"
    assert outcome.learner.identifier("nationalIdentifier")
    assert outcome.learner.identifier("esi")


async def test_same_learner_found_by_every_identifier_kind(engine):
    query = demo_query(engine)
    first = await query(LearnerIdentity(learner_id="demo-learner-1"))
    national = first.learner.identifier("nationalIdentifier")
    esi = first.learner.identifier("esi")
    for identity in (LearnerIdentity(national_id=national), LearnerIdentity(esi=esi),
                     LearnerIdentity(subject="demo-learner-1"),
                     LearnerIdentity(national_id="000000-000X", learner_id="demo-learner-1")):
        outcome = await query(identity)
        assert len(outcome.reports) == len(first.reports), identity


async def test_demo_learner_empty_has_no_results(engine):
    outcome = await demo_query(engine)(LearnerIdentity(learner_id="demo-learner-empty"))
    assert outcome.reports == []
    assert outcome.warnings == []
    assert not outcome.unknown


async def test_unknown_learner_has_no_results(engine):
    outcome = await demo_query(engine)(LearnerIdentity(learner_id="nobody", national_id="010101-999X"))
    assert outcome.reports == []
    assert not outcome.unknown


async def test_every_demo_learner_serializes_to_xsd_valid_elmo_1_7(engine):
    query = demo_query(engine)
    with_results = 0
    for learner in demo.demo_learners():
        for include in (True, False):
            outcome = await query(LearnerIdentity(learner_id=learner.learner_id), include_not_passed=include)
            if not outcome.reports:
                continue
            with_results += 1
            reports = [r.model() for r in outcome.reports]
            elmo = Elmo(generated_date=datetime.now(UTC), learner=outcome.learner, reports=reports)
            validate(to_xml(elmo), "1.7.0")
            for report in reports:
                assert len(report.issuer.titles) >= 2
                assert {i.type for i in report.issuer.identifiers} == {"schac", "erasmus", "pic"}
                used = {los.specifies.grading_scheme_local_id for los, _ in walk(
                    report.learning_opportunity_specifications)} - {None}
                assert used == {s.local_id for s in report.grading_schemes}
                for los, _ in walk(report.learning_opportunity_specifications):
                    if los.has_part:
                        assert not los.specifies.credits  # ECTS only on leaves
                    if not include:
                        assert los.specifies.status == "passed" or los.has_part
    assert with_results >= 2 * 20


async def test_decimal_credits_survive_the_round_trip(engine):
    outcome = await demo_query(engine)(LearnerIdentity(learner_id="demo-learner-1"))
    credits = [los.specifies.credit() for r in outcome.reports for los, _ in walk(
        r.model().learning_opportunity_specifications) if los.specifies.credits]
    assert Decimal("2.5") in credits
    assert Decimal("7.5") in credits


async def test_database_failure_is_unavailable(tmp_path):
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")  # never migrated: no tables
    with pytest.raises(SourceUnavailable):
        await SqlSource(engine, "aurora", ISSUER).lookup("learner_id", "demo-learner-1")
    await engine.dispose()


def test_only_sqlite_and_asyncpg_urls_are_accepted():
    with pytest.raises(ValueError, match="asyncpg"):
        make_engine("postgresql+psycopg://u@h/db")
    with pytest.raises(ValueError, match="unsupported"):
        make_engine("mysql+aiomysql://u@h/db")


async def test_migrations_match_the_table_models(engine):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from ncp_sis_adapter.adapters.sql.tables import metadata

    def diff(connection):
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, metadata)

    async with engine.connect() as conn:
        differences = await conn.run_sync(diff)
    assert differences == []


def test_a_row_maps_to_the_record_in_field_order_and_odd_title_columns_take_the_exact_path():
    from datetime import date

    from ncp_sis_adapter.adapters.sql.source import to_record
    from ncp_sis_adapter.domain.records import RecordIssue, ResultRecord, Term

    def row(titles: object, term_titles: object) -> tuple[object, ...]:
        return (7, 3, "LOI-7", "failed", date(2024, 9, 1), date(2024, 12, 1), term_titles, date(2024, 8, 1),
                date(2024, 12, 31), "0-5", "1", Decimal("2.50"), "fi", "C7", "Course", titles, "0613", "6")

    term = Term((("en", "Autumn"),), date(2024, 8, 1), date(2024, 12, 31))
    assert to_record(row({"en": "Course 7"}, {"en": "Autumn"}), {3: "LOI-3"}) == ResultRecord(
        key="LOI-7", code="C7", titles=(("en", "Course 7"),), type="Course", parent_key="LOI-3", status="failed",
        start=date(2024, 9, 1), date=date(2024, 12, 1), term=term, grading_scheme="0-5", result_label="1",
        credits=Decimal("2.50"), eqf_level="6", language="fi", isced="0613")
    # Blank titles dropped, other JSON values as text (what str() gives), pairs given as a list read as a dict.
    odd = to_record(row({"en": "  ", "fi": 7, "sv": "Kurs"}, [("en", 2024)]), {})
    assert isinstance(odd, ResultRecord)
    assert odd.titles == (("fi", "7"), ("sv", "Kurs"))
    assert odd.parent_key == "#3"
    assert odd.term is not None
    assert odd.term.titles == (("en", "2024"),)
    assert to_record(row({"en": " "}, None), {}) == RecordIssue("titles", "missing; record skipped")
