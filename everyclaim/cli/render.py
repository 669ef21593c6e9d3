"""Rich rendering of ledger views for the terminal (no logic: the ledger computes, this prints)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

# Identifiers that are PHI: shown masked in the terminal (full values stay in --json for the user's own use).
PHI_KEYS = frozenset({"subscriber_id", "member_id", "subscriber_last", "subscriber_first", "patient_last",
                      "patient_first", "insured_id", "patient_name", "subscriber_name"})


def mask(value: object) -> str:
    """``"W123456789"`` -> ``"W1******89"``: enough to recognise, not enough to identify."""
    text = str(value or "")
    if len(text) <= 2:
        return "*" * len(text)
    if len(text) <= 4:
        return text[0] + "*" * (len(text) - 1)
    return text[:2] + "*" * (len(text) - 4) + text[-2:]


def _cell(key: str, value: Any) -> str:
    if value is None:
        return ""
    if key in PHI_KEYS:
        return mask(value)
    if isinstance(value, list | tuple):
        return ", ".join(_cell(key, v) for v in value)
    if isinstance(value, Mapping):
        return ", ".join(f"{k}={_cell(k, v)}" for k, v in value.items() if v not in (None, "", [], {}))
    return str(value)


# Plumbing columns a biller does not read in the terminal (all of them stay in --json).
WIDE = 9  # columns beyond which a list is shown as cards
HIDDEN = frozenset({"id", "file_id", "isa13", "gs06", "st02", "stable_id", "severity", "control"})


def _shown(key: str, rows: Sequence[Mapping[str, Any]]) -> bool:
    if key in HIDDEN or key.endswith("_id") and key not in ("payer_id", "claim_id"):
        return False
    return any(not isinstance(r.get(key), list | dict) and r.get(key) not in (None, "") for r in rows)


def table_of(title: str, rows: Sequence[Mapping[str, Any]]) -> Table:
    columns = [k for k in rows[0].keys() if _shown(k, rows)]
    table = Table(title=title, title_justify="left", show_lines=False)
    for col in columns:
        table.add_column(col)
    for row in rows:
        table.add_row(*(_cell(c, row.get(c)) for c in columns))
    return table


def print_rows(console: Console, title: str, rows: Sequence[Mapping[str, Any]]) -> None:
    """A short-rowed list as one table; wide rows (a remittance has ~20 fields) one card each."""
    if sum(_shown(k, rows) for k in rows[0]) <= WIDE:
        console.print(table_of(title, rows))
        return
    for i, row in enumerate(rows, 1):
        print_mapping(console, f"{title} #{i}", row)


def print_mapping(console: Console, title: str, data: Mapping[str, Any]) -> None:
    flat = {k: v for k, v in data.items() if not isinstance(v, list | dict) and v not in (None, "")
            and k not in HIDDEN}
    if flat:
        table = Table(title=title, title_justify="left", show_header=False)
        table.add_column("field", style="bold")
        table.add_column("value")
        for k, v in flat.items():
            table.add_row(k, _cell(k, v))
        console.print(table)
    for k, v in data.items():
        if isinstance(v, dict) and v:
            print_mapping(console, f"{title} / {k}", v)
        elif isinstance(v, list) and v and isinstance(v[0], Mapping):
            print_rows(console, f"{title} / {k}", v)


def print_story(console: Console, story: Mapping[str, Any]) -> None:
    """A claim's story, section by section, in the order the ledger gives it."""
    claim = story.get("claim") or {}
    console.rule(f"claim {claim.get('pcn', '')}")
    print_mapping(console, "claim story", story)


def print_findings(console: Console, findings: Sequence[Mapping[str, Any]], limit: int) -> None:
    """Findings grouped by code: a count table, then up to ``limit`` located rows per code."""
    if not findings:
        console.print("[green]no findings[/green]: the ledger reconciles")
        return
    by_code: dict[str, list[Mapping[str, Any]]] = {}
    for f in findings:
        by_code.setdefault(str(f.get("code", "?")), []).append(f)
    summary = Table(title="reconciliation findings", title_justify="left")
    summary.add_column("code")
    summary.add_column("count", justify="right")
    summary.add_column("example")
    for code, rows in sorted(by_code.items(), key=lambda kv: -len(kv[1])):
        summary.add_row(code, str(len(rows)), str(rows[0].get("message", ""))[:90])
    console.print(summary)
    for code, rows in sorted(by_code.items()):
        table = Table(title=f"{code} ({len(rows)})", title_justify="left")
        for col in ("where", "message"):
            table.add_column(col)
        for f in rows[:limit]:
            where = f"{Path(str(f.get('file') or '')).name}:{f.get('seg_index') or ''} {f.get('seg_id') or ''}"
            table.add_row(where.strip(" :"), str(f.get("message", "")))
        console.print(table)
