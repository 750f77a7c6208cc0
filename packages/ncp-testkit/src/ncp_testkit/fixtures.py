"""Fixtures that several test suites share. A conftest imports the ones it uses, as explicit re-exports:
`from ncp_testkit.fixtures import reference as reference, samples as samples`."""

from pathlib import Path

import pytest

from .reference import required_reference_dir


@pytest.fixture(scope="session")
def reference() -> Path:
    """The shared reference data folder (read in place; the test fails with a hint when it is missing)."""
    return required_reference_dir()


@pytest.fixture(scope="session")
def samples(reference: Path) -> Path:
    return reference / "samples"
