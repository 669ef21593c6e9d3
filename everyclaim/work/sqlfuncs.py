"""SQL constructs compiled per dialect for the work queue (the rest is portable SQLAlchemy Core)."""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement


class plus_days(FunctionElement[date]):  # noqa: N801 - reads like the SQL it is
    """``plus_days(day, n)``: the date ``n`` days after the fixed date ``day`` (NULL when ``n`` is)."""

    type = sa.Date()
    inherit_cache = True

    def __init__(self, day: date, days: Any) -> None:
        super().__init__(sa.literal(day.isoformat(), sa.String), days)


@compiles(plus_days)
def _plus_days_default(element: plus_days, compiler: Any, **kw: Any) -> str:
    day, days = list(element.clauses)
    return f"(CAST({compiler.process(day, **kw)} AS DATE) + CAST({compiler.process(days, **kw)} AS INTEGER))"


@compiles(plus_days, "sqlite")
def _plus_days_sqlite(element: plus_days, compiler: Any, **kw: Any) -> str:
    day, days = list(element.clauses)
    return f"date(julianday({compiler.process(day, **kw)}) + {compiler.process(days, **kw)})"


def least(a: Any, b: Any) -> sa.Case:
    """The smaller of two values, ignoring NULLs (portable: SQLite's min() returns NULL on any NULL)."""
    return sa.case((a.is_(None), b), (b.is_(None), a), (a < b, a), else_=b)


class day_of(FunctionElement[date]):  # noqa: N801
    """``day_of(ts)``: the calendar day (UTC) of a timestamp column."""

    type = sa.Date()
    inherit_cache = True


@compiles(day_of)
def _day_of_default(element: day_of, compiler: Any, **kw: Any) -> str:
    return f"CAST({compiler.process(element.clauses, **kw)} AS DATE)"


@compiles(day_of, "sqlite")
def _day_of_sqlite(element: day_of, compiler: Any, **kw: Any) -> str:
    return f"date({compiler.process(element.clauses, **kw)})"
