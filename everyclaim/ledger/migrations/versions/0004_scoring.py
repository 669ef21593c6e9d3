"""scoring: per-claim model scores and model runs

Revision ID: 0004_scoring
Revises: 0003_ledger_evidence
Create Date: 2026-11-28
"""

from __future__ import annotations

revision = "0004_scoring"
down_revision = "0003_ledger_evidence"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
