"""CSV inputs a billing office has: an aged trial balance (ATB) snapshot and payer profiles.

Column names are matched case-insensitively after ``--map old=new`` renames. A value that cannot be
read (a money amount, a date, a responsibility outside primary|secondary|tertiary|patient) rejects
the whole file with its line and column; a row whose balance differs from charge - payments -
adjustments is accepted with a finding.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

from everyclaim.ledger.records import AtbRow, PayerProfile, Problem, Source

ATB_COLUMNS = (
    "claim_id",
    "patient_account",
    "payer_id",
    "responsibility",
    "service_date",
    "last_billed_date",
    "total_charge",
    "insurance_payments",
    "patient_payments",
    "adjustments",
    "balance",
)
PAYER_COLUMNS = ("payer_id", "payer_name", "financial_class", "timely_filing_days", "appeal_days")
KINDS = {"atb": ATB_COLUMNS, "payers": PAYER_COLUMNS}
RESPONSIBILITIES = frozenset({"primary", "secondary", "tertiary", "patient"})
_MONEY = ("total_charge", "insurance_payments", "patient_payments", "adjustments", "balance")


class CsvRejected(Exception):
    """A CSV file that cannot be read; carries a located :class:`Problem` like an X12 rejection."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.located())
        self.problem = problem


def header_of(first_line: str, mapping: Mapping[str, str]) -> list[str]:
    """The normalised column names of a header line (lower-cased, stripped, renamed)."""
    names = next(csv.reader([first_line]), [])
    lowered = {k.strip().lower(): val.strip().lower() for k, val in mapping.items()}
    out = []
    for name in names:
        key = name.strip().strip("\ufeff").lower()
        out.append(lowered.get(key, key))
    return out


def csv_kind(first_line: str, mapping: Mapping[str, str]) -> str | None:
    """``"atb"`` or ``"payers"`` when the header has every column of that kind, else ``None``."""
    cols = set(header_of(first_line, mapping))
    for kind, required in KINDS.items():
        if set(required) <= cols:
            return kind
    return None


def _problem(file_name: str, line: int, column: str, message: str, code: str) -> Problem:
    return Problem(code=code, severity="error", message=f"column {column}: {message}", file_name=file_name,
                   seg_index=line, seg_id="CSV")


class _Row:
    """One CSV row with located conversions."""

    def __init__(self, values: dict[str, str], line: int, file_name: str) -> None:
        self.values, self.line, self.file_name = values, line, file_name

    def text(self, col: str) -> str:
        return (self.values.get(col) or "").strip()

    def money(self, col: str) -> Decimal:
        raw = self.text(col).replace("$", "").replace(",", "")
        if raw.startswith("(") and raw.endswith(")"):
            raw = "-" + raw[1:-1]
        try:
            return Decimal(raw or "0")
        except InvalidOperation:
            raise CsvRejected(_problem(self.file_name, self.line, col, f"not an amount: {raw!r}",
                                       "CSV-MONEY")) from None

    def date(self, col: str) -> date | None:
        raw = self.text(col)
        if not raw:
            return None
        try:
            return date.fromisoformat(raw[:10]) if "-" in raw else _us_date(raw)
        except ValueError:
            raise CsvRejected(_problem(self.file_name, self.line, col,
                                       f"not a date (YYYY-MM-DD or MM/DD/YYYY): {raw!r}", "CSV-DATE")) from None

    def days(self, col: str) -> int | None:
        raw = self.text(col)
        if not raw:
            return None
        if not raw.isdigit():
            raise CsvRejected(_problem(self.file_name, self.line, col, f"not a number of days: {raw!r}",
                                       "CSV-DAYS"))
        return int(raw)


def _us_date(raw: str) -> date:
    m, d, y = raw.split("/")
    return date(int(y), int(m), int(d))


def _rows(path: Path, mapping: Mapping[str, str], required: tuple[str, ...]) -> Iterator[_Row]:
    with path.open("r", encoding="utf-8-sig", newline="") as f:
        first = f.readline()
        header = header_of(first, mapping)
        missing = [c for c in required if c not in header]
        if missing:
            raise CsvRejected(_problem(path.name, 1, ",".join(missing), "missing from the header", "CSV-HEADER"))
        for line, values in enumerate(csv.reader(f), start=2):
            if not any(v.strip() for v in values):
                continue
            yield _Row(dict(zip(header, values, strict=False)), line, path.name)


def read_atb(path: Path, sha256: str, as_of: date, mapping: Mapping[str, str],
             findings: list[Problem]) -> Iterator[AtbRow]:
    """Rows of an ATB snapshot taken on ``as_of``; balance mismatches are appended to ``findings``."""
    for row in _rows(path, mapping, ATB_COLUMNS):
        resp = row.text("responsibility").lower()
        if resp not in RESPONSIBILITIES:
            raise CsvRejected(_problem(path.name, row.line, "responsibility",
                                       f"{resp!r} is not one of primary|secondary|tertiary|patient", "CSV-CODE"))
        if not row.text("claim_id"):
            raise CsvRejected(_problem(path.name, row.line, "claim_id", "empty", "CSV-EMPTY"))
        charge, ins, pat, adj, bal = (row.money(c) for c in _MONEY)
        if charge - ins - pat - adj != bal:
            findings.append(Problem(
                code="ATB-UNBALANCED", severity="finding", file_name=path.name, seg_index=row.line, seg_id="CSV",
                message=f"claim {row.text('claim_id')}: balance {bal} != charge {charge} - payments "
                        f"{ins + pat} - adjustments {adj} (= {charge - ins - pat - adj})"))
        yield AtbRow(
            source=Source(sha256, seg_index=row.line, file_name=path.name), as_of=as_of,
            claim_id=row.text("claim_id"), patient_account=row.text("patient_account"),
            payer_id=row.text("payer_id"), responsibility=resp,
            service_date=row.date("service_date"), last_billed_date=row.date("last_billed_date"),
            total_charge=charge, insurance_payments=ins, patient_payments=pat, adjustments=adj, balance=bal)


def read_payers(path: Path, sha256: str, mapping: Mapping[str, str]) -> Iterator[PayerProfile]:
    for row in _rows(path, mapping, PAYER_COLUMNS):
        if not row.text("payer_id"):
            raise CsvRejected(_problem(path.name, row.line, "payer_id", "empty", "CSV-EMPTY"))
        yield PayerProfile(
            source=Source(sha256, seg_index=row.line, file_name=path.name),
            payer_id=row.text("payer_id"), payer_name=row.text("payer_name"),
            financial_class=row.text("financial_class").lower(),
            timely_filing_days=row.days("timely_filing_days"), appeal_days=row.days("appeal_days"))
