"""Triage every open claim: features -> rules -> gate -> actions, each stage one set-based SQL step.

    rules, errors = load_rules([Path("my-rules/")])
    with engine.begin() as conn:                 # the caller owns the transaction
        result = triage(conn, date(2026, 3, 31), rules)

writes one ``triage_results`` row per open claim (tier, action, root cause, rule, hint, confidence,
balance, expected recovery, priority) under a new ``triage_runs`` row, and returns counts and dollars
per tier, action and root cause with the time each stage took.

Policies applied in SQL after the rules, whatever a rule says:

* a claim no rule matches is ``manual`` (action ``review``, root cause ``other``);
* a rule that is not (or no longer) automatic gives tier ``hinted`` (``manual`` stays manual);
* a rule in ``sample`` mode sends its sampled claims (``sampled``, a deterministic hash bucket of the
  claim id, see :mod:`everyclaim.triage.gate`) to ``review`` under its own rule id, so the reviewer's
  verdict counts for it; its other claims are automatic only when the rule was declared ``auto``;
* a **credit balance is never written off**: a credit-balance claim whose rule would do anything but
  ``refund`` or ``review`` goes to ``refund`` under the guard rule ``guard.credit_balance``.

Expected recovery is the balance times the rule's recovery rate (default by action), times the payer's
allowed/charge ratio when nothing has been adjudicated or adjusted yet (the balance is the gross charge);
a refund is negative, a write-off zero. ``priority`` ranks the claims staff work (tiers hinted and
manual) by expected recovery, 1 first.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa

from everyclaim.triage import features as feat
from everyclaim.triage import parallel
from everyclaim.triage.gate import Decision, GateSettings, decisions
from everyclaim.triage.rules import RuleSet, rules_select
from everyclaim.triage.sqlfuncs import hash_bucket, register_sqlite

GUARD_ID = "guard.credit_balance"
GUARD_HINT = ("Credit balance: never written off. Verify the overpayment against the 835s and refund it "
              "(Medicare: within 60 days of identification).")  # fmt: skip
SAMPLE_HINT = ("Sampled for review while the rule proves itself: check that its proposed action is right, "
               "then record the verdict (everyclaim outcomes ingest). Proposed: ")  # fmt: skip
MANUAL_HINT = "No triage rule fits: read the claim's story (everyclaim claims show) and work it by hand."
DEFAULT_RECOVERY = {"": 0.9, "write_off": 0.0, "refund": 1.0, "transfer_to_patient": 0.6, "bill_secondary": 0.8,
                    "rebill_corrected": 0.7, "rebill_other_payer": 0.7, "appeal": 0.5, "status_inquiry": 0.8,
                    "review": 0.3}  # fmt: skip

md = feat.triage_metadata

runs = sa.Table(
    "triage_runs",
    md,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("as_of", sa.Date, nullable=False),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("seconds", sa.Float, nullable=False, server_default="0"),
    sa.Column("claims", sa.Integer, nullable=False, server_default="0"),
    sa.Column("packs", sa.String(400), nullable=False, server_default=""),
)

rule_state = sa.Table(
    "triage_rule_state",
    md,
    sa.Column("run_id", sa.Integer, primary_key=True),
    sa.Column("rule_id", sa.String(64), primary_key=True),
    sa.Column("pack", sa.String(64), nullable=False),
    sa.Column("priority", sa.Integer, nullable=False),
    sa.Column("tier", sa.String(16), nullable=False),
    sa.Column("action", sa.String(24), nullable=False),
    sa.Column("root_cause", sa.String(32), nullable=False),
    sa.Column("hint", sa.Text, nullable=False),
    sa.Column("adjustment_code", sa.String(32), nullable=False),
    sa.Column("declared_mode", sa.String(8), nullable=False),
    sa.Column("mode", sa.String(8), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("confidence", sa.Float, nullable=False),
    sa.Column("recovery_rate", sa.Float, nullable=False),
)

results = sa.Table(
    "triage_results",
    md,
    sa.Column("run_id", sa.Integer, primary_key=True),
    sa.Column("atb_row_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("claim_id", sa.BigInteger),  # the ledger's claim (NULL: ATB row not matched)
    sa.Column("pcn", sa.Text, nullable=False),
    sa.Column("payer_id", sa.Text, nullable=False),
    sa.Column("tier", sa.String(16), nullable=False),
    sa.Column("action", sa.String(24), nullable=False),
    sa.Column("root_cause", sa.String(32), nullable=False),
    sa.Column("rule_id", sa.String(64), nullable=False),
    sa.Column("matched_rule_id", sa.String(64), nullable=False),  # before the credit-balance guard
    sa.Column("mode", sa.String(8), nullable=False),
    sa.Column("hint", sa.Text, nullable=False),
    sa.Column("adjustment_code", sa.String(32), nullable=False),
    sa.Column("confidence", sa.Float),
    sa.Column("balance_cents", sa.BigInteger, nullable=False),
    sa.Column("expected_recovery_cents", sa.BigInteger, nullable=False),
    sa.Column("priority", sa.Integer),
    sa.Column("sampled", sa.Boolean, nullable=False, server_default=sa.false()),  # sent to review by sampling
    sa.Index("ix_triage_results_run_id_pcn", "run_id", "pcn"),  # a run's rows stay together: cheap to add and prune
)


@dataclass
class TriageResult:
    run_id: int
    as_of: date
    claims: int = 0
    balance_cents: int = 0
    by_tier: dict[str, dict[str, int]] = field(default_factory=dict)  # tier -> {claims, cents}
    by_action: dict[str, dict[str, int]] = field(default_factory=dict)
    by_root_cause: dict[str, dict[str, int]] = field(default_factory=dict)
    by_rule: dict[str, dict[str, int]] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)  # stage -> seconds

    def as_json(self) -> dict[str, Any]:
        def dollars(d: dict[str, dict[str, int]]) -> dict[str, dict[str, object]]:
            return {k: {"claims": v["claims"], "dollars": f"{v['cents'] / 100:.2f}"} for k, v in sorted(d.items())}

        return {"run_id": self.run_id, "as_of": self.as_of.isoformat(), "claims": self.claims,
                "balance": f"{self.balance_cents / 100:.2f}", "by_tier": dollars(self.by_tier),
                "by_action": dollars(self.by_action), "by_root_cause": dollars(self.by_root_cause),
                "by_rule": dollars(self.by_rule), "timings": {k: round(v, 3) for k, v in self.timings.items()}}  # fmt: skip


# indexes earlier versions kept: nothing reads by them, every run paid for them
OLD_INDEXES = ("ix_triage_results_claim_id", "ix_triage_results_pcn_run_id", "ix_triage_features_claim_id")
KEEP_RUNS = 3  # the latest runs whose per-claim results are kept (every run's counts stay in triage_runs)
DERIVED = ("triage_results", "triage_rule_state", "triage_runs", "triage_features", "triage_claim_facts")


def ensure_tables(conn: sa.Connection) -> None:
    """Create the triage tables; re-create the derived ones (runs, results, features: a new triage
    rebuilds them) when an older version lacks a column. Reviewed outcomes are never dropped."""
    inspector = sa.inspect(conn)
    existing = set(inspector.get_table_names())
    stale = [name for name in DERIVED if name in existing
             and {c.name for c in md.tables[name].c} - {c["name"] for c in inspector.get_columns(name)}]  # fmt: skip
    for name in stale:
        md.tables[name].drop(conn)
    for name in ("triage_results", "triage_features"):
        for index in inspector.get_indexes(name) if name in existing and name not in stale else ():
            if index["name"] in OLD_INDEXES:
                conn.exec_driver_sql(f"DROP INDEX {index['name']}")
    md.create_all(conn, checkfirst=True)


def triage(conn: sa.Connection, as_of: date, rules: RuleSet, settings: GateSettings | None = None,
           workers: int = 1, keep_runs: int = KEEP_RUNS) -> TriageResult:  # fmt: skip
    """Triage every open claim on ``as_of`` (see the module docstring). Never commits.

    ``workers > 1`` computes the features of a SQLite ledger file on that many connections at once
    (:mod:`everyclaim.triage.parallel`; they read committed data only, so call it before any ledger
    write of this transaction); other databases ignore it. The per-claim results of the ``keep_runs``
    latest runs are kept, older ones deleted."""
    ensure_tables(conn)
    register_sqlite(conn)
    with _sqlite_cache(conn):
        settings = settings or GateSettings()
        started = datetime.now(UTC)
        clock = time.perf_counter()
        timings: dict[str, float] = {}

        def lap(stage: str) -> None:
            nonlocal clock
            now = time.perf_counter()
            timings[stage] = now - clock
            clock = now

        gate = decisions(conn, rules, settings)
        run_id = int(conn.execute(sa.insert(runs).values(as_of=as_of, started_at=started, claims=0,
                                                         packs=",".join(rules.packs))).inserted_primary_key[0])  # fmt: skip
        states = _store_rule_state(conn, run_id, rules, gate)
        lap("gate")

        def results_of(features: Any, stage: Any) -> sa.Select[Any]:
            # the first matching rule per claim, evaluated once into a table (SQLite would flatten a subquery
            # and evaluate the whole rule CASE again wherever the result refers to it)
            matched = stage("matched", rules_select(rules, features).cte("matched"))
            return _results_select(run_id, matched, settings, features, states)

        then = parallel.Then(results, results_of, digest=lambda rows: _digest(rows, run_id))
        n = parallel.build_features(conn, as_of, workers, then=then)
        lap("features+rules")  # features, then each share's rule matches and results
        _rank(conn, run_id)
        lap("priority")
        result = summarise_rows(run_id, as_of, then.digests)
        lap("summary")
        prune(conn, keep_runs)
        lap("prune")
        result.timings = timings
        conn.execute(sa.update(runs).where(runs.c.id == run_id).values(seconds=sum(timings.values()), claims=n))
        return result


@contextmanager
def _sqlite_cache(conn: sa.Connection) -> Iterator[None]:
    """The triage's larger SQLite page cache (:data:`features.SQLITE_PRAGMAS`), the connection's own after."""
    if conn.dialect.name != "sqlite":
        yield
        return
    before = [conn.exec_driver_sql(f"PRAGMA {db}.cache_size").scalar() for db in ("main", "temp")]
    for pragma in feat.SQLITE_PRAGMAS:
        conn.exec_driver_sql(pragma)
    try:
        yield
    finally:
        for db, size in zip(("main", "temp"), before, strict=True):
            conn.exec_driver_sql(f"PRAGMA {db}.cache_size={int(size)}")


def _store_rule_state(conn: sa.Connection, run_id: int, rules: RuleSet, gate: dict[str, Decision]
                      ) -> list[dict[str, Any]]:  # fmt: skip
    """Store each rule's state for the run; return the rows (the results SELECT inlines them)."""
    rows = []
    for r in rules.rules:
        d = gate[r.rule.id]
        rate = r.rule.recovery_rate if r.rule.recovery_rate is not None else DEFAULT_RECOVERY[r.rule.action]
        rows.append({"run_id": run_id, "rule_id": r.rule.id, "pack": r.pack, "priority": r.rule.priority,
                     "tier": r.rule.tier, "action": r.rule.action, "root_cause": r.rule.root_cause,
                     "hint": r.rule.hint, "adjustment_code": r.rule.adjustment_code or "", "declared_mode": r.mode,
                     "mode": d.mode, "reason": d.reason, "confidence": d.confidence, "recovery_rate": rate})  # fmt: skip
    if rows:
        conn.execute(sa.insert(rule_state), rows)
    return rows


def _results_select(run_id: int, matched: Any, settings: GateSettings, f: Any, states: list[dict[str, Any]]
                    ) -> sa.Select[Any]:  # fmt: skip
    """The result rows of the claims in ``f`` (``triage_features`` or a share of it); ``matched`` has
    (atb_row_id, rule_id): ``rules_select(rules, f)`` or a table of it; ``states`` are the run's
    ``rule_state`` rows, inlined (a share computed on another connection cannot read them)."""
    cols = [c for c in rule_state.c if c.name != "run_id"]
    rows = [tuple(s[c.name] for c in cols) for s in states] or [tuple(None for _ in cols)]
    r = sa.union_all(*(sa.select(*(sa.literal(v, c.type).label(c.name) for v, c in zip(row, cols, strict=True)))
                       for row in rows)).subquery("r")  # fmt: skip
    rule_id = sa.func.coalesce(matched.c.rule_id, "")
    credit_guard = (f.c.balance_cents < 0) & sa.func.coalesce(r.c.action, "review").not_in(("refund", "review"))
    credit_guard = credit_guard | ((f.c.balance_cents < 0) & matched.c.rule_id.is_(None))
    sampling = r.c.mode == "sample"
    sampled = sampling & (hash_bucket(f.c.pcn, 100) < settings.sample_buckets) & ~credit_guard
    auto = (r.c.mode == "auto") | (sampling & (r.c.declared_mode == "auto"))
    tier = sa.case(
        (credit_guard, "hinted"),
        (matched.c.rule_id.is_(None), "manual"),
        (r.c.tier == "manual", "manual"),
        (sampled, "hinted"),
        (auto, r.c.tier),
        else_="hinted",
    )
    proposed = sa.case((r.c.action == "", "no action"), else_=r.c.action)
    action = sa.case((credit_guard, "refund"), (matched.c.rule_id.is_(None), "review"), (sampled, "review"),
                     else_=r.c.action)  # fmt: skip
    root = sa.case((credit_guard, "overpayment"), (matched.c.rule_id.is_(None), "other"), else_=r.c.root_cause)
    hint = sa.case((credit_guard, GUARD_HINT), (matched.c.rule_id.is_(None), MANUAL_HINT),
                   (sampled, sa.literal(SAMPLE_HINT) + proposed + ". " + r.c.hint), else_=r.c.hint)  # fmt: skip
    mode = sa.case((credit_guard, "hint"), (matched.c.rule_id.is_(None), ""), (sampled, "sample"),
                   (auto & (r.c.tier != "manual"), "auto"), else_="hint")  # fmt: skip
    unadjudicated = (f.c.atb_insurance_paid_cents == 0) & (f.c.atb_adjustments_cents == 0)
    gross_ratio = sa.case((unadjudicated, sa.func.coalesce(f.c.payer_allowed_ratio, 1.0)), else_=1.0)
    rate = sa.case((credit_guard, 1.0), (matched.c.rule_id.is_(None), DEFAULT_RECOVERY["review"]),
                   else_=r.c.recovery_rate)  # fmt: skip
    expected = sa.case(
        (f.c.balance_cents < 0, f.c.balance_cents),
        (action == "write_off", 0),
        else_=sa.cast(sa.func.round(f.c.balance_cents * rate * gross_ratio), sa.BigInteger),
    )
    row = {
        "run_id": sa.literal(run_id), "atb_row_id": f.c.atb_row_id, "claim_id": f.c.claim_id, "pcn": f.c.pcn,
        "payer_id": f.c.payer_id, "tier": tier, "action": action, "root_cause": root,
        "rule_id": sa.case((credit_guard, GUARD_ID), else_=rule_id), "matched_rule_id": rule_id, "mode": mode,
        "hint": hint,
        "adjustment_code": sa.case((credit_guard | sampled, ""), else_=sa.func.coalesce(r.c.adjustment_code, "")),
        "confidence": sa.case((credit_guard, None), else_=r.c.confidence), "balance_cents": f.c.balance_cents,
        "expected_recovery_cents": expected, "priority": sa.null(),
        "sampled": sa.case((sampled, sa.true()), else_=sa.false()),
    }  # fmt: skip
    return (
        sa.select(*(row[c.name].label(c.name) for c in results.c))
        .select_from(f.join(matched, matched.c.atb_row_id == f.c.atb_row_id).outerjoin(r, r.c.rule_id == matched.c.rule_id))
    )  # fmt: skip


def _rank(conn: sa.Connection, run_id: int) -> None:
    """``priority``: 1.. over the claims staff work (hinted, manual), by expected recovery, then balance.
    A separate UPDATE: a window over the result SELECT would make SQLite evaluate its CASEs again."""
    r = results.c
    ranked = (
        sa.select(r.atb_row_id, sa.func.row_number().over(
            order_by=(r.expected_recovery_cents.desc(), r.balance_cents.desc(), r.pcn)).label("rk"))
        .where(r.run_id == run_id, r.tier.in_(("hinted", "manual")))
        .subquery("ranked")
    )  # fmt: skip
    conn.execute(sa.update(results).where(r.run_id == run_id, r.atb_row_id == ranked.c.atb_row_id)
                 .values(priority=ranked.c.rk))  # fmt: skip


def prune(conn: sa.Connection, keep_runs: int) -> int:
    """Delete the per-claim results of all but the ``keep_runs`` latest runs; return the rows deleted."""
    keep = sa.select(runs.c.id).order_by(runs.c.id.desc()).limit(1).offset(max(1, keep_runs) - 1).scalar_subquery()
    return conn.execute(sa.delete(results).where(results.c.run_id < keep)).rowcount or 0


def triaged(conn: sa.Connection) -> bool:
    """Whether the triage tables exist (one catalog look-up; read paths use it instead of ensure_tables)."""
    return conn.dialect.has_table(conn, results.name)


def latest_run(conn: sa.Connection, as_of: date | None = None) -> int | None:
    if not triaged(conn):
        return None
    stmt = sa.select(runs.c.id).order_by(runs.c.id.desc()).limit(1)
    if as_of is not None:
        stmt = stmt.where(runs.c.as_of == as_of)
    return conn.execute(stmt).scalar()


def _digest(rows: Any, run_id: int) -> sa.Select[Any]:
    """Claims and cents per (tier, action, root cause, rule) among ``rows`` of ``run_id``."""
    r = rows.c
    return (sa.select(r.tier, r.action, r.root_cause, r.rule_id, sa.func.count(), sa.func.sum(r.balance_cents))
            .where(r.run_id == run_id).group_by(r.tier, r.action, r.root_cause, r.rule_id))  # fmt: skip


def summarise(conn: sa.Connection, run_id: int, as_of: date) -> TriageResult:
    """A run's totals, read from its result rows."""
    return summarise_rows(run_id, as_of, [tuple(r) for r in conn.execute(_digest(results, run_id))])


def summarise_rows(run_id: int, as_of: date, digests: list[tuple[Any, ...]]) -> TriageResult:
    """A run's totals from (tier, action, root cause, rule, claims, cents) rows, added up."""
    res = TriageResult(run_id=run_id, as_of=as_of)
    groups: dict[str, dict[str, dict[str, int]]] = {k: defaultdict(lambda: {"claims": 0, "cents": 0})
                                                   for k in ("tier", "action", "root_cause", "rule")}  # fmt: skip
    for tier, action, root, rule, n, cents in digests:
        for key, val in (("tier", tier), ("action", action or "none"), ("root_cause", root or "none"),
                         ("rule", rule or "(no rule)")):  # fmt: skip
            groups[key][val]["claims"] += int(n)
            groups[key][val]["cents"] += int(cents or 0)
        res.claims += int(n)
        res.balance_cents += int(cents or 0)
    res.by_tier, res.by_action = dict(groups["tier"]), dict(groups["action"])
    res.by_root_cause, res.by_rule = dict(groups["root_cause"]), dict(groups["rule"])
    return res


WORKLIST_COLUMNS = ("claim_id", "tier", "action", "root_cause", "rule_id", "hint", "confidence", "balance",
                    "expected_recovery", "priority")  # fmt: skip


def worklist(conn: sa.Connection, run_id: int) -> list[dict[str, object]]:
    """The worklist rows of a run (``claim_id`` is the PCN), staff work first by priority."""
    r = results.c
    stmt = (sa.select(results).where(r.run_id == run_id)
            .order_by(r.priority.is_(None), r.priority, r.pcn))  # fmt: skip
    out = []
    for row in conn.execute(stmt):
        out.append({
            "claim_id": row.pcn, "tier": row.tier, "action": row.action, "root_cause": row.root_cause,
            "rule_id": row.rule_id, "hint": row.hint,
            "confidence": "" if row.confidence is None else f"{row.confidence:.3f}",
            "balance": f"{row.balance_cents / 100:.2f}", "expected_recovery": f"{row.expected_recovery_cents / 100:.2f}",
            "priority": "" if row.priority is None else row.priority,
        })  # fmt: skip
    return out


def explain_claim(conn: sa.Connection, pcn: str) -> dict[str, Any] | None:
    """The latest triage of one claim and the evidence behind it (its feature row), or ``None``."""
    from everyclaim.triage.features import triage_features

    if not triaged(conn):
        return None
    r = results.c
    kept = conn.execute(sa.select(runs.c.id).where(runs.c.id >= sa.select(sa.func.min(r.run_id)).scalar_subquery())
                        .order_by(runs.c.id.desc())).scalars().all()  # fmt: skip
    row = None
    for run_id in kept:  # the latest run that triaged the claim (one index look-up per kept run)
        row = conn.execute(sa.select(results).where(r.run_id == run_id, r.pcn == pcn)).mappings().first()
        if row is not None:
            break
    if row is None:
        return None
    out: dict[str, Any] = {k: row[k] for k in ("tier", "action", "root_cause", "rule_id", "mode", "hint",
                                                "adjustment_code", "confidence", "priority", "sampled")}
    out["balance"] = f"{row['balance_cents'] / 100:.2f}"
    out["expected_recovery"] = f"{row['expected_recovery_cents'] / 100:.2f}"
    run = conn.execute(sa.select(runs.c.as_of).where(runs.c.id == row["run_id"])).scalar()
    out["as_of"] = run
    feature_row = conn.execute(sa.select(triage_features).where(triage_features.c.atb_row_id == row["atb_row_id"])
                               ).mappings().first()
    if feature_row is not None:
        out["evidence"] = {k: v for k, v in feature_row.items() if v not in (None, "", 0, False)}
    return out
