"""Posting into the ledger, on SQLite and PostgreSQL: balances, duplicates, rollback, reversals,
unmatched remittances and located findings."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa

from everyclaim.ledger import schema as t
from everyclaim.ledger.balances import balances
from everyclaim.ledger.check import reconcile
from everyclaim.ledger.post import FileMeta, already_ingested, post_file, record_rejection
from everyclaim.ledger.records import AtbRow, Party, Problem, ServicePayment
from everyclaim.ledger.story import claim_story
from tests.conftest import D, cas, claim, payment, plb, remittance, src

CLAIMS_SHA, REMIT_SHA = "a" * 64, "b" * 64


def post(engine: sa.Engine, sha: str, records: list[object], findings: list[Problem] | None = None,
         kind: str = "835"):  # noqa: ANN201
    with engine.begin() as conn:
        return post_file(conn, FileMeta(sha, f"{sha[:4]}.x12", kind, 100), records, [] if findings is None else findings)


def count(engine: sa.Engine, table: sa.Table) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()


def bill(engine: sa.Engine, *claims_: object, sha: str = CLAIMS_SHA) -> None:
    post(engine, sha, list(claims_), kind="837P")


def balance(engine: sa.Engine, pcn: str):  # noqa: ANN201
    with engine.connect() as conn:
        (b,) = balances(conn, t.claims.c.pcn == pcn)
    return b


def test_payment_gives_exact_balances(engine: sa.Engine) -> None:
    bill(engine, claim("A1", "100.10", "60.05", "40.05"), claim("A2", "250.00"))
    result = post(engine, REMIT_SHA, [
        remittance("110.07"),
        payment("A1", "100.10", "70.07", cas("CO", "45", "20.01"), cas("PR", "2", "10.02"), seg=20),
        payment("A2", "250.00", "40.00", cas("CO", "45", "200.00"), cas("PR", "3", "10.00"), seg=30),
    ])
    assert (result.transactions, result.payments, result.adjustments, result.findings) == (1, 2, 4, 0)
    b = balance(engine, "A1")
    assert (b.charge, b.insurance_paid, b.adjustments, b.patient_responsibility) == (
        D("100.10"), D("70.07"), D("20.01"), D("10.02"))
    assert b.balance == D("10.02") and isinstance(b.balance, Decimal)
    assert b.charge == b.insurance_paid + b.patient_paid + b.adjustments + b.balance
    assert b.responsibility == "patient"
    assert balance(engine, "A2").balance == D("10.00")


def test_unpaid_claim_is_owed_by_the_payer(engine: sa.Engine) -> None:
    bill(engine, claim("U1", "80.00"))
    b = balance(engine, "U1")
    assert (b.balance, b.payments, b.responsibility) == (D("80.00"), 0, "payer")


def test_same_file_again_changes_nothing(engine: sa.Engine) -> None:
    bill(engine, claim("A1", "100.00"))
    records = [remittance("90.00"), payment("A1", "100.00", "90.00", cas("CO", "45", "10.00"))]
    post(engine, REMIT_SHA, records)
    with engine.connect() as conn:
        assert already_ingested(conn, REMIT_SHA)
    again = post(engine, REMIT_SHA, records)
    assert again.duplicate and again.status == "duplicate"
    assert count(engine, t.claim_payments) == 1 and count(engine, t.files) == 2


def test_same_transaction_in_another_file_is_skipped(engine: sa.Engine) -> None:
    bill(engine, claim("A1", "100.00"))
    post(engine, REMIT_SHA, [remittance("90.00"), payment("A1", "100.00", "90.00", cas("CO", "45", "10.00"))])
    other = "c" * 64
    result = post(engine, other, [
        remittance("90.00", sha=other),
        payment("A1", "100.00", "90.00", cas("CO", "45", "10.00"), sha=other),
        remittance("5.00", trace="CHK2", sha=other, st02="0002"),
        payment("A1", "0.00", "5.00", cas("CO", "45", "-5.00"), sha=other, st02="0002", control="X"),
    ])
    assert (result.transactions, result.skipped_transactions, result.payments) == (1, 1, 1)
    assert count(engine, t.remittances) == 2 and count(engine, t.claim_payments) == 2


def test_failure_mid_file_posts_nothing(engine: sa.Engine) -> None:
    bill(engine, claim("A1", "100.00"))
    before = {tb.name: count(engine, tb) for tb in t.metadata.sorted_tables}

    def records():  # noqa: ANN202
        yield remittance("90.00")
        yield payment("A1", "100.00", "90.00", cas("CO", "45", "10.00"))
        yield claim("Z9", "1.00", sha=REMIT_SHA)
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError):
        post(engine, REMIT_SHA, records())  # type: ignore[arg-type]
    assert {tb.name: count(engine, tb) for tb in t.metadata.sorted_tables} == before


def test_structural_error_rejects_the_whole_file(engine: sa.Engine) -> None:
    error = Problem("X12-SE01-COUNT", "error", "SE01 says 9 segments, found 8", "b.x12", 40, "SE", 1, "IK5-4")
    result = post(engine, REMIT_SHA, [remittance("90.00"), payment("A1", "100.00", "90.00")], [error])
    assert result.status == "rejected" and count(engine, t.claim_payments) == 0
    with engine.connect() as conn:
        assert not already_ingested(conn, REMIT_SHA)
        (f,) = reconcile(conn)
    assert (f["code"], f["seg_index"], f["seg_id"], f["severity"]) == ("X12-SE01-COUNT", 40, "SE", "error")


def test_error_found_while_streaming_rolls_back_what_was_posted(engine: sa.Engine) -> None:
    findings: list[Problem] = []

    def records():  # noqa: ANN202
        yield remittance("90.00")
        yield payment("A1", "100.00", "90.00")
        findings.append(Problem("X12-IEA", "error", "IEA01 count is wrong", "b.x12", 99, "IEA", 1))

    result = post(engine, REMIT_SHA, records(), findings)  # type: ignore[arg-type]
    assert result.status == "rejected"
    assert count(engine, t.remittances) == 0 and count(engine, t.findings) == 1
    with engine.begin() as conn:  # the fixed file can be retried; so can a rejection be recorded again
        record_rejection(conn, FileMeta(REMIT_SHA, "b.x12"), findings[0])
    assert count(engine, t.files) == 1


def test_reversal_posts_negative_and_ties_to_the_original(engine: sa.Engine) -> None:
    bill(engine, claim("R1", "100.00"))
    post(engine, REMIT_SHA, [remittance("80.00"), payment("R1", "100.00", "80.00", cas("CO", "45", "20.00"))])
    other = "d" * 64
    post(engine, other, [
        remittance("10.00", trace="CHK9", sha=other),
        payment("R1", "-100.00", "-80.00", cas("CO", "45", "-20.00"), status="22", sha=other, seg=20),
        payment("R1", "100.00", "90.00", cas("CO", "45", "10.00"), status="1", sha=other, seg=30),
    ])
    with engine.connect() as conn:
        rows = conn.execute(sa.select(t.claim_payments).order_by(t.claim_payments.c.id)).all()
    original, reversal, corrected = rows
    assert reversal.is_reversal and reversal.paid_cents == -8000 and reversal.reverses_id == original.id
    assert reversal.claim_id == original.claim_id == corrected.claim_id is not None
    b = balance(engine, "R1")
    assert (b.insurance_paid, b.adjustments, b.balance) == (D("90.00"), D("10.00"), D("0.00"))
    assert b.responsibility == "none"


def test_a_denial_stays_open_until_paid_on_correction(engine: sa.Engine) -> None:
    bill(engine, claim("DN1", "500.00"))
    post(engine, REMIT_SHA, [remittance("0.00"), payment("DN1", "500.00", "0.00", cas("CO", "16", "500.00"),
                                                         status="4", control="ICN1")])
    b = balance(engine, "DN1")
    assert (b.balance, b.denied, b.adjustments, b.responsibility) == (D("500.00"), D("500.00"), D("0"), "payer")
    other = "9" * 64  # the corrected claim is paid; the payer sends no reversal of the denial
    post(engine, other, [remittance("400.00", trace="CHK7", sha=other),
                         payment("DN1", "500.00", "400.00", cas("CO", "45", "80.00"), cas("PR", "2", "20.00"),
                                 sha=other, control="ICN2")])
    b = balance(engine, "DN1")
    assert (b.balance, b.adjustments, b.patient_responsibility, b.responsibility) == (
        D("20.00"), D("80.00"), D("20.00"), "patient")
    with engine.connect() as conn:
        assert not [f for f in reconcile(conn) if f["code"] == "LEDGER-CREDIT-BALANCE"]


def test_unmatched_remittance_is_kept_and_reported(engine: sa.Engine) -> None:
    result = post(engine, REMIT_SHA, [remittance("50.00"), payment("NOPE", "60.00", "50.00", cas("CO", "45", "10.00"))])
    assert result.unmatched == 1 and count(engine, t.claim_payments) == 1
    with engine.connect() as conn:
        (f,) = [f for f in reconcile(conn) if f["code"] == "LEDGER-UNMATCHED-REMIT"]
        assert (f["pcn"], f["seg_index"], f["seg_id"], f["file"]) == ("NOPE", 20, "CLP", "bbbb.x12")
        assert claim_story(conn, "NOPE")["claim"] is None  # type: ignore[index]
    bill(engine, claim("NOPE", "60.00"))  # the 837 arrives late: matched then
    with engine.connect() as conn:
        assert not [f for f in reconcile(conn) if f["code"] == "LEDGER-UNMATCHED-REMIT"]
    assert balance(engine, "NOPE").balance == D("0.00")


def test_take_back_links_to_the_claim_and_unknown_pcn_has_no_story(engine: sa.Engine) -> None:
    bill(engine, claim("T1", "100.00"))
    post(engine, REMIT_SHA, [remittance("80.00"), payment("T1", "100.00", "80.00", cas("CO", "45", "20.00"),
                                                          control="PAYER77")])
    other = "f" * 64
    post(engine, other, [remittance("-30.00", trace="CHK5", sha=other), plb("30.00", "WO", "PAYER77", sha=other)])
    with engine.connect() as conn:
        story = claim_story(conn, "T1")
        assert claim_story(conn, "NOBODY") is None
    assert story is not None
    (wo,) = story["provider_adjustments"]
    assert (wo["reason"], wo["amount"]) == ("WO", D("30.00"))


def test_match_by_charge_when_the_pcn_repeats(engine: sa.Engine) -> None:
    other_payer = Party("PR", "OTHER", id="OTH9")
    bill(engine, claim("P1", "100.00"), claim("P1", "200.00", payer=other_payer))
    post(engine, REMIT_SHA, [remittance("150.00", payer=Party("PR", "RENAMED", id="ZZZ")),
                              payment("P1", "200.00", "150.00", cas("CO", "45", "50.00"))])
    with engine.connect() as conn:
        (cid,) = conn.execute(sa.select(t.claim_payments.c.claim_id)).scalars()
        assert conn.execute(sa.select(t.claims.c.payer_id).where(t.claims.c.id == cid)).scalar() == "OTH9"


def test_unbalanced_claim_line_and_bpr_are_located_findings(engine: sa.Engine) -> None:
    bill(engine, claim("B1", "100.00"))
    line = ServicePayment("HC", "99213", (), D("100.00"), D("70.00"), adjustments=(cas("CO", "45", "20.00"),),
                          seg_index=25)
    result = post(engine, REMIT_SHA, [remittance("75.00"), payment("B1", "100.00", "70.00", lines=(line,)),
                                      plb("-1.00", "L6")])
    assert result.findings == 3 and count(engine, t.claim_payments) == 1  # loaded anyway
    with engine.connect() as conn:
        found = {f["code"]: f for f in reconcile(conn)}
    clp, svc, bpr = found["835-CLAIM-UNBALANCED"], found["835-LINE-UNBALANCED"], found["835-BPR-MISMATCH"]
    assert (clp["seg_index"], clp["seg_id"], clp["pcn"]) == (20, "CLP", "B1")
    assert (svc["seg_index"], svc["seg_id"], svc["pcn"]) == (25, "SVC", "B1")
    assert (bpr["seg_index"], bpr["seg_id"], bpr["control"]) == (3, "BPR", "000000001/1/0001")
    assert "71.00" in bpr["message"] and len(clp["stable_id"]) == 24


def test_replacement_attaches_to_the_claim_as_a_submission(engine: sa.Engine) -> None:
    bill(engine, claim("C1", "100.00"))
    bill(engine, claim("C1", "120.00", "60.00", "60.00", frequency="7", submitted=date(2026, 2, 1),
                       sha="e" * 64), sha="e" * 64)
    with engine.connect() as conn:
        (c,) = conn.execute(sa.select(t.claims)).all()
        story = claim_story(conn, "C1")
    assert (c.charge_cents, c.frequency, c.submission_count) == (12000, "7", 2)
    assert (c.first_billed_date, c.last_billed_date) == (date(2026, 1, 5), date(2026, 2, 1))
    assert story is not None
    assert [s["frequency"] for s in story["submissions"]] == ["1", "7"]
    assert [ln["charge"] for ln in story["lines"]] == [D("60.00"), D("60.00")]
    assert story["balance"]["balance"] == D("120.00")


def test_credit_balance_line_mismatch_and_atb_are_reported(engine: sa.Engine) -> None:
    bill(engine, claim("K1", "100.00", "40.00", "50.00"), claim("K2", "50.00"))
    paid_twice = [payment("K1", "100.00", "90.00", cas("CO", "45", "10.00"), seg=s) for s in (20, 30)]
    post(engine, REMIT_SHA, [remittance("180.00"), *paid_twice])
    atb = [
        AtbRow(src("9" * 64, 2), date(2026, 3, 1), "K1", "ACCT1", "ACME1", "primary", None, None,
               D("100.00"), D("90.00"), D("0"), D("10.00"), D("0.00")),
        AtbRow(src("9" * 64, 3), date(2026, 3, 1), "K2", "ACCT2", "ACME1", "primary", None, None,
               D("50.00"), D("0"), D("0"), D("0"), D("45.00")),
        AtbRow(src("9" * 64, 4), date(2026, 3, 1), "K404", "ACCT3", "ACME1", "primary", None, None,
               D("5.00"), D("0"), D("0"), D("0"), D("5.00")),
    ]
    result = post(engine, "9" * 64, atb, kind="atb")  # type: ignore[arg-type]
    assert (result.atb_rows, result.findings) == (3, 1)
    with engine.connect() as conn:
        codes = sorted(f["code"] for f in reconcile(conn))
    assert codes == ["ATB-ROW-UNBALANCED", "LEDGER-ATB-MISMATCH", "LEDGER-ATB-MISMATCH",
                     "LEDGER-ATB-UNMATCHED", "LEDGER-CREDIT-BALANCE", "LEDGER-LINES-CHARGE"]
    assert balance(engine, "K1").responsibility == "credit"


def test_a_long_duplicate_transaction_streams_and_rolls_back_whole(engine: sa.Engine) -> None:
    """An 835 transaction longer than one flush page is posted page by page; when it turns out to be a
    transaction already in the ledger, every page of it is rolled back, and its hash is ``txn_hash``."""
    from everyclaim.ledger.post import PAGE, txn_hash

    n = PAGE + 5
    def records(sha: str, with_new: bool) -> list[object]:  # noqa: ANN202
        pays = [payment(f"P{i}", "10.00", "9.00", cas("CO", "45", "1.00"), sha=sha, seg=20 + i) for i in range(n)]
        out: list[object] = [remittance(f"{9 * n}.00", sha=sha), *pays]
        if with_new:
            out += [remittance("5.00", trace="CHK2", sha=sha, st02="0002"),
                    payment("Q1", "5.00", "5.00", sha=sha, st02="0002", control="X")]
        return out

    first = records(REMIT_SHA, False)
    assert post(engine, REMIT_SHA, first).payments == n
    with engine.connect() as conn:
        (stored,) = conn.execute(sa.select(t.remittances.c.txn_hash)).scalars()
    assert stored == txn_hash(first[0], first[1:])  # type: ignore[arg-type]
    other = "d" * 64
    again = post(engine, other, records(other, True))
    assert (again.transactions, again.skipped_transactions, again.payments, again.adjustments) == (1, 1, 1, 0)
    assert count(engine, t.claim_payments) == n + 1 and count(engine, t.remittances) == 2
    assert count(engine, t.adjustments) == n
