"""Code sets and the denial-category map (everyclaim.codes)."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from everyclaim.codes import (
    DENIAL_CATEGORIES,
    carc_category_rows,
    categories,
    data_text,
    load_code_sets,
    read_table,
)

SHARED_835 = Path("/work/shared/data/x12/835")

COLUMNS = {
    "carc": ["code", "description", "status", "start_date", "stop_date", "notes"],
    "rarc": ["code", "description", "notes"],
    "group": ["code", "name", "description"],
    "claim_status": [
        "code",
        "description",
        "processed_as",
        "denied",
        "reversal",
        "forwarded",
        "not_our_claim",
        "predetermination",
        "pended",
    ],
    "frequency": ["code", "name", "description"],
    "pos": ["code", "description"],
    "stc_category": ["code", "description", "class"],
    "claim_filing": ["code", "name", "financial_class"],
}
FILES = {
    "carc": "carc.csv",
    "rarc": "rarc.csv",
    "group": "cas_groups.csv",
    "claim_status": "claim_status.csv",
    "frequency": "frequency.csv",
    "pos": "place_of_service.csv",
    "stc_category": "stc_category.csv",
    "claim_filing": "claim_filing.csv",
}


@pytest.fixture(scope="module")
def cs():
    return load_code_sets()


@pytest.mark.parametrize("kind", sorted(COLUMNS))
def test_csv_columns_and_unique_codes(kind):
    header = next(csv.reader(data_text(FILES[kind]).splitlines()))
    assert header == COLUMNS[kind]
    rows = read_table(kind)
    assert rows, kind
    codes = [r["code"] for r in rows]
    assert len(codes) == len(set(codes)), f"duplicate codes in {kind}"
    for r in rows:
        assert r["code"].strip() == r["code"] and r["code"], r
        assert r.get("description") or r.get("name"), r


def test_carc_rows_well_formed():
    rows = read_table("carc")
    assert len(rows) >= 380
    date = re.compile(r"^\d{4}-\d{2}-\d{2}$")
    for r in rows:
        assert r["description"].strip(), r
        assert r["status"] in ("active", "deactivated"), r
        assert date.match(r["start_date"]), r
        if r["stop_date"]:
            assert date.match(r["stop_date"]) and r["status"] == "deactivated", r
        if r["status"] == "deactivated" and not r["stop_date"]:
            assert "stop date" in r["notes"].lower(), r
    active = [r for r in rows if r["status"] == "active"]
    assert len(active) >= 280


def test_rarc_has_common_codes(cs):
    assert len(read_table("rarc")) >= 150
    for code in [
        "N290",
        "MA130",
        "M86",
        "N130",
        "N4",
        "N362",
        "M15",
        "MA04",
        "N179",
        "N30",
        "N265",
        "N286",
        "M51",
        "M76",
        "MA92",
        "N19",
        "N20",
        "N386",
        "N522",
        "N640",
    ]:
        assert cs.rarc(code) is not None, code


@pytest.mark.parametrize(
    "code, words",
    [
        ("1", "deductible"),
        ("2", "coinsurance"),
        ("3", "co-payment"),
        ("16", "lacks information"),
        ("18", "duplicate"),
        ("22", "coordination of benefits"),
        ("27", "after coverage terminated"),
        ("29", "time limit for filing"),
        ("45", "fee schedule"),
        ("50", "medical necessity"),
        ("96", "non-covered"),
        ("97", "included in the payment"),
        ("197", "authorization"),
    ],
)
def test_carc_anchor_meanings(cs, code, words):
    carc = cs.carc(code)
    assert carc is not None and carc.active
    assert words in carc.description.lower()


def test_normalisation(cs):
    assert cs.carc("029").code == "29"
    assert cs.carc(" a1 ").code == "A1"
    assert cs.pos("1") is not None and cs.pos("11").description == "Office"
    assert cs.claim_status("22").flag("reversal")
    assert cs.claim_status("4").flag("denied")
    assert cs.claim_status("23").flag("not_our_claim")
    assert cs.claim_status("25").flag("predetermination")
    assert cs.frequency("7") is not None and "replace" in cs.frequency("7").description.lower()
    assert "void" in cs.frequency("8").description.lower()
    assert cs.group("CO") is not None and cs.group("PR") is not None
    assert cs.claim_filing("MC").extra["financial_class"] == "medicaid"
    assert cs.claim_filing("MB").extra["financial_class"] == "medicare"
    assert cs.stc_category("A7").extra["class"] == "rejected"
    assert cs.stc_category("F2").extra["class"] == "finalized"


@pytest.mark.parametrize(
    "group, carc, category",
    [
        ("CO", "29", "timely_filing"),
        ("CO", "50", "medical_necessity"),
        ("CO", "197", "authorization"),
        ("CO", "27", "eligibility"),
        ("OA", "22", "coordination_of_benefits"),
        ("OA", "18", "duplicate"),
        ("CO", "16", "missing_information"),
        ("CO", "97", "bundling"),
        ("CO", "45", "contractual"),
        ("PR", "1", "patient_responsibility"),
        ("PR", "2", "patient_responsibility"),
        ("PR", "3", "patient_responsibility"),
        ("PR", "45", "patient_responsibility"),
        ("CO", "B7", "provider_enrollment"),
        ("CO", "11", "coding"),
        ("CO", "999", "other"),
    ],
)
def test_domain_examples(cs, group, carc, category):
    assert cs.denial_category(group, carc) == category


def test_rarc_decides(cs):
    assert cs.denial_category("CO", "16", ["N290"]) == "missing_information"
    assert cs.denial_category("CO", "16", ["MA04"]) == "coordination_of_benefits"
    assert cs.denial_category("CO", "16", ["M51"]) == "coding"
    assert cs.denial_category("CO", "96", ["N386"]) == "medical_necessity"
    assert cs.denial_category("CO", "96", ["N130"]) == "other"  # no rule for N130: CARC decides
    assert cs.denial_category("CO", "96", ["M16", "N522"]) == "duplicate"  # first RARC with a rule wins


def test_is_denial(cs):
    assert cs.is_denial("CO", "29")
    assert cs.is_denial("CO", "16", ["N290"])
    assert not cs.is_denial("CO", "45")
    assert not cs.is_denial("PR", "1")
    assert not cs.is_denial("OA", "23")
    assert not cs.is_denial("PI", "104")


def test_every_category_reachable_and_described(cs):
    reached = {row[3] for row in carc_category_rows()}
    assert set(DENIAL_CATEGORIES) <= reached
    assert {"contractual", "patient_responsibility"} <= reached
    cats = categories()
    assert [c.name for c in cats] == list(DENIAL_CATEGORIES) and len(cats) == 11
    for c in cats:
        assert c.kind == "denial" and c.description.endswith(".")


def test_mapping_covers_every_carc_once(cs):
    unconditional = [(g, c) for g, c, r, _ in carc_category_rows() if not g and not r]
    carcs = [c for _, c in unconditional]
    assert len(carcs) == len(set(carcs))
    assert set(carcs) == set(cs.tables["carc"])
    for g, c, r, cat in carc_category_rows():
        assert cat in cs.category_defs, (g, c, r, cat)
        assert cs.carc(c) is not None, c
        assert not r or cs.rarc(r) is not None, r
    for row in cs.rows:
        assert row.rationale.strip()


def _cas_carcs(text: str) -> set[tuple[str, str]]:
    text = text.lstrip("\ufeff")
    elem = text[3] if text.startswith("ISA") else ("|" if "CAS|" in text else "*")
    found = set()
    for seg in re.split(r"[~\r\n]+", text):
        seg = seg.strip()
        if not seg.startswith("CAS" + elem):
            continue
        parts = seg.split(elem)
        for i in range(2, len(parts), 3):
            code = parts[i].strip()
            # skip empty and redacted placeholders ('X', 'XX' ...) of the scrubbed sample files
            if code and not re.fullmatch(r"X+", code):
                found.add((parts[1], code))
    return found


@pytest.mark.skipif(not SHARED_835.is_dir(), reason="shared X12 samples not present")
def test_every_carc_in_shared_835_samples_is_known(cs):
    files = [p for p in SHARED_835.rglob("*") if p.suffix in (".txt", ".edi", ".835")]
    assert files
    seen = set()
    for p in files:
        seen |= _cas_carcs(p.read_text(encoding="utf-8", errors="replace"))
    assert seen
    missing = sorted(c for _, c in seen if cs.carc(c) is None)
    assert not missing, missing
    mapped = {c for _, c, _, _ in carc_category_rows()}
    assert {c for _, c in seen} <= mapped


def test_explain(cs):
    text = load_code_sets().explain("carc", "29")
    assert "timely filing" in text.lower() and "29" in text
    assert "deactivated" in cs.explain("carc", "A2").lower()
    assert "not a denial" in cs.explain("carc", "45")
    assert "unknown" in cs.explain("rarc", "ZZ999")
    assert "N290" in cs.explain("carc", "16")
    with pytest.raises(KeyError):
        cs.explain("nope", "1")


def test_loaded_once_and_immutable():
    a, b = load_code_sets(), load_code_sets()
    assert a is b
    with pytest.raises((AttributeError, TypeError)):
        a.tables["carc"]["1"] = None  # type: ignore[index]
