"""The one service Dockerfile: non-root, locked installs, healthcheck; compose builds real workspace members;
builds on buildah as on BuildKit, offline from a frontend registry."""

import json
import re
import subprocess
import sys
import tomllib

import pytest

DOCKERFILES = ["service.Dockerfile", "postgres.Dockerfile"]


def instructions(text):
    """The Dockerfile's instructions, continuation lines joined, comments dropped."""
    joined = re.sub(r"\\\n", " ", "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#")))
    return [line.strip() for line in joined.splitlines() if line.strip()]


@pytest.mark.parametrize("name", DOCKERFILES)
def test_no_frontend_image_is_fetched(kit, name):
    """A `# syntax=` line makes BuildKit pull a frontend image: impossible on an air-gapped builder."""
    text = (kit.ROOT / "deploy" / "docker" / name).read_text()
    assert not re.search(r"^#\s*syntax\s*=", text, re.M | re.I)
    assert not re.search(r"^#\s*escape\s*=", text, re.M | re.I)


@pytest.mark.parametrize("name", DOCKERFILES)
def test_mount_targets_are_absolute(kit, name):
    """buildah before 1.29 (Debian 12, Ubuntu 22.04) refuses relative RUN --mount targets."""
    text = (kit.ROOT / "deploy" / "docker" / name).read_text()
    for line in instructions(text):
        for mount in re.findall(r"--mount=(\S+)", line):
            options = dict(part.partition("=")[::2] for part in mount.split(","))
            target = options.get("target") or options.get("dst") or options.get("destination")
            assert target, mount
            assert target.startswith("/"), mount


def test_per_service_arguments_come_after_the_shared_layers(kit):
    """ARG PACKAGE/MODULE invalidate every later layer: uv's installation must not depend on them."""
    lines = instructions((kit.ROOT / "deploy" / "docker" / "service.Dockerfile").read_text())
    uv_install = next(i for i, line in enumerate(lines) if re.search(r"install .*\buv==", line))
    stage_start = max(i for i in range(uv_install) if lines[i].startswith("FROM "))
    for line in lines[stage_start:uv_install]:
        assert not re.match(r"ARG (PACKAGE|MODULE|PORT|APT_PACKAGES)\b", line), line


def test_every_python_install_follows_the_lock(kit):
    """Nothing is installed from PyPI at whatever version is newest: uv sync --frozen, or the lock as constraints."""
    text = (kit.ROOT / "deploy" / "docker" / "service.Dockerfile").read_text()
    for line in instructions(text):
        if not line.startswith("RUN"):
            continue
        for command in re.split(r"&&|;", line):
            if re.search(r"\bpip install\b", command) and "uv pip install" not in command:
                # Only uv itself, pinned: it is what reads the lock.
                assert re.search(r'pip install "uv==\$\{UV_VERSION\}"\s*$', command.strip()), command
            elif "uv pip install" in command:
                assert "--constraint /tmp/locked.txt" in command, command
    assert "uv export --frozen" in text
    assert "oidc-provider-mock==" not in text


@pytest.mark.parametrize("name", DOCKERFILES)
def test_accounts_are_system_accounts_exactly_when_their_id_is_a_system_id(kit, name):
    """useradd/groupadd warn when --system meets an id above SYS_UID_MAX (999), or a regular account one below
    UID_MIN (1000); the warning hides real problems in the build log."""
    text = (kit.ROOT / "deploy" / "docker" / name).read_text()
    accounts = 0
    for line in instructions(text):
        for command in re.split(r"&&|;", line):
            if not re.search(r"\b(useradd|groupadd)\b", command):
                continue
            accounts += 1
            (number,) = re.findall(r"--(?:uid|gid) (\d+)", command)[:1]
            system = bool(re.search(r"(--system|\s-r)\b", command))
            assert system == (int(number) < 1000), command
    assert accounts


@pytest.mark.parametrize("name", DOCKERFILES)
def test_healthcheck_arguments_have_no_spaces(kit, name):
    """podman's Docker-compatible API splits healthcheck arguments on spaces."""
    text = (kit.ROOT / "deploy" / "docker" / name).read_text()
    for line in instructions(text):
        if line.startswith("HEALTHCHECK"):
            exec_form = re.search(r"CMD (\[.*\])$", line)
            assert exec_form, line
            assert all(" " not in arg for arg in json.loads(exec_form.group(1))), line


def test_dockerfile_is_locked_non_root_and_healthchecked(kit):
    text = (kit.ROOT / "deploy" / "docker" / "service.Dockerfile").read_text()
    assert re.search(r"^ARG PACKAGE$", text, re.M)
    assert re.search(r"^ARG MODULE$", text, re.M)
    assert text.count("uv sync --frozen --no-dev") == 2
    assert "--no-install-workspace" in text
    runtime = text[text.rindex("AS runtime"):]
    assert re.search(r"^USER 10001:10001$", runtime, re.M)
    assert re.search(r'^HEALTHCHECK .*CMD \["healthcheck"\]$', runtime, re.M)
    assert "/healthz" in (kit.ROOT / "deploy" / "docker" / "healthcheck.py").read_text()
    stages: set[str] = set()
    for base, stage in re.findall(r"^FROM (\S+) AS (\S+)$", text, re.M):
        assert base == "${PYTHON_IMAGE}" or base in stages, base
        stages.add(stage)
    (base,) = re.findall(r"^ARG PYTHON_IMAGE=(\S+)$", text, re.M)
    assert base.startswith("python:3.11")


def _members(kit):
    """Workspace member -> (its import packages, the workspace members it depends on)."""
    members = {}
    for pyproject in [*kit.ROOT.glob("services/*/pyproject.toml"), *kit.ROOT.glob("packages/*/pyproject.toml")]:
        data = tomllib.loads(pyproject.read_text())
        packages = data["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]
        members[data["project"]["name"]] = ({p.rsplit("/", 1)[-1] for p in packages},
                                            {re.split(r"[<>=\[ ]", d)[0] for d in data["project"]["dependencies"]})
    return members


def test_image_builds_name_workspace_members_and_their_modules(kit):
    """Every image `make images` builds installs a member whose dependencies hold MODULE; every service has its
    own production image (PACKAGE = the service itself)."""
    members = _members(kit)
    services = {tomllib.loads(p.read_text())["project"]["name"] for p in kit.ROOT.glob("services/*/pyproject.toml")}
    result = subprocess.run([sys.executable, str(kit.ROOT / "scripts" / "image_specs.py")], capture_output=True,
                            text=True, check=True)
    production = set()
    for line in result.stdout.splitlines():
        name, target, *pairs = line.split()
        if target == "dev-oidc":
            continue
        args = dict(pair.split("=", 1) for pair in pairs)
        package, module = args["PACKAGE"], args["MODULE"]
        assert package in members, name
        reachable = members[package][0] | {m for dep in members[package][1] if dep in members for m in members[dep][0]}
        assert module in reachable, name
        if package in services:
            production.add(package)
            assert not name.removesuffix(":0.1.0").endswith("-dev"), name
    assert production == services


def test_docker_context_holds_sources_only(kit):
    ignore = (kit.ROOT / ".dockerignore").read_text().splitlines()
    assert "**" in ignore
    for needed in ("!pyproject.toml", "!uv.lock", "!packages/**", "!services/**"):
        assert needed in ignore
    assert "**/*.key" in ignore
