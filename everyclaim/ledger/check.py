"""Reconciliation: the stored findings plus the ledger-level ones computed now (``ledger check``).

Each finding is a plain dict (JSON-ready) with a stable id and a location::

    {"stable_id", "code", "severity", "message", "file", "seg_index", "seg_id", "element",
     "control", "claim_id", "pcn"}

Ledger-level codes (computed on every call, never stored, because they change as files arrive):

* ``LEDGER-UNMATCHED-REMIT``  an 835 claim payment matched to no billed claim (located at its CLP);
* ``LEDGER-CREDIT-BALANCE``   a claim whose balance is negative;
* ``LEDGER-ATB-MISMATCH``     a row of the latest ATB snapshot whose balance differs from the ledger's;
* ``LEDGER-ATB-UNMATCHED``    a row of the latest ATB snapshot that matches no billed claim;
* ``LEDGER-LINES-CHARGE``     a claim whose charge differs from the sum of its line charges.
"""

from __future__ import annotations

import hashlib
from typing import Any

import sqlalchemy as sa

from everyclaim.ledger import schema as t
from everyclaim.ledger.balances import claim_balances, from_cents

Finding = dict[str, Any]


def _finding(code: str, key: str, message: str, **where: Any) -> Finding:
    sid = hashlib.sha256(f"{code}|{key}".encode()).hexdigest()[:24]
    base = dict(stable_id=sid, code=code, severity="finding", message=message, file="", seg_index=0,
                seg_id="", element=0, control="", claim_id=None, pcn="")
    return base | where


def stored_findings(conn: sa.Connection) -> list[Finding]:
    f, fl, c = t.findings, t.files, t.claims
    stmt = (
        sa.select(f, fl.c.name.label("file"), c.c.pcn)
        .select_from(f.outerjoin(fl, f.c.file_id == fl.c.id).outerjoin(c, f.c.claim_id == c.c.id))
        .order_by(f.c.id)
    )
    keep = ("stable_id", "code", "severity", "message", "file", "seg_index", "seg_id", "element",
            "control", "claim_id", "pcn", "ack_code")
    out = []
    for r in conn.execute(stmt):
        d = {k: r._mapping[k] for k in keep}
        d["file"], d["pcn"] = d["file"] or "", d["pcn"] or ""
        out.append(d)
    return out


def unmatched_payments(conn: sa.Connection) -> list[Finding]:
    cp, fl = t.claim_payments, t.files
    stmt = (
        sa.select(cp.c.id, cp.c.pcn, cp.c.payer_id, cp.c.paid_cents, cp.c.seg_index, cp.c.isa13, cp.c.gs06,
                  cp.c.st02, fl.c.name)
        .join(fl, cp.c.file_id == fl.c.id)
        .where(cp.c.claim_id.is_(None))
        .order_by(cp.c.id)
    )
    return [
        _finding("LEDGER-UNMATCHED-REMIT", f"cp{r.id}",
                 f"remittance claim {r.pcn} from payer {r.payer_id} (paid {from_cents(r.paid_cents)}) "
                 "matches no billed claim", file=r.name, seg_index=r.seg_index, seg_id="CLP",
                 control=f"{r.isa13}/{r.gs06}/{r.st02}", pcn=r.pcn)
        for r in conn.execute(stmt)
    ]


def credit_balances(conn: sa.Connection) -> list[Finding]:
    bal = claim_balances().subquery()
    stmt = sa.select(bal).where(bal.c.balance < 0).order_by(bal.c.claim_id)
    return [
        _finding("LEDGER-CREDIT-BALANCE", f"c{r.claim_id}",
                 f"claim {r.pcn} ({r.payer_id}) has a credit balance of {r.balance}: charge {r.charge}, "
                 f"paid {r.insurance_paid}, adjusted {r.adjustments}", claim_id=r.claim_id, pcn=r.pcn)
        for r in conn.execute(stmt)
    ]


def latest_snapshot(conn: sa.Connection) -> int | None:
    s = t.atb_snapshots.c
    return conn.execute(sa.select(s.id).order_by(s.as_of.desc(), s.id.desc()).limit(1)).scalar()


def atb_mismatches(conn: sa.Connection) -> list[Finding]:
    snap = latest_snapshot(conn)
    if snap is None:
        return []
    r, fl, snaps = t.atb_rows, t.files, t.atb_snapshots
    bal = claim_balances().subquery()
    stmt = (
        sa.select(r.c.id, r.c.pcn, r.c.claim_id, r.c.balance_cents, r.c.seg_index, fl.c.name, bal.c.balance)
        .join(snaps, r.c.snapshot_id == snaps.c.id)
        .join(fl, snaps.c.file_id == fl.c.id)
        .outerjoin(bal, bal.c.claim_id == r.c.claim_id)
        .where(r.c.snapshot_id == snap)
        .order_by(r.c.id)
    )
    out = []
    for row in conn.execute(stmt):
        where = dict(file=row.name, seg_index=row.seg_index, claim_id=row.claim_id, pcn=row.pcn)
        atb = from_cents(row.balance_cents)
        if row.claim_id is None:
            out.append(_finding("LEDGER-ATB-UNMATCHED", f"a{row.id}",
                                f"ATB claim {row.pcn} (balance {atb}) matches no billed claim", **where))
        elif atb != row.balance:
            out.append(_finding("LEDGER-ATB-MISMATCH", f"a{row.id}",
                                f"ATB balance {atb} for claim {row.pcn} but the ledger says {row.balance}",
                                **where))
    return out


def line_charge_mismatches(conn: sa.Connection) -> list[Finding]:
    c, ln = t.claims, t.claim_lines
    total = sa.select(sa.func.coalesce(sa.func.sum(ln.c.charge_cents), 0)).where(ln.c.claim_id == c.c.id)
    total = total.scalar_subquery()
    has_lines = sa.exists().where(ln.c.claim_id == c.c.id)
    stmt = sa.select(c.c.id, c.c.pcn, c.c.charge_cents, total.label("lines")).where(
        has_lines, c.c.charge_cents != total
    )
    return [
        _finding("LEDGER-LINES-CHARGE", f"c{r.id}",
                 f"claim {r.pcn}: charge {from_cents(r.charge_cents)} but its lines total {from_cents(r.lines)}",
                 claim_id=r.id, pcn=r.pcn)
        for r in conn.execute(stmt.order_by(c.c.id))
    ]


def reconcile(conn: sa.Connection) -> list[Finding]:
    """Every reconciliation finding: stored (from posting) first, then the ledger-level ones."""
    return [
        *stored_findings(conn),
        *unmatched_payments(conn),
        *credit_balances(conn),
        *atb_mismatches(conn),
        *line_charge_mismatches(conn),
    ]
