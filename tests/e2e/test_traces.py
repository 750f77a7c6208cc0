"""One student's flow is one trace across the real processes, with no traceparent from the browser: every service
exports its spans over OTLP/HTTP (configured only by the standard OTEL_* variables) to a receiver in this test."""

import asyncio
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.trace.v1.trace_pb2 import Span as ProtoSpan

from ncp_testkit.server import serve_on_loopback
from ncp_testkit.stack import Stack, running_stack, student_flow

pytestmark = pytest.mark.e2e
RETURN_URL = "http://127.0.0.1:9/emrex/return"
PROBES = ("/healthz", "/readyz", None)
STEPS = {"/login", "/login/callback", "/select", "/preview", "/send"}


@dataclass(frozen=True)
class Received:
    service: str
    name: str
    kind: int
    trace_id: str
    span_id: str
    parent_id: str
    route: str | None
    links: tuple[str, ...]  # trace ids


class OtlpReceiver:
    """The OTLP/HTTP traces endpoint (POST /v1/traces, protobuf), keeping what it receives."""

    def __init__(self) -> None:
        self.spans: list[Received] = []
        self._lock = threading.Lock()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        request = ExportTraceServiceRequest()
        request.ParseFromString(body)
        with self._lock:
            for resource in request.resource_spans:
                service = next(a.value.string_value for a in resource.resource.attributes if a.key == "service.name")
                for scoped in resource.scope_spans:
                    for span in scoped.spans:
                        attributes = {a.key: a.value.string_value for a in span.attributes}
                        self.spans.append(Received(
                            service=service, name=span.name, kind=span.kind, trace_id=span.trace_id.hex(),
                            span_id=span.span_id.hex(), parent_id=span.parent_span_id.hex(),
                            route=attributes.get("http.route") or None,
                            links=tuple(link.trace_id.hex() for link in span.links)))
        answer = ExportTraceServiceResponse().SerializeToString()
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/x-protobuf")]})
        await send({"type": "http.response.body", "body": answer})


@pytest.fixture(scope="module")
def traced(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, OtlpReceiver]]:
    receiver = OtlpReceiver()
    with serve_on_loopback(receiver, lifespan="off") as url:
        otel = {"OTEL_EXPORTER_OTLP_ENDPOINT": url, "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
                "OTEL_BSP_SCHEDULE_DELAY": "200"}
        # The service names the processes report are the stack's defaults: ncp-gateway, signer, sis-adapter, ...
        with running_stack(tmp_path_factory.mktemp("traced"), gateway_env=otel,
                           service_env={"signer": otel, "sis": otel, "registry": otel}) as stack:
            yield stack, receiver


async def wait_for(receiver: OtlpReceiver, service: str, route: str, seconds: float = 20) -> None:
    for _ in range(int(seconds * 10)):
        if any(s.service == service and s.route == route for s in receiver.spans):
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"no span of {service} {route} received")


async def test_an_emrex1_flow_without_traceparent_is_one_trace_across_the_processes_and_their_logs(traced):
    stack, receiver = traced
    async with httpx.AsyncClient(timeout=60) as browser, httpx.AsyncClient(timeout=60) as provider:
        assert "traceparent" not in browser.headers
        _, handoff = await student_flow(browser, provider, stack.gateway, RETURN_URL, session_id="traced")
    assert handoff["returnCode"] == "NCP_OK"
    await wait_for(receiver, "signer", "/v1/sign")
    await asyncio.sleep(1)  # the gateway's own batch (the hand-off's step span ends after the signer's)
    spans = list(receiver.spans)
    server = ProtoSpan.SpanKind.SPAN_KIND_SERVER
    entry = [s for s in spans if s.service == "ncp-gateway" and s.kind == server and s.route == "/emrex"]
    assert len(entry) == 1
    flow = entry[0].trace_id
    in_flow = [s for s in spans if s.trace_id == flow]
    assert {"ncp-gateway", "sis-adapter", "signer"} <= {s.service for s in in_flow}
    for service in ("sis-adapter", "signer"):  # all but the probes of their readiness
        work = [s for s in spans if s.service == service and s.route not in PROBES and s.kind == server]
        assert work, service
        assert all(s.trace_id == flow for s in work), service
    assert [s for s in in_flow if not s.parent_id] == entry  # one root: the entry
    steps = {s.route for s in in_flow if s.kind == ProtoSpan.SpanKind.SPAN_KIND_INTERNAL}
    assert steps >= STEPS
    requests = [s for s in spans if s.service == "ncp-gateway" and s.kind == server and s.route in STEPS]
    assert len(requests) >= len(STEPS)
    for request in requests:  # each browser request: a trace of its own, linked to the flow
        assert request.links == (flow,), request.name
    lines = [json.loads(line) for line in stack.log("gateway").splitlines() if line.startswith("{")]
    handoffs = [line for line in lines if line.get("msg") == "hand-off"]
    assert handoffs
    assert handoffs[-1]["trace_id"] == flow
