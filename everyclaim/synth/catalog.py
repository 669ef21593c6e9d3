"""The synthetic world's fixed data: payers, fee tables, diagnosis codes, names and scenarios.

Everything is read from the package's data files (``data/*.csv``, ``scenarios.yaml``) once per run and
passed around; nothing here is a mutable module global.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import yaml

TIERS = ("no_opportunity", "simple_fix", "hinted", "manual")
ACTIONS = ("", "write_off", "transfer_to_patient", "bill_secondary", "rebill_corrected", "rebill_other_payer",
           "appeal", "status_inquiry", "refund", "review")  # fmt: skip
ROOT_CAUSES = ("", "eligibility", "authorization", "coding", "medical_necessity", "timely_filing",
               "missing_information", "duplicate", "coordination_of_benefits", "bundling",
               "provider_enrollment", "other", "posting_error", "no_response", "overpayment")  # fmt: skip


@dataclass(frozen=True, slots=True)
class Payer:
    payer_id: str
    name: str
    financial_class: str
    timely_filing_days: int
    appeal_days: int
    claim_filing: str  # SBR09 / CLP06
    allowed_rate: float
    coinsurance: float
    copay_cents: int
    deductible_share: float
    pay_days: int  # typical days from receipt to check
    check_weekday: int  # 0 = Monday
    share: dict[str, float]


@dataclass(frozen=True, slots=True)
class Fee:
    code: str
    group: str  # em, lab, imaging, ... (professional) / er, outpatient, ancillary, inpatient (facility)
    revenue_code: str
    charge_cents: int
    units_max: int
    weight: int


@dataclass(frozen=True, slots=True)
class Scenario:
    id: str
    share: float
    shape: str
    open: bool
    tier: str
    action: str
    root_cause: str
    collectible: bool
    denied: bool
    evidence: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Catalog:
    payers: tuple[Payer, ...]
    fees: tuple[Fee, ...]
    facility_fees: tuple[Fee, ...]
    diagnoses: tuple[str, ...]
    last_names: tuple[str, ...]
    first_names: tuple[str, ...]
    scenarios: tuple[Scenario, ...]

    def payer(self, payer_id: str) -> Payer:
        return next(p for p in self.payers if p.payer_id == payer_id)


def _rows(name: str) -> list[dict[str, str]]:
    text = resources.files("everyclaim.synth").joinpath("data", name).read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


def _cents(s: str) -> int:
    whole, _, frac = s.partition(".")
    return int(whole) * 100 + int((frac + "00")[:2])


def load_scenarios(text: str | None = None) -> tuple[Scenario, ...]:
    """Parse ``scenarios.yaml`` and check its labels against the triage vocabulary."""
    if text is None:
        text = resources.files("everyclaim.synth").joinpath("scenarios.yaml").read_text(encoding="utf-8")
    doc = yaml.safe_load(text)
    out = []
    for raw in doc["scenarios"]:
        sc = Scenario(
            id=raw["id"], share=float(raw["share"]), shape=raw["shape"], open=bool(raw["open"]),
            tier=raw["tier"], action=raw["action"] or "", root_cause=raw["root_cause"] or "",
            collectible=bool(raw["collectible"]), denied=bool(raw["denied"]), evidence=raw["evidence"],
            params=dict(raw.get("params") or {}),
        )  # fmt: skip
        if sc.tier not in TIERS or sc.action not in ACTIONS or sc.root_cause not in ROOT_CAUSES:
            raise ValueError(f"scenario {sc.id}: label outside the vocabulary")
        out.append(sc)
    total = sum(s.share for s in out)
    if abs(total - 1.0) > 1e-6:
        raise ValueError(f"scenario shares sum to {total}, not 1")
    return tuple(out)


def load_catalog() -> Catalog:
    payers = tuple(
        Payer(
            r["payer_id"], r["payer_name"], r["financial_class"], int(r["timely_filing_days"]),
            int(r["appeal_days"]), r["claim_filing"], float(r["allowed_rate"]), float(r["coinsurance"]),
            int(r["copay"]) * 100, float(r["deductible_share"]), int(r["pay_days"]), int(r["check_weekday"]),
            {"clinic": float(r["clinic_share"]), "hospital": float(r["hospital_share"])},
        )  # fmt: skip
        for r in _rows("payers.csv")
    )
    fees = tuple(
        Fee(r["code"], r["group"], r["revenue_code"], _cents(r["charge"]), int(r["units_max"]), int(r["weight"]))
        for r in _rows("fee_schedule.csv")
    )
    facility = tuple(
        Fee(r["code"], r["setting"], r["revenue_code"], _cents(r["charge"]), int(r["units_max"]), int(r["weight"]))
        for r in _rows("facility_fees.csv")
    )
    names = _rows("names.csv")
    return Catalog(
        payers=payers,
        fees=fees,
        facility_fees=facility,
        diagnoses=tuple(r["code"] for r in _rows("icd10cm.csv")),
        last_names=tuple(r["value"] for r in names if r["kind"] == "last"),
        first_names=tuple(r["value"] for r in names if r["kind"] == "first"),
        scenarios=load_scenarios(),
    )
