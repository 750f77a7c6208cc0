"""The document that leaves: chosen results, fresh dates, the EMREX transcript attachment; and its summary."""

import datetime as dt
import hashlib
import hmac
from base64 import b64encode
from collections.abc import Collection
from dataclasses import dataclass
from decimal import Decimal

from emrex_elmo import (
    Attachment,
    Elmo,
    LocalizedToken,
    select,
)
from emrex_elmo.vocabulary import institution_code as institution_code, of_institution, walk

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


# Only the reports of the institution the EMC asked for (EWP `hei_id`): the one filter, in emrex_elmo.
restrict_to_institution = of_institution


def has_results(results: Elmo | None) -> bool:
    return results is not None and any(r.learning_opportunity_specifications for r in results.reports)


@dataclass(frozen=True)
class Summary:
    institutions: list[str]
    learning_opportunities: int
    credits: Decimal


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
