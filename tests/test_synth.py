"""The synthetic A/R world: valid X12, balanced 835s, reproducible, truth consistent with the evidence."""

from __future__ import annotations

import csv
import hashlib
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from everyclaim.synth.catalog import load_catalog
from everyclaim.synth.files import ATB_COLUMNS
from everyclaim.synth.world import generate

AS_OF = date(2026, 11, 1)
N = 800
DENIAL_CARCS = {"16", "18", "22", "27", "29", "50", "97", "197", "B7", "11"}


def pyx12_errors(path: Path) -> list[str]:
    """pyx12's validation errors for a file ([] when valid)."""
    import logging

    x12n_document = pytest.importorskip("pyx12.x12n_document")
    import pyx12.params

    messages: list[str] = []

    class _Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            messages.append(record.getMessage())

    h = _Collect(logging.ERROR)
    log = logging.getLogger("pyx12")
    log.addHandler(h)
    old, log.propagate = log.propagate, False
    try:
        ok = x12n_document.x12n_document(pyx12.params.params(), str(path), None, None, None)
    finally:
        log.removeHandler(h)
        log.propagate = old
    return messages if messages or ok else ["invalid"]


def _hash(d: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(d.iterdir()):
        h.update(p.name.encode())
        h.update(p.read_bytes())
    return h.hexdigest()


@pytest.fixture(scope="module", params=["clinic", "hospital"])
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp(f"world_{request.param}")
    generate(out, N, 7, AS_OF, request.param)
    return out


def _segs(path: Path) -> list[list[str]]:
    return [s.strip().split("*") for s in path.read_text().split("~") if s.strip()]


def _d(s: str) -> date:
    return date(int(s[:4]), int(s[4:6]), int(s[6:8]))


def _csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_same_seed_same_bytes(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    generate(a, 300, 11, AS_OF)
    generate(b, 300, 11, AS_OF)
    generate(c, 300, 12, AS_OF)
    assert _hash(a) == _hash(b)
    assert _hash(a) != _hash(c)


def test_x12_passes_pyx12(world: Path) -> None:
    files = sorted(world.glob("*.x12"))
    kinds = {p.name.split("_")[0] for p in files}
    sample = set(files[::40]) | {next(p for p in files if p.name.startswith(k)) for k in kinds}
    for p in sorted(sample):
        assert pyx12_errors(p) == [], p.name


def test_835s_balance(world: Path) -> None:
    for p in world.glob("835_*.x12"):
        segs = _segs(p)
        bpr = Decimal(next(s for s in segs if s[0] == "BPR")[2])
        clp_paid = plb = Decimal(0)
        claim = svc = None
        for s in segs + [["END"]]:
            if s[0] in ("CLP", "SE", "END") and claim:
                assert claim[0] - claim[1] == claim[2], (p.name, claim)
            if s[0] in ("SVC", "CLP", "SE", "END") and svc:
                assert svc[0] - svc[1] == svc[2], (p.name, svc)
                svc = None
            if s[0] == "CLP":
                claim = [Decimal(s[3]), Decimal(s[4]), Decimal(0)]
                clp_paid += Decimal(s[4])
            elif s[0] == "SVC":
                svc = [Decimal(s[2]), Decimal(s[3]), Decimal(0)]
            elif s[0] == "CAS":
                amt = sum(Decimal(s[i]) for i in range(3, len(s), 3))
                claim[2] += amt
                if svc:
                    svc[2] += amt
            elif s[0] == "PLB":
                plb += sum(Decimal(s[i]) for i in range(4, len(s), 2))
            elif s[0] == "SE":
                claim = None
        assert bpr == clp_paid - plb, p.name


def test_atb_columns_and_arithmetic(world: Path) -> None:
    with open(world / "atb.csv", newline="") as f:
        assert next(csv.reader(f)) == ATB_COLUMNS
    for r in _csv(world / "atb.csv"):
        charge, ins, pat, adj, bal = (Decimal(r[k]) for k in ATB_COLUMNS[6:])
        assert bal == charge - ins - pat - adj, r
        assert bal != 0 and r["responsibility"] in ("primary", "secondary", "tertiary", "patient")
        for k in ATB_COLUMNS[6:]:
            assert len(r[k].split(".")[1]) == 2


def test_truth_covers_atb(world: Path) -> None:
    truth = {r["claim_id"]: r for r in _csv(world / "truth.csv")}
    atb = {r["claim_id"]: r for r in _csv(world / "atb.csv")}
    assert len(truth) == N
    for cid, r in atb.items():
        assert truth[cid]["open"] == "true"
        assert Decimal(truth[cid]["balance"]) == Decimal(r["balance"])
    for cid, t in truth.items():
        if cid not in atb:
            assert t["open"] == "false" and t["tier"] == "no_opportunity" and t["action"] == ""


def test_scenario_shares(world: Path) -> None:
    counts: dict[str, int] = defaultdict(int)
    for r in _csv(world / "truth.csv"):
        counts[r["scenario"]] += 1
    for sc in load_catalog().scenarios:
        assert abs(counts[sc.id] - sc.share * N) <= 1, sc.id


def _evidence(world: Path) -> tuple[dict, dict, dict, dict]:
    """Per claim: 277CA acceptances (dates), 837 submissions (payer, has 2320, has G1), first 835 CLP."""
    accepted: dict[str, list[date]] = defaultdict(list)
    for p in world.glob("277ca_*.x12"):
        pcn = None
        for s in _segs(p):
            if s[0] == "TRN" and s[1] == "2":
                pcn = s[2]
            elif s[0] == "STC" and pcn and s[1].split(":")[0] in ("A1", "A2") and s[3] == "WQ" and s[2]:
                accepted[pcn].append(_d(s[2]))
                pcn = None
    bills: dict[str, list[dict]] = defaultdict(list)
    for p in world.glob("837*.x12"):
        cur = None
        payer = ""
        for s in _segs(p):
            if s[0] == "NM1" and s[1] == "PR" and cur is None:
                payer = s[9]
            if s[0] == "HL":
                cur = None
            elif s[0] == "CLM":
                cur = {"payer": payer, "sbr": 0, "g1": False, "file": p.name}
                bills[s[1]].append(cur)
            elif cur is not None and s[0] == "SBR":
                cur["sbr"] += 1
            elif cur is not None and s[0] == "REF" and s[1] == "G1":
                cur["g1"] = True
    first: dict[str, tuple[date, list[str]]] = {}
    for p in sorted(world.glob("835_*.x12")):
        segs = _segs(p)
        when = _d(next(s for s in segs if s[0] == "BPR")[-1])
        pcn = None
        for s in segs:
            if s[0] == "CLP":
                pcn = s[1]
                if pcn not in first or first[pcn][0] > when:
                    first[pcn] = (when, [s[2]])
                else:
                    pcn = None
            elif s[0] == "CAS" and pcn:
                first[pcn][1].extend(s[i] for i in range(2, len(s), 3))
    return accepted, bills, first, {r["payer_id"]: r for r in _csv(world / "payers.csv")}


def test_truth_consistent_with_evidence(world: Path) -> None:
    accepted, bills, first, payers = _evidence(world)
    atb = {r["claim_id"]: r for r in _csv(world / "atb.csv")}
    for t in _csv(world / "truth.csv"):
        cid, sc = t["claim_id"], t["scenario"]
        if t["open"] == "false":
            continue
        a = atb[cid]
        tf = int(payers[a["payer_id"]]["timely_filing_days"])
        limit = date.fromisoformat(a["service_date"]) + timedelta(days=tf)
        if sc == "timely_filing_no_proof":
            assert "29" in first[cid][1] and all(d > limit for d in accepted[cid])
        elif sc == "timely_filing_with_proof":
            assert "29" in first[cid][1] and any(d <= limit for d in accepted[cid])
        elif sc == "never_acknowledged":
            assert not accepted[cid] and cid not in first and limit < AS_OF
        elif sc == "no_response":
            assert accepted[cid] and cid not in first and limit > AS_OF
            assert (AS_OF - date.fromisoformat(a["last_billed_date"])).days > 45
        elif sc == "secondary_not_billed":
            assert len(bills[cid]) == 1 and bills[cid][0]["sbr"] == 1  # one 2320 other-subscriber loop
        elif sc in ("authorization_on_claim", "authorization_missing_expired"):
            assert "197" in first[cid][1]
            assert bills[cid][0]["g1"] == (sc == "authorization_on_claim")
            appeal = int(payers[a["payer_id"]]["appeal_days"])
            expired = (AS_OF - first[cid][0]).days > appeal
            assert expired == (sc == "authorization_missing_expired")
        if t["action"] == "refund":
            assert Decimal(a["balance"]) < 0
        if t["action"] == "transfer_to_patient":
            assert a["responsibility"] == "primary" and first[cid][1][0] == "1"
        if sc == "deductible_not_transferred":
            assert all(b["sbr"] == 0 for b in bills[cid])


def test_initial_denial_rate(world: Path) -> None:
    _, _, first, _ = _evidence(world)
    denied = sum(1 for status, *cas in (v[1] for v in first.values()) if status == "4" or DENIAL_CARCS & set(cas))
    assert 0.09 <= denied / N <= 0.13
