"""The images `make images` builds, one line each: name, Dockerfile target, then KEY=VALUE build arguments.

Every image docker-compose.yml names (its build args and targets), plus the production images compose does not
run: compose runs the sis-adapter's development image (with the demo SIS), Kubernetes production the plain one.
"""

import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
# name -> build args of the production images that have a development variant in compose.
PRODUCTION_ONLY: dict[str, dict[str, str]] = {
    "ncp-sis-adapter:0.1.0": {"PACKAGE": "ncp-sis-adapter", "MODULE": "ncp_sis_adapter", "PORT": "8003"},
}


def specs(compose_file: Path = ROOT / "docker-compose.yml") -> list[tuple[str, str, dict[str, str]]]:
    compose: dict[str, Any] = yaml.safe_load(compose_file.read_text())
    out = []
    for spec in compose["services"].values():
        build = spec.get("build")
        if build:
            args = {str(k): str(v) for k, v in (build.get("args") or {}).items()}
            out.append((str(spec["image"]), str(build.get("target", "runtime")), args))
    named = {name for name, _, _ in out}
    out += [(name, "runtime", args) for name, args in PRODUCTION_ONLY.items() if name not in named]
    return out


if __name__ == "__main__":
    for name, target, args in specs():
        sys.stdout.write(" ".join([name, target, *(f"{k}={v}" for k, v in args.items())]) + "\n")
