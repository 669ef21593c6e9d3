"""Claim content (patients, lines, codes, charges), payer adjudication, and the ledger records
(:class:`Claim`, :class:`ClaimPayment`, :class:`ClaimAck`) the writers turn into X12.

Money is integer cents while generating; records get ``Decimal`` with two places.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from everyclaim.ledger.records import (
    Adjustment,
    Claim,
    ClaimAck,
    ClaimPayment,
    OtherPayer,
    Party,
    Remark,
    ServiceLine,
    ServicePayment,
    Source,
)
from everyclaim.synth.catalog import Catalog, Fee, Payer

NO_SOURCE = Source("")
CLP06 = {"CI": "12", "BL": "12"}  # 837 SBR09 commercial / BCBS have no 835 CLP06 code: PPO
_MONEY: dict[int, Decimal] = {}


def money(cents: int) -> Decimal:
    m = _MONEY.get(cents)
    if m is None:
        m = _MONEY[cents] = Decimal(cents).scaleb(-2)
    return m


ONE = Decimal(1)
_UNITS = {n: Decimal(n) for n in range(0, 100)}


def npi(base9: int) -> str:
    """A 10-digit NPI with a valid Luhn check digit (prefix 80840)."""
    digits = f"{base9:09d}"
    total = 24
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return digits + str((10 - total % 10) % 10)


@dataclass(slots=True)
class LineSpec:
    qualifier: str  # HC, or "" for a revenue-code-only institutional line
    code: str
    modifiers: tuple[str, ...]
    charge: int
    units: int
    revenue_code: str
    group: str
    unit_basis: str = "UN"


@dataclass(slots=True)
class Spec:
    """One claim as the provider billed it, before any payer saw it."""

    pcn: str
    account: str
    kind: str  # 837P | 837I
    facility: str  # CLM05-1: POS (837P) or facility type (837I)
    payer: Payer
    provider: Party
    subscriber: Party
    patient: Party | None
    rendering: Party | None
    service: date
    service_end: date
    diagnoses: tuple[str, ...]
    lines: list[LineSpec]
    auth: str = ""
    secondary: Payer | None = None
    drg: str = ""
    dx_quals: tuple[str, ...] = field(default_factory=tuple)

    @property
    def charge(self) -> int:
        return sum(ln.charge for ln in self.lines)


@dataclass(slots=True)
class LinePay:
    """A payer's answer for one line: paid, adjustments (group, carc, cents), LQ remarks."""

    paid: int
    adjustments: list[tuple[str, str, int]]
    remarks: tuple[str, ...] = ()

    @property
    def pr(self) -> int:
        return sum(a for g, _, a in self.adjustments if g == "PR")

    @property
    def co(self) -> int:
        return sum(a for g, _, a in self.adjustments if g != "PR")


def weighted(rng: random.Random, items: tuple[Fee, ...] | list[Fee]) -> Fee:
    return rng.choices(items, weights=[f.weight for f in items])[0]


def professional_lines(rng: random.Random, cat: Catalog, n: int) -> list[LineSpec]:
    em = [f for f in cat.fees if f.group == "em"]
    other = [f for f in cat.fees if f.group not in ("em", "highcost")]
    high = [f for f in cat.fees if f.group == "highcost"]
    first = weighted(rng, em)
    lines = [LineSpec("HC", first.code, (), first.charge_cents, 1, first.revenue_code, first.group)]
    used = {first.code}
    for _ in range(n - 1):
        f = weighted(rng, high) if rng.random() < 0.02 else weighted(rng, other)
        if f.code in used:
            continue
        used.add(f.code)
        units = rng.randint(1, f.units_max) if f.units_max > 1 else 1
        lines.append(LineSpec("HC", f.code, (), f.charge_cents * units, units, f.revenue_code, f.group))
    if any(ln.group in ("injection", "procedure") for ln in lines[1:]):
        lines[0].modifiers = ("25",)
    return lines


def facility_lines(rng: random.Random, cat: Catalog, setting: str) -> tuple[list[LineSpec], int]:
    """Institutional lines for ``er`` / ``outpatient`` / ``inpatient``; returns (lines, length of stay)."""
    pick = [f for f in cat.facility_fees if f.group == setting]
    anc = [f for f in cat.facility_fees if f.group == "ancillary"]
    stay = 0
    if setting == "inpatient":
        stay = rng.randint(1, 6)
        lines = []
        for f in pick:
            if f.revenue_code in ("0360", "0450") and rng.random() > f.weight / 100:
                continue
            units = stay if f.revenue_code == "0120" else rng.randint(1, f.units_max)
            qual = "HC" if f.code else ""
            lines.append(LineSpec(qual, f.code, (), f.charge_cents * units, units, f.revenue_code, setting,
                                  "DA" if f.revenue_code == "0120" else "UN"))  # fmt: skip
        return lines, stay
    main = weighted(rng, pick)
    lines = [LineSpec("HC", main.code, (), main.charge_cents, 1, main.revenue_code, setting)]
    used = {main.code}
    for _ in range(rng.choice((1, 2, 2, 3, 3, 4))):
        f = weighted(rng, anc)
        if f.code in used:
            continue
        used.add(f.code)
        units = rng.randint(1, f.units_max)
        lines.append(LineSpec("HC", f.code, (), f.charge_cents * units, units, f.revenue_code, "ancillary"))
    return lines, 0


# --------------------------------------------------------------------------------------------------
# adjudication
# --------------------------------------------------------------------------------------------------
def adjudicate(rng: random.Random, spec: Spec, payer: Payer, pr_mode: str = "normal", min_pr: int = 0) -> list[LinePay]:
    """Allowed = charge x rate; CO-45 the rest; PR split into deductible / coinsurance / copay.

    ``pr_mode``: ``normal`` (payer's cost sharing), ``none``, ``small`` (< $10 total), ``deductible``
    (at least ``min_pr``, via PR-1).
    """
    out = []
    deductible = pr_mode == "deductible" or (pr_mode == "normal" and rng.random() < payer.deductible_share)
    ded_left = rng.randint(5000, 50000) if deductible else 0
    copay = payer.copay_cents if pr_mode == "normal" else 0
    for i, ln in enumerate(spec.lines):
        allowed = int(ln.charge * payer.allowed_rate)
        adjs: list[tuple[str, str, int]] = []
        if ln.charge - allowed:
            adjs.append(("CO", "45", ln.charge - allowed))
        rest = allowed
        if ded_left and rest:
            d = min(ded_left, rest)
            ded_left -= d
            rest -= d
            adjs.append(("PR", "1", d))
        if pr_mode == "normal" and rest:
            if copay and i == 0:
                c = min(copay, rest)
                rest -= c
                adjs.append(("PR", "3", c))
            elif payer.coinsurance:
                c = int(rest * payer.coinsurance)
                if c:
                    rest -= c
                    adjs.append(("PR", "2", c))
        out.append(LinePay(rest, adjs))
    if pr_mode == "small":
        target = rng.randint(100, 999)
        for lp in out:
            if lp.paid >= target:
                lp.paid -= target
                lp.adjustments.append(("PR", "2", target))
                break
    if min_pr and sum(lp.pr for lp in out) < min_pr:
        for lp in out:
            take = min(lp.paid, min_pr - sum(x.pr for x in out))
            if take > 0:
                lp.paid -= take
                lp.adjustments.append(("PR", "1", take))
    return out


def denial(spec: Spec, group: str, carc: str, remarks: tuple[str, ...] = ()) -> list[LinePay]:
    return [LinePay(0, [(group, carc, ln.charge)], remarks) for ln in spec.lines]


# --------------------------------------------------------------------------------------------------
# records
# --------------------------------------------------------------------------------------------------
def payer_party(p: Payer) -> Party:
    return Party("PR", p.name, "", "PI", p.payer_id)


def claim_record(
    spec: Spec,
    payer: Payer,
    *,
    responsibility: str = "P",
    frequency: str = "1",
    payer_claim_control: str = "",
    other_payers: tuple[OtherPayer, ...] = (),
    line_other_paid: list[tuple[str, LinePay]] | None = None,
) -> Claim:
    lines = []
    for i, ln in enumerate(spec.lines):
        other: tuple[tuple[str, Decimal, tuple[Adjustment, ...]], ...] = ()
        if line_other_paid is not None:
            pid, lp = line_other_paid[i]
            other = ((pid, money(lp.paid), _adjustments(lp.adjustments)),)
        lines.append(
            ServiceLine(
                i + 1, ln.qualifier, ln.code, ln.modifiers, money(ln.charge), _UNITS[ln.units], ln.unit_basis,
                spec.service, None, ln.revenue_code if spec.kind == "837I" else "",
                f"{spec.pcn}-{i + 1}", 0, other,
            )  # fmt: skip
        )
    return Claim(
        NO_SOURCE, spec.kind, spec.pcn, money(spec.charge), spec.facility, "A" if spec.kind == "837I" else "B",
        frequency, spec.provider, spec.subscriber, payer_party(payer), spec.patient, responsibility,
        payer.claim_filing, spec.service if spec.kind == "837I" else None,
        spec.service_end if spec.kind == "837I" else None, spec.auth, "", payer_claim_control,
        spec.diagnoses, spec.dx_quals, tuple(lines), other_payers, spec.rendering,
    )  # fmt: skip


def _adjustments(adjs: list[tuple[str, str, int]], sign: int = 1) -> tuple[Adjustment, ...]:
    return tuple(Adjustment(g, c, money(sign * a)) for g, c, a in adjs)


def payment_record(
    spec: Spec,
    payer: Payer,
    status: str,
    icn: str,
    received: date,
    lines: list[LinePay] | None,
    *,
    claim_adjs: list[tuple[str, str, int]] | None = None,
    claim_remarks: tuple[str, ...] = (),
    priority_payer: Payer | None = None,
    sign: int = 1,
    frequency: str = "1",
) -> ClaimPayment:
    """One CLP. ``lines=None`` writes no SVC loops (claim-level adjudication in ``claim_adjs``)."""
    claim_adjs = claim_adjs or []
    svcs: tuple[ServicePayment, ...] = ()
    paid = pr = 0
    if lines is not None:
        out = []
        for ln, lp in zip(spec.lines, lines, strict=True):
            paid += lp.paid
            pr += lp.pr
            allowed = ln.charge - sum(a for g, _, a in lp.adjustments if g == "CO" and lp.paid + lp.pr > 0)
            out.append(
                ServicePayment(
                    ln.qualifier or "NU", ln.code or ln.revenue_code, ln.modifiers, money(sign * ln.charge),
                    money(sign * lp.paid), ln.revenue_code if spec.kind == "837I" and ln.code else "",
                    _UNITS[ln.units], "", spec.service, None, f"{spec.pcn}-{len(out) + 1}",
                    _adjustments(lp.adjustments, sign), tuple(Remark("HE", r) for r in lp.remarks),
                    money(sign * allowed) if lp.paid + lp.pr > 0 else None,
                )  # fmt: skip
            )
        svcs = tuple(out)
    pr += sum(a for g, _, a in claim_adjs if g == "PR")
    patient = spec.patient or spec.subscriber
    return ClaimPayment(
        NO_SOURCE, spec.pcn, status, money(sign * spec.charge), money(sign * paid), money(sign * pr),
        CLP06.get(payer.claim_filing, payer.claim_filing), icn, spec.facility, frequency, spec.drg,
        Party("QC", patient.name, patient.first, "MI", spec.subscriber.id),
        Party("IL", spec.subscriber.name, spec.subscriber.first, "MI", spec.subscriber.id)
        if spec.patient is not None else None,
        None, None, payer_party(priority_payer) if priority_payer else None,
        spec.service, spec.service_end, received, _adjustments(claim_adjs, sign),
        tuple(Remark("MOA", r) for r in claim_remarks), svcs,
    )  # fmt: skip


def ack_record(spec: Spec, payer: Payer, when: date, icn: str, *, accepted: bool = True,
               status: tuple[str, str, str] = ("A1", "20", "PR")) -> ClaimAck:  # fmt: skip
    cat, st, ent = status if accepted else status
    return ClaimAck(
        NO_SOURCE, spec.pcn, icn if accepted else "", cat, st, ent, when, "WQ" if accepted else "U",
        money(spec.charge), accepted, payer_party(payer), spec.provider, spec.service, spec.service_end,
    )  # fmt: skip
