"""Generate a synthetic A/R world: what a billing office holds on an as-of date, as real files.

``generate(out_dir, claims, seed, as_of, profile)`` writes into ``out_dir``:

- ``837p_YYYYMMDD_NNN.x12`` / ``837i_YYYYMMDD_NNN.x12``: claim batches per submission date,
- ``277ca_YYYYMMDD.x12``: clearinghouse/payer acknowledgments per day,
- ``835_<payer>_<check>.x12``: one remittance (one transaction) per payer check,
- ``payers.csv``, ``atb.csv`` (open claims on the as-of date), ``truth.csv`` (every claim's scenario and
  the correct triage answer) and ``README.txt``.

Same seed, same bytes: one ``random.Random(seed)`` drives everything, envelope dates come from the
events, and files are written in sorted order.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import partial
from pathlib import Path

from everyclaim.ledger.records import Party
from everyclaim.synth.catalog import Catalog, Payer, Scenario, load_catalog
from everyclaim.synth.claims import Spec, facility_lines, npi, professional_lines
from everyclaim.synth.files import write_files
from everyclaim.synth.history import history_case, load_history_settings
from everyclaim.synth.story import SHAPES, Case, Ctx

PROFILES = ("clinic", "hospital")


@dataclass
class WorldSummary:
    claims: int
    files: dict[str, int] = field(default_factory=dict)  # file kind -> count
    scenarios: dict[str, int] = field(default_factory=dict)
    total_charges: str = "0.00"
    open_claims: int = 0
    open_balance: str = "0.00"


@dataclass(frozen=True, slots=True)
class Office:
    """The billing office: its billing providers, doctors, submitter and clearinghouse."""

    professional: Party
    institutional: Party | None
    doctors: tuple[Party, ...]
    new_hire: Party
    submitter: Party
    clearinghouse: Party


def _office(profile: str) -> Office:
    doctors = tuple(
        Party("82", last, first, "XX", npi(170000001 + i))
        for i, (last, first) in enumerate(
            [("PATEL", "ANJALI"), ("OKAFOR", "CHIDI"), ("LINDQVIST", "ERIK"), ("MORENO", "SOFIA"),
             ("CHEN", "MEI"), ("BAKER", "THOMAS")]  # fmt: skip
        )
    )
    if profile == "hospital":
        prof = Party("85", "ST LUKE PHYSICIAN GROUP", "", "XX", npi(150000002))
        inst: Party | None = Party("85", "ST LUKE REGIONAL HOSPITAL", "", "XX", npi(150000001))
        submitter = Party("41", "ST LUKE PATIENT FINANCIAL SERVICES", "", "46", "STLUKE01")
    else:
        prof = Party("85", "RIVERSIDE FAMILY MEDICINE", "", "XX", npi(150000003))
        inst = None
        submitter = Party("41", "RIVERSIDE FAMILY MEDICINE", "", "46", "RIVERFM01")
    return Office(prof, inst, doctors, Party("82", "NOVAK", "JULIA", "XX", npi(170000099)), submitter,
                  Party("40", "EVERYCLAIM CLEARINGHOUSE", "", "46", "ECCLEAR01"))  # fmt: skip


def _assign(rng: random.Random, scenarios: tuple[Scenario, ...], n: int) -> list[Scenario]:
    """Exactly round(share * n) claims per scenario (largest remainder), shuffled."""
    raw = [s.share * n for s in scenarios]
    counts = [int(x) for x in raw]
    order = sorted(range(len(raw)), key=lambda i: (counts[i] - raw[i], i))
    for i in order[: n - sum(counts)]:
        counts[i] += 1
    out = [s for s, c in zip(scenarios, counts, strict=True) for _ in range(c)]
    rng.shuffle(out)
    return out


@dataclass(slots=True)
class _Patient:
    account: str
    subscriber: Party
    patient: Party | None
    payer: Payer


def _patients(rng: random.Random, cat: Catalog, profile: str, n: int) -> list[_Patient]:
    weights = [p.share[profile] for p in cat.payers]
    out = []
    for i in range(n):
        payer = rng.choices(cat.payers, weights=weights)[0]
        last = rng.choice(cat.last_names)
        member = f"{payer.payer_id[:1]}{rng.randint(10**8, 10**9 - 1)}{rng.choice('ABCDEFGH')}"
        sub = Party("IL", last, rng.choice(cat.first_names), "MI", member)
        patient = None
        if payer.financial_class not in ("medicare", "managed_care") and rng.random() < 0.15:
            patient = Party("QC", last, rng.choice(cat.first_names))
        out.append(_Patient(f"A{i + 1:07d}", sub, patient, payer))
    return out


def _spec(rng: random.Random, cat: Catalog, office: Office, profile: str, seq: int, pt: _Patient,
          scenario: Scenario) -> Spec:  # fmt: skip
    institutional = office.institutional is not None and rng.random() < 0.45
    n_dx = rng.choice((1, 2, 2, 3, 3, 4))
    dx = tuple(rng.sample(cat.diagnoses, n_dx))
    if institutional:
        setting = rng.choices(("er", "outpatient", "inpatient"), weights=(45, 45, 10))[0]
        lines, stay = facility_lines(rng, cat, setting)
        facility = "11" if setting == "inpatient" else "13"
        quals = ("ABK",) + (("ABJ",) if setting == "inpatient" and n_dx > 1 else ())
        quals += ("ABF",) * (n_dx - len(quals))
        kind, provider, rendering = "837I", office.institutional, None
        drg = rng.choice(("470", "871", "291", "392", "194", "690", "603")) if setting == "inpatient" else ""
    else:
        n_lines = rng.choices((1, 2, 3, 4), weights=(10, 20, 35, 35))[0]
        if scenario.shape == "bundled":
            n_lines = max(2, n_lines)
        lines, stay = professional_lines(rng, cat, n_lines), 0
        if scenario.shape == "bundled" and len(lines) < 2:
            lines = professional_lines(rng, cat, 4)
        facility, quals, drg = "11", ("ABK",) + ("ABF",) * (n_dx - 1), ""
        kind, provider, rendering = "837P", office.professional, rng.choice(office.doctors)
    assert provider is not None
    secondary = None
    if scenario.shape in ("secondary_paid", "secondary_unbilled"):
        if pt.payer.financial_class == "medicare":
            pool = [p for p in cat.payers if p.financial_class in ("medicaid", "commercial")]
        else:
            pool = [p for p in cat.payers if p.financial_class == "commercial" and p != pt.payer]
        secondary = rng.choice(pool)
    service = date(2000, 1, 1)  # placed by the scenario's timeline
    return Spec(
        pcn=f"C{seq:08d}", account=pt.account, kind=kind, facility=facility, payer=pt.payer,
        provider=provider, subscriber=pt.subscriber, patient=pt.patient, rendering=rendering,
        service=service, service_end=service + timedelta(days=stay), diagnoses=dx, lines=lines,
        secondary=secondary, drg=drg, dx_quals=quals,
    )  # fmt: skip


def build_cases(claims: int, seed: int, as_of: date, profile: str = "clinic", cat: Catalog | None = None,
                progress: Callable[[int, int], None] | None = None,
                history: int = 0) -> tuple[Catalog, Office, list[Case]]:  # fmt: skip
    """The world as cases (claim specs with their file events), before anything is written.

    ``history`` adds that many resolved denials (``synth/history.py``) after the ``claims`` claims; the
    first ``claims`` cases are the same with or without history.
    """
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {PROFILES}")
    rng = random.Random(seed)
    cat = cat or load_catalog()
    office = _office(profile)
    scenarios = _assign(rng, cat.scenarios, claims)
    patients = _patients(rng, cat, profile, max(1, claims * 2 // 5))
    ctx = Ctx(rng, as_of, cat.payers, office.new_hire)
    cases = []
    for i, sc in enumerate(scenarios):
        pt = patients[rng.randrange(len(patients))]
        case = Case(_spec(rng, cat, office, profile, i + 1, pt, sc), sc)
        SHAPES[sc.shape](ctx, case, sc.params)
        cases.append(case)
        if progress and (i + 1) % 5000 == 0:
            progress(i + 1, claims)
    if history:
        hs = load_history_settings()
        for j in range(history):
            pt = patients[rng.randrange(len(patients))]
            seq = claims + j + 1
            cases.append(history_case(ctx, hs, partial(_spec, rng, cat, office, profile, seq, pt)))
    return cat, office, cases


def generate(out_dir: Path, claims: int, seed: int, as_of: date, profile: str = "clinic",
             progress: Callable[[int, int], None] | None = None, history: int = 0) -> WorldSummary:  # fmt: skip
    """Write a world of ``claims`` claims (plus ``history`` resolved denials) into ``out_dir``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    cat, office, cases = build_cases(claims, seed, as_of, profile, progress=progress, history=history)
    files = write_files(out_dir, cat, office, cases, as_of, profile, seed)
    open_cases = [c for c in cases if c.atb is not None]
    return WorldSummary(
        claims=len(cases),
        files=files,
        scenarios=dict(sorted(Counter(c.scenario.id for c in cases).items())),
        total_charges=_fmt(sum(c.spec.charge for c in cases)),
        open_claims=len(open_cases),
        open_balance=_fmt(sum(c.balance() for c in open_cases)),
    )


def _fmt(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    return f"{sign}{cents // 100}.{cents % 100:02d}"


