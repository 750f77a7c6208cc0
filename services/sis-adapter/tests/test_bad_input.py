"""Bad input is the caller's fault: it is refused at the edge with a 4xx, and nothing a caller sends (nor a bug
of ours) is ever charged to an institution's circuit breaker."""

import json
import logging
from pathlib import Path

import httpx
import pytest

from ncp_contracts.sis import LearnerIdentity, QueryOptions, ResultsQuery, SisClient
from ncp_sis_adapter.domain.breaker import CircuitBreaker
from ncp_sis_adapter.domain.fanout import Institution, query_institutions

DEMO_1 = LearnerIdentity(learner_id="demo-learner-1", subject="demo-learner-1")
GOOD_SCHACS = ["aurora.example.fi", "nordlys.example.se", "rheinau.example.de"]

# Bodies as a hostile caller would write them: JSON \u escapes and raw CESU-8 bytes (which json.loads passes
# through) both decode to lone surrogates.
SURROGATE_BODIES = [
    pytest.param(b'{"identity": {"learner_id": "\\ud800"}}', id="learner_id"),
    pytest.param(b'{"identity": {"national_id": "010101-\\udfff"}}', id="national_id-low"),
    pytest.param(b'{"identity": {"esi": "urn:schac:\\ud83d"}}', id="esi-half-pair"),
    pytest.param(b'{"identity": {"subject": "x\\udc80y", "learner_id": "demo-learner-1"}}', id="subject"),
    pytest.param(b'{"identity": {"learner_id": "demo-learner-1", "given_names": "A\\ud800"}}', id="given_names"),
    pytest.param(b'{"identity": {"learner_id": "demo-learner-1", "family_name": "\\udfffB"}}', id="family_name"),
    pytest.param(b'{"tenant": "\\ud800", "identity": {"learner_id": "demo-learner-1"}}', id="tenant"),
    pytest.param(b'{"identity": {"learner_id": "demo-learner-1", "\\ud800": "x"}}', id="extra-key"),
    pytest.param(b'{"identity": {"learner_id": "a\xed\xa0\x80b"}}', id="cesu8-bytes"),
]


@pytest.mark.parametrize("body", SURROGATE_BODIES)
async def test_lone_surrogates_are_refused_and_never_open_a_breaker(http: httpx.AsyncClient, body: bytes):
    # The breaker opens after 3 failures (the default): send more than that.
    for _ in range(4):
        response = await http.post("/v1/results/query", content=body, headers={"content-type": "application/json"})
        assert response.status_code == 400, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["code"] == "invalid_request"
        assert "surrogate" in response.json()["detail"]
    # A real learner still gets results from every institution right after.
    answer = await SisClient(http).query(ResultsQuery(identity=DEMO_1))
    assert answer.status == "ok"
    assert [r.issuer.identifier("schac") for r in answer.reports] == GOOD_SCHACS
    assert answer.warnings == []


def test_the_client_cannot_even_build_such_a_query():
    with pytest.raises(ValueError, match="surrogate"):
        LearnerIdentity(learner_id="\ud800")


class BuggySource:
    """An adapter that crashes on any input (as the SQL adapter did on a lone surrogate)."""

    schac = "bug.example.fi"

    def __init__(self) -> None:
        self.calls = 0

    async def lookup(self, kind: str, value: str) -> None:
        self.calls += 1
        value.encode("utf-8")
        raise UnicodeEncodeError("utf-8", value, 0, 1, "surrogates not allowed")

    async def aclose(self) -> None:
        return None


async def test_an_adapter_bug_is_logged_with_an_error_id_and_not_charged_to_the_institution(caplog):
    source = BuggySource()
    breaker = CircuitBreaker(3, 60)
    bug = Institution(schac=source.schac, source=source, matching=["learner_id"], timeout_seconds=1,
                      breaker=breaker)
    caplog.set_level(logging.ERROR, "ncp_sis_adapter.fanout")
    for _ in range(5):
        outcome = await query_institutions([bug], LearnerIdentity(learner_id="someone"), QueryOptions())
        [warning] = outcome.warnings
        assert warning.code == "internal_error"
    assert breaker.state == "closed"
    assert source.calls == 5  # asked every time: the breaker never opened
    records = [r for r in caplog.records if r.getMessage() == "institution adapter failed"]
    assert len(records) == 5
    error_id = records[-1].__dict__["error_id"]
    assert error_id in warning.message  # the caller's warning and the log line can be matched
    assert records[-1].exc_info is not None  # the traceback is logged
    assert "someone" not in caplog.text


@pytest.mark.parametrize("query", ["tenant=%ED%A0%80", "x=%FF", "a=%C3"])
async def test_a_url_that_is_not_utf8_is_refused(http: httpx.AsyncClient, query: str):
    response = await http.post(f"/v1/results/query?{query}", json={"identity": {"learner_id": "demo-learner-1"}})
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_odd_headers_are_4xx_not_5xx(app, tokens):
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sis") as client:
        for headers in ({"authorization": b"Bearer \xff\xfe\xed\xa0\x80"}, {"authorization": b"\xc3"},
                        {"authorization": f"Bearer {tokens['gateway']}".encode(), "content-type": b"\xff/\xfe"}):
            response = await client.post("/v1/results/query", content=json.dumps({"identity": {"learner_id": "x"}}),
                                          headers=headers)
            assert 400 <= response.status_code < 500, (headers, response.status_code)


def test_readme_lists_the_internal_error_warning():
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    assert "`internal_error`" in readme
