"""Approvals: every refund, and write-offs above the threshold (``WorkSettings``, $500 by default), wait
for a manager. A write-off at or below the threshold is approved on request (``auto_approved``).

Nobody decides their own request. Deciding is race-safe (``UPDATE ... WHERE status = 'pending'``): of two
managers clicking at once, one wins and the other gets ``Conflict``. An approved (or auto-approved)
request resolves its work item.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa

from everyclaim.ledger.balances import from_cents
from everyclaim.work import audit
from everyclaim.work.errors import Conflict, Forbidden, Invalid, NotFound
from everyclaim.work.queue import get_item
from everyclaim.work.roles import require
from everyclaim.work.schema import approvals, users, work_items
from everyclaim.work.settings import WorkSettings
from everyclaim.work.users import User

KINDS = ("write_off", "refund")
MAX_REASON = 2000
a = approvals.c


@dataclass(frozen=True, slots=True)
class Approval:
    id: int
    work_item_id: int
    pcn: str
    kind: str
    amount_cents: int
    reason: str
    requested_by: int
    requested_by_name: str
    requested_at: datetime
    status: str
    decided_by: int | None
    decided_at: datetime | None
    decision_note: str

    @property
    def amount(self) -> Decimal:
        return from_cents(self.amount_cents) or Decimal("0.00")

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "work_item_id": self.work_item_id, "pcn": self.pcn, "kind": self.kind,
                "amount": str(self.amount), "reason": self.reason, "requested_by": self.requested_by,
                "requested_by_name": self.requested_by_name, "requested_at": self.requested_at.isoformat(),
                "status": self.status, "decided_by": self.decided_by,
                "decided_at": self.decided_at.isoformat() if self.decided_at else None,
                "decision_note": self.decision_note}  # fmt: skip


def _cents(amount: Decimal | str) -> int:
    try:
        value = Decimal(str(amount))
    except InvalidOperation:
        raise Invalid("the amount is not a number") from None
    if not value.is_finite() or value <= 0 or value != value.quantize(Decimal("0.01")):
        raise Invalid("the amount must be positive dollars and cents")
    return int(value * 100)


def _select() -> sa.Select[Any]:
    return sa.select(*approvals.c, users.c.username.label("requested_by_name")).join(users, users.c.id == a.requested_by)


def _approval(row: Any) -> Approval:
    m = row._mapping
    return Approval(m["id"], m["work_item_id"], m["pcn"], m["kind"], m["amount_cents"], m["reason"], m["requested_by"],
                    m["requested_by_name"], m["requested_at"], m["status"], m["decided_by"], m["decided_at"],
                    m["decision_note"])  # fmt: skip


def get_approval(conn: sa.Connection, approval_id: int) -> Approval:
    row = conn.execute(_select().where(a.id == approval_id)).first()
    if row is None:
        raise NotFound(f"no approval {approval_id}")
    return _approval(row)


def _resolve_item(conn: sa.Connection, item_id: int, now: datetime) -> None:
    conn.execute(sa.update(work_items).where(work_items.c.id == item_id, work_items.c.status != "closed")
                 .values(status="resolved", claimed_by=None, claimed_at=None, updated_at=now))  # fmt: skip


def request(conn: sa.Connection, actor: User, item_id: int, kind: str, amount: Decimal | str, reason: str, *,
            settings: WorkSettings | None = None, now: datetime | None = None) -> Approval:
    """Ask to write off or refund ``amount`` dollars on a work item."""
    require(actor, "approval.request")
    settings = settings or WorkSettings.from_env()
    if kind not in KINDS:
        raise Invalid(f"kind must be one of {', '.join(KINDS)}")
    cents = _cents(amount)
    reason = reason.strip()
    if not reason or len(reason) > MAX_REASON:
        raise Invalid(f"give a reason (at most {MAX_REASON} characters)")
    item = get_item(conn, item_id)
    if item.status == "closed":
        raise Conflict(f"work item {item_id} is closed")
    dup = conn.execute(sa.select(a.id).where(a.work_item_id == item_id, a.kind == kind, a.status == "pending")).first()
    if dup is not None:
        raise Conflict(f"a {kind} request for this item is already pending (approval {dup.id})")
    now = now or datetime.now(UTC)
    needs_manager = kind == "refund" or cents > settings.write_off_approval_threshold_cents
    status = "pending" if needs_manager else "auto_approved"
    aid = conn.execute(sa.insert(approvals).values(
        work_item_id=item_id, pcn=item.pcn, kind=kind, amount_cents=cents, reason=reason, requested_by=actor.id,
        requested_at=now, status=status, decided_at=None if needs_manager else now,
        decision_note="" if needs_manager else "at or below the approval threshold",
    )).inserted_primary_key[0]  # fmt: skip
    if not needs_manager:
        _resolve_item(conn, item_id, now)
    audit.record(conn, actor, "approval.request", "approval", aid,
                 after={"work_item_id": item_id, "kind": kind, "amount_cents": cents, "status": status}, now=now)  # fmt: skip
    return get_approval(conn, int(aid))


def decide(conn: sa.Connection, actor: User, approval_id: int, approve: bool, note: str = "", *,
           now: datetime | None = None) -> Approval:
    """Approve or reject a pending request (managers and admins; never one's own)."""
    require(actor, "approval.decide")
    before = get_approval(conn, approval_id)
    if before.requested_by == actor.id:
        raise Forbidden("you cannot decide your own request")
    now = now or datetime.now(UTC)
    status = "approved" if approve else "rejected"
    res = conn.execute(sa.update(approvals).where(a.id == approval_id, a.status == "pending")
                       .values(status=status, decided_by=actor.id, decided_at=now, decision_note=note.strip()[:MAX_REASON]))  # fmt: skip
    if res.rowcount != 1:
        raise Conflict(f"approval {approval_id} is already {get_approval(conn, approval_id).status}")
    if approve:
        _resolve_item(conn, before.work_item_id, now)
    audit.record(conn, actor, "approval.decide", "approval", approval_id, before={"status": before.status},
                 after={"status": status, "kind": before.kind, "amount_cents": before.amount_cents}, now=now)  # fmt: skip
    return get_approval(conn, approval_id)


def list_approvals(conn: sa.Connection, actor: User, *, status: str | None = "pending", item_id: int | None = None,
                   limit: int = 50, offset: int = 0) -> tuple[list[Approval], int]:
    """Requests (oldest pending first) and how many match. Billers see their own; leads and auditors all."""
    require(actor, "claims.read")
    where = []
    if status:
        where.append(a.status == status)
    if item_id is not None:
        where.append(a.work_item_id == item_id)
    if actor.role == "biller":
        where.append(a.requested_by == actor.id)
    total = conn.execute(sa.select(sa.func.count()).select_from(approvals).where(*where)).scalar_one()
    rows = conn.execute(_select().where(*where).order_by(a.requested_at, a.id).limit(limit).offset(offset))
    return [_approval(r) for r in rows], int(total)
