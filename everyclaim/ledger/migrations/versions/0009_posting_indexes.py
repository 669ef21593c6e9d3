"""ledger: three indexes that cost every 835 posted and served no query

* ``claim_payments.status`` (CLP02): nothing looks payments up by status; features, scores and reports
  read a claim's payments by claim, remittance or file and test the status of the rows they have.
* ``adjustments (group_code, carc)``: the only plans that used it (``ledger check``, the KPIs' denial
  counts) filter on group codes that most rows have; without it ``ledger check`` on a 30k-claim world
  takes 0.95 s instead of 2.6 s, and ``kpis``, ``triage`` and ``score`` take as long as before.
* ``remarks.code``: no plan used it (RARCs are read by claim payment).

Each was a B-tree insert per row posted: dropping them takes about 0.5 s off posting 100k 835 claims
(1.4 million rows), measured by ``bench/ingest_835.py``.

Revision ID: 0009_posting_indexes
Revises: 0008_claims_rendering
Create Date: 2026-11-29
"""

from __future__ import annotations

from alembic import op

revision = "0009_posting_indexes"
down_revision = "0008_claims_rendering"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_claim_payments_status", table_name="claim_payments")
    op.drop_index("ix_adjustments_group_code_carc", table_name="adjustments")
    op.drop_index("ix_remarks_code", table_name="remarks")


def downgrade() -> None:
    op.create_index("ix_remarks_code", "remarks", ["code"])
    op.create_index("ix_adjustments_group_code_carc", "adjustments", ["group_code", "carc"])
    op.create_index("ix_claim_payments_status", "claim_payments", ["status"])
