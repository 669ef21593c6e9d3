"""Write :class:`~everyclaim.ledger.records.Claim` records as X12 5010 837P (005010X222A1) or 837I
(005010X223A2) text, streaming to a ``TextIO``.

One call writes one interchange (ISA/GS ... GE/IEA) with one functional group. Claims are split into
transaction sets of at most ``max_claims_per_transaction`` claims (the guides recommend <= 5000).
Consecutive claims of the same billing provider share one billing-provider HL (20); each claim gets its
own subscriber HL (22) and, when the patient is not the subscriber, a patient HL (23).

Segments the records do not carry (addresses, PER contacts, DMG, submitter / receiver loops, tax id)
are written with fixed synthetic values (see ``SYNTHETIC``). 837P patient NM1*QC carries no id (the
5010 guide has none); every other party id is written as ``NM108/NM109``.

This module also holds :class:`SegmentSink`, the small envelope helper the other writers share.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import NamedTuple, TextIO

from everyclaim.ledger.records import Adjustment, Claim, OtherPayer, Party, ServiceLine
from everyclaim.x12.segments import Delimiters

X12_DEFAULT = Delimiters()

GUIDE = {"837P": "005010X222A1", "837I": "005010X223A2"}

# 837I diagnosis HI segments in guide order: principal, admitting, patient's reason, external cause,
# other; each family as ICD-10 (A..) or ICD-9 qualifier
_HI_837I = (("ABK", "BK"), ("ABJ", "BJ"), ("APR", "PR"), ("ABN", "BN"), ("ABF", "BF"))

SYNTHETIC = {
    "street": "100 MAIN STREET",
    "city": "SPRINGFIELD",
    "state": "IL",
    "zip": "627010001",
    "contact": "BILLING OFFICE",
    "phone": "2175550100",
    "tax_id": "371234567",
}


class Written(NamedTuple):
    """What a writer produced: transaction sets, segments (all, ISA..IEA) and records written."""

    transactions: int
    segments: int
    records: int


def d8(d: date) -> str:
    """CCYYMMDD."""
    return d.isoformat().replace("-", "")


def amount(v: Decimal) -> str:
    """An X12 money value (``Decimal`` as written, ``-0`` normalized)."""
    s = str(v)
    return s[1:] if s.startswith("-0") and v == 0 else s


def number(v: Decimal) -> str:
    """A quantity: trailing zeros trimmed (``1.00`` -> ``1``)."""
    s = format(v.normalize(), "f")
    return s


class SegmentSink:
    """Renders segments, counts them per transaction set, buffers writes to ``out``."""

    __slots__ = ("out", "d", "buf", "st_count", "total", "_el", "_term")

    def __init__(self, out: TextIO, d: Delimiters, line_break: bool = False) -> None:
        self.out = out
        self.d = d
        self.buf: list[str] = []
        self.st_count = 0
        self.total = 0
        self._el = d.element
        self._term = d.segment + ("\n" if line_break else "")

    def seg(self, *els: str) -> None:
        n = len(els)
        while n > 1 and not els[n - 1]:
            n -= 1
        self.buf.append(self._el.join(els[:n]) + self._term)
        self.st_count += 1
        if len(self.buf) >= 2048:
            self.flush()

    def comp(self, *parts: str) -> str:
        """A composite element, trailing empty components trimmed."""
        n = len(parts)
        while n > 1 and not parts[n - 1]:
            n -= 1
        return self.d.component.join(parts[:n])

    def flush(self) -> None:
        if self.buf:
            self.out.write("".join(self.buf))
            self.buf.clear()

    # envelope -------------------------------------------------------------------------------------
    def isa(self, sender: str, receiver: str, control: int, when: date, time: str, usage: str) -> None:
        d = self.d
        self.seg(
            "ISA", "00", " " * 10, "00", " " * 10, "ZZ", sender[:15].ljust(15), "ZZ", receiver[:15].ljust(15),
            d8(when)[2:], time, d.repetition, "00501", f"{control:09d}", "0", usage, d.component,
        )  # fmt: skip

    def gs(self, functional_id: str, sender: str, receiver: str, control: int, when: date, time: str,
           version: str) -> None:  # fmt: skip
        self.seg("GS", functional_id, sender, receiver, d8(when), time, str(control), "X", version)

    def st(self, kind: str, number: int, version: str) -> str:
        self.st_count = 0
        st02 = f"{number:04d}"
        self.seg("ST", kind, st02, version)
        return st02

    def se(self, st02: str) -> None:
        self.seg("SE", str(self.st_count + 1), st02)
        self.total += self.st_count

    def trailers(self, transactions: int, control: int) -> int:
        """GE and IEA; returns the number of segments written in the whole interchange."""
        self.st_count = 0
        self.seg("GE", str(transactions), str(control))
        self.seg("IEA", "1", f"{control:09d}")
        self.flush()
        return self.total + 4 + 0  # ISA, GS, GE, IEA


def nm1(s: SegmentSink, p: Party, *, person: bool | None = None, with_id: bool = True) -> None:
    is_person = bool(p.first) if person is None else person
    if with_id and (p.id or p.id_qualifier):
        s.seg("NM1", p.entity, "1" if is_person else "2", p.name, p.first, "", "", "", p.id_qualifier, p.id)
    else:
        s.seg("NM1", p.entity, "1" if is_person else "2", p.name, p.first)


def address(s: SegmentSink) -> None:
    s.seg("N3", SYNTHETIC["street"])
    s.seg("N4", SYNTHETIC["city"], SYNTHETIC["state"], SYNTHETIC["zip"])


def dmg(s: SegmentSink, p: Party) -> None:
    """A plausible fixed birth date and sex derived from the person's id/name (deterministic)."""
    h = zlib.crc32((p.id or p.name + p.first).encode())
    born = date(1940 + h % 60, 1 + (h >> 8) % 12, 1 + (h >> 12) % 28)
    s.seg("DMG", "D8", d8(born), "FM"[(h >> 16) & 1])


def cas(s: SegmentSink, adjustments: Iterable[Adjustment]) -> None:
    """CAS segments: one per run of the same group code, at most 6 triplets each (order kept)."""
    run: list[Adjustment] = []
    for a in adjustments:
        if run and (a.group != run[0].group or len(run) == 6):
            _cas(s, run)
            run = []
        run.append(a)
    if run:
        _cas(s, run)


def _cas(s: SegmentSink, run: list[Adjustment]) -> None:
    els = ["CAS", run[0].group]
    for a in run:
        els += [a.carc, amount(a.amount), "" if a.quantity is None else number(a.quantity)]
    s.seg(*els)


def write_837(
    claims: Iterable[Claim],
    out: TextIO,
    *,
    kind: str,
    sender: Party,
    receiver: Party,
    control: int,
    date: date,
    time: str = "1200",
    delimiters: Delimiters = X12_DEFAULT,
    usage: str = "P",
    line_break: bool = False,
    max_claims_per_transaction: int = 5000,
) -> Written:
    """Write ``claims`` (all of ``kind`` "837P" or "837I") as one interchange.

    ``sender`` is the submitter (NM1*41, ISA06/GS02 from its id), ``receiver`` the receiver (NM1*40,
    ISA08/GS03). ``control`` is ISA13 and GS06; ``date``/``time`` date the envelope and BHT.
    """
    if kind not in GUIDE:
        raise ValueError(f"kind must be 837P or 837I, not {kind!r}")
    version = GUIDE[kind]
    s = SegmentSink(out, delimiters, line_break)
    s.isa(sender.id, receiver.id, control, date, time, usage)
    s.gs("HC", sender.id, receiver.id, control, date, time, version)
    w = _Writer837(s, kind, version, sender, receiver, control, date, time)
    n_claims = 0
    for claim in claims:
        if claim.kind != kind:
            raise ValueError(f"claim {claim.pcn} is {claim.kind}, writing {kind}")
        if w.in_st >= max_claims_per_transaction:
            w.close()
        w.claim(claim)
        n_claims += 1
    w.close()
    total = s.trailers(w.st_number, control)
    return Written(w.st_number, total, n_claims)


class _Writer837:
    def __init__(self, s: SegmentSink, kind: str, version: str, sender: Party, receiver: Party,
                 control: int, when: date, time: str) -> None:  # fmt: skip
        self.s, self.kind, self.version = s, kind, version
        self.inst = kind == "837I"
        self.sender, self.receiver, self.control, self.when, self.time = sender, receiver, control, when, time
        self.st_number = 0
        self.st02 = ""
        self.in_st = 0
        self.open = False
        self.hl = 0
        self.provider_hl = 0
        self.provider: Party | None = None

    def start(self) -> None:
        s = self.s
        self.st_number += 1
        self.st02 = s.st("837", self.st_number, self.version)
        s.seg("BHT", "0019", "00", f"{self.control}{self.st_number:04d}", d8(self.when), self.time, "CH")
        nm1(s, self.sender, person=False)
        s.seg("PER", "IC", SYNTHETIC["contact"], "TE", SYNTHETIC["phone"])
        nm1(s, self.receiver, person=False)
        self.open, self.in_st, self.hl, self.provider = True, 0, 0, None

    def close(self) -> None:
        if self.open:
            self.s.se(self.st02)
            self.open = False

    def claim(self, c: Claim) -> None:
        s = self.s
        if not self.open:
            self.start()
        self.in_st += 1
        if c.billing_provider != self.provider:
            self.hl += 1
            self.provider_hl, self.provider = self.hl, c.billing_provider
            s.seg("HL", str(self.hl), "", "20", "1")
            if self.inst:
                s.seg("PRV", "BI", "PXC", "282N00000X")
            nm1(s, c.billing_provider, person=False)
            address(s)
            s.seg("REF", "EI", SYNTHETIC["tax_id"])
        self.hl += 1
        sub_hl = self.hl
        has_patient = c.patient is not None
        s.seg("HL", str(sub_hl), str(self.provider_hl), "22", "1" if has_patient else "0")
        s.seg("SBR", c.responsibility, "" if has_patient else "18", "", "", "", "", "", "", c.claim_filing)
        nm1(s, c.subscriber, person=True)
        address(s)
        if not has_patient:
            dmg(s, c.subscriber)
        nm1(s, c.payer, person=False)
        if c.patient is not None:
            self.hl += 1
            s.seg("HL", str(self.hl), str(sub_hl), "23", "0")
            s.seg("PAT", "19")
            nm1(s, c.patient, person=True, with_id=False)
            address(s)
            dmg(s, c.patient)
        self._clm(c)

    def _clm(self, c: Claim) -> None:
        s = self.s
        clm05 = s.comp(c.place_of_service, c.facility_qualifier, c.frequency)
        if self.inst:
            s.seg("CLM", c.pcn, amount(c.charge), "", "", clm05, "", "A", "Y", "Y")
            inpatient = c.place_of_service.startswith("11")
            if inpatient and c.service_from:
                s.seg("DTP", "435", "D8", d8(c.service_from))
            if c.service_from:
                s.seg("DTP", "434", "RD8", d8(c.service_from) + "-" + d8(c.service_to or c.service_from))
            s.seg("CL1", "1" if inpatient else "", "7" if inpatient else "", "01")
        else:
            s.seg("CLM", c.pcn, amount(c.charge), "", "", clm05, "Y", "A", "Y", "Y")
        if c.referral:
            s.seg("REF", "9F", c.referral)
        if c.prior_auth:
            s.seg("REF", "G1", c.prior_auth)
        if c.payer_claim_control:
            s.seg("REF", "F8", c.payer_claim_control)
        self._hi(c)
        if c.rendering_provider is not None:
            nm1(s, c.rendering_provider)
        for op in c.other_payers:
            self._other_payer(op)
        adjudicated = {op.payer.id: op.adjudication_date for op in c.other_payers}
        for line in c.lines:
            self._line(c, line, adjudicated)

    def _hi(self, c: Claim) -> None:
        s = self.s
        quals = c.diagnosis_qualifiers or tuple("ABK" if i == 0 else "ABF" for i in range(len(c.diagnoses)))
        if not self.inst:
            els = [s.comp(q, code) for q, code in zip(quals, c.diagnoses, strict=True)]
            for i in range(0, len(els), 12):
                s.seg("HI", *els[i : i + 12])
            return
        # 837I: one HI per qualifier family (ICD-10 or ICD-9), in guide order, at most 12 composites each
        for family in _HI_837I:
            els = [s.comp(q, code) for q, code in zip(quals, c.diagnoses, strict=True) if q in family]
            for i in range(0, len(els), 12):
                s.seg("HI", *els[i : i + 12])

    def _other_payer(self, op: OtherPayer) -> None:
        s = self.s
        sub = op.subscriber
        s.seg("SBR", op.responsibility, "18", "", "", "", "", "", "", op.claim_filing)
        cas(s, op.adjustments)
        if op.paid is not None:
            s.seg("AMT", "D", amount(op.paid))
        s.seg("OI", "", "", "Y", "", "", "Y")
        nm1(s, sub if sub is not None else Party("IL", "UNKNOWN", "SUBSCRIBER", "MI", "UNKNOWN"), person=True)
        if not (op.payer.name or op.payer.id):
            return  # no other payer was named (no 2330B in the source): writing an empty NM1*PR says less
        nm1(s, op.payer, person=False)
        if op.adjudication_date is not None:
            s.seg("DTP", "573", "D8", d8(op.adjudication_date))

    def _line(self, c: Claim, ln: ServiceLine, adjudicated: dict[str, date | None]) -> None:
        s = self.s
        s.seg("LX", str(ln.line_no))
        proc = s.comp(ln.procedure_qualifier, ln.procedure, *ln.modifiers) if ln.procedure else ""
        if self.inst:
            s.seg("SV2", ln.revenue_code, proc, amount(ln.charge), ln.unit_basis or "UN", number(ln.units))
        else:
            pointers = s.comp(*(str(i + 1) for i in range(min(4, len(c.diagnoses)))))
            s.seg("SV1", proc, amount(ln.charge), ln.unit_basis or "UN", number(ln.units), "", "", pointers)
        when = ln.service_date or c.service_from
        if when is not None:
            if ln.service_date_end is not None:
                s.seg("DTP", "472", "RD8", d8(when) + "-" + d8(ln.service_date_end))
            else:
                s.seg("DTP", "472", "D8", d8(when))
        if ln.line_control:
            s.seg("REF", "6R", ln.line_control)
        for payer_id, paid, adjustments in ln.other_payer_paid:
            if self.inst:
                s.seg("SVD", payer_id, amount(paid), proc, ln.revenue_code, number(ln.units))
            else:
                s.seg("SVD", payer_id, amount(paid), proc, "", number(ln.units))
            cas(s, adjustments)
            when_paid = adjudicated.get(payer_id) or when
            if when_paid is not None:
                s.seg("DTP", "573", "D8", d8(when_paid))
