"""Money and the accounting model: what a claim's balance is.

Money
-----
Amounts are stored as integer cents (``*_cents`` columns). :func:`to_cents` refuses sub-cent amounts
and floats; :func:`from_cents` gives a :class:`~decimal.Decimal` with two places.

The accounting model (one claim = one account)
----------------------------------------------
A claim is opened by its charge and closed by what the payer and patient settle::

    charge            = claims.charge_cents                     (latest submission's CLM02)
    insurance_paid    = SUM(claim_payments.paid_cents)          (CLP04; reversals CLP02=22 are negative)
    adjustments       = SUM(adjustments.amount_cents) for group_code != 'PR' of payments that are
                        not denials (CO contractual, OA, PI, CR; claim- and line-level CAS; reversals
                        negative)
    denied            = SUM(adjustments.amount_cents) for group_code != 'PR' of denials
                        (claim_payments.denied: CLP02 = 4, or the reversal of one) -- recorded, NOT
                        written off: a denied claim stays open A/R, owed by the payer, until it is
                        paid on appeal or correction, or written off
    patient_resp      = SUM(adjustments.amount_cents) for group_code  = 'PR'
                        (deductible, coinsurance, copay: moved to the patient, NOT written off)
    patient_paid      = 0 (no patient payment source is posted yet; the column is reserved)
    balance           = charge - insurance_paid - patient_paid - adjustments

so the invariant ``charge = insurance_paid + patient_paid + adjustments + balance`` holds for every
claim by construction, and the posting checks that each 835 claim balances by itself
(``CLP03 - CLP04 = SUM(CAS)``; otherwise a ``835-CLAIM-UNBALANCED`` finding). After a clean payment the
balance equals the patient responsibility: the insurance part is settled and the rest is owed by the
patient. A negative balance is a credit balance (overpayment, duplicate payment, posting error).

``responsibility`` says who owes the balance now:

* ``none``    balance = 0 (closed);
* ``credit``  balance < 0 (refund due);
* ``payer``   no remittance yet, or the balance exceeds the patient responsibility;
* ``patient`` 0 < balance <= patient responsibility.

Why denials do not write off: a payer that denies (CLP02 = 4, CO-16/50/197 ...) and later pays the
corrected or appealed claim often sends no reversal of the denial; writing the denial off would turn
every such claim into a false credit balance, and hide open denials from follow-up. The payer's CAS
on a denial is kept in ``adjustments`` (for denial analysis) and reported as ``denied``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from everyclaim.ledger.schema import adjustments, claim_payments, claims

CENT = Decimal("0.01")
_HUNDRED = Decimal(100)


def to_cents(amount: Decimal | int | str | None) -> int | None:
    """Exact cents of a Decimal amount; ``None`` stays ``None``. Floats and sub-cent amounts raise."""
    if amount is None:
        return None
    if type(amount) is not Decimal:
        if isinstance(amount, float):
            raise TypeError("money must be Decimal, not float")
        amount = Decimal(amount)
    scaled = amount * _HUNDRED
    cents = int(scaled)
    if cents != scaled:
        raise ValueError(f"amount {amount} has fractions of a cent")
    return cents


def from_cents(cents: int | Decimal | None) -> Decimal | None:
    """Decimal dollars (two places) of a cents value; ``None`` stays ``None``."""
    if cents is None:
        return None
    return (Decimal(int(cents)) / 100).quantize(CENT)


class MoneyType(sa.types.TypeDecorator[Decimal]):
    """Reads a cents expression (a column or a SUM) back as Decimal dollars."""

    impl = sa.BigInteger
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> int | None:
        return to_cents(value)

    def process_result_value(self, value: Any, dialect: Any) -> Decimal | None:
        return from_cents(value)


def money(expr: Any, name: str) -> sa.Label[Decimal]:
    """``expr`` (cents) labelled ``name`` and read back as Decimal."""
    return sa.type_coerce(expr, MoneyType()).label(name)


def _per_claim(where: Any) -> sa.Subquery:
    """Per-claim totals in cents, through correlated sums (cheap for one claim, indexed for all)."""
    cp, a = claim_payments, adjustments
    mine = cp.c.claim_id == claims.c.id
    paid = sa.select(sa.func.coalesce(sa.func.sum(cp.c.paid_cents), 0)).where(mine).scalar_subquery()
    n = sa.select(sa.func.count()).select_from(cp).where(mine).scalar_subquery()

    def adj_sum(*cond: Any) -> sa.ScalarSelect[Any]:
        stmt = sa.select(sa.func.coalesce(sa.func.sum(a.c.amount_cents), 0))
        return stmt.select_from(a.join(cp, a.c.claim_payment_id == cp.c.id)).where(mine, *cond).scalar_subquery()

    not_pr = a.c.group_code != "PR"

    stmt = sa.select(
        claims.c.id.label("claim_id"),
        claims.c.pcn,
        claims.c.payer_id,
        claims.c.charge_cents.label("charge"),
        paid.label("paid"),
        n.label("n"),
        adj_sum(not_pr, cp.c.denied.is_(False)).label("adj"),
        adj_sum(not_pr, cp.c.denied.is_(True)).label("denied"),
        adj_sum(a.c.group_code == "PR").label("pr"),
    )
    return (stmt if where is None else stmt.where(where)).subquery("t")


def claim_balances(where: Any = None) -> sa.Select[Any]:
    """One row per claim: claim_id, pcn, payer_id, charge, insurance_paid, patient_paid, adjustments,
    patient_responsibility, denied, balance (all Decimal), payments (count) and responsibility.

    ``where`` is an optional filter on ``claims`` (e.g. ``claims.c.pcn == "A1"``); the result can be
    filtered further on its own columns like any subquery.
    """
    t = _per_claim(where)
    balance = t.c.charge - t.c.paid - t.c.adj
    responsibility = sa.case(
        (balance == 0, "none"),
        (balance < 0, "credit"),
        (t.c.n == 0, "payer"),
        (balance <= t.c.pr, "patient"),
        else_="payer",
    )
    return sa.select(
        t.c.claim_id,
        t.c.pcn,
        t.c.payer_id,
        money(t.c.charge, "charge"),
        money(t.c.paid, "insurance_paid"),
        money(sa.literal(0), "patient_paid"),
        money(t.c.adj, "adjustments"),
        money(t.c.pr, "patient_responsibility"),
        money(t.c.denied, "denied"),
        money(balance, "balance"),
        t.c.n.label("payments"),
        responsibility.label("responsibility"),
    )


@dataclass(frozen=True, slots=True)
class Balance:
    claim_id: int
    pcn: str
    payer_id: str
    charge: Decimal
    insurance_paid: Decimal
    patient_paid: Decimal
    adjustments: Decimal
    patient_responsibility: Decimal
    denied: Decimal
    balance: Decimal
    payments: int
    responsibility: str


@functools.cache
def _one_claim() -> sa.Select[Any]:
    """:func:`claim_balances` of the claim bound as ``balance_claim_id``, built once (building the
    statement cost more CPU than running it, on every claim page)."""
    return claim_balances(claims.c.id == sa.bindparam("balance_claim_id", type_=claims.c.id.type))


def balance_of(conn: sa.Connection, claim_id: int) -> Balance | None:
    """The balance of one claim (``None`` when there is no such claim)."""
    row = conn.execute(_one_claim(), {"balance_claim_id": claim_id}).one_or_none()
    return Balance(**row._mapping) if row else None


def balances(conn: sa.Connection, where: Any = None) -> list[Balance]:
    """Balances of all claims (or those matching ``where``, an expression on ``claims``)."""
    stmt = claim_balances(where)
    return [Balance(**r._mapping) for r in conn.execute(stmt.order_by(stmt.selected_columns.claim_id))]
