"""``everyclaim actions export``: the latest triage run's automated actions as files (see
:mod:`everyclaim.triage.actions`). Register with ``app.add_typer(actions_cli.app, name="actions")``.

Exit codes: 0 (also when there was nothing new to export), 1 when there is no triage run to export.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from everyclaim.cli.options import DbOption, JsonOption, open_ledger, parse_day
from everyclaim.triage import engine as eng
from everyclaim.triage.actions import ExportOptions, ExportResult, export_actions, latest_run_for

app = typer.Typer(help="Automated triage actions as files for the billing system and the clearinghouse.",
                  no_args_is_help=True)  # fmt: skip
out = Console()
err = Console(stderr=True)


@app.command("export")
def export_cmd(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the files (created when missing).")],
    as_of: Annotated[str | None, typer.Option("--as-of", help="Export the latest triage run of this date "
                                              "(YYYY-MM-DD); default: the latest run.")] = None,
    sender_id: Annotated[str, typer.Option("--sender-id", help="Submitter id: ISA06, GS02, NM1*41.")] = "EVERYCLAIM",
    receiver_id: Annotated[str, typer.Option("--receiver-id", help="Receiver id: ISA08, GS03, NM1*40.")] = "CLEARINGHOUSE",
    test: Annotated[bool, typer.Option("--test", help="Mark the X12 files as test data (ISA15 = T).")] = False,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Write-offs and transfers (CSV), replacement, secondary and other-payer 837s, 276 status inquiries."""
    day = parse_day(as_of)
    engine = open_ledger(db)
    opts = ExportOptions(today=date.today(), sender_id=sender_id, receiver_id=receiver_id, test=test)
    with engine.begin() as conn:
        eng.ensure_tables(conn)
        run = latest_run_for(conn, day)
        if run is None:
            err.print("no triage run" + (f" on {day}" if day else "") + ": run `everyclaim triage` first")
            raise typer.Exit(1)
        result = export_actions(conn, run[0], out_dir, opts)
    if as_json:
        print(json.dumps(result.as_json(), indent=2))
        return
    _print(result, out_dir)


def _print(r: ExportResult, out_dir: Path) -> None:
    if not r.files:
        out.print(f"nothing new to export from triage run {r.run_id} ({r.as_of}): "
                  f"{r.already_exported} automated actions were exported before")  # fmt: skip
    else:
        table = Table(title=f"Export batch {r.batch} from triage run {r.run_id} ({r.as_of}) -> {out_dir}",
                      title_justify="left")  # fmt: skip
        for col in ("file", "action", "records", "dollars"):
            table.add_column(col, justify="left" if col in ("file", "action") else "right")
        for f in r.files:
            table.add_row(f.name, f.action, str(f.records), f"${f.cents / 100:,.2f}")
        out.print(table)
        if r.already_exported:
            out.print(f"{r.already_exported} automated actions were exported before (not written again)")
    if r.skipped:
        reasons: dict[str, int] = {}
        for s in r.skipped:
            reasons[f"{s['action']}: {s['reason']}"] = reasons.get(f"{s['action']}: {s['reason']}", 0) + 1
        out.print(f"[yellow]skipped[/yellow] {len(r.skipped)} (listed in manifest.json):")
        for k, n in sorted(reasons.items(), key=lambda kv: -kv[1]):
            out.print(f"  {n:6d}  {k}", highlight=False)
