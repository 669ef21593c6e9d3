"""Write 276 claim status inquiries (005010X212), streaming.

One interchange, one functional group (GS01 ``HR``), one transaction. Levels, as the guide nests them::

    HL 20 information source (the payer: NM1*PR)
      HL 21 information receiver (the submitter: NM1*41)
        HL 19 service provider (the billing provider: NM1*1P)
          HL 22 subscriber (DMG when the subscriber is the patient, NM1*IL)
            [HL 23 dependent (DMG, NM1*QC) when the patient is not the subscriber]
              claim status tracking (TRN*1*<trace>, REF*1K payer claim control number, REF*BLT bill
              type for institutional claims, REF*EJ patient account = the PCN, AMT*T3 charge,
              DTP*472 service dates)

Consecutive inquiries to the same payer share one source level, and of the same billing provider one
provider level. The ledger keeps no birth date: DMG carries the same deterministic placeholder the
837 writer uses (see :func:`everyclaim.x12.write837.dmg`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TextIO

from everyclaim.ledger.records import Party
from everyclaim.x12.segments import Delimiters
from everyclaim.x12.write837 import X12_DEFAULT, SegmentSink, Written, amount, d8, dmg, nm1

VERSION = "005010X212"


@dataclass(frozen=True, slots=True)
class StatusInquiry:
    """One claim whose status is asked of its payer."""

    trace: str  # TRN02: echoed in the 277 answer (the PCN, or a batch-unique reference)
    payer: Party
    provider: Party  # the billing provider (NPI as XX)
    subscriber: Party
    pcn: str  # REF*EJ patient account number (= CLM01)
    charge: Decimal
    service_from: date
    service_to: date | None = None
    patient: Party | None = None  # when the patient is not the subscriber
    payer_claim_control: str = ""  # REF*1K, when the payer has assigned one
    bill_type: str = ""  # REF*BLT, institutional claims (facility code + frequency)


def write_276(
    inquiries: Iterable[StatusInquiry],
    out: TextIO,
    *,
    sender: Party,
    receiver: Party,
    control: int,
    date: date,
    time: str = "1200",
    delimiters: Delimiters = X12_DEFAULT,
    usage: str = "P",
    line_break: bool = False,
) -> Written:
    """Write ``inquiries`` as one interchange: ``sender`` is the information receiver (NM1*41,
    ISA06/GS02), ``receiver`` the clearinghouse or payer the file goes to (ISA08/GS03)."""
    s = SegmentSink(out, delimiters, line_break)
    s.isa(sender.id, receiver.id, control, date, time, usage)
    s.gs("HR", sender.id, receiver.id, control, date, time, VERSION)
    st02 = s.st("276", 1, VERSION)
    s.seg("BHT", "0010", "13", str(control), d8(date), time)
    hl = n = 0
    payer: Party | None = None
    provider: Party | None = None
    provider_hl = receiver_hl = 0
    for q in inquiries:
        if q.payer != payer:
            payer, provider = q.payer, None
            hl += 1
            s.seg("HL", str(hl), "", "20", "1")
            nm1(s, Party("PR", q.payer.name, "", "PI", q.payer.id), person=False)
            hl += 1
            receiver_hl = hl
            s.seg("HL", str(hl), str(hl - 1), "21", "1")
            nm1(s, Party("41", sender.name, "", "46", sender.id), person=False)
        if q.provider != provider:
            provider = q.provider
            hl += 1
            provider_hl = hl
            s.seg("HL", str(hl), str(receiver_hl), "19", "1")
            nm1(s, Party("1P", q.provider.name, "", "XX", q.provider.id), person=False)
        hl += 1
        s.seg("HL", str(hl), str(provider_hl), "22", "1" if q.patient else "0")
        subscriber = Party("IL", q.subscriber.name, q.subscriber.first, "MI", q.subscriber.id)
        if q.patient is None:
            dmg(s, q.subscriber)
            nm1(s, subscriber, person=True)
        else:
            nm1(s, subscriber, person=True)
            hl += 1
            s.seg("HL", str(hl), str(hl - 1), "23")
            dmg(s, q.patient)
            nm1(s, Party("QC", q.patient.name, q.patient.first), person=True, with_id=False)
        _claim(s, q)
        n += 1
    s.se(st02)
    total = s.trailers(1, control)
    return Written(1, total, n)


def _claim(s: SegmentSink, q: StatusInquiry) -> None:
    s.seg("TRN", "1", q.trace)
    if q.payer_claim_control:
        s.seg("REF", "1K", q.payer_claim_control)
    if q.bill_type:
        s.seg("REF", "BLT", q.bill_type)
    s.seg("REF", "EJ", q.pcn)
    s.seg("AMT", "T3", amount(q.charge))
    end = q.service_to or q.service_from
    if end != q.service_from:
        s.seg("DTP", "472", "RD8", f"{d8(q.service_from)}-{d8(end)}")
    else:
        s.seg("DTP", "472", "D8", d8(q.service_from))
