"""Command functions for the economics of follow-up, registered on the ``everyclaim`` app:

    everyclaim analyze threshold [--labor-rate 30 --minutes-per-touch 10 --touches 4 --success-rate 0.6 --overhead 7]
    everyclaim analyze capacity --ftes F [--registrations N --denial-rate R --claims-per-day C --days D
                                         --resolution-rate Q]
    everyclaim analyze buildup
    everyclaim simulate --weeks 26 --ftes F [--truth truth.csv]

Each prints a table, or one JSON object with ``--json``, and writes a PNG with ``--chart FILE``.
Exit codes: 0 success, 1 when there is no A/R to analyze, 2 on usage errors.
"""

from __future__ import annotations

import csv
import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Annotated

import sqlalchemy as sa
import typer
from rich.console import Console
from rich.table import Table

from everyclaim.cli.options import DbOption, JsonOption, open_ledger, parse_day
from everyclaim.cli.scoring import SettingsOption, score_run, settings_from
from everyclaim.ledger import schema as t
from everyclaim.reports import ar, charts, economics
from everyclaim.reports import simulate as sim
from everyclaim.scoring import score as sc
from everyclaim.scoring.settings import Settings

out = Console()
err = Console(stderr=True)

ChartOption = Annotated[Path | None, typer.Option("--chart", help="Also write a PNG chart to this file.")]


def _balances(conn: sa.Connection) -> list[int]:
    snap = ar.latest_snapshot(conn)
    if snap is None:
        return []
    r = t.atb_rows.c
    return [int(b) for (b,) in conn.execute(sa.select(r.balance_cents).where(r.snapshot_id == snap[0],
                                                                             r.balance_cents > 0))]  # fmt: skip


def _usage(exc: ValueError) -> typer.BadParameter:
    return typer.BadParameter(str(exc))


def threshold_cmd(
    labor_rate: Annotated[float, typer.Option("--labor-rate", help="Labour cost per staff hour, $.")] = 30,
    minutes_per_touch: Annotated[float, typer.Option("--minutes-per-touch", help="Minutes per touch.")] = 10,
    touches: Annotated[float, typer.Option("--touches", help="Touches per paid claim.")] = 4,
    success_rate: Annotated[float, typer.Option("--success-rate", help="Share of worked claims that pay.")] = 0.6,
    overhead: Annotated[float, typer.Option("--overhead", help="Management overhead per claim, $.")] = 7,
    db: DbOption = None,
    as_json: JsonOption = False,
    chart: ChartOption = None,
) -> None:
    """The balance below which working a claim loses money, and the open claims and dollars on each side."""
    with open_ledger(db).connect() as conn:
        try:
            th = economics.threshold(conn, labor_rate, minutes_per_touch, touches, success_rate, overhead)
        except ValueError as exc:
            raise _usage(exc) from None
        if chart:
            charts.threshold_chart(_balances(conn), float(th.threshold), chart)
    if as_json:
        print(json.dumps(th.as_json(), indent=2))
    else:
        out.print(f"Working a claim costs ${labor_rate:g}/h x {minutes_per_touch:g} min x {touches:g} touches "
                  f"/ {success_rate:.0%} paid = ${th.cost_per_paid_claim} per paid claim, + ${overhead:g} overhead: "
                  f"[bold]work every claim whose expected reimbursement exceeds ${th.threshold}[/bold].")  # fmt: skip
        table = Table(title=f"Open A/R on {th.as_of or '-'} against ${th.threshold}", title_justify="left")
        for col in ("side", "claims", "share", "dollars", "share of dollars"):
            table.add_column(col, justify="left" if col == "side" else "right")
        for side, v in (("below", th.below), ("at or above", th.above)):
            table.add_row(side, f"{v['claims']:,}", f"{v['claim_share']:.1%}", f"${Decimal(v['dollars']):,}",
                          f"{v['dollar_share']:.1%}")
        out.print(table)
    _chart_note(chart, as_json)
    raise typer.Exit(0 if th.as_of else 1)


def capacity_cmd(
    ftes: Annotated[float, typer.Option("--ftes", min=0, help="Follow-up staff (full-time equivalents).")],
    registrations: Annotated[int | None, typer.Option("--registrations", min=0, help="Registrations (claims) per "
                                                      "month; default: the ledger's last 30 days.")] = None,
    denial_rate: Annotated[float | None, typer.Option("--denial-rate", help="Initial denial rate; default: "
                                                      "the ledger's first 835s over the past year.")] = None,
    claims_per_day: Annotated[float, typer.Option("--claims-per-day", min=0, help="Touches per FTE per day.")] = 48,
    days: Annotated[int, typer.Option("--days", min=1, help="Working days per month.")] = 20,
    resolution_rate: Annotated[float, typer.Option("--resolution-rate", help="Claims resolved per touch.")] = 0.25,
    db: DbOption = None,
    as_json: JsonOption = False,
    chart: ChartOption = None,
) -> None:
    """Follow-up demand against capacity: claims left unworked each month and the low-balance line."""
    with open_ledger(db).connect() as conn:
        try:
            c = economics.capacity(conn, ftes, claims_per_day, days, resolution_rate, registrations, denial_rate)
        except ValueError as exc:
            raise _usage(exc) from None
        if chart:
            charts.capacity_chart(_balances(conn), c.capacity, c.low_balance_line, chart)
    if as_json:
        print(json.dumps(c.as_json(), indent=2))
    else:
        table = Table(title="Follow-up demand and capacity, per month", title_justify="left")
        table.add_column("")
        table.add_column("", justify="right")
        rows = [
            ("registrations" + (" (ledger)" if c.registrations_source == "ledger" else ""), f"{c.registrations:,}"),
            ("initial denial rate" + (" (ledger)" if c.denial_rate_source == "ledger" else ""), f"{c.denial_rate:.1%}"),
            ("demand: registrations x 2 x denial rate", f"{c.demand:,}"),
            (f"touches: {c.ftes:g} FTE x {c.claims_per_day:g}/day x {c.days} days", f"{c.touches:,}"),
            (f"capacity: touches x {c.resolution_rate:.0%} resolved", f"{c.capacity:,}"),
            ("claims left unworked", f"{c.unworked:,} ({c.unworked_share:.0%} of demand)"),
            (f"low-balance line (rank {c.capacity:,} of {c.open_claims:,} open claims by balance)",
             f"${c.low_balance_line}" if c.low_balance_line else "none: capacity covers every open claim"),
        ]  # fmt: skip
        for k, v in rows:
            table.add_row(k, v)
        out.print(table)
    _chart_note(chart, as_json)
    raise typer.Exit(0 if c.as_of else 1)


def buildup_cmd(db: DbOption = None, as_json: JsonOption = False, chart: ChartOption = None) -> None:
    """The aging x dollar-bucket table: is the low-balance share rising with age (unworked low balances)?"""
    with open_ledger(db).connect() as conn:
        b = economics.buildup(conn)
    if b is None:
        err.print("no ATB snapshot in the ledger: ingest an aged trial balance first")
        raise typer.Exit(1)
    data = b.as_json()
    buckets = [label for label, _, _ in ar.DOLLARS]
    if chart:
        charts.buildup_chart(data["rows"], buckets, chart)  # type: ignore[arg-type]
    if as_json:
        print(json.dumps(data, indent=2))
    else:
        table = Table(title=f"A/R build-up on {b.as_of}: share of open claims per dollar bucket, by age (days)",
                      title_justify="left")  # fmt: skip
        table.add_column("aging")
        for label in buckets:
            table.add_column(label, justify="right")
        for row in data["rows"]:  # type: ignore[union-attr]
            table.add_row(row["aging"], *(f"{row[k]['share']:.0%} ({row[k]['claims']})" for k in buckets))
        out.print(table)
        out.print("[yellow]The low-balance share rises with age: low balances are aging unworked.[/yellow]"
                  if b.rising_low_balance else "The low-balance share does not rise with age.")  # fmt: skip
    _chart_note(chart, as_json)


def read_truth(path: Path) -> dict[str, tuple[bool, int]]:
    """A synthetic world's truth.csv: claim_id -> (collectible, expected recovery in cents)."""
    with path.open(encoding="utf-8") as f:
        return {r["claim_id"]: (r["collectible"] == "true", round(float(r["expected_recovery"]) * 100))
                for r in csv.DictReader(f)}  # fmt: skip


def simulate_cmd(
    ftes: Annotated[float, typer.Option("--ftes", min=0.1, help="Follow-up staff (full-time equivalents).")],
    weeks: Annotated[int, typer.Option("--weeks", min=1, max=520, help="Weeks to replay.")] = 26,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Triage date to replay; default: the latest "
                                              "triage run's (none: triage and score on the latest ATB's date).")] = None,
    truth: Annotated[Path | None, typer.Option("--truth", exists=True, dir_okay=False,
                                               help="A synthetic world's truth.csv for the true outcomes.")] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the model's draws where no truth is known.")] = 1,
    settings_file: SettingsOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
    chart: ChartOption = None,
) -> None:
    """Replay follow-up week by week: largest-first (creaming), oldest-first and everyclaim; compare them."""
    settings = settings_from(settings_file)
    with open_ledger(db).begin() as conn:
        run = _scored_run(conn, parse_day(as_of), settings)
        result = sim.simulate(conn, run, weeks, ftes, settings, read_truth(truth) if truth else None, seed)
    if chart:
        charts.simulation_chart({k: v.weekly_dollars_cents for k, v in result.policies.items()}, chart)
    if as_json:
        print(json.dumps(result.as_json(), indent=2))
    else:
        print_simulation(result)
    _chart_note(chart, as_json)
    raise typer.Exit(0 if result.claims else 1)


def _scored_run(conn: sa.Connection, day: date | None, settings: Settings) -> int:
    """The latest triage run (on ``day`` when given) that has results, scored; triage and score when none."""
    from everyclaim.triage import engine as triage_engine

    sc.ensure_tables(conn)
    r = triage_engine.results.c
    stmt = sa.select(sa.func.max(r.run_id))
    if day is not None:
        stmt = stmt.join(triage_engine.runs, triage_engine.runs.c.id == r.run_id).where(triage_engine.runs.c.as_of == day)
    run = conn.execute(stmt).scalar()
    if run is None:
        snap = ar.latest_snapshot(conn)
        return score_run(conn, day or (snap[1] if snap else date.today()), settings).run_id
    if conn.execute(sa.select(sc.scoring_runs.c.run_id).where(sc.scoring_runs.c.run_id == run)).first() is None:
        as_of = conn.execute(sa.select(triage_engine.runs.c.as_of).where(triage_engine.runs.c.id == run)).scalar_one()
        sc.score(conn, run, as_of, settings)
    return int(run)


def print_simulation(s: sim.Simulation) -> None:
    table = Table(title=f"{s.weeks} weeks, {s.ftes:g} FTE ({s.touches_per_week:,} touches/week) on {s.claims:,} "
                        f"claims needing follow-up (${s.inventory_cents / 100:,.2f})", title_justify="left")  # fmt: skip
    for col in ("policy", "dollars collected", "claims resolved", "staff touches", "touches/resolved",
                "claims/FTE-day", "claims/staff touch"):
        table.add_column(col, justify="left" if col == "policy" else "right")
    for p in s.policies.values():
        j = p.as_json(s.fte_days)
        table.add_row(p.policy, f"${p.dollars_cents / 100:,.2f}", f"{p.claims_resolved:,}", f"{p.staff_touches:,}",
                      _num(j["touches_per_resolved_claim"]), _num(j["claims_per_fte_day"]),
                      _num(j["claims_per_staff_touch"]))  # fmt: skip
    out.print(table)
    out.print(f"everyclaim over creaming: [bold]{_x(s.ratio('claims_per_fte_day'))}[/bold] claims resolved per "
              f"FTE-day, {_x(s.ratio('dollars'))} dollars collected"
              + (f" ({s.truth_known:,} outcomes from the world's truth, the rest drawn from the model)."
                 if s.truth_known else " (outcomes drawn from the model)."))  # fmt: skip


def _num(v: object) -> str:
    return "-" if v is None else f"{v:g}" if isinstance(v, float) else str(v)


def _x(v: float | None) -> str:
    return "-" if v is None else f"{v:.2f}x"


def _chart_note(chart: Path | None, as_json: bool) -> None:
    if chart and not as_json:
        out.print(f"chart: {chart}")


def register(app: typer.Typer) -> None:
    """``analyze threshold|capacity|buildup`` and ``simulate`` on the top-level app."""
    analyze = typer.Typer(help="The economics of follow-up on your A/R: break-even threshold, capacity, build-up.",
                          no_args_is_help=True)  # fmt: skip
    analyze.command("threshold")(threshold_cmd)
    analyze.command("capacity")(capacity_cmd)
    analyze.command("buildup")(buildup_cmd)
    app.add_typer(analyze, name="analyze")
    app.command("simulate")(simulate_cmd)


DEMO_FTES = 2.0


def demo_economics(conn: sa.Connection, run_id: int, day: object, truth: Path | None) -> dict[str, object]:
    """What ``demo`` prints after triage: scores, the break-even threshold, capacity, the simulation."""
    from datetime import date

    from everyclaim.scoring.settings import load_settings

    assert isinstance(day, date)
    settings = load_settings()
    scored = sc.score(conn, run_id, day, settings)
    th = economics.threshold(conn)
    cap = economics.capacity(conn, DEMO_FTES)
    result = sim.simulate(conn, run_id, 26, DEMO_FTES, settings, read_truth(truth) if truth else None)
    return {"score": scored.as_json(), "threshold": th.as_json(), "capacity": cap.as_json(),
            "simulation": result.as_json()}  # fmt: skip


def print_demo_economics(r: dict) -> None:  # type: ignore[type-arg]
    s, th, cap, sm = r["score"], r["threshold"], r["capacity"], r["simulation"]
    ev = s["evaluation"]
    out.print(f"\n[bold]Recovery scoring[/bold]: {s['claims']} open claims scored by a {s['model']} "
              f"({s['examples']} resolved denials)"
              + (f"; on the newest 20% of history AUC {ev['auc']}, top 16% of the ranking holds "
                 f"{ev['top_share']['16%']['net_value']:.0%} of recovered dollars (balance-first "
                 f"{ev['top_share']['16%']['balance']:.0%}, oldest-first {ev['top_share']['16%']['age']:.0%})." if ev else "."))  # fmt: skip
    out.print(f"Break-even threshold ${th['threshold']}: {th['below']['claims']} open claims "
              f"(${th['below']['dollars']}) sit below it.")  # fmt: skip
    out.print(f"Capacity at {cap['ftes']:g} FTE: demand {cap['demand']} claims/month, capacity {cap['capacity']}; "
              f"unworked share {cap['unworked_share']:.0%}"
              + (f", low-balance line ${cap['low_balance_line']}." if cap["low_balance_line"] else "."))  # fmt: skip
    out.print(f"Simulated {sm['weeks']} weeks at {sm['ftes']:g} FTE: everyclaim resolves "
              f"[bold]{_x(sm['productivity_ratio'])}[/bold] the claims per FTE-day of largest-balance-first "
              f"(creaming) and collects {_x(sm['dollar_ratio'])} the dollars.")  # fmt: skip
