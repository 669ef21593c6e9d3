"""Frozen domain records: what a billing office's files say, before it is posted.

Every record carries a :class:`Source` (the file's sha256, the interchange / group / transaction
control numbers and the segment index) so that anything in the ledger can be traced back to the
byte range it came from. Money is always :class:`decimal.Decimal`, never float.

Readers (``everyclaim.x12``, ``everyclaim.ingest.csvfiles``) produce these records; the ledger
(``everyclaim.ledger.post``) posts them. Nothing here touches a database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

ZERO = Decimal("0.00")


@dataclass(frozen=True, slots=True)
class Source:
    """Where a record came from. ``seg_index`` is 1-based within the file (ISA = 1)."""

    file_sha256: str
    isa13: str = ""
    gs06: str = ""
    st02: str = ""
    seg_index: int = 0
    file_name: str = ""

    @property
    def transaction_key(self) -> tuple[str, str, str, str]:
        """Identifies one transaction set within one file."""
        return (self.file_sha256, self.isa13, self.gs06, self.st02)

    def at(self, seg_index: int) -> Source:
        return Source(self.file_sha256, self.isa13, self.gs06, self.st02, seg_index, self.file_name)


@dataclass(frozen=True, slots=True)
class Problem:
    """A located problem with a stable id.

    ``severity`` is ``"error"`` (the file is rejected whole, nothing posted) or ``"finding"`` (the file
    is accepted; the deviation is recorded). ``ack_code`` is the X12 999 code that fits: an IK3 segment
    syntax error code (e.g. ``"1"`` unrecognized segment, ``"2"`` unexpected segment, ``"3"`` required
    segment missing, ``"4"`` loop occurs over maximum times, ``"5"`` segment exceeds maximum use, ``"8"``
    segment has data element errors), an IK4 element error code prefixed with ``"IK4-"`` (e.g. ``"IK4-1"``
    required element missing, ``"IK4-7"`` invalid code value, ``"IK4-8"`` invalid date, ``"IK4-6"``
    invalid character), an IK5/AK9 code prefixed with ``"IK5-"`` / ``"AK9-"``, or a TA1 code ``"TA1-nnn"``.
    Business findings (e.g. an unbalanced 835 claim) have ``ack_code`` ``""``.
    """

    code: str  # stable id, e.g. "X12-SE01-COUNT", "835-CLAIM-UNBALANCED"
    severity: str  # "error" | "finding"
    message: str
    file_name: str = ""
    seg_index: int = 0
    seg_id: str = ""
    element: int = 0  # element position (1-based), 0 when not element-specific
    ack_code: str = ""
    control: str = ""  # "ISA13/GS06/ST02" where known

    def located(self) -> str:
        where = self.file_name or "<input>"
        if self.seg_index:
            where += f":segment {self.seg_index}"
            if self.seg_id:
                where += f" ({self.seg_id}{self.element:02d})" if self.element else f" ({self.seg_id})"
        code = f" [{self.ack_code}]" if self.ack_code else ""
        return f"{where}: {self.severity} {self.code}{code}: {self.message}"


# --------------------------------------------------------------------------------------------------
# 837 claims
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Party:
    """An NM1 entity: billing provider, subscriber, patient, payer, payee ..."""

    entity: str  # NM101 code, e.g. "85", "IL", "QC", "PR", "PE"
    name: str = ""  # last or organization name (NM103)
    first: str = ""
    id_qualifier: str = ""  # NM108
    id: str = ""  # NM109


@dataclass(frozen=True, slots=True)
class Adjustment:
    """One CAS triplet: group code, CARC, amount, quantity."""

    group: str
    carc: str
    amount: Decimal
    quantity: Decimal | None = None


@dataclass(frozen=True, slots=True)
class ServiceLine:
    """A billed service line (837 loop 2400)."""

    line_no: int
    procedure_qualifier: str  # HC, ER, ... (first component of SV101 / SV202)
    procedure: str
    modifiers: tuple[str, ...]
    charge: Decimal
    units: Decimal
    unit_basis: str = ""  # UN, MJ, DA ...
    service_date: date | None = None
    service_date_end: date | None = None
    revenue_code: str = ""  # 837I SV201
    line_control: str = ""  # REF*6R
    seg_index: int = 0
    # 2430 line adjudication by other payers (secondary billing): (payer id, paid, adjustments)
    other_payer_paid: tuple[tuple[str, Decimal, tuple[Adjustment, ...]], ...] = ()


@dataclass(frozen=True, slots=True)
class OtherPayer:
    """Loop 2320/2330: other subscriber information (coordination of benefits)."""

    responsibility: str  # SBR01: P/S/T/...
    payer: Party
    subscriber: Party | None = None
    paid: Decimal | None = None  # AMT*D
    adjudication_date: date | None = None  # DTM*573 (2330B)
    adjustments: tuple[Adjustment, ...] = ()  # claim-level CAS in 2320
    claim_filing: str = ""  # SBR09


@dataclass(frozen=True, slots=True)
class Claim:
    """One billed claim (837 loop 2300) with its parties and lines."""

    source: Source
    kind: str  # "837P" | "837I"
    pcn: str  # CLM01 patient control number
    charge: Decimal  # CLM02
    place_of_service: str  # CLM05-1 (facility type code for 837I)
    facility_qualifier: str  # CLM05-2 (B = POS, A = UB bill type)
    frequency: str  # CLM05-3: 1 original, 7 replacement, 8 void
    billing_provider: Party
    subscriber: Party
    payer: Party
    patient: Party | None = None  # loop 2010CA when patient != subscriber
    responsibility: str = "P"  # SBR01 of 2000B
    claim_filing: str = ""  # SBR09
    service_from: date | None = None
    service_to: date | None = None
    prior_auth: str = ""  # REF*G1
    referral: str = ""  # REF*9F
    payer_claim_control: str = ""  # REF*F8 (original reference number, for replacements)
    diagnoses: tuple[str, ...] = ()  # codes, principal first, without qualifiers
    diagnosis_qualifiers: tuple[str, ...] = ()  # ABK/ABF (ICD-10) or BK/BF (ICD-9), parallel to diagnoses
    lines: tuple[ServiceLine, ...] = ()
    other_payers: tuple[OtherPayer, ...] = ()
    rendering_provider: Party | None = None
    submitted: date | None = None  # BHT04 (falls back to GS04): when the batch was created


# --------------------------------------------------------------------------------------------------
# 835 remittance
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Remark:
    """A remark code: RARC from LQ*HE / MOA / MIA, or NCPDP reject (LQ*RX)."""

    qualifier: str  # "HE" (LQ), "MOA", "MIA", "RX"
    code: str


@dataclass(frozen=True, slots=True)
class ServicePayment:
    """An 835 service line (loop 2110)."""

    procedure_qualifier: str
    procedure: str
    modifiers: tuple[str, ...]
    charge: Decimal  # SVC02
    paid: Decimal  # SVC03
    revenue_code: str = ""  # SVC04 (institutional)
    units: Decimal | None = None  # SVC05
    original_procedure: str = ""  # SVC06 when the payer changed the code
    service_date: date | None = None  # DTM*472 / 150
    service_date_end: date | None = None  # DTM*151
    line_control: str = ""  # REF*6R
    adjustments: tuple[Adjustment, ...] = ()
    remarks: tuple[Remark, ...] = ()
    allowed: Decimal | None = None  # AMT*B6
    seg_index: int = 0


@dataclass(frozen=True, slots=True)
class ClaimPayment:
    """An 835 claim (loop 2100, CLP)."""

    source: Source
    pcn: str  # CLP01
    status: str  # CLP02
    charge: Decimal  # CLP03
    paid: Decimal  # CLP04
    patient_responsibility: Decimal  # CLP05 (zero when empty)
    claim_filing: str = ""  # CLP06
    payer_claim_control: str = ""  # CLP07
    facility_code: str = ""  # CLP08
    frequency: str = ""  # CLP09
    drg: str = ""  # CLP11
    patient: Party | None = None  # NM1*QC
    insured: Party | None = None  # NM1*IL
    corrected_insured: Party | None = None  # NM1*74
    crossover_payer: Party | None = None  # NM1*TT
    corrected_priority_payer: Party | None = None  # NM1*PR in 2100 (other payer primary)
    statement_from: date | None = None  # DTM*232
    statement_to: date | None = None  # DTM*233
    received_date: date | None = None  # DTM*050
    adjustments: tuple[Adjustment, ...] = ()  # claim-level CAS
    remarks: tuple[Remark, ...] = ()  # MOA / MIA remark codes
    lines: tuple[ServicePayment, ...] = ()
    coverage_amount: Decimal | None = None  # AMT*AU


@dataclass(frozen=True, slots=True)
class ProviderAdjustment:
    """One PLB adjustment (reason, reference, amount). Positive amounts reduce the payment."""

    source: Source
    provider_id: str
    fiscal_date: date | None
    reason: str  # e.g. "WO" overpayment recovery, "L6" interest, "72" authorized return
    reference: str
    amount: Decimal


@dataclass(frozen=True, slots=True)
class Remittance:
    """One 835 transaction's header: a payment (check / EFT / non-payment).

    Readers stream: they yield the :class:`Remittance` first, then each :class:`ClaimPayment` and
    :class:`ProviderAdjustment` of the same transaction; those share the remittance's
    ``source.transaction_key``.
    """

    source: Source
    handling: str  # BPR01: I remittance+payment, H notification only, ...
    amount: Decimal  # BPR02
    credit_debit: str  # BPR03: C / D
    method: str  # BPR04: CHK, ACH, NON, FWT, BOP
    payment_date: date | None  # BPR16
    trace_number: str  # TRN02 (check or EFT number)
    payer_trn_id: str  # TRN03
    payer: Party
    payee: Party
    production_date: date | None = None  # DTM*405


# --------------------------------------------------------------------------------------------------
# Acknowledgments: 277CA and 999
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ClaimAck:
    """A claim-level status from a 277CA (loop 2200D) or a 277 (loop 2200D/E)."""

    source: Source
    pcn: str  # TRN02 in 2200D (patient control number)
    payer_claim_control: str  # REF*1K
    category: str  # STC01-1, e.g. A1/A2 accepted, A3/A7 rejected, A4 not found
    status: str  # STC01-2
    entity: str  # STC01-3
    status_date: date | None  # STC02
    action: str  # STC03: WQ accepted, U rejected
    amount: Decimal | None  # STC04
    accepted: bool
    payer: Party | None = None
    billing_provider: Party | None = None
    service_from: date | None = None
    service_to: date | None = None
    extra_statuses: tuple[tuple[str, str, str], ...] = ()  # further STC01/10/11 triples


@dataclass(frozen=True, slots=True)
class TransactionAck:
    """A 999 AK2/IK5: the fate of one transaction set of an earlier functional group."""

    source: Source
    group_control: str  # AK102 (the acknowledged GS06)
    functional_id: str  # AK101 (HC, HP ...)
    transaction_type: str  # AK201 (837, 835 ...)
    transaction_control: str  # AK202 (the acknowledged ST02)
    code: str  # IK501: A accepted, E accepted with errors, R rejected, ...
    errors: tuple[tuple[str, str, str], ...] = ()  # (segment id, segment position, IK304/IK403 code)
    group_code: str = ""  # AK901 for the group
    ack_date: date | None = None  # GS04


# --------------------------------------------------------------------------------------------------
# CSV inputs
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class AtbRow:
    """One row of an aged trial balance snapshot (the billing system's view on ``as_of``)."""

    source: Source  # seg_index = CSV line number
    as_of: date
    claim_id: str
    patient_account: str
    payer_id: str
    responsibility: str  # primary | secondary | tertiary | patient
    service_date: date | None
    last_billed_date: date | None
    total_charge: Decimal
    insurance_payments: Decimal
    patient_payments: Decimal
    adjustments: Decimal
    balance: Decimal


@dataclass(frozen=True, slots=True)
class PayerProfile:
    """One payer's terms: financial class and the filing / appeal windows in days."""

    source: Source
    payer_id: str
    payer_name: str
    financial_class: str  # medicare, medicaid, commercial, managed_care, self_pay, other ...
    timely_filing_days: int | None
    appeal_days: int | None


@dataclass(frozen=True, slots=True)
class Records:
    """What one reader produced from one file, ready to post."""

    claims: list[Claim] = field(default_factory=list)
    remittances: list[Remittance] = field(default_factory=list)
    claim_payments: list[ClaimPayment] = field(default_factory=list)
    provider_adjustments: list[ProviderAdjustment] = field(default_factory=list)
    claim_acks: list[ClaimAck] = field(default_factory=list)
    transaction_acks: list[TransactionAck] = field(default_factory=list)
    atb_rows: list[AtbRow] = field(default_factory=list)
    payer_profiles: list[PayerProfile] = field(default_factory=list)

    def add(self, record: object) -> None:
        """Append ``record`` to the list of its type."""
        getattr(self, _LIST_OF[type(record)]).append(record)


_LIST_OF: dict[type, str] = {
    Claim: "claims",
    Remittance: "remittances",
    ClaimPayment: "claim_payments",
    ProviderAdjustment: "provider_adjustments",
    ClaimAck: "claim_acks",
    TransactionAck: "transaction_acks",
    AtbRow: "atb_rows",
    PayerProfile: "payer_profiles",
}
