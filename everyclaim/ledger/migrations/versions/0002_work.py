"""work queue: users, work items, touches, approvals, audit log, routing rules (filled by the work module)

Revision ID: 0002_work
Revises: 0001_initial
Create Date: 2026-11-28
"""

from __future__ import annotations

revision = "0002_work"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
