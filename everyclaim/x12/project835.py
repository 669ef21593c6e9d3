"""835 (005010X221A1) walked segments to :class:`Remittance`, :class:`ClaimPayment`, :class:`ProviderAdjustment`.

Streams: the remittance header is emitted when the first claim (or the footer) is reached, each claim
when the next one starts, the PLB adjustments at the end of the transaction.
"""

from __future__ import annotations

from datetime import date
from decimal import (
    Clamped,
    Context,
    Decimal,
    DivisionByZero,
    FloatOperation,
    Inexact,
    InvalidOperation,
    Overflow,
    Rounded,
    Subnormal,
    Underflow,
)
from functools import lru_cache

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
from everyclaim.x12 import native
from everyclaim.x12 import values as v
from everyclaim.x12.construct import maker
from everyclaim.x12.segments import Segment

_MOA_REMARKS = (3, 4, 5, 6, 7)
_MIA_REMARKS = (5, 20, 21, 22, 23)
_PAD = [""] * 24


# The records built per claim, line, adjustment and remark, without the frozen __init__ (construct.py)
_new_adjustment, _new_remark, _new_party = maker(Adjustment), maker(Remark), maker(Party)
_new_line, _new_claim = maker(ServicePayment), maker(ClaimPayment)

# Hot-path helpers: the same results (and the same errors, via ``values``) as ``values.money`` /
# ``values.date_element`` / ``values.cas_triplets``, without a Segment.get call per element.
ZERO = Decimal("0")


def _money(seg: Segment, e: list[str], n: int, f: str) -> Decimal:
    try:
        return Decimal(e[n])
    except (InvalidOperation, IndexError):
        return v.money(seg, n, f)  # raises the located error (or reads the absent element as values does)


@lru_cache(maxsize=4096)  # a file repeats few dates; bounded, so memory stays flat
def _ccyymmdd(raw: str) -> date | None:
    return v.ccyymmdd(raw)


def _date(seg: Segment, e: list[str], n: int, f: str) -> date | None:
    raw = e[n] if n < len(e) else ""
    d = _ccyymmdd(raw)
    if d is None and raw:
        return v.date_element(seg, n, f)  # raises the located error for a malformed date
    return d


def _cas(seg: Segment, f: str) -> list[Adjustment]:
    e = seg[2]
    n = len(e)
    group = e[1] if n > 1 else ""
    out = []
    for i in range(2, min(n, 20), 3):
        carc = e[i]
        if not carc:
            continue
        amount = _money(seg, e, i + 1, f)
        q = e[i + 2] if i + 2 < n else ""
        out.append(_new_adjustment(group, carc, amount, _money(seg, e, i + 2, f) if q else None))
    return out


# The compiled claim projection (native.py): _fast.Claims835 does what _Claim / _Line / Project835.on do
# for loops 2100 and 2110, building the same records by their slots. It is told the classes' fields here;
# should a record class change its fields, the check below turns the compiled projection off.
_C_FIELDS = {
    Source: ("file_sha256", "isa13", "gs06", "st02", "seg_index", "file_name"),
    Adjustment: ("group", "carc", "amount", "quantity"),
    Remark: ("qualifier", "code"),
    Party: ("entity", "name", "first", "id_qualifier", "id"),
    ServicePayment: ("procedure_qualifier", "procedure", "modifiers", "charge", "paid", "revenue_code", "units",
                     "original_procedure", "service_date", "service_date_end", "line_control", "adjustments",
                     "remarks", "allowed", "seg_index"),
    ClaimPayment: ("source", "pcn", "status", "charge", "paid", "patient_responsibility", "claim_filing",
                   "payer_claim_control", "facility_code", "frequency", "drg", "patient", "insured",
                   "corrected_insured", "crossover_payer", "corrected_priority_payer", "statement_from",
                   "statement_to", "received_date", "adjustments", "remarks", "lines", "coverage_amount"),
}


# The compiled projection reads amounts through a context that traps every signal: its create_decimal
# gives Decimal(text) digit for digit, or raises and the constructor decides; it skips the constructor's
# keyword parsing and context look-up (tests/test_x12_native.py checks the equivalence).
exact_decimal = Context(prec=28, traps=[Clamped, DivisionByZero, FloatOperation, Inexact, InvalidOperation, Overflow,
                                        Rounded, Subnormal, Underflow]).create_decimal


def _setup_native() -> bool:
    import dataclasses  # noqa: PLC0415

    if not native.available():
        return False
    specs = []
    for cls, names in _C_FIELDS.items():
        fields = dataclasses.fields(cls)
        if tuple(f.name for f in fields) != names or any(f.default_factory is not dataclasses.MISSING for f in fields):
            return False
        specs.append((cls, names, tuple(... if f.default is dataclasses.MISSING else f.default for f in fields)))
    native._fast.setup_835(Decimal, InvalidOperation, v.money, v.date_element, _ccyymmdd, ZERO, tuple(specs),
                           exact_decimal)
    return True


class _Line:
    __slots__ = ("seg", "file_name", "dates", "adjustments", "remarks", "line_control", "allowed")

    def __init__(self, seg: Segment, file_name: str) -> None:
        self.seg = seg
        self.file_name = file_name
        self.dates: dict[str, date | None] = {}
        self.adjustments: list[Adjustment] = []
        self.remarks: list[Remark] = []
        self.line_control = ""
        self.allowed: Decimal | None = None

    def build(self) -> ServicePayment:
        s, f = self.seg, self.file_name
        e = s[2]
        if len(e) < 7:
            e = e + _PAD[: 7 - len(e)]
        parts = e[1].split(s[3].component)  # values.procedure
        if len(parts) < 2:
            parts.append("")
        orig = e[6].split(s[3].component)
        dates = self.dates
        start = dates.get("472") or dates.get("150")
        end = dates.get("151") or dates.get("472end") or start
        return _new_line(
            procedure_qualifier=parts[0],
            procedure=parts[1],
            modifiers=tuple(m for m in parts[2:6] if m),
            # an empty SVC02/SVC03 (seen in payers' files) is a walker finding; the line posts 0.00
            charge=_money(s, e, 2, f) if len(e) > 2 and e[2] else ZERO,
            paid=_money(s, e, 3, f) if len(e) > 3 and e[3] else ZERO,
            revenue_code=e[4],
            units=_money(s, e, 5, f) if e[5] else None,
            original_procedure=orig[1] if len(orig) > 1 else "",
            service_date=start,
            service_date_end=end,
            line_control=self.line_control,
            adjustments=tuple(self.adjustments),
            remarks=tuple(self.remarks),
            allowed=self.allowed,
            seg_index=s[0],
        )


class _Claim:
    __slots__ = ("seg", "source", "file_name", "parties", "dates", "adjustments", "remarks", "lines",
                 "coverage_amount")

    def __init__(self, seg: Segment, source: Source, file_name: str) -> None:
        self.seg = seg
        self.source = source
        self.file_name = file_name
        self.parties: dict[str, Party] = {}
        self.dates: dict[str, date | None] = {}
        self.adjustments: list[Adjustment] = []
        self.remarks: list[Remark] = []
        self.lines: list[_Line] = []
        self.coverage_amount: Decimal | None = None

    def build(self) -> ClaimPayment:
        s, f, p = self.seg, self.file_name, self.parties
        e = s[2]
        if len(e) < 12:
            e = e + _PAD[: 12 - len(e)]
        dates = self.dates
        return _new_claim(
            source=self.source,
            pcn=e[1],
            status=e[2],
            charge=_money(s, e, 3, f),
            paid=_money(s, e, 4, f),
            patient_responsibility=_money(s, e, 5, f) if e[5] else Decimal("0"),
            claim_filing=e[6],
            payer_claim_control=e[7],
            facility_code=e[8],
            frequency=e[9],
            drg=e[11],
            patient=p.get("QC"),
            insured=p.get("IL"),
            corrected_insured=p.get("74"),
            crossover_payer=p.get("TT"),
            corrected_priority_payer=p.get("PR"),
            statement_from=dates.get("232"),
            statement_to=dates.get("233"),
            received_date=dates.get("050"),
            adjustments=tuple(self.adjustments),
            remarks=tuple(self.remarks),
            lines=tuple([line.build() for line in self.lines]),
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
        # the compiled claims (loops 2100/2110), or None: the Python classes below
        self.sink = (native._fast.Claims835(self, out, self.file_name, (source.file_sha256, source.isa13, source.gs06,
                                                                        source.st02, source.file_name))
                     if _NATIVE and native.enabled() else None)

    # -- dispatch ---------------------------------------------------------------------------------
    def on(self, loop: str, seg: Segment) -> None:
        sid = seg[1]
        if loop == "2110" or loop == "2100":
            if self.sink is not None:
                self.sink.on(loop, seg)
                return
            if sid == "CLP":
                self._clp(seg)
                return
            claim = self.claim
            if claim is None:  # the walker places every 2100/2110 segment after a CLP
                return
            if sid == "SVC":
                claim.lines.append(_Line(seg, self.file_name))
                return
            e = seg[2]
            q = e[1] if len(e) > 1 else ""
            if loop == "2110":  # the line's segments, inline: the most frequent
                line = claim.lines[-1]
                if sid == "CAS":
                    line.adjustments += _cas(seg, self.file_name)
                elif sid == "DTM":
                    line.dates[q] = _date(seg, e, 2, self.file_name)
                elif sid == "LQ":
                    line.remarks.append(_new_remark(q, e[2] if len(e) > 2 else ""))
                elif sid == "REF" and q == "6R":
                    line.line_control = e[2] if len(e) > 2 else ""
                elif sid == "AMT" and q == "B6":
                    line.allowed = _money(seg, e, 2, self.file_name)
            else:
                self._claim_segment(claim, sid, q, seg)
        elif sid == "CLP":
            self._clp(seg)
        elif sid == "LX" or sid in ("TS3", "TS2"):
            self._emit_header()
        elif sid == "PLB":
            self._emit_header()
            self._finish_claim()
            self._plb(seg)
        else:
            self._header_segment(loop, seg)

    def _clp(self, seg: Segment) -> None:
        if self.sink is not None:
            self.sink.on("2100", seg)  # the same as Python's: header, finish the open claim, a new one
            return
        self._emit_header()
        self._finish_claim()
        self.claim = _Claim(seg, self.source.at(seg[0]), self.file_name)

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
        if self.sink is not None:
            self.sink.finish()
            return
        if self.claim is not None:
            self.out.append(self.claim.build())
            self.claim = None

    def _claim_segment(self, claim: _Claim, sid: str, q: str, seg: Segment) -> None:
        f, e = self.file_name, seg[2]
        if sid == "CAS":
            claim.adjustments += _cas(seg, f)
        elif sid == "NM1":
            if len(e) < 10:
                e = e + _PAD[: 10 - len(e)]
            if e[3] or e[4] or e[9]:  # an NM1 without name or id (e.g. 'NM1*QC*1') names nobody
                claim.parties[q] = _new_party(e[1], e[3], e[4], e[8], e[9])  # values.party
        elif sid == "MOA":
            claim.remarks += [_new_remark("MOA", e[n]) for n in _MOA_REMARKS if n < len(e) and e[n]]
        elif sid == "MIA":
            claim.remarks += [_new_remark("MIA", e[n]) for n in _MIA_REMARKS if n < len(e) and e[n]]
        elif sid == "DTM":
            claim.dates[q] = _date(seg, e, 2, f)
        elif sid == "AMT" and q == "AU":
            claim.coverage_amount = _money(seg, e, 2, f)

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


_NATIVE = _setup_native()
