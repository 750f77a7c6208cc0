from pathlib import Path

import pytest

from ncp_demo_sis import DEMO_TENANTS
from ncp_sis_adapter.app import create_app
from ncp_sis_adapter.config import ConfigError, load_tenants, parse_tenants
from ncp_sis_adapter.settings import Settings

GOOD_INSTITUTION = {
    "schac": "uni.example.fi", "url": "https://uni.example.fi/", "titles": {"en": "Uni"},
    "adapter": {"kind": "sql", "institution_key": "uni"},
}


def tenants(**tenant: object) -> dict[str, object]:
    return {"tenants": {"default": {"matching": ["national_id"], "institutions": [GOOD_INSTITUTION], **tenant}}}


def test_demo_tenants_file_loads_with_four_institutions_in_four_countries():
    config = load_tenants(DEMO_TENANTS)
    institutions = config.tenants["default"].institutions
    assert len(institutions) == 4
    assert {i.country for i in institutions} == {"FI", "SE", "DE", "GR"}
    assert all(len(i.titles) >= 2 for i in institutions)


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"matching": ["national_id", "passport"]}, "tenants.default.matching[1]"),
        ({"matching": []}, "tenants.default.matching"),
        ({"institutions": [{**GOOD_INSTITUTION, "schac": "Not A Schac"}]}, "tenants.default.institutions[0].schac"),
        ({"institutions": [{**GOOD_INSTITUTION, "pic": "12"}]}, "tenants.default.institutions[0].pic"),
        ({"institutions": [{**GOOD_INSTITUTION, "adapter": {"kind": "ftp"}}]},
         "tenants.default.institutions[0].adapter"),
        ({"institutions": [{**GOOD_INSTITUTION, "adapter": {"kind": "rest", "lookup": {"national_id": "p"}}}]},
         "tenants.default.institutions[0].adapter.base_url"),
        ({"institutions": [{**GOOD_INSTITUTION, "titel": {"en": "typo"}}]}, "tenants.default.institutions[0].titel"),
        ({"institutions": [GOOD_INSTITUTION, GOOD_INSTITUTION]}, "tenants.default"),
    ],
)
def test_config_error_names_the_bad_key(change, key):
    with pytest.raises(ConfigError) as err:
        parse_tenants(tenants(**change))
    assert f"{key}:" in str(err.value)


def test_unreadable_or_invalid_toml_is_a_config_error(tmp_path: Path):
    with pytest.raises(ConfigError, match="cannot read"):
        load_tenants(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[tenants\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_tenants(bad)


def test_relative_secret_paths_are_taken_relative_to_the_file(tmp_path: Path):
    (tmp_path / "tenants.toml").write_text(
        """
[tenants.t]
matching = ["learner_id"]
[[tenants.t.institutions]]
schac = "uni.example.fi"
url = "https://uni.example.fi/"
titles = { en = "Uni" }
[tenants.t.institutions.adapter]
kind = "elmo"
url = "http://127.0.0.1:1/elmo"
lookup = { learner_id = "id" }
auth = { kind = "bearer", token_file = "secrets/token" }
"""
    )
    config = load_tenants(tmp_path / "tenants.toml")
    adapter = config.tenants["t"].institutions[0].adapter
    assert adapter.auth.token_file == tmp_path / "secrets" / "token"  # type: ignore[union-attr]


def test_service_refuses_to_start_with_a_bad_tenants_file(tmp_path: Path):
    bad = tmp_path / "tenants.toml"
    bad.write_text('[tenants.default]\nmatching = ["national_id"]\ninstitutions = []\n')
    with pytest.raises(ConfigError, match=r"tenants\.default\.institutions"):
        create_app(Settings(tenants_path=bad, database_url=f"sqlite+aiosqlite:///{tmp_path}/x.db"))


def test_service_refuses_to_start_without_a_tenants_file(tmp_path: Path):
    with pytest.raises(ConfigError, match="NCP_SIS_TENANTS_PATH is not set"):
        create_app(Settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/x.db"))


def test_seeding_the_demo_serves_the_demo_tenants_unless_a_file_is_named(tmp_path: Path):
    from ncp_sis_adapter.adapters.demo_plugin import load_demo
    from ncp_sis_adapter.app import tenants_path

    demo = load_demo()  # the development environment has the demo package
    assert tenants_path(Settings(seed_demo=True), demo) == DEMO_TENANTS
    own = tmp_path / "tenants.toml"
    assert tenants_path(Settings(seed_demo=True, tenants_path=own), demo) == own


async def test_service_refuses_to_start_with_one_token_for_two_callers(tmp_path: Path):
    from ncp_runtime import DuplicateTokenError
    from ncp_testkit import asgi_client

    table = tmp_path / "callers"
    table.write_text(f"gateway={'t' * 32}\ndemo-client={'t' * 32}\n")
    app = create_app(Settings(tenants_path=DEMO_TENANTS, caller_tokens_path=table,
                              database_url=f"sqlite+aiosqlite:///{tmp_path}/x.db"))
    with pytest.raises(DuplicateTokenError, match="demo-client and gateway"):
        async with asgi_client(app, startup_timeout=60):
            pass
