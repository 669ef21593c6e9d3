"""Approvals: every refund and write-offs above the threshold wait for a manager; SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa

from everyclaim.work import approvals as ap
from everyclaim.work import queue as q
from everyclaim.work.errors import Conflict, Forbidden, Invalid
from everyclaim.work.refresh import refresh
from everyclaim.work.schema import audit_log
from everyclaim.work.settings import WorkSettings
from tests.work_data import clear_triage, make_user, result_row, write_run

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def world(engine: sa.Engine) -> tuple[sa.Engine, dict]:
    with engine.begin() as conn:
        clear_triage(conn)
        write_run(conn, [result_row(p, action="review") for p in ("A", "B", "C", "D")])
        refresh(conn, now=NOW, rules=[])
        people = {n: make_user(conn, n, r) for n, r in (("bob", "biller"), ("mia", "manager"), ("max", "manager"),
                                                         ("aud", "auditor"))}  # fmt: skip
        items = {i.pcn: i.id for i in q.list_queue(conn, people["mia"], limit=10)[0]}
    return engine, {"users": people, "items": items}


def test_threshold_refunds_and_decisions(world: tuple[sa.Engine, dict]) -> None:
    engine, w = world
    bob, mia = w["users"]["bob"], w["users"]["mia"]
    with engine.begin() as conn:
        small = ap.request(conn, bob, w["items"]["A"], "write_off", Decimal("500.00"), "timely filing, no proof", now=NOW)
        big = ap.request(conn, bob, w["items"]["B"], "write_off", "500.01", "too old", now=NOW)
        refund = ap.request(conn, bob, w["items"]["C"], "refund", "12.34", "duplicate payment", now=NOW)
        assert (small.status, big.status, refund.status) == ("auto_approved", "pending", "pending")
        assert q.get_item(conn, w["items"]["A"]).status == "resolved"
        assert q.get_item(conn, w["items"]["B"]).status == "open"
        pending, n = ap.list_approvals(conn, mia)
        assert n == 2 and [p.id for p in pending] == [big.id, refund.id] and pending[0].amount == Decimal("500.01")
        with pytest.raises(Forbidden):
            ap.decide(conn, bob, big.id, True)
        done = ap.decide(conn, mia, big.id, True, "ok", now=NOW)
        assert (done.status, done.decided_by) == ("approved", mia.id)
        assert q.get_item(conn, w["items"]["B"]).status == "resolved"
        with pytest.raises(Conflict):
            ap.decide(conn, w["users"]["max"], big.id, False)
        rejected = ap.decide(conn, w["users"]["max"], refund.id, False, "verify the 835 first")
        assert rejected.status == "rejected" and q.get_item(conn, w["items"]["C"]).status == "open"
        decided = conn.execute(sa.select(audit_log.c.username, audit_log.c.entity_id)
                               .where(audit_log.c.action == "approval.decide").order_by(audit_log.c.id)).all()  # fmt: skip
        assert decided == [("mia", str(big.id)), ("max", str(refund.id))]


def test_threshold_comes_from_settings_and_bad_requests_are_refused(world: tuple[sa.Engine, dict], monkeypatch) -> None:  # noqa: ANN001
    engine, w = world
    monkeypatch.setenv("EVERYCLAIM_WRITE_OFF_APPROVAL_THRESHOLD_CENTS", "-1")
    with pytest.raises(Invalid, match="EVERYCLAIM_WRITE_OFF_APPROVAL_THRESHOLD_CENTS"), engine.begin() as conn:
        ap.request(conn, w["users"]["bob"], w["items"]["A"], "write_off", "1.00", "x")
    monkeypatch.setenv("EVERYCLAIM_WRITE_OFF_APPROVAL_THRESHOLD_CENTS", "100")
    with engine.begin() as conn:  # the environment's threshold: $1.00
        assert ap.request(conn, w["users"]["bob"], w["items"]["A"], "write_off", "1.01", "x").status == "pending"
    monkeypatch.delenv("EVERYCLAIM_WRITE_OFF_APPROVAL_THRESHOLD_CENTS")
    bob, aud = w["users"]["bob"], w["users"]["aud"]
    strict = WorkSettings.from_env({"EVERYCLAIM_WRITE_OFF_APPROVAL_THRESHOLD_CENTS": "0"})
    with engine.begin() as conn:
        assert ap.request(conn, bob, w["items"]["D"], "write_off", "0.01", "x", settings=strict).status == "pending"
        with pytest.raises(Conflict):
            ap.request(conn, bob, w["items"]["D"], "write_off", "1.00", "again", settings=strict)
        for kind, amount, reason in (("donate", "1", "x"), ("refund", "-5", "x"), ("refund", "1.001", "x"),
                                     ("refund", "abc", "x"), ("refund", "5", "  ")):  # fmt: skip
            with pytest.raises(Invalid):
                ap.request(conn, bob, w["items"]["B"], kind, amount, reason)
        with pytest.raises(Forbidden):
            ap.request(conn, aud, w["items"]["B"], "refund", "5", "x")
        mine, n = ap.list_approvals(conn, bob, status=None)
        assert n == 2 and {m.requested_by_name for m in mine} == {"bob"}
