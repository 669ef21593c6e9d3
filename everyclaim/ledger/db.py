"""Engines, URLs and migrations.

``make_engine`` gives an engine configured the same way everywhere: SQLite in WAL mode with
foreign keys on, a busy timeout and real SAVEPOINTs (and ``BEGIN IMMEDIATE`` on a connection with the
execution option ``sqlite_begin="IMMEDIATE"``); PostgreSQL through psycopg 3.
``upgrade`` brings a database to the Alembic head shipped inside this package (``everyclaim init``).
Services never commit: the command or request owns the transaction (``with engine.begin() as conn``).
"""

from __future__ import annotations

import functools
import itertools
import operator
import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

try:  # the optional compiled insert (setup.py): bound rows go to SQLite through its C API
    from everyclaim.ledger import _sqlite  # type: ignore[attr-defined]

    _sqlite.register()  # connections opened from now on get everyclaim_attach()
except ImportError:
    _sqlite = None

DEFAULT_URL = "sqlite:///everyclaim.db"
ENV_VAR = "EVERYCLAIM_DB"
MIGRATIONS = Path(__file__).with_name("migrations")


def resolve_url(cli_value: str | None) -> str:
    """``--db URL`` wins over ``$EVERYCLAIM_DB``, which wins over ``sqlite:///everyclaim.db``."""
    return cli_value or os.environ.get(ENV_VAR) or DEFAULT_URL


def _normalise(url: str) -> str:
    """Plain ``postgresql://`` URLs get the psycopg 3 driver."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def redact(url: str) -> str:
    """The URL with its password masked, for printing."""
    return sa.make_url(_normalise(url)).render_as_string(hide_password=True)


def make_engine(url: str, **kw: object) -> sa.Engine:
    """An engine for ``url``; SQLite gets WAL, foreign keys, busy timeout and proper transactions."""
    url = _normalise(url)
    if not url.startswith("sqlite"):
        return sa.create_engine(url, **kw)  # type: ignore[arg-type]
    engine = sa.create_engine(url, **kw)  # type: ignore[arg-type]

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):  # type: ignore[no-untyped-def]
        dbapi_conn.isolation_level = None  # let SQLAlchemy emit BEGIN (SAVEPOINT works)
        cur = dbapi_conn.cursor()
        if ":memory:" not in url and url not in ("sqlite://", "sqlite:///"):
            cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA cache_size=-16384")  # 16 MiB per connection: bounded, so a long ingest stays flat
        cur.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn):  # type: ignore[no-untyped-def]
        # ``conn.execution_options(sqlite_begin="IMMEDIATE")`` takes the write lock up front
        conn.exec_driver_sql(("BEGIN " + conn.get_execution_options().get("sqlite_begin", "")).strip())

    return engine


def alembic_config(url: str = "") -> Config:
    """An Alembic config pointing at the migrations inside the installed package (no alembic.ini)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if url:
        cfg.set_main_option("sqlalchemy.url", _normalise(url).replace("%", "%%"))
    return cfg


def upgrade(engine_or_url: sa.Engine | str, revision: str = "head") -> None:
    """Migrate the database to ``revision`` (the head by default). Idempotent."""
    engine = make_engine(engine_or_url) if isinstance(engine_or_url, str) else engine_or_url
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
    if isinstance(engine_or_url, str):
        engine.dispose()


def current_revision(conn: sa.Connection) -> str | None:
    """The Alembic revision the database is at (``None`` when never migrated)."""
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(conn).get_current_revision()


# --------------------------------------------------------------------------------------------------
# Bulk writes: multi-row INSERT through the driver, the same SQL on SQLite and PostgreSQL
# --------------------------------------------------------------------------------------------------
MAX_PARAMS = 30_000  # below SQLite's 32,766 and PostgreSQL's 65,535 bound parameters per statement
PAGE_ROWS = 256  # rows per SQLite INSERT statement at most (a power of two; see _page)


def _iso(v: Any) -> Any:
    return None if v is None else v.isoformat()


def _converter(col: sa.Column, dialect: sa.Dialect) -> Callable[[Any], Any] | None:
    """SQLAlchemy's own bind processing for ``col`` (e.g. SQLite dates as ISO text), or None."""
    if dialect.name == "sqlite" and type(col.type) is sa.Date:
        return _iso  # what SQLAlchemy stores ("YYYY-MM-DD"), without its per-value formatting
    return col.type.dialect_impl(dialect).bind_processor(dialect)


def bulk_insert(conn: sa.Connection, table: sa.Table, rows: Sequence[dict[str, Any]],
                on_conflict: Sequence[str] = (), updates: dict[str, str] | None = None) -> None:
    """Insert ``rows`` (dicts with the same keys) in large batches; see :func:`insert_tuples`."""
    if not rows:
        return
    cols = list(rows[0])
    get = operator.itemgetter(*cols) if len(cols) > 1 else (lambda r: (r[cols[0]],))
    insert_tuples(conn, table, cols, list(map(get, rows)), on_conflict, updates)


def insert_tuples(conn: sa.Connection, table: sa.Table, cols: Sequence[str], rows: Sequence[tuple[Any, ...]],
                  on_conflict: Sequence[str] = (), updates: dict[str, str] | None = None,
                  bound: bool = False) -> None:
    """Insert ``rows`` (tuples in the order of ``cols``), bypassing SQLAlchemy's per-row work.

    SQLite gets multi-row ``INSERT ... VALUES (...), (...)``; PostgreSQL gets ``COPY`` (into a
    temporary table first when upserting, then ``INSERT ... SELECT ... ON CONFLICT``).
    With ``on_conflict`` (key columns) it upserts: ``ON CONFLICT (keys) DO UPDATE SET`` every other
    column from ``excluded``, or the SQL expressions in ``updates`` (``{"col": "coalesce(...)"}``).
    ``bound``: on SQLite the values are already what SQLAlchemy would bind (dates as ISO text, booleans
    0/1, quantities float, as ``ledger/_rows.c`` builds them); they go to the driver unconverted.
    """
    if not rows:
        return
    cols = list(cols)
    quoted = ", ".join(f'"{c}"' for c in cols)
    tail = _conflict_clause(cols, on_conflict, updates)
    if conn.dialect.name == "postgresql":
        _pg_copy(conn, table.name, cols, rows, tail)
        return
    width = len(cols)
    page = _page(width)
    i, n = 0, len(rows)
    if bound:  # straight to the driver's cursor: no per-value conversion, no per-statement SQLAlchemy work
        cur = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        chain = itertools.chain.from_iterable
        try:
            while i < n:
                k = page
                while k > n - i:  # the rest in power-of-two pages: few distinct statements (see _page)
                    k >>= 1
                cur.execute(_insert_sql(table.name, quoted, tail, width, k), tuple(chain(rows[i : i + k])))
                i += k
        finally:
            cur.close()
        return
    convert = [(j, f) for j, f in enumerate(_converter(table.c[c], conn.dialect) for c in cols) if f]
    while i < n:
        k = page
        while k > n - i:  # the rest in power-of-two pages: few distinct statements (see _page)
            k >>= 1
        params = list(itertools.chain.from_iterable(rows[i : i + k]))
        for j, f in convert:  # only the few columns that need it (dates on SQLite)
            params[j::width] = [f(v) for v in params[j::width]]
        conn.exec_driver_sql(_insert_sql(table.name, quoted, tail, width, k), tuple(params))
        i += k


def insert_batches(conn: sa.Connection, batches: Sequence[tuple[sa.Table, Sequence[str], Sequence[tuple[Any, ...]]]],
                   bound: bool = False) -> None:
    """:func:`insert_tuples` for several tables in order, through the driver (the compiled insert is
    :func:`native_page` on a :func:`native_connection`)."""
    for table, cols, rows in batches:
        insert_tuples(conn, table, cols, rows, bound=bound)


def native_connection(conn: sa.Connection) -> Any:
    """The compiled insert's handle on ``conn``'s SQLite connection (valid while ``conn`` is held), or
    None where it is not available (not built, ``EVERYCLAIM_PURE=1``, not SQLite, or a sqlite3 module
    with its own copy of SQLite)."""
    if _sqlite is None or conn.dialect.name != "sqlite" or os.environ.get("EVERYCLAIM_PURE", "") not in ("", "0"):
        return None
    try:
        conn.connection.dbapi_connection.execute("SELECT everyclaim_attach()").fetchall()  # type: ignore[union-attr]
    except Exception:  # noqa: BLE001 - e.g. "no such function": the sqlite3 module has its own SQLite
        return None
    return _sqlite.connection()


def native_page(batches: Sequence[tuple[sa.Table, Sequence[str], Sequence[tuple[Any, ...]]]]) -> Any:
    """The rows of ``batches`` (tables in order, tuples in SQLite's bound forms) read into a compiled
    page; ``page.insert(native_connection(conn))`` then inserts them without the GIL."""
    return _sqlite.Page([(_insert_sql(table.name, ", ".join(f'"{c}"' for c in cols), "", len(cols), 1), rows)
                         for table, cols, rows in batches if rows])


def _page(width: int) -> int:
    """Rows per multi-row INSERT on SQLite: the largest power of two <= PAGE_ROWS within MAX_PARAMS.

    Every distinct statement text is compiled and kept in the driver's statement cache (128 per
    connection); a statement with thousands of rows compiles to megabytes. Pages of a fixed power of two,
    and the rest split into powers of two, keep the distinct statements per table to about 10 and the
    memory of a long ingest flat."""
    k = 1
    while k * 2 <= PAGE_ROWS and k * 2 * width <= MAX_PARAMS:
        k *= 2
    return k


@functools.lru_cache(maxsize=256)
def _insert_sql(table: str, quoted: str, tail: str, width: int, rows: int) -> str:
    one = "(" + ", ".join(["?"] * width) + ")"
    return f'INSERT INTO "{table}" ({quoted}) VALUES ' + ", ".join([one] * rows) + tail


def _pg_copy(conn: sa.Connection, table: str, cols: list[str], values: Iterable[tuple[Any, ...]],
             conflict: str) -> None:
    """COPY ``values`` into ``table`` (through a temporary table when ``conflict`` is an upsert)."""
    raw = conn.connection.dbapi_connection
    quoted = ", ".join(f'"{c}"' for c in cols)
    target = f"_bulk_{table}" if conflict else table
    with raw.cursor() as cur:  # type: ignore[union-attr]
        if conflict:
            cur.execute(f'CREATE TEMP TABLE IF NOT EXISTS "{target}" (LIKE "{table}" INCLUDING DEFAULTS) '
                        "ON COMMIT DROP")
        with cur.copy(f'COPY "{target}" ({quoted}) FROM STDIN') as copy:
            for row in values:
                copy.write_row(row)
        if conflict:
            cur.execute(f'INSERT INTO "{table}" ({quoted}) SELECT {quoted} FROM "{target}"{conflict}')
            cur.execute(f'TRUNCATE "{target}"')


def _conflict_clause(cols: list[str], keys: Sequence[str], updates: dict[str, str] | None) -> str:
    if not keys:
        return ""
    sets = {c: f'excluded."{c}"' for c in cols if c not in keys} | (updates or {})
    assignments = ", ".join(f'"{c}" = {expr}' for c, expr in sets.items())
    return f' ON CONFLICT ({", ".join(keys)}) DO UPDATE SET {assignments}'


def allocate_ids(conn: sa.Connection, table: sa.Table, n: int) -> list[int]:
    """Reserve ``n`` new primary keys of ``table`` (so children can be linked without a round trip).

    PostgreSQL draws them from the table's sequence (safe under concurrency); SQLite counts on from
    ``max(id)``, which is safe because the caller's transaction already holds the write lock.
    """
    if n <= 0:
        return []
    if conn.dialect.name == "postgresql":
        sql = "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)"
        return [r[0] for r in conn.exec_driver_sql(sql, (table.name, n))]
    start = conn.execute(sa.select(sa.func.coalesce(sa.func.max(table.c.id), 0))).scalar_one()
    return list(range(start + 1, start + 1 + n))
