"""Recovery scoring benchmark: a synthetic world with resolved history, ingested, triaged and scored.

    python bench/scoring.py --claims 20000 --history 20000 [--engine lightgbm]

Prints the model's test figures (AUC, Brier against a constant, recovered dollars in the top 10/16/20%
by net value, balance and age), the same ranking against the world's truth for the open claims staff
work, and the seconds to fit and to score. Not a timed test; figures go to the README.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import date
from pathlib import Path

from everyclaim.cli.scoring import truth_check
from everyclaim.ingest.pipeline import Options, ingest
from everyclaim.ledger.db import make_engine, upgrade
from everyclaim.scoring import score as sc
from everyclaim.scoring.settings import load_settings
from everyclaim.synth.world import generate
from everyclaim.triage import engine as eng
from everyclaim.triage.rules import load_rules

AS_OF = date(2026, 11, 1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--claims", type=int, default=20_000, help="claims in the current world")
    ap.add_argument("--history", type=int, default=20_000, help="resolved past denials")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--engine", choices=["hgb", "lightgbm"], default="hgb",
                    help="the trees: scikit-learn HistGradientBoosting or LightGBM (the lightgbm extra)")
    args = ap.parse_args()
    settings = load_settings()
    settings.model.engine = args.engine
    with tempfile.TemporaryDirectory() as tmp:
        world, db = Path(tmp) / "world", Path(tmp) / "bench.db"
        t0 = time.perf_counter()
        generate(world, args.claims, args.seed, AS_OF, history=args.history)
        engine = make_engine(f"sqlite:///{db}")
        upgrade(engine)
        ingest(engine, [world], Options(as_of=AS_OF))
        t1 = time.perf_counter()
        with engine.begin() as conn:
            run = eng.triage(conn, AS_OF, load_rules([])[0]).run_id
            t2 = time.perf_counter()
            result = sc.score(conn, run, AS_OF, settings)
            t3 = time.perf_counter()
            against = truth_check(conn, world / "truth.csv")
    ev = result.evaluation
    print(f"world: {args.claims} claims + {args.history} resolved denials, seed {args.seed}; "
          f"synthesize+ingest {t1 - t0:.1f} s, triage {t2 - t1:.1f} s")
    print(f"scored {result.claims} open claims in {t3 - t2:.1f} s (train on history + score), model: {result.model}, engine {args.engine}")
    if ev:
        print(f"test (newest 20% by denial date, {ev.rows['test']} examples): AUC {ev.auc:.3f}, "
              f"Brier {ev.brier:.4f} vs constant {ev.brier_constant:.4f}")
        for k, v in ev.top_share.items():
            print(f"  top {k:>3} recovered dollars: net value {v['net_value']:.1%}  balance {v['balance']:.1%}  "
                  f"age {v['age']:.1%}")
    if against:
        print(f"open staff-worked claims vs truth ({against['claims']}): " + json.dumps(against["top_share"]["16%"])
              + (f", denied AUC {against['denied_auc']:.3f}" if "denied_auc" in against else ""))


if __name__ == "__main__":
    main()
