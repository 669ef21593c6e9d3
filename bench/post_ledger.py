"""Bench: post 100k billed claims, then 100k 835 claim payments, into SQLite and PostgreSQL.

    python bench/post_ledger.py [--n 100000] [--sqlite PATH] [--pg URL]

Records are built in memory first (the reader is not timed); each posting runs in one transaction
like ``everyclaim ingest`` does. PostgreSQL runs when ``--pg`` or ``$EVERYCLAIM_TEST_DB`` is given,
in a throw-away schema.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import uuid
from datetime import date
from decimal import Decimal

import sqlalchemy as sa

from everyclaim.ledger.db import make_engine, upgrade
from everyclaim.ledger.post import FileMeta, post_file
from everyclaim.ledger.records import (
    Adjustment,
    Claim,
    ClaimPayment,
    Party,
    Remark,
    Remittance,
    ServiceLine,
    ServicePayment,
    Source,
)

PAYER = Party("PR", "ACME HEALTH", id="ACME1")
PER_CHECK = 5000


def build_claims(n: int, sha: str) -> list[object]:
    out: list[object] = []
    for i in range(n):
        s = Source(sha, "1", "1", f"{i // PER_CHECK:04d}", 10 + i * 20, "bench.837")
        charge = Decimal(100 + i % 900) + Decimal("0.25")
        line = ServiceLine(1, "HC", "99213", ("25",), charge, Decimal(1), "UN", date(2026, 1, 2), seg_index=s.seg_index + 9)
        out.append(Claim(s, "837P", f"PCN{i:07d}", charge, "11", "B", "1", Party("85", "CLINIC", id="1234567893"),
                         Party("IL", "DOE", "JANE", "MI", f"W{i:09d}"), PAYER, service_from=date(2026, 1, 2),
                         diagnoses=("J209", "R05"), lines=(line,), submitted=date(2026, 1, 5)))
    return out


def build_payments(n: int, sha: str) -> list[object]:
    out: list[object] = []
    for start in range(0, n, PER_CHECK):
        st02 = f"{start // PER_CHECK:04d}"
        cps = []
        for i in range(start, min(n, start + PER_CHECK)):
            s = Source(sha, "2", "2", st02, 10 + i * 12, "bench.835")
            charge = Decimal(100 + i % 900) + Decimal("0.25")
            pr, co = Decimal("10.00"), Decimal("20.25")
            paid = charge - pr - co
            svc = ServicePayment("HC", "99213", ("25",), charge, paid, adjustments=(Adjustment("CO", "45", co),
                                 Adjustment("PR", "2", pr)), remarks=(Remark("HE", "N130"),), seg_index=s.seg_index + 6)
            cps.append(ClaimPayment(s, f"PCN{i:07d}", "1", charge, paid, pr, "CI", f"PCC{i}", lines=(svc,)))
        total = sum((c.paid for c in cps), Decimal(0))
        out.append(Remittance(Source(sha, "2", "2", st02, 3, "bench.835"), "I", total, "C", "ACH",
                              date(2026, 2, 1), f"EFT{st02}", "1ACME1", PAYER, Party("PE", "CLINIC", id="1234567893")))
        out.extend(cps)
    return out


def run(url: str, n: int) -> None:
    engine = make_engine(url)
    upgrade(engine)
    claims, payments = build_claims(n, "a" * 64), build_payments(n, "b" * 64)
    for label, sha, records in (("837 claims", "a" * 64, claims), ("835 claim payments", "b" * 64, payments)):
        t0, c0 = time.perf_counter(), time.process_time()
        with engine.begin() as conn:
            result = post_file(conn, FileMeta(sha, "bench", label[:3], 0), records, [])
        dt, cpu = time.perf_counter() - t0, time.process_time() - c0
        done = result.claims or result.payments
        print(f"{engine.dialect.name:10s} {label:19s} {done:7d} in {dt:6.2f}s = {done / dt:9,.0f} claims/s"
              f"  (this process's CPU {cpu:5.2f}s = {done / cpu:7,.0f}/s; findings {result.findings},"
              f" unmatched {result.unmatched})")
    engine.dispose()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--sqlite", default="")
    ap.add_argument("--pg", default=os.environ.get("EVERYCLAIM_TEST_DB", ""))
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run(f"sqlite:///{args.sqlite or os.path.join(tmp, 'bench.db')}", args.n)
    if args.pg:
        schema = "bench_" + uuid.uuid4().hex[:8]
        admin = make_engine(args.pg)
        with admin.begin() as conn:
            conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        try:
            url = sa.make_url(admin.url).update_query_dict({"options": f"-csearch_path={schema}"})
            run(url.render_as_string(hide_password=False), args.n)
        finally:
            with admin.begin() as conn:
                conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
            admin.dispose()


if __name__ == "__main__":
    main()
