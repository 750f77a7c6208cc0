"""A student's whole EMREX flow as a locust user; `python -m ncp_testkit.loadtest` runs it headless, prints JSON.

Started in its own process by the gateway's load benchmark (services/ncp-gateway/bench/bench_load.py): locust
patches the standard library for gevent. Gateways to spread the students over: NCP_LOAD_GATEWAYS (comma list).
"""

from gevent import monkey  # type: ignore[import-untyped]

monkey.patch_all()

import argparse  # noqa: E402
import itertools  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from urllib.parse import urljoin  # noqa: E402

import gevent  # noqa: E402
import lxml.html  # noqa: E402
import requests  # noqa: E402 - locust's HttpUser speaks requests; the provider session too
from locust import HttpUser, constant, events, task  # noqa: E402
from locust.env import Environment  # noqa: E402

GATEWAYS = [g for g in os.environ.get("NCP_LOAD_GATEWAYS", "http://127.0.0.1:8000").split(",") if g]
RETURN_URL = "http://127.0.0.1:9/emrex/return"
_numbers = itertools.count()
outcomes: Counter[str] = Counter()
flow_seconds: list[float] = []


class FlowError(Exception):
    pass


def _expect(response: requests.Response, status: int, step: str) -> requests.Response:
    if response.status_code != status:
        raise FlowError(f"{step}: {response.status_code} {response.text[:160]!r}")
    return response


def _form(html: str, xpath: str) -> dict[str, list[str]]:
    found = lxml.html.fromstring(html).xpath(xpath)
    if not found:
        raise FlowError(f"no form {xpath}")
    fields: dict[str, list[str]] = {}
    for element in found[0].xpath(".//input"):
        if element.get("type") == "checkbox" and element.get("checked") is None:
            continue
        if element.get("name"):
            fields.setdefault(element.get("name"), []).append(element.get("value") or "")
    return fields


class Student(HttpUser):
    """One student after another: entry, login at the provider, callback, three results, preview, consent."""

    wait_time = constant(0)
    host = GATEWAYS[0]

    def on_start(self) -> None:
        self.number = next(_numbers)
        self.gateway = GATEWAYS[self.number % len(GATEWAYS)]
        self.provider = requests.Session()

    @task
    def flow(self) -> None:
        self.client.cookies.clear()
        self.provider.cookies.clear()
        started = time.perf_counter()
        error: Exception | None = None
        try:
            code = self.one_flow()
        except Exception as exc:  # every failure is counted and named, none stops the test
            code, error = f"error: {str(exc)[:160]}", exc
        elapsed = time.perf_counter() - started
        outcomes[code] += 1
        if code == "NCP_OK":
            flow_seconds.append(elapsed)
        elif error is None:
            error = FlowError(code)
        events.request.fire(  # type: ignore[no-untyped-call]
            request_type="FLOW", name="student flow", response_time=elapsed * 1000,
                            response_length=0, exception=error, context={})

    def one_flow(self) -> str:
        gateway, client = self.gateway, self.client
        entry = _expect(client.post(f"{gateway}/emrex", name="POST /emrex", allow_redirects=False, data={
            "sessionId": f"load-{self.number}", "returnUrl": RETURN_URL}), 303, "entry")
        login = _expect(client.get(urljoin(gateway + "/", entry.headers["location"]), name="GET /login",
                                   allow_redirects=False), 302, "login")
        answer = _expect(self.provider.post(login.headers["location"], data={"sub": "demo-learner-1"},
                                            allow_redirects=False, timeout=120), 302, "provider")
        _expect(client.get(answer.headers["location"], name="GET /login/callback", allow_redirects=False),
                303, "callback")
        page = _expect(client.get(f"{gateway}/select", name="GET /select"), 200, "select")
        fields = _form(page.text, "//form[@id='selection']")
        _expect(client.post(f"{gateway}/select", name="POST /select", allow_redirects=False, data={
            "csrf": fields["csrf"][0], "shown": fields.get("shown", []), "los": fields.get("shown", [])[:3],
            "action": "preview"}), 303, "choose")
        preview = _expect(client.get(f"{gateway}/preview", name="GET /preview"), 200, "preview")
        consent = _form(preview.text, "//form[@action='/send']")
        sent = _expect(client.post(f"{gateway}/send", name="POST /send", data={
            "csrf": consent["csrf"][0], "consent": "yes"}), 200, "send")
        return _form(sent.text, "//form[@id='emrex']").get("returnCode", ["(none)"])[0]


def percentile(ordered: list[float], q: float) -> float:
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--spawn-rate", type=float, default=50)
    args = parser.parse_args()
    # stop_timeout: at the end every student finishes the flow it is in, so the client's count of NCP_OK
    # hand-offs can be compared with the gateway's audit rows.
    env = Environment(user_classes=[Student], events=events, stop_timeout=300)
    runner = env.create_local_runner()
    started = time.perf_counter()
    runner.start(args.users, spawn_rate=args.spawn_rate)
    gevent.spawn_later(args.seconds, runner.quit)
    runner.greenlet.join()
    elapsed = time.perf_counter() - started
    ordered = sorted(flow_seconds)
    total = env.stats.total
    print(json.dumps({
        "users": args.users, "seconds": round(elapsed, 1), "gateways": GATEWAYS,
        # A completed flow ends at the hand-off form, whatever its code; an error is a flow that broke.
        "completed_flows": sum(n for code, n in outcomes.items() if not code.startswith("error:")),
        "ncp_ok": outcomes["NCP_OK"],
        "outcomes": dict(outcomes.most_common(8)),
        "requests": total.num_requests, "failed_requests": total.num_failures,
        "step_ms_median": {name: entry.median_response_time for (name, _), entry in env.stats.entries.items()},
        "flows_per_second": round(len(ordered) / elapsed, 2),
        "flow_seconds": {"p50": round(percentile(ordered, 0.50), 3), "p95": round(percentile(ordered, 0.95), 3),
                         "p99": round(percentile(ordered, 0.99), 3),
                         "mean": round(statistics.mean(ordered), 3) if ordered else 0.0},
    }))


if __name__ == "__main__":
    main()
