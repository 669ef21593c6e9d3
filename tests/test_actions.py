"""``actions export``: a triaged synthetic world's automated actions as files, checked against the ledger,
pyx12 (837) and the 276 guide's structure, and exported once only."""

from __future__ import annotations

import csv
import hashlib
import json
import logging
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

from everyclaim.ingest.pipeline import Options, ingest
from everyclaim.ledger import schema as t
from everyclaim.ledger.rebuild import Adjudication
from everyclaim.ledger.records import Claim, OtherPayer, Party, ServiceLine, Source
from everyclaim.triage import engine as eng
from everyclaim.triage.actions import ExportOptions, export_actions, replacement, secondary, to_priority_payer
from everyclaim.triage.rules import AUTOMATIC_TIERS, GENERIC_CODES, load_rules
from everyclaim.x12.tokenize import segments_from_path
from everyclaim.x12.write276 import StatusInquiry, write_276
from tests.shared_data import X12
from tests.x12_276_shape import check_276

pyx12_doc = pytest.importorskip("pyx12.x12n_document")
import pyx12.params  # noqa: E402

AS_OF = date(2026, 3, 31)
TODAY = date(2026, 4, 1)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from everyclaim.synth.world import generate

    out = tmp_path_factory.mktemp("world")
    generate(out, 600, seed=11, as_of=AS_OF)
    return out


def pyx12_errors(path: Path) -> list[str]:
    messages: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.levelno >= logging.ERROR:
                messages.append(record.getMessage())

    log, h = logging.getLogger("pyx12"), Collect()
    log.addHandler(h)
    old, log.propagate = log.propagate, False
    try:
        ok = pyx12_doc.x12n_document(pyx12.params.params(), str(path), None, None, None)
    finally:
        log.removeHandler(h)
        log.propagate = old
    return messages if messages or ok else ["invalid"]


def _segs(path: Path) -> list[list[str]]:
    return [list(s.elements) for s in segments_from_path(path)]


def _claims(segs: list[list[str]]) -> dict[str, list[list[str]]]:
    """Each CLM's segments up to the next subscriber HL, keyed by CLM01, with the 2000B SBR first."""
    out: dict[str, list[list[str]]] = {}
    sbr: list[str] = []
    current: list[list[str]] | None = None
    for s in segs:
        if s[0] == "HL":
            current = None
        elif s[0] == "SBR" and current is None:
            sbr = s
        elif s[0] == "CLM":
            current = out[s[1]] = [sbr, s]
        elif current is not None:
            current.append(s)
    return out


def test_export_world(engine: sa.Engine, world: Path, tmp_path: Path) -> None:
    ingest(engine, [world], Options(as_of=AS_OF))
    rules, errors = load_rules()
    assert not errors
    with engine.begin() as conn:
        run = eng.triage(conn, AS_OF, rules).run_id
        r = eng.results.c
        automated = conn.execute(sa.select(r.pcn, r.action, r.balance_cents, r.adjustment_code).where(
            r.run_id == run, r.tier.in_(AUTOMATIC_TIERS), r.mode == "auto")).all()  # fmt: skip
        first = export_actions(conn, run, tmp_path / "out", ExportOptions(today=TODAY, test=True))
    out = tmp_path / "out"
    by_action: dict[str, set[str]] = {}
    for pcn, action, _, _ in automated:
        by_action.setdefault(action, set()).add(pcn)
    names = {f.name for f in first.files}
    assert {"write-offs.csv", "transfers.csv", "replacements-837P.x12", "secondary-837P.x12",
            "status-276.x12", "manifest.json"} <= names | {"manifest.json"}  # fmt: skip
    _check_write_offs(out, automated)
    with engine.connect() as conn:
        _check_replacements(conn, out / "replacements-837P.x12", by_action["rebill_corrected"])
        _check_secondary(conn, out / "secondary-837P.x12", by_action["bill_secondary"])
    _check_status(out / "status-276.x12", by_action["status_inquiry"])
    manifest = json.loads((out / "manifest.json").read_text())
    for f in manifest["files"]:
        assert hashlib.sha256((out / f["name"]).read_bytes()).hexdigest() == f["sha256"]
    assert manifest["usage"] == "T" and manifest["exported"] == first.exported > 0

    # idempotent: the same run again exports nothing and writes no file
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    with engine.begin() as conn:
        again = export_actions(conn, run, out, ExportOptions(today=TODAY))
        recorded = conn.execute(sa.select(sa.func.count()).select_from(t.action_exports)).scalar_one()
    assert again.files == [] and again.exported == 0
    assert again.already_exported == first.exported
    assert again.skipped == first.skipped  # what could not be exported is not recorded: it may be later
    assert recorded == first.exported
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def _check_write_offs(out: Path, automated: list[sa.Row]) -> None:
    expected = {pcn: (cents, code) for pcn, action, cents, code in automated if action == "write_off"}
    with (out / "write-offs.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert {r["claim_id"] for r in rows} == set(expected)
    for r in rows:
        cents, code = expected[r["claim_id"]]
        assert Decimal(r["amount"]) == Decimal(cents) / 100 > 0  # exact; never a credit balance
        assert r["adjustment_code"] == code and code and not GENERIC_CODES.search(code)
        assert r["reason"]


def _check_replacements(conn: sa.Connection, path: Path, pcns: set[str]) -> None:
    assert pyx12_errors(path) == []
    claims = _claims(_segs(path))
    assert set(claims) <= pcns and len(claims) >= len(pcns) - 2
    cp = t.claim_payments.c
    controls = dict(conn.execute(sa.select(cp.pcn, cp.payer_claim_control).where(cp.pcn.in_(claims),
                                                                                  cp.payer_claim_control != "")).all())
    replaced = 0
    for pcn, segs in claims.items():
        freq = segs[1][5].split(":")[2]
        f8 = [s[2] for s in segs if s[:2] == ["REF", "F8"]]
        if freq == "7":
            replaced += 1
            assert f8 == [controls[pcn]]
        else:
            assert freq == "1" and f8 == [] and pcn not in controls
    assert replaced > 0


def _check_secondary(conn: sa.Connection, path: Path, pcns: set[str]) -> None:
    assert pyx12_errors(path) == []
    claims = _claims(_segs(path))
    assert set(claims) == pcns
    cp, r = t.claim_payments.c, t.remittances.c
    paid = dict(conn.execute(sa.select(cp.pcn, cp.paid_cents).where(cp.pcn.in_(claims), cp.is_reversal.is_(False))
                             ).all())  # fmt: skip
    for pcn, segs in claims.items():
        assert segs[0][1] in ("S", "T")  # 2000B: this payer is the next one
        ids = [s[0] for s in segs]
        other = ids.index("SBR", 1)  # 2320
        assert segs[other][1] == "P"
        amt = next(s for s in segs if s[:2] == ["AMT", "D"])
        assert Decimal(amt[2]) == Decimal(paid[pcn]) / 100
        assert "SVD" in ids and ids.index("SVD") > ids.index("LX")  # 2430 line adjudication
    assert r is not None


def _check_status(path: Path, pcns: set[str]) -> None:
    assert check_276(path) == []
    traces = {s[2] for s in _segs(path) if s[0] == "TRN"}
    assert traces == pcns


# ---- the 276 structure check itself, on the public samples ----------------------------------------
@pytest.mark.parametrize("name", ["lfh__claim-level-status.276", "lfh__provider-level-status.276",
                                  "lfh__claim-level-status-ncpdp.276", "mjkubba__edi276-demo-005010X212.edi"])
def test_276_check_accepts_the_guide_samples(name: str) -> None:
    path = X12 / "276" / name
    if not path.exists():
        pytest.skip("shared samples not present")
    assert check_276(path) == []


def test_276_check_rejects_a_nonconforming_sample() -> None:
    path = X12 / "276" / "edicli__sample-276.edi"
    if not path.exists():
        pytest.skip("shared samples not present")
    problems = check_276(path)
    assert any("HR/276/005010X212" in p for p in problems) and any("NM1*41" in p for p in problems)


# ---- the writers on hand-built records -----------------------------------------------------------
BP = Party("85", "FAMILY CLINIC", "", "XX", "1234567893")
SUB = Party("IL", "DOE", "JANE", "MI", "W123456789")
PRIMARY = Party("PR", "MEDICARE", "", "PI", "MCR01")
SECOND = Party("PR", "STATE MEDICAID", "", "PI", "MCD01")


def _claim(**kw: object) -> Claim:
    line = ServiceLine(1, "HC", "99213", (), Decimal("150.00"), Decimal(1), "UN", date(2026, 1, 2), line_control="L1")
    base = dict(source=Source(""), kind="837P", pcn="P1", charge=Decimal("150.00"), place_of_service="11",
                facility_qualifier="B", frequency="1", billing_provider=BP, subscriber=SUB, payer=PRIMARY,
                service_from=date(2026, 1, 2), diagnoses=("J209",), lines=(line,))  # fmt: skip
    return Claim(**(base | kw))  # type: ignore[arg-type]


def _adjudication(control: str = "ICN9", priority: Party | None = None) -> Adjudication:
    from everyclaim.ledger.rebuild import LineAdjudication
    from everyclaim.ledger.records import Adjustment

    adj = (Adjustment("CO", "45", Decimal("50.00")), Adjustment("PR", "2", Decimal("20.00")))
    return Adjudication(1, PRIMARY, "1", Decimal("80.00"), date(2026, 2, 1), control, "MB", priority, (),
                        (LineAdjudication("99213", "L1", Decimal("80.00"), adj),))  # fmt: skip


def test_follow_up_claims() -> None:
    assert replacement(_claim(), _adjudication()).frequency == "7"
    assert replacement(_claim(), _adjudication()).payer_claim_control == "ICN9"
    assert replacement(_claim(), None).frequency == "1"  # never adjudicated: sent again as an original
    assert isinstance(secondary(_claim(), _adjudication()), str)  # no 2320: no next payer named
    with_other = _claim(other_payers=(OtherPayer("S", SECOND, Party("IL", "", "", "MI", "MCD777")),))
    sec = secondary(with_other, _adjudication())
    assert not isinstance(sec, str)
    assert (sec.payer, sec.responsibility, sec.subscriber.id) == (SECOND, "S", "MCD777")
    assert sec.other_payers[0].payer == PRIMARY and sec.other_payers[0].paid == Decimal("80.00")
    assert sec.lines[0].other_payer_paid[0][:2] == ("MCR01", Decimal("80.00"))
    assert isinstance(to_priority_payer(_claim(), _adjudication()), str)
    moved = to_priority_payer(_claim(), _adjudication(priority=SECOND))
    assert not isinstance(moved, str) and moved.payer == SECOND and moved.frequency == "1"


def test_276_with_a_dependent(tmp_path: Path) -> None:
    qs = [
        StatusInquiry("T1", PRIMARY, BP, SUB, "P1", Decimal("150.00"), date(2026, 1, 2)),
        StatusInquiry("T2", PRIMARY, BP, SUB, "P2", Decimal("90.00"), date(2026, 1, 2), date(2026, 1, 4),
                      patient=Party("QC", "DOE", "JIMMY"), payer_claim_control="ICN1", bill_type="131"),
        StatusInquiry("T3", SECOND, BP, SUB, "P3", Decimal("10.00"), date(2026, 1, 3)),
    ]  # fmt: skip
    path = tmp_path / "s.276"
    with path.open("w") as f:
        written = write_276(qs, f, sender=Party("41", "SUB", "", "46", "SUB01"),
                            receiver=Party("40", "CH", "", "46", "CH01"), control=7, date=TODAY)  # fmt: skip
    assert written.records == 3
    assert check_276(path) == []
    segs = _segs(path)
    assert [s[3] for s in segs if s[0] == "HL"] == ["20", "21", "19", "22", "22", "23", "20", "21", "19", "22"]
    assert ["REF", "1K", "ICN1"] in segs and ["DTP", "472", "RD8", "20260102-20260104"] in segs


def test_cli_export_without_a_triage_run(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from everyclaim.cli.app import app

    res = CliRunner().invoke(app, ["actions", "export", "--out", str(tmp_path / "o"), "--db",
                                   f"sqlite:///{tmp_path}/x.db"])  # fmt: skip
    assert res.exit_code == 1
    assert not (tmp_path / "o").exists()
