"""Metrics and traces across the node: one whole flow through the real gateway, sis-adapter, signer and
registry-cache (in-process), then every service's /metrics and the spans it made."""

import datetime as dt
import json
import logging
import re
from pathlib import Path

import httpx
import pytest
import yaml
from opentelemetry.trace import SpanKind
from starlette.requests import Request

from ncp_gateway.app import create_app
from ncp_gateway.telemetry import record_transfer
from ncp_runtime.logging import JsonFormatter
from ncp_testkit.observe import flow_trace, sample, scrape, span_exporter, trace_id

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
BROWSER_PARENT = f"00-{TRACE_ID}-00f067aa0ba902b7-01"
PERSONAL = ("demo-learner-1", "Aino", "Virtanen", "2001-03-14", "emc-session-1")


@pytest.fixture
def exporter():
    found = span_exporter()
    found.clear()
    return found


async def ok_flow(browser, kit) -> None:
    await browser.login("demo-learner-1")
    await browser.selection()
    assert (await browser.submit(keys=["r0.0.0.0", "r1.0"])).status_code == 303
    assert kit.handoff_of(await browser.send()).fields["returnCode"] == "NCP_OK"


async def upstream_metrics(transport: httpx.AsyncBaseTransport, name: str):
    async with httpx.AsyncClient(transport=transport, base_url=f"http://{name}") as http:
        return await scrape(http)


async def test_every_service_counts_a_flow_by_route_and_keeps_personal_data_out(browser, kit, upstreams):
    before = {name: (await upstream_metrics(t, name))[1] for name, t in upstreams.items()}
    await ok_flow(browser, kit)

    text, gateway = await scrape(browser.http)
    assert sample(gateway, "ncp_http_requests_total", route="/emrex", method="POST") >= 1
    assert sample(gateway, "ncp_http_requests_total", route="/select", method="GET", status="200") >= 1
    assert sample(gateway, "ncp_http_request_duration_seconds_count", route="/select") >= 1
    # The hand-off itself is counted, with the time from entry to hand-off.
    assert sample(gateway, "ncp_transfers_total", return_code="NCP_OK", protocol="emrex1") >= 1
    assert sample(gateway, "ncp_flow_duration_seconds_count", protocol="emrex1", return_code="NCP_OK") >= 1
    texts = [text]

    text, signer = await upstream_metrics(upstreams["signer"], "signer")
    texts.append(text)
    assert sample(signer, "ncp_http_requests_total", route="/v1/sign", status="200") == \
        sample(before["signer"], "ncp_http_requests_total", route="/v1/sign", status="200") + 1
    assert sample(signer, "ncp_signer_signatures_total", kind="elmo") == \
        sample(before["signer"], "ncp_signer_signatures_total", kind="elmo") + 1
    assert 360 < sample(signer, "ncp_signer_certificate_expiry_days", active="true") < 3700

    text, sis = await upstream_metrics(upstreams["sis"], "sis")
    texts.append(text)
    assert sample(sis, "ncp_http_requests_total", route="/v1/results/query", status="200") >= 1
    assert sample(sis, "ncp_sis_requests_total", outcome="ok") > sample(before["sis"], "ncp_sis_requests_total",
                                                                        outcome="ok")
    assert sample(sis, "ncp_sis_request_duration_seconds_count") > 0
    institutions = {dict(labels)["institution"] for (name, labels) in sis if name == "ncp_sis_circuit_breaker_state"}
    assert institutions
    for institution in institutions:
        assert sample(sis, "ncp_sis_circuit_breaker_state", institution=institution, state="closed") == 1

    text, registry = await upstream_metrics(upstreams["registry"], "registry")
    texts.append(text)
    assert sample(registry, "ncp_registry_ready") == 1
    assert sample(registry, "ncp_registry_stale", kind="emreg") == 0
    assert sample(registry, "ncp_registry_age_seconds", kind="emreg") >= 0

    for scraped in texts:
        for value in PERSONAL:
            assert value not in scraped


async def test_metrics_are_not_served_through_the_public_proxy(browser):
    proxied = await browser.http.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"})
    assert proxied.status_code == 404
    assert proxied.headers["content-type"] == "application/problem+json"
    assert "ncp_http" not in proxied.text


async def test_transfer_seam_counts_by_return_code_and_protocol_with_the_flow_time(gateway_settings):
    app = create_app(gateway_settings)
    request = Request({"type": "http", "app": app, "headers": []})
    now = dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.UTC)
    record_transfer(request, "NCP_OK", entered_at=now - dt.timedelta(seconds=42), now=now)
    record_transfer(request, "EMP_ERROR", entered_at=now - dt.timedelta(seconds=3), now=now, protocol="emrex2")
    record_transfer(request, "ncp_ok<script>", entered_at=None, protocol="made-up")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as http:
        _, gateway = await scrape(http)
    assert sample(gateway, "ncp_transfers_total", return_code="NCP_OK", protocol="emrex1") == 1
    assert sample(gateway, "ncp_transfers_total", return_code="EMP_ERROR", protocol="emrex2") == 1
    assert sample(gateway, "ncp_transfers_total", return_code="other", protocol="other") == 1
    assert sample(gateway, "ncp_transfers_total", return_code="NCP_ERROR", protocol="emrex1") == 0  # pre-made
    assert sample(gateway, "ncp_flow_duration_seconds_sum", protocol="emrex1") == 42
    assert sample(gateway, "ncp_flow_duration_seconds_bucket", protocol="emrex1", le="60.0") == 1
    assert sample(gateway, "ncp_flow_duration_seconds_bucket", protocol="emrex1", le="30.0") == 0


async def test_one_flow_is_one_trace_across_gateway_sis_adapter_and_signer(browser, kit, exporter):
    # The browser (or the client system) starts the trace; every internal call must carry it on.
    browser.http.headers["traceparent"] = BROWSER_PARENT
    await ok_flow(browser, kit)
    spans = exporter.get_finished_spans()
    servers = [s for s in spans if s.kind is SpanKind.SERVER]
    services = {s.attributes["ncp.service"] for s in servers}
    assert {"ncp-gateway", "sis-adapter", "signer"} <= services
    assert {format(s.context.trace_id, "032x") for s in spans} == {TRACE_ID}
    by_id = {s.context.span_id: s for s in spans}
    for service, route in (("sis-adapter", "/v1/results/query"), ("signer", "/v1/sign")):
        called = [s for s in servers if s.attributes["ncp.service"] == service and s.attributes["http.route"] == route]
        assert called, service
        for span in called:
            client = by_id[span.parent.span_id]  # the gateway's client span for this call
            assert client.kind is SpanKind.CLIENT
            assert by_id[client.parent.span_id].attributes["ncp.service"] == "ncp-gateway"
    for span in spans:  # span names and attributes hold route templates, never learner data or raw URLs
        assert span.instrumentation_scope.name in ("ncp_runtime", "ncp_contracts")  # not FastAPI's own spans
        assert not {"url.query", "url.path", "url.full"} & set(span.attributes or {})
        for value in PERSONAL:
            assert value not in span.name
            assert all(value not in str(v) for v in (span.attributes or {}).values())


class CapturedLogs(logging.Handler):
    """Log lines as the gateway writes them (JSON, with the trace id of the span current at the time)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.setFormatter(JsonFormatter("test"))
        self.lines: list[dict] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))


@pytest.fixture
def logs(caplog):
    caplog.set_level(logging.INFO)
    handler = CapturedLogs()
    logging.getLogger().addHandler(handler)
    yield handler
    logging.getLogger().removeHandler(handler)


async def test_a_flow_without_any_traceparent_is_one_trace_and_its_logs_carry_it(browser, kit, exporter, logs):
    # A real browser sends no traceparent: the entry starts the flow's trace and every later step continues it.
    assert "traceparent" not in browser.http.headers
    await ok_flow(browser, kit)
    spans = exporter.get_finished_spans()
    flow = flow_trace(spans, "/emrex")
    in_flow = [s for s in spans if trace_id(s) == flow]
    assert {"ncp-gateway", "sis-adapter", "signer"} <= {s.attributes.get("ncp.service") for s in in_flow}
    for service, route in (("sis-adapter", "/v1/results/query"), ("signer", "/v1/sign")):
        assert [s for s in in_flow if s.kind is SpanKind.SERVER and s.attributes["ncp.service"] == service
                and s.attributes["http.route"] == route], service
    requests = {trace_id(s) for s in spans
                if s.kind is SpanKind.SERVER and s.attributes["ncp.service"] == "ncp-gateway"}
    assert len(requests) >= 5  # entry, login, callback, selection, preview, send: each its own server span
    steps = [s for s in in_flow if s.kind is SpanKind.INTERNAL]
    assert {s.attributes["http.route"] for s in steps} >= {"/login", "/login/callback", "/select", "/send"}
    handoff = [line for line in logs.lines if line["msg"] == "hand-off"]
    assert len(handoff) == 1
    assert handoff[0]["trace_id"] == flow
    ours = [json.dumps(line) for line in logs.lines if line["logger"].startswith("ncp")]
    assert ours
    for value in PERSONAL:
        assert all(value not in line for line in ours)


async def test_an_incoming_traceparent_at_entry_still_wins(browser, kit, exporter):
    browser.http.headers["traceparent"] = BROWSER_PARENT  # only the entry request carries it
    entered = await browser.enter()
    del browser.http.headers["traceparent"]
    assert entered.status_code == 303
    login = await browser.http.get(entered.headers["location"])
    browser.authorization_url = login.headers["location"]
    assert (await browser.callback(await browser.provider_login("demo-learner-1"))).status_code == 303
    await browser.selection()
    assert (await browser.submit(keys=["r0.0.0.0"])).status_code == 303
    assert kit.handoff_of(await browser.send()).fields["returnCode"] == "NCP_OK"
    spans = exporter.get_finished_spans()
    assert flow_trace(spans, "/emrex") == TRACE_ID
    entry = next(s for s in spans if s.attributes.get("http.route") == "/emrex")
    assert format(entry.parent.span_id, "016x") == BROWSER_PARENT.split("-")[2]


REPO = Path(__file__).resolve().parents[3]
METRIC = re.compile(r"\b(ncp_[a-z0-9_]+)\s*(?:\{([^}]*)\})?")
MATCHER = re.compile(r'(\w+)\s*(=~|!~|!=|=)\s*"([^"]*)"')
GROUPING = re.compile(r"\bby\s*\(([^)]*)\)")
ADDED_BY_PROMETHEUS = {"job", "instance"}


def expressions() -> list[tuple[str, str]]:
    """(where, PromQL) of every dashboard panel target and every alert rule."""
    dashboard = json.loads((REPO / "deploy/grafana/emrex-ncp-dashboard.json").read_text())
    found = [(f"panel {p['title']}", t["expr"]) for p in dashboard["panels"] for t in p.get("targets", [])]
    rules = yaml.safe_load((REPO / "k8s/components/monitoring/prometheusrule.yaml").read_text())
    found += [(f"alert {r['alert']}", r["expr"]) for g in rules["spec"]["groups"] for r in g["rules"]]
    return found


async def test_every_dashboard_and_alert_expression_reads_series_a_real_scrape_has(browser, kit, upstreams):
    await ok_flow(browser, kit)
    scraped = dict((await scrape(browser.http))[1])
    for name, transport in upstreams.items():
        scraped.update((await upstream_metrics(transport, name))[1])
    labels_of: dict[str, list[dict[str, str]]] = {}
    for (name, labels), _ in scraped.items():
        labels_of.setdefault(name, []).append(dict(labels))
    checked = expressions()
    assert len(checked) >= 20
    for where, expr in checked:
        names = METRIC.findall(expr)
        assert names, where
        for name, selector in names:
            assert name in labels_of, (where, name)
            for label, op, value in MATCHER.findall(selector):
                if op == "=":  # an exact value must be one the services write
                    assert any(s.get(label) == value for s in labels_of[name]), (where, name, label, value)
                else:
                    assert any(label in s for s in labels_of[name]), (where, name, label)
        for grouping in GROUPING.findall(expr):
            for label in {g.strip() for g in grouping.split(",")} - ADDED_BY_PROMETHEUS:
                assert any(label in s for name, _ in names for s in labels_of[name]), (where, label)
