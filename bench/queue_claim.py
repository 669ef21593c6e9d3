"""Bench: the work queue under load. Builds N work items from a generated triage run, then
W concurrent workers call ``claim_next`` for S seconds; prints claims/s, p50/p95 latency and duplicates.

    python bench/queue_claim.py [--items 1000000] [--workers 20] [--seconds 60] [--pg URL | --sqlite PATH]
    python bench/queue_claim.py --refresh --items 1000000      # also time a first and a no-change refresh

PostgreSQL (``--pg`` or ``$EVERYCLAIM_TEST_DB``) runs in a throw-away schema; ``--sqlite`` in a temporary
file. The triage run is generated in SQL (``generate_series`` / a recursive CTE), not in Python.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import threading
import time
import uuid
from datetime import UTC, date, datetime

import sqlalchemy as sa

from everyclaim.ledger.db import make_engine, upgrade
from everyclaim.triage import engine as triage
from everyclaim.triage.features import triage_features
from everyclaim.work import queue as q
from everyclaim.work.refresh import refresh
from everyclaim.work.schema import work_items
from everyclaim.work.users import create_user

AS_OF = date(2026, 11, 2)
SKILLS = ("appeals", "refunds", "coding", "senior")


def _numbers(dialect: str, n: int) -> str:
    if dialect == "postgresql":
        return f"(SELECT g AS n FROM generate_series(CAST(1 AS BIGINT), {n}) AS g) AS nums"
    return f"(WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < {n}) SELECT n FROM c) AS nums"


def generate_run(conn: sa.Connection, n: int) -> int:
    """A triage run of ``n`` staff claims (tiers hinted/manual, five actions, four payers), in SQL."""
    triage.ensure_tables(conn)
    run = int(conn.execute(sa.insert(triage.runs).values(as_of=AS_OF, started_at=datetime.now(UTC), claims=n))
              .inserted_primary_key[0])  # fmt: skip
    pg = conn.dialect.name == "postgresql"
    pcn = "'B' || lpad(CAST(n AS TEXT), 8, '0')" if pg else "printf('B%08d', n)"
    action = ("CASE n % 5 WHEN 0 THEN 'appeal' WHEN 1 THEN 'review' WHEN 2 THEN 'status_inquiry' "
              "WHEN 3 THEN 'rebill_corrected' ELSE 'refund' END")  # fmt: skip
    payer = "CASE n % 4 WHEN 0 THEN 'ACME1' WHEN 1 THEN 'BCBS' WHEN 2 THEN 'MCR' ELSE 'MCD' END"
    balance = "CASE WHEN n % 5 = 4 THEN -((n * 7919) % 20000 + 100) ELSE (n * 7919) % 500000 + 100 END"
    conn.execute(sa.text(f"""
        INSERT INTO triage_results (run_id, atb_row_id, claim_id, pcn, payer_id, tier, action, root_cause, rule_id,
            matched_rule_id, mode, hint, adjustment_code, confidence, balance_cents, expected_recovery_cents, priority)
        SELECT {run}, n, NULL, {pcn}, {payer}, CASE WHEN n % 7 = 0 THEN 'manual' ELSE 'hinted' END, {action},
            'other', 'bench.rule', 'bench.rule', 'hint', 'bench hint', '', NULL, {balance}, ({balance}) / 2, NULL
        FROM {_numbers(conn.dialect.name, n)}"""))  # noqa: S608 - numbers only
    conn.execute(sa.delete(triage_features))
    conn.execute(sa.text(f"""
        INSERT INTO triage_features (atb_row_id, pcn, payer_id, as_of, days_since_denial, days_to_filing_deadline)
        SELECT n, {pcn}, {payer}, '{AS_OF.isoformat()}', (n * 13) % 60, (n * 31) % 200 - 20
        FROM {_numbers(conn.dialect.name, n)}"""))  # noqa: S608
    return run


def engine_for(args: argparse.Namespace) -> tuple[sa.Engine, object]:
    pg = args.pg or (None if args.sqlite else os.environ.get("EVERYCLAIM_TEST_DB"))
    pool = {"pool_size": args.workers + 2, "max_overflow": 4}
    if pg:
        schema = "bench_q_" + uuid.uuid4().hex[:8]
        admin = make_engine(pg)
        with admin.begin() as conn:
            conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        url = sa.make_url(admin.url).update_query_dict({"options": f"-csearch_path={schema}"})

        def drop() -> None:
            with admin.begin() as conn:
                conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
            admin.dispose()

        return make_engine(url.render_as_string(hide_password=False), **pool), drop
    path = args.sqlite or os.path.join(tempfile.mkdtemp(), "queue.db")
    return make_engine(f"sqlite:///{path}", **pool), lambda: None


def run_workers(engine: sa.Engine, users: list, seconds: float) -> tuple[list[float], list[int], list[str]]:
    latencies: list[list[float]] = [[] for _ in users]
    claimed: list[list[int]] = [[] for _ in users]
    errors: list[str] = []
    stop = time.perf_counter() + seconds
    start = threading.Barrier(len(users))

    def work(i: int) -> None:
        start.wait()
        try:
            while time.perf_counter() < stop:
                t0 = time.perf_counter()
                item = q.claim_next(engine, users[i])
                latencies[i].append(time.perf_counter() - t0)
                if item is None:
                    break
                claimed[i].append(item.id)
        except Exception as exc:  # noqa: BLE001 - counted and printed by type only
            errors.append(type(exc).__name__)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(users))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return [x for lat in latencies for x in lat], [x for ids in claimed for x in ids], errors


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=int, default=1_000_000)
    ap.add_argument("--workers", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--refresh", action="store_true", help="also time a second, no-change refresh")
    ap.add_argument("--pg", help="PostgreSQL URL (default $EVERYCLAIM_TEST_DB)")
    ap.add_argument("--sqlite", help="SQLite file (default: a temporary file when no PostgreSQL is given)")
    args = ap.parse_args()
    engine, cleanup = engine_for(args)
    try:
        upgrade(engine)
        with engine.begin() as conn:
            t0 = time.perf_counter()
            generate_run(conn, args.items)
            gen = time.perf_counter() - t0
            users = [create_user(conn, None, f"w{i:02d}", "bench password", "biller", skills=SKILLS, daily_capacity=40)
                     for i in range(args.workers)]  # fmt: skip
        print(f"{engine.dialect.name}: generated a triage run of {args.items:,} staff claims in {gen:.1f} s")
        t0 = time.perf_counter()
        with engine.begin() as conn:
            first = refresh(conn)
        print(f"queue refresh (first): {first.inserted:,} items in {time.perf_counter() - t0:.1f} s "
              f"({', '.join(f'{k} {v:.1f}' for k, v in first.timings.items())})")  # fmt: skip
        if args.refresh:
            t0 = time.perf_counter()
            with engine.begin() as conn:
                again = refresh(conn)
            print(f"queue refresh (no change): {again.updated} updated, {again.unchanged:,} unchanged in "
                  f"{time.perf_counter() - t0:.1f} s ({', '.join(f'{k} {v:.1f}' for k, v in again.timings.items())})")  # fmt: skip
        if engine.dialect.name == "postgresql":
            with engine.begin() as conn:
                conn.exec_driver_sql("ANALYZE work_items")
        lat, ids, errors = run_workers(engine, users, args.seconds)
        with engine.connect() as conn:
            in_db = conn.execute(sa.select(sa.func.count()).where(work_items.c.status == "claimed")).scalar_one()
        ms = sorted(x * 1000 for x in lat)
        p95 = ms[int(0.95 * (len(ms) - 1))] if ms else 0.0
        print(f"claim_next: {args.workers} workers x {args.seconds:.0f} s: {len(ids):,} claims, "
              f"{len(ids) / args.seconds:.1f} claims/s, p50 {statistics.median(ms) if ms else 0:.1f} ms, "
              f"p95 {p95:.1f} ms, duplicates {len(ids) - len(set(ids))}, claimed in the database {in_db:,}, "
              f"errors {len(errors)}{' ' + str(sorted(set(errors))) if errors else ''}")  # fmt: skip
    finally:
        engine.dispose()
        cleanup()  # type: ignore[operator]


if __name__ == "__main__":
    main()
