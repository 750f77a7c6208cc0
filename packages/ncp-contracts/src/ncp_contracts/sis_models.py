"""Models of the sis-adapter contract, free of any HTTP client so pure domain code can use them."""

from datetime import date
from typing import Final, Literal, get_args

from pydantic import BaseModel, Field

from emrex_elmo import Learner, Report

from .text import RequestModel

# The kinds of learner identifier login may hand over: LearnerIdentity's fields, and what a SIS is matched on.
IdentifierKind = Literal["national_id", "learner_id", "esi", "subject"]
IDENTIFIER_KINDS: Final[tuple[IdentifierKind, ...]] = get_args(IdentifierKind)


class LearnerIdentity(RequestModel):
    """What login established about the learner; any subset may be present."""

    national_id: str | None = None
    learner_id: str | None = None
    esi: str | None = None
    given_names: str | None = None
    family_name: str | None = None
    bday: date | None = None
    subject: str | None = None


class QueryOptions(RequestModel):
    include_not_passed: bool = True


class ResultsQuery(RequestModel):
    tenant: str = "default"
    identity: LearnerIdentity
    options: QueryOptions = Field(default_factory=QueryOptions)


class InstitutionWarning(BaseModel):
    institution: str  # SCHAC code
    code: Literal["timeout", "unavailable", "bad_data", "circuit_open", "not_found", "internal_error"]
    message: str


class ResultsAnswer(BaseModel):
    status: Literal["ok", "no_results"]
    learner: Learner | None = None
    reports: list[Report] = []
    warnings: list[InstitutionWarning] = []
