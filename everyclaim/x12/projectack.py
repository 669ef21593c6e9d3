"""Acknowledgments: 277CA (005010X214) to :class:`ClaimAck`; 999 (005010X231A1) and 997 to :class:`TransactionAck`."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from everyclaim.ledger.records import ClaimAck, Party, Source, TransactionAck
from everyclaim.x12 import values as v
from everyclaim.x12.errors import X12Rejected
from everyclaim.x12.segments import Segment

# STC01-1 claim status categories that mean the payer took the claim into adjudication.
ACCEPTED_CATEGORIES = frozenset({"A0", "A1", "A2", "A5"})


class Project277CA:
    """Consumes one 277CA transaction; emits one :class:`ClaimAck` per claim (loop 2200D)."""

    def __init__(self, source: Source, out: list[object]) -> None:
        self.source = source
        self.out = out
        self.payer: Party | None = None
        self.provider: Party | None = None
        self.trn: Segment | None = None
        self.stcs: list[Segment] = []
        self.ref_1k = ""
        self.period: tuple[date | None, date | None] = (None, None)

    def on(self, loop: str, seg: Segment) -> None:
        sid = seg.id
        if loop == "2200D":
            if sid == "TRN":
                self._finish()
                self.trn = seg
            elif sid == "STC":
                self.stcs.append(seg)
            elif sid == "REF" and seg.get(1) == "1K":
                self.ref_1k = seg.get(2)
            elif sid == "DTP" and seg.get(1) == "472":  # informational here: a bad date is kept as none
                self.period = _lenient_period(seg)
            return
        if loop == "2220D":
            return
        self._finish()
        if sid == "NM1" and loop == "2100A":
            self.payer = v.party(seg)
        elif sid == "NM1" and loop == "2100C":
            self.provider = v.party(seg)

    def close(self) -> None:
        self._finish()

    def _finish(self) -> None:
        trn = self.trn
        if trn is None:
            return
        f = self.source.file_name
        first = self.stcs[0] if self.stcs else None
        comp = (first.components(1) + ["", "", ""])[:3] if first else ["", "", ""]
        extra = []
        for stc in self.stcs:
            for n in (10, 11) if stc is first else (1, 10, 11):
                parts = stc.components(n)
                if parts[0]:
                    extra.append(tuple((parts + ["", "", ""])[:3]))
        self.out.append(
            ClaimAck(
                source=self.source.at(trn.index),
                pcn=trn.get(2),
                payer_claim_control=self.ref_1k,
                category=comp[0],
                status=comp[1],
                entity=comp[2],
                # a malformed STC02 (seen in public samples) is a walker finding; the ack keeps no date
                status_date=v.ccyymmdd(first.get(2)) if first else None,
                action=first.get(3) if first else "",
                amount=v.money_or_none(first, 4, f) if first else None,
                accepted=comp[0] in ACCEPTED_CATEGORIES,
                payer=self.payer,
                billing_provider=self.provider,
                service_from=self.period[0],
                service_to=self.period[1],
                extra_statuses=tuple(extra),  # type: ignore[arg-type]
            )
        )
        self.trn, self.stcs, self.ref_1k, self.period = None, [], "", (None, None)


def _lenient_period(seg: Segment) -> tuple[date | None, date | None]:
    try:
        return v.period(seg, 2, 3)
    except X12Rejected:
        return None, None


class Project999:
    """Consumes one 999 transaction; emits one :class:`TransactionAck` per AK2 (at its IK5)."""

    def __init__(self, source: Source, out: list[object], ack_date: date | None) -> None:
        self.source = source
        self.out = out
        self.ack_date = ack_date
        self.ak1: Segment | None = None
        self.ak2: Segment | None = None
        self.errors: list[tuple[str, str, str]] = []
        self.ik3: Segment | None = None
        self.pending: list[TransactionAck] = []

    def on(self, loop: str, seg: Segment) -> None:
        sid = seg.id
        if sid == "AK1":
            self.ak1 = seg
        elif sid == "AK2":
            self.ak2, self.errors, self.ik3 = seg, [], None
        elif sid in ("IK3", "AK3"):  # AK3/AK4/AK5: the 997's names for the same answers
            self.ik3 = seg
            self.errors.append((seg.get(1), seg.get(2), seg.get(4)))
        elif sid in ("IK4", "AK4") and self.ik3 is not None:
            self.errors.append((self.ik3.get(1), self.ik3.get(2), "IK4-" + seg.get(3)))
        elif sid in ("IK5", "AK5") and self.ak2 is not None:
            self.pending.append(self._ack(seg))
            self.ak2 = None
        elif sid == "AK9":
            group_code = seg.get(1)
            self.out.extend(replace(a, group_code=group_code) for a in self.pending)
            self.pending = []

    def close(self) -> None:
        self.out.extend(self.pending)
        self.pending = []

    def _ack(self, ik5: Segment) -> TransactionAck:
        ak1, ak2 = self.ak1, self.ak2
        assert ak2 is not None
        return TransactionAck(
            source=self.source.at(ak2.index),
            group_control=ak1.get(2) if ak1 else "",
            functional_id=ak1.get(1) if ak1 else "",
            transaction_type=ak2.get(1),
            transaction_control=ak2.get(2),
            code=ik5.get(1),
            errors=tuple(self.errors),
            ack_date=self.ack_date,
        )
