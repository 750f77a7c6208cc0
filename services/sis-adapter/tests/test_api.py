"""The HTTP contract, through ncp_contracts.SisClient over ASGITransport, with the demo SIS behind it."""

import json
import logging
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from emrex_elmo import Elmo, to_xml, validate
from ncp_contracts import BearerAuth, RequestRejected, ServiceUnavailable
from ncp_contracts.sis import LearnerIdentity, QueryOptions, ResultsQuery, SisClient
from ncp_demo_sis import DEMO_TENANTS
from ncp_sis_adapter.app import create_app
from ncp_sis_adapter.settings import Settings
from ncp_testkit import asgi_client

DEMO_1 = LearnerIdentity(learner_id="demo-learner-1", subject="demo-learner-1")


async def test_demo_learner_1_answer_is_ok_with_reports_and_serializes(sis: SisClient):
    answer = await sis.query(ResultsQuery(identity=DEMO_1))
    assert answer.status == "ok"
    assert [r.issuer.identifier("schac") for r in answer.reports] == [
        "aurora.example.fi", "nordlys.example.se", "rheinau.example.de"]
    assert answer.warnings == []
    validate(to_xml(Elmo(generated_date=datetime.now(UTC), learner=answer.learner, reports=answer.reports)))


async def test_include_not_passed_false_drops_failed_results(sis: SisClient):
    everything = await sis.query(ResultsQuery(identity=DEMO_1))
    passed = await sis.query(ResultsQuery(identity=DEMO_1, options=QueryOptions(include_not_passed=False)))
    everything_xml = to_xml(Elmo(generated_date=datetime.now(UTC), learner=everything.learner,
                                 reports=everything.reports))
    passed_xml = to_xml(Elmo(generated_date=datetime.now(UTC), learner=passed.learner, reports=passed.reports))
    assert b"<status>failed</status>" in everything_xml
    assert b"<status>failed</status>" not in passed_xml


async def test_demo_learner_empty_is_no_results(sis: SisClient):
    answer = await sis.query(ResultsQuery(identity=LearnerIdentity(learner_id="demo-learner-empty")))
    assert answer.status == "no_results"
    assert answer.reports == []
    assert answer.learner is None


async def test_other_tenant_sees_only_its_institutions(sis: SisClient):
    answer = await sis.query(ResultsQuery(tenant="gr", identity=LearnerIdentity(learner_id="demo-learner-2")))
    assert {r.issuer.identifier("schac") for r in answer.reports} <= {"aegean.example.gr"}


async def test_unknown_tenant_is_404_problem(http: httpx.AsyncClient):
    response = await http.post("/v1/results/query", json={"tenant": "nope", "identity": {"learner_id": "x"}})
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "unknown_tenant"
    with pytest.raises(RequestRejected) as err:
        await SisClient(http).query(ResultsQuery(tenant="nope", identity=DEMO_1))
    assert err.value.status == 404


@pytest.mark.parametrize("body", [
    b"not json", b"[]", json.dumps({"identity": "x"}).encode(),
    json.dumps({"identity": {"bday": "yesterday", "learner_id": "x"}}).encode(),
    json.dumps({"identity": {"learner_id": "x"}, "options": {"include_not_passed": "maybe"}}).encode(),
])
async def test_malformed_query_is_400_problem(http: httpx.AsyncClient, body: bytes):
    response = await http.post("/v1/results/query", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "Traceback" not in response.text


@pytest.mark.parametrize("identity", [
    {}, {"given_names": "Aino"}, {"learner_id": ""}, {"national_id": "x" * 1000}, {"learner_id": "a\u0000b"},
    {"esi": "urn:*"},
])
async def test_malformed_identifiers_are_422_problem(http: httpx.AsyncClient, identity):
    response = await http.post("/v1/results/query", json={"identity": identity})
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_identity"
    assert "x" * 50 not in response.text  # the value is never echoed


async def test_missing_or_wrong_token_is_401(app):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sis") as anonymous:
        response = await anonymous.post("/v1/results/query", json={"identity": {"learner_id": "x"}})
        assert response.status_code == 401
        assert response.headers["content-type"].startswith("application/problem+json")
        response = await anonymous.post("/v1/results/query", json={"identity": {"learner_id": "x"}},
                                        headers={"Authorization": "Bearer " + "w" * 32})
        assert response.status_code == 401


async def test_caller_outside_the_allowed_set_is_403(app, tokens):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sis",
                                 auth=BearerAuth(tokens["demo-client"])) as other:
        with pytest.raises(RequestRejected) as err:
            await SisClient(other).query(ResultsQuery(identity=DEMO_1))
    assert err.value.status == 403


async def test_health_and_readiness(http: httpx.AsyncClient):
    assert (await http.get("/healthz")).json() == {"status": "ok"}
    ready = await http.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["database"] == "ok"


async def test_readiness_fails_when_the_database_is_unreachable(tmp_path: Path, settings: Settings):
    unreachable = settings.model_copy(update={
        "database_url": "postgresql+asyncpg://postgres@127.0.0.1:9/none", "migrate_on_start": False,
        "seed_demo": False, "tenants_path": DEMO_TENANTS,
    })
    app = create_app(unreachable)
    async with asgi_client(app, "http://sis") as client:
        ready = await client.get("/readyz")
        assert (await client.get("/healthz")).status_code == 200
    assert ready.status_code == 503
    assert ready.json()["database"] == "unreachable"


async def test_all_institutions_down_is_503_and_client_raises_service_unavailable(tmp_path: Path, tokens):
    tenants = tmp_path / "tenants.toml"
    tenants.write_text("""
[tenants.default]
matching = ["learner_id"]
[[tenants.default.institutions]]
schac = "down.example.fi"
url = "https://down.example.fi/"
titles = { en = "Down University", fi = "Alhaalla" }
[tenants.default.institutions.adapter]
kind = "rest"
base_url = "http://127.0.0.1:9"
lookup = { learner_id = "id" }
mapping = { records = "r", learner = { given_names = "g", family_name = "f" }, record = { key = "k", code = "c", \
titles = { en = "t" } } }
""")
    settings = Settings(tenants_path=tenants, database_url=f"sqlite+aiosqlite:///{tmp_path}/sis.db",
                        caller_tokens_path=tmp_path / "tokens")
    app = create_app(settings)
    async with asgi_client(app, "http://sis", auth=BearerAuth(tokens["gateway"])) as http:
        response = await http.post("/v1/results/query", json={"identity": {"learner_id": "demo-learner-1"}})
        assert response.status_code == 503
        problem = response.json()
        assert problem["code"] == "sis_unavailable"
        assert problem["warnings"][0]["institution"] == "down.example.fi"
        with pytest.raises(ServiceUnavailable):
            await SisClient(http).query(ResultsQuery(identity=DEMO_1))


async def test_logs_carry_request_ids_but_no_identifiers_or_results(sis: SisClient):
    from ncp_runtime.logging import JsonFormatter

    lines: list[str] = []

    class Capture(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(self.format(record))  # formatted now, inside the request's context

    handler = Capture()
    handler.setFormatter(JsonFormatter("sis-adapter"))
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        answer = await sis.query(ResultsQuery(identity=LearnerIdentity(
            learner_id="demo-learner-1", national_id="140301A1075", esi="urn:esi:secret-esi")))
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
    assert answer.status == "ok"
    text = "\n".join(lines)
    assert "query answered" in text
    for secret in ("demo-learner-1", "140301A1075", "secret-esi", "Virtanen", "Aino", "TKT10002"):
        assert secret not in text
    answered = [json.loads(line) for line in lines if "query answered" in line]
    assert answered
    assert answered[0]["request_id"] != "-"
