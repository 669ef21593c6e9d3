"""Option parsing shared by the command modules (one place for one rule)."""

from __future__ import annotations

from datetime import date

import typer


def parse_day(value: str | None, option: str = "--as-of", default_today: bool = False) -> date | None:
    """``YYYY-MM-DD`` to a date; ``None`` (or today) when absent; a usage error (exit 2) when malformed."""
    if value is None:
        return date.today() if default_today else None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"expected YYYY-MM-DD, got {value!r}", param_hint=option) from None
