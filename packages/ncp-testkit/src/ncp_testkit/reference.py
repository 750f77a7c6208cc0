"""Where the shared reference data lives: read in place, never copied into the repository."""

import os
from pathlib import Path

# <repo>/packages/ncp-testkit/src/ncp_testkit/reference.py -> <repo>/../shared
_DEFAULT_SHARED = Path(__file__).resolve().parents[4].parent / "shared"


def reference_dir() -> Path:
    """`$NCP_SHARED_DIR/reference`, else `<repo>/../shared/reference` (not checked: callers skip or fail)."""
    shared = os.environ.get("NCP_SHARED_DIR")
    return (Path(shared) if shared else _DEFAULT_SHARED) / "reference"


def samples_dir() -> Path:
    return reference_dir() / "samples"


def required_reference_dir() -> Path:
    """`reference_dir()`, failing the test with a hint when the reference data is not there."""
    path = reference_dir()
    if not (path / "samples").is_dir():
        import pytest

        pytest.fail(f"reference data not found at {path}; set NCP_SHARED_DIR to the folder holding reference/")
    return path
