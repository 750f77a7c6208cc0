"""Wiring of tenants to sources: per-institution matching overrides, shared upstreams and breakers."""

from pathlib import Path

from ncp_demo_sis import DEMO_TENANTS
from ncp_sis_adapter.adapters.build import build_tenants
from ncp_sis_adapter.adapters.sql.db import make_engine
from ncp_sis_adapter.config import load_tenants, parse_tenants
from ncp_sis_adapter.settings import Settings


async def test_same_upstream_in_two_tenants_shares_source_and_breaker(tmp_path: Path):
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    tenants = build_tenants(load_tenants(DEMO_TENANTS), engine, Settings(breaker_failure_threshold=7))
    greek_default = next(i for i in tenants.by_name["default"] if i.schac == "aegean.example.gr")
    greek_only = tenants.by_name["gr"][0]
    assert greek_default.source is greek_only.source
    assert greek_default.breaker is greek_only.breaker
    assert greek_default.breaker.failure_threshold == 7
    assert greek_default.matching == ["national_id", "esi", "learner_id", "subject"]
    assert greek_only.matching == ["national_id", "learner_id"]
    assert len(tenants.sources()) == 4
    await tenants.aclose()
    await engine.dispose()


async def test_institution_overrides_matching_and_timeout(tmp_path: Path):
    config = parse_tenants({"tenants": {"t": {"matching": ["national_id", "learner_id"], "institutions": [
        {"schac": "a.example.fi", "url": "https://a.example.fi/", "titles": {"en": "A"},
         "adapter": {"kind": "sql", "institution_key": "a"}, "matching": ["esi"], "timeout_seconds": 1.5},
        {"schac": "b.example.fi", "url": "https://b.example.fi/", "titles": {"en": "B"},
         "adapter": {"kind": "sql", "institution_key": "b"}},
    ]}}})
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    a, b = build_tenants(config, engine, Settings(institution_timeout_seconds=4)).by_name["t"]
    assert (a.matching, a.timeout_seconds) == (["esi"], 1.5)
    assert (b.matching, b.timeout_seconds) == (["national_id", "learner_id"], 4)
    await engine.dispose()
