"""Compose and every Kubernetes overlay give each service the settings it reads, by their real names.

The names come from each service's Settings class (env prefix + field names), so renaming a setting
without updating the deployment files fails here.
"""

import re
from urllib.parse import urlsplit

import pytest

NCP_NAME = re.compile(r"^NCP_[A-Z0-9_]+$")


def _check_env(service, env, where):
    known = service.env_names()
    ours = {name for name in env if name.startswith(service.prefix)}
    unknown = sorted(ours - known)
    assert not unknown, f"{where}: {service.key} has no settings {unknown}"
    strangers = sorted(n for n in env if NCP_NAME.match(n) and not n.startswith(service.prefix))
    assert not strangers, f"{where}: {service.key} is given another service's settings {strangers}"
    required = {service.prefix + name.upper() for name, field in service.settings_class.model_fields.items()
                if field.is_required()}
    needed = required | {service.prefix + name for name in service.needed}
    # A setting given as a file (<NAME>_FILE) has its value source.
    given = set(env) | {name.removesuffix("_FILE") for name in env if name.endswith("_FILE")}
    missing = sorted(needed - given)
    assert not missing, f"{where}: {service.key} lacks {missing}"
    assert env[service.prefix + "HOST"] == "0.0.0.0", f"{where}: {service.key} must listen on all interfaces"
    port = env.get(service.prefix + "PORT")
    assert port in (None, str(service.default_port)), f"{where}: {service.key} port {port} != {service.default_port}"


def _settings_accept(service, env, monkeypatch, tmp_path):
    """The Settings class itself parses the values (types, validators), as the process would at start."""
    for name in list(service.env_names()):
        monkeypatch.delenv(name, raising=False)
    file_settings = {service.prefix + f.upper() + "_FILE" for f in service.settings_class.file_settings}
    for name, value in env.items():
        if name in file_settings:  # a mounted secret file: stands in with one holding a sample value
            value = str(tmp_path / name)
            (tmp_path / name).write_text("postgresql+asyncpg://u:p@db/x\n")
        if name.startswith(service.prefix):
            monkeypatch.setenv(name, "postgresql+asyncpg://u@db/x" if value == "<secret>" else value)
    settings = service.settings_class()
    assert settings.host == "0.0.0.0"
    return settings


def test_compose_environment_matches_settings(service, compose, compose_dir, kit, monkeypatch, tmp_path):
    env = kit.compose_env(compose, compose_dir, service.compose)
    _check_env(service, env, "docker-compose.yml")
    _settings_accept(service, env, monkeypatch, tmp_path)
    spec = compose["services"][service.compose]
    assert spec["build"]["args"]["PORT"] == str(service.default_port)
    assert f"127.0.0.1:{service.default_port}/readyz" in " ".join(spec["healthcheck"]["test"])


def test_overlay_environment_matches_settings(service, overlay, rendered, kit, monkeypatch, tmp_path):
    docs = rendered[overlay]
    workload = kit.deployment(docs, service.k8s)
    if service.overlays is not None and overlay not in service.overlays:
        assert workload is None, f"{overlay} must not deploy {service.key}"
        return
    assert workload is not None, f"{overlay} does not deploy {service.key}"
    container = workload["spec"]["template"]["spec"]["containers"][0]
    env = kit.k8s_env(docs, container)
    _check_env(service, env, f"k8s/{overlay}")
    _settings_accept(service, env, monkeypatch, tmp_path)
    (port,) = [p["containerPort"] for p in container["ports"] if p["name"] == "http"]
    assert port == service.default_port
    svc = next(d for d in docs if d["kind"] == "Service" and d["metadata"]["name"] == service.k8s)
    assert any(p["port"] == port for p in svc["spec"]["ports"])
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"


def _targets(env, prefix):
    return {name: value for name, value in env.items()
            if name.startswith(prefix) and name.endswith("_URL") and value.startswith("http://")}


def test_gateway_upstream_urls_name_real_services(compose, compose_dir, rendered, kit):
    env = kit.compose_env(compose, compose_dir, "ncp-gateway")
    for name, url in _targets(env, "NCP_GATEWAY_").items():
        if name in ("NCP_GATEWAY_PUBLIC_URL",):
            continue
        host, port = urlsplit(url).hostname, urlsplit(url).port
        if host == "oidc.localhost":  # the OIDC provider: same name and port for the browser and the gateway
            provider = compose["services"]["oidc-provider"]
            assert "oidc.localhost" in provider["networks"]["default"]["aliases"]
            assert f"--port={port}" in provider["command"]
            assert f"127.0.0.1:{port}:{port}" in provider["ports"]
            continue
        assert host in compose["services"], (name, url)
        target = next(s for s in kit.SERVICES if s.compose == host)
        assert port == target.default_port, (name, url)
    for overlay, docs in rendered.items():
        gateway = kit.deployment(docs, "ncp-gateway")
        env = kit.k8s_env(docs, gateway["spec"]["template"]["spec"]["containers"][0])
        services = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Service"}
        for name, url in _targets(env, "NCP_GATEWAY_").items():
            parts = urlsplit(url)
            if name == "NCP_GATEWAY_PUBLIC_URL" or parts.hostname == "localhost":
                continue
            assert parts.hostname in services, (overlay, name, url)
            assert any(p["port"] == parts.port for p in services[parts.hostname]["spec"]["ports"]), (overlay, url)


@pytest.mark.parametrize("variable", ["NCP_GATEWAY_PORT", "NCP_SIGNER_PORT", "NCP_REGISTRY_PORT", "NCP_SIS_PORT",
                                      "NCP_DEMO_PORT"])
def test_make_run_port_variables_are_the_services_own(variable, kit):
    owners = [s for s in kit.SERVICES if variable == s.prefix + "PORT"]
    assert owners, f"{variable} (deploy/dev/run.sh) is no service's port setting"
    assert variable in (kit.ROOT / "deploy" / "dev" / "run.sh").read_text()


def test_the_node_url_is_the_same_everywhere_in_compose(compose, compose_dir, kit):
    """The URL the demo client sends students to is the one the signer registers and EMREG lists."""
    import json

    demo = kit.compose_env(compose, compose_dir, "demo-client")["NCP_DEMO_GATEWAY_URL"]
    signer = kit.compose_env(compose, compose_dir, "signer")["NCP_SIGNER_EMREG_URL"]
    listed = json.loads((compose_dir / "deploy" / "dev" / "secrets" / "emreg.json").read_text())["emps"][0]["url"]
    public = kit.compose_env(compose, compose_dir, "ncp-gateway")["NCP_GATEWAY_PUBLIC_URL"]
    assert demo == signer == listed == public + "/emrex"


def test_the_node_url_is_the_same_everywhere_in_the_dev_overlay(rendered, kit):
    docs = rendered["dev"]

    def env(name):
        return kit.k8s_env(docs, kit.deployment(docs, name)["spec"]["template"]["spec"]["containers"][0])

    public = env("ncp-gateway")["NCP_GATEWAY_PUBLIC_URL"]
    assert env("ncp-demo-client")["NCP_DEMO_GATEWAY_URL"] == public + "/emrex"
    assert env("ncp-signer")["NCP_SIGNER_EMREG_URL"] == public + "/emrex"


def test_production_registers_its_public_entry_url(rendered, kit):
    docs = rendered["production"]

    def env(name):
        return kit.k8s_env(docs, kit.deployment(docs, name)["spec"]["template"]["spec"]["containers"][0])

    public = env("ncp-gateway")["NCP_GATEWAY_PUBLIC_URL"]
    assert public.startswith("https://")
    assert env("ncp-signer")["NCP_SIGNER_EMREG_URL"] == public + "/emrex"
    ingress = next(d for d in docs if d["kind"] == "Ingress")
    assert urlsplit(public).hostname == ingress["spec"]["rules"][0]["host"]


def test_every_sis_adapter_deployment_names_its_tenants_or_seeds_the_demo(compose, compose_dir, rendered, kit):
    """NCP_SIS_TENANTS_PATH is required; only the development image, seeding the demo, may leave it out."""
    envs = {"docker-compose.yml": kit.compose_env(compose, compose_dir, "sis-adapter")}
    images = {"docker-compose.yml": compose["services"]["sis-adapter"]["image"]}
    for overlay, docs in rendered.items():
        workload = kit.deployment(docs, "ncp-sis-adapter")
        container = workload["spec"]["template"]["spec"]["containers"][0]
        envs[overlay] = kit.k8s_env(docs, container)
        images[overlay] = container["image"]
    for where, env in envs.items():
        seeds = env.get("NCP_SIS_SEED_DEMO") == "true"
        assert seeds or env.get("NCP_SIS_TENANTS_PATH"), where
        # The demo is in the development image only, and that image only where the demo is seeded.
        assert seeds == ("ncp-sis-adapter-dev" in images[where]), (where, images[where])
