"""The walker on the shared corpus: valid samples accepted (with findings), invalid ones rejected for the right reason."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from everyclaim.x12.errors import X12Rejected
from everyclaim.x12.tokenize import read_segments, segments_from_path
from everyclaim.x12.walk import walk

DATA = Path("/work/shared/data")
X12 = DATA / "x12"
pytestmark = pytest.mark.skipif(not X12.exists(), reason="shared corpus not mounted")

# Files outside invalid/ that the rules still reject, with the reason (reported upstream).
KNOWN_REJECTED = {
    "x12/277ca/oopx12__FromBogeyone.txt": "IK5-2",  # cut off: no SE/GE/IEA
    "x12/835/oopx12__Example1_pretty_bom.txt": "IK4-1",  # CLP*090909*22 without CLP03/CLP04 (posted money)
    "x12/837p/oopx12__UnicodeExample.txt": "IK5-2",  # UTF-16, cut off after NM1*41
}


def _valid_files() -> list[str]:
    rows = list(csv.DictReader((X12 / "INDEX.csv").open()))
    kinds = ("x12/835/", "x12/837p/", "x12/837i/", "x12/277ca/", "x12/999/")
    return [r["path"] for r in rows if r["path"].startswith(kinds) and "/invalid/" not in r["path"]]


def _walk(rel: str):
    w = walk(segments_from_path(DATA / rel), rel)
    return w, list(w)


@pytest.mark.parametrize("rel", _valid_files())
def test_valid_sample_is_accepted(rel: str) -> None:
    if rel in KNOWN_REJECTED:
        with pytest.raises(X12Rejected) as exc:
            _walk(rel)
        assert exc.value.problem.ack_code == KNOWN_REJECTED[rel]
        return
    w, placed = _walk(rel)
    assert placed and w.transactions >= 1
    assert all(p.severity == "finding" and p.file_name == rel for p in w.findings)
    assert all(p.seg_index > 0 for p in w.findings if p.code != "X12-ENCODING")


# invalid file -> (segment index, segment id, ack code)
INVALID = {
    "835/invalid/edicli__sample-835.edi": (4, "BPR", "IK4-5"),
    "837p/invalid/edicli__sample-837.edi": (23, "HL", "I7"),
    "837p/invalid/ims__x12_bad_first_line.txt": (1, "ISA", "TA1-011"),
    "837p/invalid/ims__x12_bad_segment_identifier.txt": (6, "", "1"),
    "837p/invalid/ims__x12_bad_valid_code.txt": (9, "NM1", "IK4-7"),
    "837p/invalid/ims__x12_loop_errors1_exceeds_max_1_parent.txt": (15, "NM1", "4"),
    "837p/invalid/ims__x12_loop_errors2_exceeds_max_repeats_multiple_parents.txt": (34, "NM1", "4"),
    "837p/invalid/ims__x12_loop_errors3_missing_loops.txt": (21, "SE", "I7"),
    "837p/invalid/ims__x12_missing_elements.txt": (31, "CLM", "IK4-1"),
    "837p/invalid/ims__x12_missing_required_loop_in_one_repeat.txt": (26, "HL", "I7"),
    "837p/invalid/ims__x12_missing_required_loops_mult_repeats.txt": (33, "SV1", "2"),
    "837p/invalid/ims__x12_no_isa_line.txt": (1, "GS", "TA1-024"),
    # two different billing-provider tax ids (REF*EI, once in 2010AA): the provider cannot be known
    "837p/invalid/ims__x12_segment_errors.txt": (12, "REF", "5"),
    "837p/invalid/ims__x12_segments_out_of_order.txt": (12, "N4", "7"),
    "837p/invalid/oopx12__MissingEntityCode.txt": (25, "NM1", "IK4-7"),
}


def test_every_invalid_file_is_in_the_table() -> None:
    found = {str(p.relative_to(X12)) for p in X12.glob("**/invalid/*")}
    assert found == set(INVALID)


@pytest.mark.parametrize("rel", sorted(k for k, v in INVALID.items() if v is not None))
def test_invalid_file_is_rejected_for_the_right_reason(rel: str) -> None:
    with pytest.raises(X12Rejected) as exc:
        _walk("x12/" + rel)
    p = exc.value.problem
    assert (p.seg_index, p.seg_id, p.ack_code) == INVALID[rel], p.located()
    assert p.severity == "error" and p.file_name.endswith(rel)


@pytest.mark.parametrize("rel", ["x12/legacy_4010/lfh__837_004010X096A1__institutional.837",
                                 "x12/legacy_4010/tigershark__835-example-4010-pipe.txt"])
def test_4010_is_refused_clearly(rel: str) -> None:
    with pytest.raises(X12Rejected) as exc:
        _walk(rel)
    assert "4010 is not supported" in exc.value.problem.message


def test_270_is_refused_clearly() -> None:
    with pytest.raises(X12Rejected) as exc:
        _walk("x12/270/lfh__subscriber-health-benefit-check.270")
    assert exc.value.problem.message.startswith("unsupported transaction set 270")


def _loops(rel: str) -> dict[tuple[str, str], str]:
    _, placed = _walk(rel)
    out: dict[tuple[str, str], str] = {}
    for loop, seg in placed:
        out.setdefault((seg.id, seg.get(1)), loop)
    return out


def test_835_loop_ids() -> None:
    loops = _loops("x12/835/tigershark__5010-835-example-1.txt")
    assert loops[("BPR", "I")] == "HEADER" or loops.get(("BPR", "H")) == "HEADER"
    assert loops[("N1", "PR")] == "1000A" and loops[("N1", "PE")] == "1000B"
    assert {v for (sid, _), v in loops.items() if sid == "CLP"} == {"2100"}
    assert {v for (sid, _), v in loops.items() if sid == "SVC"} == {"2110"}
    assert loops[("NM1", "QC")] == "2100" and loops[("ISA", "00")] == "ISA_LOOP"


def test_837p_loop_ids() -> None:
    loops = _loops("x12/837p/ims__x12_valid.txt")
    assert loops[("NM1", "85")] == "2010AA" and loops[("NM1", "IL")] == "2010BA"
    assert loops[("NM1", "PR")] == "2010BB"
    assert {v for (sid, _), v in loops.items() if sid == "CLM"} == {"2300"}
    assert {v for (sid, _), v in loops.items() if sid == "SV1"} == {"2400"}


def test_bare_st_835_is_accepted_with_a_finding() -> None:
    w, placed = _walk("x12/835/era835rb__example_1.835")
    assert any(p.code == "X12-NO-ENVELOPE" for p in w.findings)
    assert any(seg.id == "CLP" and loop == "2100" for loop, seg in placed)


def test_truncated_input_is_rejected() -> None:
    import io
    text = (X12 / "835/tigershark__5010-835-example-1.txt").read_bytes()
    cut = text[: text.index(b"SE*")]
    with pytest.raises(X12Rejected) as exc:
        list(walk(read_segments(io.BytesIO(cut), "cut.835"), "cut.835"))
    assert exc.value.problem.ack_code == "IK5-2"


# ---- the walker's compiled fast path agrees with the full element check (no corpus needed) ----------
def _random_elements(rnd, node, pool):  # noqa: ANN001, ANN202
    n = rnd.randrange(1, len(node.elements) + 3)
    out = [node.id]
    for i in range(1, n):
        spec = node.elements[i - 1] if i - 1 < len(node.elements) else None
        choices = list(pool)
        if spec is not None and spec.codes:
            choices += sorted(spec.codes)[:5] * 4
        if spec is not None and spec.components:
            choices += [":".join(rnd.choice(pool) for _ in range(rnd.randrange(1, 4))) for _ in range(4)]
        out.append(rnd.choice(choices))
    return out


@pytest.mark.parametrize("kind", ["835", "837P", "837I", "277CA", "999"])
def test_compiled_checks_never_pass_a_segment_the_full_check_flags(kind: str) -> None:
    """``SegNode.ok`` (the fast path) may say False for a fine segment, never True for a flagged one."""
    import random

    from everyclaim.x12.guide import SegNode, iter_loops, load_guide
    from everyclaim.x12.segments import Delimiters, Segment
    from everyclaim.x12.walk import Walk, _Walker

    pool = ["", "A", "AB", "ABC", "X" * 30, "X" * 90, "0", "1", "12", "123.45", "-5", "-0.5", "1.2.3", "5.", ".5",
            "1,00", "20230101", "20230229", "20240229", "20231340", "230101", "1200", "2400", "235960", "1230",
            "20230101-20230105", "20230105-20230101", "D8", "RD8", "HC:99213", "HC>99213", ",,,,,x", "\u0663",
            "99213", "N290", "CO", "PR", "QC", "IL", "85", "1" * 19, "  "]
    rnd = random.Random(kind)
    d = Delimiters()
    walker = _Walker(Walk([], "t.x12"))
    passed = flagged = 0
    for loop in iter_loops(load_guide(kind).root):
        for node in loop.children:
            if not isinstance(node, SegNode):
                continue
            for _ in range(150):
                e = _random_elements(rnd, node, pool)
                if node.id == "DTP" and len(e) > 3 and rnd.random() < 0.5:
                    e[2] = rnd.choice(("D8", "RD8"))
                fast = node.ok(e, d)  # before the full check, which may re-separate a composite in place
                seg = Segment(7, node.id, list(e), d)
                walker.findings = found = []
                try:
                    walker.check_elements(seg, node)
                except X12Rejected as exc:
                    found.append(exc.problem)
                if fast:
                    assert found == [], (node.loop.id, e, [p.message for p in found])
                    passed += 1
                else:
                    flagged += bool(found)
    assert passed > 20 and flagged > 100  # both sides are exercised


def _segment_errors_text() -> str:
    return (X12 / "837p/invalid/ims__x12_segment_errors.txt").read_text()


def test_a_repeated_identifier_with_the_same_value_is_only_a_finding() -> None:
    import io
    text = _segment_errors_text().replace("REF*EI*423534563", "REF*EI*123456789")
    w = walk(read_segments(io.BytesIO(text.encode()), "same.837"), "same.837")
    list(w)
    assert ("X12-SEGMENT-REPEAT", 12) in {(p.code, p.seg_index) for p in w.findings}


def test_a_repeated_identifier_with_another_value_rejects() -> None:
    with pytest.raises(X12Rejected) as exc:
        _walk("x12/837p/invalid/ims__x12_segment_errors.txt")
    p = exc.value.problem
    assert (p.code, p.element) == ("X12-IDENTIFIER-CONFLICT", 2)
    assert "423534563" not in p.message  # identifiers are not echoed


def test_foreign_component_separator_is_re_separated_for_the_projections() -> None:
    import io
    text = (X12 / "835/tigershark__5010-835-example-1.txt").read_text()
    assert "SVC*AD|" in text  # ISA16 is "|"
    w = walk(read_segments(io.BytesIO(text.replace("SVC*AD|", "SVC*AD>").encode()), "gt.835"), "gt.835")
    svcs = [seg for _, seg in w if seg.id == "SVC"]
    assert svcs and all(seg.components(1)[0] == "AD" and len(seg.components(1)) > 1 for seg in svcs)
    assert sum(p.code == "X12-COMPONENT-SEPARATOR" for p in w.findings) == len(svcs)


def test_state_codes_come_from_the_guide() -> None:
    import io
    text = (X12 / "835/tigershark__5010-835-example-1.txt").read_text()
    n4 = next(s for s in text.replace("\n", "").split("~") if s.strip().startswith("N4*"))
    bad = n4.split("*")
    bad[2] = "NP"
    w = walk(read_segments(io.BytesIO(text.replace(n4, "*".join(bad), 1).encode()), "st.835"), "st.835")
    list(w)
    assert any(p.code == "X12-ELEMENT-INVALID" and p.seg_id == "N4" and p.element == 2 for p in w.findings)
