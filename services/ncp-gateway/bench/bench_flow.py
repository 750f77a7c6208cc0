"""Benchmark: completed EMREX flows per second at 20 concurrent students through the HTTP API with the real
services, and the entry endpoint's throughput as a ratio to a bare uvicorn "hello" app in the same run.

    .venv/bin/python services/ncp-gateway/bench/bench_flow.py [--seconds 20] [--students 20]
"""

import argparse
import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from stack import PYTHON, free_port, running_stack, student_flow  # noqa: E402

RETURN_URL = "http://127.0.0.1:9/emrex/return"


async def hammer(url: str, data: dict[str, str], concurrency: int, seconds: float, expect: int) -> dict[str, float]:
    """Requests per second of `concurrency` clients posting `data` to `url` for `seconds`."""
    done = 0
    failures = 0
    deadline = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:

        async def worker() -> None:
            nonlocal done, failures
            while time.perf_counter() < deadline:
                response = await client.post(url, data=data)
                if response.status_code == expect:
                    done += 1
                else:
                    failures += 1

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
    return {"requests": done, "failures": failures, "seconds": round(elapsed, 2), "per_second": done / elapsed}


async def flows(gateway: str, students: int, seconds: float) -> dict[str, Any]:
    latencies: list[float] = []
    failures = 0
    reasons: Counter[str] = Counter()
    deadline = time.perf_counter() + seconds

    async def student(number: int) -> None:
        nonlocal failures
        # Drop idle connections before uvicorn's 5 s keep-alive timeout can close one under a new request.
        limits = httpx.Limits(keepalive_expiry=2.0)
        async with httpx.AsyncClient(timeout=60, limits=limits) as browser, \
                httpx.AsyncClient(timeout=60, limits=limits) as provider:
            while time.perf_counter() < deadline:
                browser.cookies.clear()
                began = time.perf_counter()
                try:
                    # Three results, as a typical student picks a few courses.
                    _, fields = await student_flow(browser, provider, gateway, RETURN_URL, pick_first=3,
                                                   session_id=f"bench-{number}")
                except (AssertionError, httpx.HTTPError) as exc:
                    failures += 1
                    reasons[f"{type(exc).__name__}: {str(exc)[:200]}"] += 1
                    continue
                if fields.get("returnCode") == "NCP_OK":
                    latencies.append(time.perf_counter() - began)
                else:
                    failures += 1
                    reasons[f"{fields.get('returnCode')}: {fields.get('returnMessage')}"] += 1

    start = time.perf_counter()
    await asyncio.gather(*(student(i) for i in range(students)))
    elapsed = time.perf_counter() - start
    ordered = sorted(latencies) or [0.0]
    return {
        "flows": len(latencies), "failures": failures, "seconds": round(elapsed, 2),
        "per_second": len(latencies) / elapsed,
        "latency_p50_s": round(statistics.median(ordered), 3),
        "latency_p95_s": round(ordered[int(0.95 * (len(ordered) - 1))], 3),
        "failure_reasons": dict(reasons.most_common(5)),
    }


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc), to show where a flow's work is done."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start_hello(directory: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = subprocess.Popen(
        [PYTHON, "-m", "uvicorn", "hello_app:app", "--app-dir", str(HERE), "--host", "127.0.0.1",
         "--port", str(port), "--log-level", "warning", "--no-access-log"],
        stdout=(directory / "hello.log").open("wb"), stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/"
    for _ in range(200):
        try:
            if httpx.post(url).status_code == 200:
                break
        except httpx.HTTPError:
            threading.Event().wait(0.05)
    return process, url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--students", type=int, default=20)
    parser.add_argument("--keep", type=Path, help="run in this directory and keep the service logs")
    args = parser.parse_args()
    entry_body = {"sessionId": "bench-entry-session", "returnUrl": RETURN_URL}
    with tempfile.TemporaryDirectory(prefix="ncp-gateway-bench-") as tmp:
        directory = args.keep or Path(tmp)
        directory.mkdir(parents=True, exist_ok=True)
        with running_stack(directory) as stack:
            hello, hello_url = start_hello(directory)
            try:
                # Warm up both (first requests compile templates, open pools).
                asyncio.run(hammer(hello_url, entry_body, 4, 1.0, 200))
                asyncio.run(hammer(f"{stack.gateway}/emrex", entry_body, 4, 1.0, 303))
                floor = asyncio.run(hammer(hello_url, entry_body, args.students, args.seconds / 2, 200))
                entry = asyncio.run(hammer(f"{stack.gateway}/emrex", entry_body, args.students, args.seconds / 2, 303))
                before = {name: cpu_seconds(p.pid) for name, p in stack.processes.items()}
                flow = asyncio.run(flows(stack.gateway, args.students, args.seconds))
                used = {name: cpu_seconds(p.pid) - before[name] for name, p in stack.processes.items()}
            finally:
                hello.terminate()
                hello.wait(10)
    result = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "system": platform.platform()},
        "students": args.students,
        "flows": {k: round(v, 3) if isinstance(v, float) else v for k, v in flow.items()},
        "entry": {k: round(v, 1) if isinstance(v, float) else v for k, v in entry.items()},
        "hello_floor": {k: round(v, 1) if isinstance(v, float) else v for k, v in floor.items()},
        "entry_to_hello_ratio": round(entry["per_second"] / floor["per_second"], 3),
        "cpu_ms_per_flow": {name: round(1000 * seconds / max(flow["flows"], 1)) for name, seconds in used.items()},
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
