"""The X12 writers: pyx12-valid output for small hand-built records, right counts, delimiters honoured."""

from __future__ import annotations

import io
import logging
from datetime import date
from decimal import Decimal as D
from pathlib import Path

import pytest

from everyclaim.ledger.records import (
    Adjustment,
    Claim,
    ClaimAck,
    ClaimPayment,
    OtherPayer,
    Party,
    ProviderAdjustment,
    Remark,
    Remittance,
    ServiceLine,
    ServicePayment,
    Source,
)
from everyclaim.x12.segments import Delimiters
from everyclaim.x12.write277ca import write_277ca
from everyclaim.x12.write835 import Writer835, write_835
from everyclaim.x12.write837 import X12_DEFAULT, write_837

pyx12_doc = pytest.importorskip("pyx12.x12n_document")
import pyx12.params  # noqa: E402

SRC = Source("")
BP = Party("85", "FAMILY CLINIC", "", "XX", "1234567893")
SUB = Party("IL", "DOE", "JANE", "MI", "W123456789")
PAT = Party("QC", "DOE", "JIMMY")
MCR = Party("PR", "MEDICARE", "", "PI", "MCR01")
MCD = Party("PR", "STATE MEDICAID", "", "PI", "MCD01")
SUBMITTER = Party("41", "CLINIC SUBMITTER", "", "46", "SUB01")
RECEIVER = Party("40", "CLEARINGHOUSE", "", "46", "CH01")
DOS = date(2026, 5, 1)


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def pyx12_errors(path: Path) -> list[str]:
    """pyx12's validation errors for a file ([] when valid)."""
    h = _Collect()
    log = logging.getLogger("pyx12")
    log.addHandler(h)
    old, log.propagate = log.propagate, False
    try:
        ok = pyx12_doc.x12n_document(pyx12.params.params(), str(path), None, None, None)
    finally:
        log.removeHandler(h)
        log.propagate = old
    return h.messages if h.messages or ok else ["invalid"]


def segments(text: str, d: Delimiters = X12_DEFAULT) -> list[list[str]]:
    return [s.strip().split(d.element) for s in text.split(d.segment) if s.strip()]


def check_envelope(segs: list[list[str]]) -> None:
    """SE01 = segments in the transaction, GE01 = transactions, IEA01 = groups."""
    n_st = 0
    start = 0
    for i, s in enumerate(segs):
        if s[0] == "ST":
            start, n_st = i, n_st + 1
        elif s[0] == "SE":
            assert int(s[1]) == i - start + 1
            assert s[2] == segs[start][2]
        elif s[0] == "GE":
            assert int(s[1]) == n_st
        elif s[0] == "IEA":
            assert s[1] == "1" and s[2] == segs[0][13]


def _claims_837p() -> list[Claim]:
    lines = (
        ServiceLine(1, "HC", "99213", ("25",), D("150.00"), D("1"), "UN", DOS, line_control="C1-1",
                    other_payer_paid=(("MCR01", D("80.00"), (Adjustment("CO", "45", D("50.00")),
                                                            Adjustment("PR", "2", D("20.00")))),)),
        ServiceLine(2, "HC", "96372", (), D("45.00"), D("1"), "UN", DOS, line_control="C1-2",
                    other_payer_paid=(("MCR01", D("45.00"), ()),)),
    )  # fmt: skip
    secondary = Claim(
        SRC, "837P", "C1", D("195.00"), "11", "B", "1", BP, SUB, MCD, patient=PAT, responsibility="S",
        claim_filing="MC", prior_auth="AUTH1", diagnoses=("E119", "I10"), diagnosis_qualifiers=("ABK", "ABF"),
        lines=lines, rendering_provider=Party("82", "PATEL", "ANJALI", "XX", "1700000012"),
        other_payers=(OtherPayer("P", MCR, SUB, D("125.00"), date(2026, 5, 20), (), "MB"),),
    )  # fmt: skip
    replacement = Claim(
        SRC, "837P", "C2", D("150.00"), "11", "B", "7", BP, SUB, MCR, claim_filing="MB",
        payer_claim_control="26141000000001", diagnoses=("J449",), diagnosis_qualifiers=("ABK",),
        lines=(ServiceLine(1, "HC", "99214", (), D("150.00"), D("1"), "UN", DOS),),
    )  # fmt: skip
    return [secondary, replacement]


def _claims_837i() -> list[Claim]:
    lines = (
        ServiceLine(1, "HC", "99284", (), D("900.00"), D("1"), "UN", DOS, revenue_code="0450"),
        ServiceLine(2, "", "", (), D("3000.00"), D("3"), "DA", DOS, revenue_code="0120"),
    )
    return [
        Claim(SRC, "837I", "H1", D("3900.00"), "11", "A", "1", BP, SUB, MCR, claim_filing="MB",
              service_from=DOS, service_to=date(2026, 5, 4), diagnoses=("I214", "R079", "I10"),
              diagnosis_qualifiers=("ABK", "ABJ", "ABF"), lines=lines,
              other_payers=(OtherPayer("S", MCD, SUB, None, None, (), "MC"),)),
        Claim(SRC, "837I", "H2", D("900.00"), "13", "A", "1", BP, SUB, MCR, patient=PAT, claim_filing="MB",
              service_from=DOS, service_to=DOS, diagnoses=("R079",), diagnosis_qualifiers=("ABK",),
              lines=lines[:1]),
    ]  # fmt: skip


@pytest.mark.parametrize("kind", ["837P", "837I"])
def test_837_valid_and_counted(tmp_path: Path, kind: str) -> None:
    claims = _claims_837p() if kind == "837P" else _claims_837i()
    path = tmp_path / "claims.x12"
    with open(path, "w") as f:
        written = write_837(claims, f, kind=kind, sender=SUBMITTER, receiver=RECEIVER, control=17,
                            date=date(2026, 5, 3), line_break=True)  # fmt: skip
    assert pyx12_errors(path) == []
    segs = segments(path.read_text())
    check_envelope(segs)
    assert written.segments == len(segs) and written.records == 2
    assert [s[1] for s in segs if s[0] == "CLM"] == [c.pcn for c in claims]


def test_837_splits_transactions(tmp_path: Path) -> None:
    path = tmp_path / "claims.x12"
    claims = _claims_837p() * 3
    with open(path, "w") as f:
        written = write_837(claims, f, kind="837P", sender=SUBMITTER, receiver=RECEIVER, control=5,
                            date=date(2026, 5, 3), max_claims_per_transaction=2)  # fmt: skip
    assert written.transactions == 3
    assert pyx12_errors(path) == []
    check_envelope(segments(path.read_text()))


def _remittance() -> tuple[Remittance, list[ClaimPayment], list[ProviderAdjustment]]:
    adj = Adjustment
    l1 = ServicePayment("HC", "99213", ("25",), D("150.00"), D("80.00"), units=D("1"), service_date=DOS,
                        line_control="C1-1", adjustments=(adj("CO", "45", D("50.00")), adj("PR", "2", D("20.00"), D("1"))),
                        allowed=D("100.00"), remarks=(Remark("HE", "N130"),))  # fmt: skip
    l2 = ServicePayment("HC", "80053", (), D("45.00"), D("0.00"), units=D("1"), original_procedure="80050",
                        service_date=DOS, service_date_end=date(2026, 5, 2),
                        adjustments=tuple(adj("CO", c, D("5.00")) for c in ["45", "97", "16", "B7", "50", "18", "29", "11", "4"]))  # fmt: skip
    paid = ClaimPayment(SRC, "C1", "1", D("195.00"), D("80.00"), D("20.00"), "MB", "ICN1", "11", "1",
                        patient=Party("QC", "DOE", "JIMMY", "MI", "W1"), insured=Party("IL", "DOE", "JANE", "MI", "W1"),
                        corrected_priority_payer=Party("PR", "AETNA", "", "PI", "AET01"), statement_from=DOS,
                        statement_to=DOS, received_date=date(2026, 5, 5),
                        remarks=(Remark("MOA", "MA130"), Remark("MOA", "MA04")), lines=(l1, l2))  # fmt: skip
    reversal = ClaimPayment(SRC, "C2", "22", D("-100.00"), D("-60.00"), D("0.00"), "12", "ICN2", "11", "1",
                            patient=Party("QC", "ROE", "RITA", "MI", "X1"),
                            adjustments=(adj("CO", "45", D("-40.00")),))  # fmt: skip
    plbs = [ProviderAdjustment(SRC, "1234567893", date(2026, 12, 31), "L6", "ICN1", D("-2.50"))]
    rem = Remittance(SRC, "I", D("22.50"), "C", "ACH", date(2026, 6, 1), "TRACE1", "1MCR010000",
                     Party("PR", "MEDICARE", "", "XV", "MCR01"), Party("PE", "CLINIC", "", "XX", "1234567893"),
                     date(2026, 5, 30))  # fmt: skip
    return rem, [paid, reversal], plbs


def test_835_valid_cas_split_and_counts(tmp_path: Path) -> None:
    rem, claims, plbs = _remittance()
    path = tmp_path / "era.x12"
    with open(path, "w") as f:
        write_835(rem, claims, plbs, f, sender="MCR01", receiver="CLINIC", control=3, date=date(2026, 6, 1),
                  line_break=True)  # fmt: skip
    assert pyx12_errors(path) == []
    segs = segments(path.read_text())
    check_envelope(segs)
    cas = [s for s in segs if s[0] == "CAS"]
    assert max((len(s) - 2) // 3 + ((len(s) - 2) % 3 > 0) for s in cas) <= 6
    assert sum(1 for s in cas if s[1] == "CO" and "97" in s) == 1
    assert any(s[0] == "SVC" and s[6] == "HC:80050" for s in segs if len(s) > 6)
    assert ["PLB", "1234567893", "20261231", "L6:ICN1", "-2.50"] in segs


def test_835_several_checks_in_one_interchange(tmp_path: Path) -> None:
    rem, claims, plbs = _remittance()
    path = tmp_path / "era.x12"
    with open(path, "w") as f, Writer835(f, sender="MCR01", receiver="CLINIC", control=4, date=date(2026, 6, 1)) as w:
        w.transaction(rem, claims, plbs)
        w.transaction(rem, claims[:1], ())
    assert pyx12_errors(path) == []
    segs = segments(path.read_text())
    check_envelope(segs)
    assert sum(1 for s in segs if s[0] == "ST") == 2


def _acks() -> list[ClaimAck]:
    return [
        ClaimAck(SRC, "C1", "ICN1", "A1", "20", "PR", date(2026, 5, 3), "WQ", D("195.00"), True, MCR, BP, DOS, DOS),
        ClaimAck(SRC, "C2", "", "A7", "164", "IL", date(2026, 5, 3), "U", D("15.00"), False, MCR, BP, DOS, None,
                 (("A7", "21", "85"),)),
        ClaimAck(SRC, "C3", "ICN3", "A2", "20", "PR", date(2026, 5, 3), "WQ", D("15.00"), True, MCD, BP, DOS, None),
    ]  # fmt: skip


def test_277ca_valid(tmp_path: Path) -> None:
    path = tmp_path / "ack.x12"
    with open(path, "w") as f:
        written = write_277ca(_acks(), f, sender=Party("PR", "CLEARINGHOUSE", "", "46", "CH01"),
                              receiver=Party("41", "CLINIC", "", "46", "SUB01"), control=9, date=date(2026, 5, 3),
                              patient_of=lambda pcn: Party("QC", "DOE", "JANE", "MI", "W1"))  # fmt: skip
    assert pyx12_errors(path) == []
    segs = segments(path.read_text())
    check_envelope(segs)
    assert written.records == 3
    assert [s[2] for s in segs if s[0] == "TRN" and s[1] == "2" and s[2] != "9"] == ["C1", "C2", "C3"]


def test_delimiters_honoured(tmp_path: Path) -> None:
    d = Delimiters(element="|", component=">", repetition="!", segment="\n")
    buf = io.StringIO()
    write_837(_claims_837p(), buf, kind="837P", sender=SUBMITTER, receiver=RECEIVER, control=1,
              date=date(2026, 5, 3), delimiters=d)  # fmt: skip
    text = buf.getvalue()
    assert "*" not in text and "~" not in text
    segs = segments(text, d)
    assert segs[0][11] == "!" and segs[0][16] == ">"
    assert any(s[0] == "SV1" and s[1] == "HC>99213>25" for s in segs)
    check_envelope(segs)
    path = tmp_path / "alt.x12"
    path.write_text(text)
    assert pyx12_errors(path) == []
