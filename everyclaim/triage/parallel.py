"""Stage 1 of triage on both cores of a SQLite ledger: the open claims split in ``n`` shares by ATB row id.

SQLite runs one statement on one core. :func:`build_features` computes share 0 on the caller's
connection (straight into ``triage_features``) while ``n - 1`` threads compute the other shares, each on
its own connection to the same file, into a scratch database of its own; the caller's connection then
copies those rows in. ``sqlite3`` releases the GIL while a statement runs, so the shares run at once.
Each share also runs the triage's next step on its own features (``then``: the rule matches and the
result rows, which need nothing from the other shares), so that work is split the same way.

The workers read the ledger's **committed** state (WAL: they never wait on the caller's open
transaction), so the caller must not have uncommitted ledger writes in the transaction it triages in;
``triage(..., workers=2)`` is what ``everyclaim triage`` and ``bench/triage_speed.py`` use, right after
``BEGIN``. Each worker has its own ``triage_carc_map`` (a temporary table shadowing the ledger's,
which the caller's transaction has just refreshed but not committed). The claims' kept facts
(:func:`everyclaim.triage.features.facts_plan`) are read as committed; the caller stores the new ones.

SQLite refuses to DETACH a database that the open transaction has read, so the scratch databases stay
attached until the next run detaches them (their files are deleted at once).
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from everyclaim.triage import features as feat
from everyclaim.triage.sqlfuncs import py_hash_bucket

PREFIX = "ec_triage_part"


def sqlite_file(conn: sa.Connection) -> Path | None:
    """The ledger's file when ``conn`` is SQLite on a file (not in memory), else ``None``."""
    if conn.dialect.name != "sqlite":
        return None
    name = conn.engine.url.database
    if not name or name == ":memory:" or name.startswith("file:"):
        return None
    return Path(name)


@dataclass(frozen=True)
class Then:
    """A step that runs on each share's features right after them: ``step(features, stage)`` gives the
    SELECT of rows for ``target`` (the triage's results) from the share's ``features``, staging through
    ``stage``; ``digest(rows)``, a GROUP BY over a share's step rows, runs where the share ran and its
    rows land in ``digests`` (totals the caller adds up instead of grouping every row once more)."""

    target: sa.Table
    step: Callable[[Any, Callable[[str, sa.CTE], Any]], sa.Select[Any]]
    digest: Callable[[Any], sa.Select[Any]] | None = None
    digests: list[tuple[Any, ...]] = field(default_factory=list)


def build_features(conn: sa.Connection, as_of: date, workers: int = 2, then: Then | None = None) -> int:
    """:func:`everyclaim.triage.features.build_features` split over ``workers`` connections (SQLite on a
    file; anything else, or ``workers <= 1``, runs the single-statement version), then ``then`` on each
    share (or once on all the features), its rows inserted into its target table."""
    path = sqlite_file(conn)
    if path is None or workers <= 1:
        n = feat.build_features(conn, as_of)
        _then_here(conn, then)
        return n
    _detach_old(conn)
    feat.ensure_tables(conn)
    feat.load_carc_map(conn)
    conn.execute(sa.delete(feat.triage_features))
    snap = feat.latest_snapshot(conn, as_of)
    if snap is None:
        return 0
    plan = feat.facts_plan(conn)
    scratch = Path(tempfile.mkdtemp(prefix="ec-triage-"))
    try:
        errors: list[BaseException] = []
        threads = [threading.Thread(target=_worker, args=(path, scratch / f"part{k}.db", snap[0], as_of, plan,
                                                          (k, workers), conn.dialect, then, errors))
                   for k in range(1, workers)]  # fmt: skip
        for th in threads:
            th.start()
        stmt = feat.features_select(snap[0], as_of, plan, stage=lambda name, cte: feat.stage_table(conn, name, cte),
                                    part=(0, workers), store=lambda new, stale: feat.store_facts(conn, plan, [new], stale))  # fmt: skip
        cols = [c.name for c in stmt.selected_columns]
        conn.execute(sa.insert(feat.triage_features).from_select(cols, stmt))
        _then_here(conn, then)  # on this share's features (the others' are not copied in yet)
        for th in threads:
            th.join()
        if errors:
            raise errors[0]
        names = ", ".join(cols)
        new_facts = []
        for k in range(1, workers):
            conn.exec_driver_sql(f"ATTACH DATABASE ? AS {PREFIX}{k}", (str(scratch / f"part{k}.db"),))
            conn.exec_driver_sql(f"INSERT INTO triage_features ({names}) SELECT {names} FROM {PREFIX}{k}.features")
            new_facts.append(sa.table("new_facts", *(sa.column(c.name) for c in feat.claim_facts.c),
                                      schema=f"{PREFIX}{k}"))  # fmt: skip
            if then is not None:
                names_then = ", ".join(c.name for c in then.target.c)
                conn.exec_driver_sql(f"INSERT INTO {then.target.name} ({names_then}) "
                                     f"SELECT {names_then} FROM {PREFIX}{k}.step_rows")  # fmt: skip
        feat.add_facts(conn, new_facts)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return int(conn.execute(sa.select(sa.func.count()).select_from(feat.triage_features)).scalar_one())


def _then_here(conn: sa.Connection, then: Then | None) -> None:
    """``then`` on the caller's share (or on all the features): its rows, then their digest."""
    if then is not None:
        sel = then.step(feat.triage_features, lambda name, cte: feat.stage_table(conn, name, cte))
        conn.execute(sa.insert(then.target).from_select([c.name for c in sel.selected_columns], sel))
        if then.digest is not None:  # the target holds this share's rows only (the others come later)
            then.digests.extend(tuple(r) for r in conn.execute(then.digest(then.target)))


def _detach_old(conn: sa.Connection) -> None:
    """Detach the scratch databases an earlier run on this connection left attached."""
    for row in conn.exec_driver_sql("PRAGMA database_list").all():
        if str(row[1]).startswith(PREFIX):
            conn.exec_driver_sql(f"DETACH DATABASE {row[1]}")


def _worker(ledger: Path, out: Path, snapshot_id: int, as_of: date, plan: feat.FactsPlan, part: tuple[int, int],
            dialect: Any, then: Then | None, errors: list[BaseException]) -> None:  # fmt: skip
    """One share of the features, read from the ledger's committed state into ``out``: the table
    ``features``, ``new_facts`` (the facts of this share's claims computed now) and ``then`` (its step's
    rows)."""
    try:
        db = sqlite3.connect(ledger, isolation_level=None, check_same_thread=False)
        try:
            db.execute("PRAGMA busy_timeout=30000")
            for pragma in feat.SQLITE_PRAGMAS:
                db.execute(pragma)
            db.execute("ATTACH DATABASE ? AS scratch", (str(out),))
            db.execute("PRAGMA scratch.journal_mode=OFF")  # a scratch file: nothing to roll back
            db.execute("PRAGMA scratch.synchronous=OFF")
            m = feat.carc_map
            db.execute(f"CREATE TEMPORARY TABLE {m.name} (group_code TEXT, carc TEXT, rarc TEXT, category TEXT, "
                       "is_denial INTEGER, specificity INTEGER)")  # fmt: skip
            db.executemany(f"INSERT INTO temp.{m.name} VALUES (:group_code, :carc, :rarc, :category, :is_denial, "
                           ":specificity)", feat.carc_map_rows())  # fmt: skip
            db.execute(f"CREATE INDEX temp.ix_tmp_carc_map_carc ON {m.name} (carc)")

            def stage(name: str, cte: sa.CTE) -> Any:
                stmts, table = feat.stage_sql(name, cte, dialect)
                for s in stmts:
                    db.execute(s)
                return table

            stmt = feat.features_select(snapshot_id, as_of, plan, stage=stage, part=part)
            sql = str(stmt.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
            db.execute(f"CREATE TABLE scratch.features AS {sql}")
            db.execute("CREATE TABLE scratch.new_facts AS SELECT * FROM temp.tmp_triage_new_facts")
            if then is not None:
                db.create_function("ec_hash_bucket", 2, py_hash_bucket, deterministic=True)
                mine = sa.table("features", *(sa.column(c.name, c.type) for c in feat.triage_features.c),
                                schema="scratch")  # fmt: skip
                sql = then.step(mine, stage).compile(dialect=dialect, compile_kwargs={"literal_binds": True})
                db.execute(f"CREATE TABLE scratch.step_rows AS {sql}")
                if then.digest is not None:
                    rows = sa.table("step_rows", *(sa.column(c.name, c.type) for c in then.target.c), schema="scratch")
                    digest = then.digest(rows).compile(dialect=dialect, compile_kwargs={"literal_binds": True})
                    then.digests.extend(tuple(r) for r in db.execute(str(digest)))  # list.extend: atomic
        finally:
            db.close()
    except BaseException as e:  # noqa: BLE001 - handed to the caller's thread, raised there
        errors.append(e)
