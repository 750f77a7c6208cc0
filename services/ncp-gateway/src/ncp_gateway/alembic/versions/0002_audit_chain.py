"""the audit trail as a hash chain: protocol, seq, prev_hash, row_hash, and the chain head

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

from ncp_gateway.domain.audit_chain import CHAINED_FIELDS, GENESIS, ChainState, next_link

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "gateway_audit_chain",
        sa.Column("id", sa.Integer(), primary_key=True, nullable=False),
        sa.Column("head_seq", sa.BigInteger(), nullable=False),
        sa.Column("head_hash", sqlmodel.AutoString(length=64), nullable=False),
        sa.Column("anchor_seq", sa.BigInteger(), nullable=False),
        sa.Column("anchor_hash", sqlmodel.AutoString(length=64), nullable=False),
    )
    with op.batch_alter_table("gateway_audit") as batch:
        batch.add_column(sa.Column("protocol", sqlmodel.AutoString(length=16), nullable=False,
                                   server_default="emrex1"))
        batch.add_column(sa.Column("seq", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("prev_hash", sqlmodel.AutoString(length=64), nullable=True))
        batch.add_column(sa.Column("row_hash", sqlmodel.AutoString(length=64), nullable=True))
    # Records written before the chain are chained in the order they were written (their ids).
    bind = op.get_bind()
    # Typed like the model, so the hashed values are exactly what the store reads back later.
    types = {"created_at": sa.DateTime(timezone=True), "learning_opportunities": sa.Integer(), "seq": sa.BigInteger()}
    audit = sa.table("gateway_audit", *(sa.column(name, types.get(name, sa.String()))
                                        for name in ("id", *CHAINED_FIELDS, "prev_hash", "row_hash")))
    state = ChainState(0, GENESIS, 0, GENESIS)
    for row in bind.execute(sa.select(audit).order_by(audit.c.id)).mappings().all():
        content = {name: row[name] for name in CHAINED_FIELDS if name != "seq"}
        seq, previous, digest = next_link(state, content)
        bind.execute(sa.update(audit).where(audit.c.id == row["id"]).values(seq=seq, prev_hash=previous,
                                                                              row_hash=digest))
        state = ChainState(seq, digest, state.anchor_seq, state.anchor_hash)
    chain = sa.table("gateway_audit_chain", *(sa.column(n) for n in ("id", "head_seq", "head_hash", "anchor_seq",
                                                                      "anchor_hash")))
    bind.execute(sa.insert(chain).values(id=1, head_seq=state.head_seq, head_hash=state.head_hash, anchor_seq=0,
                                         anchor_hash=GENESIS))
    with op.batch_alter_table("gateway_audit") as batch:
        batch.alter_column("protocol", server_default=None)
        batch.alter_column("seq", existing_type=sa.BigInteger(), nullable=False)
        batch.alter_column("prev_hash", existing_type=sqlmodel.AutoString(length=64), nullable=False)
        batch.alter_column("row_hash", existing_type=sqlmodel.AutoString(length=64), nullable=False)
        batch.create_unique_constraint("uq_gateway_audit_seq", ["seq"])


def downgrade() -> None:
    with op.batch_alter_table("gateway_audit") as batch:
        batch.drop_constraint("uq_gateway_audit_seq", type_="unique")
        for name in ("row_hash", "prev_hash", "seq", "protocol"):
            batch.drop_column(name)
    op.drop_table("gateway_audit_chain")
