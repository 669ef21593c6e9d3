"""A/R views a PFS director reads first, computed set-based in SQL from the latest ATB snapshot.

* :func:`open_ar` — open claims and dollars, by responsibility and payer financial class.
* :func:`buildup` — the aging x dollar-bucket table (DOMAIN.md, "A/R build-up"): the share of claims per
  dollar bucket within each aging bucket. If work were even the shares would be stable across aging; a
  low-balance share that rises with age shows unworked low balances.
* :func:`denial_categories` — denied dollars and claims by internal denial category.

Dates are compared against boundaries computed once in Python, so the same SQL runs on SQLite and
PostgreSQL (no dialect date arithmetic).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa

from everyclaim.codes import load_code_sets
from everyclaim.ledger import schema as t
from everyclaim.ledger.balances import from_cents

AGING = (("0-30", 0, 30), ("31-60", 31, 60), ("61-180", 61, 180), ("181-365", 181, 365), (">365", 366, None))
DOLLARS = ((">$10k", 1_000_000, None), ("$5-10k", 500_000, 1_000_000), ("$2.5-5k", 250_000, 500_000),
           ("<$2.5k", None, 250_000))


def cents(value: int | None) -> Decimal:
    """Dollars of a SUM of cents; an empty SUM (NULL) is 0.00."""
    return from_cents(value or 0) or Decimal("0.00")


def latest_snapshot(conn: sa.Connection) -> tuple[int, date] | None:
    row = conn.execute(
        sa.select(t.atb_snapshots.c.id, t.atb_snapshots.c.as_of)
        .order_by(t.atb_snapshots.c.as_of.desc(), t.atb_snapshots.c.id.desc()).limit(1)
    ).first()
    return (row.id, row.as_of) if row else None


def _aging_case(column: sa.ColumnElement, as_of: date) -> sa.Case:
    whens = []
    for label, _lo, hi in AGING:
        if hi is not None:
            whens.append((column >= as_of - timedelta(days=hi), label))
    return sa.case(*whens, else_=AGING[-1][0])


def _dollar_case(column: sa.ColumnElement) -> sa.Case:
    whens = [(column >= lo, label) for label, lo, _hi in DOLLARS if lo is not None]
    return sa.case(*whens, else_=DOLLARS[-1][0])


@dataclass(frozen=True)
class Buildup:
    as_of: date
    cells: dict[tuple[str, str], tuple[int, Decimal]]  # (aging, dollar bucket) -> (claims, dollars)
    rising_low_balance: bool

    def share(self, aging: str, bucket: str) -> float:
        total = sum(self.cells.get((aging, b), (0, 0))[0] for b, _, _ in DOLLARS)
        return self.cells.get((aging, bucket), (0, 0))[0] / total if total else 0.0

    def as_json(self) -> dict[str, object]:
        return {
            "as_of": self.as_of.isoformat(),
            "rising_low_balance_share": self.rising_low_balance,
            "rows": [
                {"aging": a, **{b: {"claims": self.cells.get((a, b), (0, 0))[0],
                                    "dollars": str(self.cells.get((a, b), (0, Decimal(0)))[1]),
                                    "share": round(self.share(a, b), 4)} for b, _, _ in DOLLARS}}
                for a, _, _ in AGING
            ],
        }


def buildup(conn: sa.Connection) -> Buildup | None:
    snap = latest_snapshot(conn)
    if snap is None:
        return None
    snapshot_id, as_of = snap
    r = t.atb_rows
    age_from = sa.func.coalesce(r.c.service_date, r.c.last_billed_date)
    aging, bucket = _aging_case(age_from, as_of).label("aging"), _dollar_case(r.c.balance_cents).label("bucket")
    rows = conn.execute(
        sa.select(aging, bucket, sa.func.count().label("n"), sa.func.sum(r.c.balance_cents).label("cents"))
        .where(r.c.snapshot_id == snapshot_id, r.c.balance_cents > 0)
        .group_by(aging, bucket)
    ).all()
    cells = {(row.aging, row.bucket): (int(row.n), cents(row.cents)) for row in rows}
    result = Buildup(as_of, cells, False)
    low = [result.share(a, DOLLARS[-1][0]) for a, _, _ in AGING if any(k[0] == a for k in cells)]
    rising = len(low) >= 3 and low[-1] - low[0] >= 0.05 and sum(b >= a for a, b in zip(low, low[1:], strict=False)) >= len(low) - 2
    return Buildup(as_of, cells, rising)


def open_ar(conn: sa.Connection) -> dict[str, object] | None:
    """Open A/R (balance > 0) and credit balances (balance < 0) on the latest ATB snapshot."""
    snap = latest_snapshot(conn)
    if snap is None:
        return None
    snapshot_id, as_of = snap
    r, p = t.atb_rows, t.payer_profiles
    base = sa.select(r.c.responsibility, sa.func.coalesce(p.c.financial_class, "unknown").label("fclass"),
                     sa.func.count().label("n"), sa.func.sum(r.c.balance_cents).label("cents")) \
        .select_from(r.outerjoin(p, p.c.payer_id == r.c.payer_id)) \
        .where(r.c.snapshot_id == snapshot_id, r.c.balance_cents > 0) \
        .group_by(r.c.responsibility, sa.text("fclass"))
    rows = conn.execute(base).all()
    credit = conn.execute(sa.select(sa.func.count(), sa.func.sum(r.c.balance_cents))
                          .where(r.c.snapshot_id == snapshot_id, r.c.balance_cents < 0)).one()
    return {
        "as_of": as_of.isoformat(),
        "claims": sum(int(x.n) for x in rows),
        "dollars": str(cents(sum(int(x.cents or 0) for x in rows))),
        "by": [{"responsibility": x.responsibility, "financial_class": x.fclass, "claims": int(x.n),
                "dollars": str(cents(x.cents))} for x in rows],
        "credit_balances": {"claims": int(credit[0] or 0), "dollars": str(cents(credit[1]))},
    }


def denial_categories(conn: sa.Connection) -> list[dict[str, object]]:
    """Denied dollars by category: aggregated per (group, CARC) in SQL, then mapped via the code sets."""
    a = t.adjustments
    rows = conn.execute(
        sa.select(a.c.group_code, a.c.carc, sa.func.count(sa.distinct(a.c.claim_payment_id)).label("claims"),
                  sa.func.sum(a.c.amount_cents).label("cents"))
        .group_by(a.c.group_code, a.c.carc)
    ).all()
    codes = load_code_sets()
    out: dict[str, list[int]] = {}
    for row in rows:
        if not codes.is_denial(row.group_code, row.carc):
            continue
        cat = codes.denial_category(row.group_code, row.carc)
        acc = out.setdefault(cat, [0, 0])
        acc[0] += int(row.claims)
        acc[1] += int(row.cents or 0)
    ranked = sorted(out.items(), key=lambda kv: -kv[1][1])
    return [{"category": k, "claims": v[0], "dollars": str(cents(v[1]))} for k, v in ranked]
