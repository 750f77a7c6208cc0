"""Whole-string validations refuse a trailing newline (Python's `$` accepts one; fullmatch does not), and the
pydantic patterns, which run on the Rust regex engine where `$` is the very end, refuse it too."""

import pydantic
import pytest

from ncp_contracts.sis_models import LearnerIdentity
from ncp_sis_adapter.config import LearnerMapping, RecordMapping, parse_tenants
from ncp_sis_adapter.domain.identity import identity_problems
from ncp_sis_adapter.domain.rest_mapping import Skip, map_learner, map_record
from ncp_sis_adapter.settings import Settings


def test_learner_name_with_a_trailing_newline_is_a_problem():
    assert identity_problems(LearnerIdentity(learner_id="l-1", family_name="Virtanen")) == []
    assert identity_problems(LearnerIdentity(learner_id="l-1", family_name="Virtanen\n")) == [
        "identity.family_name: too long or contains control or unencodable characters"]


# SIS values are whitespace-normalised before they are checked: the newline never reaches the checked value.
def test_citizenship_with_a_trailing_newline_is_normalised_never_kept():
    mapping = LearnerMapping(given_names="g", family_name="f", citizenship="c")
    assert map_learner({"g": "Aino", "f": "V", "c": "FI\n"}, mapping).citizenship == "FI"
    assert map_learner({"g": "Aino", "f": "V", "c": "FIN\n"}, mapping).citizenship is None


def test_language_with_a_trailing_newline_is_normalised_never_kept():
    mapping = RecordMapping(key="k", code="c", titles={"en": "t"}, language="lang")
    record = {"k": "1", "c": "C-1", "t": "Title", "lang": "fi\n"}
    assert map_record(record, mapping).language == "fi"
    with pytest.raises(Skip):
        map_record(record | {"lang": "fin\n"}, mapping)


def test_settings_schema_with_a_trailing_newline_is_refused():
    assert Settings(database_schema="sis").database_schema == "sis"
    with pytest.raises(pydantic.ValidationError):
        Settings(database_schema="sis\n")


@pytest.mark.parametrize(("key", "value"), [("schac", "uni.example.fi\n"), ("country", "FI\n"),
                                            ("pic", "999000001\n")])
def test_tenants_file_values_with_a_trailing_newline_are_refused(key, value):
    institution = {"schac": "uni.example.fi", "url": "https://uni.example.fi/", "titles": {"en": "Uni"},
                   "country": "FI", "pic": "999000001", "adapter": {"kind": "sql", "institution_key": "uni"}}
    tenants = {"tenants": {"default": {"matching": ["national_id"], "institutions": [institution]}}}
    parse_tenants(tenants, "t.toml")
    institution[key] = value
    with pytest.raises(Exception, match=key):
        parse_tenants(tenants, "t.toml")
