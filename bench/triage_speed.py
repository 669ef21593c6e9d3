"""Triage speed at scale: wall and CPU time, peak memory, and the growth from the smallest size up.

    python bench/triage_speed.py --sizes 100000,300000,1000000 [--base 10000] [--duckdb-probe]

Synthesizing and ingesting a million claims would take far longer than triaging them, so a base world
(``--base`` claims from ``everyclaim synth``, ingested once into SQLite and kept in ``--workdir``) is
*replicated* in SQL: every ledger row is copied k times with its ids offset and its claim, subscriber,
payer-claim-control and trace numbers suffixed (so no copy is a duplicate of another), until the ATB
snapshot has at least the wanted number of open claims. The distribution of scenarios is the base
world's.

Each size is triaged twice, each time in a fresh subprocess on a copy of the database made for that size,
so peak RSS (ru_maxrss) and CPU time (user + system of that process: SQLite runs inside it) belong to the
triage alone:

* ``first``: the first triage of the ledger. It computes every open claim's facts (its 835s, their
  adjustments and remarks, its 277CAs, lines and other payers) and keeps them.
* ``next day``: after a day's files, here a 277CA for ``--churn`` (default 5%) of the open claims. The triage
  recomputes the facts of the claims those rows touch and reads the others' kept facts
  (:func:`everyclaim.triage.features.facts_plan`). This is the triage a billing office runs every day.

The machine is shared: wall time suffers from load, CPU time much less.

``--duckdb-probe`` also measures what running the rules on DuckDB would first cost: reading the tables
the features need out of the SQLite ledger into DuckDB (DuckDB's sqlite scanner is a download): through
Arrow with ADBC's SQLite driver when ``pyarrow`` and ``adbc-driver-sqlite`` are installed (not
dependencies), else through numpy. When that copy alone costs about as much CPU as the whole triage in
SQLite, SQLite stays the default.

``--workers N`` (default 2) computes the features on N SQLite connections at once
(:mod:`everyclaim.triage.parallel`); ``--workers 1`` is the single-connection path.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import shutil
import sqlite3
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

AS_OF = date(2026, 3, 31)
SKIP = {"files", "payer_profiles", "atb_snapshots", "findings", "transaction_acks", "action_exports"}
SUFFIXED = {"pcn", "subscriber_id", "insured_id", "payer_claim_control", "txn_hash", "trace_number"}


def base_db(workdir: Path, size: int, seed: int) -> Path:
    """A ledger with a synthesized world of ``size`` claims ingested (built once)."""
    from everyclaim.ingest.pipeline import Options, ingest
    from everyclaim.ledger.db import make_engine, upgrade
    from everyclaim.synth.world import generate

    folder = workdir / f"base{size}_s{seed}"
    db = folder / "ledger.db"
    if not (folder / "done").exists():
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        generate(folder / "world", size, seed, AS_OF)
        engine = make_engine(f"sqlite:///{db}")
        upgrade(engine)
        ingest(engine, [folder / "world"], Options(as_of=AS_OF))
        engine.dispose()
        (folder / "done").write_text("ok\n")
    return db


def _upgrade(db: Path) -> None:
    from everyclaim.ledger.db import make_engine, upgrade

    engine = make_engine(f"sqlite:///{db}")
    upgrade(engine)
    engine.dispose()


def _open_count(con: sqlite3.Connection) -> int:
    return con.execute("SELECT count(*) FROM atb_rows WHERE balance_cents != 0").fetchone()[0]


def replicate(src: Path, dst: Path, open_claims: int) -> int:
    """Copy ``src`` to ``dst`` and replicate its ledger rows until ``open_claims`` are open; the count."""
    from everyclaim.ledger.schema import metadata

    shutil.copyfile(src, dst)
    con = sqlite3.connect(dst)
    con.execute("PRAGMA journal_mode=OFF")
    con.execute("PRAGMA synchronous=OFF")
    base_open = _open_count(con)
    copies = max(1, math.ceil(open_claims / base_open))
    tables = [t for t in metadata.sorted_tables if t.name not in SKIP]
    top = {t.name: con.execute(f"SELECT coalesce(max(id), 0) FROM {t.name}").fetchone()[0] for t in tables}
    for i in range(1, copies):
        for t in tables:
            cols, exprs = [], []
            for c in t.columns:
                cols.append(c.name)
                fk = next(iter(c.foreign_keys), None)
                ref = fk.column.table.name if fk else None
                if c.name == "id":
                    exprs.append(f"id + {i * top[t.name]}")
                elif ref in top:
                    exprs.append(f"{c.name} + {i * top[ref]}")
                elif c.name in SUFFIXED:
                    exprs.append(f"CASE WHEN {c.name} = '' THEN '' ELSE {c.name} || '-{i}' END")
                else:
                    exprs.append(c.name)
            con.execute(f"INSERT INTO {t.name} ({', '.join(cols)}) SELECT {', '.join(exprs)} FROM {t.name} "
                        f"WHERE id <= {top[t.name]}")  # fmt: skip
        con.commit()
    surplus = copies * base_open - open_claims  # trim the last copy to the exact size
    if surplus > 0:
        con.execute(f"DELETE FROM atb_rows WHERE id IN (SELECT id FROM atb_rows WHERE balance_cents != 0 "
                    f"ORDER BY id DESC LIMIT {surplus})")  # fmt: skip
    con.commit()
    con.execute("ANALYZE")
    n = _open_count(con)
    con.close()
    return n


def touch(db: Path, share: float) -> int:
    """A day's files: a 277CA (a new ``claim_acks`` row, dated the as-of day) for ``share`` of the open
    claims that have one already, chosen by a hash of the claim id; the next triage refreshes their
    facts (and those of the claims sharing a paid-twin key or a PCN with them). Returns the rows added."""
    con = sqlite3.connect(db)
    cols = [r[1] for r in con.execute("PRAGMA table_info(claim_acks)") if r[1] != "id"]
    values = ", ".join(f"'{AS_OF.isoformat()}'" if c == "status_date" else c for c in cols)
    picked = (f"SELECT claim_id FROM atb_rows WHERE balance_cents != 0 AND claim_id IS NOT NULL "
              f"AND (claim_id * 2654435761) % 100000 < {round(share * 100000)}")  # fmt: skip
    n = con.execute(f"INSERT INTO claim_acks ({', '.join(cols)}) SELECT {values} FROM claim_acks WHERE id IN "
                    f"(SELECT max(id) FROM claim_acks WHERE claim_id IN ({picked}) GROUP BY claim_id)").rowcount  # fmt: skip
    con.commit()
    con.close()
    return n


def run_one(db: Path, workers: int) -> dict[str, object]:
    """Triage ``db`` once (in this process, features on ``workers`` connections) and measure it."""
    from everyclaim.ledger.db import make_engine
    from everyclaim.triage import engine as eng
    from everyclaim.triage.rules import load_rules

    rules, _ = load_rules()
    engine = make_engine(f"sqlite:///{db}")
    c0, t0 = time.process_time(), time.perf_counter()
    with engine.begin() as conn:
        result = eng.triage(conn, AS_OF, rules, workers=workers)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    engine.dispose()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"claims": result.claims, "wall": wall, "cpu": cpu, "rss_mb": rss, "load": os.getloadavg()[0],
            "stages": {k: round(v, 2) for k, v in result.timings.items()}}  # fmt: skip


PROBE = {
    "atb_rows": "SELECT id, claim_id, pcn, payer_id, responsibility, service_date, last_billed_date, total_charge_cents, "
    "insurance_payments_cents, patient_payments_cents, adjustments_cents, balance_cents FROM atb_rows "
    "WHERE balance_cents != 0",
    "claims": "SELECT id, pcn, payer_id, responsibility, frequency, submission_count, prior_auth, rendering_npi, "
    "subscriber_id, service_from, charge_cents, first_billed_date, last_billed_date FROM claims",
    "claim_payments": "SELECT id, remittance_id, claim_id, status, paid_cents, patient_resp_cents, charge_cents, "
    "is_reversal, payer_claim_control, reverses_id, payer_id FROM claim_payments",
    "adjustments": "SELECT claim_payment_id, group_code, carc, amount_cents FROM adjustments",
    "remarks": "SELECT claim_payment_id, code FROM remarks",
    "claim_acks": "SELECT id, claim_id, accepted, category, status_date FROM claim_acks",
    "claim_lines": "SELECT claim_id, modifiers FROM claim_lines WHERE modifiers != ''",
}


def duckdb_probe(db: Path) -> dict[str, float]:
    """CPU seconds to copy the tables the features read from SQLite into DuckDB: through Arrow with
    ADBC's SQLite driver when ``adbc-driver-sqlite`` and ``pyarrow`` are installed (C all the way),
    else through Python rows and numpy."""
    import duckdb

    dst = duckdb.connect(config={"threads": 2})
    c0, t0, rows = time.process_time(), time.perf_counter(), 0
    try:
        import adbc_driver_sqlite.dbapi as adbc

        src, how = adbc.connect(str(db)), "adbc"
    except ImportError:
        src, how = sqlite3.connect(db), "numpy"
    for name, sql in PROBE.items():
        cur = src.cursor()
        cur.execute(sql)
        if how == "adbc":
            frame = cur.fetch_arrow_table()
            rows += frame.num_rows
        else:
            import numpy as np

            cols = [d[0] for d in cur.description]
            data = cur.fetchall()
            rows += len(data)
            frame = {c: np.array(v, dtype=object) for c, v in zip(cols, zip(*data, strict=True), strict=True)}
        dst.register("frame", frame)
        dst.execute(f"CREATE TABLE {name} AS SELECT * FROM frame")
        dst.unregister("frame")
    src.close()
    return {"rows": rows, "cpu": time.process_time() - c0, "wall": time.perf_counter() - t0, "how": how}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", default="100000,300000,1000000")
    p.add_argument("--base", type=int, default=10000, help="Claims in the synthesized base world.")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--duckdb-probe", action="store_true", help="Also time copying the ledger into DuckDB.")
    p.add_argument("--workdir", type=Path, default=Path("bench/.triage-speed"))
    p.add_argument("--workers", type=int, default=2, help="Connections computing the features at once (1 = one).")
    p.add_argument("--churn", type=float, default=0.05,
                   help="Share of the open claims a day's files touch between the first run and the next.")
    p.add_argument("--run-one", type=Path, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.run_one:
        print(json.dumps(run_one(args.run_one, args.workers)))
        return
    args.workdir.mkdir(parents=True, exist_ok=True)
    base = base_db(args.workdir, args.base, args.seed)
    print(f"{'open claims':>11} {'run':>10} {'wall':>7} {'cpu':>7} {'peak RSS':>9} {'claims/s':>9} {'cpu us/claim':>12} "
          f"{'growth':>6} {'load':>5}  stages (wall s)")  # fmt: skip
    first: dict[str, float] = {}
    for size in (int(x) for x in args.sizes.split(",")):
        db = args.workdir / f"ledger{size}.db"
        if not db.exists() or _open_count(sqlite3.connect(db)) != size:
            replicate(base, db, size)
        _upgrade(db)  # a ledger replicated by older code gets the newer migrations (indexes), outside the timing
        work = args.workdir / "run.db"
        shutil.copyfile(db, work)
        for run in ("first", "next day"):
            if run == "next day":
                touched = touch(work, args.churn)
                print(f"{'':11} {'':10} a day's 277CAs touch {touched:,} open claims ({args.churn:.0%})", flush=True)
            os.sync()  # the copy's and the new rows' pages reach the disk before the clock starts
            out = subprocess.run([sys.executable, __file__, "--run-one", str(work), "--workers", str(args.workers)],
                                 check=True, capture_output=True, text=True).stdout  # fmt: skip
            m = json.loads(out.strip().splitlines()[-1])
            per = m["cpu"] / m["claims"] * 1e6
            first[run] = first.get(run) or per
            stages = ", ".join(f"{k} {v}" for k, v in m["stages"].items())
            print(f"{m['claims']:11} {run:>10} {m['wall']:6.1f}s {m['cpu']:6.1f}s {m['rss_mb']:7.0f}MB "
                  f"{m['claims'] / m['wall']:9.0f} {per:12.1f} {per / first[run]:5.2f}x {m['load']:5.1f}  {stages}",
                  flush=True)  # fmt: skip
        work.unlink()
        if args.duckdb_probe:
            probe = duckdb_probe(db)
            print(f"{'':11} copying {probe['rows']:,.0f} ledger rows into DuckDB ({probe['how']}) alone: {probe['cpu']:.1f}s cpu, "
                  f"{probe['wall']:.1f}s wall", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
