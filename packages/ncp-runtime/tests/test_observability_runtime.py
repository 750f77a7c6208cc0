"""ncp_runtime observability: tracing stays off without OTEL_* configuration, logs carry the W3C trace id,
and /metrics counts by route template (never the raw path)."""

import json
import logging

import httpx
from fastapi import FastAPI
from opentelemetry import trace

from ncp_runtime import install_observability, install_problem_handlers
from ncp_runtime.logging import JsonFormatter
from ncp_runtime.tracing import OtelSettings
from ncp_testkit.observe import sample, scrape, span_exporter


def test_exporter_is_off_unless_otel_variables_configure_one(monkeypatch):
    for name in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_TRACES_EXPORTER",
                 "OTEL_SDK_DISABLED"):
        monkeypatch.delenv(name, raising=False)
    assert OtelSettings().exporter is None
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318")
    assert OtelSettings().exporter == "otlp"
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "none")
    assert OtelSettings().exporter is None
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "otlp")
    monkeypatch.setenv("OTEL_SDK_DISABLED", "true")
    assert OtelSettings().exporter is None


def test_log_lines_carry_the_trace_and_span_ids():
    span_exporter()
    formatter = JsonFormatter("test")
    record = logging.makeLogRecord({"msg": "hello", "levelname": "INFO", "name": "t"})
    assert "trace_id" not in json.loads(formatter.format(record))
    with trace.get_tracer("test").start_as_current_span("work") as span:
        line = json.loads(formatter.format(record))
    assert line["trace_id"] == format(span.get_span_context().trace_id, "032x")
    assert line["span_id"] == format(span.get_span_context().span_id, "016x")


async def test_requests_are_counted_by_route_template_and_errors_by_status():
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/v1/learners/{learner_id}")
    async def learner(learner_id: str) -> dict[str, str]:
        return {"id": learner_id}

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("private detail")

    install_observability(app, "test")
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        await http.get("/v1/learners/FI-123456-learner")
        await http.get("/v1/learners/another")
        await http.get("/wp-admin/secret-scan")
        assert (await http.get("/boom")).status_code == 500
        text, samples = await scrape(http)
    assert sample(samples, "ncp_http_requests_total", route="/v1/learners/{learner_id}", status="200") == 2
    assert sample(samples, "ncp_http_requests_total", route="unmatched", status="404") == 1
    assert sample(samples, "ncp_http_requests_total", route="/boom", status="500") == 1
    assert sample(samples, "ncp_http_request_duration_seconds_count", route="/v1/learners/{learner_id}") == 2
    for raw in ("FI-123456-learner", "another", "wp-admin", "private detail"):
        assert raw not in text
