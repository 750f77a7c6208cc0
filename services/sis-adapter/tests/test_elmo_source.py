"""The ELMO pass-through adapter against a loopback upstream serving real and generated documents."""

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from emrex_elmo import Elmo, Issuer, LearningOpportunitySpecification, to_xml, validate
from ncp_contracts.sis import LearnerIdentity, QueryOptions
from ncp_sis_adapter.adapters.elmo_source import ElmoSource
from ncp_sis_adapter.config import ElmoAdapterConfig
from ncp_sis_adapter.domain.breaker import CircuitBreaker
from ncp_sis_adapter.domain.fanout import Institution, query_institutions
from ncp_sis_adapter.domain.mapping import build_issuer
from ncp_sis_adapter.domain.sources import SourceBadData, SourceUnavailable
from ncp_testkit import course, learner, make_elmo, samples_dir, serve_on_loopback

FI_SAMPLE = samples_dir() / "fi-ncp__my_elmo.xml"
ISSUER = build_issuer(schac="register.example.fi", titles={"fi": "Opintorekisteri", "en": "Study register"},
                      url="https://register.example.fi/", country="FI", pic="999000009")


def generated() -> bytes:
    def issuer(schac: str, title: str) -> Issuer:
        return build_issuer(schac=schac, titles={"en": title}, url=f"https://{schac}/", country="FI")

    def one_course(code: str) -> list[LearningOpportunitySpecification]:
        return [course("Course", code=code, grade="5", lang="en", date=date(2024, 5, 1))]

    universities = [issuer("a.example.fi", "A University"), issuer("b.example.fi", "B University")]
    return to_xml(make_elmo(courses=[one_course("A-1"), one_course("B-1")], institutions=universities,
                            student=learner("Мария", "Петрова", bday=date(2000, 1, 2)),
                            generated=datetime(2025, 1, 1, tzinfo=UTC)))


XXE = b"""<?xml version="1.0"?>
<!DOCTYPE elmo [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<elmo xmlns="https://github.com/emrex-eu/elmo-schemas/tree/v1"><generatedDate>&x;</generatedDate></elmo>"""


async def upstream(request: Request) -> Response:
    who = request.query_params.get("hetu") or request.query_params.get("oid") or ""
    xml = "application/xml"
    if who == "180766-2213":
        return Response(FI_SAMPLE.read_bytes(), media_type=xml)
    if who == "multi":
        return Response(generated(), media_type=xml)
    if who == "broken":
        return Response(b"<elmo><unclosed>", media_type=xml)
    if who == "xxe":
        return Response(XXE, media_type=xml)
    if who == "huge":
        return Response(b"<elmo>" + b" " * 200_000 + b"</elmo>", media_type=xml)
    if who == "down":
        return Response(b"oops", status_code=502)
    return Response(b"", status_code=404)


@pytest.fixture(scope="module")
def register() -> Iterator[str]:
    with serve_on_loopback(Starlette(routes=[Route("/elmo", upstream)]), lifespan="off") as url:
        yield url


def source(register, **extra) -> ElmoSource:
    config = ElmoAdapterConfig.model_validate({
        "kind": "elmo", "url": f"{register}/elmo", "lookup": {"national_id": "hetu", "learner_id": "oid"},
        "max_bytes": 100_000, **extra,
    })
    return ElmoSource(config, ISSUER, timeout=2.0)


async def test_passes_the_finnish_sample_through_with_the_configured_issuer(register):
    src = source(register, override_issuer=True)
    answer = await src.lookup("national_id", "180766-2213")
    await src.aclose()
    assert answer.learner.family_name == "Testaaja"
    assert answer.reports[0].issuer == ISSUER  # the sample's issuer is a placeholder ("TODO ...")
    assert answer.reports[0].learning_opportunity_specifications
    validate(to_xml(Elmo(generated_date=datetime.now(UTC), learner=answer.learner, reports=answer.reports)))


async def test_keeps_upstream_issuers_of_a_multi_institution_document(register):
    src = source(register)
    answer = await src.lookup("learner_id", "multi")
    await src.aclose()
    assert [r.issuer.identifier("schac") for r in answer.reports] == ["a.example.fi", "b.example.fi"]
    assert answer.learner.given_names == "Мария"


async def test_unknown_learner_and_unsupported_kind_are_not_found(register):
    src = source(register)
    assert await src.lookup("national_id", "nobody") is None
    assert await src.lookup("esi", "180766-2213") is None
    await src.aclose()


@pytest.mark.parametrize(("who", "error", "text"), [
    ("broken", SourceBadData, "xml_malformed"),
    ("xxe", SourceBadData, "xml_forbidden"),
    ("huge", SourceUnavailable, "larger than"),
    ("down", SourceUnavailable, "HTTP 502"),
])
async def test_bad_upstream_documents(register, who, error, text):
    src = source(register)
    with pytest.raises(error, match=text):
        await src.lookup("learner_id", who)
    await src.aclose()


async def test_national_register_retried_by_learner_id(register):
    src = source(register)
    inst = Institution(schac="register.example.fi", source=src, matching=["national_id", "learner_id"],
                       timeout_seconds=2, breaker=CircuitBreaker(3, 60))
    outcome = await query_institutions([inst], LearnerIdentity(national_id="000000-0000", learner_id="multi"),
                                       QueryOptions())
    await src.aclose()
    assert len(outcome.reports) == 2
    assert outcome.warnings == []
