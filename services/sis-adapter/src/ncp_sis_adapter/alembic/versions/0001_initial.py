"""SIS tables: institution, grading scheme, learner, opportunity, attainment.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

DECIMAL = sa.Numeric(8, 2).with_variant(sa.String(16), "sqlite")


def upgrade() -> None:
    op.create_table(
        "sis_institution",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
    )
    op.create_table(
        "sis_grading_scheme",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("institution_key", sa.String(64), sa.ForeignKey("sis_institution.key"), nullable=False),
        sa.Column("local_id", sa.String(64), nullable=False),
        sa.Column("descriptions", sa.JSON, nullable=False),
        sa.UniqueConstraint("institution_key", "local_id"),
    )
    op.create_table(
        "sis_learner",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("institution_key", sa.String(64), sa.ForeignKey("sis_institution.key"), nullable=False),
        sa.Column("learner_id", sa.String(128)),
        sa.Column("national_id", sa.String(64)),
        sa.Column("esi", sa.String(200)),
        sa.Column("given_names", sa.String(200), nullable=False),
        sa.Column("family_name", sa.String(200), nullable=False),
        sa.Column("bday", sa.Date),
        sa.Column("citizenship", sa.String(2)),
        sa.Column("gender", sa.Integer),
    )
    op.create_index("ix_sis_learner_national_id", "sis_learner", ["institution_key", "national_id"])
    op.create_index("ix_sis_learner_learner_id", "sis_learner", ["institution_key", "learner_id"])
    op.create_index("ix_sis_learner_esi", "sis_learner", ["institution_key", "esi"])
    op.create_table(
        "sis_opportunity",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("institution_key", sa.String(64), sa.ForeignKey("sis_institution.key"), nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("titles", sa.JSON, nullable=False),
        sa.Column("isced_code", sa.String(8)),
        sa.Column("eqf_level", sa.String(2)),
        sa.UniqueConstraint("institution_key", "code"),
    )
    op.create_table(
        "sis_attainment",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("learner_pk", sa.Integer, sa.ForeignKey("sis_learner.id"), nullable=False),
        sa.Column("opportunity_id", sa.Integer, sa.ForeignKey("sis_opportunity.id"), nullable=False),
        sa.Column("parent_id", sa.Integer, sa.ForeignKey("sis_attainment.id")),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("loi_code", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("start", sa.Date),
        sa.Column("completed", sa.Date),
        sa.Column("term_titles", sa.JSON),
        sa.Column("term_start", sa.Date),
        sa.Column("term_end", sa.Date),
        sa.Column("grading_scheme", sa.String(64)),
        sa.Column("result_label", sa.String(32)),
        sa.Column("credits", DECIMAL),
        sa.Column("language", sa.String(8)),
    )
    op.create_index("ix_sis_attainment_learner", "sis_attainment", ["learner_pk", "position"])


def downgrade() -> None:
    op.drop_table("sis_attainment")
    op.drop_table("sis_opportunity")
    op.drop_table("sis_learner")
    op.drop_table("sis_grading_scheme")
    op.drop_table("sis_institution")
