"""Every overlay renders with kustomize, validates against the Kubernetes schemas (offline), and is hardened."""

import subprocess

import pytest
import yaml

WORKLOADS = ("ncp-gateway", "ncp-signer", "ncp-registry-cache", "ncp-sis-adapter")


def test_overlay_validates_against_kubernetes_schemas(overlay, rendered, kit, tmp_path):
    validator = kit.tool("kubernetes-validate")
    if validator is None:
        pytest.skip("kubernetes-validate is not installed (PyPI dev dependency)")
    manifest = tmp_path / "rendered.yaml"
    manifest.write_text(yaml.safe_dump_all(rendered[overlay]))
    result = subprocess.run([validator, "--quiet", "--strict", "-k", "1.30.0", str(manifest)],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_latest_images(overlay, rendered, kit):
    for workload, _, container in kit.containers(rendered[overlay]):
        image = container["image"]
        name, _, tag = image.rpartition(":")
        where = (workload["metadata"]["name"], image)
        assert name, where
        assert tag not in ("", "latest"), where
        assert "/" not in tag, where


def test_every_container_has_probes_resources_and_a_locked_security_context(overlay, rendered, kit):
    for workload, pod, container in kit.containers(rendered[overlay]):
        where = f"{overlay}: {workload['metadata']['name']}/{container['name']}"
        assert "readinessProbe" in container, where
        assert "livenessProbe" in container, where
        resources = container.get("resources", {})
        assert {"cpu", "memory"} <= set(resources.get("requests", {})), where
        assert {"cpu", "memory"} <= set(resources.get("limits", {})), where
        security = container.get("securityContext", {})
        assert security.get("allowPrivilegeEscalation") is False, where
        assert security.get("readOnlyRootFilesystem") is True, where
        assert security.get("capabilities", {}).get("drop") == ["ALL"], where
        assert security.get("privileged") in (None, False), where
        assert (security.get("runAsNonRoot") or pod.get("securityContext", {}).get("runAsNonRoot")) is True, where
        assert pod.get("securityContext", {}).get("seccompProfile", {}).get("type") == "RuntimeDefault", where
        assert pod.get("automountServiceAccountToken") is False, where


def test_every_service_workload_has_a_disruption_budget(overlay, rendered):
    docs = rendered[overlay]
    budgets = {d["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"] for d in docs
               if d["kind"] == "PodDisruptionBudget"}
    assert set(WORKLOADS) <= budgets


def test_only_the_gateway_is_exposed_by_an_ingress(overlay, rendered):
    ingresses = [d for d in rendered[overlay] if d["kind"] == "Ingress"]
    backends = {p["backend"]["service"]["name"] for i in ingresses for r in i["spec"]["rules"]
                for p in r["http"]["paths"]}
    # The dev overlay has none: the browser comes in through port-forward (no TLS Secret to create there).
    assert backends == (set() if overlay == "dev" else {"ncp-gateway"})
    assert all(i["spec"].get("tls") for i in ingresses)


def test_network_is_default_deny_with_the_needed_flows(overlay, rendered):
    policies = {d["metadata"]["name"]: d["spec"] for d in rendered[overlay] if d["kind"] == "NetworkPolicy"}
    deny = policies["default-deny-all"]
    assert deny["podSelector"] == {}
    assert set(deny["policyTypes"]) == {"Ingress", "Egress"}
    assert "ingress" not in deny
    assert "egress" not in deny

    def allowed_from(target):
        spec = policies[target]
        return [peer.get("podSelector", {}).get("matchLabels", {}).get("app.kubernetes.io/name")
                for rule in spec.get("ingress", []) for peer in rule.get("from", [])]

    assert allowed_from("ncp-signer") == ["ncp-gateway"]
    assert allowed_from("ncp-sis-adapter") == ["ncp-gateway"]
    assert "ncp-gateway" in allowed_from("ncp-registry-cache")
    # The signer, which holds the key, may reach nothing but DNS.
    assert policies["ncp-signer"]["egress"] == []
    gateway_peers = {peer.get("podSelector", {}).get("matchLabels", {}).get("app.kubernetes.io/name")
                     for rule in policies["ncp-gateway"]["egress"] for peer in rule.get("to", [])}
    assert {"ncp-signer", "ncp-sis-adapter", "ncp-registry-cache"} <= gateway_peers


def test_production_runs_three_gateways_without_development_parts(rendered, kit):
    docs = rendered["production"]
    assert kit.deployment(docs, "ncp-gateway")["spec"]["replicas"] == 3
    hpa = next(d for d in docs if d["kind"] == "HorizontalPodAutoscaler")
    assert hpa["spec"]["minReplicas"] >= 3
    names = {d["metadata"]["name"] for d in docs}
    assert not names & {"ncp-demo-client", "ncp-postgres"}
    images = {c["image"] for _, _, c in kit.containers(docs)}
    assert not [i for i in images if "oidc" in i or "demo" in i or "postgres" in i]
    for _, _, container in kit.containers(docs):
        env = kit.k8s_env(docs, container)
        assert all(v != "dev" for k, v in env.items() if k.endswith("_ENV")), container["name"]
        assert "NCP_GATEWAY_ALLOW_HTTP_LOOPBACK" not in env


def test_production_signing_key_comes_from_a_secret_or_an_hsm(rendered, kit):
    plain = kit.deployment(rendered["production"], "ncp-signer")["spec"]["template"]["spec"]
    secrets = {v["secret"]["secretName"] for v in plain["volumes"] if "secret" in v}
    assert "ncp-signer-key" in secrets
    hsm_docs = rendered["examples/production-hsm"]
    signer = kit.deployment(hsm_docs, "ncp-signer")["spec"]["template"]["spec"]
    env = kit.k8s_env(hsm_docs, signer["containers"][0])
    assert "NCP_SIGNER_KEY_FILE" not in env
    assert env["NCP_SIGNER_KEYS_FILE"] == "/etc/ncp/signer/keys.json"


def test_the_pkcs11_keys_file_is_what_the_signer_reads(kit):
    import json

    from ncp_signer.settings import KeyConfig

    data = json.loads((kit.ROOT / "k8s" / "components" / "signer-pkcs11" / "keys.json").read_text())
    (key,) = [KeyConfig.model_validate(k) for k in data["keys"]]
    assert key.backend == "pkcs11"


def test_production_sis_tenants_file_is_valid(kit):
    from ncp_sis_adapter.config import load_tenants

    tenants = load_tenants(kit.ROOT / "k8s" / "overlays" / "production" / "sis-tenants.toml")
    assert tenants.tenants["default"].institutions[0].adapter.kind == "rest"


def test_dev_overlay_runs_the_demo_stack_in_one_gateway_pod(rendered, kit):
    docs = rendered["dev"]
    gateway = kit.deployment(docs, "ncp-gateway")
    assert gateway["spec"]["replicas"] == 1
    assert [c["name"] for c in gateway["spec"]["template"]["spec"]["containers"]] == ["gateway", "oidc-provider"]
    assert not [d for d in docs if d["kind"] == "HorizontalPodAutoscaler"]
    assert kit.deployment(docs, "ncp-demo-client") is not None


def test_the_dev_database_statefulset_has_a_headless_service(rendered):
    docs = rendered["dev"]
    for statefulset in (d for d in docs if d["kind"] == "StatefulSet"):
        governing = statefulset["spec"]["serviceName"]
        service = next(d for d in docs if d["kind"] == "Service" and d["metadata"]["name"] == governing)
        assert service["spec"].get("clusterIP") == "None", governing


def _secrets_created_by_the_dev_script(kit, tmp_path):
    """Run `deploy/k8s-secrets.sh NS --dev` against a kubectl that records what it is asked to create."""
    import os
    import subprocess

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    record = tmp_path / "created"
    fake = bin_dir / "kubectl"
    fake.write_text(
        "#!/usr/bin/env bash\n"
        "args=(\"$@\")\n"
        "for i in \"${!args[@]}\"; do\n"
        "  if [ \"${args[$i]}\" = secret ]; then echo \"${args[$((i + 2))]}\" >> \"$RECORD\"; fi\n"
        "done\n"
        "[ \"${args[2]:-}\" = apply ] && cat > /dev/null\n"
        "exit 0\n"
    )
    fake.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "RECORD": str(record)}
    result = subprocess.run(["bash", "deploy/k8s-secrets.sh", "emrex-dev", "--dev"], cwd=kit.ROOT, env=env,
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    return set(record.read_text().split())


def _referenced_secrets(docs):
    names = set()
    for doc in docs:
        if doc["kind"] == "Ingress":
            names |= {t["secretName"] for t in doc["spec"].get("tls", []) if t.get("secretName")}
        pod = None
        if doc["kind"] in ("Deployment", "StatefulSet", "DaemonSet", "Job"):
            pod = doc["spec"]["template"]["spec"]
        elif doc["kind"] == "CronJob":
            pod = doc["spec"]["jobTemplate"]["spec"]["template"]["spec"]
        if pod is None:
            continue
        names |= {v["secret"]["secretName"] for v in pod.get("volumes", []) if "secret" in v}
        for container in pod.get("initContainers", []) + pod["containers"]:
            for item in container.get("env", []):
                ref = item.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    names.add(ref["name"])
    return names


def test_the_dev_overlay_uses_only_secrets_the_dev_script_creates(rendered, kit, tmp_path):
    """`deploy/k8s-secrets.sh NS --dev` is all a development cluster gets: nothing may wait for another Secret."""
    missing = _referenced_secrets(rendered["dev"]) - _secrets_created_by_the_dev_script(kit, tmp_path)
    assert not missing, f"the dev overlay needs Secrets nobody creates: {sorted(missing)}"


def test_production_images_are_pinned_by_digest(rendered, kit):
    import re

    for overlay in ("production", "examples/production-hsm"):
        for _, _, container in kit.containers(rendered[overlay]):
            assert re.search(r"@sha256:[0-9a-f]{64}$", container["image"]), (overlay, container["image"])


def test_every_namespaced_object_is_in_the_overlay_namespace(overlay, rendered):
    cluster_scoped = {"Namespace", "ClusterRole", "ClusterRoleBinding", "PriorityClass", "StorageClass"}
    namespaces = {d["metadata"]["name"] for d in rendered[overlay] if d["kind"] == "Namespace"}
    assert len(namespaces) == 1, overlay
    for doc in rendered[overlay]:
        if doc["kind"] not in cluster_scoped:
            assert doc["metadata"].get("namespace") in namespaces, (overlay, doc["kind"], doc["metadata"]["name"])
