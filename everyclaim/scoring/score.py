"""Score every open claim of a triage run: expected recovery, expected cost, net value, priority.

    with engine.begin() as conn:                      # the caller owns the transaction
        result = score(conn, run_id, as_of, load_settings())

For each claim of the run (one ``claim_scores`` row per ATB row):

* a **denied** claim (its last 835 denied money) gets P(recovery) from the recovery model trained on
  the ledger's resolved denials (:mod:`everyclaim.scoring.model`; the priors when history is thin) and
  ``expected_recovery = P x collectible``; any other claim keeps triage's expectation (the balance times
  its rule's recovery rate), and P is that expectation over the balance;
* ``expected_cost`` = staff touches for its action x minutes per touch x labour rate, plus the overhead;
  claims in the automatic tiers (no_opportunity, simple_fix) cost ``automated_touches`` and no overhead;
* ``net_value`` = expected recovery - expected cost;
* ``priority`` ranks the staff tiers (hinted, manual): refunds first (an overpayment is owed back, Medicare
  within 60 days), then by net value, a positive net value multiplied by ``urgency_boost`` when a filing
  or appeal deadline closes within ``urgency_days``. The run's ``triage_results`` take this priority and
  expected recovery, so the worklist is ordered by it.

Scores are estimates stored in integer cents; the ledger's money is never touched.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
import sqlalchemy as sa

from everyclaim.scoring.frames import Frame, history_frame, open_frame
from everyclaim.scoring.model import Evaluation, RecoveryModel, train
from everyclaim.scoring.settings import Settings
from everyclaim.triage import engine as triage_engine

AUTOMATIC_TIERS = ("no_opportunity", "simple_fix")
STAFF_TIERS = ("hinted", "manual")

scoring_metadata = sa.MetaData()

scoring_runs = sa.Table(
    "scoring_runs",
    scoring_metadata,
    sa.Column("run_id", sa.Integer, primary_key=True, autoincrement=False),  # the triage run scored
    sa.Column("as_of", sa.Date, nullable=False),
    sa.Column("scored_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("model", sa.String(16), nullable=False),  # model | priors
    sa.Column("examples", sa.Integer, nullable=False),  # resolved denials learned from
    sa.Column("settings", sa.Text, nullable=False),  # JSON
    sa.Column("evaluation", sa.Text, nullable=False),  # JSON ('null' for priors)
    sa.Column("seconds", sa.Float, nullable=False),
)

claim_scores = sa.Table(
    "claim_scores",
    scoring_metadata,
    sa.Column("run_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("atb_row_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("pcn", sa.Text, nullable=False),
    sa.Column("source", sa.String(8), nullable=False),  # model | priors | triage
    sa.Column("p_recovery", sa.Float, nullable=False),
    sa.Column("balance_cents", sa.BigInteger, nullable=False),
    sa.Column("collectible_cents", sa.BigInteger, nullable=False),
    sa.Column("expected_recovery_cents", sa.BigInteger, nullable=False),
    sa.Column("expected_cost_cents", sa.BigInteger, nullable=False),
    sa.Column("net_value_cents", sa.BigInteger, nullable=False),
    sa.Column("deadline_days", sa.Integer),  # the nearest open filing/appeal deadline
    sa.Column("urgent", sa.Boolean, nullable=False),
    sa.Column("priority", sa.Integer),
)


def ensure_tables(conn: sa.Connection) -> None:
    """Create the scoring tables when missing (derived per run, like triage's; no ledger migration)."""
    triage_engine.ensure_tables(conn)
    scoring_metadata.create_all(conn, checkfirst=True)


@dataclass
class ScoreResult:
    run_id: int
    as_of: date
    model: str
    examples: int
    claims: int = 0
    evaluation: Evaluation | None = None
    totals: dict[str, int] = field(default_factory=dict)  # cents: expected_recovery, expected_cost, net_value
    positive: int = 0  # claims with net value > 0
    urgent: int = 0
    seconds: float = 0.0

    def as_json(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "as_of": self.as_of.isoformat(), "model": self.model,
                "examples": self.examples, "claims": self.claims, "positive_net_value": self.positive,
                "urgent": self.urgent, **{k: f"{v / 100:.2f}" for k, v in self.totals.items()},
                "evaluation": self.evaluation.as_json() if self.evaluation else None,
                "seconds": round(self.seconds, 2)}  # fmt: skip


def fit(conn: sa.Connection, as_of: date, settings: Settings) -> tuple[RecoveryModel, Evaluation | None, Frame]:
    """Train on the ledger's resolved denials as of ``as_of``."""
    history = history_frame(conn, as_of, settings.horizons)
    model, evaluation = train(history, settings)
    return model, evaluation, history


def score(conn: sa.Connection, run_id: int, as_of: date, settings: Settings) -> ScoreResult:
    """Score triage run ``run_id`` (see the module docstring). Never commits."""
    ensure_tables(conn)
    started = time.perf_counter()
    model, evaluation, _ = fit(conn, as_of, settings)
    frame = open_frame(conn, run_id)
    cols = compute(frame, model, settings)
    conn.execute(sa.delete(claim_scores).where(claim_scores.c.run_id == run_id))
    kept = sa.select(sa.func.min(triage_engine.results.c.run_id)).scalar_subquery()  # triage keeps a few runs
    conn.execute(sa.delete(claim_scores).where(claim_scores.c.run_id < kept))
    conn.execute(sa.delete(scoring_runs).where(scoring_runs.c.run_id == run_id))
    if len(frame):
        names = list(cols)
        conn.execute(sa.insert(claim_scores), [
            {"run_id": run_id, **dict(zip(names, values, strict=True))}
            for values in zip(*(cols[n].tolist() for n in names), strict=True)
        ])  # fmt: skip
    _apply_to_triage(conn, run_id)
    result = ScoreResult(run_id, as_of, model.kind, model.examples, len(frame), evaluation)
    result.totals = {k: int(cols[k + "_cents"].sum()) for k in ("expected_recovery", "expected_cost", "net_value")}
    result.positive = int((cols["net_value_cents"] > 0).sum())
    result.urgent = int(cols["urgent"].sum())
    result.seconds = time.perf_counter() - started
    conn.execute(sa.insert(scoring_runs).values(
        run_id=run_id, as_of=as_of, scored_at=datetime.now(UTC), model=model.kind, examples=model.examples,
        settings=settings.model_dump_json(), seconds=result.seconds,
        evaluation=json.dumps(evaluation.as_json() if evaluation else None)))  # fmt: skip
    return result


def compute(frame: Frame, model: RecoveryModel, settings: Settings) -> dict[str, np.ndarray]:
    """The score columns of ``frame`` (numpy, integer cents), ``priority`` included."""
    bal = frame.num["balance_cents"]
    tier, action = frame.extra["tier"], frame.extra["action"]
    denied = (frame.cat["denial_category"] != "") & ~np.isnan(frame.num["days_since_denial"]) & (bal > 0)
    p = np.zeros(len(frame))
    collectible = np.maximum(bal, 0.0)
    triage_expected = frame.extra["triage_expected_cents"].astype("f8")
    if denied.any():
        sub = frame.take(np.flatnonzero(denied))
        p[denied] = model.predict_p(sub)
        collectible[denied] = model.collectible_cents(sub)
    expected = np.where(denied, p * collectible, triage_expected)
    p = np.where(denied, p, np.clip(triage_expected / np.where(bal > 0, bal, 1.0), 0.0, 1.0))
    automatic = np.isin(tier, AUTOMATIC_TIERS)
    touches = np.array([settings.touches(a) for a in action], "f8")
    cost = np.where(automatic, settings.automated_touches * settings.touch_cost_cents(),
                    touches * settings.touch_cost_cents() + settings.overhead * 100)  # fmt: skip
    net = expected - cost
    deadline = np.fmin(_open_deadline(frame.num["days_to_appeal_deadline"], denied),
                       _open_deadline(frame.num["days_to_filing_deadline"], ~denied))  # fmt: skip
    urgent = ~np.isnan(deadline) & (deadline <= settings.urgency_days)
    cols = {
        "pcn": frame.extra["pcn"], "atb_row_id": frame.extra["atb_row_id"],
        "source": np.where(denied, model.kind if model.kind == "priors" else "model", "triage").astype(object),
        "p_recovery": np.round(p, 4), "balance_cents": bal.astype("i8"),
        "collectible_cents": np.round(collectible).astype("i8"), "expected_recovery_cents": np.round(expected).astype("i8"),
        "expected_cost_cents": np.round(cost).astype("i8"), "net_value_cents": np.round(net).astype("i8"),
        "deadline_days": deadline, "urgent": urgent,
    }  # fmt: skip
    cols["priority"] = _priority(cols, tier, action, settings)
    cols["deadline_days"] = np.array([None if np.isnan(d) else int(d) for d in deadline], object)
    return cols


def _open_deadline(days: np.ndarray, applies: np.ndarray) -> np.ndarray:
    return np.where(applies & (days >= 0), days, np.nan)


def _priority(cols: dict[str, np.ndarray], tier: np.ndarray, action: np.ndarray, settings: Settings) -> np.ndarray:
    net = cols["net_value_cents"].astype("f8")
    key = np.where(cols["urgent"] & (net > 0), net * settings.urgency_boost, net)
    refund = action == "refund"
    key = np.where(refund, np.abs(cols["balance_cents"]) + 1e12, key)
    staff = np.isin(tier, STAFF_TIERS)
    idx = np.flatnonzero(staff)
    order = idx[np.lexsort((cols["pcn"][idx].astype(str), -cols["balance_cents"][idx], -key[idx]))]
    out = np.full(len(net), None, object)
    out[order] = np.arange(1, len(order) + 1)
    return out


def _apply_to_triage(conn: sa.Connection, run_id: int) -> None:
    """The run's worklist takes the scores' priority and expected recovery (one UPDATE)."""
    r, s = triage_engine.results, claim_scores
    match = (s.c.run_id == r.c.run_id) & (s.c.atb_row_id == r.c.atb_row_id)
    conn.execute(sa.update(r).where(r.c.run_id == run_id).values(
        priority=sa.select(s.c.priority).where(match).scalar_subquery(),
        expected_recovery_cents=sa.func.coalesce(sa.select(s.c.expected_recovery_cents).where(match)
                                                 .scalar_subquery(), r.c.expected_recovery_cents)))  # fmt: skip


def latest_scoring(conn: sa.Connection) -> sa.Row | None:  # type: ignore[type-arg]
    ensure_tables(conn)
    return conn.execute(sa.select(scoring_runs).order_by(scoring_runs.c.run_id.desc()).limit(1)).first()
