"""OpenTelemetry traces: W3C trace context in and out, an OTLP exporter only when OTEL_* asks for one.

Off unless configured: without OTEL_EXPORTER_OTLP_ENDPOINT (or ..._TRACES_ENDPOINT) the global tracer
provider stays the API's no-op one, and spans cost next to nothing. Incoming `traceparent` headers are still
honoured, so a caller's trace id reaches our logs. Span attributes hold route templates and status codes,
never raw paths or query strings (they may carry learner identifiers).
"""

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from opentelemetry import propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter
from opentelemetry.trace import Span, SpanKind, Status, StatusCode
from pydantic_settings import BaseSettings, SettingsConfigDict
from starlette.types import Scope

log = logging.getLogger("ncp.tracing")
TRACER = "ncp_runtime"


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
    def __init__(self, span: Span) -> None:
        self.span = span

    def name_route(self, method: str, route: str, status: int) -> None:
        # Known only after routing: the span starts before the router has matched.
        self.span.update_name(f"{method} {route}")
        self.span.set_attribute("http.route", route)
        self.span.set_attribute("http.response.status_code", status)
        if status >= 500:
            self.span.set_status(Status(StatusCode.ERROR))


_NO_SPAN = ServerSpan(trace.INVALID_SPAN)


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
        yield ServerSpan(span)


def current_trace_ids() -> tuple[str, str] | None:
    """(trace id, span id) in W3C hex form, when a span is active."""
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None
    return format(context.trace_id, "032x"), format(context.span_id, "016x")
