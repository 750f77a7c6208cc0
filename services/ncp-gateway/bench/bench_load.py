"""Load test: 200 concurrent students (locust) for 60 s against the whole stack on PostgreSQL, then the same
with two gateway processes on the same database; RSS of every service idle, after each run and after 1,000
flows in all.

    .venv/bin/python services/ncp-gateway/bench/bench_load.py [--users 200] [--seconds 60] [--memory-flows 1000]

Checks, and exits non-zero when one fails: no failed request, and completed flows = NCP_OK hand-offs seen by
the client = NCP_OK audit rows in the gateway's database. Database: NCP_TEST_DATABASE_URL (default
postgresql://postgres@127.0.0.1:5432/test); fresh schemas, dropped at the end.
"""

import argparse
import asyncio
import json
import os
import tempfile
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import asyncpg

from ncp_testkit.benchmark import cpu_seconds, rss_mib
from ncp_testkit.load import LoadTestFailed, run_students
from ncp_testkit.stack import Stack, running_stack

PG = os.environ.get("NCP_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")


def locust(stack: Stack, users: int, seconds: float) -> dict[str, Any]:
    try:
        return run_students(stack.gateways, users=users, seconds=seconds)
    except LoadTestFailed as failed:
        raise SystemExit(str(failed)) from None


async def audit_counts(schema: str) -> dict[str, int]:
    conn = await asyncpg.connect(PG)
    try:
        rows = await conn.fetch(f'SELECT return_code, count(*) AS n FROM "{schema}".gateway_audit GROUP BY 1')
    finally:
        await conn.close()
    return {row["return_code"]: row["n"] for row in rows}


async def drop(schemas: list[str]) -> None:
    conn = await asyncpg.connect(PG)
    try:
        for schema in schemas:
            await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        await conn.close()


def logged_errors(directory: Path) -> list[dict[str, Any]]:
    """The gateways' error lines (JSON, no personal data): what a failed request was, with its frames."""
    found = []
    for log in sorted((directory / "logs").glob("gateway*.log")):
        for line in log.read_text(errors="replace").splitlines():
            if '"level": "error"' in line:
                try:
                    found.append(json.loads(line))
                except ValueError:
                    found.append({"line": line[:2000]})
    return found


def memory(stack: Stack) -> dict[str, float]:
    return {name: round(rss_mib(process.pid), 1) for name, process in stack.processes.items()}


def run(directory: Path, gateways: int, users: int, seconds: float, memory_flows: int) -> dict[str, Any]:
    suffix = uuid.uuid4().hex[:8]
    schemas = [f"load_gw_{suffix}", f"load_sis_{suffix}"]
    url = PG.replace("postgresql://", "postgresql+asyncpg://", 1)
    gateway_env = {"NCP_GATEWAY_DATABASE_URL": url, "NCP_GATEWAY_DATABASE_SCHEMA": schemas[0],
                   "NCP_GATEWAY_LOG_LEVEL": "WARNING"}
    sis_env = {"NCP_SIS_DATABASE_URL": url, "NCP_SIS_DATABASE_SCHEMA": schemas[1]}
    try:
        with running_stack(directory, gateway_env=gateway_env, gateways=gateways,
                           service_env={"sis": sis_env}) as stack:
            idle = memory(stack)
            cpu_before = {name: cpu_seconds(p.pid) for name, p in stack.processes.items()}
            load = locust(stack, users, seconds)
            cpu = {name: round(cpu_seconds(p.pid) - cpu_before[name], 1) for name, p in stack.processes.items()}
            samples = [{"flows": load["completed_flows"], "rss_mib": memory(stack)}]
            total, extra_failures, extra_outcomes = load["ncp_ok"], 0, Counter[str]()
            while memory_flows and total < memory_flows:
                more = locust(stack, 50, 20)
                total += more["ncp_ok"]
                extra_failures += more["failed_requests"]
                extra_outcomes.update({k: v for k, v in more["outcomes"].items() if k != "NCP_OK"})
                samples.append({"flows": total, "rss_mib": memory(stack)})
            audit = asyncio.run(audit_counts(schemas[0]))
        errors = logged_errors(directory)
    finally:
        asyncio.run(drop(schemas))
    return {"gateways": gateways, "load": load, "cpu_seconds_during_load": cpu, "audit_rows": audit,
            "rss_idle_mib": idle, "rss_after_flows": samples, "failures_after_load": extra_failures,
            "failed_outcomes_after_load": dict(extra_outcomes),
            "total_flows": total, "gateway_errors": errors[:5], "gateway_error_count": len(errors)}


def check(result: dict[str, Any]) -> list[str]:
    load, audit = result["load"], result["audit_rows"]
    problems = []
    if load["failed_requests"] or result["failures_after_load"]:
        problems.append(f"{load['failed_requests'] + result['failures_after_load']} failed requests: "
                        f"{load['outcomes']}, after the load {result['failed_outcomes_after_load']}")
    if result["gateway_error_count"]:
        problems.append(f"{result['gateway_error_count']} error lines in the gateway logs (first ones printed above)")
    if load["completed_flows"] != load["ncp_ok"]:
        problems.append(f"completed flows {load['completed_flows']} != NCP_OK {load['ncp_ok']}")
    if audit.get("NCP_OK", 0) != result["total_flows"] or set(audit) - {"NCP_OK"}:
        problems.append(f"audit rows {audit} != {result['total_flows']} NCP_OK flows")
    return problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--memory-flows", type=int, default=1000, help="flows in all for the memory figures")
    args = parser.parse_args()
    results = []
    for gateways in (1, 2):
        with tempfile.TemporaryDirectory(prefix="ncp-load-") as tmp:
            results.append(run(Path(tmp), gateways, args.users, args.seconds,
                               args.memory_flows if gateways == 1 else 0))
        print(json.dumps(results[-1], indent=2), flush=True)
    problems = [f"{r['gateways']} gateway(s): {p}" for r in results for p in check(r)]
    one, two = (r["load"]["flows_per_second"] for r in results)
    print(f"\nflows/s: one gateway {one}, two gateways {two} (x{two / one if one else 0:.2f}); p50/p95/p99 s: "
          + "; ".join(f"{r['gateways']} gw {r['load']['flow_seconds']}" for r in results))
    first, *_, last = results[0]["rss_after_flows"] if len(results[0]["rss_after_flows"]) > 1 else (
        results[0]["rss_after_flows"] * 2)
    print("RSS MiB idle -> after the load -> after", last["flows"], "flows:",
          {name: (results[0]["rss_idle_mib"][name], first["rss_mib"][name], last["rss_mib"][name])
           for name in results[0]["rss_idle_mib"]})
    if problems:
        raise SystemExit("FAILED: " + "; ".join(problems))


if __name__ == "__main__":
    main()
