"""claims: a rendering provider's first service date from one index

``ix_claims_rendering_npi_service_from`` lets triage read each rendering provider's first service date
(its tenure feature) by walking an index instead of sorting every claim: 0.25 s instead of 1.4 s over
2M claims, on each connection that computes a share of the features.

Revision ID: 0008_claims_rendering
Revises: 0007_work_payer_rank
Create Date: 2026-11-28
"""

from __future__ import annotations

from alembic import op

revision = "0008_claims_rendering"
down_revision = "0007_work_payer_rank"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_claims_rendering_npi_service_from", "claims", ["rendering_npi", "service_from"])


def downgrade() -> None:
    op.drop_index("ix_claims_rendering_npi_service_from", table_name="claims")
