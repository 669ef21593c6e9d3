"""Bench: the web work queue under load. N open claims in PostgreSQL, U billers signed in at once, each
paging and filtering their queue and opening claims for S seconds; p50/p95/p99 latency and errors.

    python bench/web_load.py [--pg URL] [--claims 1000000] [--users 20] [--seconds 60] [--think 1.0]
                             [--workers 1] [--reuse]

Goal (issue 6): with 1M open claims, 20 users, 60 s: p95 <= 150 ms and 0 errors.

The office is generated in SQL (``generate_series``; the ledger's own ingest is benchmarked elsewhere):
claims with a billed line, one triage run over all of them, and one open work item per claim in five
queues with skills, deadlines and ranks; 20 billers with argon2 passwords. ``everyclaim serve`` runs
in a subprocess (``--workers`` processes, 1 by default); the users are asyncio tasks with httpx clients,
each signed in through the login form (CSRF and all), waiting ``--think`` seconds (uniform 0.5x-1.5x)
between requests. Every request counts: an HTTP status >= 400 or a transport error is an error.
It prints p50/p95/p99 per kind of request, then per route and filter (slowest first), the CPU seconds
of the server processes and of the load generator, and the load average before and after: the
machine's other work shows there.

The database is ``<server>/ec_web_bench`` (dropped and rebuilt unless ``--reuse``).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import httpx
import sqlalchemy as sa

from everyclaim.ledger.db import make_engine, upgrade
from everyclaim.triage import engine as triage_engine
from everyclaim.work import users as work_users

PASSWORD = "bench password 2026"
QUEUES = ("appeals", "corrections", "general", "urgent", "credits")
TIERS = ("hinted", "manual")
PAYERS = 20
KINDS = {"queue": 0.30, "rows": 0.25, "api": 0.10, "claim": 0.35}


def _db_url(base: str) -> str:
    return sa.make_url(base).set(database="ec_web_bench").render_as_string(hide_password=False)


def build(base: str, claims: int) -> str:
    """A fresh ``ec_web_bench`` database with ``claims`` open claims and work items; returns its URL."""
    url = _db_url(base)
    admin = make_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql("DROP DATABASE IF EXISTS ec_web_bench WITH (FORCE)")
        conn.exec_driver_sql("CREATE DATABASE ec_web_bench")
    admin.dispose()
    engine = make_engine(url)
    upgrade(engine)
    started = time.perf_counter()
    with engine.begin() as conn:
        triage_engine.ensure_tables(conn)
        for sql in _generate_sql(claims):
            conn.exec_driver_sql(sql.replace("%", "%%"))  # psycopg: a literal % is %%
        for i in range(20):
            skills = ("appeals", "coding")[: i % 3]
            work_users.create_user(conn, None, f"biller{i:02d}", PASSWORD, "biller", skills=skills)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE")
    engine.dispose()
    print(f"built {claims:,} open claims and work items in {time.perf_counter() - started:.0f} s")
    return url


def _mix(col: str, k: int, salt: str = "") -> str:
    """A deterministic pseudo-random 0..k-1 from an id (PostgreSQL's ``hashtext``), independent of the
    rank's ``id % 120``: payer, queue and skill must not line up with the queue order, or every filter
    would look like the worst case to the planner."""
    return f"(abs(hashtext({col}::text || '{salt}')) % {k})"


def _generate_sql(n: int) -> list[str]:
    queues = "ARRAY[" + ",".join(f"'{q}'" for q in QUEUES) + "]"
    return [
        "INSERT INTO files (sha256, name, kind, size, status, ingested_at, counts) "
        "VALUES (repeat('b', 64), 'bench', 'synthetic', 0, 'accepted', now(), '{}')",
        f"INSERT INTO payer_profiles (payer_id, name, financial_class, timely_filing_days, appeal_days) "
        f"SELECT 'P' || i, 'PAYER ' || i, (ARRAY['commercial','medicare','medicaid'])[1 + i % 3], 90 + 30 * (i % 4), "
        f"60 + 30 * (i % 3) FROM generate_series(0, {PAYERS - 1}) i",
        f"INSERT INTO claims (pcn, payer_id, payer_name, kind, charge_cents, pos, frequency, billing_npi, "
        f"subscriber_id, patient_last, patient_first, responsibility, service_from, service_to, first_billed_date, "
        f"last_billed_date, submission_count, file_id, seg_index) "
        f"SELECT 'B' || lpad(i::text, 7, '0'), 'P' || {_mix('i', PAYERS)}, 'PAYER ' || {_mix('i', PAYERS)}, '837P', "
        f"5000 + (i * 7919) % 900000, '11', '1', '1234567893', 'W' || lpad(i::text, 9, '0'), 'DOE', 'JANE', 'P', "
        f"DATE '2026-11-01' - (i % 400)::int, DATE '2026-11-01' - (i % 400)::int, DATE '2026-11-01' - (i % 400)::int + 3, "
        f"DATE '2026-11-01' - (i % 400)::int + 3, 1, 1, i FROM generate_series(1::bigint, {n}) i",
        "INSERT INTO claim_lines (claim_id, line_no, procedure_qualifier, procedure, charge_cents, units, "
        "service_date, seg_index) SELECT id, 1, 'HC', '99213', charge_cents, 1, service_from, 0 FROM claims",
        f"INSERT INTO triage_runs (as_of, started_at, seconds, claims, packs) VALUES (DATE '2026-11-02', now(), 0, {n}, 'bench')",
        "INSERT INTO triage_results (run_id, atb_row_id, claim_id, pcn, payer_id, tier, action, root_cause, rule_id, "
        "matched_rule_id, mode, hint, adjustment_code, confidence, balance_cents, expected_recovery_cents, priority) "
        "SELECT 1, id, id, pcn, payer_id, CASE WHEN id % 7 = 0 THEN 'manual' ELSE 'hinted' END, "
        "CASE WHEN id % 3 = 0 THEN 'appeal' ELSE 'status_inquiry' END, 'no_response', 'bench.rule', 'bench.rule', "
        "'hint', 'Call the payer for the claim status; appeal if denied.', '', 0.8, charge_cents, "
        "charge_cents / 2, id FROM claims",
        f"INSERT INTO work_items (pcn, claim_id, payer_id, run_id, tier, action, root_cause, rule_id, hint, "
        f"balance_cents, expected_recovery_cents, deadline, rank, queue, skill, routing_rule_id, status, "
        f"sop_action, sop_due, created_at, updated_at) "
        f"SELECT pcn, claim_id, payer_id, 1, tier, action, root_cause, rule_id, hint, balance_cents, "
        f"expected_recovery_cents, DATE '2026-11-02' + (claim_id % 120)::int, "
        f"(claim_id % 120) * 10000000 + (1000000 - expected_recovery_cents % 1000000), "
        f"({queues})[1 + {_mix('claim_id', 5, 'q')}], (ARRAY['', 'appeals', 'coding', ''])[1 + {_mix('claim_id', 4, 's')}], "
        f"'bench', 'open', "
        f"action, DATE '2026-11-02' + (claim_id % 30)::int, now(), now() FROM triage_results",
    ]


# -------------------------------------------------------------------------------------------------- load
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(url: str, port: int, workers: int = 1) -> subprocess.Popen[bytes]:
    env = os.environ | {"EVERYCLAIM_SECRET_KEY": "bench-secret-key-0123456789-abcdefghijklmnop"}
    cmd = [sys.executable, "-c", "from everyclaim.cli import main; main()", "serve", "--db", url, "--port",
           str(port), "--log-level", "warning", "--workers", str(workers)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    for _ in range(150):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.TransportError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("the server did not start")


async def _sign_in(client: httpx.AsyncClient, username: str) -> None:
    page = (await client.get("/login")).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    r = await client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": token})
    if r.status_code != 303:
        raise RuntimeError(f"sign-in failed for {username}: {r.status_code}")


def _filters(rnd: random.Random) -> dict[str, str]:
    f: dict[str, str] = {"page": str(rnd.choice((1, 1, 1, 2, 3, 5, 10)))}
    pick = rnd.random()
    if pick < 0.3:
        f["queue"] = rnd.choice(QUEUES)
    elif pick < 0.5:
        f["tier"] = rnd.choice(TIERS)
    elif pick < 0.65:
        f["payer"] = f"P{rnd.randrange(PAYERS)}"
    elif pick < 0.75:
        f["search"] = f"B{rnd.randrange(100):03d}"
    return f


def _label(kind: str, params: dict[str, str] | None) -> str:
    """The request's route and filter, for the per-route breakdown (``rows:search``, ``claim``)."""
    if not params:
        return kind
    used = [k for k in ("queue", "tier", "payer", "search") if k in params]
    deep = "" if params.get("page") in (None, "1") else "+page"
    return f"{kind}:{used[0] if used else 'all'}{deep}"


async def user_loop(base: str, username: str, until: float, think: float, seed: int,
                    samples: dict[str, list[float]], errors: dict[str, int],
                    routes: dict[str, list[float]]) -> None:
    rnd = random.Random(seed)
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        await _sign_in(client, username)
        seen: list[str] = []
        while time.monotonic() < until:
            kind = rnd.choices(list(KINDS), weights=list(KINDS.values()))[0]
            if kind == "claim" and not seen:
                kind = "queue"
            if kind == "claim":
                path, params = f"/claims/{rnd.choice(seen)}", None
            else:
                path, params = {"queue": "/queue", "rows": "/queue/rows", "api": "/api/queue"}[kind], _filters(rnd)
            t0 = time.perf_counter()
            try:
                r = await client.get(path, params=params)
                ok = r.status_code < 400
            except httpx.HTTPError:
                ok, r = False, None
            ms = (time.perf_counter() - t0) * 1000
            samples[kind].append(ms)
            routes[_label(kind, params)].append(ms)
            if not ok:
                errors[kind] += 1
            elif kind in ("queue", "rows") and r is not None:
                found = re.findall(r'href="/claims/(B\d+)"', r.text)
                if found:
                    seen = found[:20]
            await asyncio.sleep(think * rnd.uniform(0.5, 1.5))


def _pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1] if len(values) > 1 else values[0]


async def run_load(base: str, users: int, seconds: float, think: float
                   ) -> tuple[dict[str, list[float]], dict[str, int], dict[str, list[float]]]:
    samples: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, int] = defaultdict(int)
    routes: dict[str, list[float]] = defaultdict(list)
    until = time.monotonic() + seconds
    await asyncio.gather(*(user_loop(base, f"biller{i:02d}", until, think, i, samples, errors, routes)
                           for i in range(users)))
    return samples, errors, routes


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process and its live descendants (Linux ``/proc``)."""
    stats: dict[int, list[str]] = {}
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit():
                stats[int(proc.name)] = (proc / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
    tree, grew = {pid}, True
    while grew:
        more = {p for p, f in stats.items() if int(f[1]) in tree} - tree
        tree |= more
        grew = bool(more)
    return sum(int(stats[p][11]) + int(stats[p][12]) for p in tree if p in stats) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pg", default=os.environ.get("EVERYCLAIM_TEST_DB", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"))
    ap.add_argument("--claims", type=int, default=1_000_000)
    ap.add_argument("--users", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--think", type=float, default=1.0, help="mean seconds between a user's requests")
    ap.add_argument("--workers", type=int, default=1, help="everyclaim serve --workers")
    ap.add_argument("--reuse", action="store_true", help="keep the ec_web_bench database from a previous run")
    args = ap.parse_args()
    url = _db_url(args.pg) if args.reuse else build(args.pg, args.claims)
    port = _free_port()
    server = start_server(url, port, args.workers)
    load_before = os.getloadavg()
    cpu0, me0 = cpu_seconds(server.pid), time.process_time()
    try:
        samples, errors, routes = asyncio.run(run_load(f"http://127.0.0.1:{port}", args.users, args.seconds,
                                                       args.think))
        cpu = (cpu_seconds(server.pid) - cpu0, time.process_time() - me0)
    finally:
        server.terminate()
        server.wait(timeout=10)
    load_after = os.getloadavg()
    every = [v for vs in samples.values() for v in vs]
    print(f"{args.users} users, {args.seconds:.0f} s, think {args.think} s, {args.workers} server processes, "
          f"{args.claims:,} open claims "
          f"({Path(__file__).name})")
    print(f"{'request':<10}{'count':>8}{'p50 ms':>10}{'p95 ms':>10}{'p99 ms':>10}{'errors':>8}")
    for kind in (*KINDS, "all"):
        vs = every if kind == "all" else samples.get(kind, [])
        errs = sum(errors.values()) if kind == "all" else errors.get(kind, 0)
        if vs:
            print(f"{kind:<10}{len(vs):>8}{_pct(vs, 50):>10.1f}{_pct(vs, 95):>10.1f}{_pct(vs, 99):>10.1f}{errs:>8}")
    print(f"{'route':<22}{'count':>8}{'p50 ms':>10}{'p95 ms':>10}{'max ms':>10}")
    for label in sorted(routes, key=lambda k: -_pct(routes[k], 95)):
        vs = routes[label]
        print(f"{label:<22}{len(vs):>8}{_pct(vs, 50):>10.1f}{_pct(vs, 95):>10.1f}{max(vs):>10.1f}")
    print(f"CPU seconds: server {cpu[0]:.1f}, load generator {cpu[1]:.1f}; "
          f"load average {load_before[0]:.2f} before, {load_after[0]:.2f} after ({os.cpu_count()} CPUs)")
    p95 = _pct(every, 95)
    total_errors = sum(errors.values())
    print(f"{len(every) / args.seconds:.1f} requests/s; goal p95 <= 150 ms and 0 errors: "
          f"{'met' if p95 <= 150 and total_errors == 0 else 'NOT met'}")


if __name__ == "__main__":
    main()
