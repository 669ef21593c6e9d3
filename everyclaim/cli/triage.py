"""Command functions for triage, to register on the ``everyclaim`` app:

    app.command("triage")(triage_cli.triage_cmd)
    rules_app.command("report")(triage_cli.rules_report_cmd)       # everyclaim rules report
    rules_app.command("check")(triage_cli.rules_check_cmd)         # everyclaim rules check
    outcomes_app.command("ingest")(triage_cli.outcomes_ingest_cmd) # everyclaim outcomes ingest FILE.csv

Exit codes: 0 success, 1 when a rule pack or an outcomes file has errors (printed ``file:line: message``).
"""

from __future__ import annotations

import csv
import json
import sys
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from everyclaim.cli.options import DbOption, JsonOption, open_ledger, parse_day
from everyclaim.triage import engine as eng
from everyclaim.triage.gate import read_outcomes, store_outcomes
from everyclaim.triage.report import rules_report
from everyclaim.triage.rules import PackError, RuleSet, load_rules

out = Console()
err = Console(stderr=True)

RulesOption = Annotated[list[Path] | None, typer.Option("--rules", help="A folder (or file) of YAML rule packs; "
                                                        "adds rules or overrides built-ins by id (repeatable).")]  # fmt: skip


def _rules(dirs: list[Path] | None) -> RuleSet:
    rules, errors = load_rules(dirs or [])
    _fail_on(errors)
    return rules


def _fail_on(errors: list[Any]) -> None:
    if errors:
        for e in errors:
            err.print(f"[red]error[/red] {e.located()}", highlight=False)
        raise typer.Exit(1)


def _date(value: str | None) -> date:
    day = parse_day(value, default_today=True)
    assert day is not None
    return day


def triage_cmd(
    as_of: Annotated[str | None, typer.Option("--as-of", help="Triage date (YYYY-MM-DD); default today. "
                                              "Uses the latest ATB snapshot on or before it.")] = None,
    out_file: Annotated[Path | None, typer.Option("--out", help="Write the worklist CSV here ('-' = stdout).")] = None,
    rules_dirs: RulesOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
    no_score: Annotated[bool, typer.Option("--no-score", help="Skip recovery scoring (priority stays by "
                                           "the rules' expected recovery).")] = False,
    keep_runs: Annotated[int, typer.Option("--keep-runs", min=1, help="Keep the per-claim results of this many "
                                           "latest runs (older ones are deleted; every run's totals stay).")] = eng.KEEP_RUNS,
) -> None:
    """Triage every open claim: tier, action, root cause, the rule and its hint, expected recovery, priority."""
    from everyclaim.cli import scoring as scoring_cli

    day = _date(as_of)
    rules = _rules(rules_dirs)
    engine = open_ledger(db)
    with engine.begin() as conn:
        result = eng.triage(conn, day, rules, workers=2, keep_runs=keep_runs)  # first thing in the transaction
        scored = None if no_score else scoring_cli.sc.score(conn, result.run_id, day, scoring_cli.load_settings())
        rows = eng.worklist(conn, result.run_id) if out_file else []
    if out_file:
        _write_csv(rows, out_file)
    if as_json:
        print(json.dumps(result.as_json(), indent=2))
        return
    _print_summary(result)
    if scored is not None:
        scoring_cli.print_score(scored)
    if out_file and str(out_file) != "-":
        out.print(f"worklist: {len(rows)} claims -> {out_file}")


def _write_csv(rows: list[dict[str, object]], path: Path) -> None:
    f = sys.stdout if str(path) == "-" else path.open("w", newline="", encoding="utf-8")
    try:
        w = csv.DictWriter(f, fieldnames=list(eng.WORKLIST_COLUMNS), lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    finally:
        if f is not sys.stdout:
            f.close()


def _print_summary(r: eng.TriageResult) -> None:
    total = r.claims or 1
    table = Table(title=f"Triage on {r.as_of}: {r.claims} open claims, ${r.balance_cents / 100:,.2f}",
                  title_justify="left")  # fmt: skip
    for col in ("tier", "claims", "share", "dollars"):
        table.add_column(col, justify="left" if col == "tier" else "right")
    for tier in ("no_opportunity", "simple_fix", "hinted", "manual"):
        v = r.by_tier.get(tier, {"claims": 0, "cents": 0})
        table.add_row(tier, str(v["claims"]), f"{v['claims'] / total:.0%}", f"${v['cents'] / 100:,.2f}")
    out.print(table)
    actions = Table(title="By action", title_justify="left")
    for col in ("action", "claims", "dollars"):
        actions.add_column(col, justify="left" if col == "action" else "right")
    for k, v in sorted(r.by_action.items(), key=lambda kv: -kv[1]["cents"]):
        actions.add_row(k, str(v["claims"]), f"${v['cents'] / 100:,.2f}")
    out.print(actions)
    out.print("stages: " + ", ".join(f"{k} {v:.2f}s" for k, v in r.timings.items()), highlight=False)


def rules_report_cmd(
    rules_dirs: RulesOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Every rule with its volume, dollars and sampled claims in the latest triage run, reviewed accuracy, mode."""
    rules = _rules(rules_dirs)
    engine = open_ledger(db)
    with engine.begin() as conn:
        rows = rules_report(conn, rules)
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    table = Table(title="Triage rules", title_justify="left")
    numeric = ("claims", "dollars", "sampled", "reviewed", "accuracy", "lower bound")
    for col in ("rule", "tier", "action", *numeric, "mode", "why"):
        table.add_column(col, justify="right" if col in numeric else "left", overflow="fold")
    for r in rows:
        table.add_row(r["rule_id"], r["tier"], r["action"] or "-", str(r["claims"]), f"${r['dollars']}",
                      str(r["sampled"]), str(r["reviewed"]), _pct(r["accuracy"]), _pct(r["lower_bound"]), r["mode"],
                      r["reason"])  # fmt: skip
    out.print(table)


def _pct(v: float | None) -> str:
    return "-" if v is None else f"{v:.1%}"


def rules_check_cmd(rules_dirs: RulesOption = None, as_json: JsonOption = False) -> None:
    """Validate rule packs (built-in and --rules); print every error as file: location: message."""
    rules, errors = load_rules(rules_dirs or [])
    if as_json:
        print(json.dumps({"rules": len(rules.rules), "packs": list(rules.packs),
                          "errors": [e.located() for e in errors]}, indent=2))  # fmt: skip
        raise typer.Exit(1 if errors else 0)
    _fail_on(errors)
    out.print(f"[green]ok[/green]: {len(rules.rules)} rules in {', '.join(rules.packs)}")


def outcomes_ingest_cmd(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="CSV: claim_id,rule_id,correct (yes/no).")],
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Record reviewed outcomes (was the rule right for this claim?) that drive the automation gate."""
    rows, errors = read_outcomes(file)
    engine = open_ledger(db)
    with engine.begin() as conn:
        stored = store_outcomes(conn, rows, str(file))
    if as_json:
        print(json.dumps({"stored": stored, "errors": [e.located() for e in errors]}, indent=2))
    else:
        for e in errors:
            err.print(f"[red]error[/red] {e.located()}", highlight=False)
        out.print(f"{stored} outcomes stored from {file}")
    if errors:
        raise typer.Exit(1)


__all__ = ["PackError", "outcomes_ingest_cmd", "rules_check_cmd", "rules_report", "rules_report_cmd", "triage_cmd"]
