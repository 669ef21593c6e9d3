"""Feature frames for the recovery model: columnar arrays built from set-based SQL.

Two frames with the same feature columns (:data:`NUMERIC` and :data:`CATEGORICAL`):

* :func:`history_frame` — the training examples. A *resolved denial* is a claim in the ledger whose
  first 835 adjudication denied it (CLP02 = 4) and that is not open on the latest ATB snapshot on or
  before the as-of date: it was since paid (corrected claim, appeal) or closed with nothing. Each one is
  observed at the ``horizons`` (days after the denial) at which it was still unresolved; the label is
  whether money was recovered after that point, and how much. Only what was known at the observation
  point goes into the features (submissions up to then, the first denial's category and amounts), so
  the outcome cannot leak into them.
* :func:`open_frame` — the open claims of a triage run, from its ``triage_features`` rows.

Dates are fetched and subtracted in numpy (no dialect date arithmetic); the SQL does the joins.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import cache

import numpy as np
import sqlalchemy as sa

from everyclaim.codes import load_code_sets
from everyclaim.ledger import schema as t
from everyclaim.triage import engine as triage_engine
from everyclaim.triage import features as feat

NUMERIC = ("balance_cents", "days_since_denial", "days_to_appeal_deadline", "days_to_filing_deadline",
           "prior_touches", "payer_allowed_ratio")  # fmt: skip
CATEGORICAL = ("payer_id", "financial_class", "denial_category", "kind")
DEFAULT_APPEAL_DAYS = 90
DEFAULT_FILING_DAYS = 365


@dataclass
class Frame:
    """Rows x columns as numpy arrays; ``num`` float64 (NaN = missing), ``cat`` object strings."""

    num: dict[str, np.ndarray]
    cat: dict[str, np.ndarray]
    extra: dict[str, np.ndarray] = field(default_factory=dict)  # labels, ids, dates: not features

    def __len__(self) -> int:
        return len(next(iter(self.num.values()))) if self.num else 0

    def take(self, idx: np.ndarray) -> Frame:
        return Frame({k: v[idx] for k, v in self.num.items()}, {k: v[idx] for k, v in self.cat.items()},
                     {k: v[idx] for k, v in self.extra.items()})  # fmt: skip


def _days(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a - b`` in days as float (NaN where either is missing)."""
    return (a.astype("datetime64[D]") - b.astype("datetime64[D]")).astype("float64")


def _dates(values: list[date | None]) -> np.ndarray:
    return np.array([np.datetime64(v, "D") if v is not None else np.datetime64("NaT") for v in values],
                    dtype="datetime64[D]")


def payer_ratio_select() -> sa.Select:  # type: ignore[type-arg]
    """The payer's allowed/charge ratio over its paid claims (the same measure as triage's feature)."""
    cp = t.claim_payments.c
    paid = cp.status.in_(feat.PAID_STATUSES[:1]) & cp.is_reversal.is_(False) & (cp.charge_cents > 0)
    ratio = (sa.cast(sa.func.sum(cp.paid_cents + cp.patient_resp_cents), sa.Float)
             / sa.func.nullif(sa.func.sum(cp.charge_cents), 0))  # fmt: skip
    return sa.select(cp.payer_id, ratio.label("ratio")).where(paid).group_by(cp.payer_id)


@cache
def _category(group: str, carc: str, rarcs: tuple[str, ...]) -> str:
    return load_code_sets().denial_category(group, carc, rarcs)


def _open_claim_ids(as_of: date) -> sa.Select:  # type: ignore[type-arg]
    s, a = t.atb_snapshots.c, t.atb_rows.c
    latest = sa.select(s.id).where(s.as_of <= as_of).order_by(s.as_of.desc(), s.id.desc()).limit(1).scalar_subquery()
    return sa.select(a.claim_id).where(a.snapshot_id == latest, a.balance_cents != 0, a.claim_id.is_not(None))


def _first_denials(as_of: date) -> sa.CTE:
    """Per claim its first live adjudication, kept when it was a denial and the claim is not open."""
    cp, r = t.claim_payments, t.remittances
    ranked = (
        sa.select(cp.c.id, cp.c.claim_id, cp.c.status, cp.c.paid_cents, cp.c.patient_resp_cents,
                  r.c.payment_date,
                  sa.func.row_number().over(partition_by=cp.c.claim_id,
                                            order_by=(r.c.payment_date, cp.c.id)).label("rn"))
        .select_from(cp.join(r, r.c.id == cp.c.remittance_id))
        .where(cp.c.is_reversal.is_(False), cp.c.claim_id.is_not(None), r.c.payment_date < as_of)
        .subquery("ranked")
    )  # fmt: skip
    return (sa.select(ranked).where(ranked.c.rn == 1, ranked.c.status == "4",
                                    ranked.c.claim_id.not_in(_open_claim_ids(as_of))).cte("first_denial"))  # fmt: skip


def history_frame(conn: sa.Connection, as_of: date, horizons: list[int]) -> Frame:
    """Resolved denials observed at each horizon while still unresolved (see the module docstring)."""
    fd = _first_denials(as_of)
    c, pp, cp, r, sub = t.claims, t.payer_profiles, t.claim_payments, t.remittances, t.submissions
    later = (
        sa.select(cp.c.claim_id, sa.func.sum(cp.c.paid_cents).label("recovered"),
                  sa.func.min(sa.case((cp.c.paid_cents > 0, r.c.payment_date))).label("resolved"))
        .select_from(cp.join(r, r.c.id == cp.c.remittance_id).join(fd, fd.c.claim_id == cp.c.claim_id))
        .where(cp.c.id != fd.c.id, r.c.payment_date >= fd.c.payment_date, r.c.payment_date < as_of)
        .group_by(cp.c.claim_id).subquery("later")
    )  # fmt: skip
    subs = (
        sa.select(sub.c.claim_id,
                  sa.func.sum(sa.case((sub.c.submitted_date <= fd.c.payment_date, 1), else_=0)).label("before"),
                  sa.func.min(sa.case((sub.c.submitted_date > fd.c.payment_date, sub.c.submitted_date))).label("rebill"))
        .select_from(sub.join(fd, fd.c.claim_id == sub.c.claim_id)).group_by(sub.c.claim_id).subquery("subs")
    )  # fmt: skip
    ratio = payer_ratio_select().subquery("ratio")
    stmt = (
        sa.select(fd.c.id.label("payment_id"), c.c.id, c.c.payer_id, c.c.kind, c.c.charge_cents, c.c.service_from,
                  fd.c.paid_cents, fd.c.patient_resp_cents, fd.c.payment_date, pp.c.financial_class,
                  pp.c.timely_filing_days, pp.c.appeal_days, ratio.c.ratio, later.c.recovered, later.c.resolved,
                  subs.c.before, subs.c.rebill)
        .select_from(fd.join(c, c.c.id == fd.c.claim_id).outerjoin(pp, pp.c.payer_id == c.c.payer_id)
                     .outerjoin(ratio, ratio.c.payer_id == c.c.payer_id)
                     .outerjoin(later, later.c.claim_id == c.c.id).outerjoin(subs, subs.c.claim_id == c.c.id))
        .order_by(fd.c.payment_date, c.c.id)
    )  # fmt: skip
    rows = conn.execute(stmt).all()
    categories = _denial_categories(conn, fd)
    return _expand(rows, categories, as_of, horizons)


def _denial_categories(conn: sa.Connection, fd: sa.CTE) -> dict[int, str]:
    """The denial category with the most dollars on each first denial (the code sets' precedence)."""
    a, rk = t.adjustments, t.remarks
    adj = conn.execute(sa.select(a.c.claim_payment_id, a.c.group_code, a.c.carc, a.c.amount_cents)
                       .join(fd, fd.c.id == a.c.claim_payment_id)).all()  # fmt: skip
    rarcs: dict[int, list[str]] = {}
    for pid, code in conn.execute(sa.select(rk.c.claim_payment_id, rk.c.code).join(fd, fd.c.id == rk.c.claim_payment_id)):
        rarcs.setdefault(pid, []).append(code)
    kinds = load_code_sets().category_defs
    dollars: dict[int, dict[str, int]] = {}
    for pid, group, carc, cents in adj:
        cat = _category(group, carc, tuple(rarcs.get(pid, ())))
        if kinds[cat].kind == "denial":
            per = dollars.setdefault(pid, {})
            per[cat] = per.get(cat, 0) + int(cents)
    return {pid: max(sorted(per), key=lambda k: per[k]) for pid, per in dollars.items()}


def _expand(rows: list[sa.Row], categories: dict[int, str], as_of: date, horizons: list[int]) -> Frame:  # type: ignore[type-arg]
    n = len(rows)
    denial = _dates([row.payment_date for row in rows])
    service = _dates([row.service_from for row in rows])
    resolved = _dates([row.resolved for row in rows])
    rebill = _dates([row.rebill for row in rows])
    today = np.datetime64(as_of, "D")
    base_num = {
        "balance_cents": np.array([row.charge_cents - row.paid_cents - row.patient_resp_cents for row in rows], "f8"),
        "appeal_days": np.array([row.appeal_days or DEFAULT_APPEAL_DAYS for row in rows], "f8"),
        "filing_days": np.array([row.timely_filing_days or DEFAULT_FILING_DAYS for row in rows], "f8"),
        "payer_allowed_ratio": np.array([np.nan if row.ratio is None else row.ratio for row in rows], "f8"),
        "before": np.array([max(1, row.before or 1) for row in rows], "f8"),
        "recovered": np.array([max(0, row.recovered or 0) for row in rows], "i8"),
    }
    base_cat = {
        "payer_id": np.array([row.payer_id or "" for row in rows], object),
        "financial_class": np.array([row.financial_class or "" for row in rows], object),
        "denial_category": np.array([categories.get(row.payment_id, "other") for row in rows], object),
        "kind": np.array([row.kind or "" for row in rows], object),
    }
    claim_ids = np.array([row.id for row in rows], "i8")
    parts = []
    for d in horizons:
        at = denial + np.timedelta64(d, "D")
        still_open = (at < today) & (np.isnat(resolved) | (resolved > at))
        parts.append((d, np.flatnonzero(still_open), at))
    idx = np.concatenate([p[1] for p in parts]) if n else np.zeros(0, "i8")
    d_arr = np.concatenate([np.full(len(p[1]), p[0], "f8") for p in parts]) if n else np.zeros(0)
    at_arr = np.concatenate([p[2][p[1]] for p in parts]) if n else np.zeros(0, "datetime64[D]")
    rebilled = (~np.isnat(rebill[idx])) & (rebill[idx] <= at_arr)
    num = {
        "balance_cents": base_num["balance_cents"][idx],
        "days_since_denial": d_arr,
        "days_to_appeal_deadline": base_num["appeal_days"][idx] - d_arr,
        "days_to_filing_deadline": base_num["filing_days"][idx] - _days(at_arr, service[idx]),
        "prior_touches": base_num["before"][idx] - 1 + rebilled,
        "payer_allowed_ratio": base_num["payer_allowed_ratio"][idx],
    }
    recovered = base_num["recovered"][idx]
    extra = {"claim_id": claim_ids[idx], "order": idx.astype("i8"), "denial_date": denial[idx],
             "y": (recovered > 0).astype("i8"), "recovered_cents": recovered}  # fmt: skip
    return Frame(num, {k: v[idx] for k, v in base_cat.items()}, extra)


def open_frame(conn: sa.Connection, run_id: int) -> Frame:
    """Every claim of triage run ``run_id`` with its features, tier, action and triage expectation."""
    f, res, c = feat.triage_features, triage_engine.results, t.claims
    stmt = (
        sa.select(res.c.atb_row_id, res.c.pcn, res.c.tier, res.c.action, res.c.expected_recovery_cents,
                  f.c.balance_cents, f.c.days_since_denial, f.c.days_to_appeal_deadline, f.c.days_to_filing_deadline,
                  f.c.submission_count, f.c.payer_allowed_ratio, f.c.payer_id, f.c.financial_class,
                  f.c.denial_category, c.c.kind, f.c.days_since_service)
        .select_from(res.join(f, f.c.atb_row_id == res.c.atb_row_id).outerjoin(c, c.c.id == res.c.claim_id))
        .where(res.c.run_id == run_id).order_by(res.c.atb_row_id)
    )  # fmt: skip
    rows = conn.execute(stmt).all()

    def num(name: str, default: float = np.nan) -> np.ndarray:
        return np.array([default if getattr(row, name) is None else getattr(row, name) for row in rows], "f8")

    nums = {k: num(k) for k in ("balance_cents", "days_since_denial", "days_to_appeal_deadline",
                                "days_to_filing_deadline", "payer_allowed_ratio")}  # fmt: skip
    nums["prior_touches"] = num("submission_count", 1.0) - 1
    cats = {k: np.array([getattr(row, k) or "" for row in rows], object) for k in CATEGORICAL}
    extra = {
        "atb_row_id": np.array([row.atb_row_id for row in rows], "i8"),
        "pcn": np.array([row.pcn for row in rows], object),
        "tier": np.array([row.tier for row in rows], object),
        "action": np.array([row.action for row in rows], object),
        "triage_expected_cents": np.array([row.expected_recovery_cents for row in rows], "i8"),
        "days_since_service": num("days_since_service", 0.0),
    }
    return Frame(nums, cats, extra)
