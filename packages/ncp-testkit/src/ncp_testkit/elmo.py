"""Golden ELMO builders for tests: fictitious learners, real-shaped reports, deterministic dates.

    make_elmo()                                    # one course at one institution
    make_elmo(courses=20)                          # twenty numbered courses
    make_elmo(courses=[course("Algebra", grade="A")], institutions=[institution("ntnu.no", "NTNU")])
    make_elmo(courses=[[...], [...]], institutions=[uio, ntnu])   # one report per institution
    golden_elmo()                                  # the transcript most suites share (two institutions, nesting,
                                                   # a failed course, non-Latin titles)
"""

import datetime as dt
from collections.abc import Sequence
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
from emrex_elmo.model import Attachment, LoiStatus

WHEN = dt.datetime(2025, 3, 1, 12, 0, tzinfo=dt.UTC)
COURSE_DATE = dt.date(2024, 6, 14)

Los = LearningOpportunitySpecification


def learner(
    given_names: str = "Åsa", family_name: str = "Øberg", *, bday: dt.date | None = dt.date(2000, 2, 29),
    citizenship: str | None = None,
) -> Learner:
    return Learner(given_names=given_names, family_name=family_name, bday=bday, citizenship=citizenship)


def institution(
    schac: str = "uio.no", *names: str | LocalizedToken, lang: str | None = "nb", country: str | None = None,
    url: str | None = None,
) -> Issuer:
    """An issuer known by its SCHAC code; plain-string names get `lang`; the URL defaults to https://www.<schac>/."""
    titles = [n if isinstance(n, LocalizedToken) else LocalizedToken(value=n, lang=lang) for n in names or (schac,)]
    return Issuer(country=country, identifiers=[Identifier(type="schac", value=schac)], titles=titles,
                  url=url or f"https://www.{schac}/")


def course(
    title: str, *parts: Los, kind: str = "Course", ects: str | Decimal | None = "5", grade: str | None = None,
    status: LoiStatus | None = "passed", lang: str | None = "nb", code: str | None = None,
    date: dt.date | None = COURSE_DATE, scheme: str = "ects",
) -> Los:
    """A learning opportunity (a course unless `kind` says otherwise) with its result; `parts` nest under it.
    The local identifier defaults to the first six characters of the title."""
    return Los(
        identifiers=[Identifier(type="local", value=code if code is not None else title[:6])],
        titles=[LocalizedToken(value=title, lang=lang)],
        type=kind,
        specifies=LearningOpportunityInstance(
            status=status,
            result_label=grade,
            credits=[Credit(scheme=scheme, value=Decimal(ects))] if ects is not None else [],
            date=date,
        ),
        has_part=list(parts),
    )


def numbered_courses(count: int) -> list[Los]:
    return [course(f"Course number {i}", code=f"C-{i:05d}", ects="5" if i % 2 else "2.5", grade=str(1 + i % 5),
                   lang="en")
            for i in range(count)]


def make_elmo(
    courses: int | Sequence[Los] | Sequence[Sequence[Los]] | None = None,
    institutions: Sequence[Issuer] | None = None,
    *, student: Learner | None = None, generated: dt.datetime = WHEN, issued: dt.datetime | None = None,
    attachments: Sequence[Attachment] = (),
) -> Elmo:
    """An ELMO with one report per institution. `courses` is a count, one list for a single institution, or one
    list per institution."""
    issuers = list(institutions) if institutions is not None else [institution("uio.no", "Universitetet i Oslo")]
    if courses is None:
        courses = [course("Kvantemekanikk", ects="7.5", grade="B")]
    if isinstance(courses, int):
        courses = numbered_courses(courses)
    groups: list[list[Los]]
    if all(isinstance(c, Los) for c in courses):
        groups = [[c for c in courses if isinstance(c, Los)]]
    else:
        groups = [list(group) for group in courses if not isinstance(group, Los)]
    if len(groups) != len(issuers):
        raise ValueError(f"{len(groups)} course lists for {len(issuers)} institutions")
    return Elmo(
        generated_date=generated,
        learner=student or learner(),
        reports=[Report(issuer=issuer, issue_date=issued or generated, learning_opportunity_specifications=group)
                 for issuer, group in zip(issuers, groups, strict=True)],
        attachments=list(attachments),
    )


def golden_elmo() -> Elmo:
    """Two institutions; a degree programme in progress with three courses (one failed, grade F); a course with
    a CJK title at an institution without a country or a title language."""
    uio = institution("uio.no", LocalizedToken(value="Universitetet i Oslo", lang="nb"),
                      LocalizedToken(value="University of Oslo", lang="en"), country="NO")
    ntnu = institution("ntnu.no", "NTNU", lang=None)
    degree = course("Bachelor i fysikk",
                    course("Kvantemekanikk", ects="7.50", grade="B"),
                    course("Termodynamikk", ects="10", grade="F", status="failed"),
                    course("Elektromagnetisme", ects="2.5", grade="A"),
                    kind="Degree Programme", ects=None, status="in-progress")
    return make_elmo(courses=[[degree], [course("数学 I", ects="15", grade="C")]], institutions=[uio, ntnu],
                     student=learner(citizenship="NO"))


def sample_elmo(courses: int = 10) -> Elmo:
    """A document of `courses` passed courses at one institution, for signing tests and benchmarks (moved out of
    the signer: sample data has no place in a production package). Titles keep a non-ASCII word."""
    items = [course(f"Course number {i} — Äänitekniikka", code=f"C-{i:05d}", ects="5" if i % 2 else "2.5",
                    grade=str(1 + i % 5), lang="en", date=dt.date(2025, 1 + i % 12, 1 + i % 28))
             for i in range(courses)]
    issued = dt.datetime(2026, 6, 30, 12, 0, tzinfo=dt.UTC)
    return make_elmo(items, [institution("example.fi", "Example University", lang="en", country="FI",
                                         url="https://example.fi/")],
                     student=learner("Testi", "Testaaja", bday=dt.date(2000, 1, 1), citizenship="FI"),
                     generated=issued)


def sample_xml(courses: int = 10) -> bytes:
    """`sample_elmo(courses)` as unsigned ELMO 1.7.0 bytes."""
    return to_xml(sample_elmo(courses), version="1.7.0")
