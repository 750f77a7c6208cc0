"""Contract of the sis-adapter: a learner's results from every institution of a tenant."""

from datetime import date
from typing import Literal

import httpx
from pydantic import BaseModel, Field

from emrex_elmo import Learner, Report

from ._http import send


class LearnerIdentity(BaseModel):
    """What login established about the learner; any subset may be present."""

    national_id: str | None = None
    learner_id: str | None = None
    esi: str | None = None
    given_names: str | None = None
    family_name: str | None = None
    bday: date | None = None
    subject: str | None = None


class QueryOptions(BaseModel):
    include_not_passed: bool = True


class ResultsQuery(BaseModel):
    tenant: str = "default"
    identity: LearnerIdentity
    options: QueryOptions = Field(default_factory=QueryOptions)


class InstitutionWarning(BaseModel):
    institution: str  # SCHAC code
    code: Literal["timeout", "unavailable", "bad_data", "circuit_open", "not_found"]
    message: str


class ResultsAnswer(BaseModel):
    status: Literal["ok", "no_results"]
    learner: Learner | None = None
    reports: list[Report] = []
    warnings: list[InstitutionWarning] = []


class SisClient:
    service = "sis-adapter"

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def query(self, query: ResultsQuery) -> ResultsAnswer:
        """Raises ServiceUnavailable when every institution failed (the gateway's NCP_ERROR)."""
        request = self.http.build_request(
            "POST", "/v1/results/query", content=query.model_dump_json(),
            headers={"Content-Type": "application/json"},
        )
        return ResultsAnswer.model_validate_json((await send(self.http, self.service, request)).content)
