"""Benchmark: results query for a learner with 500 results, on PostgreSQL, against the bare SQL as floor.

The ratio `make bench` reports: CPU time of the service plus the gateway's parse of its answer (SisClient over
ASGITransport, one process, sequential queries) against the floor of the same two SQL statements with their
rows turned into plain dicts and serialised with json.dumps. Exits non-zero when a query fails.

Measures in one run:
  - latency p50/p99 of POST /v1/results/query (via SisClient over ASGITransport: routing, auth, fan-out,
    SQL, mapping to the ELMO model, JSON) for one learner with 500 results at one institution;
  - the floor: the same two SQL statements (learner lookup + results) on the same engine, without the service;
  - throughput at 50 concurrent queries, for the service and for the bare SQL.

Usage: .venv/bin/python services/sis-adapter/bench/bench_query.py [--queries 300] [--concurrency 50]
Database: NCP_TEST_DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/test); a unique schema is
created and dropped.
"""

import argparse
import asyncio
import json
import os
import secrets
import statistics
import tempfile
import time
import uuid
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import asyncpg
import httpx
from asgi_lifespan import LifespanManager

from emrex_elmo.vocabulary import walk
from ncp_contracts import BearerAuth
from ncp_contracts.sis import LearnerIdentity, ResultsQuery, SisClient
from ncp_sis_adapter.adapters.sql.db import make_engine, migrate
from ncp_sis_adapter.adapters.sql.source import RESULTS_QUERY, learner_query
from ncp_sis_adapter.adapters.sql.tables import (
    attainment_table,
    grading_scheme_table,
    institution_table,
    learner_table,
    opportunity_table,
)
from ncp_sis_adapter.app import create_app
from ncp_sis_adapter.settings import Settings
from ncp_testkit.benchmark import Ratio, publish

PG = os.environ.get("NCP_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
LEARNER = "bench-learner-500"
TENANTS = """
[tenants.default]
matching = ["national_id", "learner_id"]
[[tenants.default.institutions]]
schac = "bench.example.fi"
country = "FI"
url = "https://bench.example.fi/"
titles = { fi = "Suorituskykyyliopisto", en = "Benchmark University" }
adapter = { kind = "sql", institution_key = "bench" }
"""


async def fill(engine, results: int) -> None:
    """One learner with `results` attainments: 1 degree, modules of 24 courses, the rest courses."""
    async with engine.begin() as conn:
        await conn.execute(institution_table.insert().values(key="bench", name="Benchmark University"))
        await conn.execute(grading_scheme_table.insert().values(
            institution_key="bench", local_id="FI-0-5", descriptions={"en": "0-5", "fi": "0-5"}))
        opp = []
        for i in range(results):
            kind = "Degree Programme" if i == 0 else ("Module" if i % 25 == 1 else "Course")
            opp.append({"institution_key": "bench", "code": f"B{i:04d}", "type": kind,
                        "titles": {"fi": f"Opintojakso {i}", "en": f"Course unit {i}"}, "eqf_level": "6"})
        ids = (await conn.execute(opportunity_table.insert().returning(opportunity_table.c.id), opp)).scalars().all()
        learner_pk = (await conn.execute(learner_table.insert().values(
            institution_key="bench", learner_id=LEARNER, national_id="010190-900X", esi="urn:esi:bench",
            given_names="Bench", family_name="Mark", bday=date(1990, 1, 1), citizenship="FI",
        ).returning(learner_table.c.id))).scalar_one()
        # Other learners, so the lookups run against a table that is not trivially small.
        await conn.execute(learner_table.insert(), [
            {"institution_key": "bench", "learner_id": f"other-{n}", "national_id": f"N{n:08d}",
             "given_names": "Other", "family_name": f"Learner {n}"} for n in range(5000)])
        parent_of: dict[int, int] = {}
        degree_id = module_id = None
        for i, opportunity_id in enumerate(ids):
            kind = opp[i]["type"]
            parent = None if kind == "Degree Programme" else (degree_id if kind == "Module" else module_id)
            attainment_id = (await conn.execute(attainment_table.insert().values(
                learner_pk=learner_pk, opportunity_id=opportunity_id, parent_id=parent, position=i,
                loi_code=f"LOI-{i:04d}", status="failed" if i % 37 == 5 else "passed",
                start=date(2020, 9, 1) + timedelta(days=i), completed=date(2020, 12, 1) + timedelta(days=i),
                term_titles={"fi": "Syksy", "en": "Autumn"}, term_start=date(2020, 8, 1),
                term_end=date(2020, 12, 31), grading_scheme="FI-0-5", result_label=str(i % 6),
                credits=Decimal("2.5") if kind == "Course" else None, language="fi",
            ).returning(attainment_table.c.id))).scalar_one()
            parent_of[i] = attainment_id
            if kind == "Degree Programme":
                degree_id = attainment_id
            elif kind == "Module":
                module_id = attainment_id


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))] * 1000


async def timed(fn, n: int, clock=time.perf_counter) -> list[float]:
    """Seconds per call, `n` calls one after the other; `clock=time.process_time` gives the CPU seconds of this
    process (client and service share it: sequential calls, one process)."""
    out = []
    for _ in range(n):
        started = clock()
        await fn()
        out.append(clock() - started)
    return out


def _plain(value: object) -> object:
    return value if value is None or isinstance(value, (str, int, float, bool, dict, list)) else str(value)


async def throughput(fn, concurrency: int, total: int) -> float:
    remaining = total

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            await fn()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return total / (time.perf_counter() - started)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--results", type=int, default=500)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--profile", type=Path, help="write a cProfile of 30 service+parse calls here")
    args = parser.parse_args()

    schema = f"sis_bench_{uuid.uuid4().hex[:10]}"
    try:
        admin = await asyncpg.connect(PG, timeout=3)
    except OSError as exc:
        raise SystemExit(f"PostgreSQL at {PG} is unreachable: {exc}") from None
    url = PG.replace("postgresql://", "postgresql+asyncpg://", 1)
    tmp = Path(tempfile.mkdtemp())
    try:
        (tmp / "tenants.toml").write_text(TENANTS)
        (tmp / "tokens").mkdir()
        token = secrets.token_urlsafe(24)
        (tmp / "tokens" / "gateway").write_text(token)
        setup = make_engine(url, schema=schema)
        await migrate(setup, schema=schema)
        await fill(setup, args.results)
        await setup.dispose()

        settings = Settings(database_url=url, database_schema=schema, database_pool_size=args.concurrency,
                            tenants_path=tmp / "tenants.toml", caller_tokens_path=tmp / "tokens",
                            log_level="WARNING", institution_timeout_seconds=30)
        app = create_app(settings)
        async with LifespanManager(app) as manager, httpx.AsyncClient(
            transport=httpx.ASGITransport(app=manager.app), base_url="http://sis", auth=BearerAuth(token),
            timeout=60,
        ) as http:
            engine = manager._state["engine"]
            client = SisClient(http)
            query = ResultsQuery(identity=LearnerIdentity(learner_id=LEARNER, subject=LEARNER))
            answer = await client.query(query)
            count = sum(1 for _ in walk(answer.reports[0].learning_opportunity_specifications))
            assert count == args.results, count

            async def service() -> None:
                await client.query(query)

            body = query.model_dump_json()

            async def service_bytes() -> None:
                # The service alone: the same request, the answer read as bytes without parsing it.
                response = await http.post("/v1/results/query", content=body,
                                           headers={"Content-Type": "application/json"})
                assert response.status_code == 200

            lookup = learner_query("bench", "learner_id")

            async def bare_sql() -> None:
                # The floor: the same two statements the SQL adapter runs, rows fetched, nothing mapped.
                async with engine.connect() as conn:
                    found = (await conn.execute(lookup, {"value": LEARNER})).first()
                    (await conn.execute(RESULTS_QUERY, {"learner_pk": found.id})).all()

            async def sql_to_json() -> None:
                # The floor of the ratio: the same rows as plain dicts, serialised.
                async with engine.connect() as conn:
                    found = (await conn.execute(lookup, {"value": LEARNER})).first()
                    rows = (await conn.execute(RESULTS_QUERY, {"learner_pk": found.id})).all()
                json.dumps({"learner": {k: _plain(v) for k, v in found._mapping.items()},
                            "results": [{k: _plain(v) for k, v in row._mapping.items()} for row in rows]})

            for fn in (service, service_bytes, bare_sql, sql_to_json):
                await timed(fn, 20)  # warm-up: connections, statement caches
            if args.profile:
                import cProfile

                with cProfile.Profile() as profile:
                    await timed(service, 30)
                profile.dump_stats(args.profile)
            cpu_service: list[float] = []
            cpu_floor: list[float] = []
            for _ in range(max(1, args.queries // 10)):  # alternated, so load elsewhere hits both alike
                cpu_floor += await timed(sql_to_json, 10, time.process_time)
                cpu_service += await timed(service, 10, time.process_time)
            svc = await timed(service, args.queries)
            raw = await timed(service_bytes, args.queries)
            floor = await timed(bare_sql, args.queries)
            raw_tp = await throughput(service_bytes, args.concurrency, args.queries)
            svc_tp = await throughput(service, args.concurrency, args.queries)
            floor_tp = await throughput(bare_sql, args.concurrency, args.queries)

        print(f"results per learner: {args.results}; queries: {args.queries}; cores: {os.cpu_count()}")
        print(f"load average at the end: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
        print(f"{'':28}{'p50 ms':>10}{'p99 ms':>10}{'mean ms':>10}")
        rows = (("service, answer as bytes", raw), ("service + SisClient parse", svc), ("floor: bare SQL", floor))
        for name, samples in rows:
            print(f"{name:28}{pct(samples, 50):10.2f}{pct(samples, 99):10.2f}{statistics.mean(samples) * 1000:10.2f}")
        print(f"latency ratio service/floor (bytes): p50 {pct(raw, 50) / pct(floor, 50):.1f}x, "
              f"p99 {pct(raw, 99) / pct(floor, 99):.1f}x")
        publish([Ratio("sis-adapter", f"{args.results}-result learner: service + gateway parse",
                       statistics.median(cpu_service) * 1000, "SQL + plain-dict JSON of the rows",
                       statistics.median(cpu_floor) * 1000, target=2.0, note="CPU of one process, sequential")])
        print(f"throughput at {args.concurrency} concurrent: service {raw_tp:.1f} q/s (bytes), "
              f"{svc_tp:.1f} q/s (with SisClient parse), bare SQL {floor_tp:.1f} q/s "
              f"(floor/service {floor_tp / raw_tp:.1f}x)")
    finally:
        await admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        await admin.close()


if __name__ == "__main__":
    asyncio.run(main())
