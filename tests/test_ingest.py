"""Ingest end to end on the real database (SQLite and PostgreSQL): the public samples, bad input, no-ops."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from everyclaim.cli import app
from everyclaim.ingest import pipeline
from everyclaim.ledger import schema as t
from everyclaim.ledger.balances import balances
from tests.shared_data import KNOWN_ACCEPTED_INVALID, KNOWN_REJECTED, X12, invalid_files, valid_files

POSTED_TABLES = (t.claims, t.claim_lines, t.submissions, t.claim_acks, t.transaction_acks, t.remittances,
                 t.claim_payments, t.adjustments, t.remarks, t.line_payments, t.provider_adjustments, t.atb_rows,
                 t.payer_profiles)


def row_counts(engine: sa.Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {tb.name: conn.execute(sa.select(sa.func.count()).select_from(tb)).scalar_one() for tb in POSTED_TABLES}


def url_of(engine: sa.Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def test_every_valid_sample_ingests_and_the_ledger_balances(engine: sa.Engine) -> None:
    summary = pipeline.ingest(engine, valid_files(readable=False))
    bad = [(o.path.name, o.status, o.error.located() if o.error else "") for o in summary.outcomes
           if o.status not in ("accepted", "duplicate", "skipped") and o.path.name not in KNOWN_REJECTED]
    assert bad == []
    assert {o.path.name for o in summary.outcomes if o.status == "rejected"} == set(KNOWN_REJECTED)
    accepted = [o for o in summary.outcomes if o.status == "accepted"]
    assert len(accepted) >= 60
    totals = summary.totals()
    assert totals["claims"] > 1000 and totals["payments"] >= 30 and totals["adjustments"] >= 50
    assert totals["skipped_transactions"] >= 156  # tasty__emedny_multiple_283KB repeats one check 156 times
    with engine.connect() as conn:  # the ledger's balances against an independent sum of the raw rows
        paid = dict(conn.execute(sa.select(t.claim_payments.c.claim_id, sa.func.sum(t.claim_payments.c.paid_cents))
                                 .group_by(t.claim_payments.c.claim_id)).all())
        adj_rows = conn.execute(sa.select(t.claim_payments.c.claim_id, t.adjustments.c.group_code,
                                          t.adjustments.c.amount_cents)
                                .join(t.claim_payments, t.claim_payments.c.id == t.adjustments.c.claim_payment_id)
                                .where(t.claim_payments.c.denied.is_(False))).all()  # a denial is not a write-off
        adjusted: dict[int, int] = {}
        for claim_id, group, cents in adj_rows:
            if group != "PR":
                adjusted[claim_id] = adjusted.get(claim_id, 0) + cents
        ledger = balances(conn)
        assert ledger
        for b in ledger:
            expected = b.charge * 100 - paid.get(b.claim_id, 0) - adjusted.get(b.claim_id, 0)
            assert b.balance * 100 == expected, b
            assert b.charge == b.insurance_paid + b.patient_paid + b.adjustments + b.balance, b


def test_reingesting_changes_nothing(engine: sa.Engine) -> None:
    files = valid_files("835", readable=False)
    pipeline.ingest(engine, files)
    before = row_counts(engine)
    again = pipeline.ingest(engine, files)
    assert row_counts(engine) == before
    assert {o.status for o in again.outcomes if o.path.name not in KNOWN_REJECTED} <= {"duplicate", "skipped"}


def test_the_same_835_transaction_in_another_file_is_a_no_op(engine: sa.Engine, tmp_path: Path) -> None:
    original = X12 / "835" / "lfh__managed-care.835"
    copy = tmp_path / "resent.835"
    copy.write_bytes(original.read_bytes() + b"\n")  # another file (another sha256), the same transaction
    assert copy.read_bytes() != original.read_bytes()
    pipeline.ingest(engine, [original])
    before = row_counts(engine)
    summary = pipeline.ingest(engine, [copy])
    assert summary.outcomes[0].status == "accepted"
    assert summary.outcomes[0].counts["skipped_transactions"] == 1
    assert row_counts(engine) == before


@pytest.mark.parametrize("path", [pytest.param(p, marks=pytest.mark.xfail(strict=True, reason=KNOWN_ACCEPTED_INVALID[p.name]))
                                  if p.name in KNOWN_ACCEPTED_INVALID else p for p in invalid_files()],
                         ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_invalid_files_are_rejected_whole_with_a_located_error(engine: sa.Engine, path: Path) -> None:
    summary = pipeline.ingest(engine, [path])
    outcome = summary.outcomes[0]
    assert outcome.status == "rejected"
    assert outcome.error is not None and outcome.error.severity == "error"
    assert Path(outcome.error.file_name).name == path.name
    assert outcome.error.code and outcome.error.message
    assert all(v == 0 for v in row_counts(engine).values())
    with engine.connect() as conn:  # the rejection itself is recorded, with its location
        stored = conn.execute(sa.select(t.findings.c.code, t.findings.c.seg_index)).all()
    assert (outcome.error.code, outcome.error.seg_index) in [tuple(r) for r in stored]


def test_a_4010_file_is_refused_with_a_clear_message(engine: sa.Engine) -> None:
    path = next((X12 / "legacy_4010").iterdir())
    outcome = pipeline.ingest(engine, [path]).outcomes[0]
    assert outcome.status == "rejected"
    assert "4010" in outcome.error.message


def test_an_unsupported_transaction_is_refused(engine: sa.Engine) -> None:
    path = next((X12 / "270").glob("lfh__*"))
    outcome = pipeline.ingest(engine, [path]).outcomes[0]
    assert outcome.status == "rejected"
    assert "270" in outcome.error.message


# ------------------------------------------------------------------------------------------------
# CSV
# ------------------------------------------------------------------------------------------------
ATB = ("Claim_ID,patient_account,payer_id,responsibility,service_date,last_billed_date,total_charge,"
       "insurance_payments,patient_payments,adjustments,balance\n")


def test_atb_and_payer_csv_ingest_with_a_finding_for_an_unbalanced_row(engine: sa.Engine, tmp_path: Path) -> None:
    (tmp_path / "payers.csv").write_text("payer_id,payer_name,financial_class,timely_filing_days,appeal_days\n"
                                         "MCR,Medicare,medicare,365,120\n")
    (tmp_path / "atb.csv").write_text(ATB + "C1,A1,MCR,primary,2026-01-05,2026-01-06,100.00,60.00,0,30.00,10.00\n"
                                      "C2,A2,MCR,patient,2026-02-01,2026-02-02,50.00,0,0,0,45.00\n")
    summary = pipeline.ingest(engine, [tmp_path], pipeline.Options(as_of=None))
    by_name = {o.path.name: o for o in summary.outcomes}
    assert by_name["payers.csv"].status == by_name["atb.csv"].status == "accepted"
    assert [f.seg_index for f in by_name["atb.csv"].findings if f.code == "ATB-UNBALANCED"] == [3]
    counts = row_counts(engine)
    assert counts["atb_rows"] == 2 and counts["payer_profiles"] == 1


def test_a_csv_with_an_unreadable_amount_is_rejected_at_its_line_and_column(engine: sa.Engine, tmp_path: Path) -> None:
    (tmp_path / "atb.csv").write_text(ATB + "C1,A1,MCR,primary,2026-01-05,,100.00,60.00,0,30.00,10.00\n"
                                      "C2,A2,MCR,primary,2026-01-05,,1OO.00,0,0,0,100.00\n")
    outcome = pipeline.ingest(engine, [tmp_path / "atb.csv"]).outcomes[0]
    assert outcome.status == "rejected"
    assert outcome.error.seg_index == 3 and "total_charge" in outcome.error.message
    assert row_counts(engine)["atb_rows"] == 0


def test_map_renames_csv_columns(engine: sa.Engine, tmp_path: Path) -> None:
    (tmp_path / "atb.csv").write_text(ATB.replace("balance", "Acct Balance")
                                      + "C1,A1,MCR,primary,2026-01-05,,100.00,60.00,0,30.00,10.00\n")
    options = pipeline.Options(mapping={"acct balance": "balance"})
    assert pipeline.ingest(engine, [tmp_path / "atb.csv"], options).outcomes[0].status == "accepted"


# ------------------------------------------------------------------------------------------------
# The command line
# ------------------------------------------------------------------------------------------------
runner = CliRunner()


def test_cli_skips_unknown_files_in_a_folder_but_refuses_them_by_name(engine: sa.Engine, tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(X12 / "835" / "lfh__managed-care.835", inbox)
    (inbox / "README.md").write_text("# not a claim file\n")
    (inbox / "scan.pdf").write_bytes(b"%PDF-1.4\n")
    db = ["--db", url_of(engine)]
    folder = runner.invoke(app, ["ingest", str(inbox), "--json", *db])
    assert folder.exit_code == 0, folder.output
    result = json.loads(folder.output)
    assert result["totals"]["skipped"] == 2 and result["totals"]["accepted"] == 1
    assert {"files", "transactions", "claims", "payments", "adjustments", "findings", "rejected"} <= set(result["totals"])
    named = runner.invoke(app, ["ingest", str(inbox / "README.md"), *db])
    assert named.exit_code == 1
    assert "neither X12 nor a known CSV" in named.output


def test_cli_usage_errors_exit_2(engine: sa.Engine, tmp_path: Path) -> None:
    result = runner.invoke(app, ["ingest", str(tmp_path), "--as-of", "yesterday", "--db", url_of(engine)])
    assert result.exit_code == 2
    assert runner.invoke(app, ["ingest", str(tmp_path), "--map", "nonsense", "--db", url_of(engine)]).exit_code == 2


def test_cli_claim_story_and_ledger_check(engine: sa.Engine) -> None:
    db = ["--db", url_of(engine)]
    assert runner.invoke(app, ["ingest", str(X12 / "835" / "lfh__managed-care.835"), *db]).exit_code == 0
    with engine.connect() as conn:
        pcn = conn.execute(sa.select(t.claim_payments.c.pcn).limit(1)).scalar_one()
    story = runner.invoke(app, ["claims", "show", pcn, "--json", *db])
    assert story.exit_code == 0, story.output
    assert pcn in story.output
    check = runner.invoke(app, ["ledger", "check", "--json", *db])
    assert check.exit_code == 0
    codes = {f["code"] for f in json.loads(check.output)}
    assert "LEDGER-UNMATCHED-REMIT" in codes  # an 835 with no 837 behind it is kept and reported
    assert runner.invoke(app, ["claims", "show", "NO-SUCH-CLAIM", *db]).exit_code == 1


def test_cli_validate_posts_nothing(engine: sa.Engine) -> None:
    good = runner.invoke(app, ["validate", str(X12 / "835" / "lfh__managed-care.835")])
    assert good.exit_code == 0 and "accepted" in good.output
    bad = runner.invoke(app, ["validate", str(X12 / "837p" / "invalid" / "ims__x12_bad_valid_code.txt")])
    assert bad.exit_code == 1 and "segment 9" in bad.output


def test_cli_explains_a_carc() -> None:
    result = runner.invoke(app, ["codes", "carc", "29"])
    assert result.exit_code == 0
    assert "timely" in result.output.lower()


def test_cli_validate_strict_adds_pyx12s_verdict_and_writes_nothing(tmp_path: Path) -> None:
    copy = tmp_path / "m.835"
    shutil.copy(X12 / "835" / "lfh__medicare-part-a.835", copy)  # pyx12 reports a missing PER here
    result = runner.invoke(app, ["validate", "--strict", str(copy)])
    assert result.exit_code == 0
    assert "pyx12" in result.output and "PER" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.835"]
