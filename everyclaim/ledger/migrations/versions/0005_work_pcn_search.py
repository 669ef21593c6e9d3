"""work queue: a pattern index for searching work items by the start of the patient control number

PostgreSQL uses a plain btree for ``LIKE 'B001%'`` only under the C collation; databases created with
another collation (``C.UTF-8``, ``en_US.UTF-8``) scan every work item instead (340 ms at 1M items).
``ix_work_items_pcn_pattern`` (``varchar_pattern_ops``) serves the prefix search under any collation.
SQLite does not get it: the unique index on ``pcn`` is all it can use.

Revision ID: 0005_work_pcn_search
Revises: 0004_scoring
Create Date: 2026-11-28
"""

from __future__ import annotations

from alembic import op

revision = "0005_work_pcn_search"
down_revision = "0004_scoring"
branch_labels = None
depends_on = None

INDEX = "ix_work_items_pcn_pattern"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.create_index(INDEX, "work_items", ["pcn"], postgresql_ops={"pcn": "varchar_pattern_ops"})


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index(INDEX, table_name="work_items")
