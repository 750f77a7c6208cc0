"""`make bench`: every benchmark of the workspace, then one table of their ratios to floors from the same run.

    .venv/bin/python scripts/bench.py [--only elmo signer ...] [--full]

Each benchmark is its own process (its figures are printed as it runs) and exits non-zero when a request
fails; this command then exits non-zero too. Ratios are CPU time against a floor measured beside it.
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# name -> (script, arguments of the default run, arguments of --full)
BENCHMARKS: dict[str, tuple[str, list[str], list[str]]] = {
    "elmo": ("packages/emrex-elmo/bench/bench_elmo.py", ["--sizes", "100", "5000"], []),
    "signer": ("services/signer/bench/bench_signer.py", ["--quick"], []),
    "sis-adapter": ("services/sis-adapter/bench/bench_query.py", ["--queries", "150"], []),
    "registry-cache": ("services/registry-cache/bench/bench_lookup.py",
                       ["--lookups", "50000", "--http-requests", "1500"], []),
    "gateway": ("services/ncp-gateway/bench/bench_flow.py", ["--seconds", "20"], ["--seconds", "60"]),
    # EMREX 2.0: token requests and GET /results in process, against an RS256 check + one write, and one signer call.
    "emrex2": ("services/ncp-gateway/bench/bench_emrex2.py", [], ["--tokens", "1000", "--results", "200"]),
    # locust, 200 students for 60 s on PostgreSQL, then two gateways; RSS up to 1,000 flows (make load alone).
    "load": ("services/ncp-gateway/bench/bench_load.py", [], []),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", choices=sorted(BENCHMARKS), help="run these benchmarks only")
    parser.add_argument("--full", action="store_true", help="each benchmark's own (longer) defaults")
    args = parser.parse_args()
    chosen = args.only or list(BENCHMARKS)
    failed: list[str] = []
    with tempfile.TemporaryDirectory(prefix="ncp-bench-") as tmp:
        results = Path(tmp) / "results.jsonl"
        results.touch()
        env = {**os.environ, "NCP_BENCH_RESULTS": str(results)}
        for name in chosen:
            script, quick, full = BENCHMARKS[name]
            argv = [sys.executable, str(REPO / script), *(full if args.full else quick)]
            print(f"\n=== {name}: {' '.join(argv[1:])}", flush=True)
            started = time.monotonic()
            code = subprocess.run(argv, env=env, cwd=REPO, check=False).returncode
            print(f"=== {name}: exit {code} after {time.monotonic() - started:.0f} s", flush=True)
            if code != 0:
                failed.append(name)
        rows = [json.loads(line) for line in results.read_text().splitlines() if line.strip()]
    print_table(rows)
    if failed:
        print(f"\nFAILED (a request failed or the benchmark broke): {', '.join(failed)}")
        return 1
    return 0


def print_table(rows: list[dict[str, object]]) -> None:
    print(f"\nRatios to floors measured in the same run (CPU time); {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores, Python {platform.python_version()}, "
          f"load average {os.getloadavg()[0]:.1f} at the end")
    header = f"{'benchmark':<15} {'measure':<52} {'ms':>9} {'floor ms':>9} {'ratio':>7} {'target':>7}  floor"
    print(header)
    print("-" * (len(header) + 30))
    for row in rows:
        value, floor = float(row["value_ms"]), float(row["floor_ms"])  # type: ignore[arg-type]
        ratio = value / floor if floor else float("inf")
        target = row.get("target")
        verdict = "" if target is None else ("ok" if ratio <= float(target) else "MISS")  # type: ignore[arg-type]
        target_text = "" if target is None else f"<={target}x"
        print(f"{row['benchmark']!s:<15} {row['measure']!s:<52} {value:>9.4g} {floor:>9.4g} {ratio:>6.2f}x "
              f"{target_text:>7} {verdict:<4} {row['floor']}" + (f"  [{row['note']}]" if row.get("note") else ""))


if __name__ == "__main__":
    sys.exit(main())
