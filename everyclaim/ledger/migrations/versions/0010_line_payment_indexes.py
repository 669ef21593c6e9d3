"""ledger: the two line-payment indexes that cost every 835 posted and served no query

``adjustments.line_payment_id`` and ``remarks.line_payment_id``: every reader (``claims show``, the
rebuilt adjudications, the triage facts) selects a payment's adjustments and remarks by
``claim_payment_id`` and groups them by line in memory; no plan looked rows up by line. Each was a B-tree
insert per adjustment and remark posted (about 690k for the 100k-claim bench file). Ingesting the
20k-claim bench file into a fresh SQLite ledger took 10.15 G instructions with them and 9.66 G without
(``python bench/instructions.py post``, with ``--sql "CREATE INDEX ..."`` for the two put back; wall
times on this machine vary more than that).

The foreign keys stay. A posted file's payments are never deleted (a re-ingest is a no-op and a rejected
file posts nothing), so no cascade has to find adjustments or remarks by line.

Revision ID: 0010_line_payment_indexes
Revises: 0009_posting_indexes
Create Date: 2026-11-29
"""

from __future__ import annotations

from alembic import op

revision = "0010_line_payment_indexes"
down_revision = "0009_posting_indexes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_adjustments_line_payment_id", table_name="adjustments")
    op.drop_index("ix_remarks_line_payment_id", table_name="remarks")


def downgrade() -> None:
    op.create_index("ix_remarks_line_payment_id", "remarks", ["line_payment_id"])
    op.create_index("ix_adjustments_line_payment_id", "adjustments", ["line_payment_id"])
