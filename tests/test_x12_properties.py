"""Property tests: a real sample re-encoded with random delimiters, layout, BOM and chunk size reads the same.

For each sample the reference is what the tokenizer and ``read_records`` give for the file as published.
Hypothesis then re-encodes the file's segments with four delimiters drawn from characters that do not
occur in the data (printable punctuation and control characters such as \\x1c-\\x1f and \\x07, a newline
as segment terminator), a layout (one line, one segment per line with LF or CRLF, indentation, trailing
whitespace), an optional UTF-8 BOM, and reads it back in chunks of 1..4096 bytes. The tokens must be the
same (after mapping the component / repetition separators back), the records equal (apart from the file's
sha256 and name) and the findings the same.
"""

from __future__ import annotations

import dataclasses
import io
import os
import string
import tempfile
from collections import Counter
from functools import cache
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from everyclaim.x12 import read as x12_read
from everyclaim.x12 import tokenize
from everyclaim.x12.errors import X12Rejected
from everyclaim.x12.read import read_records
from everyclaim.x12.segments import Delimiters, Segment

SHARED = Path(os.environ.get("EVERYCLAIM_SHARED", Path(__file__).resolve().parents[2] / "shared"))
X12 = SHARED / "data" / "x12"
pytestmark = pytest.mark.skipif(not X12.exists(), reason="shared corpus not mounted")

SAMPLES = [
    "835/lfh__managed-care.835",
    "835/tigershark__5010-835-example-1.txt",
    "835/mjkubba__edi835-demo-005010X221.edi",  # '|' component separator, PLB
    "835/tasty__emedny_newline_terminated.edi",  # newline segment terminator
    "837p/lfh__demo.example1.837",
    "837p/oopx12__MedicaidExample.txt",  # BOM, indentation, '>' and '|' separators, 5 claims
    "837i/lfh__institutional-claim.837i",
    "277ca/ims__x12_277CA_accepted.txt",
    "999/ims__x12_999_accepted.txt",
]

# Candidate delimiters: never alphanumeric, never a space / tab / CR / LF (those are layout) or NUL.
_CONTROL = [chr(c) for c in range(1, 32) if chr(c) not in "\t\n\r"] + ["\x7f"]
POOL = [c for c in string.punctuation] + _CONTROL


@dataclasses.dataclass(frozen=True)
class Encoding:
    element: str
    component: str
    repetition: str
    terminator: str
    indent: str = ""  # before each segment
    after: str = ""  # after each terminator: line break and / or trailing whitespace
    bom: bool = False
    chunk: int = 4096


@dataclasses.dataclass(frozen=True)
class Reference:
    path: Path
    segments: list[Segment]
    records: list[object]
    findings: list[tuple]
    used: frozenset[str]  # characters in the data (delimiters of the file excluded)


def _tokens(data: bytes, name: str, chunk: int = 1 << 20) -> list[Segment]:
    return list(tokenize.read_segments(io.BytesIO(data), name, chunk))


@cache
def reference(rel: str) -> Reference:
    path = X12 / rel
    segs = _tokens(path.read_bytes(), rel)
    used: set[str] = set()
    for s in segs:
        d = s.delimiters
        for i, v in enumerate(s.elements):
            if s.id == "ISA" and i in (11, 16):
                continue
            used.update(v)
        used.discard(d.component)
        if d.repetition:
            used.discard(d.repetition)
    records, findings = read_records(path)
    return Reference(path, segs, [_norm(r) for r in records], _finding_keys(findings), frozenset(used))


def _norm(record: object) -> object:
    """The record with the source fields that differ between two files of the same content blanked."""
    src = record.source  # type: ignore[attr-defined]
    return dataclasses.replace(record, source=dataclasses.replace(src, file_sha256="", file_name=""))


def _finding_keys(findings) -> list[tuple]:
    return sorted((f.code, f.severity, f.seg_index, f.seg_id, f.element, f.ack_code) for f in findings)


def encode(ref: Reference, enc: Encoding) -> bytes:
    out = []
    for s in ref.segments:
        d = s.delimiters
        table = {ord(d.component): enc.component}
        if d.repetition:
            table[ord(d.repetition)] = enc.repetition
        els = [v.translate(table) for v in s.elements]
        if s.id == "ISA":
            els[11] = enc.repetition if d.repetition else s.elements[11]
            els[16] = enc.component
        out.append(enc.indent + enc.element.join(els) + enc.terminator + enc.after)
    data = "".join(out).encode()
    return (b"\xef\xbb\xbf" + data) if enc.bom else data


@st.composite
def encodings(draw: st.DrawFn, used: frozenset[str]) -> Encoding:
    pool = [c for c in POOL if c not in used]
    el, comp, rep, term = draw(st.lists(st.sampled_from(pool), min_size=4, max_size=4, unique=True))
    term = draw(st.sampled_from([term, term, term, "\n", "\r"]))  # a newline terminator now and then
    indent = draw(st.sampled_from(["", "", "  ", "\t", " \t "]))
    after = draw(st.sampled_from(["", "\n", "\r\n", "  \n", "\t \r\n", " ", "\n\n"]))
    return Encoding(el, comp, rep, term, indent, after, draw(st.booleans()),
                    draw(st.one_of(st.integers(1, 8), st.integers(1, 4096))))  # tiny chunks often


NONPRINTABLE = [
    Encoding("\x1d", "\x1f", "\x1e", "\x1c"),
    Encoding("\x07", "\x1f", "\x1e", "\x1d", after="\r\n", bom=True, chunk=1),
    Encoding("\x1c", "\x1d", "\x1f", "\n", indent="  ", chunk=3),
    Encoding("\x1f", "\x1e", "\x1d", "\x07", after="  \n", chunk=106),
]


@pytest.fixture(scope="module")
def workdir():
    with tempfile.TemporaryDirectory(prefix="x12props") as d:
        yield Path(d)


def _check(rel: str, enc: Encoding, workdir: Path) -> None:
    ref = reference(rel)
    assert not {enc.element, enc.component, enc.repetition, enc.terminator} & ref.used
    data = encode(ref, enc)
    name = Path(rel).name

    # 1. tokens: same ids, indexes and values (separators mapped back to the file's own)
    got = _tokens(data, name, enc.chunk)
    assert [s.id for s in got] == [s.id for s in ref.segments]
    assert [s.index for s in got] == [s.index for s in ref.segments]
    for g, r in zip(got, ref.segments, strict=True):
        d = r.delimiters
        assert g.delimiters == Delimiters(enc.element, enc.component, enc.repetition if d.repetition else "",
                                          enc.terminator)
        back = {ord(enc.component): d.component}
        if d.repetition:
            back[ord(enc.repetition)] = d.repetition
        values = [v.translate(back) for v in g.elements]
        if g.id == "ISA":
            values[11], values[16] = r.elements[11], r.elements[16]
        assert values == r.elements, (g.index, g.id)

    # 2. records and findings through read_records, with the chunk size of this example
    path = workdir / name
    path.write_bytes(data)
    with mock.patch.object(x12_read, "segments_from_path",
                           lambda p, chunk_size=enc.chunk: tokenize.segments_from_path(p, enc.chunk)):
        try:
            records, findings = read_records(path)
        except X12Rejected as exc:  # pragma: no cover - reported as a failure with the reason
            pytest.fail(f"re-encoded {rel} rejected: {exc}")
    assert [_norm(r) for r in records] == ref.records
    assert _finding_keys(findings) == ref.findings


@pytest.mark.parametrize("rel", SAMPLES)
def test_reference_reads(rel: str) -> None:
    """The samples themselves read, with records: the properties below compare against something."""
    ref = reference(rel)
    assert ref.records and len(ref.segments) >= 8
    assert Counter(s.id for s in ref.segments)["ISA"] >= 1


@pytest.mark.parametrize("rel", SAMPLES)
@pytest.mark.parametrize("enc", NONPRINTABLE, ids=["info-separators", "bel-crlf-bom-1", "lf-term-indent",
                                                   "bel-term"])
def test_nonprintable_delimiters_read_the_same(rel: str, enc: Encoding, workdir: Path) -> None:
    if {enc.element, enc.component, enc.repetition, enc.terminator} & reference(rel).used:
        pytest.skip("a control character occurs in this sample's data")
    _check(rel, enc, workdir)


@pytest.mark.parametrize("rel", SAMPLES)
@settings(max_examples=int(os.environ.get("X12_PROPERTY_EXAMPLES", "25")), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_random_delimiters_and_layouts_read_the_same(rel: str, data: st.DataObject, workdir: Path) -> None:
    enc = data.draw(encodings(reference(rel).used), label="encoding")
    _check(rel, enc, workdir)
