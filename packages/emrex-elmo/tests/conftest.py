"""Shared fixtures: the reference data folder (read only, never copied into the repository)."""

from pathlib import Path

import pytest
from cryptography import x509

import emrex_elmo
from ncp_testkit.fixtures import reference as reference, samples as samples


@pytest.fixture(scope="session")
def dk_signed(samples: Path) -> bytes:
    return (samples / "dk-emrex__elmo-tomcat-signed.xml").read_bytes()


@pytest.fixture(scope="session")
def dk_cert(samples: Path) -> x509.Certificate:
    return emrex_elmo.load_certificates((samples / "dk-emrex__dk-emrex-test.cer").read_bytes())[0]
