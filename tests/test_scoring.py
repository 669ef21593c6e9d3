"""Recovery scoring: resolved history from the synthetic world, the model, scores, priority, the CLI."""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from everyclaim.cli import app
from everyclaim.ingest.pipeline import Options, ingest
from everyclaim.ledger import schema as t
from everyclaim.scoring import score as sc
from everyclaim.scoring.frames import history_frame
from everyclaim.scoring.model import prior_p, train
from everyclaim.scoring.settings import SettingsError, load_settings
from everyclaim.triage import engine as eng
from everyclaim.triage.rules import load_rules

AS_OF = date(2026, 3, 31)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from everyclaim.synth.world import generate

    out = tmp_path_factory.mktemp("world")
    generate(out, 300, seed=5, as_of=AS_OF, history=700)
    return out


@pytest.fixture(scope="module")
def cli_db(world: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The world ingested once through the CLI (SQLite), for the command tests."""
    db = f"sqlite:///{tmp_path_factory.mktemp('cli') / 'cli.db'}"
    r = CliRunner().invoke(app, ["ingest", str(world), "--as-of", AS_OF.isoformat(), "--db", db])
    assert r.exit_code == 0, r.output
    return db


def _truth(world: Path) -> dict[str, dict[str, str]]:
    with (world / "truth.csv").open() as f:
        return {r["claim_id"]: r for r in csv.DictReader(f)}


def test_scoring_on_a_world_with_history(engine: sa.Engine, world: Path) -> None:
    ingest(engine, [world], Options(as_of=AS_OF))
    settings = load_settings()
    with engine.begin() as conn:
        _check_history(conn, world)
        run = eng.triage(conn, AS_OF, load_rules([])[0]).run_id
        result = sc.score(conn, run, AS_OF, settings)
        _check_scores(conn, run, result)


def _check_history(conn: sa.Connection, world: Path) -> None:
    """Every synthetic resolved denial is a training example, its label is the truth, nothing leaks."""
    truth = _truth(world)
    frame = history_frame(conn, AS_OF, load_settings().horizons)
    pcn = dict(conn.execute(sa.select(t.claims.c.id, t.claims.c.pcn)).all())
    first = frame.num["days_since_denial"] == 0
    seen = {pcn[int(c)]: int(r) for c, r in zip(frame.extra["claim_id"][first], frame.extra["recovered_cents"][first],
                                                 strict=True)}  # fmt: skip
    history = {k for k, v in truth.items() if v["scenario"].startswith("history_")}
    assert history <= set(seen)
    for k in history:
        assert seen[k] == round(float(truth[k]["expected_recovery"]) * 100), k
        assert (seen[k] > 0) == (truth[k]["scenario"] == "history_recovered")
    assert not any(truth[k]["open"] == "true" for k in seen)  # open claims are never examples
    # an example exists only while the claim is unresolved: later horizons hold fewer recovered claims
    late = frame.num["days_since_denial"] >= 90
    assert frame.extra["y"][late].mean() < frame.extra["y"][first].mean()
    model, ev = train(frame, load_settings())
    assert model.kind == "model" and ev is not None
    assert ev.auc is not None and ev.auc > 0.65
    assert ev.brier < ev.brier_constant
    assert ev.top_share["16%"]["net_value"] > ev.top_share["16%"]["balance"] > ev.top_share["16%"]["age"]


def test_lightgbm_engine_learns_the_same_history(engine: sa.Engine, world: Path) -> None:
    """``model.engine: lightgbm`` trains on the same frame and must beat the constant and the balance ranking."""
    pytest.importorskip("lightgbm")
    ingest(engine, [world], Options(as_of=AS_OF))
    settings = load_settings()
    settings.model.engine = "lightgbm"
    with engine.begin() as conn:
        frame = history_frame(conn, AS_OF, settings.horizons)
    model, ev = train(frame, settings)
    assert type(model.clf).__name__ == "LGBMClassifier"
    assert ev is not None and ev.auc is not None and ev.auc > 0.65
    assert ev.brier < ev.brier_constant
    assert ev.top_share["16%"]["net_value"] > ev.top_share["16%"]["age"]
    p = model.predict_p(frame)
    assert ((p >= 0) & (p <= 1)).all() and len(np.unique(p)) > 5


def _check_scores(conn: sa.Connection, run: int, result: sc.ScoreResult) -> None:
    s = sc.claim_scores.c
    rows = conn.execute(sa.select(sc.claim_scores).where(s.run_id == run)).all()
    assert result.model == "model" and len(rows) == result.claims > 0
    for r in rows:
        assert r.net_value_cents == r.expected_recovery_cents - r.expected_cost_cents
        assert 0 <= r.p_recovery <= 1
    assert {r.source for r in rows} == {"model", "triage"}
    res = eng.results.c
    staff = conn.execute(sa.select(res.pcn, res.priority, res.action, res.tier).where(res.run_id == run,
                         res.tier.in_(sc.STAFF_TIERS)).order_by(res.priority)).all()  # fmt: skip
    assert [r.priority for r in staff] == list(range(1, len(staff) + 1))
    by_pcn = {r.pcn: r for r in rows}
    actions = [r.action for r in staff]
    refunds = actions.count("refund")
    assert actions[:refunds] == ["refund"] * refunds  # refunds first
    nets = [by_pcn[r.pcn].net_value_cents * (2 if by_pcn[r.pcn].urgent and by_pcn[r.pcn].net_value_cents > 0 else 1)
            for r in staff[refunds:]]
    assert nets == sorted(nets, reverse=True)
    auto = conn.execute(sa.select(res.priority).where(res.run_id == run, res.tier.not_in(sc.STAFF_TIERS))).all()
    assert all(p is None for (p,) in auto)


def test_priors_when_history_is_thin() -> None:
    from everyclaim.scoring.frames import Frame

    settings = load_settings()
    frame = Frame({"days_since_denial": np.array([0.0, 90.0])},
                  {"denial_category": np.array(["missing_information", "missing_information"], object)},
                  {"order": np.array([0, 1]), "y": np.array([0, 1])})  # fmt: skip
    model, ev = train(frame, settings)
    assert model.kind == "priors" and ev is None
    p = prior_p(frame, settings)
    assert p[0] == pytest.approx(settings.priors["missing_information"].p)
    assert p[1] == pytest.approx(p[0] / 2)  # half-life 90 days


def test_score_on_an_empty_ledger_says_so(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'empty.db'}"
    r = CliRunner().invoke(app, ["score", "--as-of", AS_OF.isoformat(), "--db", db])
    assert r.exit_code == 1 and "Scored 0 open claims" in r.output and "priors" in r.output


def test_settings_override_and_errors(tmp_path: Path) -> None:
    assert load_settings().touch_cost_cents() == pytest.approx(500)  # $30/h x 10 min
    mine = tmp_path / "my.yaml"
    mine.write_text("labor_rate: 60\nexpected_touches: {appeal: 6}\n")
    s = load_settings(mine)
    assert s.labor_rate == 60 and s.touches("appeal") == 6 and s.touches("review") == 4  # merged, not replaced
    mine.write_text("labour_rate: 60\n")
    with pytest.raises(SettingsError, match="my.yaml: labour_rate"):
        load_settings(mine)
    mine.write_text("model: {engine: lightgbm}\n")
    assert load_settings(mine).model.engine == "lightgbm" and load_settings(mine).model.max_iter == 100  # merged
    mine.write_text("model: {engine: xgboost}\n")
    with pytest.raises(SettingsError, match="engine"):
        load_settings(mine)


def test_every_setting_is_documented() -> None:
    from everyclaim.scoring.settings import Settings, builtin_text

    text = builtin_text()
    for name in Settings.model_fields:
        line = next((ln for ln in text.splitlines() if ln.startswith(f"{name}:")), None)
        assert line is not None and ("#" in line or name in ("version", "expected_touches", "priors", "model",
                                                                 "horizons")), name  # fmt: skip


def test_score_and_model_report_commands(world: Path, cli_db: str, tmp_path: Path) -> None:
    db = cli_db
    runner = CliRunner()
    r = runner.invoke(app, ["score", "--as-of", AS_OF.isoformat(), "--db", db, "--json"])
    assert r.exit_code == 0, r.output
    scored = json.loads(r.output)
    assert scored["model"] == "model" and scored["claims"] > 0
    r = runner.invoke(app, ["model", "report", "--db", db, "--json", "--truth", str(world / "truth.csv")])
    assert r.exit_code == 0, r.output
    report = json.loads(r.output)
    assert report["evaluation"]["auc"] == scored["evaluation"]["auc"]
    assert report["truth"]["claims"] > 0
    bad = tmp_path / "bad.yaml"
    bad.write_text("minutes_per_touch: -1\n")
    r = runner.invoke(app, ["score", "--db", db, "--settings", str(bad)])
    assert r.exit_code == 2 and "minutes_per_touch" in r.output


def test_break_even_is_the_fields_worked_example() -> None:
    from decimal import Decimal

    from everyclaim.reports.economics import break_even

    assert break_even(30, 10, 4, 0.6, 7) == (Decimal("33.33"), Decimal("40.33"))
    with pytest.raises(ValueError):
        break_even(30, 10, 4, 0, 7)


def test_economics_and_simulate_commands(world: Path, cli_db: str, tmp_path: Path) -> None:
    db = cli_db
    runner = CliRunner()

    def run(*args: str) -> dict:  # type: ignore[type-arg]
        r = runner.invoke(app, [*args, "--db", db, "--json"])
        assert r.exit_code == 0, r.output
        return json.loads(r.output)

    th = run("analyze", "threshold", "--chart", str(tmp_path / "th.png"))
    assert th["threshold"] == "40.33"
    open_claims = th["below"]["claims"] + th["above"]["claims"]
    assert open_claims > 0 and 0 < th["below"]["claims"] < open_claims
    cap = run("analyze", "capacity", "--registrations", "50000", "--denial-rate", "0.10", "--ftes", "15",
              "--claims-per-day", "48", "--days", "20", "--resolution-rate", "0.25")
    assert (cap["demand"], cap["touches"], cap["capacity"], cap["unworked"]) == (10000, 14400, 3600, 6400)
    small = run("analyze", "capacity", "--ftes", "0.5", "--chart", str(tmp_path / "cap.png"))
    assert small["registrations_source"] == "ledger" and 0 < small["denial_rate"] < 1
    assert small["low_balance_line"] is not None and small["capacity"] == 120
    bu = run("analyze", "buildup", "--chart", str(tmp_path / "bu.png"))
    assert sum(c["claims"] for row in bu["rows"] for c in row.values() if isinstance(c, dict)) == open_claims
    assert run("score", "--as-of", AS_OF.isoformat())["claims"] > 0
    sim = run("simulate", "--weeks", "4", "--ftes", "0.2", "--truth", str(world / "truth.csv"),
              "--chart", str(tmp_path / "sim.png"))
    pol = sim["policies"]
    assert sim["truth_known"] == sim["claims"] > 0
    assert pol["everyclaim"]["staff_touches"] < pol["creaming"]["staff_touches"]
    assert pol["everyclaim"]["claims_resolved"] > pol["creaming"]["claims_resolved"]
    assert sim["productivity_ratio"] == round(pol["everyclaim"]["claims_resolved"] / pol["creaming"]["claims_resolved"], 3)
    for name in ("th", "cap", "bu", "sim"):
        assert (tmp_path / f"{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
