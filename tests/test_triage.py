"""Triage: features -> rules -> gate -> worklist, on a synthetic world scored against its truth.csv."""

from __future__ import annotations

import csv
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
import sqlglot
import yaml
from pydantic import ValidationError

from everyclaim.cli.triage import rules_report
from everyclaim.ingest.pipeline import Options, ingest
from everyclaim.triage import engine as eng
from everyclaim.triage.features import FEATURES
from everyclaim.triage.gate import (
    GateSettings,
    RuleStats,
    decide,
    read_outcomes,
    store_outcomes,
    wilson_lower_bound,
)
from everyclaim.triage.rules import Rule, load_rules, portable_sql, read_pack, transpile
from everyclaim.triage.sqlfuncs import hash_bucket, py_hash_bucket, register_sqlite

AS_OF = date(2026, 3, 31)
CLAIMS = 600
# Measured on seeds 1-3 at 2k and 10k claims (bench/triage_accuracy.py): 100% tier and action accuracy.
# The floor leaves room for synth changes without letting a broken rule through.
MIN_ACCURACY = 0.97

RULE = {
    "id": "my_rule", "description": "A rule used by the tests.", "evidence": [{"feature": "is_credit", "op": "is",
    "value": False}], "tier": "simple_fix", "action": "status_inquiry", "root_cause": "no_response",
    "hint": "Call the payer about it.",
}  # fmt: skip


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from everyclaim.synth.world import generate

    out = tmp_path_factory.mktemp("world")
    generate(out, CLAIMS, seed=7, as_of=AS_OF)
    return out


def _truth(world: Path) -> dict[str, dict[str, str]]:
    with (world / "truth.csv").open() as f:
        return {r["claim_id"]: r for r in csv.DictReader(f)}


def test_triage_world(engine: sa.Engine, world: Path, tmp_path: Path) -> None:
    """One ingest (the slow part), then the worklist, the credit-balance guard and the gate on it."""
    ingest(engine, [world], Options(as_of=AS_OF))
    _check_worklist(engine, world)
    _check_credit_guard(engine, tmp_path)
    _check_gate(engine, tmp_path)
    _check_sampling(engine, tmp_path)


def _check_worklist(engine: sa.Engine, world: Path) -> None:
    rules, errors = load_rules()
    assert not errors
    with engine.begin() as conn:
        result = eng.triage(conn, AS_OF, rules)
        rows = eng.worklist(conn, result.run_id)
    truth = _truth(world)
    open_ids = {k for k, v in truth.items() if v["open"] == "true"}

    # exactly one row per open claim, none for closed ones
    ids = [r["claim_id"] for r in rows]
    assert len(ids) == len(set(ids))
    assert set(ids) == open_ids
    assert result.claims == len(open_ids)
    assert list(rows[0]) == list(eng.WORKLIST_COLUMNS)

    # accuracy against the world's truth
    tier_ok = sum(r["tier"] == truth[r["claim_id"]]["tier"] for r in rows)
    action_ok = sum((r["action"], r["root_cause"]) == (truth[r["claim_id"]]["action"], truth[r["claim_id"]]["root_cause"])
                    for r in rows)  # fmt: skip
    assert tier_ok / len(rows) >= MIN_ACCURACY
    assert action_ok / len(rows) >= MIN_ACCURACY
    automated = [r for r in rows if r["tier"] in ("no_opportunity", "simple_fix")]
    auto_ok = sum(r["action"] == truth[r["claim_id"]]["action"] for r in automated)
    assert auto_ok / len(automated) >= 0.99

    # a credit balance is never written off; write-offs carry a specific code
    for r in rows:
        if float(r["balance"]) < 0:
            assert r["action"] in ("refund", "review")
    with engine.connect() as conn:
        codes = conn.execute(sa.select(eng.results.c.adjustment_code).where(eng.results.c.action == "write_off")).scalars()
        assert all(c and c.startswith(("WO-", "CO45")) for c in codes)

    # the features split over two connections (SQLite on a file; ignored elsewhere) give the same
    # worklist, twice in a row (the second run detaches the first one's scratch databases)
    for _ in range(2):
        with engine.begin() as conn:
            split = eng.triage(conn, AS_OF, rules, workers=2)
            assert split.claims == result.claims
            assert _by_pcn(eng.worklist(conn, split.run_id)) == _by_pcn(rows)
            # the totals added up from each share's digest equal those grouped from the stored rows
            for run in (result, split):
                stored = eng.summarise(conn, run.run_id, AS_OF)
                assert (stored.claims, stored.balance_cents, stored.by_tier, stored.by_action, stored.by_root_cause,
                        stored.by_rule) == (run.claims, run.balance_cents, run.by_tier, run.by_action,
                                            run.by_root_cause, run.by_rule)  # fmt: skip

    # staff work is ranked by expected recovery
    ranked = sorted((r for r in rows if r["priority"] != ""), key=lambda r: r["priority"])
    assert [r["priority"] for r in ranked] == list(range(1, len(ranked) + 1))
    recov = [float(r["expected_recovery"]) for r in ranked]
    assert recov == sorted(recov, reverse=True)


def _by_pcn(rows: list[dict[str, object]]) -> list[dict[str, object]]:
    return sorted(rows, key=lambda r: str(r["claim_id"]))


def _check_credit_guard(engine: sa.Engine, tmp_path: Path) -> None:
    """A user's rule that would write off every credit balance is overruled by the guard."""
    pack = {"pack": "bad", "description": "Writes off credit balances (it must not).", "rules": [
        {**RULE, "id": "write_off_credits", "priority": 1, "mode": "auto", "tier": "no_opportunity",
         "action": "write_off", "root_cause": "other", "adjustment_code": "WO-CREDIT-TEST",
         "evidence": [{"feature": "is_credit", "op": "is", "value": True}]}]}  # fmt: skip
    (tmp_path / "bad.yaml").write_text(yaml.safe_dump(pack))
    rules, errors = load_rules([tmp_path])
    assert not errors
    with engine.begin() as conn:
        run = eng.triage(conn, AS_OF, rules).run_id
        r = eng.results.c
        rows = conn.execute(sa.select(r.action, r.rule_id, r.matched_rule_id).where(r.run_id == run,
                                                                                 r.balance_cents < 0)).all()  # fmt: skip
    assert rows
    assert {x.action for x in rows} == {"refund"}
    assert {x.rule_id for x in rows} == {eng.GUARD_ID}
    assert {x.matched_rule_id for x in rows} == {"write_off_credits"}


def _check_gate(engine: sa.Engine, tmp_path: Path) -> None:
    """25 of 30 reviewed outcomes correct: the rule stops acting automatically and its claims are hinted."""
    rules, _ = load_rules()
    lines = ["claim_id,rule_id,correct"] + [f"X{i},pending_recent,{'yes' if i < 25 else 'no'}" for i in range(30)]
    (tmp_path / "outcomes.csv").write_text("\n".join(lines) + "\n")
    parsed, errors = read_outcomes(tmp_path / "outcomes.csv")
    assert not errors and len(parsed) == 30
    with engine.begin() as conn:
        store_outcomes(conn, parsed, "outcomes.csv")
        run = eng.triage(conn, AS_OF, rules).run_id
        r = eng.results.c
        tiers = Counter(conn.execute(sa.select(r.tier).where(r.run_id == run, r.rule_id == "pending_recent")).scalars())
        report = {x["rule_id"]: x for x in rules_report(conn, rules)}
    assert set(tiers) == {"hinted"}
    assert report["pending_recent"]["mode"] == "hint"
    assert report["pending_recent"]["reviewed"] == 30
    assert "25/30" in report["pending_recent"]["reason"]
    assert report["no_response"]["mode"] == "auto"


def _check_sampling(engine: sa.Engine, tmp_path: Path) -> None:
    """A user's new rule samples 10% of its claims (the same hash buckets in SQL and Python) to review
    and hints the rest; a built-in with a few outcomes samples too but keeps automating the rest."""
    pack = {"pack": "mine", "description": "A user's pack for the tests.",
            "rules": [RULE | {"id": "sample_all", "priority": 1, "mode": "auto"}]}  # fmt: skip
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "p.yaml").write_text(yaml.safe_dump(pack, sort_keys=False))
    rules, errors = load_rules([tmp_path / "mine"])
    assert not errors and rules.by_id()["sample_all"].mode == "sample"
    with engine.begin() as conn:
        run = eng.triage(conn, AS_OF, rules).run_id
        r = eng.results.c
        rows = conn.execute(sa.select(r.pcn, r.tier, r.action, r.mode, r.sampled, r.hint, r.balance_cents)
                            .where(r.run_id == run, r.rule_id == "sample_all")).all()  # fmt: skip
        report = {x["rule_id"]: x for x in rules_report(conn, rules)}
        credit = conn.execute(sa.select(r.action).where(r.run_id == run, r.balance_cents < 0)).scalars().all()
    sampled = {x.pcn for x in rows if x.sampled}
    assert sampled == {x.pcn for x in rows if py_hash_bucket(x.pcn, 100) < 10}
    assert 0 < len(sampled) < len(rows) / 4
    for x in rows:
        if x.sampled:
            assert (x.tier, x.action, x.mode) == ("hinted", "review", "sample") and x.hint.startswith("Sampled")
            assert "status_inquiry" in x.hint
        else:
            assert (x.tier, x.action, x.mode) == ("hinted", "status_inquiry", "hint")  # not proven: hints
    assert report["sample_all"]["sampled"] == len(sampled) and report["sample_all"]["mode"] == "sample"
    assert credit and set(credit) <= {"refund", "review"}  # a credit balance is never written off

    # a built-in rule declared auto with 5 outcomes: sampled, and the rest stays automatic
    builtin, _ = load_rules()
    lines = ["claim_id,rule_id,correct"] + [f"Y{i},no_response,yes" for i in range(5)]
    (tmp_path / "few.csv").write_text("\n".join(lines) + "\n")
    with engine.begin() as conn:
        store_outcomes(conn, read_outcomes(tmp_path / "few.csv")[0], "few.csv")
        run = eng.triage(conn, AS_OF, builtin).run_id
        got = conn.execute(sa.select(r.pcn, r.tier, r.mode, r.sampled).where(r.run_id == run,
                                                                              r.rule_id == "no_response")).all()
    assert got
    for x in got:
        expect = ("hinted", "sample", True) if py_hash_bucket(x.pcn, 100) < 10 else ("simple_fix", "auto", False)
        assert (x.tier, x.mode, x.sampled) == expect


@pytest.mark.parametrize("text", ["C00000001", "PCN-42", "", "Zürich 7"])
def test_hash_bucket_is_the_same_in_sql_and_python(engine: sa.Engine, text: str) -> None:
    import duckdb
    from sqlalchemy.dialects import postgresql

    with engine.connect() as conn:
        register_sqlite(conn)
        got = conn.execute(sa.select(hash_bucket(sa.literal(text), 100))).scalar_one()
    assert got == py_hash_bucket(text, 100)
    pg_sql = str(sa.select(hash_bucket(sa.literal(text), 100)).compile(dialect=postgresql.dialect(),
                                                                        compile_kwargs={"literal_binds": True}))
    assert "md5" in pg_sql
    duck = duckdb.connect().execute("SELECT (CAST('0x' || substr(md5(?), 1, 8) AS BIGINT) % 100)", [text]).fetchone()
    assert duck is not None and duck[0] == got


# -- the gate --------------------------------------------------------------------------------------
def test_wilson_lower_bound() -> None:
    assert wilson_lower_bound(0, 0) == 0.0
    assert wilson_lower_bound(25, 30) == pytest.approx(0.6644, abs=1e-3)
    assert wilson_lower_bound(30, 30) == pytest.approx(0.8865, abs=1e-3)
    assert wilson_lower_bound(73, 73) >= 0.95 > wilson_lower_bound(72, 72)


def test_gate_decisions() -> None:
    s = GateSettings()
    assert decide("r", "no_opportunity", "auto", 0.9, RuleStats(0, 0), s).mode == "auto"  # no outcome: declared
    assert decide("r", "no_opportunity", "sample", 0.9, RuleStats(0, 0), s).mode == "sample"
    few = decide("r", "no_opportunity", "auto", 0.9, RuleStats(25, 25), s)  # too few reviews to judge
    assert few.mode == "sample" and "25/30" in few.reason and "stays automatic" in few.reason
    assert decide("r", "no_opportunity", "auto", 0.9, RuleStats(1, 0), s).mode == "sample"
    drop = decide("r", "no_opportunity", "auto", 0.9, RuleStats(30, 25), s)
    assert drop.mode == "hint" and "25/30" in drop.reason and "more correct reviews" in drop.reason
    assert decide("r", "simple_fix", "sample", 0.9, RuleStats(10, 10), s).mode == "sample"
    assert decide("r", "simple_fix", "sample", 0.9, RuleStats(80, 80), s).mode == "auto"  # proven
    assert decide("r", "hinted", "hint", 0.9, RuleStats(200, 200), s).mode == "hint"  # tier never automatic


def test_bad_outcome_lines_are_located(tmp_path: Path) -> None:
    f = tmp_path / "o.csv"
    f.write_text("claim_id,rule_id,correct\nC1,r1,maybe\nC2,,yes\nC3,r1,NO\n")
    rows, errors = read_outcomes(f)
    assert [e.line for e in errors] == [2, 3]
    assert rows == [{"claim_id": "C3", "rule_id": "r1", "correct": False, "line": 4}]


# -- packs -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("missing", ["description", "hint"])
def test_rule_without_description_or_hint_fails(missing: str) -> None:
    with pytest.raises(ValidationError):
        Rule.model_validate({k: v for k, v in RULE.items() if k != missing})
    with pytest.raises(ValidationError):
        Rule.model_validate(RULE | {missing: "   "})


@pytest.mark.parametrize(
    "change",
    [
        {"evidence": [{"feature": "no_such_feature", "op": "=", "value": 1}]},
        {"evidence": [{"feature": "last_carcs", "op": "=", "value": "16"}]},  # a set needs has_any ...
        {"action": "write_off"},  # without adjustment_code
        {"action": "write_off", "adjustment_code": "MASS-WRITE-OFF"},  # generic
        {"tier": "hinted", "mode": "auto"},
        {"extra_field": 1},
    ],
)
def test_invalid_rules_fail(change: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        Rule.model_validate(RULE | change)


def test_builtin_pack_is_documented() -> None:
    rules, errors = load_rules()
    assert not errors
    assert len(rules.rules) >= 30
    for r in rules.rules:
        assert r.rule.description and r.rule.hint
        assert r.builtin
    assert all(f.doc.strip() for f in FEATURES)


def test_user_pack_overrides_and_new_rules_sample(tmp_path: Path) -> None:
    pack = {"pack": "mine", "description": "A user's pack for the tests.", "rules": [
        RULE | {"mode": "auto"},
        {**RULE, "id": "no_response", "hint": "Our SOP: call, do not send a 276.", "mode": "auto",
         "evidence": [{"feature": "is_credit", "op": "is", "value": True}]},
    ]}  # fmt: skip
    (tmp_path / "mine.yaml").write_text(yaml.safe_dump(pack, sort_keys=False))
    rules, errors = load_rules([tmp_path])
    assert not errors
    by = rules.by_id()
    assert by["my_rule"].mode == "sample"  # a new rule starts in sampling mode
    assert by["no_response"].rule.hint.startswith("Our SOP")
    assert by["no_response"].mode == "sample"  # the evidence changed: proven again


def test_pack_errors_are_located(tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text("pack: broken\ndescription: A broken pack here.\nrules:\n  - id: x1x\n")
    _, errors = read_pack(tmp_path / "broken.yaml")
    assert errors and all(e.path.endswith("broken.yaml") for e in errors)
    assert any("description" in e.location for e in errors)


@pytest.mark.parametrize("dialect", ["duckdb", "spark"])
def test_rules_sql_transpiles(dialect: str) -> None:
    rules, _ = load_rules()
    sql = transpile(rules, dialect)
    assert "CASE" in sql and "timely_filing_no_proof" in sql
    sqlglot.parse_one(sql, read=dialect)  # the output parses in the target dialect


def test_rules_sql_runs_on_duckdb() -> None:
    duckdb = pytest.importorskip("duckdb")
    from everyclaim.triage.features import triage_features

    con = duckdb.connect()
    types = {"BIGINT": "BIGINT", "INTEGER": "INTEGER", "BOOLEAN": "BOOLEAN", "DATE": "DATE", "FLOAT": "DOUBLE"}
    cols = ", ".join(f"{c.name} {types.get(str(c.type).split('(')[0], 'VARCHAR')}" for c in triage_features.c)
    con.execute(f"CREATE TABLE triage_features ({cols})")
    con.execute("INSERT INTO triage_features (atb_row_id, pcn, payer_id, as_of, balance_cents, is_credit, "
                "denial_category, last_carcs, last_rarcs, last_categories, last_group_carcs) "
                "VALUES (1, 'C1', 'P', DATE '2026-03-31', 100, false, 'timely_filing', ',29,', '', '', '')")
    rules, _ = load_rules()
    assert con.execute(transpile(rules, "duckdb")).fetchall() == [(1, "timely_filing_no_proof")]
    assert "CASE" in portable_sql(rules, "sqlite")


def _sent(path: Path) -> str:
    """The date an X12 file was sent (GS04)."""
    return path.read_text().split("GS*", 1)[1].split("*")[3]


def test_stored_facts_refreshed_equal_a_cold_run(engine: sa.Engine, world: Path) -> None:
    """The claims' facts kept between runs and refreshed for the claims later files touched give the very
    features of a run that recomputes every claim's facts: the world's files arrive in four batches by
    date (837s, 277CAs, 835s, reversals, secondary claims in their order), a triage after each."""
    from everyclaim.triage.features import claim_facts, facts_plan, facts_state, triage_features

    x12 = sorted(world.glob("*.x12"), key=lambda p: (_sent(p), p.name))
    cuts = ["20260201", "20260301", "20260316", "99999999"]  # the claims open on AS_OF are mostly this recent
    batches = [[p for p in x12 if lo <= _sent(p) < hi] for lo, hi in zip(["", *cuts], cuts, strict=False)]
    batches[0] += [world / "payers.csv", world / "atb.csv"]
    rules, _ = load_rules()

    def features(conn: sa.Connection) -> list[tuple[object, ...]]:
        return [tuple(r) for r in conn.execute(sa.select(triage_features).order_by(triage_features.c.atb_row_id))]

    def facts(conn: sa.Connection) -> dict[object, tuple[object, ...]]:
        return {r[0]: tuple(r) for r in conn.execute(sa.select(claim_facts))}

    for i, batch in enumerate(batches):
        ingest(engine, batch, Options(as_of=AS_OF))
        with engine.begin() as conn:
            assert facts_plan(conn).cold == (i == 0)  # after the first run, only touched claims are recomputed
            eng.triage(conn, AS_OF, rules, workers=2 if i % 2 else 1)  # both ways of storing them (SQLite)
    with engine.begin() as conn:
        refreshed_features, refreshed = features(conn), facts(conn)
        conn.execute(sa.delete(facts_state))  # forget the stored facts: every claim's are recomputed
        assert facts_plan(conn).cold
        eng.triage(conn, AS_OF, rules, workers=2)
        cold, recomputed = features(conn), facts(conn)
        assert not facts_plan(conn).cold
    assert len(cold) > 100
    assert refreshed_features == cold
    # the refreshed facts of every claim still open equal the recomputed ones (the cold run keeps no others)
    assert {k: v for k, v in refreshed.items() if k in recomputed} == recomputed


def test_stored_facts_follow_other_claims_and_resubmissions(engine: sa.Engine) -> None:
    """Facts that another claim decides (a paid twin, the claim billed to the secondary payer) and a
    replacement's new lines are refreshed, though no later file touches the claim's own 835s or 277CAs;
    after each file the refreshed features equal a run that recomputes every claim's facts."""
    from dataclasses import replace

    from everyclaim.ledger.post import FileMeta, post_file
    from everyclaim.ledger.records import AtbRow, Party
    from everyclaim.triage.features import facts_plan, facts_state, triage_features
    from tests.conftest import D, claim, payment, remittance, src

    def post(sha: str, records: list[object], kind: str) -> None:
        with engine.begin() as conn:
            post_file(conn, FileMeta(sha, f"{sha[:4]}.x12", kind, 100), records, [])

    rules, _ = load_rules()

    def features(cold: bool = False) -> dict[str, object]:
        with engine.begin() as conn:
            if cold:
                conn.execute(sa.delete(facts_state))
            assert facts_plan(conn).cold == cold
            eng.triage(conn, AS_OF, rules)
            f = triage_features.c
            rows = conn.execute(sa.select(triage_features).order_by(f.atb_row_id)).mappings().all()
        return {"rows": [dict(r) for r in rows], **dict(rows[0])}

    post("a" * 64, [claim("A1", "100.00"), claim("T1", "100.00")], "837P")  # same subscriber, day, charge
    atb = AtbRow(src("9" * 64, 2), date(2026, 3, 1), "A1", "ACCT1", "ACME1", "primary", None, None,
                 D("100.00"), D("0"), D("0"), D("0"), D("100.00"))  # fmt: skip
    post("9" * 64, [atb], "atb")
    with engine.begin() as conn:
        eng.triage(conn, AS_OF, rules)  # the facts are stored
    first = features()
    assert (first["pcn"], first["paid_twin"], first["secondary_billed"], first["has_distinct_modifier"]) == (
        "A1", False, False, False)

    post("b" * 64, [remittance("90.00"), payment("T1", "100.00", "90.00")], "835")  # the twin is paid
    warm = features()
    assert warm["paid_twin"] is True and warm["payment_count"] == 0
    assert warm["rows"] == features(cold=True)["rows"]

    other = Party("PR", "OTHER HEALTH", id="OTHR1")
    member = Party("IL", "DOE", "JANE", "MI", "S999")  # the secondary payer's member id: not a twin
    post("c" * 64, [replace(claim("A1", "100.00", payer=other, sha="c" * 64), responsibility="S", subscriber=member)],
         "837P")  # fmt: skip
    warm = features()
    assert warm["secondary_billed"] is True
    assert warm["rows"] == features(cold=True)["rows"]

    fixed = claim("A1", "100.00", frequency="7", sha="d" * 64, submitted=date(2026, 2, 1))
    fixed = replace(fixed, lines=tuple(replace(ln, modifiers=("59",)) for ln in fixed.lines))
    post("d" * 64, [fixed], "837P")
    warm = features()
    assert warm["has_distinct_modifier"] is True and warm["submission_count"] == 2
    assert warm["rows"] == features(cold=True)["rows"]


def test_old_runs_results_are_pruned_and_a_claim_keeps_its_latest_triage(engine: sa.Engine) -> None:
    """Only the latest ``keep_runs`` runs keep per-claim results (every run's totals stay); a claim closed
    since still shows the latest triage that saw it open."""
    from everyclaim.ledger.post import FileMeta, post_file
    from everyclaim.ledger.records import AtbRow
    from tests.conftest import D, claim, src

    def post(sha: str, records: list[object], kind: str) -> None:
        with engine.begin() as conn:
            post_file(conn, FileMeta(sha, f"{sha[:4]}.x12", kind, 100), records, [])

    def atb(sha: str, day: date, balances: dict[str, str]) -> None:
        rows = [AtbRow(src(sha, i + 2), day, pcn, f"ACCT{i}", "ACME1", "primary", None, None, D("100.00"), D("0"),
                       D("0"), D("100.00") - D(b), D(b)) for i, (pcn, b) in enumerate(balances.items())]  # fmt: skip
        post(sha, rows, "atb")  # type: ignore[arg-type]

    post("a" * 64, [claim("A1", "100.00"), claim("B1", "100.00", sha="a" * 64, seg=30)], "837P")
    atb("8" * 64, date(2026, 3, 1), {"A1": "100.00", "B1": "100.00"})
    rules, _ = load_rules()
    with engine.begin() as conn:
        first = eng.triage(conn, AS_OF, rules, keep_runs=2).run_id
        before = conn.execute(sa.select(sa.func.count()).select_from(eng.runs)).scalar_one()  # PG keeps other tests' runs
    atb("9" * 64, date(2026, 3, 15), {"A1": "100.00", "B1": "0.00"})  # B1 closed
    run_ids = []
    for _ in range(3):
        with engine.begin() as conn:
            run_ids.append(eng.triage(conn, AS_OF, rules, keep_runs=2).run_id)
    with engine.connect() as conn:
        kept = set(conn.execute(sa.select(eng.results.c.run_id).distinct()).scalars())
        totals = conn.execute(sa.select(sa.func.count()).select_from(eng.runs)).scalar_one()
        a1, b1 = eng.explain_claim(conn, "A1"), eng.explain_claim(conn, "B1")
    assert kept == set(run_ids[-2:]) and first not in kept
    assert totals == before + 3
    assert a1 is not None and a1["as_of"] == AS_OF
    assert b1 is None  # its last open run (the first) was pruned
    atb("7" * 64, date(2026, 3, 20), {"A1": "100.00", "B1": "50.00"})
    with engine.begin() as conn:  # keep_runs=3: the run before the latest one still answers for a claim
        eng.triage(conn, AS_OF, rules, keep_runs=3)
    atb("6" * 64, date(2026, 3, 25), {"A1": "100.00", "B1": "0.00"})
    with engine.begin() as conn:
        latest = eng.triage(conn, AS_OF, rules, keep_runs=3).run_id
        b1 = eng.explain_claim(conn, "B1")
        seen = conn.execute(sa.select(eng.results.c.run_id).where(eng.results.c.pcn == "B1")).scalars().all()
    assert b1 is not None and b1["balance"] == "50.00"
    assert latest not in seen
