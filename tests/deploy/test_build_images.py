"""`make images` (scripts/build-images.sh): what it asks of each engine, seen by a recording stand-in for it.

The real builds run in `make test-containers` (root, a container engine, minutes); here only the engine's
command lines and environment, which decide whether Debian 12's Docker 20.10 and podman can build at all.
"""

import os
import subprocess
import sys
from pathlib import Path

import yaml

RECORDER = """#!/bin/sh
echo "DOCKER_BUILDKIT=${DOCKER_BUILDKIT:-} $*" >> "$NCP_TEST_ENGINE_LOG"
"""


def _build(kit, tmp_path: Path, engine: str, **env: str) -> list[str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / engine).write_text(RECORDER)
    (bin_dir / engine).chmod(0o755)
    log = tmp_path / "engine.log"
    environ = {k: v for k, v in os.environ.items() if k not in {"DOCKER_BUILDKIT", "BASE", "PYTHON_IMAGE"}}
    environ.update(PATH=f"{bin_dir}:{os.environ['PATH']}", ENGINE=engine, PY=sys.executable,
                   NCP_TEST_ENGINE_LOG=str(log), **env)
    subprocess.run(["bash", str(kit.ROOT / "scripts" / "build-images.sh")], check=True, env=environ,
                   capture_output=True, text=True)
    return log.read_text().splitlines()


def test_docker_builds_with_buildkit_every_image_compose_names(kit, tmp_path):
    lines = _build(kit, tmp_path, "docker", PYTHON_IMAGE="ncp-python-base:3.11-bookworm", BUILD_NETWORK="host")
    compose = yaml.safe_load((kit.ROOT / "docker-compose.yml").read_text())
    built = {spec["image"] for spec in compose["services"].values() if "build" in spec}
    # Every image compose runs, and the production sis-adapter (no demo SIS) that compose does not run.
    assert {line.rsplit(" -t ", 1)[1].split()[0] for line in lines} == built | {"ncp-sis-adapter:0.1.0"}
    for line in lines:
        # Docker 20.10 (Debian 12) builds RUN --mount only with BuildKit, which it uses only when asked.
        assert line.startswith("DOCKER_BUILDKIT=1 build ")
        assert "--build-arg PYTHON_IMAGE=ncp-python-base:3.11-bookworm" in line
        assert "--network host" in line
        assert "--format" not in line


def test_podman_keeps_the_healthcheck_and_gets_no_docker_variable(kit, tmp_path):
    lines = _build(kit, tmp_path, "podman")
    assert lines
    for line in lines:
        # The OCI format podman writes by default has no HEALTHCHECK.
        assert line.startswith("DOCKER_BUILDKIT= build ")
        assert "--format docker" in line
