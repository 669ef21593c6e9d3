"""A claim's story, for ``everyclaim claims show``: everything the ledger knows about one claim.

:func:`claim_story` returns a JSON-ready dict (money as Decimal, dates as date; ``json.dumps(...,
default=str)`` renders it) with, in order: ``claim``, ``balance``, ``lines``, ``submissions``,
``other_payers``, ``acks``, ``remittances`` (each with its ``adjustments`` and ``remarks``, reversals
included), ``provider_adjustments``, ``atb`` (rows from every snapshot), ``findings`` and
``other_claims`` (the same PCN billed to other payers).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from everyclaim.ledger import schema as t
from everyclaim.ledger.balances import balance_of, from_cents

SOURCE_COLS = {"file_id", "isa13", "gs06", "st02"}


def _clean(row: Any, drop: set[str] = frozenset()) -> dict[str, Any]:  # type: ignore[assignment]
    """A row as a dict: ``*_cents`` become Decimal dollars (without the suffix)."""
    out: dict[str, Any] = {}
    for k, v in row._mapping.items():
        if k in drop:
            continue
        if k.endswith("_cents"):
            out[k[: -len("_cents")]] = from_cents(v)
        else:
            out[k] = v
    return out


def _rows(conn: sa.Connection, stmt: Any, drop: set[str] = frozenset()) -> list[dict[str, Any]]:  # type: ignore[assignment]
    return [_clean(r, drop) for r in conn.execute(stmt)]


def _pick_claim(conn: sa.Connection, pcn: str, payer_id: str | None) -> Any:
    c = t.claims.c
    stmt = sa.select(t.claims).where(c.pcn == pcn)
    if payer_id:
        stmt = stmt.where(c.payer_id == payer_id)
    return conn.execute(stmt.order_by(c.last_billed_date.desc(), c.id.desc()).limit(1)).first()


def _remittances(conn: sa.Connection, cp_filter: Any) -> list[dict[str, Any]]:
    cp, r, f = t.claim_payments, t.remittances, t.files
    stmt = (
        sa.select(cp, r.c.trace_number, r.c.payment_date, r.c.method, r.c.payer_name, f.c.name.label("file"))
        .join(r, cp.c.remittance_id == r.c.id)
        .join(f, cp.c.file_id == f.c.id)
        .where(cp_filter)
        .order_by(cp.c.id)
    )
    out = _rows(conn, stmt, {"isa13", "gs06", "file_id"})
    for p in out:
        a, m, lp = t.adjustments, t.remarks, t.line_payments
        p["lines"] = _rows(conn, sa.select(lp).where(lp.c.claim_payment_id == p["id"]).order_by(lp.c.id))
        p["adjustments"] = _rows(conn, sa.select(a).where(a.c.claim_payment_id == p["id"]).order_by(a.c.id))
        p["remarks"] = _rows(conn, sa.select(m).where(m.c.claim_payment_id == p["id"]).order_by(m.c.id))
    return out


def claim_story(conn: sa.Connection, pcn: str, payer_id: str | None = None) -> dict[str, Any] | None:
    """The story of the claim with this PCN (and payer; default: the most recently billed one).

    ``None`` when no claim and no remittance carries the PCN; when only unmatched remittances do,
    the story has ``claim: None`` and those ``remittances``.
    """
    claim = _pick_claim(conn, pcn, payer_id)
    if claim is None:
        remits = _remittances(conn, (t.claim_payments.c.pcn == pcn) & t.claim_payments.c.claim_id.is_(None))
        return {"claim": None, "pcn": pcn, "remittances": remits} if remits else None
    cid = claim.id
    bal = balance_of(conn, cid)
    s, ln, op, ak = t.submissions, t.claim_lines, t.claim_other_payers, t.claim_acks
    plb, ar, snap, f, fl = t.provider_adjustments, t.atb_rows, t.atb_snapshots, t.findings, t.files
    c = t.claims.c
    return {
        "claim": _clean(claim),
        "balance": {k: getattr(bal, k) for k in bal.__slots__} if bal else None,
        "lines": _rows(conn, sa.select(ln).where(ln.c.claim_id == cid).order_by(ln.c.line_no)),
        "submissions": _rows(conn, sa.select(s, fl.c.name.label("file")).join(fl, s.c.file_id == fl.c.id)
                             .where(s.c.claim_id == cid).order_by(s.c.id)),
        "other_payers": _rows(conn, sa.select(op).where(op.c.claim_id == cid).order_by(op.c.id)),
        "acks": _rows(conn, sa.select(ak).where(ak.c.claim_id == cid).order_by(ak.c.status_date, ak.c.id)),
        "remittances": _remittances(conn, t.claim_payments.c.claim_id == cid),
        "provider_adjustments": _rows(conn, sa.select(plb).where(plb.c.claim_id == cid).order_by(plb.c.id)),
        "atb": _rows(conn, sa.select(ar, snap.c.as_of).join(snap, ar.c.snapshot_id == snap.c.id)
                     .where(ar.c.claim_id == cid).order_by(snap.c.as_of, ar.c.id)),
        "findings": _rows(conn, sa.select(f, fl.c.name.label("file")).outerjoin(fl, f.c.file_id == fl.c.id)
                          .where(f.c.claim_id == cid).order_by(f.c.id)),
        "other_claims": _rows(conn, sa.select(c.id, c.payer_id, c.payer_name, c.charge_cents)
                              .where(c.pcn == pcn, c.id != cid).order_by(c.id)),
    }


def decode_codes(story: dict[str, Any]) -> None:
    """Put each CARC's and RARC's meaning beside it (``meaning``), so a biller reads words, not codes."""
    from everyclaim.codes import load_code_sets

    codes = load_code_sets()

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if node.get("carc"):
                c = codes.carc(str(node["carc"]))
                node["meaning"] = c.description if c else "unknown CARC"
                group = codes.lookup("group", str(node.get("group_code") or ""))
                if group is not None:
                    node["group_meaning"] = group.description
            elif node.get("qualifier") and node.get("code"):
                c = codes.rarc(str(node["code"]))
                node["meaning"] = c.description if c else ""
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(story)
