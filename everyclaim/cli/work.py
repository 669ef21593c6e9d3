"""Command functions for the work queue, registered on the ``everyclaim`` app by :func:`register`:

    everyclaim queue refresh          # work items from the latest triage run, routed and assigned
    everyclaim queue show             # items and dollars per queue and status
    everyclaim queue sop-audit        # late, overdue and deviating work per user, queue and rule
    everyclaim users create NAME --role biller --skills appeals
    everyclaim users list
    everyclaim routing list | check FILE.yaml
    everyclaim kpis [--as-of DAY]      # days in A/R, denial rate, net collection rate ... (table or --json)

Exit codes: 0 success, 1 on a refused or invalid request (printed ``code: message``), 2 on usage errors.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import sqlalchemy as sa
import typer
from rich.console import Console
from rich.table import Table

from everyclaim.cli.options import DbOption, JsonOption, open_ledger, parse_day
from everyclaim.reports.kpis import kpis
from everyclaim.work import routing as rt
from everyclaim.work import users as u
from everyclaim.work.errors import WorkError
from everyclaim.work.queue import queue_counts
from everyclaim.work.refresh import refresh
from everyclaim.work.settings import WorkSettings
from everyclaim.work.sop_audit import STATES, sop_audit

out = Console()
err = Console(stderr=True)

queue_app = typer.Typer(help="The work queue: build it from triage, see it, audit it against the SOPs.",
                        no_args_is_help=True)
users_app = typer.Typer(help="Users of the web work queue (argon2id passwords, roles, skills, capacity).",
                        no_args_is_help=True)
routing_app = typer.Typer(help="Routing SOPs: conditions -> queue / skill / user, and what must happen by when.",
                          no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(queue_app, name="queue")
    app.add_typer(users_app, name="users")
    app.add_typer(routing_app, name="routing")
    app.command("kpis")(kpis_cmd)


@contextmanager
def _work(db: str | None) -> Iterator[sa.Connection]:
    """A transaction on the migrated database; a refused or invalid request exits 1 with its message."""
    engine = open_ledger(db)
    try:
        with engine.begin() as conn:
            yield conn
    except WorkError as exc:
        err.print(f"[red]{exc.code}[/red]: {exc.message}", highlight=False)
        raise typer.Exit(1) from None
    finally:
        engine.dispose()


def _print_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, indent=2, default=str) + "\n")


def _table(title: str, columns: list[str], rows: list[list[Any]], right: Callable[[str], bool] = lambda c: False) -> Table:
    table = Table(title=title)
    for c in columns:
        table.add_column(c, justify="right" if right(c) else "left")
    for r in rows:
        table.add_row(*(str(v) for v in r))
    return table


# ------------------------------------------------------------------------------------------------
@queue_app.command("refresh")
def queue_refresh_cmd(
    run: Annotated[int | None, typer.Option("--run", help="Triage run id (default: the latest).")] = None,
    holidays: Annotated[str | None, typer.Option(
        "--holidays", help="Days off for SOP business days: us_federal (default), a CSV file (date,name) or "
        "none; default $EVERYCLAIM_HOLIDAYS.")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Build the work items from a triage run: new claims in, changed ones updated, finished ones closed
    (unchanged rows are not rewritten); route them by the SOPs and assign them within capacity."""
    with _work(db) as conn:  # a bad setting or calendar is reported like any WorkError
        settings = WorkSettings.from_env()
        if holidays is not None:
            settings = settings.model_copy(update={"holidays": holidays})
        res = refresh(conn, run_id=run, settings=settings)
    if as_json:
        _print_json(res.as_json())
        return
    out.print(f"triage run {res.run_id} ({res.as_of}): {res.source} claims need staff; {res.inserted} new, "
              f"{res.updated} changed, {res.unchanged} unchanged, {res.reopened} reopened, {res.closed} closed, "
              f"{res.assigned} assigned, {res.released} stale claims released in {sum(res.timings.values()):.2f} s")  # fmt: skip


@queue_app.command("show")
def queue_show_cmd(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Items and open dollars per queue and status."""
    with _work(db) as conn:
        counts = queue_counts(conn)
    if as_json:
        _print_json({"queues": counts})
        return
    cols = ["queue", "open", "claimed", "resolved", "closed", "open $"]
    rows = [[c["queue"], c["open"], c["claimed"], c["resolved"], c["closed"], f"{c['open_cents'] / 100:,.2f}"]
            for c in counts]  # fmt: skip
    out.print(_table("Work queues", cols, rows, right=lambda c: c != "queue"))


@queue_app.command("sop-audit")
def queue_sop_audit_cmd(
    today: Annotated[str | None, typer.Option("--today", help="Audit day (YYYY-MM-DD); default today.")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """SOP adherence: items done on time, late, overdue or pending, and deviating touches, per user,
    queue and rule; then the late and overdue items."""
    day = parse_day(today, "--today", default_today=True)
    assert day is not None
    with _work(db) as conn:
        res = sop_audit(conn, None, day)
    if as_json:
        _print_json(res.as_json())
        return
    cols = [*STATES, "deviating"]
    out.print(" ".join(f"{k} {res.totals[k]}" for k in cols))
    for title, view in (("per user", res.by_user), ("per queue", res.by_queue), ("per rule", res.by_rule)):
        rows = [[name, *(counts[k] for k in cols)] for name, counts in view.items()]
        out.print(_table(f"SOP adherence {title}", [title.split()[1], *cols], rows, right=lambda c: c in cols))
    if res.flagged:
        rows = [[f["pcn"], f["queue"], f["rule"], f["sop_action"], f["due"], f["done_on"] or "", f["state"], f["user"]]
                for f in res.flagged]  # fmt: skip
        out.print(_table("Late and overdue", ["claim", "queue", "rule", "SOP action", "due", "done", "state", "user"],
                         rows))  # fmt: skip


# ------------------------------------------------------------------------------------------------
def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return typer.prompt("Password", hide_input=True, confirmation_prompt=True)


@users_app.command("create")
def users_create_cmd(
    username: Annotated[str, typer.Argument(help="Login name (lower-case letters, digits, . _ -).")],
    role: Annotated[str, typer.Option("--role", help="admin, manager, biller or auditor.")] = "biller",
    skills: Annotated[str, typer.Option("--skills", help="Comma-separated skills, e.g. appeals,refunds.")] = "",
    capacity: Annotated[int, typer.Option("--capacity", help="Open items the user may hold (assignment).")] = 40,
    name: Annotated[str, typer.Option("--name", help="Display name.")] = "",
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from stdin.")] = False,
    db: DbOption = None,
) -> None:
    """Create a user (the password is asked for, or read from stdin; it is stored as an argon2id hash)."""
    password = _password(password_stdin)
    with _work(db) as conn:
        user = u.create_user(conn, None, username, password, role, display_name=name,
                             skills=[s for s in skills.split(",") if s], daily_capacity=capacity)  # fmt: skip
    out.print(f"[green]created[/green] {user.username} ({user.role})")


@users_app.command("list")
def users_list_cmd(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Every user with role, skills, capacity and whether active."""
    with _work(db) as conn:
        people = u.list_users(conn)
    if as_json:
        _print_json({"users": [p.public() for p in people]})
        return
    rows = [[p.username, p.display_name, p.role, ",".join(p.skills), p.daily_capacity, "yes" if p.active else "no"]
            for p in people]  # fmt: skip
    out.print(_table("Users", ["username", "name", "role", "skills", "capacity", "active"], rows))


# ------------------------------------------------------------------------------------------------
@routing_app.command("list")
def routing_list_cmd(db: DbOption = None, as_json: JsonOption = False) -> None:
    """The routing rules in force, in the order they are tried (the built-in SOPs on first use)."""
    with _work(db) as conn:
        rt.active_rules(conn)  # installs the built-in pack when the table is empty
        stored = rt.list_rules(conn)
    if as_json:
        _print_json({"rules": rt.rules_as_json(stored)})
        return
    rows = []
    for s in stored:
        r = s.rule
        when = r.when.model_dump_json(exclude_none=True)
        sop = f"{r.sop.action} in {r.sop.within_business_days} bd from {r.sop.start}" if r.sop else ""
        rows.append([s.position, r.id, when, r.queue, r.skill, r.assign_to, sop, "yes" if r.active else "no"])
    out.print(_table("Routing rules", ["pos", "id", "when", "queue", "skill", "user", "SOP", "active"], rows))


@routing_app.command("check")
def routing_check_cmd(
    paths: Annotated[list[Path], typer.Argument(help="YAML routing packs to validate.")],
) -> None:
    """Validate routing packs; print each error with its file and rule, exit 1 when there are any."""
    rules, errors = rt.load_sops(paths)
    for e in errors:
        err.print(f"[red]error[/red] {e}", highlight=False)
    if errors:
        raise typer.Exit(1)
    out.print(f"[green]ok[/green]: {len(rules)} rules")


# ------------------------------------------------------------------------------------------------
KPI_LABELS = {"days_in_ar": "days in A/R", "denial_rate": "denial rate (claims)",
              "denial_rate_dollars": "denial rate (billed $)", "net_collection_rate": "net collection rate",
              "first_pass_acceptance_rate": "first-pass acceptance rate", "pct_ar_over_90": "% of A/R over 90 days",
              "automation_share": "automation share (claims)", "automation_share_dollars": "automation share ($)"}  # fmt: skip


def _kpi(name: str, value: Any) -> str:
    if value is None:
        return "n/a"
    return str(value) if name == "days_in_ar" else f"{value * 100:.1f}%"


def kpis_cmd(
    as_of: Annotated[str | None, typer.Option("--as-of", help="Day (YYYY-MM-DD); default: the latest ATB snapshot.")] = None,
    window: Annotated[int, typer.Option("--window", min=1, help="Days the rates look back.")] = 90,
    months: Annotated[int, typer.Option("--months", min=1, help="Months of root-cause trend.")] = 12,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """The numbers leaders read: days in A/R, denial rate, net collection rate, first-pass acceptance,
    % of A/R over 90 days, automation share, payer mix, top root causes by month."""
    day = parse_day(as_of)
    with _work(db) as conn:
        res = kpis(conn, day, window_days=window, months=months)
    if res is None:
        err.print("no A/R snapshot yet: ingest an aged trial balance or give --as-of")
        raise typer.Exit(1)
    if as_json:
        _print_json(res.as_json())
        return
    rows = [["open A/R", f"{res.open_ar:,.2f}"]] + [[KPI_LABELS[k], _kpi(k, getattr(res, k))] for k in res.RATIOS]
    out.print(_table(f"KPIs on {res.as_of} (rates over {res.window_days} days)", ["KPI", "value"], rows,
                     right=lambda c: c == "value"))  # fmt: skip
    mix = [[m["financial_class"], m["claims"], m["dollars"], _kpi("share", Decimal(m["share"]))] for m in res.payer_mix]
    out.print(_table("Payer mix (open A/R)", ["financial class", "claims", "dollars", "share"], mix,
                     right=lambda c: c != "financial class"))  # fmt: skip
    trend = [[month, r["root_cause"], r["claims"], r["dollars"]] for month, causes in res.root_causes_by_month.items()
             for r in causes]  # fmt: skip
    out.print(_table("Top denial root causes by month", ["month", "root cause", "claims", "denied $"], trend,
                     right=lambda c: c in ("claims", "denied $")))  # fmt: skip
