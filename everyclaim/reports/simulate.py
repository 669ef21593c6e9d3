"""Replay follow-up week by week on the open A/R under three policies and compare what each achieves.

The inventory is the latest scored triage run's open claims that need follow-up (a positive balance and
an action: a pending claim that will pay by itself, or a credit balance to refund, is no collection
work). Each week the team has ``ftes x touches_per_day x days_per_week`` staff touches. Policies:

* ``creaming`` — largest balance first; every claim is worked by hand (``expected_touches.review``).
* ``oldest`` — oldest service date first; by hand likewise.
* ``everyclaim`` — the automatic tiers (no_opportunity, simple_fix) are done by automation in week 1 at
  ``automated_touches`` staff touches; staff work the hinted and manual tiers in the scores' priority
  order (net value, deadlines), a hinted claim at its action's touches, a manual one at ``review``'s.

A claim is resolved when its touches are spent. What it brings is the world's truth where known (a
synthetic world's truth.csv: its expected recovery when collectible, else nothing) and a seeded draw
from the model otherwise (P(recovery) x the collectible amount). Vectorized: a policy is an order, a
cumulative sum of touches and a week per claim.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sqlalchemy as sa

from everyclaim.scoring import score as sc
from everyclaim.scoring.settings import Settings
from everyclaim.triage import engine as triage_engine
from everyclaim.triage import features as feat

POLICIES = ("creaming", "oldest", "everyclaim")


@dataclass
class PolicyResult:
    policy: str
    dollars_cents: int
    claims_resolved: int
    staff_touches: int
    weekly_dollars_cents: list[int] = field(default_factory=list)  # cumulative, one per week

    def claims_per_fte_day(self, fte_days: float) -> float:
        return self.claims_resolved / fte_days if fte_days else 0.0

    def as_json(self, fte_days: float) -> dict[str, Any]:
        return {"policy": self.policy, "dollars": f"{self.dollars_cents / 100:.2f}",
                "claims_resolved": self.claims_resolved, "staff_touches": self.staff_touches,
                "touches_per_resolved_claim": round(self.staff_touches / self.claims_resolved, 3)
                if self.claims_resolved else None,
                "claims_per_fte_day": round(self.claims_per_fte_day(fte_days), 3),
                "claims_per_staff_touch": round(self.claims_resolved / self.staff_touches, 3) if self.staff_touches else None,
                "weekly_dollars": [f"{c / 100:.2f}" for c in self.weekly_dollars_cents]}  # fmt: skip


@dataclass
class Simulation:
    weeks: int
    ftes: float
    claims: int  # inventory
    inventory_cents: int
    truth_known: int  # claims whose outcome came from the truth
    touches_per_week: int
    days_per_week: int
    policies: dict[str, PolicyResult]

    @property
    def fte_days(self) -> float:
        return self.ftes * self.days_per_week * self.weeks

    def ratio(self, metric: str) -> float | None:
        a, b = self.policies["everyclaim"], self.policies["creaming"]
        x, y = {"claims_per_fte_day": (a.claims_resolved, b.claims_resolved),
                "dollars": (a.dollars_cents, b.dollars_cents)}[metric]  # fmt: skip
        return round(x / y, 3) if y else None

    def as_json(self) -> dict[str, Any]:
        fte_days = self.fte_days
        return {"weeks": self.weeks, "ftes": self.ftes, "claims": self.claims,
                "inventory": f"{self.inventory_cents / 100:.2f}", "truth_known": self.truth_known,
                "touches_per_week": self.touches_per_week, "fte_days": fte_days,
                "policies": {k: v.as_json(fte_days) for k, v in self.policies.items()},
                "productivity_ratio": self.ratio("claims_per_fte_day"), "dollar_ratio": self.ratio("dollars")}  # fmt: skip


def inventory(conn: sa.Connection, run_id: int) -> dict[str, np.ndarray]:
    """The follow-up inventory of a scored run, as columns."""
    s, r, f = sc.claim_scores.c, triage_engine.results.c, feat.triage_features.c
    rows = conn.execute(
        sa.select(s.pcn, s.p_recovery, s.collectible_cents, s.balance_cents, s.priority, r.tier, r.action,
                  f.days_since_service)
        .join(triage_engine.results, (r.run_id == s.run_id) & (r.atb_row_id == s.atb_row_id))
        .join(feat.triage_features, f.atb_row_id == s.atb_row_id)
        .where(s.run_id == run_id, s.balance_cents > 0, r.action != "", r.action != "refund")
        .order_by(s.pcn)
    ).all()  # fmt: skip
    return {
        "pcn": np.array([x.pcn for x in rows], object),
        "p": np.array([x.p_recovery for x in rows], "f8"),
        "collectible": np.array([x.collectible_cents for x in rows], "f8"),
        "balance": np.array([x.balance_cents for x in rows], "f8"),
        "priority": np.array([x.priority if x.priority is not None else 10**9 for x in rows], "f8"),
        "tier": np.array([x.tier for x in rows], object),
        "action": np.array([x.action for x in rows], object),
        "age": np.array([x.days_since_service or 0 for x in rows], "f8"),
    }


def outcomes(inv: dict[str, np.ndarray], truth: dict[str, tuple[bool, int]] | None, seed: int) -> tuple[np.ndarray, int]:
    """Cents each claim brings when worked: the truth where known, else a seeded draw from the model."""
    rng = np.random.default_rng(seed)
    drawn = np.where(rng.random(len(inv["p"])) < inv["p"], inv["collectible"], 0.0)
    if not truth:
        return np.round(drawn), 0
    known = np.array([pcn in truth for pcn in inv["pcn"]])
    true = np.array([max(0, truth[p][1]) if p in truth and truth[p][0] else 0 for p in inv["pcn"]], "f8")
    return np.round(np.where(known, true, drawn)), int(known.sum())


def simulate(conn: sa.Connection, run_id: int, weeks: int, ftes: float, settings: Settings,
             truth: dict[str, tuple[bool, int]] | None = None, seed: int = 1) -> Simulation:  # fmt: skip
    inv = inventory(conn, run_id)
    value, known = outcomes(inv, truth, seed)
    per_week = int(ftes * settings.touches_per_day * settings.days_per_week)
    manual = settings.touches("review")
    by_hand = np.full(len(value), manual)
    automatic = np.isin(inv["tier"], sc.AUTOMATIC_TIERS)
    hinted = np.array([settings.touches(a) for a in inv["action"]], "f8")
    ours = np.where(automatic, settings.automated_touches, np.where(inv["tier"] == "hinted", hinted, manual))
    n = len(value)
    orders = {
        "creaming": np.lexsort((inv["pcn"].astype(str), -inv["balance"])),
        "oldest": np.lexsort((inv["pcn"].astype(str), -inv["age"])),
        "everyclaim": np.lexsort((inv["pcn"].astype(str), inv["priority"], ~automatic)),
    }
    touches = {"creaming": by_hand, "oldest": by_hand, "everyclaim": ours}
    results = {p: _replay(p, orders[p], touches[p], value, weeks, per_week) for p in POLICIES}
    return Simulation(weeks, ftes, n, int(inv["balance"].sum()), known, per_week, settings.days_per_week, results)


def _replay(policy: str, order: np.ndarray, touches: np.ndarray, value: np.ndarray, weeks: int,
            per_week: int) -> PolicyResult:  # fmt: skip
    t = touches[order].astype("f8")
    cum = np.cumsum(t)
    week = np.where(t > 0, np.ceil(cum / per_week) if per_week else math.inf, 1)  # touch-free work lands in week 1
    done = week <= weeks
    v = value[order]
    weekly = [int(v[done & (week <= w)].sum()) for w in range(1, weeks + 1)]
    return PolicyResult(policy, int(v[done].sum()), int(done.sum()), int(t[done].sum()), weekly)
