"""Claiming and reading work items.

:func:`claim_next` hands the best open item a user may work to exactly one caller, even under
concurrency:

* PostgreSQL: ``WITH next AS MATERIALIZED (SELECT id ... ORDER BY rank LIMIT 1 FOR UPDATE SKIP LOCKED)
  UPDATE work_items ... FROM next RETURNING ...``: concurrent callers skip each other's locked rows.
* SQLite (where SQLAlchemy silently drops ``FOR UPDATE``): ``BEGIN IMMEDIATE`` takes the database's
  write lock before anything is read, then one ``UPDATE ... WHERE id = (SELECT ...) RETURNING``.

Both commit at once; the claim and its audit entry are one transaction.

Which items a user may work: open, not waiting for a follow-up date, and either assigned to them or
unassigned with no skill required or a skill they hold. Best = lowest ``rank`` (deadline urgency, then
expected recovery; see :mod:`everyclaim.work.refresh`).

A claim is a lease: an item claimed longer ago than ``lease_minutes`` (``WorkSettings``; a touch ends the
claim) or held by a deactivated user is *stale*. :func:`claim_next` first returns stale claims to the
queue (:func:`release_stale`, one UPDATE, audited as the system) in its own transaction, and
``queue refresh`` does the same, so work nobody finished is never stuck with whoever claimed it.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from everyclaim.ledger.balances import from_cents
from everyclaim.ledger.schema import Money
from everyclaim.work import audit
from everyclaim.work.errors import Conflict, Invalid, NotFound
from everyclaim.work.roles import can, require
from everyclaim.work.schema import audit_log, users, work_items
from everyclaim.work.settings import WorkSettings
from everyclaim.work.users import User

w = work_items.c


@dataclass(frozen=True, slots=True)
class WorkItem:
    """One ``work_items`` row."""

    id: int
    pcn: str
    claim_id: int | None
    payer_id: str
    run_id: int
    tier: str
    action: str
    root_cause: str
    rule_id: str
    hint: str
    balance_cents: int
    expected_recovery_cents: int
    deadline: date | None
    rank: int
    queue: str
    skill: str
    routing_rule_id: str
    assigned_user_id: int | None
    status: str
    claimed_by: int | None
    claimed_at: datetime | None
    follow_up_on: date | None
    sop_action: str
    sop_due: date | None
    last_touch_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @property
    def balance(self) -> Decimal:
        return from_cents(self.balance_cents) or Decimal("0.00")

    @property
    def expected_recovery(self) -> Decimal:
        return from_cents(self.expected_recovery_cents) or Decimal("0.00")

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):
            v = getattr(self, f.name)
            out[f.name] = v.isoformat() if isinstance(v, date | datetime) else v
        out["balance"], out["expected_recovery"] = str(self.balance), str(self.expected_recovery)
        return out


_FIELDS = tuple(f.name for f in fields(WorkItem))


def _item(row: Any) -> WorkItem:
    m = row._mapping
    return WorkItem(*(m[name] for name in _FIELDS))


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


def claimable(user: User, today: date) -> sa.ColumnElement[bool]:
    """The items ``user`` may claim on ``today`` (see the module docstring)."""
    skill_ok = w.skill.in_(("", *user.skills))
    mine = (w.assigned_user_id == user.id) | (w.assigned_user_id.is_(None) & skill_ok)
    waiting = w.follow_up_on.is_(None) | (w.follow_up_on <= today)
    return (w.status == "open") & waiting & mine


def claim_statement(dialect: str, cond: sa.ColumnElement[bool], user: User, now: datetime) -> sa.Update:
    """The one statement that claims the best item matching ``cond`` and returns it (see the module docstring)."""
    pick = sa.select(w.id).where(cond).order_by(w.rank, w.id).limit(1)
    values = {"status": "claimed", "claimed_by": user.id, "claimed_at": now, "updated_at": now}
    if dialect == "postgresql":
        nxt = pick.with_for_update(skip_locked=True).cte("next").prefix_with("MATERIALIZED")
        return sa.update(work_items).where(w.id == nxt.c.id).values(values).returning(*work_items.c)
    return sa.update(work_items).where(w.id == pick.scalar_subquery()).values(values).returning(*work_items.c)


def claim_next(engine: sa.Engine, user: User, *, queue: str | None = None, today: date | None = None,
               now: datetime | None = None, lease_minutes: int | None = None) -> WorkItem | None:
    """Claim the best item ``user`` may work (``None`` when there is none); commits at once.

    Stale claims (older than ``lease_minutes``, default ``WorkSettings.lease_minutes``) go back to the
    queue first, in a transaction of their own (see the module docstring)."""
    require(user, "queue.work")
    now = _now(now)
    lease = WorkSettings.from_env().lease_minutes if lease_minutes is None else lease_minutes
    cond = claimable(user, today or now.date())
    if queue:
        cond = cond & (w.queue == queue)
    stmt = claim_statement(engine.dialect.name, cond, user, now)
    options = {"sqlite_begin": "IMMEDIATE"} if engine.dialect.name == "sqlite" else {}
    with engine.connect() as conn:
        conn.execution_options(**options)
        with conn.begin():
            release_stale(conn, lease, now=now)
            row = conn.execute(stmt).first()
            if row is None:
                return None
            item = _item(row)
            audit.record(conn, user, "item.claim", "work_item", item.id, after={"pcn": item.pcn}, now=now)
    return item


def get_item(conn: sa.Connection, item_id: int) -> WorkItem:
    row = conn.execute(sa.select(work_items).where(w.id == item_id)).first()
    if row is None:
        raise NotFound(f"no work item {item_id}")
    return _item(row)


def get_item_by_pcn(conn: sa.Connection, pcn: str) -> WorkItem:
    row = conn.execute(sa.select(work_items).where(w.pcn == pcn)).first()
    if row is None:
        raise NotFound("no work item for that claim")
    return _item(row)


def claim_item(conn: sa.Connection, user: User, item_id: int, *, now: datetime | None = None) -> WorkItem:
    """Claim one given item (opened from a list). ``Conflict`` when someone else holds it or it is closed."""
    require(user, "queue.work")
    now = _now(now)
    res = conn.execute(
        sa.update(work_items)
        .where(w.id == item_id, (w.status == "open") | ((w.status == "claimed") & (w.claimed_by == user.id)))
        .values(status="claimed", claimed_by=user.id, claimed_at=now, updated_at=now)
    )
    if res.rowcount != 1:
        item = get_item(conn, item_id)  # NotFound when it does not exist
        raise Conflict(f"work item {item.id} is {item.status}" + (" by someone else" if item.claimed_by else ""))
    audit.record(conn, user, "item.claim", "work_item", item_id, now=now)
    return get_item(conn, item_id)


def release(conn: sa.Connection, user: User, item_id: int, *, now: datetime | None = None) -> WorkItem:
    """Put a claimed item back (its holder, or a manager)."""
    item = get_item(conn, item_id)
    if item.status != "claimed":
        raise Conflict(f"work item {item_id} is not claimed")
    if item.claimed_by != user.id:
        require(user, "approval.decide")  # leads may release anyone's item
    now = _now(now)
    conn.execute(sa.update(work_items).where(w.id == item_id, w.status == "claimed")
                 .values(status="open", claimed_by=None, claimed_at=None, updated_at=now))  # fmt: skip
    audit.record(conn, user, "item.release", "work_item", item_id, before={"claimed_by": item.claimed_by}, now=now)
    return get_item(conn, item_id)


def stale(lease_minutes: int, now: datetime) -> sa.ColumnElement[bool]:
    """Claimed items whose lease ran out, or whose holder was deactivated."""
    inactive = sa.select(users.c.id).where(users.c.active.is_(False))
    cutoff = now - timedelta(minutes=lease_minutes)
    return (w.status == "claimed") & ((w.claimed_at < cutoff) | w.claimed_by.in_(inactive))


def release_stale(conn: sa.Connection, lease_minutes: int, *, now: datetime | None = None) -> int:
    """Stale claims (:func:`stale`) go back to the queue, each with an audit entry (``item.release`` by the
    system, naming the former holder); returns how many. Set-based: one locking SELECT of the stale
    items (few: claims held right now), one UPDATE, one multi-row INSERT into the audit log. On
    PostgreSQL the SELECT skips items another transaction is releasing (``FOR UPDATE SKIP LOCKED``); on
    SQLite the caller's write transaction already serialises it."""
    now = _now(now)
    found = conn.execute(sa.select(w.id, w.claimed_by).where(stale(lease_minutes, now))
                         .with_for_update(skip_locked=True)).all()  # fmt: skip
    if not found:
        return 0
    ids = [r.id for r in found]
    conn.execute(sa.update(work_items).where(w.id.in_(ids), w.status == "claimed")
                 .values(status="open", claimed_by=None, claimed_at=None, updated_at=now))  # fmt: skip
    detail = f"claim older than {lease_minutes} minutes or holder inactive"
    conn.execute(sa.insert(audit_log), [audit.entry_row(None, "item.release", "work_item", r.id, now=now, detail=detail,
                                                        before={"claimed_by": r.claimed_by}) for r in found])  # fmt: skip
    return len(found)


NARROW_SEARCH = 3  # characters of a PCN prefix from which the matches are sorted rather than found by rank
ORDERS = {"rank": (w.rank, w.id), "balance": (w.balance_cents.desc(), w.id), "deadline": (w.deadline, w.rank, w.id),
          "pcn": (w.pcn,)}  # fmt: skip


def list_queue(conn: sa.Connection, user: User, *, queue: str | None = None, status: str | None = "open",
               tier: str | None = None, payer_id: str | None = None, search: str | None = None,
               mine: bool = False, today: date | None = None, limit: int = 50, offset: int = 0,
               order: str = "rank", count_limit: int | None = None) -> tuple[list[WorkItem], int]:
    """A page of items and how many match in all (at most ``count_limit``: counting stops there, so a
    page of a million-item queue does not scan the million).

    Billers see the items they hold or may claim; managers, admins and auditors see every item
    (``mine=True`` narrows anyone to the items assigned to or held by them)."""
    require(user, "claims.read")
    if order not in ORDERS:
        raise Invalid(f"order must be one of {', '.join(ORDERS)}")
    if not 1 <= limit <= 500:
        raise Invalid("limit must be 1..500")
    where: list[sa.ColumnElement[bool]] = []
    if mine or not can(user, "queue.view_all"):
        held = w.claimed_by == user.id
        where.append(held | (w.assigned_user_id == user.id) if mine else held | claimable(user, today or date.today()))
    if status:
        where.append(w.status == status)
    if queue:
        where.append(w.queue == queue)
    if tier:
        where.append(w.tier == tier)
    if payer_id:
        where.append(w.payer_id == payer_id)
    if search:
        where.append(w.pcn.startswith(search.strip(), autoescape=True))
    matching = sa.select(w.id).where(*where)
    if count_limit is not None:
        matching = matching.limit(count_limit)
    total = conn.execute(sa.select(sa.func.count()).select_from(matching.subquery())).scalar_one()
    ordering = ORDERS[order]
    if search and len(search.strip()) >= NARROW_SEARCH and order == "rank":
        # a PCN prefix matches few items: fetch them by the prefix index and sort them, rather than walk the
        # whole queue in rank order looking for them (PostgreSQL, 1M items, search B042, page 5: 134 -> 25 ms)
        ordering = (w.rank + sa.literal(0, Money), w.id)
    rows = conn.execute(sa.select(work_items).where(*where).order_by(*ordering).limit(limit).offset(offset))
    return [_item(r) for r in rows], int(total)


def queue_counts(conn: sa.Connection) -> list[dict[str, Any]]:
    """Per queue: items and dollars by status."""
    stmt = (sa.select(w.queue, w.status, sa.func.count(), sa.func.sum(w.balance_cents))
            .group_by(w.queue, w.status).order_by(w.queue, w.status))  # fmt: skip
    out: dict[str, dict[str, Any]] = {}
    for q, status, n, cents in conn.execute(stmt):
        row = out.setdefault(q, {"queue": q, "open": 0, "claimed": 0, "resolved": 0, "closed": 0, "open_cents": 0})
        row[status] = int(n)
        if status in ("open", "claimed"):
            row["open_cents"] += int(cents or 0)
    return list(out.values())
