"""work queue: roles, users, routing rules, work items, touches, approvals, audit log

Revision ID: 0002_work
Revises: 0001_initial
Create Date: 2026-11-28

``audit_log`` and ``touches`` are append-only: triggers refuse UPDATE and DELETE (SQLite and PostgreSQL).
The four roles are seeded here; users are created with ``everyclaim users create`` (or by ``demo``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_work"
down_revision = "0001_initial"
branch_labels = None
depends_on = None

APPEND_ONLY = ("audit_log", "touches")
ROLES = (
    ("admin", "Users, roles, password resets; everything a manager can do."),
    ("manager", "Dashboards, approvals, routing rules, rule accuracy; works queues too."),
    ("biller", "Works their queue: claims, touches, bulk actions, approval requests."),
    ("auditor", "Reads claims, dashboards and the audit log; changes nothing."),
)
PG_FUNCTION = """
CREATE OR REPLACE FUNCTION everyclaim_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END $$
"""


def _append_only(dialect: str, table: str) -> list[str]:
    if dialect == "postgresql":
        return [
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION everyclaim_append_only()"
        ]
    return [
        f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
        for verb in ("UPDATE", "DELETE")
    ]


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("username", sa.String(), server_default="", nullable=False),
        sa.Column("action", sa.String(length=48), nullable=False),
        sa.Column("entity", sa.String(), server_default="", nullable=False),
        sa.Column("entity_id", sa.String(), server_default="", nullable=False),
        sa.Column("before", sa.Text(), server_default="", nullable=False),
        sa.Column("after", sa.Text(), server_default="", nullable=False),
        sa.Column("detail", sa.Text(), server_default="", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_log_action"), ["action"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_log_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_log_entity_id"), ["entity_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_log_user_id"), ["user_id"], unique=False)

    op.create_table(
        "roles",
        sa.Column("name", sa.String(length=16), nullable=False),
        sa.Column("description", sa.String(), server_default="", nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_roles")),
    )
    op.create_table(
        "users",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(), server_default="", nullable=False),
        sa.Column("password_hash", sa.String(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("skills", sa.String(), server_default="", nullable=False),
        sa.Column("daily_capacity", sa.Integer(), server_default="40", nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("password_changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("failed_logins", sa.Integer(), server_default="0", nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["role"], ["roles.name"], name=op.f("fk_users_role_roles")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "routing_rules",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("description", sa.String(), server_default="", nullable=False),
        sa.Column("conditions", sa.Text(), server_default="{}", nullable=False),
        sa.Column("queue", sa.String(), server_default="", nullable=False),
        sa.Column("skill", sa.String(), server_default="", nullable=False),
        sa.Column("assign_to", sa.String(), server_default="", nullable=False),
        sa.Column("sop_action", sa.String(), server_default="", nullable=False),
        sa.Column("sop_business_days", sa.Integer(), nullable=True),
        sa.Column("sop_from", sa.String(), server_default="", nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("source", sa.String(length=16), server_default="builtin", nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.ForeignKeyConstraint(
            ["updated_by"], ["users.id"], name=op.f("fk_routing_rules_updated_by_users"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routing_rules")),
    )
    with op.batch_alter_table("routing_rules", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_routing_rules_updated_by"), ["updated_by"], unique=False)

    op.create_table(
        "work_items",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("pcn", sa.String(), nullable=False),
        sa.Column("claim_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("payer_id", sa.String(), server_default="", nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("tier", sa.String(), server_default="", nullable=False),
        sa.Column("action", sa.String(), server_default="", nullable=False),
        sa.Column("root_cause", sa.String(), server_default="", nullable=False),
        sa.Column("rule_id", sa.String(), server_default="", nullable=False),
        sa.Column("hint", sa.Text(), server_default="", nullable=False),
        sa.Column("balance_cents", sa.BigInteger(), nullable=False),
        sa.Column("expected_recovery_cents", sa.BigInteger(), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=True),
        sa.Column("rank", sa.BigInteger(), nullable=False),
        sa.Column("queue", sa.String(), server_default="", nullable=False),
        sa.Column("skill", sa.String(), server_default="", nullable=False),
        sa.Column("routing_rule_id", sa.String(), server_default="", nullable=False),
        sa.Column("assigned_user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("status", sa.String(length=16), server_default="open", nullable=False),
        sa.Column("claimed_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("follow_up_on", sa.Date(), nullable=True),
        sa.Column("sop_action", sa.String(), server_default="", nullable=False),
        sa.Column("sop_due", sa.Date(), nullable=True),
        sa.Column("last_touch_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["assigned_user_id"],
            ["users.id"],
            name=op.f("fk_work_items_assigned_user_id_users"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["claim_id"], ["claims.id"], name=op.f("fk_work_items_claim_id_claims"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["claimed_by"], ["users.id"], name=op.f("fk_work_items_claimed_by_users"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_items")),
        sa.UniqueConstraint("pcn", name=op.f("uq_work_items_pcn")),
    )
    with op.batch_alter_table("work_items", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_work_items_assigned_user_id"), ["assigned_user_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_work_items_claim_id"), ["claim_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_work_items_claimed_by"), ["claimed_by"], unique=False)
        batch_op.create_index(batch_op.f("ix_work_items_payer_id"), ["payer_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_work_items_queue_status_rank"), ["queue", "status", "rank"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_work_items_status_rank"), ["status", "rank"], unique=False)

    op.create_table(
        "approvals",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("work_item_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("pcn", sa.String(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.Text(), server_default="", nullable=False),
        sa.Column("requested_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("decided_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_note", sa.Text(), server_default="", nullable=False),
        sa.ForeignKeyConstraint(
            ["decided_by"], ["users.id"], name=op.f("fk_approvals_decided_by_users"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["requested_by"], ["users.id"], name=op.f("fk_approvals_requested_by_users"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["work_item_id"],
            ["work_items.id"],
            name=op.f("fk_approvals_work_item_id_work_items"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approvals")),
    )
    with op.batch_alter_table("approvals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_approvals_decided_by"), ["decided_by"], unique=False)
        batch_op.create_index(batch_op.f("ix_approvals_requested_by"), ["requested_by"], unique=False)
        batch_op.create_index(batch_op.f("ix_approvals_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_approvals_work_item_id"), ["work_item_id"], unique=False)

    op.create_table(
        "touches",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("work_item_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("pcn", sa.String(), nullable=False),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("follow_up_on", sa.Date(), nullable=True),
        sa.Column("note", sa.Text(), server_default="", nullable=False),
        sa.Column("bulk_id", sa.String(), server_default="", nullable=False),
        sa.Column("touched_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_touches_user_id_users"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["work_item_id"],
            ["work_items.id"],
            name=op.f("fk_touches_work_item_id_work_items"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_touches")),
    )
    with op.batch_alter_table("touches", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_touches_pcn"), ["pcn"], unique=False)
        batch_op.create_index(batch_op.f("ix_touches_touched_at"), ["touched_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_touches_user_id"), ["user_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_touches_work_item_id"), ["work_item_id"], unique=False)

    roles = sa.table("roles", sa.column("name", sa.String), sa.column("description", sa.String))
    op.bulk_insert(roles, [{"name": n, "description": d} for n, d in ROLES])
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(PG_FUNCTION)
    for table in APPEND_ONLY:
        for ddl in _append_only(dialect, table):
            op.execute(ddl)


def downgrade() -> None:
    with op.batch_alter_table("touches", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_touches_work_item_id"))
        batch_op.drop_index(batch_op.f("ix_touches_user_id"))
        batch_op.drop_index(batch_op.f("ix_touches_touched_at"))
        batch_op.drop_index(batch_op.f("ix_touches_pcn"))

    op.drop_table("touches")
    with op.batch_alter_table("approvals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_approvals_work_item_id"))
        batch_op.drop_index(batch_op.f("ix_approvals_status"))
        batch_op.drop_index(batch_op.f("ix_approvals_requested_by"))
        batch_op.drop_index(batch_op.f("ix_approvals_decided_by"))

    op.drop_table("approvals")
    with op.batch_alter_table("work_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_work_items_status_rank"))
        batch_op.drop_index(batch_op.f("ix_work_items_queue_status_rank"))
        batch_op.drop_index(batch_op.f("ix_work_items_payer_id"))
        batch_op.drop_index(batch_op.f("ix_work_items_claimed_by"))
        batch_op.drop_index(batch_op.f("ix_work_items_claim_id"))
        batch_op.drop_index(batch_op.f("ix_work_items_assigned_user_id"))

    op.drop_table("work_items")
    with op.batch_alter_table("routing_rules", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_routing_rules_updated_by"))

    op.drop_table("routing_rules")
    op.drop_table("users")
    op.drop_table("roles")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_log_user_id"))
        batch_op.drop_index(batch_op.f("ix_audit_log_entity_id"))
        batch_op.drop_index(batch_op.f("ix_audit_log_at"))
        batch_op.drop_index(batch_op.f("ix_audit_log_action"))

    op.drop_table("audit_log")

    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS everyclaim_append_only()")
