"""835 (005010X221A1) walked segments to :class:`Remittance`, :class:`ClaimPayment`, :class:`ProviderAdjustment`.

Streams: the remittance header is emitted when the first claim (or the footer) is reached, each claim
when the next one starts, the PLB adjustments at the end of the transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from everyclaim.ledger.records import (
    Adjustment,
    ClaimPayment,
    Party,
    ProviderAdjustment,
    Remark,
    Remittance,
    ServicePayment,
    Source,
)
from everyclaim.x12 import values as v
from everyclaim.x12.segments import Segment

_MOA_REMARKS = (3, 4, 5, 6, 7)
_MIA_REMARKS = (5, 20, 21, 22, 23)


@dataclass
class _Line:
    seg: Segment
    file_name: str
    dates: dict[str, date | None] = field(default_factory=dict)
    adjustments: list[Adjustment] = field(default_factory=list)
    remarks: list[Remark] = field(default_factory=list)
    line_control: str = ""
    allowed: Decimal | None = None

    def build(self) -> ServicePayment:
        s, f = self.seg, self.file_name
        qual, code, mods = v.procedure(s, 1)
        orig = s.components(6)
        start = self.dates.get("472") or self.dates.get("150")
        end = self.dates.get("151") or self.dates.get("472end") or start
        return ServicePayment(
            procedure_qualifier=qual,
            procedure=code,
            modifiers=mods,
            charge=v.money(s, 2, f),
            paid=v.money(s, 3, f),
            revenue_code=s.get(4),
            units=v.money_or_none(s, 5, f),
            original_procedure=orig[1] if len(orig) > 1 else "",
            service_date=start,
            service_date_end=end,
            line_control=self.line_control,
            adjustments=tuple(self.adjustments),
            remarks=tuple(self.remarks),
            allowed=self.allowed,
            seg_index=s.index,
        )


@dataclass
class _Claim:
    seg: Segment
    source: Source
    file_name: str
    parties: dict[str, Party] = field(default_factory=dict)
    dates: dict[str, date | None] = field(default_factory=dict)
    adjustments: list[Adjustment] = field(default_factory=list)
    remarks: list[Remark] = field(default_factory=list)
    lines: list[_Line] = field(default_factory=list)
    coverage_amount: Decimal | None = None

    def build(self) -> ClaimPayment:
        s, f, p = self.seg, self.file_name, self.parties
        return ClaimPayment(
            source=self.source,
            pcn=s.get(1),
            status=s.get(2),
            charge=v.money(s, 3, f),
            paid=v.money(s, 4, f),
            patient_responsibility=v.money_or_zero(s, 5, f),
            claim_filing=s.get(6),
            payer_claim_control=s.get(7),
            facility_code=s.get(8),
            frequency=s.get(9),
            drg=s.get(11),
            patient=p.get("QC"),
            insured=p.get("IL"),
            corrected_insured=p.get("74"),
            crossover_payer=p.get("TT"),
            corrected_priority_payer=p.get("PR"),
            statement_from=self.dates.get("232"),
            statement_to=self.dates.get("233"),
            received_date=self.dates.get("050"),
            adjustments=tuple(self.adjustments),
            remarks=tuple(self.remarks),
            lines=tuple(line.build() for line in self.lines),
            coverage_amount=self.coverage_amount,
        )


class Project835:
    """Consumes one 835 transaction's walked segments; appends records to ``out``."""

    def __init__(self, source: Source, out: list[object]) -> None:
        self.source = source
        self.file_name = source.file_name
        self.out = out
        self.bpr: Segment | None = None
        self.trn: Segment | None = None
        self.production: date | None = None
        self.payer = Party("PR")
        self.payee = Party("PE")
        self.header_done = False
        self.claim: _Claim | None = None
        self.plbs: list[ProviderAdjustment] = []

    # -- dispatch ---------------------------------------------------------------------------------
    def on(self, loop: str, seg: Segment) -> None:
        sid = seg.id
        if loop == "2110" or (loop == "2100" and sid != "CLP") or sid == "CLP":
            self._claim_segment(loop, seg)
        elif sid == "LX" or sid in ("TS3", "TS2"):
            self._emit_header()
        elif sid == "PLB":
            self._emit_header()
            self._finish_claim()
            self._plb(seg)
        else:
            self._header_segment(loop, seg)

    def close(self) -> None:
        self._emit_header()
        self._finish_claim()
        self.out.extend(self.plbs)

    # -- header -----------------------------------------------------------------------------------
    def _header_segment(self, loop: str, seg: Segment) -> None:
        sid = seg.id
        if sid == "BPR":
            self.bpr = seg
        elif sid == "TRN":
            self.trn = seg
        elif sid == "DTM" and seg.get(1) == "405":
            self.production = v.ccyymmdd(seg.get(2))
        elif sid == "N1" and loop == "1000A":
            self.payer = v.n1_party(seg)
        elif sid == "N1" and loop == "1000B":
            self.payee = v.n1_party(seg)

    def _emit_header(self) -> None:
        if self.header_done:
            return
        self.header_done = True
        bpr, trn, f = self.bpr, self.trn, self.file_name
        self.out.append(
            Remittance(
                source=self.source.at(bpr.index if bpr else self.source.seg_index),
                handling=bpr.get(1) if bpr else "",
                amount=v.money(bpr, 2, f) if bpr else Decimal("0"),
                credit_debit=bpr.get(3) if bpr else "",
                method=bpr.get(4) if bpr else "",
                # BPR16 is required but payers send impossible dates (e.g. 20002316): the walker reports
                # those as findings and the payment keeps no date rather than a wrong one.
                payment_date=v.ccyymmdd(bpr.get(16)) if bpr else None,
                trace_number=trn.get(2) if trn else "",
                payer_trn_id=trn.get(3) if trn else "",
                payer=self.payer,
                payee=self.payee,
                production_date=self.production,
            )
        )

    # -- claims -----------------------------------------------------------------------------------
    def _finish_claim(self) -> None:
        if self.claim is not None:
            self.out.append(self.claim.build())
            self.claim = None

    def _claim_segment(self, loop: str, seg: Segment) -> None:
        sid, f = seg.id, self.file_name
        if sid == "CLP":
            self._emit_header()
            self._finish_claim()
            self.claim = _Claim(seg, self.source.at(seg.index), f)
            return
        claim = self.claim
        if claim is None:  # the walker places every 2100/2110 segment after a CLP
            return
        if sid == "SVC":
            claim.lines.append(_Line(seg, f))
        elif loop == "2110":
            self._line_segment(claim.lines[-1], seg)
        elif sid == "CAS":
            claim.adjustments.extend(v.cas_triplets(seg, f))
        elif sid == "NM1":
            claim.parties[seg.get(1)] = v.party(seg)
        elif sid == "MOA":
            claim.remarks.extend(v.remarks(seg, _MOA_REMARKS, "MOA"))
        elif sid == "MIA":
            claim.remarks.extend(v.remarks(seg, _MIA_REMARKS, "MIA"))
        elif sid == "DTM":
            claim.dates[seg.get(1)] = v.date_element(seg, 2, f)
        elif sid == "AMT" and seg.get(1) == "AU":
            claim.coverage_amount = v.money(seg, 2, f)

    def _line_segment(self, line: _Line, seg: Segment) -> None:
        sid, f = seg.id, self.file_name
        if sid == "CAS":
            line.adjustments.extend(v.cas_triplets(seg, f))
        elif sid == "DTM":
            line.dates[seg.get(1)] = v.date_element(seg, 2, f)
        elif sid == "LQ":
            line.remarks.append(Remark(seg.get(1), seg.get(2)))
        elif sid == "REF" and seg.get(1) == "6R":
            line.line_control = seg.get(2)
        elif sid == "AMT" and seg.get(1) == "B6":
            line.allowed = v.money(seg, 2, f)

    def _plb(self, seg: Segment) -> None:
        f = self.file_name
        fiscal = v.ccyymmdd(seg.get(2))
        for n in range(3, 15, 2):
            if not seg.get(n):
                continue
            parts = seg.components(n)
            self.plbs.append(
                ProviderAdjustment(
                    source=self.source.at(seg.index),
                    provider_id=seg.get(1),
                    fiscal_date=fiscal,
                    reason=parts[0],
                    reference=parts[1] if len(parts) > 1 else "",
                    amount=v.money(seg, n + 1, f),
                )
            )
