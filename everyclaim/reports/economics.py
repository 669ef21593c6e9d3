"""The economics of follow-up (DOMAIN.md, "The economics"), computed on the user's own A/R.

* :func:`threshold` — the balance below which working a claim loses money:
  ``labour rate / 60 x minutes per touch x touches / success rate + overhead`` ($40.33 for the field's
  worked example: $30/h, 10 min, 4 touches, 60%, $7), and how many open claims and dollars sit below
  and above it on the latest ATB snapshot.
* :func:`capacity` — follow-up demand (registrations x 2 x denial rate) against effective capacity
  (FTEs x touches per day x days x resolution rate), the claims left unworked each month, and the
  *low-balance line*: the balance of the claim at rank = capacity when open A/R is sorted by balance.
  Registrations and the denial rate default to the ledger's own (claims first billed in the 30 days
  before the snapshot; the share of first 835s that denied the claim over the year before it).
* :func:`buildup` — the aging x dollar-bucket table from :mod:`everyclaim.reports.ar`.

Money is Decimal dollars (thresholds rounded to the cent) compared with the ATB's integer cents in SQL.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import sqlalchemy as sa

from everyclaim.ledger import schema as t
from everyclaim.reports import ar

CENT = Decimal("0.01")


def _d(value: float) -> Decimal:
    return Decimal(str(value))


@dataclass(frozen=True)
class Threshold:
    as_of: date | None
    labor_rate: Decimal
    minutes_per_touch: Decimal
    touches: Decimal
    success_rate: Decimal
    overhead: Decimal
    cost_per_paid_claim: Decimal  # labour of the touches / success rate
    threshold: Decimal
    below: dict[str, Any]  # claims, dollars, share of claims, share of dollars
    above: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        out = {k: str(v) if isinstance(v, Decimal) else v for k, v in asdict(self).items()}
        out["as_of"] = self.as_of.isoformat() if self.as_of else None
        return out


def break_even(labor_rate: float, minutes_per_touch: float, touches: float, success_rate: float,
               overhead: float) -> tuple[Decimal, Decimal]:  # fmt: skip
    """``(cost per paid claim, threshold)`` in dollars, rounded to the cent."""
    if not 0 < success_rate <= 1:
        raise ValueError("success rate must be in (0, 1]")
    if min(labor_rate, minutes_per_touch, touches, overhead) < 0:
        raise ValueError("labour rate, minutes, touches and overhead cannot be negative")
    labour = _d(labor_rate) / 60 * _d(minutes_per_touch) * _d(touches)
    cost = labour / _d(success_rate)
    return cost.quantize(CENT, ROUND_HALF_UP), (cost + _d(overhead)).quantize(CENT, ROUND_HALF_UP)


def threshold(conn: sa.Connection, labor_rate: float = 30, minutes_per_touch: float = 10, touches: float = 4,
              success_rate: float = 0.6, overhead: float = 7) -> Threshold:  # fmt: skip
    cost, line = break_even(labor_rate, minutes_per_touch, touches, success_rate, overhead)
    snap = ar.latest_snapshot(conn)
    below: dict[str, Any] = {"claims": 0, "dollars": "0.00", "claim_share": 0.0, "dollar_share": 0.0}
    above = dict(below)
    if snap is not None:
        r = t.atb_rows.c
        is_below = r.balance_cents < int(line * 100)
        row = conn.execute(
            sa.select(sa.func.sum(sa.case((is_below, 1), else_=0)), sa.func.sum(sa.case((is_below, r.balance_cents), else_=0)),
                      sa.func.count(), sa.func.sum(r.balance_cents))
            .where(r.snapshot_id == snap[0], r.balance_cents > 0)
        ).one()  # fmt: skip
        n_below, c_below, n, c = (int(x or 0) for x in row)
        below = _part(n_below, c_below, n, c)
        above = _part(n - n_below, c - c_below, n, c)
    return Threshold(snap[1] if snap else None, _d(labor_rate), _d(minutes_per_touch), _d(touches),
                     _d(success_rate), _d(overhead), cost, line, below, above)  # fmt: skip


def _part(claims: int, cents: int, all_claims: int, all_cents: int) -> dict[str, Any]:
    return {"claims": claims, "dollars": str(ar.cents(cents)),
            "claim_share": round(claims / all_claims, 4) if all_claims else 0.0,
            "dollar_share": round(cents / all_cents, 4) if all_cents else 0.0}  # fmt: skip


@dataclass(frozen=True)
class Capacity:
    as_of: date | None
    registrations: int
    registrations_source: str  # "given" | "ledger"
    denial_rate: float
    denial_rate_source: str
    ftes: float
    claims_per_day: float
    days: int
    resolution_rate: float
    demand: int  # claims needing follow-up per month
    touches: int
    capacity: int  # claims resolved per month
    unworked: int
    unworked_share: float
    open_claims: int
    low_balance_line: str | None  # dollars; None when capacity covers every open claim

    def as_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["as_of"] = self.as_of.isoformat() if self.as_of else None
        return out


def ledger_rates(conn: sa.Connection, as_of: date) -> tuple[int, float]:
    """(claims first billed in the 30 days before ``as_of``, share of first 835s that denied, past year)."""
    c = t.claims.c
    registrations = conn.execute(sa.select(sa.func.count()).where(
        c.first_billed_date > as_of - timedelta(days=30), c.first_billed_date <= as_of)).scalar_one()  # fmt: skip
    cp, r = t.claim_payments, t.remittances
    ranked = (
        sa.select(cp.c.status, r.c.payment_date,
                  sa.func.row_number().over(partition_by=cp.c.claim_id, order_by=(r.c.payment_date, cp.c.id)).label("rn"))
        .select_from(cp.join(r, r.c.id == cp.c.remittance_id))
        .where(cp.c.is_reversal.is_(False), cp.c.claim_id.is_not(None)).subquery("ranked")
    )  # fmt: skip
    first = sa.select(sa.func.count(), sa.func.sum(sa.case((ranked.c.status == "4", 1), else_=0))).where(
        ranked.c.rn == 1, ranked.c.payment_date > as_of - timedelta(days=365), ranked.c.payment_date <= as_of)
    n, denied = conn.execute(first).one()
    return int(registrations), (int(denied or 0) / int(n)) if n else 0.0


def capacity(conn: sa.Connection, ftes: float, claims_per_day: float = 48, days: int = 20,
             resolution_rate: float = 0.25, registrations: int | None = None,
             denial_rate: float | None = None) -> Capacity:  # fmt: skip
    if not 0 < resolution_rate <= 1 or (denial_rate is not None and not 0 <= denial_rate <= 1):
        raise ValueError("resolution and denial rates are shares in (0, 1]")
    snap = ar.latest_snapshot(conn)
    as_of = snap[1] if snap else date.today()
    own_reg, own_rate = ledger_rates(conn, as_of)
    reg = own_reg if registrations is None else registrations
    rate = own_rate if denial_rate is None else denial_rate
    demand = round(reg * 2 * rate)
    touches = round(ftes * claims_per_day * days)
    cap = int(touches * resolution_rate)
    unworked = max(0, demand - cap)
    open_claims, line = 0, None
    if snap is not None:
        r = t.atb_rows.c
        live = (r.snapshot_id == snap[0]) & (r.balance_cents > 0)
        open_claims = int(conn.execute(sa.select(sa.func.count()).where(live)).scalar_one())
        if 0 < cap <= open_claims:
            cents = conn.execute(sa.select(r.balance_cents).where(live).order_by(r.balance_cents.desc(), r.id)
                                 .offset(cap - 1).limit(1)).scalar()  # fmt: skip
            line = str(ar.cents(cents))
    return Capacity(snap[1] if snap else None, reg, "ledger" if registrations is None else "given", round(rate, 4),
                    "ledger" if denial_rate is None else "given", ftes, claims_per_day, days, resolution_rate,
                    demand, touches, cap, unworked, round(unworked / demand, 4) if demand else 0.0, open_claims,
                    line)  # fmt: skip


def buildup(conn: sa.Connection) -> ar.Buildup | None:
    return ar.buildup(conn)
