"""EMREX 2.0 codes and tokens keep the flow's trace context, so the client's token and results requests continue
the student's trace

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ("emrex2_code", "emrex2_token"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("trace_context", sqlmodel.AutoString(length=64), nullable=True))


def downgrade() -> None:
    for table in ("emrex2_code", "emrex2_token"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("trace_context")
