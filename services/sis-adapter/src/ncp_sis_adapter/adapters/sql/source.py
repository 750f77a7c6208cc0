"""The SQL SIS as a SisSource: one institution's rows, looked up by one identifier kind."""

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from emrex_elmo import Identifier, Issuer, Learner, LocalizedText
from emrex_elmo.model import GradingScheme
from ncp_runtime.sqlite import READS
from ncp_sis_adapter.domain.mapping import report_document
from ncp_sis_adapter.domain.records import IdentifierKind, RecordIssue, ResultRecord, SourceAnswer, Term
from ncp_sis_adapter.domain.sources import SourceRejected, SourceUnavailable

from .tables import attainment_table, grading_scheme_table, learner_table, opportunity_table

_COLUMNS: dict[IdentifierKind, sa.ColumnElement[str | None]] = {
    "national_id": learner_table.c.national_id,
    "learner_id": learner_table.c.learner_id,
    # The login subject of the national IdP is the learner id the SIS stores.
    "subject": learner_table.c.learner_id,
    "esi": learner_table.c.esi,
}
_L = learner_table
_A = attainment_table
_O = opportunity_table
_G = grading_scheme_table
_STATUSES = ("passed", "failed", "in-progress")
# The database cannot be reached or is failing: these count against the institution's circuit breaker.
_DATABASE_DOWN = (sa.exc.OperationalError, sa.exc.InterfaceError, sa.exc.TimeoutError, sa.exc.DisconnectionError)
_TYPES = ("Degree Programme", "Module", "Course", "Class")

RESULTS_QUERY = (
    sa.select(
        _A.c.id, _A.c.parent_id, _A.c.loi_code, _A.c.status, _A.c.start, _A.c.completed,
        _A.c.term_titles, _A.c.term_start, _A.c.term_end, _A.c.grading_scheme, _A.c.result_label,
        _A.c.credits, _A.c.language, _O.c.code, _O.c.type, _O.c.titles, _O.c.isced_code, _O.c.eqf_level,
    )
    .join(_O, _O.c.id == _A.c.opportunity_id)
    .where(_A.c.learner_pk == sa.bindparam("learner_pk"))
    .order_by(_A.c.position, _A.c.id)
)


def learner_query(institution_key: str, kind: IdentifierKind) -> sa.Select[tuple[object, ...]]:
    return (
        sa.select(_L.c.id, _L.c.learner_id, _L.c.national_id, _L.c.esi, _L.c.given_names,
                  _L.c.family_name, _L.c.bday, _L.c.citizenship, _L.c.gender)
        .where(_L.c.institution_key == institution_key, _COLUMNS[kind] == sa.bindparam("value"))
        .order_by(_L.c.id)
        .limit(1)
    )


def _text_pairs(raw: Any, *, drop_blank: bool) -> tuple[tuple[str, str], ...]:
    """A JSON column's {lang: text} as (lang, text) pairs, blank texts dropped if asked."""
    mapping = raw if type(raw) is dict else dict(raw or {})
    pairs = tuple(mapping.items())
    # The usual column holds only non-blank strings: its pairs as they are, without a str() per value.
    for lang, text in pairs:
        if type(lang) is not str or type(text) is not str or (drop_blank and not text.strip()):
            return tuple([(str(k), str(v)) for k, v in pairs if not drop_blank or str(v).strip()])
    return pairs


def to_record(row: Any, codes: dict[object, str]) -> ResultRecord | RecordIssue:
    # Unpacked by position (RESULTS_QUERY's column order): per-name access was most of this for 500 rows.
    (_, parent, loi_code, status, start, completed, term_titles, term_start, term_end, grading_scheme,
     result_label, credits, language, code, type_, raw_titles, isced_code, eqf_level) = row
    if status not in _STATUSES:
        return RecordIssue("status", "not passed, failed or in-progress; record skipped")
    if type_ not in _TYPES:
        return RecordIssue("type", "not a known learning opportunity type; record skipped")
    titles = _text_pairs(raw_titles, drop_blank=True)
    if not titles:
        return RecordIssue("titles", "missing; record skipped")
    term = None
    if term_start is not None and term_end is not None and term_titles:
        term = Term(_text_pairs(term_titles, drop_blank=False), term_start, term_end)
    # By position, in ResultRecord's field order: keyword arguments took several times as long.
    return ResultRecord._make((
        str(loi_code), str(code), titles, type_,
        codes.get(parent, f"#{parent}") if parent is not None else None,
        status, start, completed, term, grading_scheme, result_label, credits, eqf_level, language, isced_code,
    ))


def to_learner(row: Any) -> Learner:
    m = row._mapping
    identifiers = []
    if m["national_id"]:
        identifiers.append(Identifier(type="nationalIdentifier", value=str(m["national_id"])))
    if m["esi"]:
        identifiers.append(Identifier(type="esi", value=str(m["esi"])))
    return Learner(
        citizenship=m["citizenship"], identifiers=identifiers, given_names=str(m["given_names"]),
        family_name=str(m["family_name"]), bday=m["bday"], gender=m["gender"],
    )


class SqlSource:
    """Results of one institution (`institution_key`) in the service database."""

    def __init__(self, engine: AsyncEngine, institution_key: str, issuer: Issuer) -> None:
        self.engine = engine.execution_options(**READS)  # reads only: on SQLite they need no write lock
        self.institution_key = institution_key
        self.issuer = issuer
        self._issuer_document = issuer.model_dump(exclude_none=True)
        self._schemes: list[dict[str, Any]] | None = None

    async def _grading_schemes(self) -> list[dict[str, Any]]:
        # The catalogue of grading schemes changes rarely; read once per process.
        if self._schemes is None:
            async with self.engine.connect() as conn:
                rows = await conn.execute(
                    sa.select(_G.c.local_id, _G.c.descriptions)
                    .where(_G.c.institution_key == self.institution_key).order_by(_G.c.id)
                )
                self._schemes = [
                    GradingScheme(local_id=r.local_id, descriptions=[
                        LocalizedText(value=v, lang=k) for k, v in dict(r.descriptions).items()
                    ]).model_dump(exclude_none=True)
                    for r in rows
                ]
        return self._schemes

    async def lookup(self, kind: IdentifierKind, value: str) -> SourceAnswer | None:
        try:
            async with self.engine.connect() as conn:
                found = (await conn.execute(learner_query(self.institution_key, kind), {"value": value})).first()
                if found is None:
                    return None
                rows = (await conn.execute(RESULTS_QUERY, {"learner_pk": found.id})).all()
            schemes = await self._grading_schemes()
        except _DATABASE_DOWN as exc:
            raise SourceUnavailable(f"database error ({type(exc).__name__})") from None
        except sa.exc.SQLAlchemyError as exc:
            # The database is up but refused this query (bad data, a constraint): not a failure of the SIS.
            raise SourceRejected(f"the database refused the query ({type(exc).__name__})") from None
        except OSError as exc:
            raise SourceUnavailable(f"database unreachable ({type(exc).__name__})") from None
        codes = {r[0]: str(r[2]) for r in rows}  # id -> loi_code
        records: list[ResultRecord] = []
        issues: list[RecordIssue] = []
        for row in rows:
            mapped = to_record(row, codes)
            (issues if isinstance(mapped, RecordIssue) else records).append(mapped)  # type: ignore[arg-type]
        report, tree_issues = report_document(self._issuer_document, records, schemes, datetime.now(UTC))
        return SourceAnswer(learner=to_learner(found), reports=[report], issues=issues + tree_issues)

    async def aclose(self) -> None:
        return None


