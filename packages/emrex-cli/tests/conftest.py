"""Fixtures for the `emrex` command line: reference data and a way to run the real command."""

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from ncp_testkit.fixtures import reference as reference, samples as samples

Run = Callable[..., subprocess.CompletedProcess[bytes]]


@pytest.fixture
def emrex(tmp_path: Path) -> Run:
    """Run `python -m emrex_cli.main ARGS` as a separate process, as a user would."""

    def run(
        *args: str | Path, stdin: bytes = b"", env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            [sys.executable, "-m", "emrex_cli.main", *map(str, args)],
            input=stdin,
            capture_output=True,
            timeout=60,
            check=False,
            cwd=tmp_path,
            env={**os.environ, **(env or {})},
        )

    return run
