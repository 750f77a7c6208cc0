"""transfer sessions and the audit trail (the tables create_all made before migrations)

Revision ID: 0001
Revises:
Create Date: 2026-11-30
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "gateway_session",
        sa.Column("id", sqlmodel.AutoString(length=64), primary_key=True, nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
    )
    op.create_index("ix_gateway_session_expires_at", "gateway_session", ["expires_at"])
    op.create_table(
        "gateway_audit",
        sa.Column("id", sa.Integer(), primary_key=True, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("receiver_origin", sqlmodel.AutoString(length=2048), nullable=False),
        sa.Column("return_code", sqlmodel.AutoString(length=32), nullable=False),
        sa.Column("institutions", sqlmodel.AutoString(length=4096), nullable=False),
        sa.Column("learning_opportunities", sa.Integer(), nullable=False),
        sa.Column("credits", sqlmodel.AutoString(), nullable=False),
        sa.Column("elmo_sha256", sqlmodel.AutoString(length=64), nullable=True),
        sa.Column("login_pseudonym", sqlmodel.AutoString(length=64), nullable=True),
    )
    op.create_index("ix_gateway_audit_created_at", "gateway_audit", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_gateway_audit_created_at", table_name="gateway_audit")
    op.drop_table("gateway_audit")
    op.drop_index("ix_gateway_session_expires_at", table_name="gateway_session")
    op.drop_table("gateway_session")
