from pathlib import Path

import pytest

import emrex_elmo

REFERENCE = Path(__file__).resolve().parents[3].parent / "shared" / "reference"
SAMPLES = sorted((REFERENCE / "samples").glob("*.xml"))


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.name)
def test_every_reference_sample_parses(sample: Path) -> None:
    elmo = emrex_elmo.from_xml(sample.read_bytes())
    assert elmo.reports
    assert elmo.learner.family_name or elmo.learner.given_names
