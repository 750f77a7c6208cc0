"""The production sis-adapter image holds no demo SIS.

service.Dockerfile installs `uv sync --frozen --no-dev --no-editable --package $PACKAGE`: exactly what
`uv export --no-dev --package $PACKAGE` lists. That set is rebuilt here from this checkout (the workspace members
it names, on top of the locked third-party packages of the venv) and the service is started in it, without the
site machinery that would add every workspace member.
"""

import re
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path

import pytest

from .test_dockerfile import instructions


def _members(root: Path) -> dict[str, Path]:
    """Workspace distribution name -> its source directory (what its wheel packages)."""
    out = {}
    for pyproject in [*root.glob("services/*/pyproject.toml"), *root.glob("packages/*/pyproject.toml")]:
        out[tomllib.loads(pyproject.read_text())["project"]["name"]] = pyproject.parent / "src"
    return out


def _exported(root: Path, package: str) -> set[str]:
    """The workspace members `uv export --no-dev --package` installs with `package`."""
    result = subprocess.run(
        ["python3", "-m", "uv", "export", "--frozen", "--no-dev", "--package", package, "--no-hashes",
         "--no-header", "--quiet"], cwd=root, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        pytest.skip(f"uv is not available: {result.stderr.strip()[:200]}")
    paths = {line.split(None, 1)[1].strip() for line in result.stdout.splitlines() if line.startswith("-e ")}
    by_path = {f"./{src.parent.relative_to(root)}": name for name, src in _members(root).items()}
    return {by_path[p] for p in paths}


@pytest.fixture(scope="module")
def production_path(kit, tmp_path_factory) -> str:
    """A sys.path with the venv's third-party packages and only the production sis-adapter's own members."""
    root = kit.ROOT
    members = _members(root)
    installed = _exported(root, "ncp-sis-adapter")
    site = Path(sysconfig.get_paths()["purelib"])
    only = tmp_path_factory.mktemp("production-site")
    ours = {name.replace("-", "_") for name in members}
    for entry in site.iterdir():
        if entry.suffix == ".pth":
            continue  # the editable installs of every member
        if entry.name.endswith(".dist-info") and entry.name.split("-")[0] in ours \
                and entry.name.split("-")[0].replace("_", "-") not in installed:
            continue  # metadata (entry points) of a member the image does not install
        (only / entry.name).symlink_to(entry)
    return ":".join([str(only), *(str(members[name]) for name in sorted(installed))])


def test_the_dockerfile_installs_one_members_locked_set(kit):
    steps = [line for line in instructions((kit.ROOT / "deploy" / "docker" / "service.Dockerfile").read_text())
             if "uv sync" in line]
    assert steps
    assert all(re.search(r'uv sync --frozen --no-dev .*--package "\$\{PACKAGE\}"$', s) for s in steps)


def test_production_sis_adapter_members_exclude_the_demo(kit):
    installed = _exported(kit.ROOT, "ncp-sis-adapter")
    assert "ncp-sis-adapter" in installed
    assert "ncp-demo-sis" not in installed
    assert "ncp-demo-sis" in _exported(kit.ROOT, "ncp-demo-sis")  # the development image's set has it
    # Its own tree carries no demo data either (the plugin hook, demo_plugin.py, is code without data).
    source = kit.ROOT / "services" / "sis-adapter" / "src"
    assert not [p for p in source.rglob("*") if p.suffix == ".toml" or p.name in ("demo.py", "cli.py")]


def test_demo_module_is_not_importable_in_the_production_set(production_path):
    env = {"PYTHONPATH": production_path, "PATH": "/usr/bin:/bin"}
    probe = "import importlib.util as u, sys; sys.exit(0 if u.find_spec('ncp_demo_sis') else 3)"
    assert subprocess.run([sys.executable, "-S", "-c", probe], env=env, check=False).returncode == 3
    assert subprocess.run([sys.executable, "-S", "-c", probe.replace("ncp_demo_sis", "ncp_sis_adapter")],
                          env=env, check=False).returncode == 0


def test_production_sis_adapter_asked_to_seed_stops_with_one_clear_line(production_path, tmp_path):
    env = {"PYTHONPATH": production_path, "PATH": "/usr/bin:/bin", "NCP_SIS_SEED_DEMO": "true",
           "NCP_SIS_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/sis.db"}
    result = subprocess.run([sys.executable, "-S", "-m", "ncp_sis_adapter"], env=env, capture_output=True,
                            text=True, timeout=60, check=False)
    assert result.returncode == 1
    assert "the demo SIS is not installed" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1
