"""Each triage rule's volume and dollars in the latest run, its reviewed accuracy and its effective mode
(the automation gate), for ``everyclaim rules report`` and the web's rules page."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from everyclaim.triage import engine as eng
from everyclaim.triage.gate import GateSettings, decisions, rule_stats
from everyclaim.triage.rules import RuleSet


def rules_report(conn: sa.Connection, rules: RuleSet, settings: GateSettings | None = None) -> list[dict[str, Any]]:
    """One dict per rule (evaluation order, then the guard): volume, dollars, sampled claims, reviews, accuracy, mode, why."""
    eng.ensure_tables(conn)
    gate = decisions(conn, rules, settings or GateSettings())
    run = eng.latest_run(conn)
    vol: dict[str, tuple[int, int]] = {}
    sampled: dict[str, int] = {}
    if run is not None:
        r = eng.results.c
        stmt = sa.select(r.rule_id, sa.func.count(), sa.func.sum(r.balance_cents),
                         sa.func.sum(sa.case((r.sampled.is_(True), 1), else_=0))).where(r.run_id == run)  # fmt: skip
        for rid, n, c, k in conn.execute(stmt.group_by(r.rule_id)):
            vol[rid], sampled[rid] = (int(n), int(c or 0)), int(k or 0)
    out_rows = []
    for lr in rules.rules:
        d = gate[lr.rule.id]
        n, cents = vol.get(lr.rule.id, (0, 0))
        out_rows.append({"rule_id": lr.rule.id, "pack": lr.pack, "priority": lr.rule.priority, "tier": lr.rule.tier,
                         "action": lr.rule.action, "root_cause": lr.rule.root_cause, "claims": n,
                         "dollars": f"{cents / 100:.2f}", "sampled": sampled.get(lr.rule.id, 0),
                         "reviewed": d.stats.reviewed, "correct": d.stats.correct,
                         "accuracy": d.stats.accuracy, "lower_bound": d.lower_bound, "declared_mode": d.declared,
                         "mode": d.mode, "reason": d.reason})  # fmt: skip
    stats = rule_stats(conn)
    for special, label in ((eng.GUARD_ID, "credit balance guard: never written off"), ("", "no rule: manual")):
        n, cents = vol.get(special, (0, 0))
        s = stats.get(special)
        out_rows.append({"rule_id": special or "(no rule)", "pack": "engine", "priority": 0,
                         "tier": "hinted" if special else "manual", "action": "refund" if special else "review",
                         "root_cause": "overpayment" if special else "other", "claims": n, "dollars": f"{cents / 100:.2f}",
                         "sampled": 0,
                         "reviewed": s.reviewed if s else 0, "correct": s.correct if s else 0,
                         "accuracy": s.accuracy if s else None, "lower_bound": None, "declared_mode": "hint",
                         "mode": "hint", "reason": label})  # fmt: skip
    return out_rows
