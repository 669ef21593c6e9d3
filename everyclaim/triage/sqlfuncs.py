"""Two small SQL constructs the triage queries need, compiled per dialect.

* :class:`days_since` -- whole days from a date column to a fixed as-of date.
* :class:`csv_set` -- the distinct values of a text column as one ``,a,b,`` string (set membership is
  then a portable ``LIKE '%,a,%'``).

Everything else the triage SQL uses is plain, portable SQLAlchemy Core (CASE, EXISTS, window functions).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement


class days_since(FunctionElement[int]):  # noqa: N801 - reads like the SQL function it is
    """``days_since(col, as_of)``: the number of days from ``col`` to ``as_of`` (NULL when ``col`` is)."""

    type = sa.Integer()
    inherit_cache = True

    def __init__(self, col: Any, as_of: date) -> None:
        super().__init__(col, sa.literal(as_of.isoformat(), sa.String))


@compiles(days_since)
def _days_since_default(element: days_since, compiler: Any, **kw: Any) -> str:
    col, as_of = list(element.clauses)
    return f"(CAST({compiler.process(as_of, **kw)} AS DATE) - {compiler.process(col, **kw)})"


@compiles(days_since, "sqlite")
def _days_since_sqlite(element: days_since, compiler: Any, **kw: Any) -> str:
    col, as_of = list(element.clauses)
    return (f"CAST(julianday({compiler.process(as_of, **kw)}) - julianday({compiler.process(col, **kw)})"
            " AS INTEGER)")


class csv_set(FunctionElement[str]):  # noqa: N801
    """Aggregate: the distinct non-empty values as ``,a,b,`` (``''`` when there are none)."""

    type = sa.String()
    inherit_cache = True


def _csv(agg: str) -> str:
    return f"COALESCE(',' || {agg} || ',', '')"


@compiles(csv_set)
def _csv_set_default(element: csv_set, compiler: Any, **kw: Any) -> str:
    return _csv(f"string_agg(DISTINCT {compiler.process(element.clauses, **kw)}, ',')")


@compiles(csv_set, "sqlite")
def _csv_set_sqlite(element: csv_set, compiler: Any, **kw: Any) -> str:
    return _csv(f"group_concat(DISTINCT {compiler.process(element.clauses, **kw)})")


def csv_values(text: str | None) -> list[str]:
    """The sorted values of a ``,a,b,`` set string."""
    return sorted(v for v in (text or "").split(",") if v)
