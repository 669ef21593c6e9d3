"""The monthly numbers leaders read (DOMAIN.md, "What leaders read"), each one aggregate SQL over the
ledger, the latest ATB snapshot and the latest triage run; Python only divides and formats.

Definitions (``as_of`` = the latest ATB snapshot's date unless given; *window* = the ``window_days``
(90) days up to ``as_of``):

* **days in A/R** = open A/R on the snapshot / (charges first billed in the window / window days).
* **denial rate** = 835 claim adjudications in the window (by check date, reversals excluded) that
  denied the claim (CLP02 = 4) / all of them; also by billed dollars.
* **net collection rate** = payer payments / (billed charges - contractual adjustments (group CO) on
  the paid, not denied, adjudications) in the window. Patient payments are not in 835s and not counted.
* **first-pass acceptance rate** = claims first billed in the window whose first 277CA accepted them /
  those with any 277CA.
* **% of A/R over 90 days** = open balance with service (else last billed) date more than 90 days
  before ``as_of`` / open balance (credits excluded, as in :func:`everyclaim.reports.ar.open_ar`).
* **automation share** = claims (and dollars) the latest triage run put in the automated tiers
  (``no_opportunity``, ``simple_fix``) / all it triaged.
* **payer mix** = open A/R by payer financial class, claims and dollars with shares.
* **top root causes by month** = denied dollars per month (835 check date) and denial category (CARC
  map of :mod:`everyclaim.codes`), the top ``top`` per month, over the last ``months`` months.

A ratio whose denominator is empty is ``None`` (shown as "n/a"), never a division error.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from everyclaim.codes import load_code_sets
from everyclaim.ledger import schema as t
from everyclaim.reports.ar import cents, latest_snapshot
from everyclaim.triage import engine as triage

AUTOMATED_TIERS = ("no_opportunity", "simple_fix")


class month_of(FunctionElement[str]):  # noqa: N801 - reads like the SQL it is
    """``YYYY-MM`` of a date column."""

    type = sa.String()
    inherit_cache = True


@compiles(month_of)
def _month_pg(element: month_of, compiler: Any, **kw: Any) -> str:
    return f"to_char({compiler.process(element.clauses, **kw)}, 'YYYY-MM')"


@compiles(month_of, "sqlite")
def _month_sqlite(element: month_of, compiler: Any, **kw: Any) -> str:
    return f"strftime('%Y-%m', {compiler.process(element.clauses, **kw)})"


def ratio(num: int | Decimal | None, den: int | Decimal | None, places: str = "0.0001") -> Decimal | None:
    if not den:
        return None
    return (Decimal(num or 0) / Decimal(den)).quantize(Decimal(places), ROUND_HALF_UP)


@dataclass
class Kpis:
    as_of: date
    window_days: int
    open_ar: Decimal = Decimal("0.00")
    days_in_ar: Decimal | None = None
    denial_rate: Decimal | None = None
    denial_rate_dollars: Decimal | None = None
    net_collection_rate: Decimal | None = None
    first_pass_acceptance_rate: Decimal | None = None
    pct_ar_over_90: Decimal | None = None
    automation_share: Decimal | None = None
    automation_share_dollars: Decimal | None = None
    counts: dict[str, int] = field(default_factory=dict)  # the denominators behind the ratios
    payer_mix: list[dict[str, Any]] = field(default_factory=list)
    root_causes_by_month: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    RATIOS = ("days_in_ar", "denial_rate", "denial_rate_dollars", "net_collection_rate", "first_pass_acceptance_rate",
              "pct_ar_over_90", "automation_share", "automation_share_dollars")  # fmt: skip

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"as_of": self.as_of.isoformat(), "window_days": self.window_days,
                               "open_ar": str(self.open_ar)}  # fmt: skip
        out |= {k: (None if getattr(self, k) is None else str(getattr(self, k))) for k in self.RATIOS}
        return out | {"counts": self.counts, "payer_mix": self.payer_mix, "root_causes_by_month": self.root_causes_by_month}


def kpis(conn: sa.Connection, as_of: date | None = None, *, window_days: int = 90, months: int = 12,
         top: int = 5) -> Kpis | None:
    """Every KPI on ``as_of`` (``None`` when there is no ATB snapshot and no date was given)."""
    snap = latest_snapshot(conn)
    if as_of is None:
        if snap is None:
            return None
        as_of = snap[1]
    k = Kpis(as_of=as_of, window_days=window_days)
    start = as_of - timedelta(days=window_days)
    _ar(conn, k, snap[0] if snap else None, start)
    _adjudications(conn, k, start)
    _first_pass(conn, k, start)
    _automation(conn, k)
    k.root_causes_by_month = root_causes_by_month(conn, as_of, months=months, top=top)
    return k


def _ar(conn: sa.Connection, k: Kpis, snapshot_id: int | None, start: date) -> None:
    if snapshot_id is None:
        return
    r, p, c = t.atb_rows, t.payer_profiles, t.claims
    open_rows = (r.c.snapshot_id == snapshot_id) & (r.c.balance_cents > 0)
    age_from = sa.func.coalesce(r.c.service_date, r.c.last_billed_date)
    over = sa.func.sum(sa.case((age_from < k.as_of - timedelta(days=90), r.c.balance_cents), else_=0))
    total, old, n = conn.execute(sa.select(sa.func.sum(r.c.balance_cents), over, sa.func.count()).where(open_rows)).one()
    billed = conn.execute(sa.select(sa.func.sum(c.c.charge_cents))
                          .where(c.c.first_billed_date > start, c.c.first_billed_date <= k.as_of)).scalar()  # fmt: skip
    k.open_ar = cents(total)
    k.pct_ar_over_90 = ratio(old, total)
    daily = Decimal(billed or 0) / k.window_days
    k.days_in_ar = ratio(total, daily, "0.1") if billed else None
    k.counts |= {"open_claims": int(n), "billed_in_window_cents": int(billed or 0)}
    fclass = sa.func.coalesce(p.c.financial_class, "unknown").label("financial_class")
    rows = conn.execute(sa.select(fclass, sa.func.count().label("n"), sa.func.sum(r.c.balance_cents).label("cents"))
                        .select_from(r.outerjoin(p, p.c.payer_id == r.c.payer_id)).where(open_rows)
                        .group_by(fclass).order_by(sa.func.sum(r.c.balance_cents).desc())).all()  # fmt: skip
    k.payer_mix = [{"financial_class": x.financial_class or "unknown", "claims": int(x.n), "dollars": str(cents(x.cents)),
                    "share": str(ratio(x.cents, total))} for x in rows]  # fmt: skip


def _adjudications(conn: sa.Connection, k: Kpis, start: date) -> None:
    cp, rm, a = t.claim_payments, t.remittances, t.adjustments
    in_window = (rm.c.payment_date > start) & (rm.c.payment_date <= k.as_of) & cp.c.is_reversal.is_(False)
    contractual = (sa.select(a.c.claim_payment_id, sa.func.sum(a.c.amount_cents).label("co"))
                   .where(a.c.group_code == "CO").group_by(a.c.claim_payment_id).subquery())  # fmt: skip
    denied = cp.c.denied.is_(True)
    row = conn.execute(
        sa.select(sa.func.count(), sa.func.sum(sa.case((denied, 1), else_=0)), sa.func.sum(cp.c.charge_cents),
                  sa.func.sum(sa.case((denied, cp.c.charge_cents), else_=0)),
                  sa.func.sum(sa.case((denied, 0), else_=cp.c.paid_cents)),
                  sa.func.sum(sa.case((denied, 0), else_=cp.c.charge_cents)),
                  sa.func.sum(sa.case((denied, 0), else_=sa.func.coalesce(contractual.c.co, 0))))
        .select_from(cp.join(rm, rm.c.id == cp.c.remittance_id).outerjoin(contractual, contractual.c.claim_payment_id == cp.c.id))
        .where(in_window)
    ).one()  # fmt: skip
    n, n_denied, charged, denied_charge, paid, paid_charge, co = (int(v or 0) for v in row)
    k.denial_rate, k.denial_rate_dollars = ratio(n_denied, n), ratio(denied_charge, charged)
    k.net_collection_rate = ratio(paid, paid_charge - co)
    k.counts |= {"adjudications": n, "denied": n_denied}


def _first_pass(conn: sa.Connection, k: Kpis, start: date) -> None:
    ack, c = t.claim_acks, t.claims
    rn = sa.func.row_number().over(partition_by=ack.c.claim_id, order_by=(ack.c.status_date, ack.c.id))
    first = (sa.select(ack.c.claim_id, ack.c.accepted, rn.label("rn")).join(c, c.c.id == ack.c.claim_id)
             .where(c.c.first_billed_date > start, c.c.first_billed_date <= k.as_of).subquery())  # fmt: skip
    n, ok = conn.execute(sa.select(sa.func.count(), sa.func.sum(sa.case((first.c.accepted.is_(True), 1), else_=0)))
                         .where(first.c.rn == 1)).one()  # fmt: skip
    k.first_pass_acceptance_rate = ratio(ok, n)
    k.counts["acknowledged_claims"] = int(n or 0)


def _automation(conn: sa.Connection, k: Kpis) -> None:
    run = triage.latest_run(conn)
    if run is None:
        return
    r = triage.results.c
    auto = r.tier.in_(AUTOMATED_TIERS)
    n, n_auto, cents_all, cents_auto = conn.execute(sa.select(
        sa.func.count(), sa.func.sum(sa.case((auto, 1), else_=0)), sa.func.sum(sa.func.abs(r.balance_cents)),
        sa.func.sum(sa.case((auto, sa.func.abs(r.balance_cents)), else_=0))).where(r.run_id == run)).one()  # fmt: skip
    k.automation_share, k.automation_share_dollars = ratio(n_auto, n), ratio(cents_auto, cents_all)
    k.counts["triaged"] = int(n or 0)


def root_causes_by_month(conn: sa.Connection, as_of: date, *, months: int = 12, top: int = 5) -> dict[str, list[dict[str, Any]]]:
    """Denied dollars per month and denial category, the ``top`` categories of each month."""
    cp, rm, a = t.claim_payments, t.remittances, t.adjustments
    first_month = date(as_of.year, as_of.month, 1)
    for _ in range(months - 1):
        first_month = (first_month - timedelta(days=1)).replace(day=1)
    month = month_of(rm.c.payment_date).label("month")
    rows = conn.execute(
        sa.select(month, a.c.group_code, a.c.carc, sa.func.count(sa.distinct(cp.c.id)).label("n"),
                  sa.func.sum(a.c.amount_cents).label("cents"))
        .select_from(a.join(cp, cp.c.id == a.c.claim_payment_id).join(rm, rm.c.id == cp.c.remittance_id))
        .where(rm.c.payment_date >= first_month, rm.c.payment_date <= as_of, cp.c.is_reversal.is_(False))
        .group_by(month, a.c.group_code, a.c.carc)
    ).all()  # fmt: skip
    codes = load_code_sets()
    acc: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for row in rows:
        if codes.is_denial(row.group_code, row.carc):
            cell = acc[row.month][codes.denial_category(row.group_code, row.carc)]
            cell[0] += int(row.n)
            cell[1] += int(row.cents or 0)
    return {m: [{"root_cause": cat, "claims": v[0], "dollars": str(cents(v[1]))}
                for cat, v in sorted(cats.items(), key=lambda kv: (-kv[1][1], kv[0]))[:top]]
            for m, cats in sorted(acc.items())}  # fmt: skip
