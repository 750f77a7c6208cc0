"""The sis-adapter's operator metrics: per institution (its SCHAC code, never a learner) latency, outcomes
and circuit-breaker state. `install` also wires the shared HTTP metrics and traces (ncp_runtime)."""

from collections.abc import Callable, Iterator

from fastapi import FastAPI
from prometheus_client import Counter, Histogram
from prometheus_client.core import GaugeMetricFamily

from ncp_runtime import install_observability
from ncp_sis_adapter.domain.breaker import CircuitBreaker, State
from ncp_sis_adapter.domain.fanout import Institution

BREAKER_STATES: tuple[State, ...] = ("closed", "open", "half_open")
SIS_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class SisMetrics:
    def __init__(self, app: FastAPI) -> None:
        metrics = install_observability(app, "sis-adapter")
        self.calls = Counter(
            "ncp_sis_requests",
            "Calls to an institution's SIS, by institution and outcome "
            "(ok, timeout, unavailable, bad_data, error, circuit_open).",
            ["institution", "outcome"],
            registry=metrics.registry,
        )
        self.latency = Histogram(
            "ncp_sis_request_duration_seconds",
            "Time an institution's SIS took to answer (or fail), by institution.",
            ["institution"],
            buckets=SIS_BUCKETS,
            registry=metrics.registry,
        )
        self.breakers: dict[str, CircuitBreaker] = {}
        metrics.add_callback(self._breaker_states)

    def observer(self, institution: str) -> Callable[[str, float | None], None]:
        def observe(outcome: str, seconds: float | None) -> None:
            self.calls.labels(institution, outcome).inc()
            if seconds is not None:
                self.latency.labels(institution).observe(seconds)

        return observe

    def watch(self, institutions: list[Institution]) -> None:
        """Give every institution its observer, and read its breaker at each scrape."""
        for institution in institutions:
            institution.observe = self.observer(institution.schac)
            self.breakers.setdefault(institution.schac, institution.breaker)

    def _breaker_states(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "ncp_sis_circuit_breaker_state",
            "1 for the current circuit-breaker state of an institution's SIS.",
            labels=["institution", "state"],
        )
        for schac, breaker in sorted(self.breakers.items()):
            current = breaker.state
            for state in BREAKER_STATES:
                family.add_metric([schac, state], 1.0 if state == current else 0.0)
        yield family


def install(app: FastAPI) -> SisMetrics:
    metrics = SisMetrics(app)
    app.state.sis_metrics = metrics
    return metrics
