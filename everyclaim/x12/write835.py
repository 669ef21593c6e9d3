"""Write 835 remittances (005010X221A1) from :class:`Remittance`, :class:`ClaimPayment` and
:class:`ProviderAdjustment` records, streaming to a ``TextIO``.

:func:`write_835` writes one interchange holding one transaction (one check / EFT). For several
checks in one interchange use :class:`Writer835` (one ST per check)::

    with Writer835(out, sender=..., receiver=..., control=7, date=d) as w:
        w.transaction(remittance, claims, plbs)

Every record field is written so that a reader gives back equal records: CAS triplets in order with
quantities (one CAS per run of the same group, at most 6 triplets each), MOA / MIA remarks, NM1
QC/IL/74/PR/TT, DTM 232/233/050, SVC06 original procedure, DTM 472 or 150/151, REF*6R, AMT*B6, LQ*HE.
The writer does not compute money: BPR02 is ``remittance.amount`` as given (a balanced remittance has
BPR02 = sum CLP04 - sum PLB amounts).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from types import TracebackType
from typing import TextIO

from everyclaim.ledger.records import ClaimPayment, Party, ProviderAdjustment, Remittance, ServicePayment
from everyclaim.x12.segments import Delimiters
from everyclaim.x12.write837 import SYNTHETIC, X12_DEFAULT, SegmentSink, Written, amount, cas, d8, nm1, number

VERSION = "005010X221A1"


class Writer835:
    """One interchange / functional group (GS*HP) of 835 transactions, one per :meth:`transaction`."""

    def __init__(
        self,
        out: TextIO,
        *,
        sender: str,
        receiver: str,
        control: int,
        date: date,
        time: str = "1200",
        delimiters: Delimiters = X12_DEFAULT,
        usage: str = "P",
        line_break: bool = False,
    ) -> None:
        self.s = SegmentSink(out, delimiters, line_break)
        self.control = control
        self.transactions = 0
        self.records = 0
        self.s.isa(sender, receiver, control, date, time, usage)
        self.s.gs("HP", sender, receiver, control, date, time, VERSION)
        self.written: Written | None = None

    def __enter__(self) -> Writer835:
        return self

    def __exit__(self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        if et is None:
            self.close()

    def close(self) -> Written:
        if self.written is None:
            total = self.s.trailers(self.transactions, self.control)
            self.written = Written(self.transactions, total, self.records)
        return self.written

    def transaction(
        self, remittance: Remittance, claims: Iterable[ClaimPayment], plbs: Iterable[ProviderAdjustment] = ()
    ) -> None:
        s = self.s
        self.transactions += 1
        st02 = s.st("835", self.transactions, "")  # ST03 is not used in the 835
        r = remittance
        paid_on = d8(r.payment_date) if r.payment_date else ""
        if r.method == "ACH":
            s.seg(
                "BPR", r.handling, amount(r.amount), r.credit_debit, r.method, "CCP", "01", "999999992", "DA",
                "123456", "1" + SYNTHETIC["tax_id"], "", "01", "999988880", "DA", "98765", paid_on,
            )  # fmt: skip
        else:
            s.seg("BPR", r.handling, amount(r.amount), r.credit_debit, r.method, *([""] * 11), paid_on)
        s.seg("TRN", "1", r.trace_number, r.payer_trn_id)
        if r.production_date is not None:
            s.seg("DTM", "405", d8(r.production_date))
        p = r.payer
        if p.id:
            s.seg("N1", "PR", p.name, p.id_qualifier or "XV", p.id)
        else:
            s.seg("N1", "PR", p.name)
        s.seg("N3", SYNTHETIC["street"])
        s.seg("N4", SYNTHETIC["city"], SYNTHETIC["state"], SYNTHETIC["zip"])
        s.seg("PER", "BL", "PROVIDER SERVICES", "TE", "8005550199")
        s.seg("N1", "PE", r.payee.name, r.payee.id_qualifier or "XX", r.payee.id)
        first = True
        for c in claims:
            if first:
                s.seg("LX", "1")
                first = False
            self._claim(c)
            self.records += 1
        _plb(s, plbs)
        s.se(st02)

    def _claim(self, c: ClaimPayment) -> None:
        s = self.s
        s.seg(
            "CLP", c.pcn, c.status, amount(c.charge), amount(c.paid), amount(c.patient_responsibility),
            c.claim_filing, c.payer_claim_control, c.facility_code, c.frequency, "", c.drg,
        )  # fmt: skip
        cas(s, c.adjustments)
        if c.patient is None:
            s.seg("NM1", "QC", "1")  # required by the guide; the record had none (reads back as no patient)
        for party in (c.patient, c.insured, c.corrected_insured, c.crossover_payer, c.corrected_priority_payer):
            if party is not None:
                nm1(s, party, person=party.entity in ("QC", "IL", "74"))
        moa = [rm.code for rm in c.remarks if rm.qualifier == "MOA"]
        mia = [rm.code for rm in c.remarks if rm.qualifier == "MIA"]
        if mia:
            s.seg("MIA", "0", "", "", "", mia[0], *([""] * 14), *mia[1:5])
        if moa:
            s.seg("MOA", "", "", *moa[:5])
        if c.statement_from is not None:
            s.seg("DTM", "232", d8(c.statement_from))
        if c.statement_to is not None:
            s.seg("DTM", "233", d8(c.statement_to))
        if c.received_date is not None:
            s.seg("DTM", "050", d8(c.received_date))
        if c.coverage_amount is not None:
            s.seg("AMT", "AU", amount(c.coverage_amount))
        for ln in c.lines:
            self._line(ln)

    def _line(self, ln: ServicePayment) -> None:
        s = self.s
        proc = s.comp(ln.procedure_qualifier, ln.procedure, *ln.modifiers)
        orig = s.comp(ln.procedure_qualifier, ln.original_procedure) if ln.original_procedure else ""
        units = "" if ln.units is None else number(ln.units)
        s.seg("SVC", proc, amount(ln.charge), amount(ln.paid), ln.revenue_code, units, orig)
        if ln.service_date is not None:
            if ln.service_date_end is not None:
                s.seg("DTM", "150", d8(ln.service_date))
                s.seg("DTM", "151", d8(ln.service_date_end))
            else:
                s.seg("DTM", "472", d8(ln.service_date))
        elif ln.service_date_end is not None:  # a payer sent only DTM*151
            s.seg("DTM", "151", d8(ln.service_date_end))
        cas(s, ln.adjustments)
        if ln.line_control:
            s.seg("REF", "6R", ln.line_control)
        if ln.allowed is not None:
            s.seg("AMT", "B6", amount(ln.allowed))
        for rm in ln.remarks:
            s.seg("LQ", rm.qualifier, rm.code)


def _plb(s: SegmentSink, plbs: Iterable[ProviderAdjustment]) -> None:
    """PLB segments: one per (provider, fiscal date) run, at most 6 adjustments each."""
    run: list[ProviderAdjustment] = []
    for p in plbs:
        if run and ((p.provider_id, p.fiscal_date) != (run[0].provider_id, run[0].fiscal_date) or len(run) == 6):
            _plb_segment(s, run)
            run = []
        run.append(p)
    if run:
        _plb_segment(s, run)


def _plb_segment(s: SegmentSink, run: list[ProviderAdjustment]) -> None:
    fiscal = run[0].fiscal_date
    els = ["PLB", run[0].provider_id, d8(fiscal) if fiscal else ""]
    for p in run:
        els += [s.comp(p.reason, p.reference), amount(p.amount)]
    s.seg(*els)


def write_835(
    remittance: Remittance,
    claims: Iterable[ClaimPayment],
    plbs: Iterable[ProviderAdjustment],
    out: TextIO,
    *,
    sender: str,
    receiver: str,
    control: int,
    date: date,
    time: str = "1200",
    delimiters: Delimiters = X12_DEFAULT,
    usage: str = "P",
    line_break: bool = False,
) -> Written:
    """One interchange with one 835 transaction (one check). ``sender``/``receiver`` are ISA/GS ids."""
    w = Writer835(
        out, sender=sender, receiver=receiver, control=control, date=date, time=time,
        delimiters=delimiters, usage=usage, line_break=line_break,
    )  # fmt: skip
    w.transaction(remittance, claims, plbs)
    return w.close()


def payee(name: str, npi: str) -> Party:
    """The payee party (N1*PE) of a remittance."""
    return Party("PE", name, "", "XX", npi)
