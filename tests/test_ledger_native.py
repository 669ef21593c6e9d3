"""The compiled 835 row builder (everyclaim/ledger/_rows.c) against post.py's Python rows, on SQLite and
PostgreSQL: the same files (and hand-written records: unbalanced claims and lines, parties missing, a
sub-cent amount) must leave identical tables (ids included) and raise the same errors either way."""

from __future__ import annotations

import os
import sqlite3
import threading
from datetime import date
from decimal import Decimal
from pathlib import Path
from unittest import mock

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from everyclaim.ingest.pipeline import ingest
from everyclaim.ledger import db as ledger_db
from everyclaim.ledger import post as ledger_post
from everyclaim.ledger import schema as t
from everyclaim.ledger.balances import to_cents
from everyclaim.ledger.post import FileMeta, post_file
from everyclaim.ledger.records import Party, ServicePayment
from everyclaim.x12 import native
from tests.conftest import D, cas, payment, plb, remittance

from .shared_data import valid_files

pytestmark = pytest.mark.skipif(ledger_post._rows is None, reason="the C extension is not built (pure Python only)")

TABLES = ("files", "remittances", "claim_payments", "line_payments", "adjustments", "remarks", "provider_adjustments",
          "findings")
VOLATILE = {"ingested_at", "created_at"}


def _dump(engine: sa.Engine) -> dict[str, list[tuple]]:
    out = {}
    with engine.connect() as conn:
        for name in TABLES:
            table = t.metadata.tables[name]
            cols = [c for c in table.c if c.name not in VOLATILE]
            out[name] = [tuple(r) for r in conn.execute(sa.select(*cols).order_by(table.c.id))]
    return out


def _empty(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            names = ", ".join(f'"{n}"' for n in TABLES)
            conn.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
        else:
            for name in reversed(TABLES):
                conn.exec_driver_sql(f'DELETE FROM "{name}"')


def _both(engine: sa.Engine, run) -> tuple:  # noqa: ANN001
    """``run()`` on the Python rows, then (on an emptied ledger) on the compiled rows: (dump, outcome) each."""
    seen = []
    for pure in ("1", ""):
        _empty(engine)
        with mock.patch.dict(os.environ, {native.ENV: pure}):
            try:
                outcome = run()
            except Exception as exc:  # noqa: BLE001 - the same error either way is the point
                outcome = (type(exc), str(exc))
        seen.append((_dump(engine), outcome))
    return seen[0], seen[1]


def test_every_835_sample_posts_the_same_rows(engine: sa.Engine) -> None:
    files = valid_files("835")

    def run():  # noqa: ANN202
        summary = ingest(engine, files)
        return [(o.status, o.counts) for o in summary.outcomes]

    pure, fast = _both(engine, run)
    assert pure[0]["claim_payments"]
    assert fast[1] == pure[1]
    for name in TABLES:
        assert fast[0][name] == pure[0][name], name


def test_hand_written_records_post_the_same_rows_and_findings(engine: sa.Engine) -> None:
    lines = (
        ServicePayment("HC", "99213", ("25", "59"), D("100.00"), D("70.00"), revenue_code="0450", units=D("2"),
                       original_procedure="99214", service_date=date(2026, 1, 2), line_control="L1",
                       adjustments=(cas("CO", "45", "20.00"),), allowed=D("80.00"), seg_index=25),
        ServicePayment("HC", "97110", (), D("50.00"), D("50.00"), seg_index=30),
    )
    p1 = payment("B1", "150.00", "120.00", cas("PR", "2", "5.00"), lines=lines)
    p2 = payment("B2", "10.00", "0", cas("CO", "50", "10.00"), status="4")
    p3 = payment("B3", "10.00", "-10.00", status="22")
    p3 = type(p3)(**{**{f: getattr(p3, f) for f in p3.__dataclass_fields__},
                     "insured": Party("IL", "DOE", "JOHN", "MI", "W1"),
                     "corrected_priority_payer": Party("PR", "OTHER PLAN", id="OTH1"), "coverage_amount": D("3.50")})

    def run():  # noqa: ANN202
        with engine.begin() as conn:
            r = post_file(conn, FileMeta("c" * 64, "c.835", "835", 1),
                          [remittance("110.00"), p1, p2, p3, plb("-1.00", "L6")], [])
            return r.counts(), sorted(p.message for p in r.problems)

    pure, fast = _both(engine, run)
    assert len(pure[1][1]) >= 2  # unbalanced claim and line findings were made
    assert fast == pure


def test_a_sub_cent_amount_raises_the_same_error(engine: sa.Engine) -> None:
    bad = payment("C1", "10.005", "10.00")

    def run():  # noqa: ANN202
        with engine.begin() as conn:
            post_file(conn, FileMeta("d" * 64, "d.835", "835", 1), [remittance("10.00"), bad], [])

    pure, fast = _both(engine, run)
    assert pure[1][0] is ValueError and "fractions of a cent" in pure[1][1]
    assert fast == pure


def test_the_bench_generator_file_posts_the_same_rows(engine: sa.Engine, tmp_path: Path) -> None:
    import importlib.util  # noqa: PLC0415

    spec = importlib.util.spec_from_file_location("bench_ingest_835", Path(__file__).parents[1] / "bench" / "ingest_835.py")
    bench = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(bench)  # type: ignore[union-attr]
    path = tmp_path / "g.835"
    bench.generate(path, 2500, seed=7)  # many flush pages (post.PAGE claims each)

    def run():  # noqa: ANN202
        return [(o.status, o.counts) for o in ingest(engine, [path]).outcomes]

    pure, fast = _both(engine, run)
    assert fast[1] == pure[1] and pure[1][0][1]["payments"] == 2500
    for name in TABLES:
        assert fast[0][name] == pure[0][name], name


@given(st.one_of(st.decimals(allow_nan=True, allow_infinity=True), st.decimals(places=2, allow_nan=False),
                 st.decimals(places=3, allow_nan=False), st.integers(-10**20, 10**20).map(lambda i: D(i).scaleb(-2)),
                 st.sampled_from(["0", "-0.00", "1E+2", "12.340", "12.345", "0E-8", "123456789012345.67",
                                  "1234567890123456.78", "-0.5"]).map(D)))
def test_the_builders_cents_are_to_cents(amount: Decimal) -> None:
    """Read in place off the Decimal (everyclaim/_decimal.h) or through its text, the cents are to_cents'."""
    def outcome(f):  # noqa: ANN001, ANN202
        try:
            return f(amount)
        except Exception as exc:  # noqa: BLE001
            return (type(exc), str(exc))

    assert outcome(lambda a: ledger_post._rows.cents(a, to_cents)) == outcome(to_cents)


def test_the_builders_cents_are_read_in_place_on_this_python() -> None:
    """setup() checked the Decimal layout against the constructor's and turned the in-place read on
    (were it off, the cents would still be right, only slower: this says which)."""
    assert ledger_post._rows.in_place()


def test_sqlite_connections_take_rows_through_the_compiled_insert(engine: sa.Engine) -> None:
    if engine.dialect.name != "sqlite" or ledger_db._sqlite is None or not native.enabled():
        pytest.skip("the compiled insert is for SQLite, when built and not switched off (EVERYCLAIM_PURE=1)")
    cols = ["id", "sha256", "name", "kind", "size", "status", "ingested_at"]
    with engine.begin() as conn:
        handle = ledger_db.native_connection(conn)
        assert handle is not None  # everyclaim_attach() is there: the measured path
        page = ledger_db.native_page([(t.files, cols, [(7, "e" * 64, "x'y\u00e9.835", "835", 1, "accepted",
                                                        "2026-11-29 00:00:00")])])
        assert page.insert(handle) == 1
        assert conn.execute(sa.select(t.files.c.name).where(t.files.c.id == 7)).scalar_one() == "x'y\u00e9.835"
        again = ledger_db.native_page([(t.files, cols, [(7, "f" * 64, "z", "835", 1, "accepted", "2026-11-29 00:00:00")])])
        with pytest.raises(sqlite3.IntegrityError):  # the same id again: SQLite's error, raised as the driver's
            again.insert(handle)


def test_an_error_in_the_writer_thread_reaches_the_reader_and_posts_nothing(engine: sa.Engine, tmp_path: Path) -> None:
    """On SQLite the pages are written on a second thread; a failure there (here a real trigger that
    refuses one CAS code) must surface as the ingest's error, leave no row of the file and no thread."""
    import importlib.util  # noqa: PLC0415

    spec = importlib.util.spec_from_file_location("bench_ingest_835", Path(__file__).parents[1] / "bench" / "ingest_835.py")
    bench = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(bench)  # type: ignore[union-attr]
    path = tmp_path / "g.835"
    bench.generate(path, 5000, seed=11)  # several pages, so the failing one is not the last
    if engine.dialect.name == "sqlite":
        trigger = ("CREATE TRIGGER refuse_b7 BEFORE INSERT ON adjustments WHEN NEW.carc = 'B7' "
                   "BEGIN SELECT RAISE(ABORT, 'B7 refused'); END")
    else:
        trigger = None
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE OR REPLACE FUNCTION refuse_b7() RETURNS trigger AS $$ BEGIN "
                                 "IF NEW.carc = 'B7' THEN RAISE EXCEPTION 'B7 refused'; END IF; RETURN NEW; END $$ "
                                 "LANGUAGE plpgsql")
            conn.exec_driver_sql("CREATE TRIGGER refuse_b7 BEFORE INSERT ON adjustments FOR EACH ROW "
                                 "EXECUTE FUNCTION refuse_b7()")
    if trigger:
        with engine.begin() as conn:
            conn.exec_driver_sql(trigger)
    threads = threading.active_count()
    try:
        with pytest.raises(Exception, match="B7 refused"):
            ingest(engine, [path])
        assert threading.active_count() == threads
        with engine.connect() as conn:
            for name in ("remittances", "claim_payments", "line_payments", "adjustments", "remarks"):
                assert conn.execute(sa.select(sa.func.count()).select_from(t.metadata.tables[name])).scalar_one() == 0
    finally:
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP TRIGGER IF EXISTS refuse_b7" + (" ON adjustments" if engine.dialect.name != "sqlite" else ""))


def test_a_file_rejected_after_pages_were_written_posts_nothing(engine: sa.Engine, tmp_path: Path) -> None:
    """The reader rejects a file at its last claims, after the writer has posted pages of it: the file is
    rejected whole (nothing of it in the ledger, its error located) and the writer is gone."""
    import importlib.util  # noqa: PLC0415

    spec = importlib.util.spec_from_file_location("bench_ingest_835", Path(__file__).parents[1] / "bench" / "ingest_835.py")
    bench = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(bench)  # type: ignore[union-attr]
    good = tmp_path / "good.835"
    bench.generate(good, 5000, seed=13)
    text = good.read_text()
    at = text.rindex("~CLP*")  # the last claim's CLP04 (the paid amount) made unreadable
    clp_end = text.index("~", at + 1)
    els = text[at + 1 : clp_end].split("*")
    els[4] = "12.3X"
    bad = tmp_path / "bad.835"
    bad.write_text(text[: at + 1] + "*".join(els) + text[clp_end:])
    threads = threading.active_count()
    outcome = ingest(engine, [bad]).outcomes[0]
    assert outcome.status == "rejected" and outcome.error is not None
    assert outcome.error.seg_id == "CLP" and outcome.error.element == 4
    assert threading.active_count() == threads
    with engine.connect() as conn:
        for name in ("remittances", "claim_payments", "line_payments", "adjustments", "remarks"):
            assert conn.execute(sa.select(sa.func.count()).select_from(t.metadata.tables[name])).scalar_one() == 0
