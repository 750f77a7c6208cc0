"""Prometheus metrics for every service: one registry per app, HTTP metrics by route template, `/metrics`.

One registry per app (not the library's global one) because tests run several apps in one process and a
service may be created twice; each process of a deployment runs one app, so nothing is lost.

Labels never hold personal data: routes are templates (`/v1/learners/{id}`, never the raw path), and services
label their own metrics with institution ids, key ids or return codes only.

`/metrics` answers on the service port for the cluster's Prometheus (the NetworkPolicy of the monitoring
component lets it in). It refuses requests that came through a reverse proxy (they carry X-Forwarded-For,
Forwarded or X-Real-IP, which the ingress always sets): the gateway is public, its metrics are not.
"""

import time
from collections.abc import Callable, Iterable

from fastapi import FastAPI, Request
from fastapi.responses import Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .problems import problem_response
from .tracing import configure_tracing, server_span

METRICS_PATH = "/metrics"
PROXY_HEADERS = (b"x-forwarded-for", b"forwarded", b"x-real-ip")
# Internal calls take milliseconds, a page with a SIS fan-out a few seconds.
DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class CallbackCollector(Collector):
    """Values read at scrape time (certificate expiry, registry age, breaker state): never out of date."""

    def __init__(self, collect: Callable[[], Iterable[object]]) -> None:
        self._collect = collect

    def collect(self):  # type: ignore[no-untyped-def]
        yield from self._collect()


# `*_created` series double the output and no dashboard or alert of ours reads them.
disable_created_metrics()  # type: ignore[no-untyped-call]


class Metrics:
    def __init__(self, service: str) -> None:
        self.service = service
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "ncp_http_requests",
            "HTTP requests answered, by route template, method and status code.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.duration = Histogram(
            "ncp_http_request_duration_seconds",
            "Time to answer an HTTP request, by route template and method.",
            ["route", "method"],
            buckets=DURATION_BUCKETS,
            registry=self.registry,
        )

    def add_callback(self, collect: Callable[[], Iterable[object]]) -> None:
        self.registry.register(CallbackCollector(collect))

    def render(self) -> bytes:
        return generate_latest(self.registry)


def route_template(scope: Scope, root_path: str) -> str:
    route = scope.get("route")
    template = getattr(route, "path_format", None) or getattr(route, "path", None)
    if isinstance(template, str):
        return template
    mounted = scope.get("root_path", "")
    if mounted and mounted != root_path:  # a Mount (static files): one series for the whole mount
        return f"{mounted[len(root_path) :]}/*"
    return "unmatched"  # 404s: never the raw path, which scanners would turn into unbounded series


class ObservabilityMiddleware:
    """Times every HTTP request, counts it by route template and status, and wraps it in a server span."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] == METRICS_PATH:
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        root_path = scope.get("root_path", "")
        status = 500
        started = time.perf_counter()

        async def send_recording(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        with server_span(self.metrics.service, scope) as span:
            try:
                await self.app(scope, receive, send_recording)
            finally:
                route = route_template(scope, root_path)
                self.metrics.requests.labels(route, method, str(status)).inc()
                self.metrics.duration.labels(route, method).observe(time.perf_counter() - started)
                span.name_route(method, route, status)


def quiet_native_telemetry(app: FastAPI) -> None:
    """Turn off FastAPI's own OpenTelemetry spans, metrics and logs (FastAPI >= 0.16x, on once a provider is set).

    They record `url.query` (OIDC codes and states, return URLs) and exception messages with stack traces;
    ObservabilityMiddleware records route templates and status codes only. FastAPI reads this dict per request.
    """
    config = getattr(app, "_telemetry", None)
    if isinstance(config, dict):
        config.update(tracing=False, metrics=False, logs=False)


def install_observability(app: FastAPI, service: str) -> Metrics:
    """Metrics and traces for one app: the middleware, `/metrics`, and `app.state.metrics` for its own series.

    Call it last in the factory, so that its middleware is the outermost and times the whole answer."""
    configure_tracing(service)
    quiet_native_telemetry(app)
    metrics = Metrics(service)
    app.state.metrics = metrics
    app.add_middleware(ObservabilityMiddleware, metrics=metrics)

    @app.get(METRICS_PATH, include_in_schema=False)
    async def prometheus_metrics(request: Request) -> Response:
        if any(name.decode() in request.headers for name in PROXY_HEADERS):
            return problem_response(404, "not_found", "Not Found")
        return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)

    return metrics


def app_metrics(request: Request) -> Metrics:
    found: Metrics = request.app.state.metrics
    return found
