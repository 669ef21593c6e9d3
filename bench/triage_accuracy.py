"""Triage accuracy and speed on synthetic worlds, scored against each world's truth.csv.

    python bench/triage_accuracy.py --sizes 2000,10000 --seeds 1,2,3 [--workdir DIR] [--db-url URL]

For every size x seed: generate a world, ingest it into a fresh SQLite ledger (kept in --workdir and
reused on the next run), triage it, and score the worklist. Prints per scenario and overall:
tier accuracy, action accuracy, root-cause accuracy, automated precision (action correct among the
claims the engine automated: tiers no_opportunity and simple_fix), automation recall (claims whose
truth tier is automatic that the engine automated with the right action, over all claims whose truth
tier is automatic), credit balances written off (ATB balance below zero, action write_off: must be 0),
and the time of each stage. Exits non-zero when an overall goal is missed (--no-check to skip).
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from collections import defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path

from everyclaim.ingest.pipeline import Options, ingest
from everyclaim.ledger.db import make_engine, upgrade
from everyclaim.synth.world import generate
from everyclaim.triage import engine as eng
from everyclaim.triage.rules import load_rules

AUTOMATED = ("no_opportunity", "simple_fix")
GOALS = {"auto prec": 0.98, "recall": 0.90, "action": 0.90}
# per-scenario counters, in this order
FIELDS = ("n", "tier", "action", "root", "auto", "auto_ok", "truth_auto", "recalled", "credit_wo")


def world_db(workdir: Path, size: int, seed: int, as_of: date, profile: str = "clinic"
             ) -> tuple[Path, str, dict[str, float]]:  # fmt: skip
    """The world folder and a ledger with it ingested (built once, then reused)."""
    folder = workdir / (f"w{size}_s{seed}" + ("" if profile == "clinic" else f"_{profile}"))
    db = folder / "ledger.db"
    times: dict[str, float] = {}
    if not (folder / "done").exists():
        for f in folder.glob("ledger.db*"):
            f.unlink()
        t0 = time.perf_counter()
        generate(folder / "world", size, seed, as_of, profile)
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
    """Add one world's worklist to the per-scenario counters (:data:`FIELDS`)."""
    for r in rows:
        t = truth[str(r["claim_id"])]
        a = acc[t["scenario"]]
        auto = r["tier"] in AUTOMATED
        ok_action = r["action"] == t["action"]
        truth_auto = t["tier"] in AUTOMATED
        a[0] += 1
        a[1] += r["tier"] == t["tier"]
        a[2] += ok_action
        a[3] += r["root_cause"] == t["root_cause"]
        a[4] += auto
        a[5] += auto and ok_action
        a[6] += truth_auto
        a[7] += truth_auto and auto and ok_action
        a[8] += r["action"] == "write_off" and Decimal(str(r["balance"])) < 0


def _pct(num: int, den: int) -> str:
    return f"{num / den:7.1%}" if den else "      -"


def _line(label: str, truth_tier: str, c: list[int]) -> str:
    n, tier, action, root, auto, auto_ok, truth_auto, recalled, credit_wo = c
    return (f"{label:32} {truth_tier:15} {n:7} {_pct(tier, n)} {_pct(action, n)} {_pct(root, n)} {auto:7} "
            f"{_pct(auto_ok, auto):>9} {_pct(recalled, truth_auto):>7} {credit_wo:9}")  # fmt: skip


def print_table(acc: dict[str, list[int]], truth_tier: dict[str, str], title: str = "") -> dict[str, float]:
    """Print the per-scenario table and the overall line; return the overall rates."""
    head = (f"{'scenario':32} {'truth tier':15} {'claims':>7} {'tier':>7} {'action':>7} {'root':>7} {'auto':>7} "
            f"{'auto prec':>9} {'recall':>7} {'credit wo':>9}")  # fmt: skip
    if title:
        print(title)
    print(head)
    print("-" * len(head))
    total = [0] * len(FIELDS)
    for sc in sorted(acc, key=lambda s: (-acc[s][0], s)):
        total = [x + y for x, y in zip(total, acc[sc], strict=True)]
        print(_line(sc, truth_tier[sc], acc[sc]))
    print("-" * len(head))
    print(_line("overall", "", total))
    print(f"automated share of open claims: {_share(total[4], total[0])}")
    return _overall(acc)


def _share(num: int, den: int) -> str:
    return f"{num / den:.1%}" if den else "-"


def check(overall: dict[str, float]) -> list[str]:
    """The goals an overall line misses."""
    missed = [f"{k} {overall[k]:.1%} < {goal:.0%}" for k, goal in GOALS.items() if overall[k] < goal]
    if overall["credit wo"]:
        missed.append(f"{overall['credit wo']:.0f} credit balances written off")
    return missed


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", default="2000,10000")
    p.add_argument("--seeds", default="1,2,3")
    p.add_argument("--profiles", default="clinic", help="Synthesizer profiles: clinic (837P), hospital (837I).")
    p.add_argument("--as-of", default="2026-03-31")
    p.add_argument("--workdir", type=Path, default=Path("bench/.triage-worlds"))
    p.add_argument("--rules", type=Path, action="append", default=[], help="Extra rule pack folder(s).")
    p.add_argument("--no-check", action="store_true", help="Exit 0 even when a goal is missed.")
    p.add_argument("--per-world", action="store_true", help="Also print the table of every world.")
    args = p.parse_args()
    as_of = date.fromisoformat(args.as_of)
    rules, errors = load_rules(args.rules)
    if errors:
        raise SystemExit("\n".join(e.located() for e in errors))
    acc: dict[str, list[int]] = defaultdict(lambda: [0] * len(FIELDS))
    worlds: list[tuple[str, dict[str, list[int]]]] = []
    truth_tier: dict[str, str] = {}
    print(f"{'profile':>8} {'size':>6} {'seed':>4} {'open':>6} {'generate':>9} {'ingest':>8} {'features+rules':>14} {'rank':>7} "
          f"{'triage':>7} {'claims/s':>9}")  # fmt: skip
    worlds_wanted = [(pr, int(size), int(seed)) for pr in args.profiles.split(",") for size in args.sizes.split(",")
                     for seed in args.seeds.split(",")]  # fmt: skip
    for profile, size, seed in worlds_wanted:
        world, url, built = world_db(args.workdir, size, seed, as_of, profile)
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
        mine: dict[str, list[int]] = defaultdict(lambda: [0] * len(FIELDS))
        score(rows, truth, mine)
        for sc, c in mine.items():
            acc[sc] = [x + y for x, y in zip(acc[sc], c, strict=True)]
        worlds.append((f"{profile} {size} seed {seed}", mine))
        tm = result.timings
        print(f"{profile:>8} {size:6} {seed:4} {result.claims:6} {built.get('generate', 0):8.1f}s {built.get('ingest', 0):7.1f}s "
              f"{tm['features+rules']:13.2f}s {tm['priority'] + tm['summary']:6.2f}s {took:6.2f}s {result.claims / took:9.0f}",
              flush=True)  # fmt: skip
    summary = []
    for name, mine in worlds:
        if args.per_world:
            print()
            summary.append((name, print_table(mine, truth_tier, name)))
        else:
            summary.append((name, _overall(mine)))
    print()
    overall = print_table(acc, truth_tier, "all worlds")
    print()
    print(f"{'world':24} {'action':>7} {'auto prec':>9} {'recall':>7} {'credit wo':>9}")
    for name, o in [*summary, ("all worlds", overall)]:
        print(f"{name:24} {o['action']:7.1%} {o['auto prec']:9.1%} {o['recall']:7.1%} {o['credit wo']:9.0f}")
    missed = check(overall) + [f"{name}: {m}" for name, o in summary for m in check(o)]
    print("goals (auto prec >= 98%, recall >= 90%, action >= 90%, credit wo = 0):",
          "met" if not missed else "MISSED: " + "; ".join(missed))
    if missed and not args.no_check:
        sys.exit(1)


def _overall(acc: dict[str, list[int]]) -> dict[str, float]:
    total = [sum(c[i] for c in acc.values()) for i in range(len(FIELDS))]
    n, _, action, _, auto, auto_ok, truth_auto, recalled, credit_wo = total
    return {"action": action / n if n else 0.0, "auto prec": auto_ok / auto if auto else 1.0,
            "recall": recalled / truth_auto if truth_auto else 1.0, "credit wo": credit_wo}


if __name__ == "__main__":
    main()
