"""docker-compose.yml: valid for Debian's docker-compose, healthy ordering, secrets as files, no secret values."""

import re
import shutil
import subprocess

import pytest

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
