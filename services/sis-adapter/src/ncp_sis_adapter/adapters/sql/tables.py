"""Tables of the built-in SQL SIS (the demo SIS): institutions, learners, a course catalogue, attainments.

Never returned from routes; the source module maps rows to the ELMO model.
"""

from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import registry
from sqlmodel import JSON, Field, SQLModel


class SisTable(SQLModel, registry=registry()):
    """Base of this service's tables: its own metadata, apart from any other SQLModel tables in the process."""


metadata = SisTable.metadata


class DecimalType(sa.types.TypeDecorator[Decimal]):
    """NUMERIC on PostgreSQL; exact text on SQLite, which has no decimal type (floats would round)."""

    impl = sa.Numeric(8, 2)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> sa.types.TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(sa.String(16))
        return dialect.type_descriptor(sa.Numeric(8, 2, asdecimal=True))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        return str(value) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        return None if value is None else Decimal(str(value))


class SisInstitution(SisTable, table=True):
    __tablename__ = "sis_institution"

    key: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200)


class SisGradingScheme(SisTable, table=True):
    __tablename__ = "sis_grading_scheme"
    __table_args__ = (sa.UniqueConstraint("institution_key", "local_id"),)

    id: int | None = Field(default=None, primary_key=True)
    institution_key: str = Field(foreign_key="sis_institution.key", max_length=64)
    local_id: str = Field(max_length=64)
    descriptions: dict[str, str] = Field(sa_type=JSON)


class SisLearner(SisTable, table=True):
    __tablename__ = "sis_learner"
    __table_args__ = (
        sa.Index("ix_sis_learner_national_id", "institution_key", "national_id"),
        sa.Index("ix_sis_learner_learner_id", "institution_key", "learner_id"),
        sa.Index("ix_sis_learner_esi", "institution_key", "esi"),
    )

    id: int | None = Field(default=None, primary_key=True)
    institution_key: str = Field(foreign_key="sis_institution.key", max_length=64)
    learner_id: str | None = Field(default=None, max_length=128)
    national_id: str | None = Field(default=None, max_length=64)
    esi: str | None = Field(default=None, max_length=200)
    given_names: str = Field(max_length=200)
    family_name: str = Field(max_length=200)
    bday: date | None = None
    citizenship: str | None = Field(default=None, max_length=2)
    gender: int | None = None


class SisOpportunity(SisTable, table=True):
    """A course, module or degree programme of the institution's catalogue."""

    __tablename__ = "sis_opportunity"
    __table_args__ = (sa.UniqueConstraint("institution_key", "code"),)

    id: int | None = Field(default=None, primary_key=True)
    institution_key: str = Field(foreign_key="sis_institution.key", max_length=64)
    code: str = Field(max_length=64)
    type: str = Field(max_length=32)
    titles: dict[str, str] = Field(sa_type=JSON)
    isced_code: str | None = Field(default=None, max_length=8)
    eqf_level: str | None = Field(default=None, max_length=2)


class SisAttainment(SisTable, table=True):
    """A learner's result in one opportunity; parent_id nests courses in modules in degrees."""

    __tablename__ = "sis_attainment"
    __table_args__ = (sa.Index("ix_sis_attainment_learner", "learner_pk", "position"),)

    id: int | None = Field(default=None, primary_key=True)
    learner_pk: int = Field(foreign_key="sis_learner.id")
    opportunity_id: int = Field(foreign_key="sis_opportunity.id")
    parent_id: int | None = Field(default=None, foreign_key="sis_attainment.id")
    position: int
    loi_code: str = Field(max_length=64)
    status: str = Field(max_length=16)
    start: date | None = None
    completed: date | None = None
    term_titles: dict[str, str] | None = Field(default=None, sa_type=JSON)
    term_start: date | None = None
    term_end: date | None = None
    grading_scheme: str | None = Field(default=None, max_length=64)
    result_label: str | None = Field(default=None, max_length=32)
    credits: Decimal | None = Field(default=None, sa_type=DecimalType)
    language: str | None = Field(default=None, max_length=8)


# Core Table handles for the queries (sqlmodel types `__table__` loosely).
institution_table: sa.Table = SisInstitution.__table__  # type: ignore[attr-defined]
grading_scheme_table: sa.Table = SisGradingScheme.__table__  # type: ignore[attr-defined]
learner_table: sa.Table = SisLearner.__table__  # type: ignore[attr-defined]
opportunity_table: sa.Table = SisOpportunity.__table__  # type: ignore[attr-defined]
attainment_table: sa.Table = SisAttainment.__table__  # type: ignore[attr-defined]
