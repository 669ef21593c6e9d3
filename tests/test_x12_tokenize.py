"""The streaming tokenizer on hand-made inputs: delimiters, encodings, layouts and chunk boundaries."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from everyclaim.x12.errors import X12Rejected
from everyclaim.x12.read import read_records
from everyclaim.x12.segments import Delimiters
from everyclaim.x12.tokenize import read_segments, segments_from_path, sniff

CHUNKS = (1, 2, 3, 5, 7, 64, 105, 106, 107, 4096, 1 << 20)
SHARED_835 = Path(__file__).resolve().parents[2] / "shared/data/x12/835/tigershark__5010-835-example-1.txt"


def isa(el: str = "*", comp: str = ":", rep: str = "^", term: str = "~", control: str = "000000001") -> str:
    """A 106-character ISA (with its terminator) using the given delimiters."""
    fields = ["ISA", "00", " " * 10, "00", " " * 10, "ZZ", "SENDER".ljust(15), "ZZ", "RECEIVER".ljust(15),
              "260105", "1200", rep, "00501", control, "0", "P", comp]
    text = el.join(fields) + term
    assert len(text) == 106
    return text


def interchange(el: str = "*", comp: str = ":", rep: str = "^", term: str = "~", nl: str = "",
                control: str = "000000001") -> str:
    body = [
        ["GS", "HP", "SENDER", "RECEIVER", "20260105", "1200", "1", "X", "005010X221A1"],
        ["ST", "835", "0001"],
        ["SVC", f"HC{comp}99213{comp}25", "100.00", "80.00"],
        ["REF", "0K", "A{0}B{0}C".format("^" if rep == "U" else rep)],  # ISA11 "U": no repetitions
        ["NTE", "ADD", "CAF\u00c9 \u20ac 1"],  # multi-byte UTF-8 (2 and 3 bytes)
        ["SE", "5", "0001"],
        ["GE", "1", "1"],
        ["IEA", "1", control],
    ]
    return isa(el, comp, rep, term, control) + nl + "".join(el.join(s) + term + nl for s in body)


EXPECTED = [
    ["GS", "HP", "SENDER", "RECEIVER", "20260105", "1200", "1", "X", "005010X221A1"],
    ["ST", "835", "0001"],
    ["SVC", "HC:99213:25", "100.00", "80.00"],
    ["REF", "0K", "A^B^C"],
    ["NTE", "ADD", "CAF\u00c9 \u20ac 1"],
    ["SE", "5", "0001"],
    ["GE", "1", "1"],
    ["IEA", "1", "000000001"],
]


def tokens(data: bytes, chunk_size: int = 1 << 20, name: str = "t.x12"):
    t = read_segments(io.BytesIO(data), name, chunk_size)
    segs = list(t)
    return segs, t.findings


def normalized(segs, d: Delimiters) -> list[list[str]]:
    """Elements with ``d``'s component / repetition separators mapped back to ':' and '^'."""
    table = {ord(d.component): ":"}
    if d.repetition:
        table[ord(d.repetition)] = "^"
    return [[e.translate(table) for e in s.elements] for s in segs]


# ------------------------------------------------------------------------------------------------
# delimiters
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "el,comp,rep,term",
    [
        ("*", ":", "^", "~"),
        ("|", ">", "}", "\n"),
        ("\x1d", "\x1f", "\x1e", "\x1c"),  # the ASCII information separators
        ("\x07", "\x1f", "\x1e", "\x1d"),  # BEL as element separator
        ("!", "\\", "{", "'"),
        ("^", "*", "~", "|"),  # the usual characters in swapped roles
    ],
    ids=["standard", "pipe-newline", "info-separators", "bel", "punct", "swapped"],
)
def test_delimiters_come_from_the_isa(el: str, comp: str, rep: str, term: str) -> None:
    text = interchange(el, comp, rep, term)
    for chunk in (1, 7, 106, 1 << 20):
        segs, findings = tokens(text.encode(), chunk)
        assert segs[0].id == "ISA" and segs[0].delimiters == Delimiters(el, comp, rep, term)
        assert len(segs[0].elements) == 17 and segs[0].elements[16] == comp
        assert normalized(segs[1:], Delimiters(el, comp, rep, term)) == EXPECTED
        assert [s.index for s in segs] == list(range(1, 10))
        assert findings == []


def test_isa11_u_means_no_repetition_separator() -> None:
    segs, _ = tokens(interchange(rep="U").encode())
    assert segs[0].elements[11] == "U" and segs[0].delimiters.repetition == ""
    assert segs[4].elements == ["REF", "0K", "A^B^C"]


def test_segment_accessors() -> None:
    segs, _ = tokens(interchange(el="|", comp=">").encode())
    svc = next(s for s in segs if s.id == "SVC")
    assert svc.get(1) == "HC>99213>25" and svc.components(1) == ["HC", "99213", "25"]
    assert svc.get(9) == "" and svc.components(9) == [""]


# ------------------------------------------------------------------------------------------------
# layouts and encodings
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("nl", ["\n", "\r\n", "\r", "\n\n", "  \r\n\t  "], ids=repr)
def test_line_breaks_and_indentation_between_segments(nl: str) -> None:
    plain, _ = tokens(interchange().encode())
    text = "\r\n  " + interchange(nl=nl).replace(nl + "GS", nl + "    GS").replace(nl + "SE", nl + "\tSE")
    for chunk in (1, 2, 3, 64, 1 << 20):
        segs, findings = tokens(text.encode(), chunk)
        assert [s.elements for s in segs] == [s.elements for s in plain]
        assert findings == []


def test_trailing_whitespace_after_the_terminator_is_ignored() -> None:
    plain, _ = tokens(interchange().encode())
    segs, _ = tokens(interchange(nl="   \t\r\n").encode() + b"\r\n\r\n   ")
    assert [s.elements for s in segs] == [s.elements for s in plain]


@pytest.mark.parametrize("term", ["\n", "\r"], ids=repr)
def test_newline_as_segment_terminator(term: str) -> None:
    text = interchange(term=term)
    if term == "\r":
        text = text.replace("\r", "\r\n")  # CR terminates, LF is layout
    for chunk in (1, 50, 1 << 20):
        segs, _ = tokens(text.encode(), chunk)
        assert segs[0].delimiters.segment == term
        assert [s.elements for s in segs[1:]] == EXPECTED


@pytest.mark.parametrize("chunk", (1, 2, 3, 4, 5, 106, 1 << 20))
def test_utf8_bom_is_skipped_at_any_chunk_size(chunk: int) -> None:
    segs, findings = tokens(b"\xef\xbb\xbf" + interchange().encode(), chunk)
    assert segs[0].elements[:2] == ["ISA", "00"]
    assert [s.elements for s in segs[1:]] == EXPECTED
    assert findings == []


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
@pytest.mark.parametrize("chunk", (1, 2, 3, 5, 7, 4096, 1 << 20))
def test_utf16_is_read_with_a_finding(encoding: str, chunk: int) -> None:
    data = interchange().encode(encoding)  # "utf-16" writes a BOM, the others do not
    segs, findings = tokens(data, chunk)
    assert [s.elements for s in segs[1:]] == EXPECTED
    assert [f.code for f in findings] == ["X12-ENCODING"]
    assert findings[0].severity == "finding" and "utf-16" in findings[0].message


def test_utf16_finding_reaches_read_records(tmp_path: Path) -> None:
    if not SHARED_835.exists():
        pytest.skip("shared corpus not mounted")
    plain, plain_findings = read_records(SHARED_835)
    p = tmp_path / "u16.835"
    p.write_bytes(SHARED_835.read_bytes().decode().encode("utf-16"))
    records, findings = read_records(p)
    assert len(records) == len(plain)
    assert "X12-ENCODING" in {f.code for f in findings}
    assert "X12-ENCODING" not in {f.code for f in plain_findings}


def test_segments_from_path_exposes_findings(tmp_path: Path) -> None:
    p = tmp_path / "u16.x12"
    p.write_bytes(interchange().encode("utf-16"))
    t = segments_from_path(p, 5)
    assert [s.elements for s in t][1:] == EXPECTED
    assert [f.code for f in getattr(t, "findings", [])] == ["X12-ENCODING"]


@pytest.mark.parametrize("chunk", range(1, 9))
def test_multibyte_utf8_split_across_chunks(chunk: int) -> None:
    data = interchange().encode()
    start = data.index("\u20ac".encode())
    # every offset of the 3-byte euro sign lands on a chunk boundary for some chunk size in 1..8
    segs, findings = tokens(data, chunk)
    assert segs[5].elements == ["NTE", "ADD", "CAF\u00c9 \u20ac 1"], start
    assert findings == []


def test_bytes_that_are_not_utf8_read_as_latin1_whatever_the_chunk_size() -> None:
    good = interchange().encode()
    bad = good.replace(b"SE*5", b"NTE*ADD*CAF\xc9~SE*5")  # a lone latin-1 byte late in the file
    results = set()
    for chunk in (1, 2, 3, 16, 64, 200, 4096, 1 << 20):
        segs, findings = tokens(bad, chunk)
        assert [f.code for f in findings] == ["X12-ENCODING"]
        results.add(tuple(tuple(s.elements) for s in segs))
    assert len(results) == 1, "the decoded text depends on the chunk size"
    (only,) = results
    assert ("NTE", "ADD", "CAF\u00c9 \u20ac 1") in only  # valid UTF-8 stays UTF-8 ...
    assert ("NTE", "ADD", "CAF\u00c9") in only  # ... and the stray byte is latin-1


@pytest.mark.parametrize("end", ["", "  ", "\r\n"], ids=["eof", "spaces", "crlf"])
def test_last_segment_without_terminator_is_read(end: str) -> None:
    text = interchange(nl="\n").rstrip("\n")
    for chunk in (1, 7, 1 << 20):
        segs, findings = tokens((text[:-1] + end).encode(), chunk)
        assert segs[-1].elements == ["IEA", "1", "000000001"] and len(segs) == 9
        assert [(p.code, p.seg_index, p.seg_id) for p in findings] == [("X12-NO-TERMINATOR", 9, "IEA")]
    assert tokens(text.encode())[1] == []  # terminated: nothing to say


# ------------------------------------------------------------------------------------------------
# several interchanges, bare ST
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("chunk", (1, 3, 106, 200, 1 << 20))
def test_several_interchanges_with_different_delimiters(chunk: int) -> None:
    second = [("|", ">", "}", "\n"), ("\x1d", "\x1f", "\x1e", "\x1c"), ("*", "\x1f", "^", "~"), ("*", ":", "U", "~")]
    text = interchange(nl="\n") + "".join(
        interchange(*d, control=f"{i + 2:09d}") for i, d in enumerate(second))
    segs, findings = tokens(text.encode(), chunk)
    isas = [s for s in segs if s.id == "ISA"]
    assert [s.delimiters for s in isas] == [Delimiters()] + [
        Delimiters(el, comp, "" if rep == "U" else rep, term) for el, comp, rep, term in second]
    assert len(segs) == 5 * 9 and [s.index for s in segs] == list(range(1, 46))
    for i in range(5):
        block = segs[9 * i: 9 * i + 9]
        assert all(s.delimiters == block[0].delimiters for s in block)
        got = normalized(block[1:], block[0].delimiters)
        if i == 4:  # ISA11 "U": '^' is data, not a separator
            assert got[3] == ["REF", "0K", "A^B^C"]
        assert got[:-1] == EXPECTED[:-1] and got[-1] == ["IEA", "1", f"{i + 1:09d}"]
    assert findings == []


def test_bare_st_file() -> None:
    text = "ST*835*0001~\nBPR*I*10*C*CHK~\nSE*3*0001~\n"
    for chunk in (1, 4, 1 << 20):
        segs, findings = tokens(text.encode(), chunk)
        assert findings == []
        assert [s.elements for s in segs] == [["ST", "835", "0001"], ["BPR", "I", "10", "C", "CHK"],
                                              ["SE", "3", "0001"]]
        assert segs[0].delimiters.element == "*" and segs[0].delimiters.segment == "~"
        assert [s.index for s in segs] == [1, 2, 3]


def test_bare_st_file_with_pipes_and_newlines() -> None:
    segs, findings = tokens(b"\xef\xbb\xbf  ST|835|0001\nBPR|I|10\nSE|3|0001\n")
    assert findings == []
    assert [s.id for s in segs] == ["ST", "BPR", "SE"] and segs[1].elements == ["BPR", "I", "10"]
    assert segs[0].delimiters.segment == "\n"


# ------------------------------------------------------------------------------------------------
# sniff
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "head",
    [
        interchange().encode()[:200],
        b"\xef\xbb\xbf" + interchange().encode()[:200],
        b"  \r\n\t" + interchange().encode()[:200],
        interchange(el="\x1d", comp="\x1f", term="\x1c").encode()[:200],
        interchange().encode("utf-16")[:200],
        interchange().encode("utf-16-le")[:200],
        interchange().encode("utf-16-be")[:200],
        interchange().encode("utf-16")[:201],  # cut in the middle of a UTF-16 code unit
        b"ST*835*0001~BPR*I",
        b"\xef\xbb\xbfST|837|0001\nBHT",
        b"GS*HP*SENDER*RECEIVER*20260105~",
    ],
    ids=["isa", "bom", "whitespace", "nonprintable", "utf16-bom", "utf16le", "utf16be", "utf16-odd", "st",
         "st-bom-pipe", "gs"],
)
def test_sniff_recognizes_x12(head: bytes) -> None:
    assert sniff(head) == "x12"


@pytest.mark.parametrize(
    "head",
    [
        b"# everyclaim\n\nWork every claim in accounts receivable.\n",
        b"ISA stands for Interchange Control Header.\n",
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n",
        b"claim_id,patient_account,payer_id,balance\nC1,A1,P1,10.00\n",
        b"ST,CITY,ZIP\nIL,SPRINGFIELD,62701\n",
        b"STATE;CITY\n",
        b"",
        b"\x00\x01\x02\x03binary",
        b"PK\x03\x04",
    ],
    ids=["readme", "readme-isa", "pdf", "csv", "csv-st", "csv-semicolon", "empty", "binary", "zip"],
)
def test_sniff_rejects_other_files(head: bytes) -> None:
    assert sniff(head) is None


# ------------------------------------------------------------------------------------------------
# rejections
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "data,fragment",
    [
        (b"# everyclaim\nA README, not X12.\n", "not an X12 interchange"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "not an X12 interchange"),
        (b"claim_id,balance\nC1,10.00\n", "not an X12 interchange"),
        (b"\x00\x01\x02\x00binary\x00", "binary"),
        (b"", "not an X12 interchange"),
        (b"ISA*00*    ", "garbled ISA"),
        (b"ISA 00 stands for", "garbled ISA"),
    ],
    ids=["readme", "pdf", "csv", "binary", "empty", "cut-isa", "isa-space"],
)
def test_non_x12_is_rejected_with_a_clear_message(data: bytes, fragment: str) -> None:
    for chunk in (1, 1 << 20):
        with pytest.raises(X12Rejected) as exc:
            tokens(data, chunk, name="inbox/notes.txt")
        p = exc.value.problem
        assert p.severity == "error" and p.file_name == "inbox/notes.txt"
        assert fragment in p.message
        assert "inbox/notes.txt" in str(exc.value)


def test_garbled_isa_without_isa16() -> None:
    text = interchange()
    cut = text[:text.index("*:~")] + "~" + text[106:]  # ISA with 15 elements
    with pytest.raises(X12Rejected) as exc:
        tokens(cut.encode())
    assert exc.value.problem.code == "X12-ISA-GARBLED" and exc.value.problem.seg_id == "ISA"


def test_rejection_names_the_file_from_a_path(tmp_path: Path) -> None:
    p = tmp_path / "report.pdf"
    p.write_bytes(b"%PDF-1.4\n")
    with pytest.raises(X12Rejected) as exc:
        list(segments_from_path(p))
    assert exc.value.problem.file_name == str(p) and "'%PDF'" in exc.value.problem.message


# ------------------------------------------------------------------------------------------------
# chunk boundaries on a real file
# ------------------------------------------------------------------------------------------------
def test_every_chunk_size_up_to_300_gives_the_same_segments() -> None:
    data = b"\xef\xbb\xbf" + interchange(nl="\r\n").encode() + interchange(
        el="|", comp="\x1f", rep="\x1e", term="\x1c", control="000000002").encode()
    ref, _ = tokens(data)
    assert len(ref) == 18
    for chunk in range(1, 300):
        segs, _ = tokens(data, chunk)
        assert segs == ref, chunk
