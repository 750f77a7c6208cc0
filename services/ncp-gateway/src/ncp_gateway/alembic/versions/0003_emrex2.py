"""EMREX 2.0 state: consents, released documents, authorization codes, access tokens and seen assertion jtis

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "emrex2_consent",
        sa.Column("ref_id", sqlmodel.AutoString(length=64), primary_key=True, nullable=False),
        sa.Column("learner_pseudonym", sqlmodel.AutoString(length=64), nullable=True),
        sa.Column("selected", sa.Text(), nullable=False),
        sa.Column("client_id", sqlmodel.AutoString(length=512), nullable=False),
        sa.Column("consented_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("wording_version", sqlmodel.AutoString(length=32), nullable=False),
    )
    op.create_index("ix_emrex2_consent_consented_at", "emrex2_consent", ["consented_at"])
    op.create_table(
        "emrex2_release",
        sa.Column("ref_id", sqlmodel.AutoString(length=64), primary_key=True, nullable=False),
        sa.Column("document", sa.Text(), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_emrex2_release_expires_at", "emrex2_release", ["expires_at"])
    op.create_table(
        "emrex2_code",
        sa.Column("id", sqlmodel.AutoString(length=64), primary_key=True, nullable=False),
        sa.Column("ref_id", sqlmodel.AutoString(length=64), nullable=False),
        sa.Column("client_id", sqlmodel.AutoString(length=512), nullable=False),
        sa.Column("redirect_uri", sa.Text(), nullable=False),
        sa.Column("code_challenge", sqlmodel.AutoString(length=64), nullable=False),
        sa.Column("scope", sqlmodel.AutoString(length=256), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_emrex2_code_expires_at", "emrex2_code", ["expires_at"])
    op.create_table(
        "emrex2_token",
        sa.Column("id", sqlmodel.AutoString(length=64), primary_key=True, nullable=False),
        sa.Column("code_id", sqlmodel.AutoString(length=64), nullable=False),
        sa.Column("ref_id", sqlmodel.AutoString(length=64), nullable=False),
        sa.Column("client_id", sqlmodel.AutoString(length=512), nullable=False),
        sa.Column("scope", sqlmodel.AutoString(length=256), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_emrex2_token_code_id", "emrex2_token", ["code_id"])
    op.create_index("ix_emrex2_token_expires_at", "emrex2_token", ["expires_at"])
    op.create_table(
        "emrex2_jti",
        sa.Column("client_id", sqlmodel.AutoString(length=512), primary_key=True, nullable=False),
        sa.Column("jti", sqlmodel.AutoString(length=256), primary_key=True, nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_emrex2_jti_expires_at", "emrex2_jti", ["expires_at"])


def downgrade() -> None:
    for table, columns in (("emrex2_jti", ["expires_at"]), ("emrex2_token", ["expires_at", "code_id"]),
                           ("emrex2_code", ["expires_at"]), ("emrex2_release", ["expires_at"]),
                           ("emrex2_consent", ["consented_at"])):
        for column in columns:
            op.drop_index(f"ix_{table}_{column}", table_name=table)
        op.drop_table(table)
