"""Resolved denial history: past claims whose first 835 denied money and that have since been resolved.

They are what a recovery model learns from (``everyclaim synth --history N``): each was denied between
``denial_age`` days ago, then worked (or not), and either paid (after a corrected claim or on appeal) or
closed with nothing; none is on the ATB any more. The outcome is drawn from ``data/history.yaml``:
the chance that a touch recovers money depends on the denial category, the payer and how long the
claim waited before it was worked. Only what a billing office's files would show is written (the
denial 835, a replacement 837 when the fix is a corrected claim, the paying or denying 835); the
truth behind each claim (its category, whether it was recovered and how much) goes to ``truth.csv``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from importlib import resources
from pathlib import Path

import yaml

from everyclaim.synth.catalog import Payer, Scenario
from everyclaim.synth.claims import Spec, adjudicate, payment_record
from everyclaim.synth.story import DAY, Case, Ctx, _bill, _deny, _remit, _set_service, snap


@dataclass(frozen=True, slots=True)
class HistoryCategory:
    name: str
    share: float
    group: str
    carc: str
    moa: tuple[str, ...]
    p: float  # chance that a touch on the denial day recovers money
    half_life: float  # days of delay that halve it
    via: str  # corrected | appeal


@dataclass(frozen=True, slots=True)
class HistorySettings:
    denial_age: tuple[int, int]
    never_worked: float
    mean_days: float
    max_days: int
    resolution_days: tuple[int, int]
    categories: tuple[HistoryCategory, ...]
    financial_class: dict[str, float]
    payer_category: dict[str, dict[str, float]]

    def chance(self, category: HistoryCategory, payer: Payer, worked_after: int) -> float:
        """P(recovery) when ``category``'s denial from ``payer`` is worked ``worked_after`` days after it."""
        mult = self.financial_class.get(payer.financial_class, 1.0)
        mult *= self.payer_category.get(payer.payer_id, {}).get(category.name, 1.0)
        return min(0.98, category.p * mult * 0.5 ** (worked_after / category.half_life))


def load_history_settings(path: Path | None = None) -> HistorySettings:
    """``data/history.yaml`` (or ``path``), validated."""
    if path is None:
        text = resources.files("everyclaim.synth").joinpath("data/history.yaml").read_text(encoding="utf-8")
    else:
        text = Path(path).read_text(encoding="utf-8")
    doc = yaml.safe_load(text)
    cats = tuple(
        HistoryCategory(name, float(c["share"]), c.get("group", "CO"), str(c["carc"]), tuple(c.get("moa", ())),
                        float(c["p"]), float(c["half_life"]), c.get("via", "appeal"))
        for name, c in doc["categories"].items()
    )  # fmt: skip
    for c in cats:
        if c.via not in ("corrected", "appeal") or not 0 <= c.p <= 1 or c.half_life <= 0:
            raise ValueError(f"history category {c.name}: via must be corrected|appeal, 0 <= p <= 1, half_life > 0")
    lo, hi = doc["denial_age"]
    worked = doc["worked"]
    if lo < worked["max_days"] + doc["resolution_days"][1] + 60:
        raise ValueError("denial_age must leave room for the work and the answer before as-of")
    return HistorySettings(
        (int(lo), int(hi)), float(worked["never"]), float(worked["mean_days"]), int(worked["max_days"]),
        tuple(doc["resolution_days"]), cats, {k: float(v) for k, v in doc["financial_class"].items()},
        {p: {k: float(v) for k, v in m.items()} for p, m in (doc.get("payer_category") or {}).items()},
    )  # fmt: skip


def _scenario(category: str, recovered: bool) -> Scenario:
    outcome = "recovered" if recovered else "closed"
    return Scenario(f"history_{outcome}", 0.0, "history", False, "no_opportunity", "", category, False, True,
                    "History: first 835 denied; " + ("paid later (corrected claim or appeal)." if recovered
                                                     else "closed with nothing."))  # fmt: skip


def _batch_day(d: date) -> date:
    """The office's weekly batch day (Monday) on or before ``d``: past claims were billed in weekly runs."""
    return d - timedelta(days=d.weekday())


def history_case(ctx: Ctx, hs: HistorySettings, spec_for: Callable[[Scenario], Spec]) -> Case:
    """One resolved denial: the denying 835, the follow-up (if any) and its answer, all before as-of."""
    rng = ctx.rng
    cat = rng.choices(hs.categories, weights=[c.share for c in hs.categories])[0]
    case = Case(spec_for(_scenario(cat.name, False)), _scenario(cat.name, False))
    spec, payer = case.spec, case.spec.payer
    check = snap(payer, ctx.as_of - timedelta(days=rng.randint(*hs.denial_age)))
    bill = _batch_day(check - timedelta(days=rng.randint(payer.pay_days - 4, payer.pay_days + 10)))
    _set_service(spec, bill - timedelta(days=rng.randint(1, 7)))
    icn = _bill(ctx, case, bill)
    params = {"group": cat.group, "carc": cat.carc, "moa": cat.moa}
    _deny(case, payer, check, icn, bill, params, rng)
    if rng.random() < hs.never_worked:
        return case
    worked = min(hs.max_days, int(rng.expovariate(1 / hs.mean_days)))
    recovered = rng.random() < hs.chance(cat, payer, worked)
    touch = _batch_day(check + timedelta(days=max(1, worked)))
    touch += timedelta(days=7) if touch <= check else timedelta(0)
    wait = timedelta(days=rng.randint(*hs.resolution_days))
    if cat.via == "corrected":
        icn2, billed, freq = _bill(ctx, case, touch, frequency="7", payer_claim_control=icn), touch, "7"
        answer = snap(payer, touch + timedelta(days=payer.pay_days) + wait)
    else:
        icn2, billed, freq = icn, bill, "1"
        answer = snap(payer, touch + wait)
    answer = max(answer, touch + 2 * DAY)
    if recovered:
        lines = adjudicate(rng, spec, payer)
        _remit(case, payer, answer, payment_record(spec, payer, "1", icn2, billed + DAY, lines, frequency=freq))
        case.expected_recovery = sum(lp.paid for lp in lines)
        case.scenario = _scenario(cat.name, case.expected_recovery > 0)  # a deductible can take it all
    elif cat.via == "corrected":  # the corrected claim is denied again
        _deny(case, payer, answer, icn2, billed, params, rng)
    return case
