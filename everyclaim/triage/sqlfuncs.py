"""Two small SQL constructs the triage queries need, compiled per dialect.

* :class:`days_since` -- whole days from a date column to a fixed as-of date.
* :class:`csv_set` -- the distinct values of a text column as one ``,a,b,`` string (set membership is
  then a portable ``LIKE '%,a,%'``).
* :class:`hash_bucket` -- a deterministic bucket ``0 .. n-1`` of a text value, the same on SQLite,
  PostgreSQL and DuckDB (and :func:`py_hash_bucket` in Python): the first 32 bits of its MD5, modulo n.
  SQLite has no MD5: :func:`register_sqlite` adds the function to a connection.

Everything else the triage SQL uses is plain, portable SQLAlchemy Core (CASE, EXISTS, window functions).
"""

from __future__ import annotations

import hashlib
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


class hash_bucket(FunctionElement[int]):  # noqa: N801
    """``hash_bucket(text, n)``: ``int(md5(text)[:8], 16) % n`` -- stable across runs and databases."""

    type = sa.Integer()
    inherit_cache = True

    def __init__(self, col: Any, n: int) -> None:
        super().__init__(col, sa.literal(int(n), sa.Integer))


def py_hash_bucket(text: str | None, n: int) -> int | None:
    """The Python twin of :class:`hash_bucket` (SQLite's implementation, and the tests' oracle)."""
    if text is None:
        return None
    return int(hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest()[:8], 16) % int(n)


@compiles(hash_bucket)
def _hash_bucket_default(element: hash_bucket, compiler: Any, **kw: Any) -> str:  # PostgreSQL
    from sqlalchemy.dialects.postgresql import BIT

    col, n = list(element.clauses)
    hexed = sa.literal_column("'x'", sa.String) + sa.func.substr(sa.func.md5(col), 1, 8)
    return compiler.process(sa.cast(sa.cast(hexed, BIT(32)), sa.BigInteger) % n, **kw)  # the % escaped per driver


@compiles(hash_bucket, "duckdb")
def _hash_bucket_duckdb(element: hash_bucket, compiler: Any, **kw: Any) -> str:
    col, n = (compiler.process(c, **kw) for c in element.clauses)
    return f"(CAST('0x' || substr(md5({col}), 1, 8) AS BIGINT) % {n})"


@compiles(hash_bucket, "sqlite")
def _hash_bucket_sqlite(element: hash_bucket, compiler: Any, **kw: Any) -> str:
    col, n = (compiler.process(c, **kw) for c in element.clauses)
    return f"ec_hash_bucket({col}, {n})"


def register_sqlite(conn: sa.Connection) -> None:
    """Add ``ec_hash_bucket`` to a SQLite connection (a no-op on other databases)."""
    if conn.dialect.name == "sqlite":
        raw = conn.connection.driver_connection
        raw.create_function("ec_hash_bucket", 2, py_hash_bucket, deterministic=True)  # type: ignore[union-attr]
