"""docker-compose.yml: valid for Debian's docker-compose, healthy ordering, secrets as files, no secret values."""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

SECRET_NAME = re.compile(r"(PASSWORD|SECRET|TOKEN|KEY)$")


def test_compose_config_is_valid(compose_dir):
    if shutil.which("docker-compose") is None:
        pytest.skip("docker-compose is not installed: `make system-deps` installs Debian's docker-compose as root")
    result = subprocess.run(["docker-compose", "-f", "docker-compose.yml", "config", "-q"], cwd=compose_dir,
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


def test_every_service_has_a_healthcheck_and_waits_for_healthy_dependencies(compose):
    services = compose["services"]
    for name, spec in services.items():
        assert "healthcheck" in spec, name
        for dependency, condition in (spec.get("depends_on") or {}).items():
            assert dependency in services, (name, dependency)
            expected = "service_started" if spec.get("network_mode") == f"service:{dependency}" else "service_healthy"
            assert condition == {"condition": expected}, (name, dependency, condition)
    gateway = services["ncp-gateway"]["depends_on"]
    assert set(gateway) == {"postgres", "signer", "sis-adapter", "registry-cache", "oidc-provider"}


def test_the_whole_product_is_in_compose(compose):
    assert set(compose["services"]) == {"postgres", "signer", "sis-adapter", "registry-cache", "ncp-gateway",
                                        "oidc-provider", "demo-client"}


def test_images_are_pinned(compose):
    for name, spec in compose["services"].items():
        image = spec["image"]
        assert ":" in image, name
        assert not image.endswith(":latest"), name


def test_secrets_are_files_and_no_value_is_in_the_file(compose, kit):
    text = (kit.ROOT / "docker-compose.yml").read_text()
    for name, secret in compose["secrets"].items():
        assert set(secret) == {"file"}, name
        assert secret["file"].startswith("./deploy/dev/secrets/"), name
    for spec in compose["services"].values():
        for variable, value in (spec.get("environment") or {}).items():
            if SECRET_NAME.search(variable):
                raise AssertionError(f"{variable} carries a secret value; use a *_PATH to a secret file")
            assert "://" not in str(value) or "@" not in str(value), f"{variable} has credentials in a URL"
        for env_file in spec.get("env_file", []):
            assert env_file.startswith("./deploy/dev/secrets/")
    assert "deploy/dev/secrets/" in (kit.ROOT / ".gitignore").read_text()
    assert "BEGIN" not in text


def test_containers_are_locked_down(compose):
    for name, spec in compose["services"].items():
        if name == "postgres":
            continue
        assert spec.get("read_only") is True, name
        assert spec.get("cap_drop") == ["ALL"], name
        assert "no-new-privileges:true" in spec.get("security_opt", []), name


def test_only_the_browser_facing_services_publish_ports_on_loopback(compose):
    published = {name: spec["ports"] for name, spec in compose["services"].items() if spec.get("ports")}
    assert set(published) == {"ncp-gateway", "oidc-provider", "demo-client"}
    for ports in published.values():
        assert all(p.startswith("127.0.0.1:") for p in ports)


def test_no_obsolete_version_key(compose):
    """Compose v2 warns that `version:` is obsolete; it selects nothing."""
    assert "version" not in compose


def test_no_container_lives_in_another_ones_network_namespace(compose):
    """network_mode: service:X orphans the container when X restarts (it keeps X's old namespace)."""
    for name, spec in compose["services"].items():
        mode = str(spec.get("network_mode", ""))
        assert not mode.startswith(("service:", "container:")), (name, mode)


def test_healthcheck_arguments_have_no_spaces(compose):
    """podman's Docker-compatible API splits healthcheck arguments on spaces: one word per argument."""
    for name, spec in compose["services"].items():
        test = spec["healthcheck"]["test"]
        assert isinstance(test, list), (name, test)
        assert test[0] == "CMD", (name, test)
        assert all(" " not in arg for arg in test), (name, test)


MOVED = {"NCP_GATEWAY_PORT": "18000", "NCP_OIDC_PORT": "18010", "NCP_DEMO_PORT": "18020"}
DEFAULTS = {"NCP_GATEWAY_PORT": "8000", "NCP_OIDC_PORT": "8010", "NCP_DEMO_PORT": "8020"}


def _browser_facing(compose):
    """Every value that names a published port: environment values, command arguments, published ports."""
    for name, spec in compose["services"].items():
        for variable, value in (spec.get("environment") or {}).items():
            yield name, variable, str(value)
        for arg in spec.get("command") or []:
            yield name, "command", str(arg)
        for port in spec.get("ports") or []:
            yield name, "ports", str(port)


def test_published_ports_move_everywhere_together(compose_dir, kit):
    """With other ports in the environment, no URL, issuer, redirect URI or port mapping keeps a default one."""
    moved = yaml.safe_load(kit.interpolate((compose_dir / "docker-compose.yml").read_text(), MOVED))
    for name, where, value in _browser_facing(moved):
        for default in DEFAULTS.values():
            assert f"localhost:{default}" not in value, (name, where, value)
            assert not value.startswith(f"127.0.0.1:{default}:"), (name, where, value)
    gateway = moved["services"]["ncp-gateway"]["environment"]
    assert gateway["NCP_GATEWAY_PUBLIC_URL"] == "http://localhost:18000"
    assert gateway["NCP_GATEWAY_OIDC_ISSUER"] == "http://oidc.localhost:18010"
    assert "--redirect-uri=http://localhost:18000/login/callback" in moved["services"]["oidc-provider"]["command"]
    assert moved["services"]["demo-client"]["environment"]["NCP_DEMO_PUBLIC_URL"] == "http://localhost:18020"


def test_compose_itself_moves_the_ports(compose_dir):
    """The same, as docker-compose interpolates the file."""
    if shutil.which("docker-compose") is None:
        pytest.skip("docker-compose is not installed: `make system-deps` installs Debian's docker-compose as root")
    result = subprocess.run(["docker-compose", "-f", "docker-compose.yml", "config"], cwd=compose_dir,
                            capture_output=True, text=True, check=False, env={**os.environ, **MOVED})
    assert result.returncode == 0, result.stderr
    config = yaml.safe_load(result.stdout)
    published = {str(p["published"]) if isinstance(p, dict) else str(p).split(":")[-2]
                 for s in config["services"].values() for p in s.get("ports", [])}
    assert published == set(MOVED.values())
    text = result.stdout
    for default in DEFAULTS.values():
        assert f"localhost:{default}" not in text


def test_gen_secrets_lists_the_node_on_its_published_port(tmp_path, kit):
    out = tmp_path / "secrets"
    subprocess.run(["bash", str(kit.ROOT / "deploy" / "dev" / "gen-secrets.sh"), str(out)], check=True,
                   capture_output=True, env={"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
                                             "PYTHON": sys.executable, "NCP_GATEWAY_PORT": "18000"})
    assert json.loads((out / "emreg.json").read_text())["emps"][0]["url"] == "http://localhost:18000/emrex"


def test_database_urls_are_secret_files_not_environment(compose):
    """The URLs carry the password: compose mounts them as secrets and the services read *_DATABASE_URL_FILE."""
    for service, prefix, secret in [("ncp-gateway", "NCP_GATEWAY_", "gateway-database-url"),
                                    ("registry-cache", "NCP_REGISTRY_", "registry-database-url"),
                                    ("sis-adapter", "NCP_SIS_", "sis-database-url")]:
        spec = compose["services"][service]
        assert "env_file" not in spec, service
        assert spec["environment"][f"{prefix}DATABASE_URL_FILE"] == f"/run/secrets/{secret}"
        assert secret in spec["secrets"]
