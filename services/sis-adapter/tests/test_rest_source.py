"""The generic REST/JSON adapter against a fake SIS on loopback that also misbehaves."""

import asyncio
import base64
import gzip
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from emrex_elmo import Elmo, to_xml, validate
from emrex_elmo.vocabulary import walk
from ncp_contracts import BearerAuth
from ncp_contracts.sis import LearnerIdentity, QueryOptions, ResultsQuery, SisClient
from ncp_sis_adapter.adapters.rest_source import RestSource
from ncp_sis_adapter.app import create_app
from ncp_sis_adapter.config import RestAdapterConfig
from ncp_sis_adapter.domain.breaker import CircuitBreaker
from ncp_sis_adapter.domain.fanout import Institution, query_institutions
from ncp_sis_adapter.domain.mapping import build_issuer
from ncp_sis_adapter.domain.sources import SourceBadData, SourceUnavailable
from ncp_sis_adapter.settings import Settings
from ncp_testkit import asgi_client, free_port, serve_on_loopback

TOKEN = "fake-sis-bearer-token-0123456789"
PASSWORD = "fake-sis-password-0123456789"


def course(key, code, en, grade="4", status="ACCEPTED", credits="5", parent=None, kind="course", lang="FIN"):
    return {"id": key, "code": code, "name": {"en": en, "fi": f"{en} (fi)"}, "grade": grade, "state": status,
            "credits": credits, "parent": parent, "kind": kind, "lang": lang, "scale": "0-5",
            "completed": "2024-05-31T00:00:00Z", "level": "bachelor",
            "term": {"name": "Spring 2024", "start": "2024-01-01", "end": "2024-07-31"}}


GOOD = {
    "student": {"firstNames": "Ελένη", "lastName": "Κωνσταντίνου", "birthDate": "1999-04-02",
                "nationalId": "020499-123A", "esi": "urn:schac:personalUniqueCode:int:esi:fake.example.fi:77"},
    "attainments": [
        course("d1", "DEG-1", "Degree", grade=None, status="ONGOING", credits=None, kind="degree"),
        course("m1", "MOD-1", "Module", grade=None, credits="20", parent="d1", kind="module"),
        course("c1", "C-1", "Course one", parent="m1"),
        course("c2", "C-2", "Course two", grade="0", status="FAILED", credits="2,5", parent="m1"),
        course("c3", "C-3", "Course three", grade="HYV", parent="d1", lang="ENG"),
    ],
}
PARTIAL = {
    "student": GOOD["student"],
    "attainments": [
        course("ok", "OK-1", "Fine course"),
        {**course("nt", "NT-1", "x"), "name": {}},  # no title at all
        course("bg", "BG-1", "Unknown grade", grade="7"),  # not in the code list: never guess a grade
        course("bc", "BC-1", "Bad credits", credits="lots"),
        course("bl", "BL-1", "Bad language", lang="KLINGON"),
        course("bs", "BS-1", "Bad status", status="MAYBE"),
        "not an object",
    ],
}


async def students(request: Request) -> Response:
    auth = request.headers.get("authorization", "")
    expected = {"bearer": f"Bearer {TOKEN}",
                "basic": "Basic " + base64.b64encode(f"emrex:{PASSWORD}".encode()).decode()}
    if request.path_params["mode"] in expected and auth != expected[request.path_params["mode"]]:
        return JSONResponse({"error": "unauthorized"}, status_code=401)
    if request.path_params["mode"] == "down":
        return Response(b"<html>Service Unavailable</html>", status_code=503, media_type="text/html")
    who = request.query_params.get("studentNumber") or request.query_params.get("hetu") or ""
    if who == "slow":
        await asyncio.sleep(3)
        return JSONResponse(GOOD)
    if who == "boom":
        return JSONResponse({"error": "internal"}, status_code=500)
    if who == "garbled":
        return Response(b'{"student": {"firstNames": ', media_type="application/json")
    if who == "nolearner":
        return JSONResponse({"attainments": GOOD["attainments"]})
    if who == "notalist":
        return JSONResponse({"student": GOOD["student"], "attainments": {"a": 1}})
    if who == "partial":
        return JSONResponse(PARTIAL)
    if who in ("good", "020499-123A"):
        return JSONResponse(GOOD)
    if who == "gzipped":
        body = gzip.compress(json.dumps(GOOD).encode())
        return Response(body, media_type="application/json", headers={"Content-Encoding": "gzip"})
    if who == "null":
        return JSONResponse(None)
    return JSONResponse({"error": "no such student"}, status_code=404)


@pytest.fixture(scope="module")
def fake_sis() -> Iterator[str]:
    app = Starlette(routes=[Route("/{mode}/students", students)])
    with serve_on_loopback(app, lifespan="off") as url:
        yield url


def mapping() -> dict[str, object]:
    return {
        "learner": {"given_names": "student.firstNames", "family_name": "student.lastName",
                    "bday": "student.birthDate", "national_id": "student.nationalId", "esi": "student.esi"},
        "records": "attainments",
        "record": {
            "key": "id", "code": "code", "titles": {"en": "name.en", "fi": "name.fi"}, "parent_key": "parent",
            "type": "kind", "type_map": {"degree": "Degree Programme", "module": "Module", "course": "Course"},
            "status": "state", "status_map": {"ACCEPTED": "passed", "FAILED": "failed", "ONGOING": "in-progress"},
            "grade": "grade", "grade_map": {"0": "0", "1": "1", "2": "2", "3": "3", "4": "4", "5": "5",
                                            "HYV": "Pass", "HYL": "Fail"},
            "grading_scheme": "scale", "grading_scheme_map": {"0-5": "FI-0-5"},
            "credits": "credits", "date": "completed", "term_title": "term.name", "term_start": "term.start",
            "term_end": "term.end", "level": "level", "level_map": {"bachelor": "6", "master": "7"},
            "language": "lang", "language_map": {"FIN": "fi", "ENG": "en", "SWE": "sv"},
        },
    }


def rest_config(base_url: str, mode: str = "open", auth=None) -> RestAdapterConfig:
    return RestAdapterConfig.model_validate({
        "kind": "rest", "base_url": base_url, "path": f"/{mode}/students",
        "lookup": {"national_id": "hetu", "learner_id": "studentNumber"}, "auth": auth, "mapping": mapping(),
        "grading_schemes": [{"local_id": "FI-0-5", "descriptions": {"en": "0-5", "fi": "0-5"}}],
    })


ISSUER = build_issuer(schac="fake.example.fi", titles={"en": "Fake University", "fi": "Valeyliopisto"},
                      url="https://fake.example.fi/", country="FI")


async def lookup(fake_sis, who, kind="learner_id", **kwargs):
    source = RestSource(rest_config(fake_sis, **kwargs), ISSUER, timeout=1.0, institution="fake.example.fi")
    try:
        return await source.lookup(kind, who)
    finally:
        await source.aclose()


async def test_maps_a_good_answer_to_an_xsd_valid_report(fake_sis):
    answer = await lookup(fake_sis, "good")
    assert answer.issues == []
    assert answer.learner.family_name == "Κωνσταντίνου"
    assert answer.learner.identifier("nationalIdentifier") == "020499-123A"
    report = answer.reports[0]
    degree = report.learning_opportunity_specifications[0]
    assert degree.type == "Degree Programme"
    assert [los.type for los in walk([degree])] == ["Degree Programme", "Module", "Course", "Course", "Course"]
    module = degree.has_part[0]
    assert module.specifies.credits == []  # ECTS only on leaves, even when the SIS sends module credits
    failed = module.has_part[1].specifies
    assert (failed.status, failed.result_label, str(failed.credit())) == ("failed", "0", "2.5")
    passfail = degree.has_part[1].specifies
    assert (passfail.result_label, passfail.language_of_instruction) == ("Pass", "en")
    assert module.has_part[0].specifies.academic_term.titles[0].value == "Spring 2024"
    assert module.has_part[0].specifies.levels[0].value == "6"
    assert [s.local_id for s in report.grading_schemes] == ["FI-0-5"]
    validate(to_xml(Elmo(generated_date=datetime.now(UTC), learner=answer.learner, reports=answer.reports)))


async def test_compressed_answer_is_read(fake_sis):
    answer = await lookup(fake_sis, "gzipped")
    assert answer.learner.given_names == "Ελένη"


async def test_lookup_by_national_id_uses_its_own_parameter(fake_sis):
    answer = await lookup(fake_sis, "020499-123A", kind="national_id")
    assert answer is not None
    assert await lookup(fake_sis, "good", kind="esi") is None  # this SIS cannot be asked by ESI


async def test_unknown_student_and_null_answer_are_not_found(fake_sis):
    assert await lookup(fake_sis, "nobody") is None
    assert await lookup(fake_sis, "null") is None


async def test_unmappable_records_are_skipped_with_the_field_named(fake_sis):
    answer = await lookup(fake_sis, "partial")
    codes = [los.identifier("local") for los in answer.reports[0].learning_opportunity_specifications]
    assert codes == ["OK-1"]
    assert sorted((i.field, i.reason) for i in answer.issues) == [
        ("credits", "not a number"), ("grade", "not in the code list"), ("language", "not in the code list"),
        ("record", "not an object"), ("status", "not in the code list"), ("titles", "missing"),
    ]


@pytest.mark.parametrize(("who", "error", "text"), [
    ("boom", SourceUnavailable, "HTTP 500"),
    ("garbled", SourceBadData, "malformed JSON"),
    ("nolearner", SourceBadData, "learner.given_names"),
    ("notalist", SourceBadData, "not a list"),
])
async def test_misbehaving_sis_raises_typed_errors(fake_sis, who, error, text):
    with pytest.raises(error, match=text):
        await lookup(fake_sis, who)


async def test_unreachable_sis_is_unavailable():
    source = RestSource(rest_config(f"http://127.0.0.1:{free_port()}"), ISSUER, timeout=1.0, institution="x.example.fi")
    with pytest.raises(SourceUnavailable, match="unreachable"):
        await source.lookup("learner_id", "good")
    await source.aclose()


async def test_bearer_and_basic_auth_from_secret_files(fake_sis, tmp_path: Path):
    (tmp_path / "token").write_text(TOKEN + "\n")
    (tmp_path / "password").write_text(PASSWORD + "\n")
    (tmp_path / "wrong").write_text("not-the-token-at-all\n")
    bearer = {"kind": "bearer", "token_file": str(tmp_path / "token")}
    basic = {"kind": "basic", "username": "emrex", "password_file": str(tmp_path / "password")}
    assert await lookup(fake_sis, "good", mode="bearer", auth=bearer) is not None
    assert await lookup(fake_sis, "good", mode="basic", auth=basic) is not None
    with pytest.raises(SourceUnavailable, match="credentials"):
        await lookup(fake_sis, "good", mode="bearer", auth={"kind": "bearer", "token_file": str(tmp_path / "wrong")})
    with pytest.raises(SourceUnavailable, match="credentials"):
        await lookup(fake_sis, "good", mode="basic")


async def test_fan_out_over_misbehaving_sis_gives_partial_results_and_warnings(fake_sis):
    def institution(name: str, who: str) -> Institution:
        config = rest_config(fake_sis)
        config = config.model_copy(update={"lookup": {"learner_id": "studentNumber"}})
        source = RestSource(config, ISSUER, timeout=0.5, institution=name)

        class Fixed:
            async def lookup(self, kind, value):
                return await source.lookup(kind, who)

            async def aclose(self):
                await source.aclose()

        return Institution(schac=name, source=Fixed(), matching=["learner_id"], timeout_seconds=0.5,
                           breaker=CircuitBreaker(3, 60))

    institutions = [institution("good.example.fi", "good"), institution("slow.example.fi", "slow"),
                    institution("boom.example.fi", "boom"), institution("garbled.example.fi", "garbled"),
                    institution("partial.example.fi", "partial")]
    outcome = await query_institutions(institutions, LearnerIdentity(learner_id="x"), QueryOptions())
    for inst in institutions:
        await inst.source.aclose()
    assert len(outcome.reports) == 2
    codes = {(w.institution, w.code) for w in outcome.warnings}
    assert {("slow.example.fi", "timeout"), ("boom.example.fi", "unavailable"),
            ("garbled.example.fi", "bad_data"), ("partial.example.fi", "bad_data")} <= codes
    assert any("field 'grade'" in w.message for w in outcome.warnings)


async def test_api_answer_with_rest_institutions(fake_sis, tmp_path: Path, tokens):
    tenants = tmp_path / "tenants.toml"
    rows = []
    for name, mode in (("good.example.fi", "open"), ("down.example.fi", "down")):
        cfg = rest_config(fake_sis, mode=mode).model_dump(mode="json", exclude_none=True)
        rows.append({"schac": name, "url": f"https://{name}/", "titles": {"en": name, "fi": name}, "adapter": cfg})
    tenants.write_text("[tenants.default]\nmatching = [\"national_id\", \"learner_id\"]\n" + "".join(
        f"[[tenants.default.institutions]]\n{_toml(row)}" for row in rows))
    settings = Settings(tenants_path=tenants, database_url=f"sqlite+aiosqlite:///{tmp_path}/sis.db",
                        caller_tokens_path=tmp_path / "tokens", institution_timeout_seconds=1.0)
    app = create_app(settings)
    async with asgi_client(app, "http://sis", auth=BearerAuth(tokens["gateway"])) as http:
        answer = await SisClient(http).query(ResultsQuery(identity=LearnerIdentity(national_id="020499-123A")))
    assert answer.status == "ok"
    assert [r.issuer.identifier("schac") for r in answer.reports] == ["good.example.fi"]
    assert [(w.institution, w.code) for w in answer.warnings] == [("down.example.fi", "unavailable")]
    assert "HTTP 503" in answer.warnings[0].message


async def fussy_sis(request: Request) -> Response:
    if request.query_params.get("studentNumber") == "down":
        return Response(b"", status_code=502)
    return JSONResponse({"error": "malformed student number"}, status_code=400)


def _rest_institution(base_url: str) -> Institution:
    config = rest_config(base_url, mode="fussy").model_copy(update={"lookup": {"learner_id": "studentNumber"}})
    issuer = build_issuer(schac="fussy.example.fi", titles={"en": "Fussy"}, url="https://fussy.example.fi/")
    return Institution(schac="fussy.example.fi", source=RestSource(config, issuer, timeout=1.0,
                                                                   institution="fussy.example.fi"),
                       matching=["learner_id"], timeout_seconds=1.0, breaker=CircuitBreaker(3, 60))


async def test_a_4xx_from_a_sis_does_not_count_but_a_5xx_does():
    app = Starlette(routes=[Route("/fussy/students", fussy_sis)])
    with serve_on_loopback(app, lifespan="off") as url:
        institution = _rest_institution(url)
        try:
            for _ in range(5):
                outcome = await query_institutions([institution], LearnerIdentity(learner_id="odd value"),
                                                   QueryOptions())
                assert [w.code for w in outcome.warnings] == ["unavailable"]
                assert "HTTP 400" in outcome.warnings[0].message
            assert institution.breaker.state == "closed"
            for _ in range(3):
                await query_institutions([institution], LearnerIdentity(learner_id="down"), QueryOptions())
            assert institution.breaker.state == "open"
        finally:
            await institution.source.aclose()


def _toml(row: dict[str, object]) -> str:
    # Just enough TOML for the test: JSON values are valid TOML inline values for strings and numbers.
    def value(v: object) -> str:
        if isinstance(v, dict):
            return "{ " + ", ".join(f'"{k}" = {value(x)}' for k, x in v.items()) + " }"
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        return json.dumps(v)

    return "".join(f"{k} = {value(v)}\n" for k, v in row.items())
