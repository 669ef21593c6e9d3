"""Benchmark reading and posting a large 835: ``python bench/ingest_835.py [--claims N] [--quick]``.

Generates (seeded, cached in ``bench/_data/``, gitignored) a realistic 835 with ``N`` claims (default
100,000, ~50 MB) written through :class:`everyclaim.x12.write835.Writer835`: several checks (ST/SE) per
interchange, claim- and line-level CAS with several triplets, MOA, NM1*QC/IL, DTM*232/233/472,
REF*6R, AMT*B6, LQ*HE and a few PLBs per check, every claim balanced. Then runs each step in its own
subprocess (so peak RSS is per step) and prints:

  (a) a bare segment split (the floor: ``text.split("~")`` and ``split("*")`` per segment), MB/s
  (b) tokenize (``everyclaim.x12.tokenize``), MB/s
  (c) tokenize + walk (the validating walker), MB/s
  (d) read into records (``everyclaim.x12.read``), MB/s and claims/s: the median of ``--repeat`` runs
  (e) read + post into a fresh SQLite ledger (``everyclaim.ingest.pipeline.ingest``), claims/s: the
      median of ``--repeat`` runs (3), by wall time (it reads on one thread and writes on another)
  (f) peak RSS of (d) and (e) on a ~10 MB and the full file: it must stay flat (streaming)
  (g) oxedi (Rust core, from PyPI) on the same file, and the ratio to (d)

Goals (the issue): validated reading >= 35 MB/s; reading + posting >= 20k claims/s; flat memory. Both
are judged on the median run's wall time (this machine's speed varies from run to run).
``--quick`` (10k claims) is the CI smoke run.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DATA = ROOT / "bench" / "_data"
GENERATOR = 3  # bump when the generated file changes (cache key)
GOAL_MBS, GOAL_POST = 35.0, 20_000


# ---------------------------------------------------------------------------------------------------
# generator
# ---------------------------------------------------------------------------------------------------
CARC_CO = ("45", "45", "45", "97", "253", "59", "B7", "16", "50")
CARC_PR = ("1", "2", "3")
RARC = ("N130", "M15", "N290", "MA130", "N381", "M80", "N19")
PROCS = ("99213", "99214", "99203", "97110", "97140", "80053", "85025", "36415", "71046", "93000")
MODS = ((), (), (), ("25",), ("59",), ("GP",), ("GP", "KX"))
LAST = ("SMITH", "JOHNSON", "WILLIAMS", "BROWN", "JONES", "GARCIA", "MILLER", "DAVIS", "RODRIGUEZ", "MARTINEZ")
FIRST = ("JAMES", "MARY", "ROBERT", "PATRICIA", "JOHN", "JENNIFER", "MICHAEL", "LINDA", "DAVID", "ELIZABETH")


def _cents(n: int) -> Decimal:
    return Decimal(n).scaleb(-2)


def _split(rnd: random.Random, total: int, parts: int) -> list[int]:
    """``total`` cents in ``parts`` positive pieces (fewer when too small)."""
    parts = max(1, min(parts, total))
    cuts = sorted(rnd.sample(range(1, total), parts - 1)) if parts > 1 else []
    return [b - a for a, b in zip([0, *cuts], [*cuts, total], strict=True)]


def _line(rnd: random.Random, start: date):  # noqa: ANN202 - (ServicePayment, claim-level PR cents)
    from everyclaim.ledger.records import Adjustment, Remark, ServicePayment

    charge = rnd.randint(40_00, 900_00)
    if rnd.random() < 0.1:  # denied line
        adjs = [Adjustment("CO", rnd.choice(("50", "97", "B7")), _cents(charge))]
        paid, allowed = 0, 0
    else:
        allowed = charge * rnd.randint(35, 90) // 100
        pr_total = allowed * rnd.choice((0, 0, 10, 20, 30)) // 100
        paid = allowed - pr_total
        co = _split(rnd, charge - allowed, rnd.choice((1, 2, 2, 3))) if charge > allowed else []
        adjs = [Adjustment("CO", rnd.choice(CARC_CO), _cents(c)) for c in co]
        if pr_total:
            prs = _split(rnd, pr_total, rnd.choice((1, 2)))
            adjs += [Adjustment("PR", CARC_PR[i % 3], _cents(c)) for i, c in enumerate(prs)]
    units = Decimal(rnd.choice((1, 1, 1, 2, 4)))
    remarks = tuple(Remark("HE", r) for r in rnd.sample(RARC, rnd.choice((0, 1, 1, 2))))
    sp = ServicePayment(
        procedure_qualifier="HC", procedure=rnd.choice(PROCS), modifiers=rnd.choice(MODS), charge=_cents(charge),
        paid=_cents(paid), units=units, service_date=start, line_control=f"L{rnd.randrange(10**9):09d}",
        adjustments=tuple(adjs), remarks=remarks, allowed=_cents(allowed),
    )  # fmt: skip
    return sp, sum(int(a.amount * 100) for a in adjs if a.group == "PR")


def _claim(rnd: random.Random, i: int, source):  # noqa: ANN001, ANN202
    from everyclaim.ledger.records import Adjustment, ClaimPayment, Party, Remark

    start = date(2026, 1, 1) + timedelta(days=rnd.randrange(300))
    lines, pr = [], 0
    for _ in range(rnd.choice((1, 1, 2, 2, 2, 3, 4, 5))):
        sp, p = _line(rnd, start + timedelta(days=rnd.randrange(3)))
        lines.append(sp)
        pr += p
    charge = sum(int(sp.charge * 100) for sp in lines)
    paid = sum(int(sp.paid * 100) for sp in lines)
    claim_adjs = ()
    if rnd.random() < 0.3 and paid > 500:  # claim-level sequestration / interest-style adjustments
        seq = paid * 2 // 100
        oa = rnd.randint(1, 300) if paid - seq > 400 else 0
        claim_adjs = (Adjustment("CO", "253", _cents(seq)),) + ((Adjustment("OA", "94", _cents(oa)),) if oa else ())
        paid -= seq + oa
    status = "1" if paid else "4"
    last, first = rnd.choice(LAST), rnd.choice(FIRST)
    member = f"W{rnd.randrange(10**9):09d}"
    patient = Party("QC", last, first, "MI", member)
    insured = Party("IL", last, rnd.choice(FIRST), "MI", member) if rnd.random() < 0.4 else None
    return ClaimPayment(
        source=source, pcn=f"PCN{i:09d}", status=status, charge=_cents(charge), paid=_cents(paid),
        patient_responsibility=_cents(pr), claim_filing=rnd.choice(("12", "MB", "MC", "HM")),
        payer_claim_control=f"{rnd.randrange(10**13):013d}", facility_code="11", frequency="1",
        patient=patient, insured=insured, statement_from=start, statement_to=start + timedelta(days=2),
        adjustments=claim_adjs, remarks=tuple(Remark("MOA", r) for r in rnd.sample(("MA01", "MA18", "MA130"), 1)),
        lines=tuple(lines),
    )  # fmt: skip


def generate(path: Path, claims: int, seed: int = 835) -> None:
    """A balanced 835 with ``claims`` claims in checks of 1..10,000 claims, one interchange."""
    from everyclaim.ledger.records import Party, ProviderAdjustment, Remittance, Source
    from everyclaim.x12.write835 import Writer835

    rnd = random.Random(seed)
    src = Source("0" * 64)
    payer, payee = Party("PR", "ACME HEALTH PLAN", "", "XV", "ACME1"), Party("PE", "GOOD CLINIC", "", "XX", "1234567893")
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", encoding="ascii", newline="") as out, Writer835(
        out, sender="ACME1", receiver="1234567893", control=42, date=date(2026, 11, 1)
    ) as w:
        done, check = 0, 0
        while done < claims:
            n = min(claims - done, rnd.randint(1, 10_000))
            cps = [_claim(rnd, done + k, src) for k in range(n)]
            done += n
            check += 1
            plbs = []
            for _ in range(rnd.choice((0, 1, 2, 3))):
                reason = rnd.choice(("WO", "L6", "72", "FB"))
                amt = rnd.randint(1_00, 250_00) * (-1 if reason == "L6" else 1)
                plbs.append(ProviderAdjustment(src, "1234567893", date(2026, 12, 31), reason,
                                               f"R{rnd.randrange(10**6):06d}", _cents(amt)))
            total = sum((c.paid for c in cps), Decimal(0)) - sum((p.amount for p in plbs), Decimal(0))
            remit = Remittance(
                source=src, handling="I", amount=total, credit_debit="C", method="ACH",
                payment_date=date(2026, 11, 3), trace_number=f"EFT{check:07d}", payer_trn_id="1ACME00001",
                payer=payer, payee=payee, production_date=date(2026, 11, 1),
            )  # fmt: skip
            w.transaction(remit, cps, plbs)
    tmp.rename(path)


def data_file(claims: int) -> Path:
    DATA.mkdir(parents=True, exist_ok=True)
    path = DATA / f"ingest835_g{GENERATOR}_{claims}.835"
    if not path.exists():
        t = time.perf_counter()
        print(f"generating {path.name} ({claims:,} claims) ...", end=" ", flush=True)
        generate(path, claims)
        print(f"{path.stat().st_size / 1e6:.1f} MB in {time.perf_counter() - t:.1f} s", flush=True)
    return path


# ---------------------------------------------------------------------------------------------------
# steps (each runs in a child process: python bench/ingest_835.py --step NAME FILE)
# ---------------------------------------------------------------------------------------------------
def step_split(path: Path) -> dict[str, float]:
    t = time.perf_counter()
    n = 0
    with path.open("rb") as f:
        tail = ""
        while chunk := f.read(1 << 20):
            parts = (tail + chunk.decode()).split("~")
            tail = parts.pop()
            for s in parts:
                n += len(s.split("*"))
    return {"seconds": time.perf_counter() - t, "items": n}


def step_tokenize(path: Path) -> dict[str, float]:
    from everyclaim.x12.tokenize import segments_from_path

    t = time.perf_counter()
    n = sum(1 for _ in segments_from_path(path))
    return {"seconds": time.perf_counter() - t, "items": n}


def step_walk(path: Path) -> dict[str, float]:
    from everyclaim.x12.tokenize import segments_from_path
    from everyclaim.x12.walk import walk

    t = time.perf_counter()
    w = walk(segments_from_path(path), path.name)
    n = sum(1 for _ in w)
    return {"seconds": time.perf_counter() - t, "items": n, "findings": len(w.findings)}


def step_read(path: Path) -> dict[str, float]:
    from everyclaim.ledger.records import ClaimPayment
    from everyclaim.x12.read import read_path

    t = time.perf_counter()
    reading = read_path(path, sha256="0" * 64)  # the hash is the ingest's cost, not the reader's
    claims = sum(1 for r in reading if type(r) is ClaimPayment)
    return {"seconds": time.perf_counter() - t, "claims": claims, "findings": len(reading.findings)}


def step_post(path: Path) -> dict[str, float]:
    from everyclaim.ingest.pipeline import ingest
    from everyclaim.ledger.db import make_engine, upgrade

    pg = os.environ.get("BENCH_PG")  # (e) on PostgreSQL: a database made for this run on that server
    with tempfile.TemporaryDirectory() as tmp:
        if pg:
            import sqlalchemy as sa  # noqa: PLC0415

            name = f"everyclaim_bench_{os.getpid()}"
            admin = sa.create_engine(pg, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
            url = sa.make_url(pg).set(database=name).render_as_string(hide_password=False)
        engine = make_engine(url if pg else f"sqlite:///{tmp}/bench.db")
        try:
            upgrade(engine)
            t = time.perf_counter()
            summary = ingest(engine, [path])
            seconds = time.perf_counter() - t
        finally:
            engine.dispose()
            if pg:
                with admin.connect() as conn:
                    conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                admin.dispose()
    o = summary.outcomes[0]
    return {"seconds": seconds, "claims": o.counts.get("payments", 0), "status": o.status,
            "findings": len(o.findings), "message": o.message or (o.error.located() if o.error else "")}


def step_oxedi(path: Path) -> dict[str, float]:
    import oxedi  # noqa: PLC0415

    t = time.perf_counter()
    result = oxedi.parse_file(str(path))
    seconds = time.perf_counter() - t
    tables = result.tables
    claims = len(tables["claims"]) if "claims" in tables else 0
    return {"seconds": seconds, "claims": claims, "diagnostics": len(result.diagnostics)}


STEPS = {"split": step_split, "tokenize": step_tokenize, "walk": step_walk, "read": step_read,
         "post": step_post, "oxedi": step_oxedi}


def child(name: str, path: Path) -> None:
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    cpu = time.process_time()
    out = STEPS[name](path)
    out["cpu"] = time.process_time() - cpu  # the step's CPU time: steadier than wall time on a busy machine
    out["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out["base_rss_mb"] = base / 1024
    print(json.dumps(out))


def _ratio(ours: float, theirs: float) -> str:
    """``"1.2x faster"`` / ``"1.3x slower"`` by the times of the same work."""
    return f"{theirs / ours:.1f}x faster" if ours < theirs else f"{ours / theirs:.1f}x slower"


def run_step(name: str, path: Path, extra_env: dict[str, str] | None = None) -> dict[str, object] | None:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]), **(extra_env or {}))
    proc = subprocess.run([sys.executable, __file__, "--step", name, str(path)], capture_output=True, text=True,
                          env=env, check=False)
    if proc.returncode != 0:
        print(f"  {name}: failed\n{proc.stderr[-2000:]}")
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])


def median_run(runs: list[dict[str, object]]) -> dict[str, object]:
    """The run of median wall time (``runs`` is sorted by it, for printing)."""
    runs.sort(key=lambda r: float(r["seconds"]))  # type: ignore[arg-type]
    return runs[len(runs) // 2]


def oxedi_available() -> bool:
    try:
        import oxedi  # noqa: F401, PLC0415
        return True
    except ImportError:
        pass
    proc = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "oxedi"], capture_output=True, text=True,
                          check=False, timeout=300)
    return proc.returncode == 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--claims", type=int, default=100_000)
    ap.add_argument("--quick", action="store_true", help="10k claims (CI smoke run)")
    ap.add_argument("--only", help="comma-separated steps to run (split,tokenize,walk,read,post,rss,oxedi)")
    ap.add_argument("--pg", metavar="URL",
                    help="also run (e) on PostgreSQL: a server URL (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/"
                         "postgres); each run creates its own database there and drops it after")
    ap.add_argument("--repeat", type=int, default=3,
                    help="runs of (d) and (e), each in a fresh process (and ledger); the median is reported "
                         "(default 3): this machine's speed varies from run to run, and (e) on SQLite reads on "
                         "one thread and writes on another, so its wall time varies with the second core")
    ap.add_argument("--step", help=argparse.SUPPRESS)
    ap.add_argument("file", nargs="?", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.step:
        child(args.step, Path(args.file))
        return 0
    claims = 10_000 if args.quick else args.claims
    only = set(args.only.split(",")) if args.only else {"split", "tokenize", "walk", "read", "post", "rss", "oxedi"}
    path = data_file(claims)
    mb = path.stat().st_size / 1e6
    print(f"{path.name}: {mb:.1f} MB, {claims:,} claims  (python {sys.version.split()[0]}, {os.cpu_count()} cpus, "
          f"load average {os.getloadavg()[0]:.1f})")
    print("  rates are wall time; (cpu ...) is the step's own CPU time, steadier when the machine is busy")
    results: dict[str, dict[str, object]] = {}
    labels = {"split": "(a) bare segment split", "tokenize": "(b) tokenize", "walk": "(c) tokenize+walk",
              "read": "(d) read into records", "post": "(e) read + post (SQLite)"}
    for name in ("split", "tokenize", "walk", "read", "post", "post_pg"):
        if name == "post_pg":
            if not args.pg or "post" not in only:
                continue
            runs = [run_step("post", path, {"BENCH_PG": args.pg}) for _ in range(max(1, args.repeat))]
            if any(r is None for r in runs):
                continue
            r = median_run(runs)  # type: ignore[arg-type]
            sec, cpu = float(r["seconds"]), float(r["cpu"])  # type: ignore[arg-type, index]
            print(f"  (e') read + post (PostgreSQL) {mb / sec:6.1f} MB/s  {sec:6.2f} s  (cpu {cpu:6.2f} s, this process)  "
                  f"{float(r['claims']) / sec:9,.0f} claims/s  [median of "  # type: ignore[index]
                  + ", ".join(f"{float(x['seconds']):.2f}" for x in runs) + " s]", flush=True)  # type: ignore[index]
            continue
        if name not in only:
            continue
        runs = [run_step(name, path) for _ in range(max(1, args.repeat) if name in ("read", "post") else 1)]
        if any(r is None for r in runs):
            continue
        r = results[name] = median_run(runs)  # type: ignore[arg-type]
        if len(runs) > 1:
            print(f"  {labels[name][:3]} {len(runs)} runs: " + ", ".join(f"{float(x['seconds']):.2f} s" for x in runs)  # type: ignore[index]
                  + " wall; the median follows")
        sec, cpu = float(r["seconds"]), float(r["cpu"])  # type: ignore[arg-type]
        line = f"  {labels[name]:<26} {mb / sec:7.1f} MB/s  {sec:6.2f} s  (cpu {cpu:6.2f} s: {mb / cpu:5.1f} MB/s)"
        if "claims" in r:
            line += f"  {float(r['claims']) / sec:9,.0f} claims/s (cpu: {float(r['claims']) / cpu:,.0f})"  # type: ignore[arg-type]
        line += f"  peak RSS {r['rss_mb']:.0f} MB"
        if name == "post":
            line += f"  [{r['status']}, {r['claims']:,} payments, {r['findings']} findings]"
        elif "findings" in r:
            line += f"  [{r['findings']} findings]"
        print(line, flush=True)
    if "read" in results:
        rate = mb / float(results["read"]["seconds"])  # type: ignore[arg-type] - the median run's wall time
        print(f"  goal: validated reading >= {GOAL_MBS:.0f} MB/s: {'met' if rate >= GOAL_MBS else 'NOT met'} ({rate:.1f})")
    if "post" in results:  # wall time: the step uses both cores, so its CPU time exceeds it
        rate = float(results["post"]["claims"]) / float(results["post"]["seconds"])  # type: ignore[arg-type]
        print(f"  goal: reading + posting >= {GOAL_POST:,} claims/s: {'met' if rate >= GOAL_POST else 'NOT met'} "
              f"({rate:,.0f})")
    if "rss" in only:
        small = data_file(max(1, claims // 5))
        for step in ("read", "post"):
            rows = []
            for p in (small, path):
                r = results[step] if p == path and step in results else run_step(step, p)
                if r is not None:
                    rows.append((p, r))
                    print(f"  (f) {step:<4} peak RSS {p.stat().st_size / 1e6:5.1f} MB file: {r['rss_mb']:.0f} MB "
                          f"(after imports {r['base_rss_mb']:.0f} MB)")
            if len(rows) == 2:
                grow = float(rows[1][1]["rss_mb"]) - float(rows[0][1]["rss_mb"])  # type: ignore[arg-type]
                ratio = rows[1][0].stat().st_size / rows[0][0].stat().st_size
                print(f"      growth {grow:+.0f} MB for {ratio:.0f}x the input")
    if "oxedi" in only:
        if not oxedi_available():
            print("  oxedi: not installable here")
        else:
            r = run_step("oxedi", path)
            if r is not None:
                sec = float(r["seconds"])  # type: ignore[arg-type]
                cpu = float(r["cpu"])  # type: ignore[arg-type]
                line = (f"  (g) oxedi parse_file          {mb / sec:7.1f} MB/s  {sec:6.2f} s  (cpu {cpu:6.2f} s: "
                        f"{mb / cpu:5.1f} MB/s)  peak RSS {r['rss_mb']:.0f} MB")
                print(line)
                if "read" in results:
                    ours, ours_cpu = float(results["read"]["seconds"]), float(results["read"]["cpu"])  # type: ignore[arg-type]
                    print(f"      everyclaim read is {_ratio(ours, sec)} than oxedi (cpu: {_ratio(ours_cpu, cpu)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
