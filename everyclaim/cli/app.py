"""The ``everyclaim`` command line: a thin layer over the package (Typer + Rich).

Exit codes: 0 success, 1 when a file was rejected or a check failed, 2 on usage errors.
The database comes from ``--db URL``, else ``EVERYCLAIM_DB``, else ``sqlite:///everyclaim.db``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import sqlalchemy.exc
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from everyclaim.cli import actions as actions_cli
from everyclaim.cli import demo as demo_cmd
from everyclaim.cli import economics as economics_cli
from everyclaim.cli import scoring as scoring_cli
from everyclaim.cli import triage as triage_cli
from everyclaim.cli import web as web_cli
from everyclaim.cli import work as work_cli
from everyclaim.cli.options import DbOption, JsonOption, open_ledger, parse_day
from everyclaim.ingest import pipeline
from everyclaim.ledger import db as ledger_db

app = typer.Typer(
    name="everyclaim",
    help="Work every claim in accounts receivable: ingest X12 837/835/277CA/999 and CSV, keep a claim "
    "ledger, reconcile it.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
claims_app = typer.Typer(help="Look at claims.", no_args_is_help=True)
ledger_app = typer.Typer(help="Reconcile the ledger.", no_args_is_help=True)
codes_app = typer.Typer(help="Explain CARC, RARC, CAS group, claim status and other codes.", no_args_is_help=True)
rules_app = typer.Typer(help="Triage rule packs: volume, dollars, reviewed accuracy and mode; validation.",
                        no_args_is_help=True)
outcomes_app = typer.Typer(help="Reviewed outcomes of triage rules (the automation gate's evidence).",
                           no_args_is_help=True)
app.command()(demo_cmd.demo)
app.command()(demo_cmd.synth)
app.command("triage")(triage_cli.triage_cmd)
rules_app.command("report")(triage_cli.rules_report_cmd)
rules_app.command("check")(triage_cli.rules_check_cmd)
outcomes_app.command("ingest")(triage_cli.outcomes_ingest_cmd)
app.add_typer(rules_app, name="rules")
app.add_typer(actions_cli.app, name="actions")
app.add_typer(outcomes_app, name="outcomes")
app.add_typer(claims_app, name="claims")
app.add_typer(ledger_app, name="ledger")
app.add_typer(codes_app, name="codes")
work_cli.register(app)  # queue, users, routing
web_cli.register(app, work_cli.users_app)  # serve, users reset-password
scoring_cli.register(app)  # score, model report
economics_cli.register(app)  # analyze threshold|capacity|buildup, simulate

out = Console()
err = Console(stderr=True)

def _parse_map(values: list[str]) -> dict[str, str]:
    mapping = {}
    for item in values:
        old, sep, new = item.partition("=")
        if not sep or not old.strip() or not new.strip():
            raise typer.BadParameter(f"expected old=new, got {item!r}", param_hint="--map")
        mapping[old.strip()] = new.strip()
    return mapping


# ------------------------------------------------------------------------------------------------
@app.command()
def init(db: DbOption = None) -> None:
    """Create the database or migrate it to the current schema."""
    url = ledger_db.resolve_url(db)
    ledger_db.upgrade(ledger_db.make_engine(url))
    out.print(f"[green]ready[/green]: {ledger_db.redact(url)} is at the current schema")


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders (X12 837/835/277CA/999, ATB or payer CSV).")],
    db: DbOption = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Snapshot date of ATB files (YYYY-MM-DD); "
                                              "default: each file's modification date.")] = None,
    map_: Annotated[list[str] | None, typer.Option("--map", help="Rename a CSV column: old=new (repeatable).")] = None,
    as_json: JsonOption = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="List every finding.")] = False,
) -> None:
    """Ingest files: the kind is detected from content; each file is posted whole or not at all."""
    options = pipeline.Options(as_of=parse_day(as_of, "--as-of"), mapping=_parse_map(map_ or []))
    engine = open_ledger(db)
    planned = pipeline.plan(paths, options.mapping)
    with _progress(disable=as_json or len(planned) < 2) as bar:
        task = bar.add_task("ingest", total=len(planned))

        def done(item: pipeline.Planned, outcome: pipeline.FileOutcome) -> None:
            bar.update(task, advance=1, description=f"ingest {item.path.name[:40]}")
            if not as_json:
                _print_outcome(outcome, verbose)

        summary = pipeline.ingest_planned(engine, planned, options, done)
    if as_json:
        print(json.dumps(summary.as_json(), indent=2, default=str))
    else:
        _print_summary(summary)
    raise typer.Exit(1 if summary.any_rejected else 0)


@app.command()
def validate(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="An X12 file.")],
    strict: Annotated[bool, typer.Option("--strict", help="Also validate with pyx12 (if installed).")] = False,
    as_json: JsonOption = False,
) -> None:
    """Read and validate one X12 file without posting anything; list its findings."""
    from everyclaim.x12.errors import X12Rejected
    from everyclaim.x12.read import read_path

    reading = read_path(file)
    counts: dict[str, int] = {}
    error = None
    try:
        for record in reading:
            name = type(record).__name__
            counts[name] = counts.get(name, 0) + 1
    except X12Rejected as exc:
        error = exc.problem
    strict_errors = _pyx12_errors(file) if strict else []
    if as_json:
        print(json.dumps({"file": str(file), "accepted": error is None, "error": error.located() if error else None,
                          "records": counts, "findings": [f.located() for f in reading.findings],
                          "pyx12": strict_errors}, indent=2))
    else:
        if error:
            err.print(f"[red]rejected[/red] {error.located()}")
        else:
            out.print(f"[green]accepted[/green] {file.name}: {reading.transactions} transaction(s), "
                      + ", ".join(f"{v} {k}" for k, v in sorted(counts.items())))
        for f in reading.findings:
            out.print(f"  [yellow]finding[/yellow] {f.located()}")
        for line in strict_errors:
            out.print(f"  [magenta]pyx12[/magenta] {line}")
    raise typer.Exit(1 if error else 0)


def _pyx12_errors(file: Path) -> list[str]:
    """pyx12's own verdict (its log lines), on an in-memory copy: nothing is written beside the file."""
    try:
        import pyx12.params
        import pyx12.x12n_document
    except ImportError:
        err.print("--strict needs pyx12: pip install pyx12")
        raise typer.Exit(2) from None
    import io
    import logging

    lines: list[str] = []

    class _Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.levelno >= logging.ERROR:
                lines.append(record.getMessage())

    logger, handler = logging.getLogger("pyx12"), _Collect()
    logger.addHandler(handler)
    logger.propagate = False
    text = file.read_bytes().decode("latin-1").lstrip("\ufeff\xef\xbb\xbf").replace("005010X223A2", "005010X223A1")
    try:
        pyx12.x12n_document.x12n_document(pyx12.params.params(), io.StringIO(text), None, None)
    except Exception as exc:  # noqa: BLE001 - pyx12 crashes on some inputs; report, do not die
        lines.append(f"pyx12 could not check this file ({type(exc).__name__})")
    finally:
        logger.removeHandler(handler)
    return lines


@claims_app.command("show")
def claims_show(
    pcn: Annotated[str, typer.Argument(help="Patient control number (CLM01 / CLP01 / ATB claim_id).")],
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """One claim's whole story: billed lines, submissions, acknowledgments, remittances, ATB, findings."""
    from everyclaim.ledger.story import claim_story, decode_codes
    from everyclaim.triage.engine import explain_claim

    with open_ledger(db).connect() as conn:
        story = claim_story(conn, pcn)
        if story is not None:
            story["triage"] = explain_claim(conn, pcn)
            decode_codes(story)
    if story is None:
        err.print(f"no claim with patient control number {pcn!r}")
        raise typer.Exit(1)
    if as_json:
        print(json.dumps(story, indent=2, default=str))
        return
    from everyclaim.cli.render import print_story

    print_story(out, story)


@ledger_app.command("check")
def ledger_check(db: DbOption = None, as_json: JsonOption = False,
                 limit: Annotated[int, typer.Option(help="Rows to show per code.")] = 20) -> None:
    """Reconciliation findings: unbalanced remittances, unmatched payments, credit balances, ATB mismatches."""
    from everyclaim.ledger.check import reconcile

    with open_ledger(db).connect() as conn:
        findings = reconcile(conn)
    if as_json:
        print(json.dumps(findings, indent=2, default=str))
        return
    from everyclaim.cli.render import print_findings

    print_findings(out, findings, limit)


@codes_app.command("carc")
def codes_carc(code: str) -> None:
    """Explain a Claim Adjustment Reason Code, e.g. `everyclaim codes carc 29`."""
    _explain("carc", code)


@codes_app.command("rarc")
def codes_rarc(code: str) -> None:
    """Explain a Remittance Advice Remark Code, e.g. `everyclaim codes rarc N290`."""
    _explain("rarc", code)


@codes_app.command("group")
def codes_group(code: str) -> None:
    """Explain a CAS group code (CO, PR, OA, PI, CR)."""
    _explain("group", code)


@codes_app.command("status")
def codes_status(code: str) -> None:
    """Explain a CLP02 claim status code (1, 2, 3, 4, 22 ...)."""
    _explain("claim_status", code)


def _explain(kind: str, code: str) -> None:
    from everyclaim.codes import load_code_sets

    text = load_code_sets().explain(kind, code.upper())
    if not text:
        err.print(f"unknown {kind} code {code!r}")
        raise typer.Exit(1)
    out.print(text)


# ------------------------------------------------------------------------------------------------
def _progress(disable: bool) -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=err, disable=disable, transient=True)


def _print_outcome(o: pipeline.FileOutcome, verbose: bool) -> None:
    style = {"accepted": "green", "rejected": "red", "duplicate": "cyan", "skipped": "dim"}[o.status]
    line = f"[{style}]{o.status:9}[/{style}] {o.path}"
    if o.status == "accepted":
        line += f"  ({o.kind}: {o.counts.get('claims', 0)} claims, {o.counts.get('payments', 0)} payments, " \
                f"{len(o.findings)} findings)"
    if o.error:
        line += f"\n          {o.error.located()}"
    elif o.message:
        line += f"  {o.message}"
    out.print(line, highlight=False)
    if verbose:
        for f in o.findings:
            out.print(f"          [yellow]finding[/yellow] {f.located()}", highlight=False)


def _print_summary(summary: pipeline.Summary) -> None:
    t = summary.totals()
    table = Table(title="ingest summary", show_header=True)
    for col in ("files", "transactions", "claims", "payments", "adjustments", "findings", "rejected files"):
        table.add_column(col, justify="right")
    table.add_row(*(str(t[k]) for k in ("files", "transactions", "claims", "payments", "adjustments", "findings",
                                        "rejected")))
    out.print(table)
    extra = [f"{t[k]} {k}" for k in ("duplicate", "skipped") if t[k]]
    if extra:
        out.print("also: " + ", ".join(extra) + " (nothing changed for those)")


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)
    except sqlalchemy.exc.OperationalError as exc:  # no traceback, no SQL parameters (PHI) on the terminal
        err.print(f"[red]database error[/red]: {type(exc.orig).__name__}: {str(exc.orig).splitlines()[0]}")
        err.print("check --db / EVERYCLAIM_DB, and run `everyclaim init`")
        sys.exit(1)
