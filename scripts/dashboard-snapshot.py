"""`make dashboard`: docs/dashboard.png, the Grafana dashboard drawn with data from a local run of a few hundred flows.

    .venv/bin/python scripts/dashboard-snapshot.py [--seconds 240] [--users 10] [--out docs/dashboard.png]

Grafana cannot be installed here (not in Debian, nor on PyPI or npm as a server), so this renders the dashboard
outside it, honestly: the whole stack (ncp_testkit.stack) on loopback, a real Prometheus (Debian's `prometheus`,
installed by `scripts/ensure-system-deps.sh dashboard`) scraping every service's /metrics, the locust students of
ncp_testkit.loadtest driving flows, then every panel of deploy/grafana/emrex-ncp-dashboard.json queried with its
own PromQL through Prometheus's HTTP API (query_range over the run) and laid out by its gridPos, title, unit,
thresholds and type, drawn with uPlot (npm, pinned by scripts/dashboard/package-lock.json, installed into a
temporary directory) and screenshotted by the system Chromium through Playwright.

Exits non-zero when a panel's query returns no data: the dashboard would show an empty panel in production too.
"""

import argparse
import json
import math
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

import httpx

from ncp_testkit.load import LoadTestFailed, run_students
from ncp_testkit.stack import Stack, free_port, running_stack, start_process

REPO = Path(__file__).resolve().parents[1]
DASHBOARD = REPO / "deploy" / "grafana" / "emrex-ncp-dashboard.json"
NPM_SOURCE = REPO / "scripts" / "dashboard"
PAGE = NPM_SOURCE / "page.html"
CHROMIUM = Path(os.environ.get("NCP_E2E_CHROMIUM", "/usr/bin/chromium"))
# The job names the ServiceMonitor gives each service (its Kubernetes service name), so `job` reads the same.
JOBS = {"gateway": "ncp-gateway", "signer": "ncp-signer", "sis": "ncp-sis-adapter", "registry": "ncp-registry-cache"}
SCRAPE_SECONDS = 2


def fail(message: str) -> NoReturn:
    raise SystemExit(f"dashboard-snapshot: {message}")


def install_uplot(directory: Path) -> Path:
    """uPlot from the lock file, into `directory` (npm ci: exactly the pinned version, checked by its hash)."""
    for name in ("package.json", "package-lock.json"):
        shutil.copy(NPM_SOURCE / name, directory / name)
    subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=directory, check=True,
                   timeout=300)
    dist = directory / "node_modules" / "uplot" / "dist"
    if not (dist / "uPlot.iife.min.js").is_file():
        fail("npm ci did not install uplot")
    return dist


@contextmanager
def prometheus(directory: Path, stack: Stack) -> Iterator[str]:
    """A real Prometheus on loopback, scraping every product service's /metrics every SCRAPE_SECONDS."""
    config = {
        "global": {"scrape_interval": f"{SCRAPE_SECONDS}s", "scrape_timeout": f"{SCRAPE_SECONDS}s"},
        "scrape_configs": [{"job_name": job, "static_configs": [{"targets": [stack.url(name)[len("http://"):]]}]}
                           for name, job in JOBS.items()],
    }
    (directory / "prometheus.yml").write_text(json.dumps(config))  # JSON is YAML
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    argv = ["prometheus", f"--config.file={directory / 'prometheus.yml'}", f"--storage.tsdb.path={directory / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"]
    with start_process("prometheus", argv, {}, f"{url}/-/ready", directory / "prometheus.log", timeout=60) as process:
        deadline = time.monotonic() + 60
        while True:
            try:
                targets = httpx.get(f"{url}/api/v1/targets", timeout=5).json()["data"]["activeTargets"]
                if len(targets) == len(JOBS) and all(t["health"] == "up" for t in targets):
                    break
            except (httpx.HTTPError, KeyError, ValueError):
                pass
            if time.monotonic() > deadline:
                fail(f"prometheus did not scrape every service:\n{process.tail()}")
            time.sleep(1)
        yield url


def drive_flows(stack: Stack, users: int, seconds: float) -> dict[str, Any]:
    """The locust students of the load test (entry, login, selection, preview, consent, hand-off)."""
    try:
        return run_students([stack.gateway], users=users, seconds=seconds, spawn_rate=users)
    except LoadTestFailed as failed:
        fail(str(failed))


def legend(format_: str, labels: dict[str, str]) -> str:
    text = format_ or "{{__name__}}"
    for key, value in labels.items():
        text = text.replace("{{" + key + "}}", value)
    while "{{" in text:  # a label the series does not have: Grafana shows nothing for it
        start = text.index("{{")
        text = text[:start] + text[text.index("}}", start) + 2:]
    return " ".join(text.split()) or "value"


def query_panels(url: str, dashboard: dict[str, Any], start: float, end: float) -> list[dict[str, Any]]:
    """Every panel with the series its own targets return from Prometheus over [start, end]."""
    step = max(SCRAPE_SECONDS, math.ceil((end - start) / 240))
    panels = []
    for panel in dashboard["panels"]:
        series: list[dict[str, Any]] = []
        for target in panel.get("targets", []):
            answer = httpx.get(f"{url}/api/v1/query_range", timeout=60, params={
                "query": target["expr"], "start": start, "end": end, "step": step}).json()
            if answer.get("status") != "success":
                fail(f"panel {panel['title']!r}: {answer.get('error')}")
            for result in answer["data"]["result"]:
                points = [(float(t), float(v)) for t, v in result["values"] if math.isfinite(float(v))]
                if points:
                    series.append({"name": legend(target.get("legendFormat", ""), result["metric"]),
                                   "points": points})
        defaults = panel.get("fieldConfig", {}).get("defaults", {})
        panels.append({"title": panel["title"], "type": panel["type"], "gridPos": panel["gridPos"],
                       "unit": defaults.get("unit", "short"),
                       "thresholds": defaults.get("thresholds", {}).get("steps", []),
                       "series": sorted(series, key=lambda s: str(s["name"]))})
    return panels


def screenshot(panels: list[dict[str, Any]], meta: dict[str, Any], uplot: Path, work: Path, out: Path) -> None:
    from playwright.sync_api import sync_playwright

    html = (PAGE.read_text()
            .replace("/*UPLOT_CSS*/", (uplot / "uPlot.min.css").read_text())
            .replace("/*UPLOT_JS*/", (uplot / "uPlot.iife.min.js").read_text())
            .replace("/*DATA*/null", json.dumps({"panels": panels, "meta": meta})))
    page_file = work / "dashboard.html"
    page_file.write_text(html)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                             args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1600, "height": 900})
        page.goto(page_file.as_uri())
        page.wait_for_function("window.rendered === true", timeout=30_000)
        out.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(out), full_page=True)
        browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=240, help="how long the students run")
    parser.add_argument("--users", type=int, default=10, help="concurrent students")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "dashboard.png")
    parser.add_argument("--min-flows", type=int, default=200)
    parser.add_argument("--keep", type=Path, help="work in this directory and keep it (logs, Prometheus data)")
    args = parser.parse_args()
    for tool in ("prometheus", "npm"):
        if shutil.which(tool) is None:
            fail(f"{tool} is missing: run `bash scripts/ensure-system-deps.sh dashboard` as root (make dashboard)")
    if not CHROMIUM.exists():
        fail(f"no Chromium at {CHROMIUM}")
    dashboard = json.loads(DASHBOARD.read_text())
    with tempfile.TemporaryDirectory(prefix="ncp-dashboard-") as temporary:
        work = args.keep or Path(temporary)
        (work / "npm").mkdir(parents=True, exist_ok=True)
        uplot = install_uplot(work / "npm")
        with running_stack(work / "stack") as stack, prometheus(work, stack) as url:
            time.sleep(3 * SCRAPE_SECONDS)  # a few idle scrapes before the first student
            start = time.time()
            load = drive_flows(stack, args.users, args.seconds)
            time.sleep(3 * SCRAPE_SECONDS)  # the last counts scraped
            end = time.time()
            panels = query_panels(url, dashboard, start - 30, end)
        flows = int(load["completed_flows"])
        print(json.dumps({k: load[k] for k in ("completed_flows", "ncp_ok", "failed_requests", "flows_per_second",
                                               "flow_seconds")}))
        if flows < args.min_flows:
            fail(f"only {flows} flows completed (wanted at least {args.min_flows}); raise --seconds")
        empty = [p["title"] for p in panels if not p["series"]]
        if empty:
            fail(f"no data for: {'; '.join(empty)}")
        meta = {"title": dashboard["title"], "from": start - 30, "to": end, "flows": flows,
                "ok": int(load["ncp_ok"]), "users": args.users}
        screenshot(panels, meta, uplot, work, args.out)
    print(f"{args.out}: {args.out.stat().st_size // 1024} KiB, {len(panels)} panels, {flows} flows")


if __name__ == "__main__":
    main()
