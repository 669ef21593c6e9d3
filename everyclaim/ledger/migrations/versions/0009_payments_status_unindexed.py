"""claim_payments: no index on status (CLP02)

No query looks claim payments up by their status: the features, scores and reports read a claim's
payments by claim, remittance or file and test the status of the rows they have. The index only cost
its upkeep on every 835 claim posted (a B-tree insert per row).

Revision ID: 0009_payments_status_unindexed
Revises: 0008_claims_rendering
Create Date: 2026-11-29
"""

from __future__ import annotations

from alembic import op

revision = "0009_payments_status_unindexed"
down_revision = "0008_claims_rendering"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_claim_payments_status", table_name="claim_payments")


def downgrade() -> None:
    op.create_index("ix_claim_payments_status", "claim_payments", ["status"])
