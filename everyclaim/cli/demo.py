"""``everyclaim synth`` and ``everyclaim demo``: a synthetic A/R world, and the whole product run on it."""

from __future__ import annotations

import json
import secrets
import time
from datetime import date
from pathlib import Path
from typing import Annotated

import sqlalchemy as sa
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from everyclaim.cli import economics as economics_cli
from everyclaim.cli.options import parse_day
from everyclaim.ingest import pipeline
from everyclaim.ledger import db as ledger_db
from everyclaim.ledger import schema as t
from everyclaim.reports import ar
from everyclaim.synth.world import PROFILES, generate
from everyclaim.triage import engine as triage_engine
from everyclaim.triage.rules import load_rules
from everyclaim.work import users as work_users
from everyclaim.work.refresh import refresh

out = Console()
err = Console(stderr=True)


def _as_of(value: str | None) -> date:
    day = parse_day(value, default_today=True)
    assert day is not None
    return day


def _profile(value: str) -> str:
    if value not in PROFILES:
        raise typer.BadParameter(f"one of {', '.join(PROFILES)}", param_hint="--profile")
    return value


def _bar(disable: bool = False) -> Progress:
    return Progress(TextColumn("{task.description:<28}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=err, disable=disable)


def synth(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder to write the world into.")],
    claims: Annotated[int, typer.Option("--claims", min=1, help="Number of claims.")] = 20_000,
    seed: Annotated[int, typer.Option("--seed", help="Same seed, same bytes.")] = 1,
    as_of: Annotated[str | None, typer.Option("--as-of", help="The world's today (YYYY-MM-DD); default today.")] = None,
    profile: Annotated[str, typer.Option("--profile", help="clinic (837P) or hospital (837I + 837P).")] = "clinic",
    history: Annotated[int, typer.Option("--history", min=0, help="Also this many resolved past denials "
                                         "(training history for the recovery model).")] = 0,
) -> None:
    """Write a synthetic billing office's files: 837, 277CA, 835, payers.csv, atb.csv and truth.csv."""
    day, prof = _as_of(as_of), _profile(profile)
    with _bar() as bar:
        task = bar.add_task("synthesize claims", total=claims)
        summary = generate(out_dir, claims, seed, day, prof, progress=lambda i, n: bar.update(task, completed=i),
                           history=history)
        bar.update(task, completed=claims)
    table = Table(title=f"synthetic world in {out_dir}", title_justify="left")
    table.add_column("files")
    table.add_column("count", justify="right")
    for kind, n in sorted(summary.files.items()):
        table.add_row(kind, str(n))
    out.print(table)
    out.print(f"{summary.claims} claims, charges ${summary.total_charges}; open on {day}: "
              f"{summary.open_claims} claims, ${summary.open_balance}")


def demo(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the world and the demo database.")] =
    Path("everyclaim-demo"),
    claims: Annotated[int, typer.Option("--claims", min=1, help="Number of claims.")] = 20_000,
    seed: Annotated[int, typer.Option("--seed")] = 1,
    as_of: Annotated[str | None, typer.Option("--as-of", help="The world's today; default today.")] = None,
    profile: Annotated[str, typer.Option("--profile")] = "clinic",
    as_json: Annotated[bool, typer.Option("--json", help="Print the results as one JSON object.")] = False,
    history: Annotated[int | None, typer.Option("--history", min=0, help="Resolved past denials to learn "
                                                "from; default a fifth of --claims.")] = None,
) -> None:
    """The main job on a fresh machine: synthesize a world, ingest it into a fresh SQLite ledger, report."""
    day, prof = _as_of(as_of), _profile(profile)
    world, db_file = out_dir / "world", out_dir / "everyclaim.db"
    started = time.perf_counter()
    _fresh(world, db_file)
    engine = ledger_db.make_engine(f"sqlite:///{db_file}")
    ledger_db.upgrade(engine)
    with _bar(disable=as_json) as bar:
        task = bar.add_task("1/2 synthesize claims", total=claims)
        generate(world, claims, seed, day, prof, progress=lambda i, n: bar.update(task, completed=i),
                 history=claims // 5 if history is None else history)
        bar.update(task, completed=claims)
        planned = pipeline.plan([world], {})
        task = bar.add_task("2/2 ingest files", total=len(planned))
        summary = pipeline.ingest_planned(engine, planned, pipeline.Options(as_of=day),
                                          lambda item, outcome: bar.advance(task))
    with engine.begin() as conn:
        triaged = triage_engine.triage(conn, day, load_rules([])[0])
        economics = economics_cli.demo_economics(conn, triaged.run_id, day, world / "truth.csv")
        refresh(conn)  # the web work queue: staff tiers routed into queues
        logins = demo_users(conn)
    with engine.connect() as conn:
        results = _results(conn, summary)
    results["triage"] = triaged.as_json()
    results["economics"] = economics
    results["seconds"] = round(time.perf_counter() - started, 1)
    results["database"] = f"sqlite:///{db_file}"
    results["web"] = {"serve": f"everyclaim serve --db {results['database']}", "url": "http://127.0.0.1:8000/",
                      "users": logins}
    if as_json:
        print(json.dumps(results, indent=2, default=str))
    else:
        _print(results)
    raise typer.Exit(1 if summary.any_rejected else 0)


# Who signs in to the demo, and what they see first.
DEMO_USERS = (("biller", "biller", "Demo Biller", ("appeals", "coding", "refunds", "senior"), "works the queue"),
              ("manager", "manager", "Demo Manager", (), "dashboards, approvals, routing, rules"),
              ("admin", "admin", "Demo Admin", (), "users and roles"),
              ("auditor", "auditor", "Demo Auditor", (), "the audit log, read-only"))


def demo_users(conn: sa.Connection) -> list[dict[str, str]]:
    """One user per role with a fresh random password (the demo database is rebuilt each run)."""
    logins = []
    for username, role, name, skills, does in DEMO_USERS:
        password = secrets.token_urlsafe(9)
        work_users.create_user(conn, None, username, password, role, display_name=name, skills=skills)
        logins.append({"username": username, "password": password, "role": role, "does": does})
    return logins


def _fresh(world: Path, db_file: Path) -> None:
    """Start from nothing: the demo owns its folder (only its own files are removed)."""
    db_file.parent.mkdir(parents=True, exist_ok=True)
    for f in (db_file, db_file.with_suffix(".db-wal"), db_file.with_suffix(".db-shm")):
        f.unlink(missing_ok=True)
    if world.exists():
        for f in world.iterdir():
            if f.is_file():
                f.unlink()


def _results(conn: sa.Connection, summary: pipeline.Summary) -> dict[str, object]:
    example = conn.execute(
        sa.select(t.atb_rows.c.pcn).where(t.atb_rows.c.balance_cents > 0)
        .order_by(t.atb_rows.c.balance_cents.desc()).limit(1)
    ).scalar()
    buildup = ar.buildup(conn)
    return {
        "ingest": summary.totals(),
        "open_ar": ar.open_ar(conn),
        "denial_categories": ar.denial_categories(conn)[:8],
        "buildup": buildup.as_json() if buildup else None,
        "example_claim": example,
    }


def _print(r: dict) -> None:  # type: ignore[type-arg]
    ing = r["ingest"]
    out.print(f"\n[bold]Ingested[/bold] {ing['accepted']} files: {ing['claims']} claim submissions, "
              f"{ing['payments']} remittance claims, {ing['adjustments']} adjustments, {ing['findings']} findings, "
              f"{ing['rejected']} rejected files ({r['seconds']} s).")
    o = r["open_ar"]
    if o:
        table = Table(title=f"Open A/R on {o['as_of']}: {o['claims']} claims, ${o['dollars']}", title_justify="left")
        for col in ("responsibility", "financial class", "claims", "dollars"):
            table.add_column(col, justify="right" if col in ("claims", "dollars") else "left")
        for row in sorted(o["by"], key=lambda x: -float(x["dollars"])):
            table.add_row(row["responsibility"], row["financial_class"], str(row["claims"]), f"${row['dollars']}")
        out.print(table)
        cb = o["credit_balances"]
        out.print(f"Credit balances: {cb['claims']} claims, ${cb['dollars']} (refunds to review).")
    _print_tiers(r["triage"])
    _print_denials(r["denial_categories"])
    _print_buildup(r["buildup"])
    economics_cli.print_demo_economics(r["economics"])
    out.print("\n[bold]Next[/bold]")
    out.print(f"  everyclaim triage --as-of {r['triage']['as_of']} --out worklist.csv --db {r['database']}")
    out.print(f"  everyclaim rules report --db {r['database']}")
    out.print(f"  everyclaim claims show {r['example_claim']} --db {r['database']}   # one claim's whole story")
    out.print(f"  everyclaim ledger check --db {r['database']}                       # reconciliation findings")
    out.print(f"  everyclaim model report --db {r['database']}                      # how well the ranking pays")
    out.print(f"  everyclaim simulate --weeks 26 --ftes 2 --db {r['database']}      # follow-up policies compared")
    out.print("  everyclaim ingest YOUR-FOLDER/                                      # your own 837/835/ATB files")
    _print_web(r["web"])


def _print_web(web: dict) -> None:  # type: ignore[type-arg]
    out.print("\n[bold]The web work queue[/bold]")
    out.print(f"  {web['serve']}")
    out.print(f"  then open {web['url']} and sign in (demo passwords, new on every demo run):")
    for u in web["users"]:
        out.print(f"    {u['username']:<8} {u['password']:<14} {u['role']}: {u['does']}", highlight=False)


AUTOMATIC_TIERS = ("no_opportunity", "simple_fix")


def _print_tiers(tr: dict) -> None:  # type: ignore[type-arg]
    tiers = tr["by_tier"]
    total = sum(v["claims"] for v in tiers.values()) or 1
    table = Table(title=f"Open A/R by triage tier ({tr['claims']} claims, ${tr['balance']})", title_justify="left")
    for col in ("tier", "claims", "share", "dollars"):
        table.add_column(col, justify="left" if col == "tier" else "right")
    for tier in ("no_opportunity", "simple_fix", "hinted", "manual"):
        v = tiers.get(tier, {"claims": 0, "dollars": "0.00"})
        table.add_row(tier, str(v["claims"]), f"{v['claims'] / total:.0%}", f"${v['dollars']}")
    out.print(table)
    automated = sum(tiers.get(t, {"claims": 0})["claims"] for t in AUTOMATIC_TIERS)
    out.print(f"Automation share: {automated / total:.0%} of open claims are handled without a person "
              f"(tiers no_opportunity and simple_fix); the rest is routed to staff with a hint or for review.")
    causes = sorted(((k, v) for k, v in tr["by_root_cause"].items() if k not in ("", "none")),
                    key=lambda kv: -float(kv[1]["dollars"]))[:6]
    out.print("Top root causes: " + ", ".join(f"{k} ${v['dollars']} ({v['claims']})" for k, v in causes))


def _print_denials(rows: list[dict]) -> None:  # type: ignore[type-arg]
    if not rows:
        return
    table = Table(title="Top denial root causes (835 CARC mapped to categories)", title_justify="left")
    for col in ("category", "claims", "dollars"):
        table.add_column(col, justify="left" if col == "category" else "right")
    for row in rows:
        table.add_row(row["category"], str(row["claims"]), f"${row['dollars']}")
    out.print(table)


def _print_buildup(b: dict | None) -> None:  # type: ignore[type-arg]
    if not b:
        return
    buckets = [label for label, _, _ in ar.DOLLARS]
    table = Table(title="A/R build-up: share of open claims per dollar bucket, by age (days)", title_justify="left")
    table.add_column("aging")
    for label in buckets:
        table.add_column(label, justify="right")
    for row in b["rows"]:
        table.add_row(row["aging"], *(f"{row[label]['share']:.0%} ({row[label]['claims']})" for label in buckets))
    out.print(table)
    if b["rising_low_balance_share"]:
        out.print("[yellow]The low-balance share rises with age: low balances are aging unworked.[/yellow]")
