"""Routing SOPs as data: loading, routing in SQL, SOP due dates in business days, assignment within
capacity and skills, editing with an audit trail; SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from everyclaim.work import routing as rt
from everyclaim.work.errors import Forbidden, Invalid
from everyclaim.work.refresh import refresh
from everyclaim.work.schema import audit_log, work_items
from tests.work_data import AS_OF, clear_triage, make_user, result_row, write_run

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def db(engine: sa.Engine) -> sa.Engine:
    with engine.begin() as conn:
        clear_triage(conn)
    return engine


def _items(conn: sa.Connection) -> dict[str, sa.Row]:
    return {r.pcn: r for r in conn.execute(sa.select(work_items))}


def test_builtin_pack_loads_and_every_rule_is_documented() -> None:
    rules, errors = rt.load_sops()
    assert errors == []
    assert rules[-1].id == "sop.default" and rules[-1].when == rt.Conditions()
    assert all(r.description.strip() for r in rules)
    by_id = {r.id: r for r in rules}
    assert by_id["sop.appeal_denial"].sop == rt.Sop(action="appeal", within_business_days=10, **{"from": "denial"})
    assert by_id["sop.no_response"].sop is not None and by_id["sop.no_response"].sop.within_business_days == 5


def test_bad_pack_errors_name_the_file_and_rule(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("rules:\n  - id: x\n    description: d\n    queue: Q!\n    when: {colour: [red]}\n")
    rules, errors = rt.load_sops([bad])
    assert rules == []
    assert any("bad.yaml: rule 1 (x): queue" in e for e in errors)
    assert any("when.colour" in e for e in errors)


def test_business_days_skip_weekends() -> None:
    friday = date(2026, 11, 6)
    assert rt.add_business_days(friday, 1) == date(2026, 11, 9)
    assert rt.add_business_days(date(2026, 11, 2), 10) == date(2026, 11, 16)
    assert rt.add_business_days(date(2026, 11, 7), 1) == date(2026, 11, 9)  # from a Saturday


def _world() -> list[dict]:
    rows = [
        result_row("APPEAL", action="appeal", balance=40_000),
        result_row("REFUND", action="refund", balance=-12_000, root_cause="overpayment"),
        result_row("BIGMAN", tier="manual", action="review", balance=300_000),
        result_row("SMALLMAN", tier="manual", action="review", balance=20_000),
        result_row("URGENT", action="rebill_corrected", balance=9_000),
        result_row("STATUS", action="status_inquiry", balance=7_000),
        result_row("AUTO", tier="simple_fix", action="bill_secondary"),
    ]
    rows[0]["features"] = {"days_since_denial": 9, "days_to_appeal_deadline": 81}  # denied Fri 2026-10-24
    rows[4]["features"] = {"days_to_filing_deadline": 3}
    return rows


def test_refresh_routes_by_the_builtin_sops(db: sa.Engine) -> None:
    with db.begin() as conn:
        write_run(conn, _world())
        res = refresh(conn, now=NOW)
        items = _items(conn)
    assert res.inserted == 6 and "AUTO" not in items
    route = {p: (r.queue, r.skill, r.routing_rule_id) for p, r in items.items()}
    assert route == {
        "APPEAL": ("appeals", "appeals", "sop.appeal_denial"),
        "REFUND": ("credits", "refunds", "sop.credit_refund"),
        "BIGMAN": ("high_dollar", "senior", "sop.high_dollar_review"),
        "SMALLMAN": ("manual_review", "", "sop.manual_review"),
        "URGENT": ("urgent", "", "sop.deadline_close"),
        "STATUS": ("follow_up", "", "sop.no_response"),
    }
    denied = AS_OF - timedelta(days=9)
    assert items["APPEAL"].sop_action == "appeal"
    assert items["APPEAL"].sop_due == rt.add_business_days(denied, 10) == date(2026, 11, 6)
    assert items["STATUS"].sop_due == rt.add_business_days(AS_OF, 5)
    assert items["SMALLMAN"].sop_due is None and items["SMALLMAN"].sop_action == ""


def test_next_days_refresh_rewrites_nothing_that_did_not_change(db: sa.Engine) -> None:
    with db.begin() as conn:
        write_run(conn, _world())
        refresh(conn, now=NOW)
        before = _items(conn)
        tomorrow = _world()  # the same claims one day later: ages up, deadlines one day closer
        tomorrow[0]["features"] = {"days_since_denial": 10, "days_to_appeal_deadline": 80}
        tomorrow[4]["features"] = {"days_to_filing_deadline": 2}
        write_run(conn, tomorrow, as_of=AS_OF + timedelta(days=1))
        res = refresh(conn, now=NOW + timedelta(days=1))
        after = _items(conn)
    assert (res.inserted, res.updated, res.closed) == (0, 0, 0)
    assert {p: r.updated_at for p, r in after.items()} == {p: r.updated_at for p, r in before.items()}
    assert after["STATUS"].sop_due == before["STATUS"].sop_due  # counted from the day it was queued


def test_assignment_respects_skills_and_capacity(db: sa.Engine) -> None:
    rows = [result_row(f"A{i}", action="appeal", balance=10_000 + i) for i in range(5)]
    rows += [result_row(f"G{i}", action="review", balance=5_000 + i) for i in range(4)]
    with db.begin() as conn:
        ann = make_user(conn, "ann", skills=("appeals",), capacity=3)
        ben = make_user(conn, "ben", capacity=2)
        make_user(conn, "aud", "auditor", capacity=50)  # auditors get no work
        write_run(conn, rows)
        res = refresh(conn, now=NOW)
        items = _items(conn)
        again = refresh(conn, now=NOW + timedelta(hours=1))
    held = {p: r.assigned_user_id for p, r in items.items()}
    assert res.assigned == 5 and again.assigned == 0
    assert sorted(p for p, u in held.items() if u == ann.id) == ["A2", "A3", "A4"]  # best appeals first
    assert sorted(p for p, u in held.items() if u == ben.id) == ["G2", "G3"]  # ben lacks the appeals skill


def test_rule_named_user_gets_the_items(db: sa.Engine) -> None:
    with db.begin() as conn:
        mia = make_user(conn, "mia", "manager")
        make_user(conn, "ben")
        rt.install_builtin(conn)
        rt.save_rule(conn, mia, {"id": "acme.to_mia", "description": "ACME claims go to Mia", "when": {"payer": ["ACME1"]},
                                 "queue": "acme", "assign_to": "mia"}, position=1)  # fmt: skip
        write_run(conn, [result_row("X1", payer_id="ACME1"), result_row("X2", payer_id="BCBS", action="review")])
        refresh(conn, now=NOW)
        items = _items(conn)
    assert (items["X1"].queue, items["X1"].assigned_user_id) == ("acme", mia.id)
    assert items["X2"].queue == "general" and items["X2"].assigned_user_id != mia.id


def test_editing_rules_is_for_managers_and_audited(db: sa.Engine) -> None:
    with db.begin() as conn:
        mia = make_user(conn, "mia", "manager")
        bob = make_user(conn, "bob")
        assert rt.install_builtin(conn) == len(rt.load_sops()[0])
        assert rt.install_builtin(conn) == 0
        rule = {"id": "sop.default", "description": "Everything else", "queue": "catch_all"}
        with pytest.raises(Forbidden):
            rt.save_rule(conn, bob, rule)
        with pytest.raises(Invalid):
            rt.save_rule(conn, mia, {**rule, "queue": "Bad Queue"})
        saved = rt.save_rule(conn, mia, rule)
        assert saved.source == "user" and saved.position == rt.list_rules(conn)[-1].position
        logged = conn.execute(sa.select(audit_log.c.before, audit_log.c.after)
                              .where(audit_log.c.action == "routing.save")).one()  # fmt: skip
        assert '"general"' in logged.before and '"catch_all"' in logged.after
        rt.delete_rule(conn, mia, "sop.default")
        assert "sop.default" not in {s.rule.id for s in rt.list_rules(conn)}


def test_rules_without_any_sop_route_and_leave_no_due_day(db: sa.Engine) -> None:
    only = rt.RoutingRule(id="only", description="everything to one queue", queue="one")
    with db.begin() as conn:
        write_run(conn, _world())
        refresh(conn, now=NOW, rules=[only])
        items = _items(conn)
    assert {(r.queue, r.routing_rule_id, r.sop_due) for r in items.values()} == {("one", "only", None)}
