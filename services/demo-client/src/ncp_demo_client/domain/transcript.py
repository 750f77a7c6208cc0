"""A read-only view of a received ELMO for display: institutions, the course tree, totals.

Credits are summed over the deepest learning opportunities that carry credits (a degree programme
above selected courses would otherwise count twice), and only over passed results.
"""

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from emrex_elmo import Elmo, LearningOpportunitySpecification, Report, format_decimal
from emrex_elmo.vocabulary import local_code, pick_title, status, walk, walk_with_depth


@dataclass(frozen=True)
class Row:
    title: str
    type: str
    depth: int
    code: str
    grade: str
    credits: str
    status: str
    date: dt.date | None


@dataclass
class Institution:
    title: str
    schac: str
    country: str
    rows: list[Row] = field(default_factory=list)
    courses: int = 0
    credits: Decimal = Decimal(0)

    @property
    def credits_text(self) -> str:
        return format_decimal(self.credits)


@dataclass(frozen=True)
class AttachmentInfo:
    title: str
    type: str
    media_type: str
    size_bytes: int
    # The attachment itself as a data: URL, for PDFs only (offered as a download).
    pdf_data_url: str | None = None


@dataclass
class Transcript:
    given_names: str
    family_name: str
    bday: dt.date | None
    generated: dt.datetime
    institutions: list[Institution]
    attachments: list[AttachmentInfo]

    @property
    def courses(self) -> int:
        return sum(i.courses for i in self.institutions)

    @property
    def credits_text(self) -> str:
        return format_decimal(sum((i.credits for i in self.institutions), Decimal(0)))


def _has_credit_below(los: LearningOpportunitySpecification) -> bool:
    return any(part.specifies.credit() is not None for part in walk(los.has_part))


def _add_rows(institution: Institution, items: list[LearningOpportunitySpecification]) -> None:
    for los, depth in walk_with_depth(items):
        loi = los.specifies
        value = loi.credit()
        institution.rows.append(Row(
            title=pick_title(los.titles), type=los.type or "", depth=depth, code=local_code(los) or "",
            grade=loi.result_label or "", credits=format_decimal(value) if value is not None else "",
            status=status(loi), date=loi.date,
        ))
        if not los.has_part:
            institution.courses += 1
        if value is not None and loi.passed and not _has_credit_below(los):
            institution.credits += value


def _institution(report: Report) -> Institution:
    issuer = report.issuer
    institution = Institution(
        title=pick_title(issuer.titles), schac=issuer.identifier("schac") or "", country=issuer.country or ""
    )
    _add_rows(institution, report.learning_opportunity_specifications)
    return institution


def _data_size(content: str) -> tuple[str, int]:
    head, sep, data = content.partition(",")
    if not sep or not head.startswith("data:"):
        return "", len(content)
    media = head[5:].split(";")[0]
    # base64 carries 3 bytes per 4 characters.
    return media, (len(data.strip()) * 3) // 4


def transcript_of(elmo: Elmo) -> Transcript:
    attachments = []
    for attachment in [*elmo.attachments, *(a for r in elmo.reports for a in r.attachments)]:
        media, size = _data_size(attachment.contents[0].value) if attachment.contents else ("", 0)
        content = attachment.contents[0].value if attachment.contents else ""
        attachments.append(AttachmentInfo(
            title=pick_title(attachment.titles), type=attachment.type or "", media_type=media, size_bytes=size,
            pdf_data_url=content if media == "application/pdf" and ";base64," in content else None,
        ))
    return Transcript(
        given_names=elmo.learner.given_names, family_name=elmo.learner.family_name, bday=elmo.learner.bday,
        generated=elmo.generated_date, institutions=[_institution(r) for r in elmo.reports],
        attachments=attachments,
    )
