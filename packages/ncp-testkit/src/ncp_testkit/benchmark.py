"""What every benchmark shares: CPU time and memory of a server process, and one result format.

Each benchmark prints its own figures and hands its ratios to `publish`; `make bench` (scripts/bench.py)
collects them from every benchmark into one table. A ratio is CPU time against a floor measured in the
same run, because these machines are shared and wall time mostly measures the neighbours.
"""

import json
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

RESULTS_ENV = "NCP_BENCH_RESULTS"


@dataclass(frozen=True)
class Ratio:
    benchmark: str
    measure: str
    value_ms: float
    floor: str
    floor_ms: float
    target: float | None = None
    note: str = ""

    @property
    def ratio(self) -> float:
        return self.value_ms / self.floor_ms if self.floor_ms else float("inf")

    @property
    def met(self) -> bool | None:
        return None if self.target is None else self.ratio <= self.target


def median_cpu_ms(fn: Callable[[], object], runs: int) -> float:
    """Median CPU time of `fn` in this process over `runs` calls, in ms, after one untimed warm-up call."""
    fn()
    samples = []
    for _ in range(runs):
        started = time.process_time()
        fn()
        samples.append(time.process_time() - started)
    return statistics.median(samples) * 1000


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc): a server's own work, whatever the client costs."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mib(pid: int) -> float:
    """Resident set size of a process in MiB (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def publish(rows: list[Ratio]) -> None:
    """Print the rows, and append them to the file `make bench` names (NCP_BENCH_RESULTS) for its table."""
    for row in rows:
        verdict = "" if row.met is None else f" (target <= {row.target:g}x: {'met' if row.met else 'NOT met'})"
        print(f"ratio {row.benchmark}: {row.measure}: {row.value_ms:.4g} ms / {row.floor_ms:.4g} ms "
              f"({row.floor}) = {row.ratio:.2f}x{verdict}{' - ' + row.note if row.note else ''}")
    target = os.environ.get(RESULTS_ENV)
    if target:
        with Path(target).open("a") as out:
            for row in rows:
                out.write(json.dumps(asdict(row)) + "\n")
