"""Touches: what a person did to a work item (action, outcome, next follow-up, note), one at a time or
for many items at once. Touches are append-only; each one also moves its item:

* outcome ``paid`` or ``resolved``: the item is ``resolved`` (out of every queue);
* any other outcome: the item goes back ``open`` (released), hidden from :func:`claim_next` until its
  follow-up date when one is given.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa

from everyclaim.work import audit
from everyclaim.work.errors import Conflict, Invalid, NotFound
from everyclaim.work.queue import get_item
from everyclaim.work.roles import require
from everyclaim.work.schema import touches, users, work_items
from everyclaim.work.users import User

ACTIONS = ("appeal", "status_inquiry", "rebill_corrected", "rebill_other_payer", "bill_secondary",
           "transfer_to_patient", "write_off", "refund", "call_payer", "review", "note")  # fmt: skip
OUTCOMES = ("pending", "paid", "denied", "no_response", "resolved", "escalated", "info_requested")
RESOLVING = ("paid", "resolved")
MAX_NOTE = 4000
MAX_BULK = 1000

w = work_items.c


@dataclass(frozen=True, slots=True)
class Touch:
    id: int
    work_item_id: int
    pcn: str
    user_id: int
    username: str
    action: str
    outcome: str
    follow_up_on: date | None
    note: str
    bulk_id: str
    touched_at: datetime

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "work_item_id": self.work_item_id, "pcn": self.pcn, "user_id": self.user_id,
                "username": self.username, "action": self.action, "outcome": self.outcome,
                "follow_up_on": self.follow_up_on.isoformat() if self.follow_up_on else None, "note": self.note,
                "bulk_id": self.bulk_id, "touched_at": self.touched_at.isoformat()}  # fmt: skip


@dataclass(frozen=True, slots=True)
class BulkResult:
    count: int
    bulk_id: str


def _validate(action: str, outcome: str, follow_up_on: date | None, note: str, today: date) -> None:
    if action not in ACTIONS:
        raise Invalid(f"action must be one of {', '.join(ACTIONS)}")
    if outcome not in OUTCOMES:
        raise Invalid(f"outcome must be one of {', '.join(OUTCOMES)}")
    if follow_up_on is not None and follow_up_on < today:
        raise Invalid("the follow-up date is in the past")
    if len(note) > MAX_NOTE:
        raise Invalid(f"a note has at most {MAX_NOTE} characters")


def _item_values(outcome: str, follow_up_on: date | None, now: datetime) -> dict[str, Any]:
    return {"status": "resolved" if outcome in RESOLVING else "open", "claimed_by": None, "claimed_at": None,
            "follow_up_on": follow_up_on, "last_touch_at": now, "updated_at": now}  # fmt: skip


def _touchable(user: User) -> sa.ColumnElement[bool]:
    return (w.status == "open") | ((w.status == "claimed") & (w.claimed_by == user.id))


def record_touch(conn: sa.Connection, actor: User, item_id: int, *, action: str, outcome: str,
                 follow_up_on: date | None = None, note: str = "", now: datetime | None = None) -> Touch:
    """Record one touch on an open item or one the actor holds (``Conflict`` otherwise)."""
    require(actor, "touch.record")
    now = now or datetime.now(UTC)
    _validate(action, outcome, follow_up_on, note, now.date())
    item = get_item(conn, item_id)
    res = conn.execute(sa.update(work_items).where(w.id == item_id, _touchable(actor))
                       .values(_item_values(outcome, follow_up_on, now)))  # fmt: skip
    if res.rowcount != 1:
        raise Conflict(f"work item {item_id} is {item.status}" + (" by someone else" if item.claimed_by else ""))
    tid = conn.execute(sa.insert(touches).values(
        work_item_id=item_id, pcn=item.pcn, user_id=actor.id, action=action, outcome=outcome,
        follow_up_on=follow_up_on, note=note, bulk_id="", touched_at=now,
    )).inserted_primary_key[0]  # fmt: skip
    after = get_item(conn, item_id)
    audit.record(conn, actor, "touch.create", "work_item", item_id, before={"status": item.status},
                 after={"status": after.status, "touch_id": int(tid), "action": action, "outcome": outcome}, now=now)  # fmt: skip
    return get_touch(conn, int(tid))


def bulk_touch(conn: sa.Connection, actor: User, item_ids: Sequence[int], *, action: str, outcome: str,
               follow_up_on: date | None = None, note: str = "", now: datetime | None = None) -> BulkResult:
    """The same touch on many items at once, all or nothing (set-based: one INSERT ... SELECT, one UPDATE)."""
    require(actor, "touch.record")
    now = now or datetime.now(UTC)
    _validate(action, outcome, follow_up_on, note, now.date())
    ids = sorted(set(int(i) for i in item_ids))
    if not ids:
        raise Invalid("select at least one item")
    if len(ids) > MAX_BULK:
        raise Invalid(f"at most {MAX_BULK} items at once")
    ok = conn.execute(sa.select(sa.func.count()).select_from(work_items)
                      .where(w.id.in_(ids), _touchable(actor))).scalar_one()  # fmt: skip
    if ok != len(ids):
        found = conn.execute(sa.select(sa.func.count()).select_from(work_items).where(w.id.in_(ids))).scalar_one()
        if found != len(ids):
            raise NotFound(f"{len(ids) - found} of the selected items do not exist")
        raise Conflict(f"{len(ids) - ok} of the selected items are closed, resolved or held by someone else")
    bulk_id = uuid.uuid4().hex
    cols = ["work_item_id", "pcn", "user_id", "action", "outcome", "follow_up_on", "note", "bulk_id", "touched_at"]
    src = sa.select(w.id, w.pcn, sa.literal(actor.id, touches.c.user_id.type), sa.literal(action),
                    sa.literal(outcome), sa.literal(follow_up_on, sa.Date), sa.literal(note), sa.literal(bulk_id),
                    sa.literal(now, touches.c.touched_at.type)).where(w.id.in_(ids))  # fmt: skip
    conn.execute(sa.insert(touches).from_select(cols, src))
    conn.execute(sa.update(work_items).where(w.id.in_(ids)).values(_item_values(outcome, follow_up_on, now)))
    audit.record_many(conn, actor, "touch.create", "work_item", sa.select(w.id).where(w.id.in_(ids)),
                      after={"action": action, "outcome": outcome, "bulk_id": bulk_id}, now=now)  # fmt: skip
    return BulkResult(len(ids), bulk_id)


def _select() -> sa.Select[Any]:
    return sa.select(*touches.c, users.c.username).join(users, users.c.id == touches.c.user_id)


def _touch(row: Any) -> Touch:
    m = row._mapping
    return Touch(m["id"], m["work_item_id"], m["pcn"], m["user_id"], m["username"], m["action"], m["outcome"],
                 m["follow_up_on"], m["note"], m["bulk_id"], m["touched_at"])  # fmt: skip


def get_touch(conn: sa.Connection, touch_id: int) -> Touch:
    row = conn.execute(_select().where(touches.c.id == touch_id)).first()
    if row is None:
        raise NotFound(f"no touch {touch_id}")
    return _touch(row)


def touches_for(conn: sa.Connection, *, item_id: int | None = None, pcn: str | None = None,
                limit: int = 200) -> list[Touch]:
    """A claim's touches, newest first (by item id or by PCN)."""
    if item_id is None and pcn is None:
        raise Invalid("give an item id or a PCN")
    cond = touches.c.work_item_id == item_id if item_id is not None else touches.c.pcn == pcn
    rows = conn.execute(_select().where(cond).order_by(touches.c.touched_at.desc(), touches.c.id.desc()).limit(limit))
    return [_touch(r) for r in rows]
