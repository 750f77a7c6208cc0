"""The signer's operator metrics: signatures per key and kind, and days until each certificate expires.
`install` also wires the shared HTTP metrics and traces (ncp_runtime)."""

import datetime as dt
from collections.abc import Iterator

from fastapi import FastAPI, Request
from prometheus_client import Counter
from prometheus_client.core import GaugeMetricFamily

from ncp_runtime import install_observability
from ncp_signer.adapters.keyring import Keyring


class SignerMetrics:
    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.keyring: Keyring | None = None
        metrics = install_observability(app, "signer")
        self.signatures = Counter(
            "ncp_signer_signatures",
            "Signatures made, by key id and kind (elmo: XMLDSig, pdf: PAdES).",
            ["key_id", "kind"],
            registry=metrics.registry,
        )
        metrics.add_callback(self._expiry)

    def watch(self, keyring: Keyring) -> None:
        """The lifespan's keyring, whose certificates the expiry gauge reports."""
        self.keyring = keyring

    def _expiry(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "ncp_signer_certificate_expiry_days",
            "Days until a published certificate expires (active: signing now).",
            labels=["key_id", "active"],
        )
        if self.keyring is not None:
            now = dt.datetime.now(dt.UTC)
            for published in self.keyring.certificates:
                left = (published.certificate.not_valid_after_utc - now).total_seconds() / 86400
                family.add_metric([published.key_id, "true" if published.active else "false"], left)
        yield family


def install(app: FastAPI) -> SignerMetrics:
    app.state.signer_metrics = SignerMetrics(app)
    return app.state.signer_metrics  # type: ignore[no-any-return]


def count_signature(request: Request, key_id: str, kind: str) -> None:
    metrics: SignerMetrics | None = getattr(request.app.state, "signer_metrics", None)
    if metrics is not None:
        metrics.signatures.labels(key_id, kind).inc()
