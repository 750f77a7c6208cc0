"""One skeleton for every service: migrations in the same place, lifespan state typed in deps.py, and routes
that take what they need as `...Dep` parameters instead of reading the app or request state by hand."""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SERVICES = sorted(p for p in (ROOT / "services").iterdir() if (p / "pyproject.toml").exists())


def _package(service: Path) -> Path:
    (package,) = [p for p in (service / "src").iterdir() if p.is_dir() and not p.name.startswith(("_", "."))]
    return package


def test_every_service_with_a_database_keeps_its_migrations_in_package_alembic():
    with_migrations = {s.name for s in SERVICES if list(_package(s).rglob("alembic/env.py"))}
    assert with_migrations == {"ncp-gateway", "registry-cache", "sis-adapter"}
    for service in SERVICES:
        envs = list(_package(service).rglob("alembic/env.py"))
        assert envs in ([], [_package(service) / "alembic" / "env.py"]), envs
        # The env lives in the package and is found through importlib.resources: no ini is needed to run it.
        assert not (service / "alembic.ini").exists()


def test_every_service_types_its_lifespan_state_in_deps():
    for service in SERVICES:
        tree = ast.parse((_package(service) / "deps.py").read_text())
        states = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "State"]
        assert states, f"{service.name}: deps.py has no State"
        assert [b.id for b in states[0].bases if isinstance(b, ast.Name)] == ["TypedDict"], service.name
        aliases = [t.id for n in tree.body if isinstance(n, ast.Assign) for t in n.targets if isinstance(t, ast.Name)]
        assert any(a.endswith("Dep") for a in aliases), service.name
        app = (_package(service) / "app.py").read_text()
        assert re.search(r"async def lifespan\(.*\) -> AsyncIterator\[State\]", app), service.name


def test_routes_do_not_read_the_app_or_request_state_by_hand():
    for service in SERVICES:
        package = _package(service)
        for folder in ("api", "web"):
            for module in (package / folder).glob("*.py") if (package / folder).is_dir() else []:
                for number, line in enumerate(module.read_text().splitlines(), 1):
                    assert "app.state." not in line, f"{module.relative_to(ROOT)}:{number}"
