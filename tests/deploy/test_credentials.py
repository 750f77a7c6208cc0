"""One credential per caller and callee, everywhere the node is deployed (issue 11 §3).

For `make run`, compose and every Kubernetes overlay: each token the gateway sends is accepted by the
callee it is meant for and by no other; the callees accept disjoint sets of tokens, so a token read out of
a compromised sis-adapter or registry-cache never opens the signer; the registry-cache takes none for reads.
"""

import re
import runpy
from pathlib import Path
from typing import Any

import pytest

from ncp_runtime import CallerTokens, read_secret

CALLEES = {"signer": "NCP_SIGNER_", "sis-adapter": "NCP_SIS_", "registry-cache": "NCP_REGISTRY_"}
GATEWAY_SENDS = {"signer": "NCP_GATEWAY_SIGNER_TOKEN_PATH", "sis-adapter": "NCP_GATEWAY_SIS_TOKEN_PATH"}


def assert_one_credential_per_callee(accepted: dict[str, set[Any]], sent: dict[str, Any], where: str) -> None:
    """`accepted`: callee -> the credentials it takes; `sent`: callee -> what the gateway sends it."""
    assert set(accepted) == set(CALLEES), where
    for callee, credential in sent.items():
        assert credential in accepted[callee], f"{where}: {callee} refuses the gateway's token for it"
        others = [c for c in accepted if c != callee and credential in accepted[c]]
        assert not others, f"{where}: the gateway's token for {callee} also opens {others}"
    names = sorted(accepted)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            shared = accepted[a] & accepted[b]
            assert not shared, f"{where}: {a} and {b} accept the same credential"


# ---- make run -----------------------------------------------------------------------------------

_ASSIGNMENT = re.compile(r"""(NCP_[A-Z0-9_]+)=("[^"]*"|'[^']*'|\S+)""")


def procfile_env(root: Path, service: str, dev_dir: Path) -> dict[str, str]:
    line = (root / "services" / service / "dev.procfile").read_text()
    env = {}
    for name, value in _ASSIGNMENT.findall(line):
        value = re.sub(r"\$\{?NCP_DEV_DIR\}?", str(dev_dir), value.strip("\"'"))
        env[name] = re.sub(r"\$\{[A-Z0-9_]+:-([^}]*)\}", r"\1", value)  # ${PORT:-8001}: the default
    return env


@pytest.fixture
def make_run(kit, tmp_path) -> dict[str, dict[str, str]]:
    """The environment each service gets from its dev.procfile, with tokens issued as run.sh issues them."""
    assert "deploy/dev/make_tokens.py" in (kit.ROOT / "deploy" / "dev" / "run.sh").read_text()
    runpy.run_path(str(kit.ROOT / "deploy" / "dev" / "make_tokens.py"))["issue"](tmp_path)
    return {s: procfile_env(kit.ROOT, s, tmp_path) for s in ("ncp-gateway", *CALLEES)}


def test_make_run_issues_one_token_per_callee(make_run):
    accepted = {callee: set(CallerTokens.load(Path(make_run[callee][prefix + "CALLER_TOKENS_PATH"]))._tokens.values())
                for callee, prefix in CALLEES.items()}
    gateway = make_run["ncp-gateway"]
    sent = {callee: read_secret(Path(gateway[name])) for callee, name in GATEWAY_SENDS.items()}
    assert_one_credential_per_callee(accepted, sent, "make run")
    assert not any("REGISTRY_TOKEN" in name for name in gateway), "registry-cache reads take no token"


async def test_make_run_signer_refuses_the_token_meant_for_the_sis_adapter(make_run, tmp_path, monkeypatch):
    from emrex_cli.devpki import make_ca, make_signing_key
    from ncp_signer.app import create_app
    from ncp_signer.settings import Settings
    from ncp_testkit import asgi_client, bearer, write_key_files

    ca = make_ca()
    key_file, cert_file = write_key_files(tmp_path / "keys", make_signing_key(ca, "signer.example"), ca)
    env = make_run["signer"] | {"NCP_SIGNER_KEY_FILE": str(key_file), "NCP_SIGNER_CERT_FILE": str(cert_file),
                                "NCP_SIGNER_SIGN_CONCURRENCY": "1"}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    gateway = make_run["ncp-gateway"]
    for_sis = read_secret(Path(gateway["NCP_GATEWAY_SIS_TOKEN_PATH"]))
    for_signer = read_secret(Path(gateway["NCP_GATEWAY_SIGNER_TOKEN_PATH"]))
    async with asgi_client(create_app(Settings()), "http://signer") as client:
        refused = await client.get("/v1/certificates", headers=bearer(for_sis))
        allowed = await client.get("/v1/certificates", headers=bearer(for_signer))
    assert refused.status_code in (401, 403), refused.text
    assert allowed.status_code == 200, allowed.text


# ---- compose ------------------------------------------------------------------------------------

def _compose_file(compose, compose_dir: Path, service: str, path: str) -> Path:
    prefix = "/run/secrets/"
    assert path.startswith(prefix), path
    name = path[len(prefix):]
    spec = compose["services"][service]
    assert name in spec.get("secrets", []), f"{service} reads {path} but is not given secret {name}"
    return compose_dir / compose["secrets"][name]["file"]


def test_compose_issues_one_token_per_callee(compose, compose_dir, kit):
    accepted = {}
    for callee, prefix in CALLEES.items():
        env = kit.compose_env(compose, compose_dir, callee)
        source = _compose_file(compose, compose_dir, callee, env[prefix + "CALLER_TOKENS_PATH"])
        accepted[callee] = set(CallerTokens.load(source)._tokens.values())
    env = kit.compose_env(compose, compose_dir, "ncp-gateway")
    sent = {callee: read_secret(_compose_file(compose, compose_dir, "ncp-gateway", env[name]))
            for callee, name in GATEWAY_SENDS.items()}
    assert_one_credential_per_callee(accepted, sent, "docker-compose.yml")
    assert "NCP_GATEWAY_REGISTRY_TOKEN_PATH" not in env


# ---- Kubernetes ---------------------------------------------------------------------------------

def _secret_items(volume: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(path in the volume, Secret name, key) for a secret or projected volume; "*" for a whole Secret."""
    sources = []
    if "secret" in volume:
        sources.append((volume["secret"]["secretName"], volume["secret"].get("items")))
    for source in volume.get("projected", {}).get("sources", []):
        if "secret" in source:
            sources.append((source["secret"]["name"], source["secret"].get("items")))
    out = []
    for name, items in sources:
        out.extend((item["path"], name, item["key"]) for item in items or [{"path": "*", "key": "*"}])
    return out


def _mounted(pod: dict[str, Any], container: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """File path in the container -> (Secret, key), for every Secret key mounted into it."""
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    files = {}
    for mount in container.get("volumeMounts", []):
        volume = volumes.get(mount["name"], {})  # absent: a volumeClaimTemplate
        for path, secret, key in _secret_items(volume):
            files[f"{mount['mountPath'].rstrip('/')}/{path}"] = (secret, key)
    return files


def _container(docs, name):
    workload = kit_deployment(docs, name)
    pod = workload["spec"]["template"]["spec"]
    return pod, pod["containers"][0]


def kit_deployment(docs, name):
    return next(d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == name)


def test_every_overlay_issues_one_token_per_callee(overlay, rendered, kit):
    docs = rendered[overlay]
    accepted: dict[str, set[tuple[str, str]]] = {}
    for callee, prefix in CALLEES.items():
        pod, container = _container(docs, f"ncp-{callee}")
        directory = kit.k8s_env(docs, container)[prefix + "CALLER_TOKENS_PATH"].rstrip("/") + "/"
        accepted[callee] = {ref for path, ref in _mounted(pod, container).items() if path.startswith(directory)}
        assert accepted[callee], f"{overlay}: {callee} accepts no token"
    pod, container = _container(docs, "ncp-gateway")
    env, files = kit.k8s_env(docs, container), _mounted(pod, container)
    sent = {callee: files[env[name]] for callee, name in GATEWAY_SENDS.items()}
    assert_one_credential_per_callee(accepted, sent, f"k8s/{overlay}")
    assert "NCP_GATEWAY_REGISTRY_TOKEN_PATH" not in env
    # A callee's token Secrets are in no other pod than the callee's and their caller's.
    for callee, refs in accepted.items():
        secrets = {secret for secret, _ in refs}
        for workload, pod, container in kit.containers(docs):
            name = workload["metadata"]["name"]
            if name in (f"ncp-{callee}", "ncp-gateway"):
                continue
            leaked = secrets & {secret for secret, _ in _mounted(pod, container).values()}
            assert not leaked, f"{overlay}: {name} mounts {callee}'s caller tokens {sorted(leaked)}"
