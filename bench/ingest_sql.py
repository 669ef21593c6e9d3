"""Where the SQLite time of posting a large 835 goes: ``python bench/ingest_sql.py [--claims N]``.

Uses the file of ``bench/ingest_835.py`` (same generator and cache). Each run ingests it into a fresh
SQLite ledger in its own subprocess; the median wall time (and its CPU time) of ``--repeat`` runs per
variant is printed (the variants alternate, so a busy moment does not favour one). A first run prints the
time spent inside the driver per statement kind (a SQLAlchemy ``before/after_cursor_execute`` hook; the
835 pages themselves go through the compiled insert, ledger/_sqlite.c, which the hook does not see). The
variants show what SQLite settings and indexes would change:

  default          the ledger as shipped
  no-fk            PRAGMA foreign_keys=OFF on the ingest connection
  cache64          PRAGMA cache_size of 64 MiB instead of 16 MiB (memory grows with it)
  line-indexes     with the indexes on adjustments.line_payment_id and remarks.line_payment_id put back
                   (migration 0010 dropped them: no query read by them)
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

VARIANTS = ("default", "no-fk", "cache64", "line-indexes")


def run(variant: str, path: Path, hook: bool) -> dict[str, object]:
    import sqlalchemy as sa  # noqa: PLC0415

    from everyclaim.ingest.pipeline import ingest  # noqa: PLC0415
    from everyclaim.ledger.db import make_engine, upgrade  # noqa: PLC0415

    spent: collections.Counter[str] = collections.Counter()
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/bench.db")
        upgrade(engine)
        if variant == "line-indexes":
            with engine.begin() as conn:
                conn.exec_driver_sql("CREATE INDEX ix_adjustments_line_payment_id ON adjustments (line_payment_id)")
                conn.exec_driver_sql("CREATE INDEX ix_remarks_line_payment_id ON remarks (line_payment_id)")
        engine.dispose()

        @sa.event.listens_for(engine, "connect")
        def _pragmas(dbapi, _record):  # type: ignore[no-untyped-def]  # noqa: ANN001
            cur = dbapi.cursor()
            if variant == "no-fk":
                cur.execute("PRAGMA foreign_keys=OFF")
            if variant == "cache64":
                cur.execute("PRAGMA cache_size=-65536")
            cur.close()

        if hook:
            @sa.event.listens_for(engine, "before_cursor_execute")
            def _before(conn, _cur, _stmt, _params, _ctx, _many):  # type: ignore[no-untyped-def]  # noqa: ANN001
                conn.info["t0"] = time.process_time()

            @sa.event.listens_for(engine, "after_cursor_execute")
            def _after(conn, _cur, stmt, _params, _ctx, _many):  # type: ignore[no-untyped-def]  # noqa: ANN001
                spent[" ".join(stmt.split()[:3])[:40]] += time.process_time() - conn.info["t0"]

        cpu, wall = time.process_time(), time.perf_counter()
        summary = ingest(engine, [path])
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        engine.dispose()
    payments = summary.outcomes[0].counts.get("payments", 0)
    return {"cpu": cpu, "wall": wall, "payments": payments, "sql": dict(spent.most_common(6))}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--claims", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3, help="runs per variant (the median wall time is printed)")
    ap.add_argument("--step", help=argparse.SUPPRESS)
    ap.add_argument("--hook", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("file", nargs="?", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.step:
        print(json.dumps(run(args.step, Path(args.file), args.hook)))
        return 0
    import importlib.util  # noqa: PLC0415

    spec = importlib.util.spec_from_file_location("ingest_835", ROOT / "bench" / "ingest_835.py")
    bench = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(bench)  # type: ignore[union-attr]
    path = bench.data_file(args.claims)
    print(f"{path.name}: {args.claims:,} claims, load average {os.getloadavg()[0]:.1f}")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    runs = [("default", True)] + [(v, False) for _ in range(args.repeat) for v in VARIANTS]
    seen: dict[str, list[dict[str, object]]] = {}
    for variant, hook in runs:
        cmd = [sys.executable, __file__, "--step", variant, str(path)] + (["--hook"] if hook else [])
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
        if proc.returncode:
            print(f"  {variant}: failed\n{proc.stderr[-1500:]}")
            continue
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        if not hook:
            seen.setdefault(variant, []).append(r)
        if hook:
            sql = ", ".join(f"{k}: {v:.2f} s" for k, v in r["sql"].items())
            print(f"  statement CPU inside the driver (first run, with the hook): {sql}")
    for variant, rs in seen.items():
        rs.sort(key=lambda x: x["wall"])  # type: ignore[arg-type, return-value]
        r = rs[len(rs) // 2]
        print(f"  {variant:<16} wall {r['wall']:5.2f} s  cpu {r['cpu']:5.2f} s  "  # type: ignore[str-format]
              f"{r['payments'] / r['wall']:8,.0f} claims/s  (median of {len(rs)}; walls "  # type: ignore[operator]
              + ", ".join(f"{x['wall']:.2f}" for x in rs) + ")")
    print(f"  load average now {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
