"""Matching in SQL: remittance claims, acknowledgments, ATB rows and PLBs to billed claims.

Every step is one ``UPDATE ... SET claim_id = (correlated subquery) WHERE claim_id IS NULL`` over all
unmatched rows at once (never a query per claim), identical on SQLite and PostgreSQL. Matching runs
over *all* unmatched rows, so an 835 ingested before its 837 is matched when the 837 arrives.

A remittance claim (CLP) finds its billed claim by, in order:

1. patient control number + payer id (a claim is unique per PCN and payer);
2. patient control number alone, when exactly one claim has it;
3. patient control number + charge (``|CLP03|`` = CLM02), when exactly one claim has both.

Anything else stays unmatched (``claim_id IS NULL``): kept, and reported by ``ledger check``.
A reversal (CLP02 = 22) is tied (``reverses_id``) to the latest not yet reversed payment with the same
PCN, payer and payer claim control number (CLP07) and the opposite charge, and takes its claim;
the reversal of a denial is marked ``denied`` like the denial itself (see balances.py).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from everyclaim.ledger import schema as t

# Stable finding codes (business mismatches; documented with the others in docs/errors)
CLAIM_UNBALANCED = "835-CLAIM-UNBALANCED"  # CLP03 - CLP04 != CAS total (claim + lines)
LINE_UNBALANCED = "835-LINE-UNBALANCED"  # SVC02 - SVC03 != line CAS total
BPR_MISMATCH = "835-BPR-MISMATCH"  # BPR02 != sum(CLP04) - sum(PLB)
ATB_UNBALANCED = "ATB-ROW-UNBALANCED"  # balance != charge - payments - adjustments


def remittance_exists(conn: sa.Connection, txn_hash: str) -> bool:
    stmt = sa.select(t.remittances.c.id).where(t.remittances.c.txn_hash == txn_hash)
    return conn.execute(stmt).first() is not None


def claim_ids(conn: sa.Connection, keys: list[tuple[str, str]]) -> dict[tuple[str, str], tuple[int, int]]:
    """``{(pcn, payer id): (claim id, submission count)}`` for these keys, one query per 5000 PCNs."""
    out: dict[tuple[str, str], tuple[int, int]] = {}
    wanted = set(keys)
    pcns = sorted({k[0] for k in keys})
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    for i in range(0, len(pcns), 5000):
        chunk = pcns[i : i + 5000]
        sql = f"SELECT id, pcn, payer_id, submission_count FROM claims WHERE pcn IN ({', '.join([mark] * len(chunk))})"
        for cid, pcn, payer, n in conn.exec_driver_sql(sql, tuple(chunk)):
            if (pcn, payer) in wanted:
                out[(pcn, payer)] = (cid, n)
    return out


def delete_children(conn: sa.Connection, table: sa.Table, claim_ids_: list[int]) -> None:
    """Delete ``table``'s rows of these claims (a replacement's lines replace the old ones)."""
    for i in range(0, len(claim_ids_), 5000):
        conn.execute(sa.delete(table).where(table.c.claim_id.in_(claim_ids_[i : i + 5000])))


def _match(conn: sa.Connection, table: sa.Table, charge: Any = None) -> None:
    """Three passes over ``table``'s unmatched rows: PCN + payer, unique PCN, PCN + charge."""
    c = t.claims.alias("c")
    row = table.c
    unmatched = row.claim_id.is_(None)
    by_payer = (c.c.pcn == row.pcn) & (c.c.payer_id == row.payer_id)
    passes: list[Any] = [by_payer, c.c.pcn == row.pcn]
    if charge is not None:
        passes.append((c.c.pcn == row.pcn) & (c.c.charge_cents == sa.func.abs(charge)))
    # (pcn, payer id) is unique in claims: UPDATE ... FROM (a join, both databases)
    conn.execute(sa.update(table).where(unmatched, by_payer).values(claim_id=c.c.id))
    for cond in passes[1:]:  # only the few rows still unmatched: correlated "exactly one" lookups
        first = sa.select(sa.func.min(c.c.id)).where(cond).scalar_subquery()
        only = sa.select(sa.func.count()).select_from(c).where(cond).scalar_subquery() == 1
        conn.execute(sa.update(table).where(unmatched, only).values(claim_id=first))


def link_reversals(conn: sa.Connection) -> None:
    """Tie each reversal (CLP02 = 22) to the payment it reverses and to that payment's claim."""
    cp, o, r = t.claim_payments, t.claim_payments.alias("o"), t.claim_payments.alias("r")
    already = sa.exists().where(r.c.reverses_id == o.c.id)
    original = (
        sa.select(sa.func.max(o.c.id))
        .where(
            o.c.pcn == cp.c.pcn,
            o.c.payer_id == cp.c.payer_id,
            o.c.is_reversal.is_(False),
            o.c.id < cp.c.id,
            sa.or_(o.c.payer_claim_control == cp.c.payer_claim_control, cp.c.payer_claim_control == ""),
            o.c.charge_cents == sa.func.abs(cp.c.charge_cents),
            ~already,
        )
        .scalar_subquery()
    )
    todo = cp.c.is_reversal.is_(True) & cp.c.reverses_id.is_(None)
    conn.execute(sa.update(cp).where(todo, original.is_not(None)).values(reverses_id=original))
    claim_of = sa.select(o.c.claim_id).where(o.c.id == cp.c.reverses_id).scalar_subquery()
    conn.execute(
        sa.update(cp).where(cp.c.claim_id.is_(None), cp.c.reverses_id.is_not(None)).values(claim_id=claim_of)
    )
    reverses_denial = sa.exists().where(o.c.id == cp.c.reverses_id, o.c.denied.is_(True))
    conn.execute(sa.update(cp).where(cp.c.is_reversal.is_(True), cp.c.denied.is_(False), reverses_denial)
                 .values(denied=True))


def link_provider_adjustments(conn: sa.Connection) -> None:
    """A PLB (take-back, interest ...) whose reference is a payer claim control number (CLP07) points at
    that payment's claim; failing that, a reference equal to exactly one claim's PCN points at it."""
    plb, cp, c = t.provider_adjustments, t.claim_payments, t.claims
    todo = plb.c.claim_id.is_(None) & (plb.c.reference != "")
    cond = (cp.c.payer_claim_control == plb.c.reference) & cp.c.claim_id.is_not(None)
    claim_of = sa.select(sa.func.min(cp.c.claim_id)).where(cond).scalar_subquery()
    conn.execute(sa.update(plb).where(todo, sa.exists().where(cond)).values(claim_id=claim_of))
    by_pcn = c.c.pcn == plb.c.reference
    only = sa.select(sa.func.count()).select_from(c).where(by_pcn).scalar_subquery() == 1
    first = sa.select(sa.func.min(c.c.id)).where(by_pcn).scalar_subquery()
    conn.execute(sa.update(plb).where(todo, only).values(claim_id=first))


def match_atb(conn: sa.Connection) -> None:
    _match(conn, t.atb_rows)


def match_file(conn: sa.Connection, file_id: int) -> None:
    """Run every matching step (all set-based) after a file has been posted."""
    _match(conn, t.claim_payments, t.claim_payments.c.charge_cents)
    link_reversals(conn)
    _match(conn, t.claim_acks)
    _match(conn, t.atb_rows)
    link_provider_adjustments(conn)


def unmatched_count(conn: sa.Connection, file_id: int) -> int:
    cp = t.claim_payments.c
    stmt = sa.select(sa.func.count()).where(cp.file_id == file_id, cp.claim_id.is_(None))
    return int(conn.execute(stmt).scalar_one())


def attach_findings(conn: sa.Connection, file_id: int) -> None:
    """Point this file's 835 claim / line findings at the claim their payment was matched to."""
    f, cp, lp = t.findings, t.claim_payments, t.line_payments
    at_clp = sa.select(cp.c.claim_id).where(cp.c.file_id == f.c.file_id, cp.c.seg_index == f.c.seg_index)
    at_svc = (
        sa.select(cp.c.claim_id)
        .select_from(lp.join(cp, lp.c.claim_payment_id == cp.c.id))
        .where(cp.c.file_id == f.c.file_id, lp.c.seg_index == f.c.seg_index)
    )
    mine = (f.c.file_id == file_id) & f.c.claim_id.is_(None)
    for code, sub in ((CLAIM_UNBALANCED, at_clp), (LINE_UNBALANCED, at_svc)):
        value = sub.limit(1).scalar_subquery()
        conn.execute(sa.update(f).where(mine, f.c.code == code).values(claim_id=value))
