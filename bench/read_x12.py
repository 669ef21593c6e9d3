"""Benchmark the X12 reader: python bench/read_x12.py [claims]  (default 100000, ~50 MB 835)."""

from __future__ import annotations

import random
import resource
import sys
import time
from pathlib import Path

from everyclaim.x12.tokenize import segments_from_path
from everyclaim.x12.walk import walk

DATA = Path(__file__).parent / "_data"


def generate(path: Path, claims: int, seed: int = 7) -> None:
    rnd = random.Random(seed)
    with path.open("w") as f:
        f.write("ISA*00*          *00*          *ZZ*PAYER          *ZZ*PROVIDER       *230101*0800*^*00501*000000001*0*P*:~\n"
                "GS*HP*PAYER*PROVIDER*20230101*0800*1*X*005010X221A1~\nST*835*0001~\n"
                "BPR*I*1000.00*C*ACH*CCP*01*999999999*DA*123456*1512345678**01*999988880*DA*98765*20230105~\n"
                "TRN*1*12345*1512345678~\nDTM*405*20230101~\nN1*PR*PAYER~\nN3*1 MAIN ST~\nN4*CITY*ST*12345~\n"
                "PER*BL*BILLING*TE*5555555555~\nN1*PE*CLINIC*XX*1234567893~\nLX*1~\n")
        n = 12
        for i in range(claims):
            charge = rnd.randint(100, 5000)
            paid = charge * rnd.randint(0, 90) // 100
            carc = rnd.choice(("45", "97", "16", "50", "197"))
            f.write(f"CLP*PCN{i:08d}*1*{charge}.00*{paid}.00*0*12*CCN{i:010d}*11*1~\n"
                    f"CAS*CO*{carc}*{charge - paid}.00~\nNM1*QC*1*DOE*JANE****MI*M{i:09d}~\nMOA***MA130~\n"
                    f"DTM*050*20230101~\nSVC*HC:99213*{charge}.00*{paid}.00**1~\nDTM*472*20221215~\n"
                    f"CAS*CO*{carc}*{charge - paid}.00~\nAMT*B6*{paid}.00~\nLQ*HE*N290~\n")
            n += 10
        f.write(f"PLB*1234567893*20231231*WO:X1*-10.00~\nSE*{n + 2}*0001~\nGE*1*1~\nIEA*1*000000001~\n")


def measure(path: Path) -> None:
    mb = path.stat().st_size / 1e6
    t = time.perf_counter()
    with path.open("rb") as fh:
        n = sum(len(s.split("*")) for s in fh.read().decode().split("~"))
    t_split = time.perf_counter() - t
    t = time.perf_counter()
    n = sum(1 for _ in segments_from_path(path))
    t_tok = time.perf_counter() - t
    t = time.perf_counter()
    w = walk(segments_from_path(path), str(path))
    claims = sum(1 for loop, s in w if s.id == "CLP")
    t_walk = time.perf_counter() - t
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{path.name}: {mb:.1f} MB, {n} segments, {claims} claims, {len(w.findings)} findings")
    print(f"  bare split      {mb / t_split:6.1f} MB/s")
    print(f"  tokenize        {mb / t_tok:6.1f} MB/s")
    print(f"  tokenize+walk   {mb / t_walk:6.1f} MB/s  {claims / t_walk:,.0f} claims/s  peak RSS {rss:.0f} MB")


def main() -> None:
    claims = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    DATA.mkdir(exist_ok=True)
    for n in (claims // 10, claims):
        p = DATA / f"remit_{n}.835"
        if not p.exists():
            generate(p, n)
        measure(p)


if __name__ == "__main__":
    main()
