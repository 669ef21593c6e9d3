"""ledger evidence for triage actions: priority payer from the 835, action exports, indexes

* ``claim_payments.priority_payer_id`` / ``priority_payer_name``: the 835's corrected priority payer
  (loop 2100 NM1*PR): the payer this payer says is primary (rebill the other payer).
* ``claims.rendering_last`` / ``rendering_first``: the rendering provider's name (NM1*82), so an 837
  rebuilt from the ledger (replacement, secondary) names the same provider.
* ``action_exports``: what ``everyclaim actions export`` wrote (so exporting again writes nothing twice).
* ``ix_claims_subscriber_id_service_from``: the paid-twin (duplicate) feature joins on it.

Revision ID: 0003_ledger_evidence
Revises: 0002_work
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_ledger_evidence"
down_revision = "0002_work"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _text(name: str) -> sa.Column:
    return sa.Column(name, sa.String(), server_default="", nullable=False)


def upgrade() -> None:
    with op.batch_alter_table("claim_payments", schema=None) as batch_op:
        batch_op.add_column(_text("priority_payer_id"))
        batch_op.add_column(_text("priority_payer_name"))
    with op.batch_alter_table("claims", schema=None) as batch_op:
        batch_op.add_column(_text("rendering_last"))
        batch_op.add_column(_text("rendering_first"))
        batch_op.create_index(
            batch_op.f("ix_claims_subscriber_id_service_from"), ["subscriber_id", "service_from"], unique=False
        )
    op.create_table(
        "action_exports",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("batch", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("pcn", sa.String(), nullable=False),
        sa.Column("payer_id", sa.String(), server_default="", nullable=False),
        sa.Column("action", sa.String(), nullable=False),
        sa.Column("balance_cents", sa.BigInteger(), nullable=False),
        sa.Column("file", sa.String(), server_default="", nullable=False),
        sa.Column("exported_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_action_exports")),
        sa.UniqueConstraint(
            "pcn", "payer_id", "action", "balance_cents", name=op.f("uq_action_exports_pcn_payer_id_action_balance_cents")
        ),
    )
    with op.batch_alter_table("action_exports", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_action_exports_batch"), ["batch"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("action_exports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_action_exports_batch"))
    op.drop_table("action_exports")
    with op.batch_alter_table("claims", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_claims_subscriber_id_service_from"))
        batch_op.drop_column("rendering_first")
        batch_op.drop_column("rendering_last")
    with op.batch_alter_table("claim_payments", schema=None) as batch_op:
        batch_op.drop_column("priority_payer_name")
        batch_op.drop_column("priority_payer_id")
