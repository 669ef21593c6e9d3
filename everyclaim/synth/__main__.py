"""``python -m everyclaim.synth --out DIR --claims N --seed S --as-of DATE [--profile clinic|hospital]``."""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date
from pathlib import Path

from everyclaim.synth.world import PROFILES, generate


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m everyclaim.synth", description=__doc__)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--claims", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--as-of", type=date.fromisoformat, required=True)
    ap.add_argument("--profile", choices=PROFILES, default="clinic")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    summary = generate(args.out, args.claims, args.seed, args.as_of, args.profile)
    print(f"{summary.claims} claims, files {summary.files}, open {summary.open_claims} "
          f"({summary.open_balance}), {time.perf_counter() - t0:.1f}s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
