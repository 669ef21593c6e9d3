"""SOP-adherence audit: on-time, late, overdue and deviating work per user, queue and rule; SQLite and PG."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from everyclaim.work import queue as q
from everyclaim.work import touches as tc
from everyclaim.work.errors import Forbidden
from everyclaim.work.refresh import refresh
from everyclaim.work.sop_audit import sop_audit
from tests.work_data import clear_triage, make_user, result_row, write_run


def at(day: int) -> datetime:
    return datetime(2026, 11, day, 15, 0, tzinfo=UTC)


def test_sop_audit_counts_per_user_queue_and_rule(engine: sa.Engine) -> None:
    rows = [result_row(p, action="appeal", balance=30_000 - i) for i, p in enumerate(("A1", "A2", "A3"))]
    rows += [result_row(p, action="status_inquiry", balance=5_000 - i) for i, p in enumerate(("S1", "S2"))]
    for r in rows[:3]:
        r["features"] = {"days_since_denial": 9}  # denied 2026-10-24: appeal due 2026-11-06 (10 business days)
    with engine.begin() as conn:
        clear_triage(conn)
        ann = make_user(conn, "ann", skills=("appeals",), capacity=3)
        ben = make_user(conn, "ben", capacity=5)
        write_run(conn, rows)
        refresh(conn, now=at(2))
        ids = {i.pcn: i.id for i in q.list_queue(conn, ann, status=None, limit=10)[0]} | \
              {i.pcn: i.id for i in q.list_queue(conn, ben, status=None, limit=10)[0]}  # fmt: skip
        assert q.get_item(conn, ids["S1"]).sop_due == date(2026, 11, 9)
        tc.record_touch(conn, ann, ids["A1"], action="appeal", outcome="pending", now=at(5))
        tc.record_touch(conn, ben, ids["A2"], action="status_inquiry", outcome="pending", now=at(3))
        tc.record_touch(conn, ben, ids["A2"], action="appeal", outcome="pending", now=at(10))
        tc.record_touch(conn, ben, ids["S2"], action="note", outcome="pending", now=at(3))  # neutral: not a deviation
        tc.record_touch(conn, ben, ids["S2"], action="status_inquiry", outcome="paid", now=at(4))
        audit = sop_audit(conn, None, date(2026, 11, 12))
        with pytest.raises(Forbidden):
            sop_audit(conn, ben, date(2026, 11, 12))
    assert audit.totals == {"on_time": 2, "late": 1, "overdue": 2, "pending": 0, "exempt": 0, "deviating": 1}
    nz = {k: {s: n for s, n in v.items() if n} for k, v in audit.by_user.items()}
    assert nz == {"ann": {"on_time": 1, "overdue": 1}, "ben": {"late": 1, "overdue": 1, "on_time": 1, "deviating": 1}}
    rule = {k: {s: n for s, n in v.items() if n} for k, v in audit.by_rule.items()}
    assert rule == {"sop.appeal_denial": {"on_time": 1, "late": 1, "overdue": 1, "deviating": 1},
                    "sop.no_response": {"on_time": 1, "overdue": 1}}  # fmt: skip
    assert set(audit.by_queue) == {"appeals", "follow_up"}
    assert [(f["pcn"], f["state"], f["user"], f["due"]) for f in audit.flagged] == [
        ("A2", "late", "ben", "2026-11-06"), ("A3", "overdue", "ann", "2026-11-06"), ("S1", "overdue", "ben", "2026-11-09")]
    assert audit.flagged[0]["done_on"] == "2026-11-10"
