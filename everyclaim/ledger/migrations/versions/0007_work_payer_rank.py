"""work queue: a payer's open items in rank order from one index

``ix_work_items_payer_id_status_rank`` replaces ``ix_work_items_payer_id``: the queue filtered by payer
reads its page and its (capped) count from the index instead of a bitmap over every item of the payer
(1M items, 20 payers: count 12 ms, page 5 walked 9,500 rows of the rank index).

Revision ID: 0007_work_payer_rank
Revises: 0006_login_failures
Create Date: 2026-11-28
"""

from __future__ import annotations

from alembic import op

revision = "0007_work_payer_rank"
down_revision = "0006_login_failures"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_work_items_payer_id", table_name="work_items")
    op.create_index("ix_work_items_payer_id_status_rank", "work_items", ["payer_id", "status", "rank"])


def downgrade() -> None:
    op.drop_index("ix_work_items_payer_id_status_rank", table_name="work_items")
    op.create_index("ix_work_items_payer_id", "work_items", ["payer_id"])
