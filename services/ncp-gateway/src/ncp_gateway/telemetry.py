"""The gateway's operator metrics: transfers by return code and protocol, and time from entry to hand-off.

`install` wires the shared HTTP metrics and traces (ncp_runtime) and these series into the app; the hand-off
calls `record_transfer` once per transfer, whatever its outcome.
"""

import datetime as dt
import re

from fastapi import FastAPI, Request
from prometheus_client import Counter, Histogram

from ncp_runtime import install_observability

PROTOCOLS = ("emrex1", "emrex2")
# EMREX return codes with any configured prefix (NCP_*, EMP_*): anything else is one "other" series.
RETURN_CODE = re.compile(r"[A-Z]{2,8}_(OK|NO_RESULTS|CANCEL|ERROR)")
# A student takes seconds to many minutes between the client's POST and the hand-off.
FLOW_BUCKETS = (1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1200.0, 3600.0)


class TransferMetrics:
    def __init__(self, app: FastAPI) -> None:
        registry = install_observability(app, "ncp-gateway").registry
        self.transfers = Counter(
            "ncp_transfers",
            "Transfers handed back to a client, by return code and protocol.",
            ["return_code", "protocol"],
            registry=registry,
        )
        self.flow = Histogram(
            "ncp_flow_duration_seconds",
            "Seconds from the client's entry POST to the hand-off, by protocol.",
            ["protocol", "return_code"],
            buckets=FLOW_BUCKETS,
            registry=registry,
        )
        for protocol in PROTOCOLS:  # the error ratio has a denominator before the first transfer
            for outcome in ("OK", "ERROR"):
                self.transfers.labels(f"NCP_{outcome}", protocol)

    def record(self, return_code: str, protocol: str, seconds: float | None) -> None:
        code = return_code if RETURN_CODE.fullmatch(return_code) else "other"
        protocol = protocol if protocol in PROTOCOLS else "other"
        self.transfers.labels(code, protocol).inc()
        if seconds is not None and seconds >= 0:
            self.flow.labels(protocol, code).observe(seconds)


def install(app: FastAPI) -> TransferMetrics:
    app.state.transfer_metrics = TransferMetrics(app)
    return app.state.transfer_metrics  # type: ignore[no-any-return]


def record_transfer(
    request: Request,
    return_code: str,
    *,
    entered_at: dt.datetime | None,
    protocol: str = "emrex1",
    now: dt.datetime | None = None,
) -> None:
    """Count one hand-off; `entered_at` is when the client's entry request arrived (Transfer.created_at)."""
    metrics: TransferMetrics | None = getattr(request.app.state, "transfer_metrics", None)
    if metrics is None:
        return
    seconds = None
    if entered_at is not None:
        if entered_at.tzinfo is None:
            entered_at = entered_at.replace(tzinfo=dt.UTC)
        seconds = ((now or dt.datetime.now(dt.UTC)) - entered_at).total_seconds()
    metrics.record(return_code, protocol, seconds)
