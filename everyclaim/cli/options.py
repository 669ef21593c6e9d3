"""Option parsing shared by the command modules (one place for one rule)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import sqlalchemy as sa
import typer

from everyclaim.ledger import db as ledger_db

DbOption = Annotated[
    str | None,
    typer.Option("--db", help="Database URL (default: $EVERYCLAIM_DB or sqlite:///everyclaim.db).",
                 show_default=False),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON object instead of tables.")]


def open_ledger(db: str | None) -> sa.Engine:
    """The engine for ``--db`` (or its defaults), migrated to the current schema."""
    engine = ledger_db.make_engine(ledger_db.resolve_url(db))
    ledger_db.upgrade(engine)
    return engine


def parse_day(value: str | None, option: str = "--as-of", default_today: bool = False) -> date | None:
    """``YYYY-MM-DD`` to a date; ``None`` (or today) when absent; a usage error (exit 2) when malformed."""
    if value is None:
        return date.today() if default_today else None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"expected YYYY-MM-DD, got {value!r}", param_hint=option) from None
