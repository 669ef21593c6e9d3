"""837P (005010X222A1) and 837I (005010X223A2) walked segments to :class:`Claim` records.

The hierarchy (billing provider 2000A -> subscriber 2000B -> patient 2000C) is carried as context;
each claim (loop 2300) is emitted when the next claim, the next HL or the end of the transaction is
reached.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from everyclaim.ledger.records import Adjustment, Claim, OtherPayer, Party, ServiceLine, Source
from everyclaim.x12 import values as v
from everyclaim.x12.segments import Segment

_DIAGNOSIS_QUALIFIERS = {"ABK", "ABF", "BK", "BF", "ABJ", "BJ"}
_PRINCIPAL = {"ABK", "BK"}


@dataclass
class _Other:
    sbr: Segment
    file_name: str
    subscriber: Party | None = None
    payer: Party = field(default_factory=lambda: Party("PR"))
    paid: Decimal | None = None
    adjudication_date: date | None = None
    adjustments: list[Adjustment] = field(default_factory=list)

    def build(self) -> OtherPayer:
        return OtherPayer(
            responsibility=self.sbr.get(1),
            payer=self.payer,
            subscriber=self.subscriber,
            paid=self.paid,
            adjudication_date=self.adjudication_date,
            adjustments=tuple(self.adjustments),
            claim_filing=self.sbr.get(9),
        )


@dataclass
class _Line:
    no: int
    file_name: str
    seg: Segment | None = None  # SV1 or SV2
    start: date | None = None
    end: date | None = None
    line_control: str = ""
    svd: list[tuple[str, Decimal, list[Adjustment]]] = field(default_factory=list)

    def build(self, institutional: bool) -> ServiceLine:
        s, f = self.seg, self.file_name
        if s is None:
            raise ValueError("a 2400 loop without SV1/SV2 is rejected by the walker")
        if institutional:  # SV2: revenue code, procedure, charge, basis, units
            qual, code, mods = v.procedure(s, 2)
            charge, basis, units, revenue = v.money(s, 3, f), s.get(4), v.money_or_zero(s, 5, f), s.get(1)
        else:  # SV1: procedure, charge, basis, units
            qual, code, mods = v.procedure(s, 1)
            charge, basis, units, revenue = v.money(s, 2, f), s.get(3), v.money_or_zero(s, 4, f), ""
        return ServiceLine(
            line_no=self.no,
            procedure_qualifier=qual,
            procedure=code,
            modifiers=mods,
            charge=charge,
            units=units,
            unit_basis=basis,
            service_date=self.start,
            service_date_end=self.end,
            revenue_code=revenue,
            line_control=self.line_control,
            seg_index=s.index,
            other_payer_paid=tuple((p, amt, tuple(adj)) for p, amt, adj in self.svd),
        )


@dataclass
class _Claim:
    clm: Segment
    source: Source
    context: dict[str, object]
    file_name: str
    refs: dict[str, str] = field(default_factory=dict)
    dates: dict[str, tuple[date | None, date | None]] = field(default_factory=dict)
    diagnoses: list[tuple[str, str]] = field(default_factory=list)
    lines: list[_Line] = field(default_factory=list)
    others: list[_Other] = field(default_factory=list)
    rendering: Party | None = None

    def build(self, kind: str) -> Claim:
        c, f, ctx = self.clm, self.file_name, self.context
        pos, qualifier, frequency = (c.components(5) + ["", "", ""])[:3]
        lines = tuple(line.build(kind == "837I") for line in self.lines)
        start, end = self._service_period(lines)
        sbr = ctx.get("sbr")
        return Claim(
            source=self.source,
            kind=kind,
            pcn=c.get(1),
            charge=v.money(c, 2, f),
            place_of_service=pos,
            facility_qualifier=qualifier,
            frequency=frequency,
            billing_provider=ctx.get("85") or Party("85"),  # type: ignore[arg-type]
            subscriber=ctx.get("IL") or Party("IL"),  # type: ignore[arg-type]
            payer=ctx.get("PR") or Party("PR"),  # type: ignore[arg-type]
            patient=ctx.get("QC"),  # type: ignore[arg-type]
            responsibility=sbr.get(1) if isinstance(sbr, Segment) else "",
            claim_filing=sbr.get(9) if isinstance(sbr, Segment) else "",
            service_from=start,
            service_to=end,
            prior_auth=self.refs.get("G1", ""),
            referral=self.refs.get("9F", ""),
            payer_claim_control=self.refs.get("F8", ""),
            diagnoses=tuple(code for _, code in self.diagnoses),
            diagnosis_qualifiers=tuple(q for q, _ in self.diagnoses),
            lines=lines,
            other_payers=tuple(o.build() for o in self.others),
            rendering_provider=self.rendering,
            submitted=ctx.get("submitted"),  # type: ignore[arg-type]
        )

    def _service_period(self, lines: tuple[ServiceLine, ...]) -> tuple[date | None, date | None]:
        for qualifier in ("434", "472"):  # statement period (837I), service date
            if qualifier in self.dates:
                return self.dates[qualifier]
        starts = [ln.service_date for ln in lines if ln.service_date]
        ends = [ln.service_date_end or ln.service_date for ln in lines if ln.service_date]
        return (min(starts) if starts else None, max(ends) if ends else None)  # type: ignore[type-var]


class Project837:
    """Consumes one 837 transaction's walked segments; appends :class:`Claim` records to ``out``."""

    def __init__(self, source: Source, out: list[object], kind: str, submitted: date | None) -> None:
        self.source = source
        self.file_name = source.file_name
        self.out = out
        self.kind = kind
        self.context: dict[str, object] = {"submitted": submitted}
        self.claim: _Claim | None = None

    def on(self, loop: str, seg: Segment) -> None:
        sid = seg.id
        if sid == "HL":
            self._finish()
            level = seg.get(3)
            if level == "20":
                self.context = {"submitted": self.context.get("submitted")}
            elif level == "22":
                for key in ("sbr", "IL", "PR", "QC"):
                    self.context.pop(key, None)
            elif level == "23":
                self.context.pop("QC", None)
        elif sid == "BHT":
            self.context["submitted"] = v.ccyymmdd(seg.get(4)) or self.context.get("submitted")
        elif sid == "CLM":
            self._finish()
            self.claim = _Claim(seg, self.source.at(seg.index), dict(self.context), self.file_name)
        elif self.claim is not None and loop[:2] in ("23", "24"):
            self._claim_segment(loop, seg)
        else:
            self._context_segment(loop, seg)

    def close(self) -> None:
        self._finish()

    def _finish(self) -> None:
        if self.claim is not None:
            self.out.append(self.claim.build(self.kind))
            self.claim = None

    def _context_segment(self, loop: str, seg: Segment) -> None:
        sid = seg.id
        if sid == "SBR" and loop == "2000B":
            self.context["sbr"] = seg
        elif sid == "NM1" and loop in ("2010AA", "2010BA", "2010BB", "2010CA"):
            self.context[seg.get(1)] = v.party(seg)

    def _claim_segment(self, loop: str, seg: Segment) -> None:
        claim, sid, f = self.claim, seg.id, self.file_name
        assert claim is not None
        if loop == "2300":
            if sid == "REF":
                claim.refs.setdefault(seg.get(1), seg.get(2))
            elif sid == "DTP":
                claim.dates[seg.get(1)] = v.period(seg, 2, 3, f)
            elif sid == "HI":
                self._diagnoses(claim, seg)
        elif sid == "NM1" and seg.get(1) == "82" and loop.startswith("231"):
            claim.rendering = v.party(seg)
        elif loop.startswith("23"):
            self._other_payer_segment(claim, loop, seg)
        else:
            self._line_segment(claim, loop, seg)

    def _diagnoses(self, claim: _Claim, seg: Segment) -> None:
        comp = seg.delimiters.component
        n = 1
        while n <= 12:
            parts = seg.components(n)
            n += 1
            if len(parts) == 1 and parts[0] in _DIAGNOSIS_QUALIFIERS and comp not in seg.get(n) and seg.get(n):
                # 'HI*BK*8901*BF*87200': qualifier and code in two elements (the walker reports the missing
                # component); the pair still says which code it is
                parts.append(seg.get(n))
                n += 1
            if len(parts) >= 2 and parts[0] in _DIAGNOSIS_QUALIFIERS and parts[1]:
                if parts[0] in _PRINCIPAL:
                    claim.diagnoses.insert(0, (parts[0], parts[1]))
                else:
                    claim.diagnoses.append((parts[0], parts[1]))

    def _other_payer_segment(self, claim: _Claim, loop: str, seg: Segment) -> None:
        sid, f = seg.id, self.file_name
        if sid == "SBR" and loop == "2320":
            claim.others.append(_Other(seg, f))
            return
        if not claim.others:
            return
        other = claim.others[-1]
        if sid == "CAS" and loop == "2320":
            other.adjustments.extend(v.cas_triplets(seg, f))
        elif sid == "AMT" and seg.get(1) == "D":
            other.paid = v.money(seg, 2, f)
        elif sid == "NM1" and loop == "2330A":
            other.subscriber = v.party(seg)
        elif sid == "NM1" and loop == "2330B":
            other.payer = v.party(seg)
        elif sid == "DTP" and seg.get(1) == "573":
            other.adjudication_date = v.period(seg, 2, 3, f)[0]

    def _line_segment(self, claim: _Claim, loop: str, seg: Segment) -> None:
        sid, f = seg.id, self.file_name
        if sid == "LX":
            claim.lines.append(_Line(len(claim.lines) + 1, f))
            return
        if not claim.lines:
            return
        line = claim.lines[-1]
        if sid in ("SV1", "SV2") and loop == "2400":
            line.seg = seg
        elif sid == "DTP" and loop == "2400" and seg.get(1) == "472":
            line.start, line.end = v.period(seg, 2, 3, f)
        elif sid == "REF" and loop == "2400" and seg.get(1) == "6R":
            line.line_control = seg.get(2)
        elif sid == "SVD":
            line.svd.append((seg.get(1), v.money(seg, 2, f), []))
        elif sid == "CAS" and loop == "2430" and line.svd:
            line.svd[-1][2].extend(v.cas_triplets(seg, f))
