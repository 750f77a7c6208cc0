"""Fixtures for the `emrex` command line: reference data and a way to run the real command."""

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from emrex_cli.devpki import IssuedKey
from ncp_testkit import golden_elmo, sign_enveloped, signing_key
from ncp_testkit.fixtures import reference as reference, samples as samples

Run = Callable[..., subprocess.CompletedProcess[bytes]]


@pytest.fixture(scope="session")
def golden_signed() -> tuple[IssuedKey, bytes]:
    """A development key (CN=cli-test.example) and the golden transcript, signed (enveloped) by it."""
    key = signing_key(common_name="cli-test.example")
    return key, sign_enveloped(golden_elmo(), key)


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
