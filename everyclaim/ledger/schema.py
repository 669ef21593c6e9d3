"""The ledger's tables (SQLAlchemy Core), identical on SQLite and PostgreSQL.

Conventions
-----------
* Money is an exact integer number of cents in a ``BIGINT`` column whose name ends in ``_cents``.
  Python code converts with :func:`everyclaim.ledger.balances.to_cents` / ``from_cents`` (Decimal),
  never float. Sums stay exact in SQL on both databases.
* Every row that came from a file keeps its source: ``file_id`` (-> ``files.sha256``) and, where the
  file is X12, the interchange / group / transaction control numbers (``isa13``, ``gs06``, ``st02``)
  and the 1-based ``seg_index`` of the segment that opened it (CSV: the line number).
* ``claim_id`` on a remittance claim, an acknowledgment or an ATB row is the *matched* billed claim;
  ``NULL`` means unmatched (kept and reported by ``ledger check``, never dropped).
* Codes are kept as the payer sent them (``group_code`` CO/PR/OA/PI/CR, ``carc``, RARC ``code``).

The accounting model lives in :mod:`everyclaim.ledger.balances`.
"""

from __future__ import annotations

import sqlalchemy as sa

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING)

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")  # INTEGER PRIMARY KEY = rowid on SQLite
Money = sa.BigInteger  # cents
Quantity = sa.Numeric(14, 3, asdecimal=True)


def _pk() -> sa.Column:
    return sa.Column("id", Id, primary_key=True, autoincrement=True)


def _ref(table: str, nullable: bool = False, ondelete: str | None = "CASCADE", name: str = "") -> sa.Column:
    return sa.Column(
        name or f"{table[:-1]}_id",
        Id,
        sa.ForeignKey(f"{table}.id", ondelete=ondelete),
        nullable=nullable,
        index=True,
    )


def _source(with_controls: bool = True) -> list[sa.Column]:
    cols = [_ref("files"), sa.Column("seg_index", sa.Integer, nullable=False, server_default="0")]
    if with_controls:
        cols += [sa.Column(n, sa.String(16), nullable=False, server_default="") for n in ("isa13", "gs06", "st02")]
    return cols


def _s(name: str, length: int = 80, **kw: object) -> sa.Column:
    """A short, never-NULL text column (empty string when the file had nothing)."""
    return sa.Column(name, sa.String(length), nullable=False, server_default="", **kw)


files = sa.Table(
    "files",
    metadata,
    _pk(),
    sa.Column("sha256", sa.String(64), nullable=False, unique=True),
    _s("name", 512),
    _s("kind", 16),  # 837P, 837I, 835, 277CA, 999, atb, payers ...
    sa.Column("size", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("status", sa.String(16), nullable=False),  # accepted | rejected
    sa.Column("ingested_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("counts", sa.Text, nullable=False, server_default="{}"),  # JSON of PostResult counts
)

payer_profiles = sa.Table(
    "payer_profiles",
    metadata,
    _pk(),
    sa.Column("payer_id", sa.String(80), nullable=False, unique=True),
    _s("name", 200),
    _s("financial_class", 32),
    sa.Column("timely_filing_days", sa.Integer),
    sa.Column("appeal_days", sa.Integer),
    _ref("files", nullable=True, ondelete="SET NULL"),
    sa.Column("seg_index", sa.Integer, nullable=False, server_default="0"),
)

claims = sa.Table(
    "claims",
    metadata,
    _pk(),
    _s("pcn", 38, index=True),
    _s("payer_id", 80, index=True),
    _s("payer_name", 200),
    _s("kind", 8),  # 837P | 837I
    sa.Column("charge_cents", Money, nullable=False),
    _s("pos", 8),
    _s("facility_qualifier", 2),
    _s("frequency", 2),  # of the latest submission: 1 original, 7 replacement, 8 void
    _s("billing_npi", 80, index=True),
    _s("billing_name", 200),
    _s("rendering_npi", 80),
    _s("subscriber_id", 80),
    _s("subscriber_last", 80),
    _s("subscriber_first", 80),
    _s("patient_last", 80),
    _s("patient_first", 80),
    _s("responsibility", 2),  # SBR01: P primary, S secondary, T tertiary ...
    _s("claim_filing", 4),
    sa.Column("service_from", sa.Date, index=True),
    sa.Column("service_to", sa.Date),
    _s("prior_auth", 80),
    _s("referral", 80),
    _s("payer_claim_control", 80),
    _s("diagnoses", 400),  # comma-joined, principal first
    sa.Column("first_billed_date", sa.Date),
    sa.Column("last_billed_date", sa.Date, index=True),
    sa.Column("submission_count", sa.Integer, nullable=False, server_default="1"),
    *_source(),
    sa.UniqueConstraint("pcn", "payer_id"),
)

claim_lines = sa.Table(
    "claim_lines",
    metadata,
    _pk(),
    _ref("claims"),
    sa.Column("line_no", sa.Integer, nullable=False),
    _s("procedure_qualifier", 4),
    _s("procedure", 48, index=True),
    _s("modifiers", 32),  # comma-joined
    sa.Column("charge_cents", Money, nullable=False),
    sa.Column("units", Quantity),
    _s("unit_basis", 4),
    sa.Column("service_date", sa.Date),
    sa.Column("service_date_end", sa.Date),
    _s("revenue_code", 8),
    _s("line_control", 50),
    sa.Column("seg_index", sa.Integer, nullable=False, server_default="0"),
)

submissions = sa.Table(
    "submissions",
    metadata,
    _pk(),
    _ref("claims"),
    _s("frequency", 2),
    sa.Column("charge_cents", Money, nullable=False),
    sa.Column("submitted_date", sa.Date),
    _s("payer_claim_control", 80),
    *_source(),
)

claim_other_payers = sa.Table(
    "claim_other_payers",
    metadata,
    _pk(),
    _ref("claims"),
    _s("responsibility", 2),
    _s("payer_id", 80),
    _s("payer_name", 200),
    _s("subscriber_id", 80),
    sa.Column("paid_cents", Money),
    sa.Column("adjudication_date", sa.Date),
    _s("claim_filing", 4),
    sa.Column("adjustments", sa.Text, nullable=False, server_default=""),  # "CO-45:12.00;PR-2:5.00"
)

claim_acks = sa.Table(
    "claim_acks",
    metadata,
    _pk(),
    _ref("claims", nullable=True, ondelete="SET NULL"),
    _s("pcn", 38, index=True),
    _s("payer_claim_control", 80),
    _s("payer_id", 80),
    _s("category", 8),
    _s("status", 8),
    _s("entity", 8),
    _s("action", 8),
    sa.Column("amount_cents", Money),
    sa.Column("accepted", sa.Boolean, nullable=False),
    sa.Column("status_date", sa.Date),
    *_source(),
)

transaction_acks = sa.Table(
    "transaction_acks",
    metadata,
    _pk(),
    _s("group_control", 16),
    _s("functional_id", 4),
    _s("transaction_type", 8),
    _s("transaction_control", 16),
    _s("code", 4),
    _s("group_code", 4),
    sa.Column("errors", sa.Text, nullable=False, server_default=""),  # "CLM:12:8;NM1:20:3"
    sa.Column("ack_date", sa.Date),
    *_source(),
    sa.Index(None, "group_control", "transaction_control"),
)

remittances = sa.Table(
    "remittances",
    metadata,
    _pk(),
    sa.Column("txn_hash", sa.String(64), nullable=False, unique=True),
    _s("handling", 4),
    sa.Column("amount_cents", Money, nullable=False),
    _s("credit_debit", 2),
    _s("method", 4),
    sa.Column("payment_date", sa.Date, index=True),
    _s("trace_number", 80, index=True),
    _s("payer_trn_id", 80),
    _s("payer_id", 80, index=True),
    _s("payer_name", 200),
    _s("payee_id", 80),
    _s("payee_name", 200),
    sa.Column("production_date", sa.Date),
    *_source(),
)

claim_payments = sa.Table(
    "claim_payments",
    metadata,
    _pk(),
    _ref("remittances"),
    _ref("claims", nullable=True, ondelete="SET NULL"),
    _s("pcn", 38, index=True),
    _s("payer_id", 80),  # the remittance's payer, denormalised for matching
    _s("status", 4, index=True),  # CLP02
    sa.Column("charge_cents", Money, nullable=False),
    sa.Column("paid_cents", Money, nullable=False),
    sa.Column("patient_resp_cents", Money, nullable=False),
    sa.Column("coverage_cents", Money),
    _s("claim_filing", 4),
    _s("payer_claim_control", 80, index=True),
    _s("facility_code", 4),
    _s("frequency", 2),
    _s("drg", 8),
    _s("patient_last", 80),
    _s("patient_first", 80),
    _s("insured_id", 80),
    sa.Column("statement_from", sa.Date),
    sa.Column("statement_to", sa.Date),
    sa.Column("received_date", sa.Date),
    sa.Column("is_reversal", sa.Boolean, nullable=False),
    _ref("claim_payments", nullable=True, ondelete="SET NULL", name="reverses_id"),
    *_source(),
)

line_payments = sa.Table(
    "line_payments",
    metadata,
    _pk(),
    _ref("claim_payments"),
    _s("procedure_qualifier", 4),
    _s("procedure", 48),
    _s("modifiers", 32),
    sa.Column("charge_cents", Money, nullable=False),
    sa.Column("paid_cents", Money, nullable=False),
    sa.Column("allowed_cents", Money),
    _s("revenue_code", 8),
    sa.Column("units", Quantity),
    _s("original_procedure", 48),
    sa.Column("service_date", sa.Date),
    sa.Column("service_date_end", sa.Date),
    _s("line_control", 50),
    sa.Column("seg_index", sa.Integer, nullable=False, server_default="0"),
)

adjustments = sa.Table(
    "adjustments",
    metadata,
    _pk(),
    _ref("claim_payments"),
    _ref("line_payments", nullable=True),
    sa.Column("level", sa.String(8), nullable=False),  # claim | line
    sa.Column("group_code", sa.String(4), nullable=False),
    sa.Column("carc", sa.String(8), nullable=False),
    sa.Column("amount_cents", Money, nullable=False),
    sa.Column("quantity", Quantity),
    sa.Index(None, "group_code", "carc"),
)

remarks = sa.Table(
    "remarks",
    metadata,
    _pk(),
    _ref("claim_payments"),
    _ref("line_payments", nullable=True),
    sa.Column("qualifier", sa.String(8), nullable=False),  # HE (LQ), MOA, MIA, RX
    sa.Column("code", sa.String(16), nullable=False, index=True),
)

provider_adjustments = sa.Table(
    "provider_adjustments",
    metadata,
    _pk(),
    _ref("remittances"),
    _ref("claims", nullable=True, ondelete="SET NULL"),  # matched through reference = CLP07 or PCN
    _s("provider_id", 80),
    sa.Column("fiscal_date", sa.Date),
    _s("reason", 4, index=True),
    _s("reference", 80),
    sa.Column("amount_cents", Money, nullable=False),  # positive reduces the payment
    *_source(),
)

atb_snapshots = sa.Table(
    "atb_snapshots",
    metadata,
    _pk(),
    sa.Column("as_of", sa.Date, nullable=False, index=True),
    _ref("files"),
    sa.UniqueConstraint("file_id", "as_of"),
)

atb_rows = sa.Table(
    "atb_rows",
    metadata,
    _pk(),
    _ref("atb_snapshots", name="snapshot_id"),
    _ref("claims", nullable=True, ondelete="SET NULL"),
    _s("pcn", 38, index=True),  # the billing system's claim id (= CLM01)
    _s("patient_account", 80),
    _s("payer_id", 80),
    _s("responsibility", 16),
    sa.Column("service_date", sa.Date),
    sa.Column("last_billed_date", sa.Date),
    sa.Column("total_charge_cents", Money, nullable=False),
    sa.Column("insurance_payments_cents", Money, nullable=False),
    sa.Column("patient_payments_cents", Money, nullable=False),
    sa.Column("adjustments_cents", Money, nullable=False),
    sa.Column("balance_cents", Money, nullable=False),
    sa.Column("seg_index", sa.Integer, nullable=False, server_default="0"),
)

findings = sa.Table(
    "findings",
    metadata,
    _pk(),
    sa.Column("stable_id", sa.String(32), nullable=False, unique=True),
    sa.Column("code", sa.String(48), nullable=False, index=True),
    sa.Column("severity", sa.String(16), nullable=False),  # error | finding
    sa.Column("message", sa.Text, nullable=False),
    _ref("files", nullable=True),
    sa.Column("seg_index", sa.Integer, nullable=False, server_default="0"),
    _s("seg_id", 8),
    sa.Column("element", sa.Integer, nullable=False, server_default="0"),
    _s("ack_code", 16),
    _s("control", 60),
    _ref("claims", nullable=True, ondelete="SET NULL"),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)
