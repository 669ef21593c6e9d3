"""Billed claims rebuilt from the ledger as :class:`~everyclaim.ledger.records.Claim` records.

An 837 that follows up on a claim (a replacement, a claim to the secondary payer, a claim to the payer
an 835 named as primary) starts from the claim as it was billed last: its parties, dates, diagnoses
and lines as the ledger keeps them. What the ledger does not keep (addresses, birth dates, contacts)
the 837 writer fills with its fixed values, as it does for every claim it writes.

Everything is read set-based: the caller passes a SELECT of claim ids, and each table is read once
with a join on it (no query per claim).

    ids = sa.select(results.c.claim_id).where(...)
    claims = billed_claims(conn, ids)                # {claim id: Claim}
    adjudicated = last_adjudications(conn, ids)      # {claim id: Adjudication}
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from everyclaim.ledger import schema as t
from everyclaim.ledger.balances import from_cents
from everyclaim.ledger.records import Adjustment, Claim, OtherPayer, Party, ServiceLine, Source


@dataclass(frozen=True, slots=True)
class LineAdjudication:
    """One 835 service line of an adjudication: what it paid and its adjustments (2430 of a COB claim)."""

    procedure: str
    line_control: str
    paid: Decimal
    adjustments: tuple[Adjustment, ...]


@dataclass(frozen=True, slots=True)
class Adjudication:
    """A claim's latest live 835 adjudication (neither a reversal nor reversed)."""

    claim_payment_id: int
    payer: Party
    status: str
    paid: Decimal
    payment_date: date | None
    payer_claim_control: str
    claim_filing: str
    priority_payer: Party | None  # 2100 NM1*PR: the payer this payer says is primary
    adjustments: tuple[Adjustment, ...]  # claim level
    lines: tuple[LineAdjudication, ...]


def _ids(ids: sa.Select[Any]) -> sa.Subquery:
    return ids.subquery("wanted")


def billed_claims(conn: sa.Connection, ids: sa.Select[Any]) -> dict[int, Claim]:
    """The claims whose ids ``ids`` selects, as billed last (lines and other coverage included)."""
    w = _ids(ids)
    key = next(iter(w.c))
    c = t.claims
    rows = conn.execute(sa.select(c).where(c.c.id.in_(sa.select(key)))).mappings().all()
    lines: dict[int, list[ServiceLine]] = defaultdict(list)
    ln = t.claim_lines
    for r in conn.execute(sa.select(ln).where(ln.c.claim_id.in_(sa.select(key))).order_by(ln.c.claim_id, ln.c.line_no)
                          ).mappings():  # fmt: skip
        lines[r["claim_id"]].append(_line(r))
    others: dict[int, list[OtherPayer]] = defaultdict(list)
    op = t.claim_other_payers
    for r in conn.execute(sa.select(op).where(op.c.claim_id.in_(sa.select(key))).order_by(op.c.id)).mappings():
        others[r["claim_id"]].append(_other_payer(r))
    return {r["id"]: _claim(r, tuple(lines[r["id"]]), tuple(others[r["id"]])) for r in rows}


def _claim(r: Any, lines: tuple[ServiceLine, ...], others: tuple[OtherPayer, ...]) -> Claim:
    subscriber = Party("IL", r["subscriber_last"], r["subscriber_first"], "MI", r["subscriber_id"])
    same_person = (r["patient_last"], r["patient_first"]) == (r["subscriber_last"], r["subscriber_first"])
    patient = None if same_person or not r["patient_last"] else Party("QC", r["patient_last"], r["patient_first"])
    rendering = None
    if r["rendering_npi"] and r["rendering_npi"] != r["billing_npi"]:
        name = r["rendering_last"] or r["billing_name"]
        rendering = Party("82", name, r["rendering_first"], "XX", r["rendering_npi"])
    dx = tuple(d for d in (r["diagnoses"] or "").split(",") if d)
    return Claim(
        source=Source("", r["isa13"], r["gs06"], r["st02"], r["seg_index"]), kind=r["kind"], pcn=r["pcn"],
        charge=from_cents(r["charge_cents"]), place_of_service=r["pos"], facility_qualifier=r["facility_qualifier"],
        frequency=r["frequency"] or "1", billing_provider=Party("85", r["billing_name"], "", "XX", r["billing_npi"]),
        subscriber=subscriber, payer=Party("PR", r["payer_name"], "", "PI", r["payer_id"]), patient=patient,
        responsibility=r["responsibility"] or "P", claim_filing=r["claim_filing"], service_from=r["service_from"],
        service_to=r["service_to"], prior_auth=r["prior_auth"], referral=r["referral"],
        payer_claim_control=r["payer_claim_control"], diagnoses=dx, lines=lines, other_payers=others,
        rendering_provider=rendering, submitted=r["last_billed_date"],
    )  # fmt: skip


def _line(r: Any) -> ServiceLine:
    mods = tuple(m for m in (r["modifiers"] or "").split(",") if m)
    return ServiceLine(
        line_no=r["line_no"], procedure_qualifier=r["procedure_qualifier"], procedure=r["procedure"], modifiers=mods,
        charge=from_cents(r["charge_cents"]), units=Decimal(r["units"] if r["units"] is not None else 1),
        unit_basis=r["unit_basis"], service_date=r["service_date"], service_date_end=r["service_date_end"],
        revenue_code=r["revenue_code"], line_control=r["line_control"], seg_index=r["seg_index"],
    )  # fmt: skip


def _other_payer(r: Any) -> OtherPayer:
    sub = Party("IL", "", "", "MI", r["subscriber_id"]) if r["subscriber_id"] else None
    return OtherPayer(
        responsibility=r["responsibility"], payer=Party("PR", r["payer_name"], "", "PI", r["payer_id"]),
        subscriber=sub, paid=from_cents(r["paid_cents"]) if r["paid_cents"] is not None else None,
        adjudication_date=r["adjudication_date"], adjustments=_parse_adjustments(r["adjustments"]),
        claim_filing=r["claim_filing"],
    )  # fmt: skip


def _parse_adjustments(text: str) -> tuple[Adjustment, ...]:
    """``"CO-45:12.00;PR-2:5.00"`` (how the ledger keeps 2320 CAS) back to adjustments."""
    out = []
    for part in (text or "").split(";"):
        if not part:
            continue
        code, _, amount = part.partition(":")
        group, _, carc = code.partition("-")
        out.append(Adjustment(group, carc, Decimal(amount)))
    return tuple(out)


def last_adjudications(conn: sa.Connection, ids: sa.Select[Any]) -> dict[int, Adjudication]:
    """The latest live adjudication of each claim ``ids`` selects that has one (by check date, then id)."""
    w = _ids(ids)
    key = next(iter(w.c))
    cp, r = t.claim_payments, t.remittances
    rev = t.claim_payments.alias("rev")
    ranked = (
        sa.select(cp.c.id, cp.c.claim_id,
                  sa.func.row_number().over(partition_by=cp.c.claim_id,
                                            order_by=(r.c.payment_date.desc(), cp.c.id.desc())).label("rn"))
        .join(r, r.c.id == cp.c.remittance_id)
        .where(cp.c.claim_id.in_(sa.select(key)), cp.c.is_reversal.is_(False),
               ~sa.exists().where(rev.c.reverses_id == cp.c.id))
        .subquery("ranked")
    )  # fmt: skip
    last = sa.select(ranked.c.id).where(ranked.c.rn == 1)
    heads = conn.execute(
        sa.select(cp.c.id, cp.c.claim_id, cp.c.status, cp.c.paid_cents, cp.c.payer_claim_control, cp.c.claim_filing,
                  cp.c.priority_payer_id, cp.c.priority_payer_name, r.c.payment_date, r.c.payer_id, r.c.payer_name)
        .join(r, r.c.id == cp.c.remittance_id).where(cp.c.id.in_(last))
    ).mappings().all()  # fmt: skip
    a, lp = t.adjustments, t.line_payments
    claim_adjs: dict[int, list[Adjustment]] = defaultdict(list)
    line_adjs: dict[int, list[Adjustment]] = defaultdict(list)
    for row in conn.execute(sa.select(a).where(a.c.claim_payment_id.in_(last)).order_by(a.c.id)).mappings():
        adj = Adjustment(row["group_code"], row["carc"], from_cents(row["amount_cents"]), row["quantity"])
        (line_adjs[row["line_payment_id"]] if row["line_payment_id"] else claim_adjs[row["claim_payment_id"]]).append(adj)
    lines: dict[int, list[LineAdjudication]] = defaultdict(list)
    for row in conn.execute(sa.select(lp).where(lp.c.claim_payment_id.in_(last)).order_by(lp.c.id)).mappings():
        lines[row["claim_payment_id"]].append(LineAdjudication(
            row["original_procedure"] or row["procedure"], row["line_control"], from_cents(row["paid_cents"]),
            tuple(line_adjs[row["id"]])))  # fmt: skip
    out = {}
    for h in heads:
        prio = Party("PR", h["priority_payer_name"], "", "PI", h["priority_payer_id"]) if h["priority_payer_id"] else None
        out[h["claim_id"]] = Adjudication(
            h["id"], Party("PR", h["payer_name"], "", "PI", h["payer_id"]), h["status"], from_cents(h["paid_cents"]),
            h["payment_date"], h["payer_claim_control"], h["claim_filing"], prio, tuple(claim_adjs[h["id"]]),
            tuple(lines[h["id"]]),
        )  # fmt: skip
    return out
