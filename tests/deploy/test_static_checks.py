"""hadolint on the Dockerfiles; checkov on the Dockerfiles and on every rendered kustomize overlay.

Zero findings, or a skip whose reason is written next to it (`# checkov:skip=ID:reason` in a Dockerfile, a
`checkov.io/skipN: ID=reason` annotation in k8s/). The checkers run from a venv of their own, installed from
the hash-locked tests/deploy/tools/requirements.txt into var/tools/ (checkov's pins must not enter uv.lock).
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.timeout(600)

DOCKERFILES = ["deploy/docker/service.Dockerfile", "deploy/docker/postgres.Dockerfile"]


def _uv(root: Path) -> list[str]:
    if found := shutil.which("uv"):
        return [found]
    for python in ("python3", sys.executable):
        if subprocess.run([python, "-m", "uv", "--version"], capture_output=True, check=False).returncode == 0:
            return [python, "-m", "uv"]
    pytest.fail("uv is needed to install the static checkers (make setup installs it)")


@pytest.fixture(scope="session")
def checkers(kit) -> Path:
    """The venv's bin directory, (re)installed when requirements.txt changes."""
    requirements = kit.ROOT / "tests" / "deploy" / "tools" / "requirements.txt"
    venv = kit.ROOT / "var" / "tools" / "deploy-checks"
    stamp = venv / "requirements.txt"
    if not stamp.exists() or stamp.read_text() != requirements.read_text():
        uv = _uv(kit.ROOT)
        env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never"}
        subprocess.run([*uv, "venv", "--quiet", "--clear", "--python", "3.11", str(venv)], check=True, env=env)
        result = subprocess.run([*uv, "pip", "install", "--quiet", "--python", str(venv / "bin" / "python"),
                                 "--require-hashes", "-r", str(requirements)], capture_output=True, text=True,
                                check=False, env=env)
        assert result.returncode == 0, f"installing the static checkers failed:\n{result.stderr}"
        shutil.copy(requirements, stamp)
    return venv / "bin"


def _checkov(checkers: Path, framework: str, files: list[Path]) -> dict:
    args = [str(checkers / "checkov"), "--quiet", "--compact", "--skip-download", "--framework", framework,
            "--output", "json"]
    for file in files:
        args += ["-f", str(file)]
    # --skip-download and no API key: nothing leaves the machine.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BC_", "PRISMA_"))}
    result = subprocess.run(args, capture_output=True, text=True, check=False, env=env)
    assert result.returncode in (0, 1), result.stderr[-2000:]
    reports = json.loads(result.stdout)
    reports = reports if isinstance(reports, list) else [reports]
    failed = [c for r in reports for c in r.get("results", {}).get("failed_checks", [])]
    skipped = [c for r in reports for c in r.get("results", {}).get("skipped_checks", [])]
    passed = sum(r.get("summary", {}).get("passed", 0) for r in reports)
    return {"failed": failed, "skipped": skipped, "passed": passed}


def _assert_clean(outcome: dict, where: str) -> None:
    findings = [f"{c['check_id']} {c['resource']} ({c.get('file_path')}:{c.get('file_line_range')})"
                for c in outcome["failed"]]
    assert not findings, f"{where}: checkov findings:\n" + "\n".join(findings)
    for check in outcome["skipped"]:
        reason = (check.get("check_result") or {}).get("suppress_comment", "")
        assert len(reason.strip()) >= 15, f"{where}: {check['check_id']} is skipped without a reason"
    assert outcome["passed"] > 0, f"{where}: checkov checked nothing"


@pytest.mark.parametrize("dockerfile", DOCKERFILES)
def test_hadolint_finds_nothing(checkers, kit, dockerfile):
    result = subprocess.run([str(checkers / "hadolint"), "--no-color", str(kit.ROOT / dockerfile)],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert not result.stdout.strip(), result.stdout


def test_checkov_finds_nothing_in_the_dockerfiles(checkers, kit):
    _assert_clean(_checkov(checkers, "dockerfile", [kit.ROOT / d for d in DOCKERFILES]), "Dockerfiles")


def test_checkov_finds_nothing_in_the_rendered_overlay(checkers, overlay, rendered, tmp_path):
    manifest = tmp_path / "rendered.yaml"
    manifest.write_text(yaml.safe_dump_all(rendered[overlay]))
    _assert_clean(_checkov(checkers, "kubernetes", [manifest]), f"k8s/{overlay}")
