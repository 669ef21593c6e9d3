"""The work queue's tables (migration ``0002_work``), on the ledger's MetaData so foreign keys to
``claims`` resolve and the Alembic head is compared against one schema.

* ``roles`` / ``users``: who may do what; passwords are argon2id hashes, never text.
* ``routing_rules``: the routing SOPs (conditions -> queue / skill / user, plus what must happen by when).
  The built-in rules ship as YAML (``everyclaim/work/sops/builtin.yaml``) and are copied here, where a
  manager edits them.
* ``work_items``: one row per open claim that needs a person (triage tiers ``hinted`` and ``manual``),
  rebuilt set-based from the latest triage run by ``queue refresh``.
* ``touches``: what a person did to an item, append-only.
* ``approvals``: write-offs above the threshold and every refund wait for a manager.
* ``login_failures``: failed sign-ins per key (client address, user name) for the login rate limit,
  shared by every server process (:mod:`everyclaim.work.login_limit`); rows older than the window go.
* ``audit_log``: every state change and every claim view, append-only (triggers refuse UPDATE and
  DELETE on SQLite and PostgreSQL, see :data:`APPEND_ONLY`).

Money is integer cents, timestamps are timezone-aware UTC.
"""

from __future__ import annotations

import sqlalchemy as sa

from everyclaim.ledger.schema import Id, Money, metadata, only_on

ROLE_NAMES = ("admin", "manager", "biller", "auditor")
ITEM_STATUSES = ("open", "claimed", "resolved", "closed")
APPROVAL_STATUSES = ("pending", "approved", "rejected", "auto_approved")
APPEND_ONLY = ("audit_log", "touches")

Stamp = sa.DateTime(timezone=True)


def _pk() -> sa.Column:
    return sa.Column("id", Id, primary_key=True, autoincrement=True)


def _s(name: str, **kw: object) -> sa.Column:
    return sa.Column(name, sa.String(), nullable=False, server_default="", **kw)


def _user_ref(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, Id, sa.ForeignKey("users.id", ondelete="RESTRICT"), nullable=nullable, index=True)


def _item_ref() -> sa.Column:
    return sa.Column("work_item_id", Id, sa.ForeignKey("work_items.id", ondelete="RESTRICT"), nullable=False,
                     index=True)


roles = sa.Table(
    "roles",
    metadata,
    sa.Column("name", sa.String(16), primary_key=True),
    _s("description"),
)

users = sa.Table(
    "users",
    metadata,
    _pk(),
    sa.Column("username", sa.String(64), nullable=False, unique=True),
    _s("display_name"),
    sa.Column("password_hash", sa.String(), nullable=False),
    sa.Column("role", sa.String(16), sa.ForeignKey("roles.name"), nullable=False),
    _s("skills"),  # comma-joined
    sa.Column("daily_capacity", sa.Integer, nullable=False, server_default="40"),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("created_at", Stamp, nullable=False),
    sa.Column("password_changed_at", Stamp, nullable=False),
    sa.Column("failed_logins", sa.Integer, nullable=False, server_default="0"),
    sa.Column("locked_until", Stamp),
)

routing_rules = sa.Table(
    "routing_rules",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("position", sa.Integer, nullable=False),
    _s("description"),
    sa.Column("conditions", sa.Text, nullable=False, server_default="{}"),  # JSON
    _s("queue"),
    _s("skill"),
    _s("assign_to"),  # a username, '' = whoever has the skill and capacity
    _s("sop_action"),
    sa.Column("sop_business_days", sa.Integer),
    _s("sop_from"),  # denial | queued | ''
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("source", sa.String(16), nullable=False, server_default="builtin"),
    sa.Column("updated_at", Stamp, nullable=False),
    _user_ref("updated_by"),
)

work_items = sa.Table(
    "work_items",
    metadata,
    _pk(),
    sa.Column("pcn", sa.String(), nullable=False, unique=True),
    sa.Column("claim_id", Id, sa.ForeignKey("claims.id", ondelete="SET NULL"), index=True),
    _s("payer_id"),
    sa.Column("run_id", sa.Integer, nullable=False),
    _s("tier"),
    _s("action"),
    _s("root_cause"),
    _s("rule_id"),
    sa.Column("hint", sa.Text, nullable=False, server_default=""),
    sa.Column("balance_cents", Money, nullable=False),
    sa.Column("expected_recovery_cents", Money, nullable=False),
    sa.Column("deadline", sa.Date),
    sa.Column("rank", Money, nullable=False),  # lower = work first; a function of the item alone
    _s("queue"),
    _s("skill"),
    _s("routing_rule_id"),
    _user_ref("assigned_user_id"),
    sa.Column("status", sa.String(16), nullable=False, server_default="open"),
    _user_ref("claimed_by"),
    sa.Column("claimed_at", Stamp),
    sa.Column("follow_up_on", sa.Date),
    _s("sop_action"),
    sa.Column("sop_due", sa.Date),
    sa.Column("last_touch_at", Stamp),
    sa.Column("created_at", Stamp, nullable=False),
    sa.Column("updated_at", Stamp, nullable=False),
    sa.Index(None, "status", "rank"),
    sa.Index(None, "queue", "status", "rank"),
    sa.Index(None, "payer_id", "status", "rank"),  # a payer's open items in rank order (0007)
)
# PostgreSQL: prefix search on pcn (LIKE 'B001%') under any collation (migration 0005_work_pcn_search)
only_on("postgresql", sa.Index("ix_work_items_pcn_pattern", work_items.c.pcn,
                               postgresql_ops={"pcn": "varchar_pattern_ops"}))

touches = sa.Table(
    "touches",
    metadata,
    _pk(),
    _item_ref(),
    sa.Column("pcn", sa.String(), nullable=False, index=True),
    _user_ref("user_id", nullable=False),
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("outcome", sa.String(32), nullable=False),
    sa.Column("follow_up_on", sa.Date),
    sa.Column("note", sa.Text, nullable=False, server_default=""),
    _s("bulk_id"),
    sa.Column("touched_at", Stamp, nullable=False, index=True),
)

approvals = sa.Table(
    "approvals",
    metadata,
    _pk(),
    _item_ref(),
    sa.Column("pcn", sa.String(), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),  # write_off | refund
    sa.Column("amount_cents", Money, nullable=False),
    sa.Column("reason", sa.Text, nullable=False, server_default=""),
    _user_ref("requested_by", nullable=False),
    sa.Column("requested_at", Stamp, nullable=False),
    sa.Column("status", sa.String(16), nullable=False, index=True),
    _user_ref("decided_by"),
    sa.Column("decided_at", Stamp),
    sa.Column("decision_note", sa.Text, nullable=False, server_default=""),
)

audit_log = sa.Table(
    "audit_log",
    metadata,
    _pk(),
    sa.Column("at", Stamp, nullable=False, index=True),
    sa.Column("user_id", Id, index=True),  # no foreign key: the log outlives what it describes
    _s("username"),
    sa.Column("action", sa.String(48), nullable=False, index=True),
    _s("entity"),
    _s("entity_id", index=True),
    sa.Column("before", sa.Text, nullable=False, server_default=""),  # JSON or ''
    sa.Column("after", sa.Text, nullable=False, server_default=""),
    sa.Column("detail", sa.Text, nullable=False, server_default=""),
)

login_failures = sa.Table(
    "login_failures",
    metadata,
    _pk(),
    sa.Column("key", sa.String(96), nullable=False),  # "ip:<address>" or "user:<name>"
    sa.Column("at", Stamp, nullable=False, index=True),
    sa.Index(None, "key", "at"),
)
