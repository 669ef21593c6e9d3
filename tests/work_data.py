"""Small, seeded work-queue fixtures: triage runs written straight into the triage tables, users."""

from __future__ import annotations

import random
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from everyclaim.triage import engine as triage
from everyclaim.triage.features import triage_features
from everyclaim.work import users as u

AS_OF = date(2026, 11, 2)  # a Monday
PASSWORD = "correct horse battery"


def clear_triage(conn: sa.Connection) -> None:
    """Empty the triage tables (they live outside the ledger's migrations and its truncation)."""
    triage.ensure_tables(conn)
    for table in (triage.results, triage.rule_state, triage.runs, triage_features):
        conn.execute(sa.delete(table))


def result_row(pcn: str, *, tier: str = "hinted", action: str = "appeal", root_cause: str = "medical_necessity",
               payer_id: str = "ACME1", balance: int = 10_000, expected: int | None = None,
               rule_id: str = "rule.x", atb_row_id: int | None = None) -> dict[str, Any]:
    return {"pcn": pcn, "tier": tier, "action": action, "root_cause": root_cause, "payer_id": payer_id,
            "balance_cents": balance, "expected_recovery_cents": balance // 2 if expected is None else expected,
            "rule_id": rule_id, "atb_row_id": atb_row_id, "features": {}}  # fmt: skip


def write_run(conn: sa.Connection, rows: list[dict[str, Any]], as_of: date = AS_OF) -> int:
    """A triage run holding ``rows`` (see :func:`result_row`; ``features`` go to triage_features)."""
    triage.ensure_tables(conn)
    conn.execute(sa.delete(triage_features))
    run_id = int(conn.execute(sa.insert(triage.runs).values(as_of=as_of, started_at=datetime(2026, 11, 2),
                                                             claims=len(rows))).inserted_primary_key[0])  # fmt: skip
    res, feats = [], []
    for i, r in enumerate(rows):
        atb = r["atb_row_id"] or i + 1
        res.append({"run_id": run_id, "atb_row_id": atb, "claim_id": None, "pcn": r["pcn"], "payer_id": r["payer_id"],
                    "tier": r["tier"], "action": r["action"], "root_cause": r["root_cause"], "rule_id": r["rule_id"],
                    "matched_rule_id": r["rule_id"], "mode": "hint", "hint": "do it", "adjustment_code": "",
                    "confidence": None, "balance_cents": r["balance_cents"],
                    "expected_recovery_cents": r["expected_recovery_cents"], "priority": None})  # fmt: skip
        feats.append({"atb_row_id": atb, "claim_id": None, "pcn": r["pcn"], "payer_id": r["payer_id"], "as_of": as_of,
                      "balance_cents": r["balance_cents"], **r["features"]})  # fmt: skip
    if res:
        conn.execute(sa.insert(triage.results), res)
        keys = sorted({k for f in feats for k in f})
        conn.execute(sa.insert(triage_features), [{k: f.get(k) for k in keys} for f in feats])
    return run_id


def random_rows(n: int, seed: int = 1) -> list[dict[str, Any]]:
    rnd = random.Random(seed)
    tiers = ("hinted", "manual", "simple_fix", "no_opportunity")
    return [result_row(f"P{i:05d}", tier=rnd.choice(tiers), balance=rnd.randint(100, 500_000)) for i in range(n)]


def make_user(conn: sa.Connection, name: str, role: str = "biller", skills: tuple[str, ...] = (),
              capacity: int = 40) -> u.User:
    return u.create_user(conn, None, name, PASSWORD, role, skills=skills, daily_capacity=capacity)
