"""Scenario timelines: what happened to one claim, as file events (837s, 277CAs, 835s) and an ATB line.

Each ``shape`` of ``scenarios.yaml`` is one function here taking (ctx, case, params). Dates are built
backwards from the as-of date so that every event lies strictly before it.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from everyclaim.ledger.records import Claim, ClaimAck, ClaimPayment, OtherPayer, Party, ProviderAdjustment
from everyclaim.synth.catalog import Payer, Scenario
from everyclaim.synth.claims import (
    NO_SOURCE,
    LinePay,
    Spec,
    ack_record,
    adjudicate,
    claim_record,
    denial,
    money,
    payer_party,
    payment_record,
)


@dataclass(slots=True)
class Atb:
    responsibility: str
    payer_id: str
    last_billed: date
    insurance: int = 0
    patient: int = 0
    adjustments: int = 0


@dataclass(slots=True)
class Case:
    spec: Spec
    scenario: Scenario
    bills: list[tuple[date, Claim]] = field(default_factory=list)
    acks: list[tuple[date, ClaimAck]] = field(default_factory=list)
    remits: list[tuple[str, date, ClaimPayment]] = field(default_factory=list)
    plbs: list[tuple[str, date, ProviderAdjustment]] = field(default_factory=list)
    atb: Atb | None = None
    expected_recovery: int = 0

    def balance(self) -> int:
        a = self.atb
        return 0 if a is None else self.spec.charge - a.insurance - a.patient - a.adjustments


@dataclass(slots=True)
class Ctx:
    rng: random.Random
    as_of: date
    payers: tuple[Payer, ...]
    new_hire: Party
    icn_seq: int = 0

    def icn(self, when: date) -> str:
        self.icn_seq += 1
        return f"{when.year % 100:02d}{when.timetuple().tm_yday:03d}{self.icn_seq:09d}"


DAY = timedelta(days=1)


def snap(payer: Payer, d: date) -> date:
    """The payer's check run on or before ``d``."""
    return d - timedelta(days=(d.weekday() - payer.check_weekday) % 7)


def _days(rng: random.Random, lo: int, hi: int) -> timedelta:
    return timedelta(days=rng.randint(lo, max(lo, hi)))


def _allowed(spec: Spec, payer: Payer) -> int:
    return sum(int(ln.charge * payer.allowed_rate) for ln in spec.lines)


def _set_service(spec: Spec, service: date) -> None:
    spec.service_end = service + (spec.service_end - spec.service)
    spec.service = service


def _bill(ctx: Ctx, case: Case, bill: date, *, ack: bool = True, icn: str = "", **kw: Any) -> str:
    """Record an 837 on ``bill`` (and a 277CA the next day); returns the payer's ICN."""
    spec = case.spec
    payer = kw.pop("payer", spec.payer)
    case.bills.append((bill, claim_record(spec, payer, **kw)))
    icn = icn or ctx.icn(bill)
    if ack:
        case.acks.append((bill + DAY, ack_record(spec, payer, bill + DAY, icn)))
    return icn


def _remit(case: Case, payer: Payer, check: date, cp: ClaimPayment) -> None:
    case.remits.append((payer.payer_id, check, cp))


def _timeline(ctx: Ctx, case: Case, age: int) -> tuple[date, date]:
    """Place the claim so its first 835 check is ``age`` days before as-of: returns (bill, check)."""
    rng, payer = ctx.rng, case.spec.payer
    check = snap(payer, ctx.as_of - timedelta(days=max(1, age)))
    if check >= ctx.as_of:
        check -= timedelta(days=7)
    bill = check - _days(rng, payer.pay_days - 4, payer.pay_days + 10)
    _set_service(case.spec, bill - _days(rng, 1, 7))
    return bill, check


def _received(bill: date) -> date:
    return bill + DAY


def _rebill_age(ctx: Ctx, case: Case, lo: int, hi: int) -> int:
    """A denial age that still leaves the claim >= 10 days inside the payer's filing limit."""
    p = case.spec.payer
    cap = p.timely_filing_days - 10 - (p.pay_days + 10) - 7
    return ctx.rng.randint(min(lo, max(1, cap)), max(1, min(hi, cap)))


# --------------------------------------------------------------------------------------------------
# shapes
# --------------------------------------------------------------------------------------------------
def paid(ctx: Ctx, case: Case, params: dict[str, Any]) -> None:
    rng, spec, payer = ctx.rng, case.spec, case.spec.payer
    bill, check = _timeline(ctx, case, rng.randint(1, 365))
    icn = _bill(ctx, case, bill)
    lines = adjudicate(rng, spec, payer)
    _remit(case, payer, check, payment_record(spec, payer, "1", icn, _received(bill), lines))
    if (check - bill).days > 30 and rng.random() < 0.3:  # prompt-pay interest, paid in PLB
        amt = rng.randint(50, 900)
        case.plbs.append((payer.payer_id, check, ProviderAdjustment(
            NO_SOURCE, spec.provider.id, date(check.year, 12, 31), "L6", icn, money(-amt))))  # fmt: skip


def secondary_paid(ctx: Ctx, case: Case, params: dict[str, Any]) -> None:
    rng, spec, payer = ctx.rng, case.spec, case.spec.payer
    sec = spec.secondary
    assert sec is not None
    bill, check = _timeline(ctx, case, rng.randint(50, 365))
    icn = _bill(ctx, case, bill, other_payers=(_other(spec, sec, "S"),))
    lines = adjudicate(rng, spec, payer, "normal", min_pr=1000)
    _remit(case, payer, check, payment_record(spec, payer, "1", icn, _received(bill), lines))
    bill2 = check + _days(rng, 2, 8)
    primary_info = OtherPayer("P", payer_party(payer), spec.subscriber, money(sum(lp.paid for lp in lines)),
                              check, (), payer.claim_filing)  # fmt: skip
    icn2 = _bill(ctx, case, bill2, payer=sec, responsibility="S", other_payers=(primary_info,),
                 line_other_paid=[(payer.payer_id, lp) for lp in lines])  # fmt: skip
    check2 = snap(sec, min(bill2 + timedelta(days=sec.pay_days), ctx.as_of - DAY))
    if check2 <= bill2:
        check2 = bill2 + DAY  # a late check run: still before as-of (ages >= 50 leave room)
    sec_lines = [LinePay(lp.pr, [("OA", "23", ln.charge - lp.pr)]) for ln, lp in zip(spec.lines, lines, strict=True)]
    _remit(case, sec, check2, payment_record(spec, sec, "2", icn2, _received(bill2), sec_lines))


def _other(spec: Spec, other: Payer, resp: str) -> OtherPayer:
    return OtherPayer(resp, payer_party(other), spec.subscriber, None, None, (), other.claim_filing)


def denied_then_paid(ctx: Ctx, case: Case, params: dict[str, Any]) -> None:
    rng, spec, payer = ctx.rng, case.spec, case.spec.payer
    bill, check = _timeline(ctx, case, rng.randint(90, 330))
    icn = _bill(ctx, case, bill)
    _deny(case, payer, check, icn, bill, params, rng)
    if params.get("via") == "corrected":
        bill2 = check + _days(rng, 5, 20)
        icn2 = _bill(ctx, case, bill2, frequency="7", payer_claim_control=icn)
        check2 = snap(payer, bill2 + timedelta(days=payer.pay_days + 3))
        freq = "7"
    else:
        icn2, bill2 = icn, bill
        check2 = snap(payer, check + _days(rng, 30, 60))
        freq = "1"
    lines = adjudicate(rng, spec, payer)
    _remit(case, payer, check2, payment_record(spec, payer, "1", icn2, _received(bill2), lines, frequency=freq))


def _deny(case: Case, payer: Payer, check: date, icn: str, bill: date, params: dict[str, Any],
          rng: random.Random, priority: Payer | None = None) -> None:  # fmt: skip
    spec = case.spec
    group, carc = params.get("group", "CO"), str(params["carc"])
    moa = tuple(params.get("moa", ()))
    if params.get("lq_any"):
        moa += (rng.choice(params["lq_any"]),)
    level = params.get("level", "claim")
    if level == "claim":
        cp = payment_record(spec, payer, "4", icn, _received(bill), None,
                            claim_adjs=[(group, carc, spec.charge)], claim_remarks=moa, priority_payer=priority)  # fmt: skip
    else:
        lines = denial(spec, group, carc, tuple(params.get("lq", ())))
        cp = payment_record(spec, payer, "4", icn, _received(bill), lines, claim_remarks=moa, priority_payer=priority)
    _remit(case, payer, check, cp)


def denied_closed(ctx: Ctx, case: Case, params: dict[str, Any]) -> None:
    denied(ctx, case, {**params, "billing": "late", "denial_age": [30, 300]})
    case.atb = None


def denied(ctx: Ctx, case: Case, params: dict[str, Any]) -> None:
    rng, spec, payer = ctx.rng, case.spec, case.spec.payer
    window = params.get("denial_window")
    if "denial_age" in params:
        age = rng.randint(*params["denial_age"])
    elif window == "appeal":
        age = rng.randint(3, payer.appeal_days - 10)
    elif window == "expired":
        age = rng.randint(payer.appeal_days + 5, payer.appeal_days + 90)
    else:
        age = _rebill_age(ctx, case, 3, 45)
    if params.get("auth") == "present":
        spec.auth = f"AUTH{rng.randint(10**7, 10**8 - 1)}"
    elif params.get("auth") == "absent":
        spec.auth = ""
    if params.get("rendering") == "new_hire":
        spec.rendering = ctx.new_hire
    bill, check = _timeline(ctx, case, age)
    if params.get("billing") == "late":  # first billed after the limit: move the service date back
        _set_service(spec, bill - timedelta(days=payer.timely_filing_days + rng.randint(5, 60)))
    elif params.get("billing") == "on_time" and (bill - spec.service).days + 2 > payer.timely_filing_days:
        _set_service(spec, bill - timedelta(days=3))
    icn = _bill(ctx, case, bill)
    priority = None
    if params.get("priority_payer"):
        priority = rng.choice([p for p in ctx.payers if p.financial_class == "commercial" and p != payer])
    _deny(case, payer, check, icn, bill, params, rng, priority)
    case.atb = Atb("primary", payer.payer_id, bill)
    case.expected_recovery = _allowed(spec, payer) if case.scenario.collectible else 0


def pending(ctx: Ctx, case: Case, params: dict[str, Any]) -> None:
    rng, spec = ctx.rng, case.spec
    lo, hi = params.get("billed_age", [1, 30])
    bill = ctx.as_of - timedelta(days=rng.randint(lo, hi))
    _set_service(spec, bill - _days(rng, 1, 7))
    _bill(ctx, case, bill, ack=bill + DAY < ctx.as_of)
    case.atb = Atb("primary", spec.payer.payer_id, bill)
    case.expected_recovery = _allowed(spec, spec.payer)


def no_response(ctx: Ctx, case: Case, params: dict[str, Any]) -> None:
    rng, spec, payer = ctx.rng, case.spec, case.spec.payer
    lo, hi = params.get("billed_age", [46, 150])
    lag = rng.randint(1, 7)
    hi = min(hi, payer.timely_filing_days - 10 - lag)
    bill = ctx.as_of - timedelta(days=rng.randint(lo, max(lo, hi)))
    _set_service(spec, bill - timedelta(days=lag))
    _bill(ctx, case, bill)
    case.atb = Atb("primary", payer.payer_id, bill)
    case.expected_recovery = _allowed(spec, payer)


def never_acknowledged(ctx: Ctx, case: Case, params: dict[str, Any]) -> None:
    rng, spec, payer = ctx.rng, case.spec, case.spec.payer
    service = ctx.as_of - timedelta(days=payer.timely_filing_days + rng.randint(10, 200))
    _set_service(spec, service)
    bill = service + _days(rng, 1, 7)
    _bill(ctx, case, bill, ack=False)
    case.atb = Atb("primary", payer.payer_id, bill)


def rejected(ctx: Ctx, case: Case, params: dict[str, Any]) -> None:
    rng, spec, payer = ctx.rng, case.spec, case.spec.payer
    lag = rng.randint(1, 7)
    bill = ctx.as_of - timedelta(days=rng.randint(10, max(10, min(120, payer.timely_filing_days - 20 - lag))))
    _set_service(spec, bill - timedelta(days=lag))
    case.bills.append((bill, claim_record(spec, payer)))
    status = (params["category"], str(params["status"]), params["entity"])
    case.acks.append((bill + DAY, ack_record(spec, payer, bill + DAY, "", accepted=False, status=status)))
    case.atb = Atb("primary", payer.payer_id, bill)
    case.expected_recovery = _allowed(spec, payer)


def paid_open(ctx: Ctx, case: Case, params: dict[str, Any]) -> None:
    rng, spec, payer = ctx.rng, case.spec, case.spec.payer
    age = rng.randint(*params.get("denial_age", [10, 120]))
    bill, check = _timeline(ctx, case, age)
    icn = _bill(ctx, case, bill)
    mode = params.get("pr", "normal")
    min_pr = int(params.get("min_pr", 0))
    lines = adjudicate(rng, spec, payer, mode, min_pr=min_pr)
    _remit(case, payer, check, payment_record(spec, payer, "1", icn, _received(bill), lines))
    pr = sum(lp.pr for lp in lines)
    resp = params.get("responsibility", "patient")
    patient_paid = 0
    if resp == "patient" and mode == "normal" and rng.random() < 0.3 and pr - pr // 2 >= min_pr:
        patient_paid = pr // 2
    case.atb = Atb(resp, payer.payer_id, bill, sum(lp.paid for lp in lines), patient_paid,
                   sum(lp.co for lp in lines))  # fmt: skip
    case.expected_recovery = 0 if mode == "small" else pr - patient_paid


def secondary_unbilled(ctx: Ctx, case: Case, params: dict[str, Any]) -> None:
    rng, spec, payer = ctx.rng, case.spec, case.spec.payer
    sec = spec.secondary
    assert sec is not None
    bill, check = _timeline(ctx, case, rng.randint(10, 90))
    icn = _bill(ctx, case, bill, other_payers=(_other(spec, sec, "S"),))
    lines = adjudicate(rng, spec, payer, "normal", min_pr=1000)
    _remit(case, payer, check, payment_record(spec, payer, "1", icn, _received(bill), lines))
    case.atb = Atb("primary", payer.payer_id, bill, sum(lp.paid for lp in lines), 0, sum(lp.co for lp in lines))
    case.expected_recovery = sum(lp.pr for lp in lines)


def contractual_unposted(ctx: Ctx, case: Case, params: dict[str, Any]) -> None:
    rng, spec, payer = ctx.rng, case.spec, case.spec.payer
    bill, check = _timeline(ctx, case, rng.randint(10, 200))
    icn = _bill(ctx, case, bill)
    lines = adjudicate(rng, spec, payer, "none")
    _remit(case, payer, check, payment_record(spec, payer, "1", icn, _received(bill), lines))
    case.atb = Atb("primary", payer.payer_id, bill, sum(lp.paid for lp in lines))


def bundled(ctx: Ctx, case: Case, params: dict[str, Any]) -> None:
    rng, spec, payer = ctx.rng, case.spec, case.spec.payer
    bill, check = _timeline(ctx, case, _rebill_age(ctx, case, 3, 45))
    idx = max(1, len(spec.lines) - 1)
    spec.lines[idx].modifiers = tuple(m for m in spec.lines[idx].modifiers if m not in ("59", "XU"))
    icn = _bill(ctx, case, bill)
    lines = adjudicate(rng, spec, payer, "none")
    ln = spec.lines[idx]
    lines[idx] = LinePay(0, [(params.get("group", "CO"), str(params["carc"]), ln.charge)], tuple(params.get("lq", ())))
    _remit(case, payer, check, payment_record(spec, payer, "1", icn, _received(bill), lines))
    others = [lp for i, lp in enumerate(lines) if i != idx]
    case.atb = Atb("primary", payer.payer_id, bill, sum(lp.paid for lp in others), 0, sum(lp.co for lp in others))
    case.expected_recovery = int(ln.charge * payer.allowed_rate)


def duplicate(ctx: Ctx, case: Case, params: dict[str, Any]) -> None:
    rng, spec, payer = ctx.rng, case.spec, case.spec.payer
    bill, check = _timeline(ctx, case, rng.randint(70, 200))
    icn = _bill(ctx, case, bill)
    lines = adjudicate(rng, spec, payer, "none")
    _remit(case, payer, check, payment_record(spec, payer, "1", icn, _received(bill), lines))
    bill2 = check + _days(rng, 20, 40)
    icn2 = _bill(ctx, case, bill2)
    check2 = snap(payer, bill2 + timedelta(days=payer.pay_days))
    _remit(case, payer, check2, payment_record(spec, payer, "4", icn2, _received(bill2), None,
                                               claim_adjs=[("CO", "18", spec.charge)]))  # fmt: skip
    case.atb = Atb("primary", payer.payer_id, bill2, sum(lp.paid for lp in lines))


def overpaid_payer(ctx: Ctx, case: Case, params: dict[str, Any]) -> None:
    rng, spec, payer = ctx.rng, case.spec, case.spec.payer
    bill, check = _timeline(ctx, case, rng.randint(50, 150))
    icn = _bill(ctx, case, bill)
    lines = adjudicate(rng, spec, payer, "none")
    _remit(case, payer, check, payment_record(spec, payer, "1", icn, _received(bill), lines))
    check2 = snap(payer, check + _days(rng, 14, 40))
    _remit(case, payer, check2, payment_record(spec, payer, "1", ctx.icn(check2), _received(bill), lines))
    paid_amt = sum(lp.paid for lp in lines)
    case.atb = Atb("primary", payer.payer_id, bill, 2 * paid_amt, 0, sum(lp.co for lp in lines))
    case.expected_recovery = -paid_amt


def overpaid_patient(ctx: Ctx, case: Case, params: dict[str, Any]) -> None:
    rng, spec, payer = ctx.rng, case.spec, case.spec.payer
    bill, check = _timeline(ctx, case, rng.randint(20, 150))
    icn = _bill(ctx, case, bill)
    lines = adjudicate(rng, spec, payer, "small")
    _remit(case, payer, check, payment_record(spec, payer, "1", icn, _received(bill), lines))
    extra = rng.randint(1000, 6000)
    pr = sum(lp.pr for lp in lines)
    case.atb = Atb("patient", payer.payer_id, bill, sum(lp.paid for lp in lines), pr + extra,
                   sum(lp.co for lp in lines))  # fmt: skip
    case.expected_recovery = -extra


def reversal(ctx: Ctx, case: Case, params: dict[str, Any]) -> None:
    rng, spec, payer = ctx.rng, case.spec, case.spec.payer
    bill, check = _timeline(ctx, case, rng.randint(50, 200))
    icn = _bill(ctx, case, bill)
    lines = adjudicate(rng, spec, payer, "none")
    _remit(case, payer, check, payment_record(spec, payer, "1", icn, _received(bill), lines))
    check2 = snap(payer, check + _days(rng, 14, 35))
    _remit(case, payer, check2, payment_record(spec, payer, "22", icn, _received(bill), lines, sign=-1))
    case.atb = Atb("primary", payer.payer_id, bill)
    case.expected_recovery = sum(lp.paid for lp in lines)


SHAPES: dict[str, Callable[[Ctx, Case, dict[str, Any]], None]] = {
    "paid": paid,
    "secondary_paid": secondary_paid,
    "denied_then_paid": denied_then_paid,
    "denied_closed": denied_closed,
    "denied": denied,
    "pending": pending,
    "no_response": no_response,
    "never_acknowledged": never_acknowledged,
    "rejected": rejected,
    "paid_open": paid_open,
    "secondary_unbilled": secondary_unbilled,
    "contractual_unposted": contractual_unposted,
    "bundled": bundled,
    "duplicate": duplicate,
    "overpaid_payer": overpaid_payer,
    "overpaid_patient": overpaid_patient,
    "reversal": reversal,
}
