"""The compiled reader core (everyclaim/x12/_fast.c) against the pure-Python reader, its oracle.

Both paths must give identical results on every input: the same records, the same findings (every field)
and the same rejection (the same located error). Checked on every shared sample (valid and invalid), on
the samples re-encoded with random delimiters and layouts, and on random damage (segments dropped,
repeated or moved, elements blanked or garbled), which drives the walker into its error paths. The
compiled element check (``Check``) must answer exactly like the generated Python ``ok`` of every guide
node on random element values.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from everyclaim.x12 import native, tokenize
from everyclaim.x12 import read as x12_read
from everyclaim.x12.errors import X12Rejected
from everyclaim.x12.guide import KINDS, SegNode, iter_loops, load_guide
from everyclaim.x12.read import read_records
from everyclaim.x12.segments import Delimiters
from everyclaim.x12.walk import walk

from .shared_data import X12
from .test_x12_properties import SAMPLES, encode, encodings, reference

pytestmark = pytest.mark.skipif(not native.available(), reason="the C extension is not built (pure Python only)")

ALL_FILES = sorted(p for p in X12.rglob("*") if p.is_file() and p.name != "INDEX.csv") if X12.exists() else []


def _outcome(path: Path, pure: bool, chunk: int | None = None) -> tuple:
    """(records, findings, error, walked) of reading ``path`` on one path (pure Python or compiled)."""
    env = {native.ENV: "1" if pure else ""}
    with mock.patch.dict(os.environ, env):
        patch = (mock.patch.object(x12_read, "segments_from_path",
                                   lambda p, chunk_size=chunk: tokenize.segments_from_path(p, chunk))
                 if chunk else mock.patch.object(x12_read, "segments_from_path", tokenize.segments_from_path))
        with patch:
            try:
                records, findings = read_records(path)
                error = None
            except X12Rejected as exc:
                records, findings, error = None, None, exc.problem
        walked: list[tuple] = []
        w = walk(tokenize.segments_from_path(path, chunk or tokenize.CHUNK_SIZE), path.name)
        try:
            walked = [(loop, seg.index, seg.id, list(seg.elements), seg.delimiters) for loop, seg in w]
            walked.append(("findings", tuple(w.findings), w.transactions, tuple(map(str, w.summary))))
        except X12Rejected as exc:
            walked.append(("error", exc.problem, len(walked)))
    return records, findings, error, walked


def _same(path: Path, chunk: int | None = None) -> None:
    pure = _outcome(path, True, chunk)
    fast = _outcome(path, False, chunk)
    assert fast[2] == pure[2], f"{path.name}: the rejection differs"
    assert fast[1] == pure[1], f"{path.name}: the findings differ"
    assert fast[0] == pure[0], f"{path.name}: the records differ"
    assert fast[3] == pure[3], f"{path.name}: the walk differs"


def test_the_switch_works() -> None:
    with mock.patch.dict(os.environ, {native.ENV: "1"}):
        assert native.module() is None and native.splitter() is None
    with mock.patch.dict(os.environ, {native.ENV: ""}):
        assert native.module() is not None


@pytest.mark.skipif(not ALL_FILES, reason="shared corpus not mounted")
@pytest.mark.parametrize("path", ALL_FILES, ids=[str(p.relative_to(X12)) for p in ALL_FILES])
def test_every_shared_file_reads_the_same_on_both_paths(path: Path) -> None:
    _same(path)


@pytest.mark.skipif(not ALL_FILES, reason="shared corpus not mounted")
def test_small_chunks_read_the_same_on_both_paths() -> None:
    for path in ALL_FILES[::7]:
        _same(path, chunk=5)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("native")


@pytest.mark.skipif(not X12.exists(), reason="shared corpus not mounted")
@pytest.mark.parametrize("rel", SAMPLES)
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_random_layouts_and_damage_read_the_same_on_both_paths(rel: str, data: st.DataObject,
                                                               workdir: Path) -> None:
    ref = reference(rel)
    enc = data.draw(encodings(ref.used))
    text = encode(ref, enc).decode()
    segs = text.split(enc.terminator)
    for _ in range(data.draw(st.integers(0, 3))):  # damage: the walker's findings and errors
        if len(segs) < 3:
            break
        i = data.draw(st.integers(1, len(segs) - 2))
        how = data.draw(st.sampled_from(["drop", "repeat", "move", "blank", "garble", "truncate", "extra"]))
        if how == "drop":
            del segs[i]
        elif how == "repeat":
            segs.insert(i, segs[i])
        elif how == "move":
            segs.insert(data.draw(st.integers(1, len(segs) - 1)), segs.pop(i))
        else:
            els = segs[i].split(enc.element)
            if len(els) > 1:
                k = data.draw(st.integers(1, len(els) - 1))
                if how == "blank":
                    els[k] = ""
                elif how == "garble":
                    els[k] = data.draw(st.sampled_from(["X", "12,50", "-", "20231340", "ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ",
                                                        "1.2.3", "٣", "A" + enc.component + "B", ",,,,,,,,", "99999999"]))
                elif how == "truncate":
                    els = els[:k]
                else:
                    els.append("EXTRA")
            segs[i] = enc.element.join(els)
    path = workdir / Path(rel).name
    path.write_bytes(enc.terminator.join(segs).encode())
    _same(path, chunk=enc.chunk)


# ---- the compiled element check ---------------------------------------------------------------------
def _nodes() -> list[SegNode]:
    out = []
    for kind in KINDS:
        for loop in iter_loops(load_guide(kind).root):
            out += [c for c in loop.children if isinstance(c, SegNode)]
    return out


NODES = _nodes()
_DELIMS = Delimiters("*", ":", "^", "~")


@st.composite
def _values(draw: st.DrawFn, node: SegNode) -> list[str]:
    n = draw(st.integers(0, len(node.elements) + 2))
    out = [node.id]
    for i in range(1, n + 1):
        spec = node.elements[i - 1] if i - 1 < len(node.elements) else None
        choices = [st.just(""), st.text("0123456789.-", max_size=12), st.text("0123456789", min_size=4, max_size=17),
                   st.sampled_from(["20240229", "20230229", "20231231", "20231301", "20240101-20240131",
                                    "20240131-20240101", "D8", "RD8", "2359", "2460", "1.5", "-12.25", "٣٣",
                                    "HC:99213:25", "HC>99213", "A:B:C:D:E:F:G", "::", "1:", "²"]),
                   st.text("ABCXYZ019 :>", max_size=6)]
        if spec is not None:
            codes = spec.codes or (spec.components[0].codes if spec.components and spec.components[0] else None)
            if codes:
                choices.append(st.sampled_from(sorted(codes)))
        out.append(draw(st.one_of(choices)))
    return out


@settings(max_examples=400, deadline=None)
@given(data=st.data())
def test_compiled_check_answers_like_the_generated_python(data: st.DataObject) -> None:
    node = data.draw(st.sampled_from(NODES))
    assert node.check is not None
    values = data.draw(_values(node))
    expected = node.ok(values, _DELIMS)
    got = node.check(values, _DELIMS)
    if any(not v.isascii() for v in values):
        assert not got or expected  # never fine where Python objects (non-ASCII digits: Python decides)
    else:
        assert got == expected, (node.loop.id, node.id, values)


def test_the_tokenizer_stops_at_every_isa_and_numbers_like_python() -> None:
    data = (b"ISA*00*          *00*          *ZZ*A              *ZZ*B              *240101*1200*^*00501*"
            b"000000001*0*P*:~GS*HP*A*B*20240101*1200*1*X*005010X221A1~ST*835*1~\n\n  SE*2*1~GE*1*1~IEA*1*000000001~"
            b"ISA|00|          |00|          |ZZ|A              |ZZ|B              |240101|1200|^|00501|"
            b"000000002|0|P|>!GS|HP|A|B|20240101|1200|2|X|005010X221A1!IEA|1|000000002")
    seen = {}
    for pure in (True, False):
        with mock.patch.dict(os.environ, {native.ENV: "1" if pure else ""}):
            toks = tokenize.read_segments(io.BytesIO(data), "t", 7)
            seen[pure] = ([tuple(s) for s in toks], toks.findings)
    assert seen[True] == seen[False]
    assert [s[1] for s in seen[True][0]][-3:] == ["ISA", "GS", "IEA"]


_AMOUNT_TEXT = st.one_of(
    st.from_regex(r"\A-?[0-9]{0,20}(\.[0-9]{0,20})?\Z"),  # what X12 amounts look like, and longer
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.sampled_from(["", " 1.0", "1.0 ", "-0", "-0.00", "1E+5", "1e-7", "0E-30", "1E+999999999", "1E-999999999",
                     "sNaN", "NaN", "Infinity", "12.3X", "1,000.00", "\u0661\u0662", "9" * 29, "0." + "0" * 40 + "1"]),
    st.text(max_size=12),
)


@given(text=_AMOUNT_TEXT)
def test_the_compiled_amounts_context_gives_the_constructors_decimal_or_raises(text: str) -> None:
    """project835.exact_decimal (the compiled reader's first try) must equal Decimal(text) digit for digit
    (sign, digits, exponent) whenever it answers; when it raises, the reader falls back to Decimal(text)."""
    from decimal import Decimal, DecimalException  # noqa: PLC0415

    from everyclaim.x12.project835 import exact_decimal  # noqa: PLC0415

    try:
        ours = exact_decimal(text)
    except DecimalException:
        return
    theirs = Decimal(text)
    assert ours.as_tuple() == theirs.as_tuple() and str(ours) == str(theirs)


@given(text=_AMOUNT_TEXT)
def test_the_in_place_amounts_are_the_constructors_decimal(text: str) -> None:
    """_fast.decimal (the amount reader's in-place Decimal for plain text) equals Decimal(text) digit for
    digit, sign and exponent included, and works like one (hash, arithmetic); other text it leaves alone."""
    from decimal import Decimal  # noqa: PLC0415

    from everyclaim.x12 import _fast, project835  # noqa: PLC0415, F401 - project835 sets the reader up

    ours = _fast.decimal(text)
    if ours is None:
        return
    theirs = Decimal(text)
    assert type(ours) is Decimal
    assert ours.as_tuple() == theirs.as_tuple() and str(ours) == str(theirs)
    assert hash(ours) == hash(theirs) and ours + 1 == theirs + 1 and -ours == -theirs


def test_the_in_place_amounts_are_on_for_this_python() -> None:
    """setup_835 checked the Decimal layout against the constructor's and turned the in-place build on
    (were it off, the amounts would still be right, only slower: this says which)."""
    from everyclaim.x12 import _fast, project835  # noqa: PLC0415, F401

    assert str(_fast.decimal("-0012.50")) == "-12.50"
    assert _fast.decimal("1E5") is None and _fast.decimal("1" * 19) is None and _fast.decimal("1.2.3") is None
