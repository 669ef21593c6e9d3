"""Streaming X12 tokenizer: bytes in, :class:`Segment` out, with every interchange's own delimiters.

The reader never holds a whole file: it reads ``chunk_size`` bytes at a time, splits the decoded text
on the segment terminator and carries the unfinished tail over to the next chunk.

What it accepts:

- the delimiters each ``ISA`` declares (element separator = ``ISA[3]``, component separator = ISA16,
  repetition separator = ISA11 when it is not alphanumeric, segment terminator = the character after
  ISA16), including non-printable ones (``\\x1d``, ``\\x1e``, ``\\x1f`` ...). The ISA is read by its element
  separator, not by fixed offsets, so a trimmed ("short") ISA still yields its delimiters; whether its
  field widths are acceptable is the walker's call. A later ISA may change the delimiters.
- line breaks (CR, LF, CRLF) and indentation around segments, and a newline as the segment terminator;
- a UTF-8 byte-order mark; UTF-8 text, falling back to latin-1 for bytes that are not UTF-8
  (a finding); UTF-16 with a BOM, or without one when the text starts with ``ISA`` in UTF-16
  (``I\\0S\\0A\\0``: the same rule XML uses to detect UTF-16 without a BOM) (a finding);
- a bare transaction set without envelope (the file starts with ``ST``): element separator = the
  character after ``ST``, segment terminator = the first character ending the ST segment.

What it rejects (:class:`X12Rejected`): anything else at the start of the input (a PDF, a README, a file
that starts with ``GS``), a garbled ISA from which no delimiters can be read, other binary input.

A last segment without its terminator is read (the end of the file ends it) with the finding
``X12-NO-TERMINATOR``.

Segment indexes are 1-based over the whole file (the first ISA is 1); empty segments (e.g. a trailing
newline after the last terminator) are skipped and not counted.
"""

from __future__ import annotations

import codecs
import itertools
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from everyclaim.ledger.records import Problem
from everyclaim.x12 import native
from everyclaim.x12.errors import X12Rejected, reject
from everyclaim.x12.segments import Delimiters, Segment

# Text is read and split into segments 128 KiB at a time: the segment strings of a chunk then stay in the
# CPU's cache while they are walked (1 MiB chunks read the 100k-claim bench file ~4% slower)
CHUNK_SIZE = 1 << 17
_BOM8 = b"\xef\xbb\xbf"
_WHITESPACE = " \t\r\n"
_HEADER_CHARS = 4096  # enough text to read an ISA (106 chars) or an ST segment


def sniff(first_bytes: bytes) -> str | None:
    """``"x12"`` when ``first_bytes`` look like X12 (ISA, GS or ST after an optional BOM/whitespace).

    ``ISA`` must be followed by a separator that is neither alphanumeric nor whitespace, ``GS`` by a
    separator and a two-letter functional id, ``ST`` by a separator and a three-digit transaction set id
    (so a README starting "ISA stands for" or a CSV starting "ST,CITY" is not X12). UTF-16 is recognized
    with a BOM or, without one, from ``ISA`` in either byte order; a head cut in the middle of a UTF-16
    code unit is fine.
    """
    b = first_bytes
    if b.startswith(_BOM8):
        b = b[3:]
    else:
        encoding = _utf16(b)
        if encoding:
            b = b[: len(b) // 2 * 2].decode(encoding, "replace").encode("latin-1", "replace")
    b = b.lstrip(b" \t\r\n")
    if b[:3] == b"ISA" and len(b) > 3 and not b[3:4].isalnum() and b[3:4] not in b" \t\r\n\x00":
        return "x12"
    return "x12" if _envelope_start(b[:8].decode("latin-1")) else None


def _utf16(b: bytes) -> str:
    """The UTF-16 codec of ``b`` when it starts with a UTF-16 BOM or with ``ISA`` in UTF-16, else ``""``."""
    if b[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return "utf-16"
    if b[:6] == b"I\x00S\x00A\x00":
        return "utf-16-le"
    if b[:6] == b"\x00I\x00S\x00A":
        return "utf-16-be"
    return ""


def _envelope_start(t: str) -> bool:
    """``t`` starts like a bare ``GS`` (``GS*HC*``) or ``ST`` (``ST*837*``) segment."""
    sep = t[2:3]
    if not sep or sep.isalnum() or sep in _WHITESPACE or sep in "\x00.-":
        return False
    if t[:2] == "GS":
        return t[3:5].isalpha() and t[5:6] == sep
    if t[:2] == "ST":
        return t[3:6].isdigit() and len(t) > 6 and not t[6].isalnum()
    return False


def segments_from_path(path: str | Path, chunk_size: int = CHUNK_SIZE) -> Tokens:
    """All segments of the file at ``path`` (see :func:`read_segments`); the file is opened when iterated.

    Like :func:`read_segments` the result has ``findings`` (encoding notes), so a walker that collects
    ``segments.findings`` sees them.
    """
    return _PathTokens(path, chunk_size)


class Tokens:
    """The segments of one stream; iterate once. ``findings`` fills while iterating (encoding notes)."""

    def __init__(self, stream: BinaryIO, file_name: str, chunk_size: int = CHUNK_SIZE) -> None:
        self.stream = stream
        self.file_name = file_name
        self.chunk_size = chunk_size
        self.findings: list[Problem] = []

    def __iter__(self) -> Iterator[Segment]:
        return _segments(_text_chunks(self), self.file_name, self.findings)


class _PathTokens(Tokens):
    def __init__(self, path: str | Path, chunk_size: int) -> None:
        super().__init__(None, str(path), chunk_size)  # type: ignore[arg-type]
        self.path = path

    def __iter__(self) -> Iterator[Segment]:
        # the file is opened and closed by the chunk generator, so segments pass through one generator
        return _segments(self._chunks(), self.file_name, self.findings)

    def _chunks(self) -> Iterator[str]:
        with open(self.path, "rb") as f:
            self.stream = f
            yield from _text_chunks(self)


def read_segments(stream: BinaryIO, file_name: str, chunk_size: int = CHUNK_SIZE) -> Tokens:
    """Stream the segments of ``stream`` (opened in binary mode). Raises :class:`X12Rejected` lazily."""
    return Tokens(stream, file_name, chunk_size)


# --------------------------------------------------------------------------------------------------
# bytes -> text
# --------------------------------------------------------------------------------------------------
def _latin1_bytes(exc: UnicodeError) -> tuple[str, int]:
    """Codec error handler: bytes that are not UTF-8 are read one by one as latin-1."""
    assert isinstance(exc, UnicodeDecodeError)
    return exc.object[exc.start : exc.end].decode("latin-1"), exc.end


codecs.register_error("everyclaim-latin1", _latin1_bytes)


def _text_chunks(tokens: Tokens) -> Iterator[str]:
    read, size, name = tokens.stream.read, tokens.chunk_size, tokens.file_name
    # the head (BOM, UTF-16 detection, NUL check) is looked at whole, whatever the chunk size
    head = [read(size)]
    have = len(head[0])
    while have < _HEADER_CHARS and head[-1]:
        head.append(read(size))
        have += len(head[-1])
    first = b"".join(head)
    encoding = "utf-8"
    if first.startswith(_BOM8):
        first = first[3:]
    elif _utf16(first):
        encoding = _utf16(first)
    elif b"\x00" in first[:_HEADER_CHARS]:
        raise reject("X12-BINARY", "not an X12 interchange: binary data (NUL bytes) that is not UTF-16 X12",
                     name, ack_code="TA1-024")
    if encoding != "utf-8":
        tokens.findings.append(Problem("X12-ENCODING", "finding", f"file is encoded in {encoding}, "
                                       "X12 expects single-byte text", name, ack_code="TA1-024"))
    decoder = codecs.getincrementaldecoder(encoding)()
    chunk, final = first, not first
    while True:
        try:
            yield decoder.decode(chunk, final)
        except UnicodeDecodeError:
            if encoding != "utf-8":
                raise reject("X12-ENCODING", f"undecodable {encoding} text", name, ack_code="TA1-024") from None
            # A byte that is not part of valid UTF-8 is read as latin-1, byte by byte, so the text does not
            # depend on where the chunks end. The failed call left the decoder's state as it was.
            decoder.errors = "everyclaim-latin1"
            tokens.findings.append(Problem("X12-ENCODING", "finding", "bytes that are not UTF-8: "
                                           "read as latin-1", name, ack_code="IK4-6"))
            yield decoder.decode(chunk, final)
        if final:
            return
        chunk = read(size)
        final = not chunk


# --------------------------------------------------------------------------------------------------
# text -> segments
# --------------------------------------------------------------------------------------------------
def _segments(chunks: Iterator[str], name: str, findings: list[Problem]) -> Iterator[Segment]:
    """The segments of the text ``chunks``: the runs of :func:`_runs`, chained in C (no generator frame
    is resumed per segment on the compiled path)."""
    return itertools.chain.from_iterable(_runs(chunks, name, findings))


def _runs(chunks: Iterator[str], name: str, findings: list[Problem]) -> Iterator[Iterable[Segment]]:
    """Runs of segments: the compiled splitter over the text up to the next ISA-like segment, and each
    segment the Python loop splits (an ISA, or all of them without the compiled core) on its own.

    ``buf`` holds the text not yet split; only the part up to its last segment terminator is split (the
    rest waits for the next chunk), all of it at the end of the input."""
    buf, eof = "", False
    while len(buf) < _HEADER_CHARS and not eof:
        nxt = next(chunks, None)
        eof = nxt is None
        buf += nxt or ""
    buf = buf.lstrip(_WHITESPACE)
    d = _header(buf, name)
    new = tuple.__new__
    split = native.splitter()
    index = 0
    while True:
        term, sep = d.segment, d.element
        ws = _layout_chars(d)
        end = len(buf) if eof else buf.rfind(term) + 1
        pos, resync = 0, False
        while pos < end:
            if split is not None:  # the compiled loop, up to the next ISA-like segment (same results)
                it = split(buf, pos, end, term, ws, sep, d, index, Segment)
                yield it  # consumed before this generator resumes
                if it.index != index:
                    sid = it.sid
                pos, index = it.pos, it.index
                if pos >= end:
                    break
            start = pos
            stop = buf.find(term, pos, end)
            if stop < 0:
                stop = end
            part, pos = buf[pos:stop], stop + 1
            if part and (part[0] in ws or part[-1] in ws):
                part = part.strip(ws)
            if not part:
                continue
            els = part.split(sep)
            sid = els[0]
            if sid == "ISA" or (len(sid) > 3 and sid.startswith("ISA") and not sid[3].isalnum()):
                # a later ISA may declare other delimiters (its element separator is not ours: "ISA|00|...")
                nd = _isa_delimiters(part + term, name, index + 1, d)
                if nd.segment != term or nd.element != sep:
                    # split the rest again with the new delimiters
                    buf = buf[start:]
                    d, resync = nd, True
                    break
                if nd != d:
                    d, ws = nd, _layout_chars(nd)
            index += 1
            yield (new(Segment, (index, sid, els, d)),)
        if resync:
            continue
        if eof:
            last = buf.rfind(term)
            if buf[last + 1 :].strip(ws):
                findings.append(Problem("X12-NO-TERMINATOR", "finding", f"the last segment ({sid}) has no "
                                        f"segment terminator {term!r}", name, index, sid, 0, "TA1-023"))
            return
        buf = buf[end:]
        nxt = next(chunks, None)
        if nxt is None:
            eof = True
        else:
            buf += nxt


def _header(buf: str, name: str) -> Delimiters:
    if buf.startswith("ISA"):
        return _isa_delimiters(buf, name, 1, None)
    if _envelope_start(buf[:8]) and buf.startswith("ST"):
        sep, i = buf[2], 3
        while i < len(buf) and (buf[i].isalnum() or buf[i] == sep or buf[i] == " "):
            i += 1
        if i < len(buf):
            return Delimiters(sep, ":", "^", buf[i])
    found = buf[:4].encode("unicode_escape").decode("ascii")
    raise reject("X12-NOT-X12", f"not an X12 interchange: expected ISA at byte 0, found '{found}'",
                 name, 1, buf[:3].split("*")[0][:3], ack_code="TA1-024")


def _layout_chars(d: Delimiters) -> str:
    """Characters stripped around segments (line breaks, indentation) that are not delimiters of ``d``."""
    return "".join(c for c in _WHITESPACE + "\x00\x1a\xa0" if c not in (d.segment, d.element, d.component, d.repetition))


def _isa_delimiters(text: str, name: str, index: int, prev: Delimiters | None) -> Delimiters:
    """Delimiters from an ISA read by its element separator (16 separators, ISA16, terminator)."""
    sep = text[3] if len(text) > 3 else ""
    if not sep or sep.isalnum() or sep in _WHITESPACE:
        raise _garbled(name, index, "no element separator after 'ISA'")
    pos = 3
    for _ in range(15):
        pos = text.find(sep, pos + 1)
        if pos < 0 or pos > 200:
            raise _garbled(name, index, "fewer than 16 elements")
    if pos + 2 >= len(text):
        raise _garbled(name, index, "cut off after ISA16")
    component, term = text[pos + 1], text[pos + 2]
    if term == sep or term == component or (term.isalnum() and term not in _WHITESPACE):
        raise _garbled(name, index, f"no segment terminator after ISA16 (found {term!r})")
    if component.isalnum() or component in _WHITESPACE:
        raise _garbled(name, index, f"invalid component separator {component!r} in ISA16")
    fields = text[:pos].split(sep)
    rep = fields[11] if len(fields) > 11 else ""
    if len(rep) != 1 or rep.isalnum() or rep in (sep, component, term) or rep in _WHITESPACE:
        rep = ""
    if prev is not None and prev == Delimiters(sep, component, rep, term):
        return prev
    return Delimiters(sep, component, rep, term)


def _garbled(name: str, index: int, why: str) -> X12Rejected:
    return reject("X12-ISA-GARBLED", f"not an X12 interchange: garbled ISA ({why})", name, index, "ISA",
                  ack_code="TA1-024")
