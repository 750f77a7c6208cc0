"""The real process: the dev.procfile line under bash, and the migrate/refresh commands."""

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx

from ncp_testkit import free_port
from ncp_testkit.stack import start_process

SERVICE_DIR = Path(__file__).resolve().parents[1]


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NCP_REGISTRY_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.update(extra)
    return env


def test_dev_procfile_starts_not_ready_then_picks_up_the_file(tmp_path, pki, kit):
    name, command = (SERVICE_DIR / "dev.procfile").read_text().strip().split(": ", 1)
    assert name == "registry-cache"
    dev = tmp_path / "var" / "dev"
    (dev / "data").mkdir(parents=True)
    (dev / "callers" / "registry-cache").mkdir(parents=True)
    (dev / "callers" / "registry-cache" / "admin").write_text("a" * 32 + "\n")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {"PATH": _env()["PATH"], "NCP_DEV_DIR": str(dev), "NCP_REGISTRY_PORT": str(port),
           "NCP_REGISTRY_RETRY_INTERVAL": "0.2"}
    with start_process("registry-cache", ["bash", "-c", command], env, base + "/healthz", tmp_path / "registry.log",
                       timeout=30, cwd=SERVICE_DIR.parents[1]) as process:
        assert httpx.get(base + "/readyz").status_code == 503
        (dev / "emreg.json").write_bytes(kit.dumps(kit.registry_doc(pki)))
        ready = process.wait_ready(30, url=base + "/readyz")
        assert ready.json()["emps"] == 4
        assert (dev / "data" / "registry.db").is_file()
    lines = [json.loads(line) for line in process.log.read_text().splitlines() if line.startswith("{")]
    assert any(line["msg"] == "registry version accepted" for line in lines)
    assert all(line["service"] == "registry-cache" for line in lines)


def test_migrate_and_refresh_commands(tmp_path, pki, kit):
    source = tmp_path / "emreg.json"
    env = _env(NCP_REGISTRY_SOURCE=str(source), NCP_REGISTRY_ENV="test", NCP_REGISTRY_DEV_MODE="true",
               NCP_REGISTRY_DATABASE_URL=f"sqlite:///{tmp_path / 'registry.db'}")
    run = [sys.executable, "-m", "ncp_registry_cache"]
    migrated = subprocess.run([*run, "migrate"], env=env, capture_output=True, text=True, timeout=60)
    assert migrated.returncode == 0, migrated.stderr
    failed = subprocess.run([*run, "refresh"], env=env, capture_output=True, text=True, timeout=60)
    assert failed.returncode == 1
    assert "emreg: failed (source file does not exist (yet))" in failed.stdout
    source.write_bytes(kit.dumps(kit.registry_doc(pki)))
    ok = subprocess.run([*run, "refresh"], env=env, capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0, ok.stderr
    assert "emreg: accepted" in ok.stdout


def test_emrex_registry_check(tmp_path, pki, kit, shared):
    from emrex_cli.main import main as emrex

    good = tmp_path / "emreg.json"
    good.write_bytes(kit.dumps(kit.registry_doc(pki)))
    assert emrex(["registry", "check", str(good)]) == 0
    assert emrex(["registry", "check", str(shared / "emreg" / "emrex-client__emreg.json")]) == 1
    assert emrex(["registry", "check", str(tmp_path / "missing.json")]) == 1
