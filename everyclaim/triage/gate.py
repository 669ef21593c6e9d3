"""Stage 3 of triage: the automation gate.

Reviewed outcomes come back as CSV (``claim_id,rule_id,correct``; ``correct`` is yes/no, true/false or
1/0) and are kept in ``triage_outcomes`` (the latest verdict per claim and rule counts). A rule acts
automatically only while it is proven accurate:

* a rule of a non-automatic tier (hinted, manual) only ever hints; a rule declared ``hint`` stays so;
* with no reviewed outcome yet, a rule keeps its declared mode: built-in rules ship ``auto`` (the
  accuracy benchmark is their first evidence); a user's new rule starts in ``sample`` mode;
* with 1 to ``min_reviews - 1`` (29) outcomes, the rule is in ``sample`` mode: the evidence is too
  thin to judge it either way, so it keeps collecting it;
* from ``min_reviews`` on, the rule is ``auto`` exactly when the Wilson score lower bound of its accuracy
  (``z`` = 1.96) is at least ``threshold`` (95%); otherwise it drops to ``hint`` and the reason says why.

**Sample mode.** ``sample_share`` (10%) of the rule's claims, chosen by a deterministic hash of the claim
id (:class:`everyclaim.triage.sqlfuncs.hash_bucket`: the same claims every run, on every database),
go to ``review``: staff check the rule's proposed action and their verdicts come back as outcomes. The
other claims stay automatic when the rule was declared ``auto`` (a built-in gathering review evidence)
and are hinted when it was not (a user's rule is not automatic before it is proven).

Note: the Wilson bound of 30 correct out of 30 is 0.886, so a rule needs at least 73 reviews, all
correct, to be proven at 95% (90 reviews with one error, 107 with two).
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from everyclaim.triage.features import triage_metadata
from everyclaim.triage.rules import AUTOMATIC_TIERS, RuleSet

outcomes = sa.Table(
    "triage_outcomes",
    triage_metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("claim_id", sa.String(38), nullable=False),  # the PCN, as on the worklist
    sa.Column("rule_id", sa.String(64), nullable=False, index=True),
    sa.Column("correct", sa.Boolean, nullable=False),
    sa.Column("source", sa.String(512), nullable=False, server_default=""),
    sa.Column("line", sa.Integer, nullable=False, server_default="0"),
    sa.Column("ingested_at", sa.DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint("claim_id", "rule_id"),
)

TRUE = {"yes", "y", "true", "t", "1", "correct"}
FALSE = {"no", "n", "false", "f", "0", "incorrect", "wrong"}


@dataclass(frozen=True, slots=True)
class GateSettings:
    min_reviews: int = 30
    threshold: float = 0.95
    z: float = 1.96
    sample_share: float = 0.10  # of a sample-mode rule's claims that go to review

    @property
    def sample_buckets(self) -> int:
        """Claims whose hash bucket (0..99) is below this are sampled."""
        return round(self.sample_share * 100)


@dataclass(frozen=True, slots=True)
class RuleStats:
    reviewed: int = 0
    correct: int = 0

    @property
    def accuracy(self) -> float | None:
        return self.correct / self.reviewed if self.reviewed else None


@dataclass(frozen=True, slots=True)
class Decision:
    rule_id: str
    declared: str
    mode: str  # effective: auto | hint | sample
    reason: str
    stats: RuleStats
    lower_bound: float | None
    confidence: float  # what the worklist shows: reviewed accuracy, else the rule's prior


@dataclass(frozen=True, slots=True)
class OutcomeError:
    path: str
    line: int
    message: str

    def located(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


def wilson_lower_bound(correct: int, n: int, z: float = 1.96) -> float:
    """The Wilson score interval's lower bound for ``correct`` successes out of ``n`` (0 when n = 0)."""
    if n <= 0:
        return 0.0
    p = correct / n
    denom = 1 + z * z / n
    centre = p + z * z / (2 * n)
    margin = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (centre - margin) / denom


def reviews_needed(correct: int, n: int, s: GateSettings = GateSettings()) -> int:
    """How many more correct reviews would lift the lower bound to the threshold (capped at 10,000)."""
    extra = max(0, s.min_reviews - n)
    while extra < 10_000 and wilson_lower_bound(correct + extra, n + extra, s.z) < s.threshold:
        extra += 1
    return extra


def decide(rule_id: str, tier: str, declared: str, prior: float, stats: RuleStats,
           s: GateSettings = GateSettings()) -> Decision:  # fmt: skip
    """The effective mode of one rule given its reviewed outcomes."""
    lb = wilson_lower_bound(stats.correct, stats.reviewed, s.z) if stats.reviewed else None
    conf = stats.accuracy if stats.accuracy is not None else prior
    if tier not in AUTOMATIC_TIERS:
        return Decision(rule_id, declared, "hint", f"tier {tier} is never automatic", stats, lb, conf)
    if declared == "hint":
        return Decision(rule_id, declared, "hint", "declared hint", stats, lb, conf)
    if stats.reviewed == 0 and declared != "sample":
        return Decision(rule_id, declared, declared, f"no reviewed outcome yet; declared {declared}", stats, lb, conf)
    if stats.reviewed < s.min_reviews:
        rest = "the rest stays automatic (declared auto)" if declared == "auto" else "the rest is hinted"
        why = (f"{stats.reviewed}/{s.min_reviews} reviewed outcomes: {s.sample_share:.0%} of its claims "
               f"sampled for review, {rest}")  # fmt: skip
        return Decision(rule_id, declared, "sample", why, stats, lb, conf)
    assert lb is not None
    acc = f"{stats.correct}/{stats.reviewed} correct, Wilson lower bound {lb:.1%}"
    if lb >= s.threshold:
        return Decision(rule_id, declared, "auto", f"{acc} >= {s.threshold:.0%}", stats, lb, conf)
    need = reviews_needed(stats.correct, stats.reviewed, s)
    why = f"{acc} < {s.threshold:.0%}: hints only (needs {need} more correct reviews)"
    return Decision(rule_id, declared, "hint", why, stats, lb, conf)


def rule_stats(conn: sa.Connection) -> dict[str, RuleStats]:
    o = outcomes.c
    stmt = sa.select(o.rule_id, sa.func.count(), sa.func.sum(sa.case((o.correct.is_(True), 1), else_=0)))
    return {rid: RuleStats(int(n), int(ok or 0)) for rid, n, ok in conn.execute(stmt.group_by(o.rule_id))}


def decisions(conn: sa.Connection, rules: RuleSet, s: GateSettings = GateSettings()) -> dict[str, Decision]:
    stats = rule_stats(conn)
    return {
        r.rule.id: decide(r.rule.id, r.rule.tier, r.mode, r.rule.confidence, stats.get(r.rule.id, RuleStats()), s)
        for r in rules.rules
    }


def read_outcomes(path: Path) -> tuple[list[dict[str, object]], list[OutcomeError]]:
    """Rows of an outcomes CSV (``claim_id,rule_id,correct``), with located errors for bad lines."""
    rows: list[dict[str, object]] = []
    errors: list[OutcomeError] = []
    reader = csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig")))
    missing = {"claim_id", "rule_id", "correct"} - set(reader.fieldnames or ())
    if missing:
        return [], [OutcomeError(str(path), 1, f"missing column(s): {', '.join(sorted(missing))}")]
    for i, rec in enumerate(reader, start=2):
        verdict = (rec.get("correct") or "").strip().lower()
        claim, rule = (rec.get("claim_id") or "").strip(), (rec.get("rule_id") or "").strip()
        if not claim or not rule:
            errors.append(OutcomeError(str(path), i, "claim_id and rule_id are required"))
        elif verdict not in TRUE | FALSE:
            errors.append(OutcomeError(str(path), i, f"correct must be yes or no, got {verdict!r}"))
        else:
            rows.append({"claim_id": claim, "rule_id": rule, "correct": verdict in TRUE, "line": i})
    return rows, errors


def store_outcomes(conn: sa.Connection, rows: Iterable[dict[str, object]], source: str) -> int:
    """Upsert outcomes: the latest verdict per (claim, rule) replaces an earlier one."""
    triage_metadata.create_all(conn, tables=[outcomes], checkfirst=True)
    latest = {(r["claim_id"], r["rule_id"]): r for r in rows}
    now = datetime.now(UTC)
    keys = list(latest)
    for i in range(0, len(keys), 500):
        chunk = keys[i : i + 500]
        conn.execute(sa.delete(outcomes).where(sa.tuple_(outcomes.c.claim_id, outcomes.c.rule_id).in_(chunk)))
    if latest:
        conn.execute(sa.insert(outcomes), [r | {"source": source, "ingested_at": now} for r in latest.values()])
    return len(latest)
