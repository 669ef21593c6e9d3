"""Command functions for recovery scoring, registered on the ``everyclaim`` app:

    app.command("score")(scoring_cli.score_cmd)              # everyclaim score --as-of D
    model_app.command("report")(scoring_cli.model_report_cmd)  # everyclaim model report [--truth truth.csv]

Exit codes: 0 success, 1 when there is nothing to score, 2 on usage errors (a bad --settings file).
"""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import sqlalchemy as sa
import typer
from rich.console import Console
from rich.table import Table

from everyclaim.cli.options import DbOption, JsonOption, open_ledger, parse_day
from everyclaim.scoring import score as sc
from everyclaim.scoring.model import Evaluation, top_shares
from everyclaim.scoring.settings import Settings, SettingsError, load_settings
from everyclaim.triage import engine as triage_engine
from everyclaim.triage.rules import load_rules

out = Console()
err = Console(stderr=True)

SettingsOption = Annotated[Path | None, typer.Option("--settings", help="YAML overriding data/scoring.yaml "
                                                     "(labour rate, minutes per touch, touches, priors ...).")]  # fmt: skip


def settings_from(path: Path | None) -> Settings:
    try:
        return load_settings(path)
    except SettingsError as exc:
        raise typer.BadParameter(str(exc), param_hint="--settings") from None


def score_run(conn: sa.Connection, as_of: date, settings: Settings) -> sc.ScoreResult:
    """Score the latest triage run on ``as_of``, triaging first (built-in rules) when there is none (or its
    results were dropped by a triage-table rebuild)."""
    run = triage_engine.latest_run(conn, as_of)
    r = triage_engine.results.c
    if run is None or conn.execute(sa.select(r.run_id).where(r.run_id == run).limit(1)).first() is None:
        run = triage_engine.triage(conn, as_of, load_rules([])[0]).run_id
    return sc.score(conn, run, as_of, settings)


def score_cmd(
    as_of: Annotated[str | None, typer.Option("--as-of", help="Date (YYYY-MM-DD); default today.")] = None,
    settings_file: SettingsOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Score every open claim: P(recovery), expected recovery, cost and net value; set the worklist priority."""
    day = parse_day(as_of, default_today=True)
    assert day is not None
    settings = settings_from(settings_file)
    with open_ledger(db).begin() as conn:
        result = score_run(conn, day, settings)
    if as_json:
        print(json.dumps(result.as_json(), indent=2))
    else:
        print_score(result)
    raise typer.Exit(0 if result.claims else 1)


def print_score(r: sc.ScoreResult) -> None:
    source = (f"a model trained on {r.examples} resolved denials" if r.model == "model"
              else f"the documented priors ({r.examples} resolved denials: too few to train)")  # fmt: skip
    out.print(f"Scored {r.claims} open claims on {r.as_of} with {source} ({r.seconds:.1f} s).")
    out.print(f"Expected recovery ${float(r.totals['expected_recovery']) / 100:,.2f}, expected cost "
              f"${float(r.totals['expected_cost']) / 100:,.2f}, net value ${float(r.totals['net_value']) / 100:,.2f}; "
              f"{r.positive} claims are worth working, {r.urgent} have a deadline closing soon.")  # fmt: skip
    if r.evaluation:
        out.print(f"Model on the newest 20% of history: AUC {_f(r.evaluation.auc)}, Brier {r.evaluation.brier:.4f} "
                  f"(constant {r.evaluation.brier_constant:.4f}). `everyclaim model report` for more.")  # fmt: skip


def _f(v: float | None) -> str:
    return "-" if v is None else f"{v:.3f}"


def model_report_cmd(
    as_of: Annotated[str | None, typer.Option("--as-of", help="Train on history resolved before this date; "
                                              "default: the latest triage run's date, else today.")] = None,
    truth: Annotated[Path | None, typer.Option("--truth", exists=True, dir_okay=False,
                                               help="A synthetic world's truth.csv: also measure the latest "
                                                    "scores against it.")] = None,
    settings_file: SettingsOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """The recovery model on held-out history: AUC, Brier, reliability, and recovered dollars in the top of
    its ranking against ranking by balance and by age."""
    settings = settings_from(settings_file)
    with open_ledger(db).begin() as conn:
        day = parse_day(as_of) or _latest_as_of(conn) or date.today()
        model, evaluation, history = sc.fit(conn, day, settings)
        against = truth_check(conn, truth) if truth else None
    report: dict[str, Any] = {"as_of": day.isoformat(), "model": model.kind, "examples": model.examples,
                              "evaluation": evaluation.as_json() if evaluation else None, "truth": against}  # fmt: skip
    if as_json:
        print(json.dumps(report, indent=2))
    else:
        _print_report(report, evaluation)
    raise typer.Exit(0)


def _latest_as_of(conn: sa.Connection) -> date | None:
    run = triage_engine.latest_run(conn)
    if run is None:
        return None
    return conn.execute(sa.select(triage_engine.runs.c.as_of).where(triage_engine.runs.c.id == run)).scalar()


def truth_check(conn: sa.Connection, truth: Path) -> dict[str, Any] | None:
    """The latest scores against a synthetic world's truth: for open claims worked by staff, the share
    of truly collectible dollars in the top of each ranking; for denied ones, the AUC of P(recovery)."""
    row = sc.latest_scoring(conn)
    if row is None:
        return None
    with truth.open(encoding="utf-8") as f:
        known = {r["claim_id"]: r for r in csv.DictReader(f)}
    s, res, feat = sc.claim_scores.c, triage_engine.results.c, triage_engine.feat.triage_features.c
    rows = conn.execute(
        sa.select(s.pcn, s.source, s.p_recovery, s.net_value_cents, s.balance_cents, feat.days_since_service)
        .join(triage_engine.results, (res.run_id == s.run_id) & (res.atb_row_id == s.atb_row_id))
        .join(triage_engine.feat.triage_features, feat.atb_row_id == s.atb_row_id)
        .where(s.run_id == row.run_id, res.tier.in_(sc.STAFF_TIERS))
    ).all()  # fmt: skip
    rows = [r for r in rows if r.pcn in known]
    if not rows:
        return None
    value = np.array([max(0, round(float(known[r.pcn]["expected_recovery"]) * 100))
                      if known[r.pcn]["collectible"] == "true" else 0 for r in rows], "f8")  # fmt: skip
    rankings = {"net_value": np.array([r.net_value_cents for r in rows], "f8"),
                "balance": np.array([r.balance_cents for r in rows], "f8"),
                "age": np.array([r.days_since_service or 0 for r in rows], "f8")}  # fmt: skip
    out_: dict[str, Any] = {"claims": len(rows), "top_share": top_shares(value, rankings)}
    modelled = [i for i, r in enumerate(rows) if r.source != "triage"]
    ys = np.array([value[i] > 0 for i in modelled])
    if len(set(ys.tolist())) == 2:
        from sklearn.metrics import roc_auc_score

        out_["denied_auc"] = round(float(roc_auc_score(ys, [rows[i].p_recovery for i in modelled])), 4)
    return out_


def _print_report(report: dict[str, Any], ev: Evaluation | None) -> None:
    if ev is None:
        out.print(f"Too little history to train ({report['examples']} resolved denials): scores use the "
                  "documented priors (data/scoring.yaml).")
    else:
        out.print(f"Recovery model on {report['examples']} resolved denials before {report['as_of']} "
                  f"(examples train/calibrate/test: {ev.rows['train']}/{ev.rows['calibrate']}/{ev.rows['test']}, "
                  "split by denial date).")  # fmt: skip
        out.print(f"Test: AUC {_f(ev.auc)}, Brier {ev.brier:.4f} against {ev.brier_constant:.4f} for the constant "
                  f"{ev.base_rate:.3f}.")  # fmt: skip
        rel = Table(title="Reliability (test)", title_justify="left")
        for col in ("P bin", "examples", "predicted", "observed"):
            rel.add_column(col, justify="right")
        for b in ev.reliability:
            rel.add_row(b["bin"], str(b["claims"]), f"{b['predicted']:.3f}", f"{b['observed']:.3f}")
        out.print(rel)
        _print_tops("Share of recovered dollars in the top of each ranking (test)", ev.top_share)
    if report.get("truth"):
        tr = report["truth"]
        _print_tops(f"Against the world's truth: collectible dollars among {tr['claims']} staff-worked open claims",
                    tr["top_share"])
        if "denied_auc" in tr:
            out.print(f"AUC of P(recovery) on the open denied claims: {tr['denied_auc']:.3f}")


def _print_tops(title: str, tops: dict[str, dict[str, float]]) -> None:
    table = Table(title=title, title_justify="left")
    for col in ("top", "net value", "balance", "age"):
        table.add_column(col, justify="right")
    for k, v in tops.items():
        table.add_row(k, f"{v['net_value']:.1%}", f"{v['balance']:.1%}", f"{v['age']:.1%}")
    out.print(table)


def register(app: typer.Typer) -> None:
    """``score`` and ``model report`` on the top-level app."""
    model_app = typer.Typer(help="The recovery model: how well it ranks, on held-out history.", no_args_is_help=True)
    model_app.command("report")(model_report_cmd)
    app.command("score")(score_cmd)
    app.add_typer(model_app, name="model")
