"""Write a world's cases as the billing office's files (X12 batches, CSVs, README)."""

from __future__ import annotations

import csv
from collections import defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from everyclaim.ledger.records import Claim, ClaimAck, ClaimPayment, Party, ProviderAdjustment, Remittance
from everyclaim.synth.catalog import Catalog
from everyclaim.synth.claims import NO_SOURCE, money
from everyclaim.x12.write277ca import write_277ca
from everyclaim.x12.write835 import write_835
from everyclaim.x12.write837 import d8, write_837

if TYPE_CHECKING:
    from everyclaim.synth.story import Case
    from everyclaim.synth.world import Office

CLAIMS_PER_837 = 2500
ATB_COLUMNS = ["claim_id", "patient_account", "payer_id", "responsibility", "service_date", "last_billed_date",
               "total_charge", "insurance_payments", "patient_payments", "adjustments", "balance"]  # fmt: skip
TRUTH_COLUMNS = ["claim_id", "scenario", "tier", "action", "root_cause", "collectible", "open", "initially_denied",
                 "payer_id", "balance", "expected_recovery"]  # fmt: skip


def cents(c: int) -> str:
    sign = "-" if c < 0 else ""
    c = abs(c)
    return f"{sign}{c // 100}.{c % 100:02d}"


class _Control:
    def __init__(self) -> None:
        self.n = 0

    def next(self) -> int:
        self.n += 1
        return self.n


def write_files(out: Path, cat: Catalog, office: Office, cases: list[Case], as_of: date, profile: str,
                seed: int) -> dict[str, int]:  # fmt: skip
    control = _Control()
    counts = {"837p": 0, "837i": 0, "277ca": 0, "835": 0}
    bills: dict[tuple[str, date], list[Claim]] = defaultdict(list)
    acks: dict[date, list[ClaimAck]] = defaultdict(list)
    remits: dict[tuple[str, date], list[ClaimPayment]] = defaultdict(list)
    plbs: dict[tuple[str, date], list[ProviderAdjustment]] = defaultdict(list)
    patients: dict[str, Party] = {}
    for case in cases:
        for when, claim in case.bills:
            bills[(claim.kind, when)].append(claim)
        for when, ack in case.acks:
            acks[when].append(ack)
        for payer_id, when, cp in case.remits:
            remits[(payer_id, when)].append(cp)
        for payer_id, when, plb in case.plbs:
            plbs[(payer_id, when)].append(plb)
        s = case.spec
        p = s.patient or s.subscriber
        patients[s.pcn] = Party("QC", p.name, p.first, "MI", s.subscriber.id)
    for (kind, when), claims in sorted(bills.items()):
        claims.sort(key=lambda c: (c.billing_provider.id, c.pcn))
        for n, i in enumerate(range(0, len(claims), CLAIMS_PER_837)):
            name = f"{kind.lower()}_{d8(when)}_{n + 1:03d}.x12"
            with open(out / name, "w", encoding="ascii", newline="") as f:
                write_837(claims[i : i + CLAIMS_PER_837], f, kind=kind, sender=office.submitter,
                          receiver=office.clearinghouse, control=control.next(), date=when, line_break=True)  # fmt: skip
            counts[kind.lower()] += 1
    source = Party("PR", office.clearinghouse.name, "", "46", office.clearinghouse.id)
    receiver = Party("41", office.submitter.name, "", "46", office.submitter.id)
    for when, day in sorted(acks.items()):
        day.sort(key=lambda a: (a.payer.id if a.payer else "", a.billing_provider.id if a.billing_provider else "",
                                a.pcn))  # fmt: skip
        with open(out / f"277ca_{d8(when)}.x12", "w", encoding="ascii", newline="") as f:
            write_277ca(day, f, sender=source, receiver=receiver, control=control.next(), date=when,
                        line_break=True, patient_of=patients.get)  # fmt: skip
        counts["277ca"] += 1
    _write_835s(out, cat, office, remits, plbs, control)
    counts["835"] = len(remits)
    _write_csvs(out, cat, cases, as_of)
    _write_readme(out, cat, cases, as_of, profile, seed, counts)
    return counts


def _write_835s(out: Path, cat: Catalog, office: Office, remits: dict[tuple[str, date], list[ClaimPayment]],
                plbs: dict[tuple[str, date], list[ProviderAdjustment]], control: _Control) -> None:  # fmt: skip
    check_no: dict[str, int] = defaultdict(int)
    payee = office.institutional or office.professional
    for (payer_id, when), cps in sorted(remits.items()):
        payer = cat.payer(payer_id)
        check_no[payer_id] += 1
        trace = f"{payer_id[:3]}{when.year % 100:02d}{check_no[payer_id]:05d}"
        adjs = plbs.get((payer_id, when), [])
        total = sum((cp.paid for cp in cps), Decimal(0)) - sum((p.amount for p in adjs), Decimal(0))
        if total < 0:  # more taken back than paid: carry the debit forward (PLB FB), no payment
            adjs = adjs + [ProviderAdjustment(NO_SOURCE, payee.id, date(when.year, 12, 31), "FB", trace, total)]
            total = Decimal(0)
        total = money(int(total * 100))
        handling, method = ("I", "ACH") if total > 0 else ("H", "NON")
        if payer.financial_class == "commercial" and total > 0 and check_no[payer_id] % 3 == 0:
            method = "CHK"
        rem = Remittance(
            NO_SOURCE, handling, total, "C", method, when, trace, "1" + payer_id.ljust(9, "0")[:9],
            Party("PR", payer.name, "", "XV", payer_id), Party("PE", payee.name, "", "XX", payee.id), when,
        )  # fmt: skip
        cps.sort(key=lambda c: (c.pcn, c.status))
        with open(out / f"835_{payer_id}_{trace}.x12", "w", encoding="ascii", newline="") as f:
            write_835(rem, cps, adjs, f, sender=payer_id, receiver=office.submitter.id, control=control.next(),
                      date=when, line_break=True)  # fmt: skip


def _write_csvs(out: Path, cat: Catalog, cases: list[Case], as_of: date) -> None:
    with open(out / "payers.csv", "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["payer_id", "payer_name", "financial_class", "timely_filing_days", "appeal_days"])
        for p in cat.payers:
            w.writerow([p.payer_id, p.name, p.financial_class, p.timely_filing_days, p.appeal_days])
    with open(out / "atb.csv", "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(ATB_COLUMNS)
        for c in cases:
            a = c.atb
            if a is None:
                continue
            s = c.spec
            w.writerow([s.pcn, s.account, a.payer_id, a.responsibility, s.service.isoformat(),
                        a.last_billed.isoformat(), cents(s.charge), cents(a.insurance), cents(a.patient),
                        cents(a.adjustments), cents(c.balance())])  # fmt: skip
    with open(out / "truth.csv", "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(TRUTH_COLUMNS)
        for c in cases:
            sc = c.scenario
            w.writerow([c.spec.pcn, sc.id, sc.tier, sc.action, sc.root_cause, str(sc.collectible).lower(),
                        str(c.atb is not None).lower(), str(sc.denied).lower(), c.spec.payer.payer_id,
                        cents(c.balance()), cents(c.expected_recovery)])  # fmt: skip


def _write_readme(out: Path, cat: Catalog, cases: list[Case], as_of: date, profile: str, seed: int,
                  counts: dict[str, int]) -> None:  # fmt: skip
    by: dict[str, int] = defaultdict(int)
    for c in cases:
        by[c.scenario.id] += 1
    lines = [
        "everyclaim synthetic A/R world",
        "",
        f"profile: {profile}   seed: {seed}   as-of: {as_of.isoformat()}   claims: {len(cases)}",
        f"files: {counts}",
        "",
        "Everything is synthetic: patients, members, providers and payers are invented; codes are real",
        "(CPT/HCPCS-style procedure codes, ICD-10-CM FY2026 diagnoses, CARC/RARC).",
        "",
        "837p_/837i_YYYYMMDD_NNN.x12  claim batches per submission date (005010X222A1 / 005010X223A2)",
        "277ca_YYYYMMDD.x12           claim acknowledgments (005010X214), A1/A2 accepted, A7 rejected",
        "835_<payer>_<trace>.x12      one remittance per payer check (005010X221A1); BPR02 = sum CLP04 - sum PLB",
        "payers.csv                   payer profiles: timely filing and appeal windows in days",
        "atb.csv                      aged trial balance on the as-of date: open claims only (non-zero balance);",
        "                             balance = total_charge - insurance_payments - patient_payments - adjustments",
        "truth.csv                    every claim: scenario and the correct tier/action/root_cause/collectible;",
        "                             open = in the ATB; expected_recovery < 0 = money to refund; action '' = none due",
        "",
        "Scenarios (see everyclaim/synth/scenarios.yaml for the evidence each leaves in the files):",
    ]
    for sc in cat.scenarios:
        lines.append(f"  {sc.id:32s} {by.get(sc.id, 0):7d}  {sc.tier:15s} {sc.action or '-':20s} {sc.root_cause or '-'}")
        lines.append(f"      {sc.evidence}")
    (out / "README.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
