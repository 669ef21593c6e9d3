"""KPIs on a hand-built ledger whose every figure is worked out by hand below; SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import sqlalchemy as sa

from everyclaim.ledger import schema as t
from everyclaim.reports.kpis import kpis
from tests.work_data import clear_triage, result_row, write_run

AS_OF = date(2026, 10, 31)  # window: 2026-08-02 .. 2026-10-31


def _ids(conn: sa.Connection, table: sa.Table, rows: list[dict]) -> list[int]:
    return [int(conn.execute(sa.insert(table).values(r)).inserted_primary_key[0]) for r in rows]


def _ledger(conn: sa.Connection) -> None:
    (f,) = _ids(conn, t.files, [{"sha256": "f" * 64, "status": "accepted", "ingested_at": datetime(2026, 11, 1, tzinfo=UTC)}])
    conn.execute(sa.insert(t.payer_profiles), [{"payer_id": "MCR", "financial_class": "medicare"},
                                               {"payer_id": "BCBS", "financial_class": "commercial"}])  # fmt: skip
    c1, c2, c3 = _ids(conn, t.claims, [
        {"pcn": "C1", "payer_id": "UNK", "charge_cents": 100_000, "first_billed_date": date(2026, 9, 1), "file_id": f},
        {"pcn": "C2", "payer_id": "BCBS", "charge_cents": 50_000, "first_billed_date": date(2026, 10, 1), "file_id": f},
        {"pcn": "C3", "payer_id": "MCR", "charge_cents": 30_000, "first_billed_date": date(2026, 3, 1), "file_id": f},
    ])  # fmt: skip
    r_in, r_old = _ids(conn, t.remittances, [
        {"txn_hash": "1" * 64, "amount_cents": 70_000, "payment_date": date(2026, 9, 20), "file_id": f},
        {"txn_hash": "2" * 64, "amount_cents": 0, "payment_date": date(2026, 5, 10), "file_id": f},
    ])  # fmt: skip
    base = {"patient_resp_cents": 0, "file_id": f, "status": "1", "is_reversal": False, "denied": False}
    p1, p2, p3, _p4 = _ids(conn, t.claim_payments, [
        base | {"remittance_id": r_in, "claim_id": c1, "charge_cents": 100_000, "paid_cents": 70_000},
        base | {"remittance_id": r_in, "claim_id": c2, "charge_cents": 50_000, "paid_cents": 0, "status": "4", "denied": True},
        base | {"remittance_id": r_old, "claim_id": c3, "charge_cents": 30_000, "paid_cents": 0, "status": "4", "denied": True},
        base | {"remittance_id": r_in, "claim_id": c1, "charge_cents": 100_000, "paid_cents": -70_000, "status": "22",
                "is_reversal": True},
    ])  # fmt: skip
    conn.execute(sa.insert(t.adjustments), [
        {"claim_payment_id": p1, "level": "claim", "group_code": "CO", "carc": "45", "amount_cents": 10_000},
        {"claim_payment_id": p2, "level": "claim", "group_code": "CO", "carc": "50", "amount_cents": 50_000},
        {"claim_payment_id": p3, "level": "claim", "group_code": "CO", "carc": "197", "amount_cents": 30_000},
    ])  # fmt: skip
    conn.execute(sa.insert(t.claim_acks), [
        {"claim_id": c1, "accepted": True, "status_date": date(2026, 9, 2), "file_id": f},
        {"claim_id": c1, "accepted": False, "status_date": date(2026, 9, 9), "file_id": f},
        {"claim_id": c2, "accepted": False, "status_date": date(2026, 10, 2), "file_id": f},
        {"claim_id": c2, "accepted": True, "status_date": date(2026, 10, 5), "file_id": f},
        {"claim_id": c3, "accepted": False, "status_date": date(2026, 3, 2), "file_id": f},
    ])  # fmt: skip
    (snap,) = _ids(conn, t.atb_snapshots, [{"as_of": AS_OF, "file_id": f}])
    zero = {"total_charge_cents": 0, "insurance_payments_cents": 0, "patient_payments_cents": 0, "adjustments_cents": 0,
            "snapshot_id": snap}  # fmt: skip
    conn.execute(sa.insert(t.atb_rows), [
        zero | {"pcn": "C1", "payer_id": "UNK", "service_date": date(2026, 8, 25), "balance_cents": 20_000},
        zero | {"pcn": "C2", "payer_id": "BCBS", "service_date": date(2026, 9, 28), "balance_cents": 50_000},
        zero | {"pcn": "C3", "payer_id": "MCR", "service_date": date(2026, 2, 20), "balance_cents": 30_000},
        zero | {"pcn": "CR", "payer_id": "MCR", "service_date": date(2026, 1, 5), "balance_cents": -5_000},
    ])  # fmt: skip
    write_run(conn, [result_row("C1", tier="no_opportunity", balance=10_000),
                     result_row("C2", tier="simple_fix", balance=10_000),
                     result_row("C3", tier="hinted", balance=20_000),
                     result_row("CR", tier="manual", balance=-10_000)], as_of=AS_OF)  # fmt: skip


def test_kpis_match_the_hand_worked_figures(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        clear_triage(conn)
        assert kpis(conn) is None  # no ATB snapshot yet
        _ledger(conn)
        k = kpis(conn)
    assert k is not None and k.as_of == AS_OF
    assert k.open_ar == Decimal("1000.00")
    assert k.days_in_ar == Decimal("60.0")  # 1,000.00 / (1,500.00 billed in 90 days / 90)
    assert k.pct_ar_over_90 == Decimal("0.3000")  # C3's 300.00 of 1,000.00; the credit is not A/R
    assert (k.denial_rate, k.denial_rate_dollars) == (Decimal("0.5000"), Decimal("0.3333"))  # reversal excluded
    assert k.net_collection_rate == Decimal("0.7778")  # 700 / (1,000 - 100 contractual)
    assert k.first_pass_acceptance_rate == Decimal("0.5000")  # C1's first 277CA accepted, C2's rejected
    assert (k.automation_share, k.automation_share_dollars) == (Decimal("0.5000"), Decimal("0.4000"))
    assert [(m["financial_class"], m["dollars"], m["share"]) for m in k.payer_mix] == [
        ("commercial", "500.00", "0.5000"), ("medicare", "300.00", "0.3000"), ("unknown", "200.00", "0.2000")]
    assert k.root_causes_by_month == {
        "2026-05": [{"root_cause": "authorization", "claims": 1, "dollars": "300.00"}],
        "2026-09": [{"root_cause": "medical_necessity", "claims": 1, "dollars": "500.00"}],
    }
    assert k.counts["adjudications"] == 2 and k.as_json()["days_in_ar"] == "60.0"


def test_empty_denominators_are_none_not_errors(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        clear_triage(conn)
        k = kpis(conn, as_of=date(2026, 1, 31))
    assert k is not None and k.open_ar == Decimal("0.00")
    assert all(getattr(k, name) is None for name in k.RATIOS)
    assert k.payer_mix == [] and k.root_causes_by_month == {}
