"""OpenTelemetry traces: W3C trace context in and out, an OTLP exporter only when OTEL_* asks for one.

Off unless configured: without OTEL_EXPORTER_OTLP_ENDPOINT (or ..._TRACES_ENDPOINT) the global tracer
provider stays the API's no-op one, and spans cost next to nothing. Incoming `traceparent` headers are still
honoured, so a caller's trace id reaches our logs. Span attributes hold route templates and status codes,
never raw paths or query strings (they may carry learner identifiers).

A student's flow spans many browser requests, none of which carries a `traceparent`. The request that starts a
flow keeps `flow_context()` with the flow's stored state; each later request of that flow calls `join_flow` with
it, and from then on its work, internal calls and logs belong to the flow's trace (a span per step, linked both
ways with the request's own server span).
"""

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from opentelemetry import context, propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter
from opentelemetry.trace import Link, Span, SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from pydantic_settings import BaseSettings, SettingsConfigDict
from starlette.types import Scope

log = logging.getLogger("ncp.tracing")
TRACER = "ncp_runtime"
_W3C = TraceContextTextMapPropagator()


class OtelSettings(BaseSettings):
    """The standard OpenTelemetry variables this node reads itself (the SDK reads the rest: headers, timeouts)."""

    model_config = SettingsConfigDict(extra="ignore", env_file=None)

    otel_sdk_disabled: bool = False
    otel_traces_exporter: str = "otlp"
    otel_exporter_otlp_endpoint: str | None = None
    otel_exporter_otlp_traces_endpoint: str | None = None
    otel_service_name: str | None = None

    @property
    def exporter(self) -> str | None:
        if self.otel_sdk_disabled or self.otel_traces_exporter == "none":
            return None
        if self.otel_traces_exporter == "console":
            return "console"
        if self.otel_exporter_otlp_endpoint or self.otel_exporter_otlp_traces_endpoint:
            return "otlp"
        return None


def make_exporter(kind: str) -> SpanExporter:
    if kind == "console":
        return ConsoleSpanExporter()
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter()  # endpoint, headers, timeout, compression from OTEL_EXPORTER_OTLP_*


def configure_tracing(service: str, settings: OtelSettings | None = None) -> bool:
    """Install the SDK tracer provider once per process when OTEL_* configures an exporter."""
    settings = settings or OtelSettings()
    kind = settings.exporter
    if kind is None or isinstance(trace.get_tracer_provider(), TracerProvider):
        return False
    provider = TracerProvider(resource=Resource.create({"service.name": settings.otel_service_name or service}))
    provider.add_span_processor(BatchSpanProcessor(make_exporter(kind)))
    trace.set_tracer_provider(provider)
    log.info("tracing enabled", extra={"exporter": kind})
    return True


class ServerSpan:
    def __init__(self, service: str, span: Span) -> None:
        self.service = service
        self.span = span
        self.flow: Span | None = None  # the step span in the flow's trace, once the request joined a flow

    def name_route(self, method: str, route: str, status: int) -> None:
        # Known only after routing: the span starts before the router has matched.
        for span in (self.span, self.flow):
            if span is None:
                continue
            span.update_name(f"{method} {route}" if span is self.span else f"flow {method} {route}")
            span.set_attribute("http.route", route)
            span.set_attribute("http.response.status_code", status)
            if status >= 500:
                span.set_status(Status(StatusCode.ERROR))


_server: ContextVar[ServerSpan | None] = ContextVar("ncp_server_span", default=None)


_NO_SPAN = ServerSpan("", trace.INVALID_SPAN)  # shared; never set as the request's `_server`, so never joins a flow


@contextmanager
def server_span(service: str, scope: Scope) -> Iterator[ServerSpan]:
    carrier = {
        k.decode("latin-1"): v.decode("latin-1")
        for k, v in scope.get("headers", [])
        if k in (b"traceparent", b"tracestate")
    }
    if not carrier and not isinstance(trace.get_tracer_provider(), TracerProvider):
        # No exporter and no caller's trace: the API's span would be the invalid one anyway, so skip making it.
        yield _NO_SPAN
        return
    method = str(scope.get("method", "GET"))
    tracer = trace.get_tracer(TRACER)
    with tracer.start_as_current_span(
        method,
        context=propagate.extract(carrier),
        kind=SpanKind.SERVER,
        attributes={"http.request.method": method, "ncp.service": service},
        record_exception=False,  # exception messages may quote input; the problem handler logs the type
    ) as span:
        server = ServerSpan(service, span)
        token = _server.set(server)
        try:
            yield server
        finally:
            _server.reset(token)
            if server.flow is not None:
                server.flow.end()


def flow_context() -> str | None:
    """The W3C traceparent to keep with a flow that starts in this request (None: no trace, tracing is off)."""
    current = trace.get_current_span().get_span_context()
    if not current.is_valid:
        return None
    return f"00-{current.trace_id:032x}-{current.span_id:016x}-{int(current.trace_flags):02x}"


def join_flow(traceparent: str | None) -> None:
    """Continue the flow's trace (`flow_context()` of its first request) for the rest of this request.

    A step span, child of the flow's context, becomes current: what the request does from here (internal calls,
    logs) is in the flow's trace. The request's own server span and the step span link to each other."""
    server = _server.get()
    if not traceparent or server is None or server.flow is not None:
        return
    parent = _W3C.extract({"traceparent": traceparent})
    flow = trace.get_current_span(parent).get_span_context()
    if not flow.is_valid:
        return
    request = server.span.get_span_context()
    if request.is_valid and request.trace_id == flow.trace_id:
        return  # the request already is in the flow's trace (its client sent the flow's traceparent)
    step = trace.get_tracer(TRACER).start_span(
        "flow step", context=parent, kind=SpanKind.INTERNAL, links=[Link(request)] if request.is_valid else None,
        attributes={"ncp.service": server.service},
    )
    if step.is_recording():
        server.span.add_link(step.get_span_context())
    server.flow = step
    # Not detached: the server span's own context token, reset when the request ends, drops it with it.
    context.attach(trace.set_span_in_context(step))


def current_trace_ids() -> tuple[str, str] | None:
    """(trace id, span id) in W3C hex form, when a span is active."""
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None
    return format(context.trace_id, "032x"), format(context.span_id, "016x")
