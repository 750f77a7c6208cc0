"""Shared fixtures: the reference data folder (read only, never copied into the repository)."""

from pathlib import Path

import pytest
from cryptography import x509

import emrex_elmo
from ncp_testkit import reference_dir


@pytest.fixture(scope="session")
def reference() -> Path:
    path = reference_dir()
    if not (path / "samples").is_dir():
        pytest.fail(f"reference data not found at {path}; set NCP_SHARED_DIR to the folder holding reference/")
    return path


@pytest.fixture(scope="session")
def samples(reference: Path) -> Path:
    return reference / "samples"


@pytest.fixture(scope="session")
def dk_signed(samples: Path) -> bytes:
    return (samples / "dk-emrex__elmo-tomcat-signed.xml").read_bytes()


@pytest.fixture(scope="session")
def dk_cert(samples: Path) -> x509.Certificate:
    return emrex_elmo.load_certificates((samples / "dk-emrex__dk-emrex-test.cer").read_bytes())[0]
