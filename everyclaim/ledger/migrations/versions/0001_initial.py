"""initial ledger schema

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "files",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(), server_default="", nullable=False),
        sa.Column("kind", sa.String(), server_default="", nullable=False),
        sa.Column("size", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("ingested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("counts", sa.Text(), server_default="{}", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_files")),
        sa.UniqueConstraint("sha256", name=op.f("uq_files_sha256")),
    )
    op.create_table(
        "atb_snapshots",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("file_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(
            ["file_id"], ["files.id"], name=op.f("fk_atb_snapshots_file_id_files"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_atb_snapshots")),
        sa.UniqueConstraint("file_id", "as_of", name=op.f("uq_atb_snapshots_file_id_as_of")),
    )
    with op.batch_alter_table("atb_snapshots", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_atb_snapshots_as_of"), ["as_of"], unique=False)
        batch_op.create_index(batch_op.f("ix_atb_snapshots_file_id"), ["file_id"], unique=False)

    op.create_table(
        "claims",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("pcn", sa.String(), server_default="", nullable=False),
        sa.Column("payer_id", sa.String(), server_default="", nullable=False),
        sa.Column("payer_name", sa.String(), server_default="", nullable=False),
        sa.Column("kind", sa.String(), server_default="", nullable=False),
        sa.Column("charge_cents", sa.BigInteger(), nullable=False),
        sa.Column("pos", sa.String(), server_default="", nullable=False),
        sa.Column("facility_qualifier", sa.String(), server_default="", nullable=False),
        sa.Column("frequency", sa.String(), server_default="", nullable=False),
        sa.Column("billing_npi", sa.String(), server_default="", nullable=False),
        sa.Column("billing_name", sa.String(), server_default="", nullable=False),
        sa.Column("rendering_npi", sa.String(), server_default="", nullable=False),
        sa.Column("subscriber_id", sa.String(), server_default="", nullable=False),
        sa.Column("subscriber_last", sa.String(), server_default="", nullable=False),
        sa.Column("subscriber_first", sa.String(), server_default="", nullable=False),
        sa.Column("patient_last", sa.String(), server_default="", nullable=False),
        sa.Column("patient_first", sa.String(), server_default="", nullable=False),
        sa.Column("responsibility", sa.String(), server_default="", nullable=False),
        sa.Column("claim_filing", sa.String(), server_default="", nullable=False),
        sa.Column("service_from", sa.Date(), nullable=True),
        sa.Column("service_to", sa.Date(), nullable=True),
        sa.Column("prior_auth", sa.String(), server_default="", nullable=False),
        sa.Column("referral", sa.String(), server_default="", nullable=False),
        sa.Column("payer_claim_control", sa.String(), server_default="", nullable=False),
        sa.Column("diagnoses", sa.String(), server_default="", nullable=False),
        sa.Column("first_billed_date", sa.Date(), nullable=True),
        sa.Column("last_billed_date", sa.Date(), nullable=True),
        sa.Column("submission_count", sa.Integer(), server_default="1", nullable=False),
        sa.Column("file_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("seg_index", sa.Integer(), server_default="0", nullable=False),
        sa.Column("isa13", sa.String(), server_default="", nullable=False),
        sa.Column("gs06", sa.String(), server_default="", nullable=False),
        sa.Column("st02", sa.String(), server_default="", nullable=False),
        sa.ForeignKeyConstraint(
            ["file_id"], ["files.id"], name=op.f("fk_claims_file_id_files"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_claims")),
        sa.UniqueConstraint("pcn", "payer_id", name=op.f("uq_claims_pcn_payer_id")),
    )
    with op.batch_alter_table("claims", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_claims_billing_npi"), ["billing_npi"], unique=False)
        batch_op.create_index(batch_op.f("ix_claims_file_id"), ["file_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_claims_last_billed_date"), ["last_billed_date"], unique=False)
        batch_op.create_index(batch_op.f("ix_claims_payer_id"), ["payer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_claims_pcn"), ["pcn"], unique=False)
        batch_op.create_index(batch_op.f("ix_claims_service_from"), ["service_from"], unique=False)

    op.create_table(
        "payer_profiles",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("payer_id", sa.String(), nullable=False),
        sa.Column("name", sa.String(), server_default="", nullable=False),
        sa.Column("financial_class", sa.String(), server_default="", nullable=False),
        sa.Column("timely_filing_days", sa.Integer(), nullable=True),
        sa.Column("appeal_days", sa.Integer(), nullable=True),
        sa.Column("file_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("seg_index", sa.Integer(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["file_id"], ["files.id"], name=op.f("fk_payer_profiles_file_id_files"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payer_profiles")),
        sa.UniqueConstraint("payer_id", name=op.f("uq_payer_profiles_payer_id")),
    )
    with op.batch_alter_table("payer_profiles", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payer_profiles_file_id"), ["file_id"], unique=False)

    op.create_table(
        "remittances",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("txn_hash", sa.String(length=64), nullable=False),
        sa.Column("handling", sa.String(), server_default="", nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("credit_debit", sa.String(), server_default="", nullable=False),
        sa.Column("method", sa.String(), server_default="", nullable=False),
        sa.Column("payment_date", sa.Date(), nullable=True),
        sa.Column("trace_number", sa.String(), server_default="", nullable=False),
        sa.Column("payer_trn_id", sa.String(), server_default="", nullable=False),
        sa.Column("payer_id", sa.String(), server_default="", nullable=False),
        sa.Column("payer_name", sa.String(), server_default="", nullable=False),
        sa.Column("payee_id", sa.String(), server_default="", nullable=False),
        sa.Column("payee_name", sa.String(), server_default="", nullable=False),
        sa.Column("production_date", sa.Date(), nullable=True),
        sa.Column("file_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("seg_index", sa.Integer(), server_default="0", nullable=False),
        sa.Column("isa13", sa.String(), server_default="", nullable=False),
        sa.Column("gs06", sa.String(), server_default="", nullable=False),
        sa.Column("st02", sa.String(), server_default="", nullable=False),
        sa.ForeignKeyConstraint(
            ["file_id"], ["files.id"], name=op.f("fk_remittances_file_id_files"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_remittances")),
        sa.UniqueConstraint("txn_hash", name=op.f("uq_remittances_txn_hash")),
    )
    with op.batch_alter_table("remittances", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_remittances_file_id"), ["file_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_remittances_payer_id"), ["payer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_remittances_payment_date"), ["payment_date"], unique=False)
        batch_op.create_index(batch_op.f("ix_remittances_trace_number"), ["trace_number"], unique=False)

    op.create_table(
        "transaction_acks",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("group_control", sa.String(), server_default="", nullable=False),
        sa.Column("functional_id", sa.String(), server_default="", nullable=False),
        sa.Column("transaction_type", sa.String(), server_default="", nullable=False),
        sa.Column("transaction_control", sa.String(), server_default="", nullable=False),
        sa.Column("code", sa.String(), server_default="", nullable=False),
        sa.Column("group_code", sa.String(), server_default="", nullable=False),
        sa.Column("errors", sa.Text(), server_default="", nullable=False),
        sa.Column("ack_date", sa.Date(), nullable=True),
        sa.Column("file_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("seg_index", sa.Integer(), server_default="0", nullable=False),
        sa.Column("isa13", sa.String(), server_default="", nullable=False),
        sa.Column("gs06", sa.String(), server_default="", nullable=False),
        sa.Column("st02", sa.String(), server_default="", nullable=False),
        sa.ForeignKeyConstraint(
            ["file_id"], ["files.id"], name=op.f("fk_transaction_acks_file_id_files"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transaction_acks")),
    )
    with op.batch_alter_table("transaction_acks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_transaction_acks_file_id"), ["file_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_transaction_acks_group_control_transaction_control"),
            ["group_control", "transaction_control"],
            unique=False,
        )

    op.create_table(
        "atb_rows",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("snapshot_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("claim_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("pcn", sa.String(), server_default="", nullable=False),
        sa.Column("patient_account", sa.String(), server_default="", nullable=False),
        sa.Column("payer_id", sa.String(), server_default="", nullable=False),
        sa.Column("responsibility", sa.String(), server_default="", nullable=False),
        sa.Column("service_date", sa.Date(), nullable=True),
        sa.Column("last_billed_date", sa.Date(), nullable=True),
        sa.Column("total_charge_cents", sa.BigInteger(), nullable=False),
        sa.Column("insurance_payments_cents", sa.BigInteger(), nullable=False),
        sa.Column("patient_payments_cents", sa.BigInteger(), nullable=False),
        sa.Column("adjustments_cents", sa.BigInteger(), nullable=False),
        sa.Column("balance_cents", sa.BigInteger(), nullable=False),
        sa.Column("seg_index", sa.Integer(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["claim_id"], ["claims.id"], name=op.f("fk_atb_rows_claim_id_claims"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["snapshot_id"],
            ["atb_snapshots.id"],
            name=op.f("fk_atb_rows_snapshot_id_atb_snapshots"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_atb_rows")),
    )
    with op.batch_alter_table("atb_rows", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_atb_rows_claim_id"), ["claim_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_atb_rows_pcn"), ["pcn"], unique=False)
        batch_op.create_index(batch_op.f("ix_atb_rows_snapshot_id"), ["snapshot_id"], unique=False)

    op.create_table(
        "claim_acks",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("claim_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("pcn", sa.String(), server_default="", nullable=False),
        sa.Column("payer_claim_control", sa.String(), server_default="", nullable=False),
        sa.Column("payer_id", sa.String(), server_default="", nullable=False),
        sa.Column("category", sa.String(), server_default="", nullable=False),
        sa.Column("status", sa.String(), server_default="", nullable=False),
        sa.Column("entity", sa.String(), server_default="", nullable=False),
        sa.Column("action", sa.String(), server_default="", nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=True),
        sa.Column("accepted", sa.Boolean(), nullable=False),
        sa.Column("status_date", sa.Date(), nullable=True),
        sa.Column("file_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("seg_index", sa.Integer(), server_default="0", nullable=False),
        sa.Column("isa13", sa.String(), server_default="", nullable=False),
        sa.Column("gs06", sa.String(), server_default="", nullable=False),
        sa.Column("st02", sa.String(), server_default="", nullable=False),
        sa.ForeignKeyConstraint(
            ["claim_id"], ["claims.id"], name=op.f("fk_claim_acks_claim_id_claims"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["file_id"], ["files.id"], name=op.f("fk_claim_acks_file_id_files"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_claim_acks")),
    )
    with op.batch_alter_table("claim_acks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_claim_acks_claim_id"), ["claim_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_claim_acks_file_id"), ["file_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_claim_acks_pcn"), ["pcn"], unique=False)

    op.create_table(
        "claim_lines",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("claim_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("procedure_qualifier", sa.String(), server_default="", nullable=False),
        sa.Column("procedure", sa.String(), server_default="", nullable=False),
        sa.Column("modifiers", sa.String(), server_default="", nullable=False),
        sa.Column("charge_cents", sa.BigInteger(), nullable=False),
        sa.Column("units", sa.Numeric(precision=14, scale=3), nullable=True),
        sa.Column("unit_basis", sa.String(), server_default="", nullable=False),
        sa.Column("service_date", sa.Date(), nullable=True),
        sa.Column("service_date_end", sa.Date(), nullable=True),
        sa.Column("revenue_code", sa.String(), server_default="", nullable=False),
        sa.Column("line_control", sa.String(), server_default="", nullable=False),
        sa.Column("seg_index", sa.Integer(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["claim_id"], ["claims.id"], name=op.f("fk_claim_lines_claim_id_claims"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_claim_lines")),
    )
    with op.batch_alter_table("claim_lines", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_claim_lines_claim_id"), ["claim_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_claim_lines_procedure"), ["procedure"], unique=False)

    op.create_table(
        "claim_other_payers",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("claim_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("responsibility", sa.String(), server_default="", nullable=False),
        sa.Column("payer_id", sa.String(), server_default="", nullable=False),
        sa.Column("payer_name", sa.String(), server_default="", nullable=False),
        sa.Column("subscriber_id", sa.String(), server_default="", nullable=False),
        sa.Column("paid_cents", sa.BigInteger(), nullable=True),
        sa.Column("adjudication_date", sa.Date(), nullable=True),
        sa.Column("claim_filing", sa.String(), server_default="", nullable=False),
        sa.Column("adjustments", sa.Text(), server_default="", nullable=False),
        sa.ForeignKeyConstraint(
            ["claim_id"],
            ["claims.id"],
            name=op.f("fk_claim_other_payers_claim_id_claims"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_claim_other_payers")),
    )
    with op.batch_alter_table("claim_other_payers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_claim_other_payers_claim_id"), ["claim_id"], unique=False)

    op.create_table(
        "claim_payments",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("remittance_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("claim_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("pcn", sa.String(), server_default="", nullable=False),
        sa.Column("payer_id", sa.String(), server_default="", nullable=False),
        sa.Column("status", sa.String(), server_default="", nullable=False),
        sa.Column("charge_cents", sa.BigInteger(), nullable=False),
        sa.Column("paid_cents", sa.BigInteger(), nullable=False),
        sa.Column("patient_resp_cents", sa.BigInteger(), nullable=False),
        sa.Column("coverage_cents", sa.BigInteger(), nullable=True),
        sa.Column("claim_filing", sa.String(), server_default="", nullable=False),
        sa.Column("payer_claim_control", sa.String(), server_default="", nullable=False),
        sa.Column("facility_code", sa.String(), server_default="", nullable=False),
        sa.Column("frequency", sa.String(), server_default="", nullable=False),
        sa.Column("drg", sa.String(), server_default="", nullable=False),
        sa.Column("patient_last", sa.String(), server_default="", nullable=False),
        sa.Column("patient_first", sa.String(), server_default="", nullable=False),
        sa.Column("insured_id", sa.String(), server_default="", nullable=False),
        sa.Column("statement_from", sa.Date(), nullable=True),
        sa.Column("statement_to", sa.Date(), nullable=True),
        sa.Column("received_date", sa.Date(), nullable=True),
        sa.Column("is_reversal", sa.Boolean(), nullable=False),
        sa.Column("denied", sa.Boolean(), nullable=False),
        sa.Column("reverses_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("file_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("seg_index", sa.Integer(), server_default="0", nullable=False),
        sa.Column("isa13", sa.String(), server_default="", nullable=False),
        sa.Column("gs06", sa.String(), server_default="", nullable=False),
        sa.Column("st02", sa.String(), server_default="", nullable=False),
        sa.ForeignKeyConstraint(
            ["claim_id"], ["claims.id"], name=op.f("fk_claim_payments_claim_id_claims"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["file_id"], ["files.id"], name=op.f("fk_claim_payments_file_id_files"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["remittance_id"],
            ["remittances.id"],
            name=op.f("fk_claim_payments_remittance_id_remittances"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reverses_id"],
            ["claim_payments.id"],
            name=op.f("fk_claim_payments_reverses_id_claim_payments"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_claim_payments")),
    )
    with op.batch_alter_table("claim_payments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_claim_payments_claim_id"), ["claim_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_claim_payments_file_id"), ["file_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_claim_payments_payer_claim_control"), ["payer_claim_control"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_claim_payments_pcn"), ["pcn"], unique=False)
        batch_op.create_index(batch_op.f("ix_claim_payments_remittance_id"), ["remittance_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_claim_payments_reverses_id"), ["reverses_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_claim_payments_status"), ["status"], unique=False)

    op.create_table(
        "findings",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("stable_id", sa.String(length=32), nullable=False),
        sa.Column("code", sa.String(), nullable=False),
        sa.Column("severity", sa.String(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("file_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("seg_index", sa.Integer(), server_default="0", nullable=False),
        sa.Column("seg_id", sa.String(), server_default="", nullable=False),
        sa.Column("element", sa.Integer(), server_default="0", nullable=False),
        sa.Column("ack_code", sa.String(), server_default="", nullable=False),
        sa.Column("control", sa.String(), server_default="", nullable=False),
        sa.Column("claim_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["claim_id"], ["claims.id"], name=op.f("fk_findings_claim_id_claims"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["file_id"], ["files.id"], name=op.f("fk_findings_file_id_files"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_findings")),
        sa.UniqueConstraint("stable_id", name=op.f("uq_findings_stable_id")),
    )
    with op.batch_alter_table("findings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_findings_claim_id"), ["claim_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_findings_code"), ["code"], unique=False)
        batch_op.create_index(batch_op.f("ix_findings_file_id"), ["file_id"], unique=False)

    op.create_table(
        "provider_adjustments",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("remittance_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("claim_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("provider_id", sa.String(), server_default="", nullable=False),
        sa.Column("fiscal_date", sa.Date(), nullable=True),
        sa.Column("reason", sa.String(), server_default="", nullable=False),
        sa.Column("reference", sa.String(), server_default="", nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("file_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("seg_index", sa.Integer(), server_default="0", nullable=False),
        sa.Column("isa13", sa.String(), server_default="", nullable=False),
        sa.Column("gs06", sa.String(), server_default="", nullable=False),
        sa.Column("st02", sa.String(), server_default="", nullable=False),
        sa.ForeignKeyConstraint(
            ["claim_id"],
            ["claims.id"],
            name=op.f("fk_provider_adjustments_claim_id_claims"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["file_id"], ["files.id"], name=op.f("fk_provider_adjustments_file_id_files"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["remittance_id"],
            ["remittances.id"],
            name=op.f("fk_provider_adjustments_remittance_id_remittances"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provider_adjustments")),
    )
    with op.batch_alter_table("provider_adjustments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_provider_adjustments_claim_id"), ["claim_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_provider_adjustments_file_id"), ["file_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_provider_adjustments_reason"), ["reason"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_provider_adjustments_remittance_id"), ["remittance_id"], unique=False
        )

    op.create_table(
        "submissions",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("claim_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("frequency", sa.String(), server_default="", nullable=False),
        sa.Column("charge_cents", sa.BigInteger(), nullable=False),
        sa.Column("submitted_date", sa.Date(), nullable=True),
        sa.Column("payer_claim_control", sa.String(), server_default="", nullable=False),
        sa.Column("file_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("seg_index", sa.Integer(), server_default="0", nullable=False),
        sa.Column("isa13", sa.String(), server_default="", nullable=False),
        sa.Column("gs06", sa.String(), server_default="", nullable=False),
        sa.Column("st02", sa.String(), server_default="", nullable=False),
        sa.ForeignKeyConstraint(
            ["claim_id"], ["claims.id"], name=op.f("fk_submissions_claim_id_claims"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["file_id"], ["files.id"], name=op.f("fk_submissions_file_id_files"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_submissions")),
    )
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_submissions_claim_id"), ["claim_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_submissions_file_id"), ["file_id"], unique=False)

    op.create_table(
        "line_payments",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("claim_payment_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("procedure_qualifier", sa.String(), server_default="", nullable=False),
        sa.Column("procedure", sa.String(), server_default="", nullable=False),
        sa.Column("modifiers", sa.String(), server_default="", nullable=False),
        sa.Column("charge_cents", sa.BigInteger(), nullable=False),
        sa.Column("paid_cents", sa.BigInteger(), nullable=False),
        sa.Column("allowed_cents", sa.BigInteger(), nullable=True),
        sa.Column("revenue_code", sa.String(), server_default="", nullable=False),
        sa.Column("units", sa.Numeric(precision=14, scale=3), nullable=True),
        sa.Column("original_procedure", sa.String(), server_default="", nullable=False),
        sa.Column("service_date", sa.Date(), nullable=True),
        sa.Column("service_date_end", sa.Date(), nullable=True),
        sa.Column("line_control", sa.String(), server_default="", nullable=False),
        sa.Column("seg_index", sa.Integer(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["claim_payment_id"],
            ["claim_payments.id"],
            name=op.f("fk_line_payments_claim_payment_id_claim_payments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_line_payments")),
    )
    with op.batch_alter_table("line_payments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_line_payments_claim_payment_id"), ["claim_payment_id"], unique=False
        )

    op.create_table(
        "adjustments",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("claim_payment_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("line_payment_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("level", sa.String(), nullable=False),
        sa.Column("group_code", sa.String(), nullable=False),
        sa.Column("carc", sa.String(), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("quantity", sa.Numeric(precision=14, scale=3), nullable=True),
        sa.ForeignKeyConstraint(
            ["claim_payment_id"],
            ["claim_payments.id"],
            name=op.f("fk_adjustments_claim_payment_id_claim_payments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["line_payment_id"],
            ["line_payments.id"],
            name=op.f("fk_adjustments_line_payment_id_line_payments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_adjustments")),
    )
    with op.batch_alter_table("adjustments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_adjustments_claim_payment_id"), ["claim_payment_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_adjustments_group_code_carc"), ["group_code", "carc"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_adjustments_line_payment_id"), ["line_payment_id"], unique=False)

    op.create_table(
        "remarks",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("claim_payment_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("line_payment_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("qualifier", sa.String(), nullable=False),
        sa.Column("code", sa.String(), nullable=False),
        sa.ForeignKeyConstraint(
            ["claim_payment_id"],
            ["claim_payments.id"],
            name=op.f("fk_remarks_claim_payment_id_claim_payments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["line_payment_id"],
            ["line_payments.id"],
            name=op.f("fk_remarks_line_payment_id_line_payments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_remarks")),
    )
    with op.batch_alter_table("remarks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_remarks_claim_payment_id"), ["claim_payment_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_remarks_code"), ["code"], unique=False)
        batch_op.create_index(batch_op.f("ix_remarks_line_payment_id"), ["line_payment_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("remarks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_remarks_line_payment_id"))
        batch_op.drop_index(batch_op.f("ix_remarks_code"))
        batch_op.drop_index(batch_op.f("ix_remarks_claim_payment_id"))

    op.drop_table("remarks")
    with op.batch_alter_table("adjustments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_adjustments_line_payment_id"))
        batch_op.drop_index(batch_op.f("ix_adjustments_group_code_carc"))
        batch_op.drop_index(batch_op.f("ix_adjustments_claim_payment_id"))

    op.drop_table("adjustments")
    with op.batch_alter_table("line_payments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_line_payments_claim_payment_id"))

    op.drop_table("line_payments")
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_submissions_file_id"))
        batch_op.drop_index(batch_op.f("ix_submissions_claim_id"))

    op.drop_table("submissions")
    with op.batch_alter_table("provider_adjustments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_provider_adjustments_remittance_id"))
        batch_op.drop_index(batch_op.f("ix_provider_adjustments_reason"))
        batch_op.drop_index(batch_op.f("ix_provider_adjustments_file_id"))
        batch_op.drop_index(batch_op.f("ix_provider_adjustments_claim_id"))

    op.drop_table("provider_adjustments")
    with op.batch_alter_table("findings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_findings_file_id"))
        batch_op.drop_index(batch_op.f("ix_findings_code"))
        batch_op.drop_index(batch_op.f("ix_findings_claim_id"))

    op.drop_table("findings")
    with op.batch_alter_table("claim_payments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_claim_payments_status"))
        batch_op.drop_index(batch_op.f("ix_claim_payments_reverses_id"))
        batch_op.drop_index(batch_op.f("ix_claim_payments_remittance_id"))
        batch_op.drop_index(batch_op.f("ix_claim_payments_pcn"))
        batch_op.drop_index(batch_op.f("ix_claim_payments_payer_claim_control"))
        batch_op.drop_index(batch_op.f("ix_claim_payments_file_id"))
        batch_op.drop_index(batch_op.f("ix_claim_payments_claim_id"))

    op.drop_table("claim_payments")
    with op.batch_alter_table("claim_other_payers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_claim_other_payers_claim_id"))

    op.drop_table("claim_other_payers")
    with op.batch_alter_table("claim_lines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_claim_lines_procedure"))
        batch_op.drop_index(batch_op.f("ix_claim_lines_claim_id"))

    op.drop_table("claim_lines")
    with op.batch_alter_table("claim_acks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_claim_acks_pcn"))
        batch_op.drop_index(batch_op.f("ix_claim_acks_file_id"))
        batch_op.drop_index(batch_op.f("ix_claim_acks_claim_id"))

    op.drop_table("claim_acks")
    with op.batch_alter_table("atb_rows", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_atb_rows_snapshot_id"))
        batch_op.drop_index(batch_op.f("ix_atb_rows_pcn"))
        batch_op.drop_index(batch_op.f("ix_atb_rows_claim_id"))

    op.drop_table("atb_rows")
    with op.batch_alter_table("transaction_acks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_transaction_acks_group_control_transaction_control"))
        batch_op.drop_index(batch_op.f("ix_transaction_acks_file_id"))

    op.drop_table("transaction_acks")
    with op.batch_alter_table("remittances", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_remittances_trace_number"))
        batch_op.drop_index(batch_op.f("ix_remittances_payment_date"))
        batch_op.drop_index(batch_op.f("ix_remittances_payer_id"))
        batch_op.drop_index(batch_op.f("ix_remittances_file_id"))

    op.drop_table("remittances")
    with op.batch_alter_table("payer_profiles", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payer_profiles_file_id"))

    op.drop_table("payer_profiles")
    with op.batch_alter_table("claims", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_claims_service_from"))
        batch_op.drop_index(batch_op.f("ix_claims_pcn"))
        batch_op.drop_index(batch_op.f("ix_claims_payer_id"))
        batch_op.drop_index(batch_op.f("ix_claims_last_billed_date"))
        batch_op.drop_index(batch_op.f("ix_claims_file_id"))
        batch_op.drop_index(batch_op.f("ix_claims_billing_npi"))

    op.drop_table("claims")
    with op.batch_alter_table("atb_snapshots", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_atb_snapshots_file_id"))
        batch_op.drop_index(batch_op.f("ix_atb_snapshots_as_of"))

    op.drop_table("atb_snapshots")
    op.drop_table("files")
