"""Property: whatever claims, payments (reversals included) and adjustments arrive, every claim keeps
``charge = payments + adjustments + balance`` exactly, and posting the same 835 again changes nothing."""

from __future__ import annotations

import itertools
from decimal import Decimal

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from everyclaim.ledger import schema as t
from everyclaim.ledger.balances import balances
from everyclaim.ledger.post import FileMeta, post_file
from tests.conftest import cas, claim, payment, remittance

_files = itertools.count()
cents = st.integers(min_value=0, max_value=500_000).map(lambda c: Decimal(c) / 100)
GROUPS = st.sampled_from(["CO", "PR", "OA", "PI"])


@st.composite
def scenario(draw):  # noqa: ANN001, ANN201
    n = draw(st.integers(1, 4))
    charges = [draw(cents) for _ in range(n)]
    pays = []
    for _ in range(draw(st.integers(0, 6))):
        i = draw(st.integers(0, n))  # i == n: a remittance for a claim never billed (unmatched)
        paid = draw(cents)
        adjs = [(draw(GROUPS), draw(st.sampled_from(["45", "2", "50", "253"])), draw(cents))
                for _ in range(draw(st.integers(0, 3)))]
        status = draw(st.sampled_from(["1", "2", "4"]))  # 4 = denied: recorded, not written off
        pays.append((i, paid, adjs, draw(st.booleans()), status))
    return charges, pays


def _sha() -> str:
    return f"{next(_files):064x}"


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=scenario())
def test_every_claim_balances_and_reposting_is_a_noop(engine: sa.Engine, case) -> None:  # noqa: ANN001
    charges, pays = case
    tag = f"H{next(_files)}-"
    sha = _sha()
    with engine.begin() as conn:
        post_file(conn, FileMeta(sha, kind="837P"), [claim(f"{tag}{i}", str(c), sha=sha) for i, c in enumerate(charges)], [])
    records: list[object] = []
    remit_sha = _sha()
    for seq, (i, paid, adjs, reverse, status) in enumerate(pays):
        st02 = f"{seq:04d}"
        charge = charges[i] if i < len(charges) else Decimal("1.00")
        cp = payment(f"{tag}{i}", str(charge), str(paid), *(cas(g, c, str(a)) for g, c, a in adjs),
                     sha=remit_sha, st02=st02, control=f"PCC{seq}", status=status)
        records += [remittance(str(paid), trace=f"{tag}{seq}", sha=remit_sha, st02=st02), cp]
        if reverse:
            neg = payment(f"{tag}{i}", str(-charge), str(-paid), *(cas(g, c, str(-a)) for g, c, a in adjs),
                          status="22", sha=remit_sha, st02=st02, control=f"PCC{seq}", seg=40)
            records.append(neg)
    with engine.begin() as conn:
        post_file(conn, FileMeta(remit_sha, kind="835"), records, [])
        mine = t.claims.c.pcn.like(f"{tag}%")
        before = balances(conn, mine)
        n_payments = conn.execute(sa.select(sa.func.count()).select_from(t.claim_payments)).scalar_one()
    for b in before:
        assert b.charge == b.insurance_paid + b.patient_paid + b.adjustments + b.balance
        i = int(b.pcn.rsplit("-", 1)[1])
        live = [(p, a, s) for j, p, a, rev, s in pays if j == i and not rev]
        assert b.insurance_paid == sum((p for p, _, _ in live), Decimal(0))
        written_off = [x for _, adjs, s in live for g, _, x in adjs if g != "PR" and s != "4"]
        denied = [x for _, adjs, s in live for g, _, x in adjs if g != "PR" and s == "4"]
        assert (b.adjustments, b.denied) == (sum(written_off, Decimal(0)), sum(denied, Decimal(0)))
    again = _sha()
    with engine.begin() as conn:  # the same transactions in another file: all skipped
        result = post_file(conn, FileMeta(again, kind="835"), [_moved(r, again) for r in records], [])
        assert result.transactions == 0 and result.skipped_transactions == len(pays)
        assert balances(conn, mine) == before
        assert conn.execute(sa.select(sa.func.count()).select_from(t.claim_payments)).scalar_one() == n_payments


def _moved(record, sha: str):  # noqa: ANN001, ANN202
    """The same record as found in another file."""
    import dataclasses

    return dataclasses.replace(record, source=dataclasses.replace(record.source, file_sha256=sha))
