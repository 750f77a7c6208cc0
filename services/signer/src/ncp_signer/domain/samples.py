"""Synthetic, unsigned ELMO 1.7.0 documents of a chosen size (fictitious people only).

For tests, the benchmark and smoke checks of a running signer; never used to answer a request.
"""

import datetime as dt
from decimal import Decimal

from emrex_elmo import (
    Credit,
    Elmo,
    Identifier,
    Issuer,
    Learner,
    LearningOpportunityInstance,
    LearningOpportunitySpecification,
    LocalizedToken,
    Report,
    to_xml,
)


def sample_elmo(courses: int = 10) -> Elmo:
    """An ELMO with one report of `courses` passed courses for a fictitious learner."""
    issued = dt.datetime(2026, 6, 30, 12, 0, tzinfo=dt.UTC)
    los = [
        LearningOpportunitySpecification(
            identifiers=[Identifier(type="local", value=f"C-{i:05d}")],
            titles=[LocalizedToken(value=f"Course number {i} — Äänitekniikka", lang="en")],
            type="Course",
            specifies=LearningOpportunityInstance(
                identifiers=[Identifier(type="local", value=f"R-{i:05d}")],
                date=dt.date(2025, 1 + i % 12, 1 + i % 28),
                status="passed",
                result_label=str(1 + i % 5),
                credits=[Credit(scheme="ects", value=Decimal(5) if i % 2 else Decimal("2.5"))],
            ),
        )
        for i in range(courses)
    ]
    report = Report(
        issuer=Issuer(country="FI", identifiers=[Identifier(type="schac", value="example.fi")],
                      titles=[LocalizedToken(value="Example University", lang="en")],
                      url="https://example.fi/"),
        learning_opportunity_specifications=los,
        issue_date=issued,
    )
    return Elmo(
        generated_date=issued,
        learner=Learner(citizenship="FI", given_names="Testi", family_name="Testaaja",
                        bday=dt.date(2000, 1, 1)),
        reports=[report],
    )


def sample_xml(courses: int = 10) -> bytes:
    """`sample_elmo(courses)` as unsigned ELMO 1.7.0 bytes."""
    return to_xml(sample_elmo(courses), version="1.7.0")
