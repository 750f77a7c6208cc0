"""The one service Dockerfile: non-root, locked installs, healthcheck; compose builds real workspace members."""

import re
import tomllib


def test_dockerfile_is_locked_non_root_and_healthchecked(kit):
    text = (kit.ROOT / "deploy" / "docker" / "service.Dockerfile").read_text()
    assert re.search(r"^ARG PACKAGE$", text, re.M)
    assert re.search(r"^ARG MODULE$", text, re.M)
    assert text.count("uv sync --frozen --no-dev") == 2
    assert "--no-install-workspace" in text
    runtime = text[text.rindex("AS runtime"):]
    assert re.search(r"^USER 10001:10001$", runtime, re.M)
    assert "HEALTHCHECK" in runtime
    assert "/healthz" in runtime
    for line in re.findall(r"^FROM (\S+)", text, re.M):
        assert line == "${PYTHON_IMAGE}"
    (base,) = re.findall(r"^ARG PYTHON_IMAGE=(\S+)$", text, re.M)
    assert base.startswith("python:3.11")


def test_compose_builds_name_workspace_members_and_their_modules(compose, kit):
    members = {}
    for pyproject in kit.ROOT.glob("services/*/pyproject.toml"):
        data = tomllib.loads(pyproject.read_text())
        packages = data["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]
        members[data["project"]["name"]] = {p.rsplit("/", 1)[-1] for p in packages}
    built = 0
    for name, spec in compose["services"].items():
        build = spec.get("build")
        if not build or build.get("target") == "dev-oidc":
            continue
        args = build["args"]
        assert args["PACKAGE"] in members, name
        assert args["MODULE"] in members[args["PACKAGE"]], name
        built += 1
    assert built == len(members)


def test_docker_context_holds_sources_only(kit):
    ignore = (kit.ROOT / ".dockerignore").read_text().splitlines()
    assert "**" in ignore
    for needed in ("!pyproject.toml", "!uv.lock", "!packages/**", "!services/**"):
        assert needed in ignore
    assert "**/*.key" in ignore
