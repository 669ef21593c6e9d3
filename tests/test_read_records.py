"""Every public sample outside invalid/ reads into records whose totals match an independent count."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from everyclaim.ledger.records import Claim, ClaimAck, ClaimPayment, Remittance, TransactionAck
from everyclaim.x12.read import read_records
from tests.shared_data import split_segments, valid_files


def _amount(x: str) -> Decimal:
    return Decimal(x) if x else Decimal(0)


def _naive_835(segs: list[list[str]]) -> dict[str, object]:
    clp = [s for s in segs if s[0] == "CLP"]
    cas_total = sum((_amount(s[i]) for s in segs if s[0] == "CAS" for i in range(3, len(s), 3)), Decimal(0))
    return {"claims": len(clp), "paid": sum((_amount(s[4]) for s in clp), Decimal(0)), "adjusted": cas_total,
            "remittances": sum(1 for s in segs if s[0] == "ST" and s[1] == "835")}


def _naive_837(segs: list[list[str]]) -> dict[str, object]:
    clm = [s for s in segs if s[0] == "CLM"]
    return {"claims": len(clm), "charge": sum((_amount(s[2]) for s in clm), Decimal(0)),
            "lines": sum(1 for s in segs if s[0] in ("SV1", "SV2"))}


@pytest.mark.parametrize("path", valid_files("835"), ids=lambda p: p.name)
def test_835_totals_match_an_independent_count(path: Path) -> None:
    records, _ = read_records(path)
    claims = [r for r in records if isinstance(r, ClaimPayment)]
    naive = _naive_835(split_segments(path))
    assert len(claims) == naive["claims"]
    assert sum((c.paid for c in claims), Decimal(0)) == naive["paid"]
    adjusted = sum((a.amount for c in claims for a in c.adjustments), Decimal(0)) + sum(
        (a.amount for c in claims for ln in c.lines for a in ln.adjustments), Decimal(0))
    assert adjusted == naive["adjusted"]
    assert sum(1 for r in records if isinstance(r, Remittance)) == naive["remittances"]


@pytest.mark.parametrize("path", valid_files("837p", "837i"), ids=lambda p: p.name)
def test_837_totals_match_an_independent_count(path: Path) -> None:
    records, _ = read_records(path)
    claims = [r for r in records if isinstance(r, Claim)]
    naive = _naive_837(split_segments(path))
    assert len(claims) == naive["claims"]
    assert sum((c.charge for c in claims), Decimal(0)) == naive["charge"]
    assert sum(len(c.lines) for c in claims) == naive["lines"]
    assert all(c.pcn and c.kind in ("837P", "837I") for c in claims)


@pytest.mark.parametrize("path", valid_files("277ca"), ids=lambda p: p.name)
def test_277ca_one_ack_per_claim(path: Path) -> None:
    records, _ = read_records(path)
    acks = [r for r in records if isinstance(r, ClaimAck)]
    level, expected = "", 0
    for s in split_segments(path):
        if s[0] == "HL":
            level = s[3] if len(s) > 3 else ""
        elif s[0] == "TRN" and level == "PT":
            expected += 1
    assert len(acks) == expected > 0
    assert all(a.pcn and a.category for a in acks)
    assert all(a.accepted == (a.category in ("A0", "A1", "A2", "A5")) for a in acks)


@pytest.mark.parametrize("path", valid_files("999"), ids=lambda p: p.name)
def test_999_one_ack_per_transaction(path: Path) -> None:
    records, _ = read_records(path)
    acks = [r for r in records if isinstance(r, TransactionAck)]
    segs = split_segments(path)
    assert [a.code for a in acks] == [s[1] for s in segs if s[0] in ("IK5", "AK5")]
    assert len(acks) > 0


def test_835_claim_details_from_a_known_sample() -> None:
    """lfh__managed-care.835 (SOURCES.tsv row: LinuxForHealth/x12 835 managed-care fixture)."""
    path = next(p for p in valid_files("835") if p.name == "lfh__managed-care.835")
    records, _ = read_records(path)
    remit = next(r for r in records if isinstance(r, Remittance))
    claims = [r for r in records if isinstance(r, ClaimPayment)]
    segs = split_segments(path)
    bpr = next(s for s in segs if s[0] == "BPR")
    assert remit.amount == Decimal(bpr[2])
    assert remit.trace_number == next(s for s in segs if s[0] == "TRN")[2]
    first_clp = next(s for s in segs if s[0] == "CLP")
    assert (claims[0].pcn, claims[0].status, claims[0].charge) == (first_clp[1], first_clp[2], Decimal(first_clp[3]))
    assert claims[0].source.seg_index > 0 and claims[0].source.file_sha256
