"""The audit log: who did what, when, before and after. Append-only (the database refuses UPDATE and
DELETE), written in the caller's transaction so a change and its record commit together.

``before`` / ``after`` hold small JSON objects of the fields that changed: ids, statuses, amounts,
roles. Never member ids, patient names or passwords (callers pass only those fields).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import sqlalchemy as sa

from everyclaim.work.roles import require
from everyclaim.work.schema import audit_log


class Actor(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def username(self) -> str: ...
    @property
    def role(self) -> str: ...


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    at: datetime
    user_id: int | None
    username: str
    action: str
    entity: str
    entity_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    detail: str


def as_json(value: dict[str, Any] | None) -> str:
    """``before`` / ``after`` as stored: sorted JSON, or '' for None."""
    return "" if value is None else json.dumps(value, sort_keys=True, default=str)


def record(conn: sa.Connection, actor: Actor | None, action: str, entity: str, entity_id: object, *,
           before: dict[str, Any] | None = None, after: dict[str, Any] | None = None, detail: str = "",
           now: datetime | None = None) -> None:
    """Append one entry (``actor`` None = the system, e.g. ``queue refresh`` from the CLI)."""
    conn.execute(sa.insert(audit_log).values(**entry_row(actor, action, entity, entity_id, before=before,
                                                         after=after, detail=detail, now=now)))  # fmt: skip


def entry_row(actor: Actor | None, action: str, entity: str, entity_id: object, *,
              before: dict[str, Any] | None = None, after: dict[str, Any] | None = None, detail: str = "",
              now: datetime | None = None) -> dict[str, Any]:
    """The ``audit_log`` row of one entry, as :func:`record` stores it (for a multi-row INSERT)."""
    return {"at": now or datetime.now(UTC), "user_id": actor.id if actor else None,
            "username": actor.username if actor else "system", "action": action, "entity": entity,
            "entity_id": str(entity_id), "before": as_json(before), "after": as_json(after), "detail": detail}


def record_many(conn: sa.Connection, actor: Actor | None, action: str, entity: str, select: sa.Select[Any], *,
                after: dict[str, Any] | None = None, detail: str = "", now: datetime | None = None) -> int:
    """One entry per row of ``select`` (a one-column select of entity ids), in one INSERT ... SELECT."""
    sub = select.subquery()
    ident = list(sub.c)[0]
    cols = ["at", "user_id", "username", "action", "entity", "entity_id", "before", "after", "detail"]
    src = sa.select(
        sa.literal(now or datetime.now(UTC), audit_log.c.at.type), sa.literal(actor.id if actor else None, audit_log.c.user_id.type),
        sa.literal(actor.username if actor else "system"), sa.literal(action), sa.literal(entity),
        sa.cast(ident, sa.String), sa.literal(""), sa.literal(as_json(after)), sa.literal(detail),
    )  # fmt: skip
    return conn.execute(sa.insert(audit_log).from_select(cols, src).execution_options(preserve_rowcount=True)).rowcount


def _entry(row: sa.Row[Any]) -> AuditEntry:
    return AuditEntry(row.id, row.at, row.user_id, row.username, row.action, row.entity, row.entity_id,
                      json.loads(row.before) if row.before else None, json.loads(row.after) if row.after else None,
                      row.detail)  # fmt: skip


def search(conn: sa.Connection, actor: Actor, *, username: str | None = None, action: str | None = None,
           entity: str | None = None, entity_id: str | None = None, since: datetime | None = None,
           until: datetime | None = None, limit: int = 100, offset: int = 0) -> tuple[list[AuditEntry], int]:
    """Entries matching every given filter, newest first, and how many match in all.

    ``action`` matches a prefix (``claim.`` finds every claim action)."""
    require(actor, "audit.read")
    a = audit_log.c
    where = []
    if username:
        where.append(a.username == username)
    if action:
        where.append(a.action.startswith(action, autoescape=True))
    if entity:
        where.append(a.entity == entity)
    if entity_id:
        where.append(a.entity_id == entity_id)
    if since:
        where.append(a.at >= since)
    if until:
        where.append(a.at < until)
    total = conn.execute(sa.select(sa.func.count()).select_from(audit_log).where(*where)).scalar_one()
    rows = conn.execute(sa.select(audit_log).where(*where).order_by(a.id.desc()).limit(limit).offset(offset))
    return [_entry(r) for r in rows], int(total)
