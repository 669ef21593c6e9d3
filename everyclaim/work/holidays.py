"""Holiday calendars for SOP business days: data, not code.

A calendar is a CSV file with a ``date,name`` header and one row per day off (``#`` lines are comments).
The built-in ``us_federal`` (``calendars/us_federal.csv``, 2015-2040) lists the US federal holidays
as observed: a holiday on a Saturday is off the Friday before, one on a Sunday the Monday after.

Which calendar ``queue refresh`` uses is the setting ``holidays`` (``EVERYCLAIM_HOLIDAYS``): a built-in
name, the path of a user's own CSV file, or ``none`` (weekends only). Business days skip weekends and
these days, on both databases: the calendar becomes the ``is_bday`` column of the temporary calendar
table the SOP due-date SQL joins through (:func:`everyclaim.work.routing.calendar_rows`).
"""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

from everyclaim.work.errors import Invalid

CALENDARS = Path(__file__).with_name("calendars")
NONE = "none"


def builtin_names() -> list[str]:
    return sorted(p.stem for p in CALENDARS.glob("*.csv"))


def read_holidays(path: Path) -> tuple[dict[date, str], list[str]]:
    """The days off in ``path`` and the errors, each as ``file:line: message``."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        return {}, [f"{path}: cannot read: {exc.strerror or exc}"]
    numbered = [(n, line) for n, line in enumerate(text.splitlines(), 1) if line.strip() and not line.startswith("#")]
    days: dict[date, str] = {}
    errors: list[str] = []
    rows = csv.reader([line for _, line in numbered])
    header = next(rows, None)
    if header is None or [h.strip().lower() for h in header[:2]] != ["date", "name"]:
        first = numbered[0][0] if numbered else 1
        return {}, [f"{path}:{first}: the first row must be the header date,name"]
    for (n, _), row in zip(numbered[1:], rows, strict=True):
        try:
            day = date.fromisoformat(row[0].strip())
        except (ValueError, IndexError):
            errors.append(f"{path}:{n}: not a date (YYYY-MM-DD): {row[0] if row else ''!r}")
            continue
        days[day] = row[1].strip() if len(row) > 1 else ""
    return days, errors


def load_holidays(choice: str) -> dict[date, str]:
    """The days off of ``choice`` (a built-in name, a CSV path or ``none``); ``Invalid`` with every error."""
    if not choice or choice == NONE:
        return {}
    path = CALENDARS / f"{choice}.csv" if choice in builtin_names() else Path(choice)
    if choice not in builtin_names() and not path.suffix:
        raise Invalid(f"holidays: {choice!r} is neither a built-in calendar ({', '.join(builtin_names())}), "
                      f"a CSV file nor {NONE!r}")
    days, errors = read_holidays(path)
    if errors:
        raise Invalid("; ".join(errors))
    return days
