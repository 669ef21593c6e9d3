"""Count the instructions of reading, or reading + posting, an 835: ``python bench/instructions.py read|post``.

Wall time on a shared 2-core machine varies by a third from run to run; instruction counts do not. This
runs one step under ``valgrind --tool=callgrind`` (Debian's valgrind) and prints the total instructions of
the whole process (start-up, imports and guide loading included; ``--baseline`` also counts the same
step on a 3-claim file, which is about that fixed part):

  read   everyclaim.x12.read over the file, every record built (bench/ingest_835.py's step (d))
  post   everyclaim.ingest.pipeline.ingest into a fresh SQLite ledger (step (e)); both threads counted

The file is bench/ingest_835.py's generated 835 (``--claims``, default 20,000: ~10 MB, ~50x slower
under valgrind than natively). ``--out FILE`` keeps callgrind's profile for ``callgrind_annotate``.
``--sql STATEMENT`` (repeatable) runs on the fresh ledger before ``post``: what-if measurements, e.g. an
index put back (migration 0010 was measured so).
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SMALL = ROOT.parent / "shared" / "data" / "x12" / "835" / "affect__emedny_sample.txt"


def run_step(step: str, path: Path, sql: list[str]) -> None:
    """The measured work (run inside valgrind)."""
    if step == "read":
        from everyclaim.x12.read import read_path  # noqa: PLC0415

        for _ in read_path(path, sha256="x"):
            pass
        return
    from everyclaim.ingest.pipeline import ingest  # noqa: PLC0415
    from everyclaim.ledger.db import make_engine, upgrade  # noqa: PLC0415

    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/bench.db")
        upgrade(engine)
        with engine.begin() as conn:
            for statement in sql:
                conn.exec_driver_sql(statement)
        summary = ingest(engine, [path])
        engine.dispose()
    if summary.outcomes[0].status != "accepted":
        raise SystemExit(f"{path.name}: {summary.outcomes[0].status}")


def count(step: str, path: Path, out: str | None, sql: list[str]) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        profile = out or str(Path(tmp) / "callgrind.out")
        proc = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={profile}", sys.executable,
                               __file__, "--child", step, str(path), *(f"--sql={q}" for q in sql)],
                              capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(proc.stderr[-2000:])
    found = re.search(r"Collected : (\d+)", proc.stderr)
    if not found:
        raise SystemExit("valgrind printed no instruction count:\n" + proc.stderr[-2000:])
    return int(found.group(1))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("step", choices=("read", "post"))
    ap.add_argument("--claims", type=int, default=20_000)
    ap.add_argument("--baseline", action="store_true", help="also count the step on a 3-claim file")
    ap.add_argument("--out", help="keep callgrind's profile here (for callgrind_annotate)")
    ap.add_argument("--sql", action="append", default=[], help="SQL to run on the fresh ledger before post")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("file", nargs="?", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        run_step(args.step, Path(args.file), args.sql)
        return 0
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (apt-get install valgrind)")
    from bench.ingest_835 import data_file  # noqa: PLC0415

    path = data_file(args.claims)
    total = count(args.step, path, args.out, args.sql)
    print(f"{args.step} {path.name} ({args.claims:,} claims): {total / 1e9:.2f} G instructions")
    if args.baseline:
        base = count(args.step, SMALL, None, args.sql)
        print(f"{args.step} {SMALL.name} (3 claims, the fixed part): {base / 1e9:.2f} G instructions; "
              f"the difference {(total - base) / 1e9:.2f} G")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
