"""Observability in tests: scraped Prometheus samples by name and labels, and spans kept in memory."""

from functools import cache

import httpx
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from prometheus_client.parser import text_string_to_metric_families

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse_samples(text: str) -> Samples:
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def sample(samples: Samples, name: str, **labels: str) -> float:
    """The sum of the samples named `name` whose labels include `labels` (0 when none)."""
    wanted = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and wanted <= ls)


async def scrape(http: httpx.AsyncClient) -> tuple[str, Samples]:
    response = await http.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return response.text, parse_samples(response.text)


@cache
def span_exporter() -> InMemorySpanExporter:
    """The process's tracer provider, exporting to memory (a process has one provider: installed once)."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    return exporter


def spans() -> list[ReadableSpan]:
    return list(span_exporter().get_finished_spans())


def trace_id(span: ReadableSpan) -> str:
    assert span.context is not None
    return format(span.context.trace_id, "032x")


def flow_trace(finished: list[ReadableSpan], entry_route: str, services: tuple[str, ...] = ("sis-adapter", "signer")
               ) -> str:
    """The one trace of a student's flow, checked: it starts at the gateway's entry request and holds every span of
    `services`; every other trace is one later gateway request (its server span, linked to the flow's trace, and
    what it did before it knew its flow)."""
    def service(span: ReadableSpan) -> object:
        return (span.attributes or {}).get("ncp.service")

    entry = [s for s in finished if service(s) == "ncp-gateway" and s.kind is SpanKind.SERVER
             and (s.attributes or {}).get("http.route") == entry_route]
    assert len(entry) == 1, [s.name for s in finished]
    flow = trace_id(entry[0])
    by_trace: dict[str, list[ReadableSpan]] = {}
    for span in finished:
        by_trace.setdefault(trace_id(span), []).append(span)
    for other, members in by_trace.items():
        ours = {s.context.span_id for s in members if s.context is not None}
        tops = [s for s in members if s.parent is None or s.parent.span_id not in ours]
        if other == flow:
            assert tops == entry, "the entry request is the flow's one root (or its caller's one child)"
            continue
        assert len(tops) == 1, [s.name for s in tops]
        request = tops[0]  # a later browser (or client) request of the flow, linked to it
        assert service(request) == "ncp-gateway", request.name
        assert request.kind is SpanKind.SERVER, request.name
        assert {format(link.context.trace_id, "032x") for link in request.links} == {flow}, request.name
        assert not [s.name for s in members if service(s) in services]
    assert set(services) <= {service(s) for s in by_trace[flow]}
    return flow
