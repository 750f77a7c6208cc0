"""One stack launcher (issue 12): processes for tests and benchmarks are started by ncp_testkit.stack alone,
a free port is found by ncp_testkit.server alone, and no module is loaded by its file path."""

import re
import subprocess

import pytest

LAUNCHER = "packages/ncp-testkit/src/ncp_testkit/stack.py"
RULES = {
    # a process started (and then waited for) outside the launcher
    r"subprocess\.Popen\(|create_subprocess_exec\(": {LAUNCHER},
    # a free-port helper written again
    r"^\s*def free_port\(": {"packages/ncp-testkit/src/ncp_testkit/server.py"},
    # a benchmark or script loaded as a module from its path
    r"spec_from_file_location|SourceFileLoader|runpy\.run_path\(.*bench": set(),
}
# Production code may start processes of its own (none does today); tests, benchmarks and scripts may not.
SCOPES = ("tests/", "scripts/", "packages/ncp-testkit/", "/tests/", "/bench/")


@pytest.fixture(scope="module")
def python_files(kit) -> dict[str, str]:
    listed = subprocess.run(["git", "ls-files", "*.py"], cwd=kit.ROOT, capture_output=True, text=True, check=True)
    return {name: (kit.ROOT / name).read_text(errors="replace") for name in listed.stdout.split()
            if (kit.ROOT / name).is_file() and any(scope in name or name.startswith(scope) for scope in SCOPES)
            and name != "tests/deploy/test_one_launcher.py"}  # its own patterns


@pytest.mark.parametrize("pattern", RULES)
def test_only_the_testkit_launches_processes_and_finds_ports(python_files, pattern):
    found = {name for name, text in python_files.items() if re.search(pattern, text, re.M)}
    assert found <= RULES[pattern], f"{pattern!r} outside its one home: {sorted(found - RULES[pattern])}"


def test_every_benchmark_uses_the_launcher_when_it_starts_a_server(python_files):
    for name, text in python_files.items():
        if "/bench/" in name and re.search(r"-m\", \"(ncp_|uvicorn)", text):
            assert "ncp_testkit.stack import" in text, name
