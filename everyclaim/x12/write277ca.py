"""Write 277CA claim acknowledgments (005010X214) from :class:`ClaimAck` records, streaming.

Levels: information source (HL 20, the payer or clearinghouse: NM1*PR, TRN, DTP 050/009) ->
information receiver (HL 21, the submitter: NM1*41, TRN, STC) -> billing provider (HL 19: NM1*85,
TRN, STC) -> patient (HL PT: NM1*QC, then per claim TRN*2*<pcn>, STC, REF*1K, DTP*472).
Consecutive acks of the same payer share one information-source level; consecutive acks of the same
billing provider share one provider level. ``ClaimAck`` does not carry the patient: pass
``patient_of`` (pcn -> Party) or the patient is written as ``UNKNOWN``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import date
from decimal import Decimal
from typing import TextIO, TypeVar

from everyclaim.ledger.records import ZERO, ClaimAck, Party
from everyclaim.x12.segments import Delimiters
from everyclaim.x12.write837 import X12_DEFAULT, SegmentSink, Written, amount, d8, nm1

VERSION = "005010X214"
DEFAULT_PROVIDER = Party("85", "BILLING PROVIDER", "", "XX", "1234567893")


def write_277ca(
    acks: Iterable[ClaimAck],
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
    default_provider: Party = DEFAULT_PROVIDER,
    patient_of: Callable[[str], Party | None] | None = None,
) -> Written:
    """One interchange, one 277 transaction. ``sender`` is the information source when an ack has no
    payer (and gives ISA06/GS02), ``receiver`` the submitter (NM1*41, ISA08/GS03)."""
    s = SegmentSink(out, delimiters, line_break)
    s.isa(sender.id, receiver.id, control, date, time, usage)
    s.gs("HN", sender.id, receiver.id, control, date, time, VERSION)
    st02 = s.st("277", 1, VERSION)
    s.seg("BHT", "0085", "08", str(control), d8(date), time, "TH")
    hl = 0
    n = 0
    for payer, group in _runs(acks, lambda a: a.payer or sender):
        hl += 1
        s.seg("HL", str(hl), "", "20", "1")
        nm1(s, payer, person=False)
        s.seg("TRN", "1", f"{control}{hl}")
        s.seg("DTP", "050", "D8", d8(date))
        s.seg("DTP", "009", "D8", d8(date))
        hl += 1
        receiver_hl = hl
        s.seg("HL", str(hl), str(hl - 1), "21", "1")
        nm1(s, receiver, person=False)
        s.seg("TRN", "2", str(control))
        s.seg("STC", s.comp("A1", "19"), d8(date), "WQ", amount(_total(group)))
        _totals(s, group)
        for provider, claims in _runs(group, lambda a: a.billing_provider or default_provider):
            hl += 1
            provider_hl = hl
            s.seg("HL", str(hl), str(receiver_hl), "19", "1")
            nm1(s, provider, person=False)
            s.seg("TRN", "1", "0")
            s.seg("STC", s.comp("A1", "19"), "", "WQ", amount(_total(claims)))
            for ack in claims:
                hl += 1
                s.seg("HL", str(hl), str(provider_hl), "PT")
                patient = patient_of(ack.pcn) if patient_of else None
                nm1(s, patient or Party("QC", "UNKNOWN", "PATIENT"), person=True)
                _claim(s, ack)
                n += 1
    s.se(st02)
    total = s.trailers(1, control)
    return Written(1, total, n)


_K = TypeVar("_K")


def _runs(items: Iterable[ClaimAck], key: Callable[[ClaimAck], _K]) -> Iterator[tuple[_K, list[ClaimAck]]]:
    """Consecutive runs of items with the same key (one level's claims are held, not the file's)."""
    run: list[ClaimAck] = []
    current: _K | None = None
    for item in items:
        k = key(item)
        if run and k != current:
            yield current, run  # type: ignore[misc]
            run = []
        current = k
        run.append(item)
    if run:
        yield current, run  # type: ignore[misc]


def _total(acks: list[ClaimAck]) -> Decimal:
    return sum((a.amount or ZERO for a in acks), ZERO)


def _totals(s: SegmentSink, acks: list[ClaimAck]) -> None:
    accepted = [a for a in acks if a.accepted]
    rejected = [a for a in acks if not a.accepted]
    if accepted:
        s.seg("QTY", "90", str(len(accepted)))
    if rejected:
        s.seg("QTY", "AA", str(len(rejected)))
    if accepted:
        s.seg("AMT", "YU", amount(_total(accepted)))
    if rejected:
        s.seg("AMT", "YY", amount(_total(rejected)))


def _claim(s: SegmentSink, ack: ClaimAck) -> None:
    s.seg("TRN", "2", ack.pcn)
    stc = [
        "STC", s.comp(ack.category, ack.status, ack.entity), d8(ack.status_date) if ack.status_date else "",
        ack.action, "" if ack.amount is None else amount(ack.amount),
    ]  # fmt: skip
    extra = [s.comp(*triple) for triple in ack.extra_statuses[:2]]
    if extra:
        stc += [""] * 5 + extra  # STC05..STC09 unused, STC10/STC11 further statuses
    s.seg(*stc)
    if ack.payer_claim_control:
        s.seg("REF", "1K", ack.payer_claim_control)
    if ack.service_from is not None:
        if ack.service_to is not None:
            s.seg("DTP", "472", "RD8", d8(ack.service_from) + "-" + d8(ack.service_to))
        else:
            s.seg("DTP", "472", "D8", d8(ack.service_from))
