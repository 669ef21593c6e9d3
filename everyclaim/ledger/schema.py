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


def only_on(dialect: str, index: sa.Index) -> sa.Index:
    """``index`` exists on ``dialect`` alone: ``create_all`` skips it elsewhere (``ddl_if``), and so does
    the migrations' comparison with the database (:func:`include_object`)."""
    index.info["only_on"] = dialect
    index.ddl_if(dialect=dialect)
    return index


def include_object(dialect: str):  # type: ignore[no-untyped-def]  # Alembic's include_object signature
    """Alembic ``include_object`` for ``dialect``: leaves out the indexes :func:`only_on` another dialect."""

    def include(obj: object, _name: str | None, type_: str, reflected: bool, _compare_to: object) -> bool:
        only = getattr(obj, "info", {}).get("only_on") if type_ == "index" and not reflected else None
        return only is None or only == dialect

    return include
Quantity = sa.Numeric(14, 3, asdecimal=True)


def _pk() -> sa.Column:
    return sa.Column("id", Id, primary_key=True, autoincrement=True)


def _ref(table: str, nullable: bool = False, ondelete: str | None = "CASCADE", name: str = "",
         index: bool = True) -> sa.Column:
    return sa.Column(
        name or f"{table[:-1]}_id",
        Id,
        sa.ForeignKey(f"{table}.id", ondelete=ondelete),
        nullable=nullable,
        index=index,
    )


def _source(with_controls: bool = True) -> list[sa.Column]:
    cols = [_ref("files"), sa.Column("seg_index", sa.Integer, nullable=False, server_default="0")]
    if with_controls:
        cols += [sa.Column(n, sa.String(), nullable=False, server_default="") for n in ("isa13", "gs06", "st02")]
    return cols


def _s(name: str, **kw: object) -> sa.Column:
    """A never-NULL text column (empty string when the file had nothing).

    Deliberately without a length limit: payers send longer values than the guides allow, and
    SQLite would accept them where PostgreSQL would refuse them. Text stays identical on both.
    """
    return sa.Column(name, sa.String(), nullable=False, server_default="", **kw)


files = sa.Table(
    "files",
    metadata,
    _pk(),
    sa.Column("sha256", sa.String(64), nullable=False, unique=True),
    _s("name"),
    _s("kind"),  # 837P, 837I, 835, 277CA, 999, atb, payers ...
    sa.Column("size", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("status", sa.String(), nullable=False),  # accepted | rejected
    sa.Column("ingested_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("counts", sa.Text, nullable=False, server_default="{}"),  # JSON of PostResult counts
)

payer_profiles = sa.Table(
    "payer_profiles",
    metadata,
    _pk(),
    sa.Column("payer_id", sa.String(), nullable=False, unique=True),
    _s("name"),
    _s("financial_class"),
    sa.Column("timely_filing_days", sa.Integer),
    sa.Column("appeal_days", sa.Integer),
    _ref("files", nullable=True, ondelete="SET NULL"),
    sa.Column("seg_index", sa.Integer, nullable=False, server_default="0"),
)

claims = sa.Table(
    "claims",
    metadata,
    _pk(),
    _s("pcn", index=True),
    _s("payer_id", index=True),
    _s("payer_name"),
    _s("kind"),  # 837P | 837I
    sa.Column("charge_cents", Money, nullable=False),
    _s("pos"),
    _s("facility_qualifier"),
    _s("frequency"),  # of the latest submission: 1 original, 7 replacement, 8 void
    _s("billing_npi", index=True),
    _s("billing_name"),
    _s("rendering_npi"),
    _s("rendering_last"),
    _s("rendering_first"),
    _s("subscriber_id"),
    _s("subscriber_last"),
    _s("subscriber_first"),
    _s("patient_last"),
    _s("patient_first"),
    _s("responsibility"),  # SBR01: P primary, S secondary, T tertiary ...
    _s("claim_filing"),
    sa.Column("service_from", sa.Date, index=True),
    sa.Column("service_to", sa.Date),
    _s("prior_auth"),
    _s("referral"),
    _s("payer_claim_control"),
    _s("diagnoses"),  # comma-joined, principal first
    sa.Column("first_billed_date", sa.Date),
    sa.Column("last_billed_date", sa.Date, index=True),
    sa.Column("submission_count", sa.Integer, nullable=False, server_default="1"),
    *_source(),
    sa.UniqueConstraint("pcn", "payer_id"),
    sa.Index(None, "subscriber_id", "service_from"),  # the paid-twin (duplicate) feature
    sa.Index(None, "rendering_npi", "service_from"),  # a rendering provider's first service (tenure feature)
)

claim_lines = sa.Table(
    "claim_lines",
    metadata,
    _pk(),
    _ref("claims"),
    sa.Column("line_no", sa.Integer, nullable=False),
    _s("procedure_qualifier"),
    _s("procedure", index=True),
    _s("modifiers"),  # comma-joined
    sa.Column("charge_cents", Money, nullable=False),
    sa.Column("units", Quantity),
    _s("unit_basis"),
    sa.Column("service_date", sa.Date),
    sa.Column("service_date_end", sa.Date),
    _s("revenue_code"),
    _s("line_control"),
    sa.Column("seg_index", sa.Integer, nullable=False, server_default="0"),
)

submissions = sa.Table(
    "submissions",
    metadata,
    _pk(),
    _ref("claims"),
    _s("frequency"),
    sa.Column("charge_cents", Money, nullable=False),
    sa.Column("submitted_date", sa.Date),
    _s("payer_claim_control"),
    *_source(),
)

claim_other_payers = sa.Table(
    "claim_other_payers",
    metadata,
    _pk(),
    _ref("claims"),
    _s("responsibility"),
    _s("payer_id"),
    _s("payer_name"),
    _s("subscriber_id"),
    sa.Column("paid_cents", Money),
    sa.Column("adjudication_date", sa.Date),
    _s("claim_filing"),
    sa.Column("adjustments", sa.Text, nullable=False, server_default=""),  # "CO-45:12.00;PR-2:5.00"
)

claim_acks = sa.Table(
    "claim_acks",
    metadata,
    _pk(),
    _ref("claims", nullable=True, ondelete="SET NULL"),
    _s("pcn", index=True),
    _s("payer_claim_control"),
    _s("payer_id"),
    _s("category"),
    _s("status"),
    _s("entity"),
    _s("action"),
    sa.Column("amount_cents", Money),
    sa.Column("accepted", sa.Boolean, nullable=False),
    sa.Column("status_date", sa.Date),
    *_source(),
)

transaction_acks = sa.Table(
    "transaction_acks",
    metadata,
    _pk(),
    _s("group_control"),
    _s("functional_id"),
    _s("transaction_type"),
    _s("transaction_control"),
    _s("code"),
    _s("group_code"),
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
    _s("handling"),
    sa.Column("amount_cents", Money, nullable=False),
    _s("credit_debit"),
    _s("method"),
    sa.Column("payment_date", sa.Date, index=True),
    _s("trace_number", index=True),
    _s("payer_trn_id"),
    _s("payer_id", index=True),
    _s("payer_name"),
    _s("payee_id"),
    _s("payee_name"),
    sa.Column("production_date", sa.Date),
    *_source(),
)

claim_payments = sa.Table(
    "claim_payments",
    metadata,
    _pk(),
    _ref("remittances"),
    _ref("claims", nullable=True, ondelete="SET NULL"),
    _s("pcn", index=True),
    _s("payer_id"),  # the remittance's payer, denormalised for matching
    _s("status"),  # CLP02 (read with the row, never looked up by: no index, migration 0009)
    sa.Column("charge_cents", Money, nullable=False),
    sa.Column("paid_cents", Money, nullable=False),
    sa.Column("patient_resp_cents", Money, nullable=False),
    sa.Column("coverage_cents", Money),
    _s("claim_filing"),
    _s("payer_claim_control", index=True),
    _s("facility_code"),
    _s("frequency"),
    _s("drg"),
    _s("patient_last"),
    _s("patient_first"),
    _s("insured_id"),
    sa.Column("statement_from", sa.Date),
    sa.Column("statement_to", sa.Date),
    sa.Column("received_date", sa.Date),
    sa.Column("is_reversal", sa.Boolean, nullable=False),
    # a denial (CLP02 = 4) or the reversal of one: its CAS is kept but does not write the claim off
    sa.Column("denied", sa.Boolean, nullable=False),
    _ref("claim_payments", nullable=True, ondelete="SET NULL", name="reverses_id"),
    _s("priority_payer_id"),  # 2100 NM1*PR: the payer this payer says is primary
    _s("priority_payer_name"),
    *_source(),
)

line_payments = sa.Table(
    "line_payments",
    metadata,
    _pk(),
    _ref("claim_payments"),
    _s("procedure_qualifier"),
    _s("procedure"),
    _s("modifiers"),
    sa.Column("charge_cents", Money, nullable=False),
    sa.Column("paid_cents", Money, nullable=False),
    sa.Column("allowed_cents", Money),
    _s("revenue_code"),
    sa.Column("units", Quantity),
    _s("original_procedure"),
    sa.Column("service_date", sa.Date),
    sa.Column("service_date_end", sa.Date),
    _s("line_control"),
    sa.Column("seg_index", sa.Integer, nullable=False, server_default="0"),
)

adjustments = sa.Table(
    "adjustments",
    metadata,
    _pk(),
    _ref("claim_payments"),
    # rows are read by claim payment and grouped by line in memory: no index on the line (migration 0010)
    _ref("line_payments", nullable=True, index=False),
    sa.Column("level", sa.String(), nullable=False),  # claim | line
    sa.Column("group_code", sa.String(), nullable=False),
    sa.Column("carc", sa.String(), nullable=False),
    sa.Column("amount_cents", Money, nullable=False),
    sa.Column("quantity", Quantity),
)

remarks = sa.Table(
    "remarks",
    metadata,
    _pk(),
    _ref("claim_payments"),
    # rows are read by claim payment and grouped by line in memory: no index on the line (migration 0010)
    _ref("line_payments", nullable=True, index=False),
    sa.Column("qualifier", sa.String(), nullable=False),  # HE (LQ), MOA, MIA, RX
    sa.Column("code", sa.String(), nullable=False),  # read by claim payment: no index (migration 0009)
)

provider_adjustments = sa.Table(
    "provider_adjustments",
    metadata,
    _pk(),
    _ref("remittances"),
    _ref("claims", nullable=True, ondelete="SET NULL"),  # matched through reference = CLP07 or PCN
    _s("provider_id"),
    sa.Column("fiscal_date", sa.Date),
    _s("reason", index=True),
    _s("reference"),
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
    _s("pcn", index=True),  # the billing system's claim id (= CLM01)
    _s("patient_account"),
    _s("payer_id"),
    _s("responsibility"),
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
    sa.Column("code", sa.String(), nullable=False, index=True),
    sa.Column("severity", sa.String(), nullable=False),  # error | finding
    sa.Column("message", sa.Text, nullable=False),
    _ref("files", nullable=True),
    sa.Column("seg_index", sa.Integer, nullable=False, server_default="0"),
    _s("seg_id"),
    sa.Column("element", sa.Integer, nullable=False, server_default="0"),
    _s("ack_code"),
    _s("control"),
    _ref("claims", nullable=True, ondelete="SET NULL"),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

action_exports = sa.Table(
    "action_exports",
    metadata,
    _pk(),
    sa.Column("batch", sa.Integer, nullable=False, index=True),  # one `actions export` run
    sa.Column("run_id", sa.Integer, nullable=False),  # the triage run it exported
    sa.Column("pcn", sa.String(), nullable=False),
    _s("payer_id"),
    sa.Column("action", sa.String(), nullable=False),
    sa.Column("balance_cents", Money, nullable=False),
    _s("file"),
    sa.Column("exported_at", sa.DateTime(timezone=True), nullable=False),
    # the same action on the same claim and balance is exported once
    sa.UniqueConstraint("pcn", "payer_id", "action", "balance_cents"),
)
