"""The document that leaves: chosen results, fresh dates, the EMREX transcript attachment; and its summary."""

import datetime as dt
import hashlib
import hmac
from base64 import b64encode
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from decimal import Decimal

from emrex_elmo import (
    Attachment,
    Elmo,
    LearningOpportunitySpecification,
    LocalizedToken,
    Report,
    select,
)

TRANSCRIPT_TYPE = "EMREX transcript"


def choose(results: Elmo, keys: Collection[str], *, include_not_passed: bool, now: dt.datetime) -> Elmo:
    """The chosen results with generatedDate and every issueDate set to now (emrex.md §7: freshness)."""
    # Whole seconds, as the spec's examples: receivers parse fractions, but people read these dates too.
    now = now.replace(microsecond=0)
    chosen = select(results, keys, include_not_passed=include_not_passed)
    reports = [r.model_copy(update={"issue_date": now}) for r in chosen.reports]
    return chosen.model_copy(update={"generated_date": now, "reports": reports, "attachments": []})


def with_transcript(elmo: Elmo, pdf: bytes) -> Elmo:
    """Adds the elmo-level "EMREX transcript" PDF that DK and FI clients require (emrex.md §3.2)."""
    attachment = Attachment(
        titles=[LocalizedToken(value=TRANSCRIPT_TYPE, lang="en")],
        type=TRANSCRIPT_TYPE,
        contents=[LocalizedToken(value="data:application/pdf;base64," + b64encode(pdf).decode("ascii"), lang="en")],
    )
    return elmo.model_copy(update={"attachments": [*elmo.attachments, attachment]})


def restrict_to_institution(results: Elmo, hei_id: str | None) -> Elmo:
    """Only the reports of the institution the EMC asked for (EWP `hei_id`), matched on any identifier."""
    if not hei_id:
        return results
    wanted = hei_id.lower()
    reports = [r for r in results.reports if any(i.value.lower() == wanted for i in r.issuer.identifiers)]
    return results.model_copy(update={"reports": reports})


def walk(items: Iterable[LearningOpportunitySpecification]) -> Iterable[LearningOpportunitySpecification]:
    for los in items:
        yield los
        yield from walk(los.has_part)


def has_results(results: Elmo | None) -> bool:
    return results is not None and any(r.learning_opportunity_specifications for r in results.reports)


@dataclass(frozen=True)
class Summary:
    institutions: list[str]
    learning_opportunities: int
    credits: Decimal


def institution_code(report: Report) -> str:
    issuer = report.issuer
    return (issuer.identifier("schac") or issuer.identifier("erasmus")
            or (issuer.identifiers[0].value if issuer.identifiers else "?"))


def summarize(elmo: Elmo) -> Summary:
    """Counts for the audit record: no names, no grades."""
    nodes = [los for r in elmo.reports for los in walk(r.learning_opportunity_specifications)]
    credits = sum((los.specifies.credit("ects") or Decimal(0) for los in nodes), Decimal(0))
    return Summary(
        institutions=[institution_code(r) for r in elmo.reports],
        learning_opportunities=len(nodes),
        credits=credits,
    )


def pseudonym(key: bytes, issuer: str, subject: str) -> str:
    """Stable per login, not reversible without the key: HMAC-SHA256 over issuer and subject."""
    return hmac.new(key, f"{issuer}\x00{subject}".encode(), hashlib.sha256).hexdigest()
