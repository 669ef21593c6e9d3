"""SOP-adherence audit: did each routed item get what its SOP asks for, in time?

Every work item routed by a rule with an SOP carries ``sop_action`` and ``sop_due`` (business days from
the denial or from entering the queue; see :mod:`everyclaim.work.routing`). On a given day each such item is

* ``on_time``: its first touch with the SOP's action came on or before the due day;
* ``late``: that touch came after the due day (counted against whoever made it);
* ``overdue``: no such touch, the due day has passed and the item is still open (counted against the
  user holding or assigned the item, else ``(unassigned)``);
* ``pending``: no such touch yet, still in time; ``exempt``: resolved or closed without it.

A touch *deviates* when its action is neither the SOP's nor ``note``. Counts come per user, queue and
rule; everything is grouped in SQL, Python only folds the few group rows.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import sqlalchemy as sa

from everyclaim.work.roles import require
from everyclaim.work.schema import touches, users, work_items
from everyclaim.work.sqlfuncs import day_of
from everyclaim.work.users import User

STATES = ("on_time", "late", "overdue", "pending", "exempt")
NEUTRAL = ("note",)
UNASSIGNED = "(unassigned)"
w, t = work_items.c, touches.c


@dataclass
class SopAudit:
    today: date
    totals: dict[str, int] = field(default_factory=dict)  # state -> items, plus "deviating" touches
    by_user: dict[str, dict[str, int]] = field(default_factory=dict)
    by_queue: dict[str, dict[str, int]] = field(default_factory=dict)
    by_rule: dict[str, dict[str, int]] = field(default_factory=dict)
    flagged: list[dict[str, Any]] = field(default_factory=list)  # late and overdue items, most overdue first

    def as_json(self) -> dict[str, Any]:
        return {"today": self.today.isoformat(), "totals": self.totals, "by_user": self.by_user,
                "by_queue": self.by_queue, "by_rule": self.by_rule, "flagged": self.flagged}  # fmt: skip


def _item_states(today: date) -> sa.Subquery:
    """One row per SOP item: its state and the user it counts against."""
    rn = sa.func.row_number().over(partition_by=t.work_item_id, order_by=(t.touched_at, t.id))
    first = (sa.select(t.work_item_id, t.user_id, day_of(t.touched_at).label("day"), rn.label("rn"))
             .join(work_items, w.id == t.work_item_id).where(t.action == w.sop_action).subquery("first"))  # fmt: skip
    done = sa.select(first.c.work_item_id, first.c.user_id, first.c.day).where(first.c.rn == 1).subquery("done")
    state = sa.case(
        (done.c.day.is_not(None) & (done.c.day <= w.sop_due), "on_time"),
        (done.c.day.is_not(None), "late"),
        (w.status.in_(("open", "claimed")) & (w.sop_due < today), "overdue"),
        (w.status.in_(("open", "claimed")), "pending"),
        else_="exempt",
    )
    owner = sa.case((done.c.day.is_not(None), done.c.user_id), else_=sa.func.coalesce(w.claimed_by, w.assigned_user_id))
    return (
        sa.select(w.id, w.pcn, w.queue, w.routing_rule_id, w.sop_action, w.sop_due, done.c.day.label("done_on"),
                  state.label("state"), owner.label("user_id"))
        .select_from(work_items.outerjoin(done, done.c.work_item_id == w.id))
        .where(w.sop_action != "", w.sop_due.is_not(None))
        .subquery("states")
    )  # fmt: skip


def sop_audit(conn: sa.Connection, actor: User | None, today: date, *, flagged_limit: int = 100) -> SopAudit:
    """The audit on ``today`` (``actor`` None: the command line)."""
    if actor is not None:
        require(actor, "dashboard.read")
    res = SopAudit(today=today, totals=dict.fromkeys((*STATES, "deviating"), 0))
    names = dict(conn.execute(sa.select(users.c.id, users.c.username)).all())
    views: dict[str, dict[str, dict[str, int]]] = {k: defaultdict(lambda: dict.fromkeys((*STATES, "deviating"), 0))
                                                   for k in ("user", "queue", "rule")}  # fmt: skip

    def add(user_id: int | None, queue: str, rule: str, key: str, n: int) -> None:
        res.totals[key] += n
        for view, value in (("user", names.get(user_id, UNASSIGNED) if user_id else UNASSIGNED), ("queue", queue),
                            ("rule", rule)):  # fmt: skip
            views[view][value][key] += n

    s = _item_states(today)
    grouped = sa.select(s.c.user_id, s.c.queue, s.c.routing_rule_id, s.c.state, sa.func.count()).group_by(
        s.c.user_id, s.c.queue, s.c.routing_rule_id, s.c.state)  # fmt: skip
    for user_id, queue, rule, state, n in conn.execute(grouped):
        add(user_id, queue, rule, state, int(n))
    deviating = (sa.select(t.user_id, w.queue, w.routing_rule_id, sa.func.count())
                 .join(work_items, w.id == t.work_item_id)
                 .where(w.sop_action != "", t.action != w.sop_action, t.action.not_in(NEUTRAL))
                 .group_by(t.user_id, w.queue, w.routing_rule_id))  # fmt: skip
    for user_id, queue, rule, n in conn.execute(deviating):
        add(user_id, queue, rule, "deviating", int(n))
    res.by_user, res.by_queue, res.by_rule = (dict(sorted(views[k].items())) for k in ("user", "queue", "rule"))
    flagged = (sa.select(s).where(s.c.state.in_(("late", "overdue"))).order_by(s.c.sop_due, s.c.id).limit(flagged_limit))
    res.flagged = [{"item_id": r.id, "pcn": r.pcn, "queue": r.queue, "rule": r.routing_rule_id,
                    "sop_action": r.sop_action, "due": _iso(r.sop_due), "done_on": _iso(r.done_on), "state": r.state,
                    "user": names.get(r.user_id, UNASSIGNED) if r.user_id else UNASSIGNED}
                   for r in conn.execute(flagged)]  # fmt: skip
    return res


def _iso(value: Any) -> str | None:
    return value if value is None or isinstance(value, str) else value.isoformat()
