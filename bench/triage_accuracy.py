"""Triage accuracy and speed on synthetic worlds, scored against each world's truth.csv.

    python bench/triage_accuracy.py --sizes 2000,10000 --seeds 1,2,3 [--workdir DIR] [--db-url URL]

For every size x seed: generate a world, ingest it into a fresh SQLite ledger (kept in --workdir and
reused on the next run), triage it, and score the worklist. Prints per scenario and overall:
tier accuracy, action accuracy, root-cause accuracy, automated precision (action correct among the
claims the engine automated: tiers no_opportunity and simple_fix), and the time of each stage.
"""

from __future__ import annotations

import argparse
import csv
import time
from collections import defaultdict
from datetime import date
from pathlib import Path

from everyclaim.ingest.pipeline import Options, ingest
from everyclaim.ledger.db import make_engine, upgrade
from everyclaim.synth.world import generate
from everyclaim.triage import engine as eng
from everyclaim.triage.rules import load_rules

AUTOMATED = ("no_opportunity", "simple_fix")


def world_db(workdir: Path, size: int, seed: int, as_of: date) -> tuple[Path, str, dict[str, float]]:
    """The world folder and a ledger with it ingested (built once, then reused)."""
    folder = workdir / f"w{size}_s{seed}"
    db = folder / "ledger.db"
    times: dict[str, float] = {}
    if not (folder / "done").exists():
        for f in folder.glob("ledger.db*"):
            f.unlink()
        t0 = time.perf_counter()
        generate(folder / "world", size, seed, as_of)
        times["generate"] = time.perf_counter() - t0
        engine = make_engine(f"sqlite:///{db}")
        upgrade(engine)
        t0 = time.perf_counter()
        ingest(engine, [folder / "world"], Options(as_of=as_of))
        times["ingest"] = time.perf_counter() - t0
        engine.dispose()
        (folder / "done").write_text("ok\n")
    return folder / "world", f"sqlite:///{db}", times


def score(rows: list[dict[str, object]], truth: dict[str, dict[str, str]], acc: dict[str, list[int]]) -> None:
    """Add one world's worklist to the per-scenario counters [n, tier, action, root, automated, auto_ok]."""
    for r in rows:
        t = truth[str(r["claim_id"])]
        a = acc[t["scenario"]]
        auto = r["tier"] in AUTOMATED
        ok_action = r["action"] == t["action"]
        a[0] += 1
        a[1] += r["tier"] == t["tier"]
        a[2] += ok_action
        a[3] += r["root_cause"] == t["root_cause"]
        a[4] += auto
        a[5] += auto and ok_action


def _pct(num: int, den: int) -> str:
    return f"{num / den:7.1%}" if den else "      -"


def print_table(acc: dict[str, list[int]], truth_tier: dict[str, str]) -> None:
    head = f"{'scenario':32} {'truth tier':15} {'claims':>7} {'tier':>7} {'action':>7} {'root':>7} {'auto':>7} {'auto prec':>9}"
    print(head)
    print("-" * len(head))
    total = [0] * 6
    for sc in sorted(acc, key=lambda s: (-acc[s][0], s)):
        n, tier, action, root, auto, auto_ok = acc[sc]
        total = [x + y for x, y in zip(total, acc[sc], strict=True)]
        print(f"{sc:32} {truth_tier[sc]:15} {n:7} {_pct(tier, n)} {_pct(action, n)} {_pct(root, n)} {auto:7} "
              f"{_pct(auto_ok, auto):>9}")  # fmt: skip
    n, tier, action, root, auto, auto_ok = total
    print("-" * len(head))
    print(f"{'overall':32} {'':15} {n:7} {_pct(tier, n)} {_pct(action, n)} {_pct(root, n)} {auto:7} {_pct(auto_ok, auto):>9}")
    print(f"automated share of open claims: {auto / n:.1%}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", default="2000,10000")
    p.add_argument("--seeds", default="1,2,3")
    p.add_argument("--as-of", default="2026-03-31")
    p.add_argument("--workdir", type=Path, default=Path("bench/.triage-worlds"))
    p.add_argument("--rules", type=Path, action="append", default=[], help="Extra rule pack folder(s).")
    args = p.parse_args()
    as_of = date.fromisoformat(args.as_of)
    rules, errors = load_rules(args.rules)
    if errors:
        raise SystemExit("\n".join(e.located() for e in errors))
    acc: dict[str, list[int]] = defaultdict(lambda: [0] * 6)
    truth_tier: dict[str, str] = {}
    print(f"{'size':>6} {'seed':>4} {'open':>6} {'generate':>9} {'ingest':>8} {'features':>9} {'rules':>7} "
          f"{'triage':>7} {'claims/s':>9}")  # fmt: skip
    for size in (int(x) for x in args.sizes.split(",")):
        for seed in (int(x) for x in args.seeds.split(",")):
            world, url, built = world_db(args.workdir, size, seed, as_of)
            engine = make_engine(url)
            t0 = time.perf_counter()
            with engine.begin() as conn:
                result = eng.triage(conn, as_of, rules)
                rows = eng.worklist(conn, result.run_id)
            took = time.perf_counter() - t0
            engine.dispose()
            with (world / "truth.csv").open() as f:
                truth = {r["claim_id"]: r for r in csv.DictReader(f)}
            truth_tier |= {r["scenario"]: r["tier"] for r in truth.values()}
            score(rows, truth, acc)
            tm = result.timings
            print(f"{size:6} {seed:4} {result.claims:6} {built.get('generate', 0):8.1f}s {built.get('ingest', 0):7.1f}s "
                  f"{tm['features']:8.2f}s {tm['rules']:6.2f}s {took:6.2f}s {result.claims / took:9.0f}",
                  flush=True)  # fmt: skip
    print()
    print_table(acc, truth_tier)


if __name__ == "__main__":
    main()
