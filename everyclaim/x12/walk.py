"""The validating walker: place every segment in its implementation guide's loop, or reject the file.

``walk(segments, file_name)`` returns a :class:`Walk`; iterating it yields a :class:`Walked` (loop id,
segment) for every segment, envelopes included (``ISA_LOOP``, ``GS_LOOP``, ``ST_LOOP``; ST and SE are in
``ST_LOOP`` as in pyx12's maps). Deviations whose meaning stays clear are collected in
``Walk.findings`` (severity ``"finding"``); anything that makes a posted value unknowable raises
:class:`X12Rejected` at once. The guide is picked per transaction from ST01 and ST03 (else GS08).

Error or finding, the rule table (``posted`` = listed in ``guides/posted_elements.yaml``):

==============================================================  ==========  ===========================
deviation                                                       severity    ack code
==============================================================  ==========  ===========================
input is not X12, garbled ISA, GS before any ISA                error       TA1-024
ISA02/ISA04 padded to neither 10 chars nor trimmed to <= 1      error       TA1-011 / TA1-013
other ISA field widths (a trimmed "short" ISA), ISA date/time   finding     TA1-005..015
4010 or other unsupported version; unsupported transaction set  error       AK9-2 / IK5-1
ST without SE, GS without GE, ISA without IEA (cut off)         error       IK5-2 / AK9-3 / TA1-023
no ISA/GS envelope (file starts with ST)                        finding     TA1-024
unknown segment id                                              error       1
segment out of order (7): error if posted, or if required in a name loop (NM1/N1 trigger: its
  address must follow its name), else a finding; unexpected (2): error if the segment id is posted
  in the guide, else a finding (the segment is kept in the open loop)
a loop's non-posted trigger missing (835 LX): the loop is entered implicitly    finding   3
required segment or loop missing, loop over its repeat count    error if the segment/loop holds a
                                                                posted element, else finding   3 / 4
segment over its max use                                        finding     5
  ... a REF the guide allows once in a name loop, repeated with    error       5
  another value (X12-IDENTIFIER-CONFLICT: two tax ids)
last segment without a segment terminator (X12-NO-TERMINATOR)   finding     TA1-023
element missing, wrong type (money), invalid date/time          error if posted, else finding  IK4-1/6/8
element length, code outside the guide's list                   finding (still readable)       IK4-4/5/7
element grossly malformed (over its max length *and* holding    error if its segment holds a
  a run of a foreign delimiter, e.g. ``,,,,,,``: the elements   posted element (it was shifted),
  after it are shifted)                                         else finding                IK4-5
a qualifier not in the guide's list so the segment matches no   error for entity identifiers (NM101,
  guide entry                                                   N101), else a finding (segment kept)
HL02 naming no earlier HL, HL04 = 0 with a child, HL01 reused   finding     8
  (loops are placed by the guide's structure, not by HL02)
SE01 / GE01 / IEA01 counts, SE02/GE02/IEA02 control numbers     finding     IK5-4 / IK5-3 / AK9-5 /
  duplicate ISA13 within the file                                           AK9-4 / TA1-018 / TA1-001 /
                                                                            TA1-025
==============================================================  ==========  ===========================

Why ISA02/ISA04 and not ISA06/ISA08: ISA is a fixed-width record. A sender that trims fields (all of
them, as some Medicaid payers do) or mis-pads an identifier is still unambiguous when read by the element
separator. But the authorization and security information fields carry no identifier: they are 10
spaces or a 10-char secret; a value padded to 9 (neither the full 10 nor collapsed to a single space or
nothing) is a corrupted security field, the condition TA1 codes 011/013 name, and it is what fixed-offset
readers choke on. So: width 10 or <= 1 -> fine; anything else -> error.

Speed: the common case (a segment that stays in the innermost loop, with elements that pass the guide
node's compiled ``ok``) is inlined in :meth:`_Walker.run`; everything else takes the general methods, which
decide and word every finding and error as described above. The fast path never decides a deviation.

Why ``BPR06 = ",,,,,,,,,,,20230315"`` rejects and a BPR without BPR16 does not: a missing optional element
is just absent, but an element that is over its maximum length *and* contains a run of repeated
punctuation (what must be a run of delimiters from another separator) shows the writer used a wrong
delimiter, so every element after it is shifted; BPR holds posted money and the payment date, so the
file is rejected.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from everyclaim.ledger.records import Problem
from everyclaim.x12 import native
from everyclaim.x12.errors import X12Rejected
from everyclaim.x12.guide import Candidate, ElementSpec, Guide, LoopNode, SegNode, load_guide
from everyclaim.x12.segments import Segment, Walked

_ENVELOPE = frozenset(("ISA", "GS", "ST", "SE", "GE", "IEA", "TA1"))
_CONTEXT_IDS = frozenset(("NM1", "N1", "DTP", "DTM", "REF", "AMT"))  # stray ones are findings, not errors
_ISA_WIDTHS = (2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1, 1)
_ISA_ACK = {1: "010", 2: "011", 3: "012", 4: "013", 5: "005", 6: "006", 7: "007", 8: "008", 9: "014",
            10: "015", 11: "026", 12: "017", 13: "018", 14: "019", 15: "020", 16: "026"}
_DAYS = (0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


class Walk:
    """Iterate once for the placed segments; ``findings``, ``transactions`` and ``summary`` fill as you go."""

    def __init__(self, segments: object, file_name: str) -> None:
        self.segments = segments
        self.file_name = file_name
        self.findings: list[Problem] = []
        self.transactions = 0
        self.summary: list[dict[str, object]] = []  # per transaction: kind, control, segments, first index

    def __iter__(self) -> Iterator[Walked]:
        walker = _Walker(self)
        fast = native.module()
        if fast is not None:  # the compiled fast path of run(), calling back into the walker (native.py)
            return fast.Walker(walker, self.segments, Walked, _ENVELOPE)
        return walker.run()  # the walker's own generator: one layer less per segment


def walk(segments: object, file_name: str) -> Walk:
    """Walk ``segments`` (an iterable of :class:`Segment`, e.g. from ``read_segments``) lazily."""
    return Walk(segments, file_name)


def pick_guide(st01: str, st03: str, gs08: str) -> tuple[str, str]:
    """(guide kind, note) for a transaction; raises ``ValueError`` with a user-facing message."""
    version = st03 or gs08
    if version.startswith("004") or gs08.startswith("004"):
        raise ValueError(f"X12 4010 is not supported: resend as 5010 (005010X...) (found {version})")
    note = ""
    if st01 == "835":
        kind, expected = "835", "005010X221A1"
    elif st01 == "837" and "X223" in version:
        kind, expected = "837I", "005010X223A2"
        if version in ("005010X223A1", "005010X223A2", "005010X223A3"):
            expected = version
    elif st01 == "837" and ("X222" in version or not version.startswith("005010X")):
        kind, expected = "837P", "005010X222A1"
    elif st01 == "277" and "X214" in version:
        kind, expected = "277CA", "005010X214"
    elif st01 == "999":
        kind, expected = "999", "005010X231A1"
    else:
        label = f"{st01} ({version})" if version else st01
        raise ValueError(f"unsupported transaction set {label}: everyclaim reads 837P, 837I, 835, 277CA and 999")
    if version != expected and not (kind == "837P" and version == "005010X222A2"):
        note = f"version {version or '(none)'} read as {expected}"
    return kind, note


class _Walker:
    """One pass over one file. Frames are ``[loop, position, counts, loop.fast]`` lists (cheap to allocate)."""

    def __init__(self, walk: Walk) -> None:
        self.w = walk
        self.name = walk.file_name
        self.findings = walk.findings
        self.control = ""
        self.isa: Segment | None = None
        self.gs: Segment | None = None
        self.st: Segment | None = None
        self.isa13s: set[str] = set()
        self.n_gs = self.n_st = self.st_start = 0
        self.guide: Guide | None = None
        self.stack: list[list] = []
        self.hl: dict[str, str] = {}
        self.bare = False
        self.isa12 = ""
        self.native = native.enabled()  # element checks through the compiled Check (same answers as ok)

    # ---- problems ------------------------------------------------------------------------------
    def problem(self, severe: bool, code: str, message: str, seg: Segment | None, element: int = 0,
                ack: str = "") -> None:
        p = Problem(code, "error" if severe else "finding", message, self.name, seg.index if seg else 0,
                    seg.id if seg else "", element, ack, self.control)
        if severe:
            raise X12Rejected(p)
        self.findings.append(p)

    # ---- the pass ------------------------------------------------------------------------------
    def run(self) -> Iterator[Walked]:
        """The hot loop. Inside a transaction the common case is inlined: the segment is found in the
        innermost loop's compiled ``fast`` table (one dict look-up on its qualifier value), it stays in
        that loop, and the node's compiled ``ok`` says its elements are fine. Anything else (a new loop, an
        unknown or misplaced segment, a suspect element) goes through :meth:`seek` / :meth:`place` /
        :meth:`enter` / :meth:`check_elements`, which decide and word every finding and error."""
        last: Segment | None = None
        new = tuple.__new__
        envelope_ids = _ENVELOPE
        stack: list[list] = self.stack
        in_st = False
        for seg in self.w.segments:
            last = seg
            if not in_st:
                yield new(Walked, (self.envelope(seg), seg))
                stack, in_st = self.stack, self.st is not None
                continue
            sid = seg[1]
            if sid in envelope_ids:
                if sid != "SE":
                    self.problem(True, "X12-ST-CUT-OFF", f"transaction {self.st.get(2)} has no SE before {sid}",
                                 seg, 0, "IK5-2")
                yield new(Walked, (self.place(seg), seg))
                self.close_st(seg)
                in_st = False
                continue
            frame = stack[-1]
            m = frame[3].get(sid)
            found = None
            if m is not None:  # the search of place() in the innermost loop, by qualifier value
                qi = m[0]
                if qi:
                    e = seg[2]
                    v = e[qi] if qi < len(e) else ""
                    if m[1]:
                        d = seg[3]
                        comp = d.component
                        if comp not in v:
                            comp = _foreign_separator(v, d) or comp
                        v = v.split(comp)[0]
                    cands = m[2].get(v, m[3])
                else:
                    cands = m[3]
                cur = frame[1]
                for c in cands:
                    if c[0] >= cur:
                        found = c
                        break
            if found is None or not found[1]:
                yield new(Walked, (self.seek(seg, sid, found), seg))
                continue
            # -- the segment stays in the innermost loop (enter() without loops to open or close)
            frame[1] = found[3]
            limit = found[4]
            if limit:
                node = found[2]
                counts = frame[2]
                n = counts.get(node, 0) + 1
                counts[node] = n
                if n > limit:
                    self.problem(False, "X12-SEGMENT-REPEAT", f"{node.id} used {n} times in loop "
                                 f"{frame[0].id}, at most {limit} allowed", seg, 0, "5")
            else:  # unbounded: only "was it there" is ever read (close_frame), not the count
                frame[2][found[2]] = 1
            if not found[5](seg[2], seg[3]):
                self.check_elements(seg, found[2])
            yield new(Walked, (found[7], seg))
        self.finish(last)
        # the tokenizer's findings (encoding, terminator) under the walk's file name
        self.findings.extend(replace(p, file_name=self.name) for p in getattr(self.w.segments, "findings", ()))

    # ---- the compiled walker's calls back (native.py; _fast.c mirrors run() above) --------------
    def step(self, seg: Segment) -> str:
        """A segment outside a transaction set (run()'s ``not in_st`` case)."""
        return self.envelope(seg)

    def end_st(self, seg: Segment) -> str:
        """An envelope segment inside a transaction set; the compiled walker calls :meth:`close_st` when
        it is asked for the next segment, as run() does after its yield."""
        sid = seg[1]
        if sid != "SE":
            self.problem(True, "X12-ST-CUT-OFF", f"transaction {self.st.get(2)} has no SE before {sid}", seg, 0,
                         "IK5-2")
        return self.place(seg)

    def repeat_finding(self, seg: Segment, node: SegNode, n: int, frame: list) -> None:
        self.problem(False, "X12-SEGMENT-REPEAT", f"{node.id} used {n} times in loop {frame[0].id}, at most "
                     f"{node.max_use} allowed", seg, 0, "5")

    def end(self, last: Segment | None) -> None:
        """After the last segment (run()'s last two statements)."""
        self.finish(last)
        self.findings.extend(replace(p, file_name=self.name) for p in getattr(self.w.segments, "findings", ()))

    def seek(self, seg: Segment, sid: str, found: tuple | None) -> str:
        """:meth:`place` by the compiled tables: ``found`` is the innermost loop's entry (or ``None``)."""
        stack = self.stack
        level = len(stack) - 1
        if found is not None:
            return self.enter(seg, level, found[6])
        level -= 1
        while level >= 0:
            frame = stack[level]
            m = frame[3].get(sid)
            if m is not None:
                qi = m[0]
                if qi:
                    e = seg[2]
                    v = e[qi] if qi < len(e) else ""
                    if m[1]:
                        d = seg[3]
                        comp = d.component
                        if comp not in v:
                            comp = _foreign_separator(v, d) or comp
                        v = v.split(comp)[0]
                    cands = m[2].get(v, m[3])
                else:
                    cands = m[3]
                cur = frame[1]
                for c in cands:
                    if c[0] >= cur:
                        return self.enter(seg, level, c[6])
            level -= 1
        return self.place(seg)  # not placed by qualifier anywhere: the full search words the problem

    def envelope(self, seg: Segment) -> str:
        sid = seg.id
        if sid == "ISA":
            self.open_isa(seg)
            return "ISA_LOOP"
        if self.isa is None and not self.bare:
            if sid == "ST" and seg.index == 1:
                self.bare = True
                self.problem(False, "X12-NO-ENVELOPE", "transaction set without ISA/GS envelope: "
                             "delimiters inferred from the ST segment", seg, 0, "TA1-024")
            else:
                self.problem(True, "X12-NO-ISA", f"{sid} outside an interchange (no ISA)", seg, 0, "TA1-024")
        if self.isa12.startswith("004") and self.gs is None and sid != "GS":
            self.problem(True, "X12-4010", f"X12 4010 is not supported: resend as 5010 (ISA12 {self.isa12})",
                         seg, 0, "TA1-017")
        if sid == "GS":
            self.open_gs(seg)
            return "GS_LOOP"
        if sid == "ST":
            self.open_st(seg)
            return "ST_LOOP"
        if sid == "GE":
            self.close_gs(seg)
            return "GS_LOOP"
        if sid == "IEA":
            self.close_isa(seg)
            return "ISA_LOOP"
        if sid == "TA1":
            if self.isa is not None and self.gs is None and self.n_gs == 0:
                self.problem(True, "X12-UNSUPPORTED", "unsupported transaction set TA1 (interchange "
                             "acknowledgment): everyclaim reads 837P, 837I, 835, 277CA and 999", seg, 0, "TA1-024")
            return "ISA_LOOP"
        if self.gs is not None or self.bare:
            self.problem(True, "X12-NO-ST", f"segment {sid} outside a transaction set (no ST)", seg, 0, "2")
        self.problem(True, "X12-NO-GS", f"segment {sid} outside a functional group (no GS)", seg, 0, "TA1-024")
        return ""

    # ---- envelopes -----------------------------------------------------------------------------
    def open_isa(self, seg: Segment) -> None:
        if self.gs is not None:
            self.problem(True, "X12-GS-CUT-OFF", f"group {self.gs.get(6)} has no GE before ISA", seg, 0, "AK9-3")
        if self.isa is not None:
            self.problem(True, "X12-ISA-CUT-OFF", f"interchange {self.isa.get(13)} has no IEA before ISA",
                         seg, 0, "TA1-023")
        e = seg.elements
        if len(e) < 17:
            self.problem(True, "X12-ISA-SHORT", f"ISA has {len(e) - 1} elements, expected 16", seg, 0, "TA1-024")
        self.isa, self.n_gs, self.gs = seg, 0, None
        self.control = e[13]
        for i, width in enumerate(_ISA_WIDTHS, start=1):
            v = e[i]
            if i in (2, 4) and len(v) != width and len(v) > 1:
                self.problem(True, "X12-ISA-FIELD", f"ISA{i:02d} is {len(v)} characters: neither padded to "
                             f"{width} nor trimmed (invalid authorization/security information)", seg, i,
                             "TA1-" + _ISA_ACK[i])
            if len(v) != width and i < 16:
                self.problem(False, "X12-ISA-WIDTH", f"ISA{i:02d} is {len(v)} characters, expected {width}",
                             seg, i, "TA1-" + _ISA_ACK[i])
        if not _is_date(e[9], 6):
            self.problem(False, "X12-ISA-DATE", f"invalid interchange date {e[9]!r}", seg, 9, "TA1-014")
        self.isa12 = e[12].strip()
        if self.isa12 != "00501":
            self.problem(False, "X12-ISA-VERSION", f"ISA12 is {self.isa12!r}, not 00501 (GS08/ST03 decide)",
                         seg, 12, "TA1-017")
        if not e[13].isdigit():
            self.problem(False, "X12-ISA13", f"invalid interchange control number {e[13]!r}", seg, 13, "TA1-018")
        if e[13] in self.isa13s:
            self.problem(False, "X12-ISA13-DUPLICATE", f"duplicate interchange control number {e[13]}", seg, 13,
                         "TA1-025")
        self.isa13s.add(e[13])

    def close_isa(self, seg: Segment) -> None:
        if self.gs is not None:
            self.problem(True, "X12-GS-CUT-OFF", f"group {self.gs.get(6)} has no GE before IEA", seg, 0, "AK9-3")
        if self.isa is None:
            self.problem(True, "X12-NO-ISA", "IEA without ISA", seg, 0, "TA1-024")
        if seg.get(1) != str(self.n_gs):
            self.problem(False, "X12-IEA01-COUNT", f"IEA01 says {seg.get(1)} groups, found {self.n_gs}", seg, 1,
                         "TA1-021")
        if self.isa is not None and seg.get(2) != self.isa.get(13):
            self.problem(False, "X12-IEA02-CONTROL", f"IEA02 {seg.get(2)} does not match ISA13 {self.isa.get(13)}",
                         seg, 2, "TA1-001")
        self.isa = None
        self.isa12 = ""

    def open_gs(self, seg: Segment) -> None:
        if self.gs is not None:
            self.problem(True, "X12-GS-CUT-OFF", f"group {self.gs.get(6)} has no GE before GS", seg, 0, "AK9-3")
        self.gs, self.n_st = seg, 0
        self.n_gs += 1
        self.control = f"{self.isa.get(13) if self.isa else ''}/{seg.get(6)}"
        gs08 = seg.get(8)
        if gs08.startswith("004"):
            self.problem(True, "X12-4010", f"X12 4010 is not supported: resend as 5010 (005010X...) (GS08 {gs08})",
                         seg, 8, "AK9-2")

    def close_gs(self, seg: Segment) -> None:
        if self.gs is None:
            self.problem(True, "X12-NO-GS", "GE without GS", seg, 0, "AK9-3")
        if seg.get(1) != str(self.n_st):
            self.problem(False, "X12-GE01-COUNT", f"GE01 says {seg.get(1)} transaction sets, found {self.n_st}",
                         seg, 1, "AK9-5")
        if self.gs is not None and seg.get(2) != self.gs.get(6):
            self.problem(False, "X12-GE02-CONTROL", f"GE02 {seg.get(2)} does not match GS06 {self.gs.get(6)}",
                         seg, 2, "AK9-4")
        self.gs = None

    def open_st(self, seg: Segment) -> None:
        if self.gs is None and not self.bare:
            self.problem(True, "X12-NO-GS", "ST outside a functional group (no GS)", seg, 0, "AK9-3")
        gs08 = self.gs.get(8) if self.gs is not None else ""
        try:
            kind, note = pick_guide(seg.get(1), seg.get(3), gs08)
        except ValueError as exc:
            ack = "AK9-2" if "4010" in str(exc) else "IK5-1"
            code = "X12-4010" if "4010" in str(exc) else "X12-UNSUPPORTED"
            self.problem(True, code, str(exc), seg, 1, ack)
            raise  # unreachable: problem() raised
        self.control = f"{self.isa.get(13) if self.isa else ''}/{self.gs.get(6) if self.gs else ''}/{seg.get(2)}"
        if note:
            self.problem(False, "X12-VERSION-LABEL", note, seg, 3, "IK5-5")
        self.guide = load_guide(kind)
        self.st, self.st_start = seg, seg.index
        self.n_st += 1
        self.w.transactions += 1
        self.hl = {}
        root = self.guide.root
        first = root.children[0]
        self.stack = [[root, first.pos, {first: 1}, root.fast]]
        self.check_elements(seg, first)  # type: ignore[arg-type]

    def close_st(self, se: Segment) -> None:
        st = self.st
        assert st is not None
        count = se.index - self.st_start + 1
        if se.get(1) != str(count):
            self.problem(False, "X12-SE01-COUNT", f"SE01 says {se.get(1)} segments, found {count}", se, 1, "IK5-4")
        if se.get(2) != st.get(2):
            self.problem(False, "X12-SE02-CONTROL", f"SE02 {se.get(2)} does not match ST02 {st.get(2)}", se, 2, "IK5-3")
        self.w.summary.append({"kind": self.guide.kind if self.guide else "", "control": self.control,
                               "segments": count, "first": self.st_start})
        while len(self.stack) > 0:
            self.close_frame(self.stack.pop(), se)
        self.st = None

    def finish(self, last: Segment | None) -> None:
        if last is None:
            self.problem(True, "X12-EMPTY", "no segments", None, 0, "TA1-024")
        if self.st is not None:
            self.problem(True, "X12-ST-CUT-OFF", f"transaction {self.st.get(2)} is cut off: no SE", last, 0, "IK5-2")
        if self.gs is not None:
            self.problem(True, "X12-GS-CUT-OFF", f"group {self.gs.get(6)} is cut off: no GE", last, 0, "AK9-3")
        if self.isa is not None:
            self.problem(True, "X12-ISA-CUT-OFF", f"interchange {self.isa.get(13)} is cut off: no IEA", last, 0,
                         "TA1-023")
        if self.w.transactions == 0:
            self.problem(True, "X12-NO-TRANSACTION", "no transaction set in the file", last, 0, "TA1-024")

    # ---- placing a segment in its loop ---------------------------------------------------------
    def place(self, seg: Segment) -> str:
        sid = seg.id
        stack = self.stack
        near: tuple[int, Candidate] | None = None
        level = len(stack) - 1
        while level >= 0:
            frame = stack[level]
            cands = frame[0].table.get(sid)
            if cands:
                cur = frame[1]
                for c in cands:
                    if c.pos < cur:
                        continue
                    q = c.qual
                    if q is not None:
                        e = seg.elements
                        v = e[q[0]] if q[0] < len(e) else ""
                        if q[1]:
                            comp = seg.delimiters.component
                            if comp not in v:
                                comp = _foreign_separator(v, seg.delimiters) or comp
                            v = v.split(comp)[0]
                        if v not in q[2]:
                            if near is None:
                                near = (level, c)
                            continue
                    return self.enter(seg, level, c)
            level -= 1
        if near is not None:
            level, c = near
            q = c.qual
            assert q is not None
            self.problem(sid in ("NM1", "N1"), "X12-QUALIFIER", f"{sid}{q[0]:02d} value "
                         f"{seg.get(q[0]).split(seg.delimiters.component)[0]!r} is not one of the guide's codes "
                         f"for {sid} here", seg, q[0], "IK4-7")
            return self.enter(seg, level, c)
        return self.unplaced(seg)

    def unplaced(self, seg: Segment) -> str:
        sid = seg.id
        assert self.guide is not None
        if sid not in self.guide.seg_ids:
            self.problem(True, "X12-SEGMENT-UNKNOWN", f"unrecognized segment id {sid!r}", seg, 0, "1")
        for frame in reversed(self.stack):
            for c in frame[0].table.get(sid, ()):
                if not c.enter:
                    node = c.seg
                    trigger = frame[0].children[0]
                    name_loop = isinstance(trigger, SegNode) and trigger.id in ("NM1", "N1")
                    self.problem(node.usage == "R" and name_loop, "X12-SEGMENT-ORDER",
                                 f"{sid} is out of order in loop {frame[0].id}", seg, 0, "7")
                    frame[2][node] = frame[2].get(node, 0) + 1
                    self.check_elements(seg, node)
                    return frame[0].id
        self.problem(sid in self.guide.posted_ids and sid not in _CONTEXT_IDS, "X12-SEGMENT-UNEXPECTED",
                     f"{sid} is not expected in loop {self.stack[-1][0].id}", seg, 0, "2")
        return self.stack[-1][0].id

    def enter(self, seg: Segment, level: int, c: Candidate) -> str:
        stack = self.stack
        while len(stack) > level + 1:
            done = stack.pop()
            counts = done[2]
            for child in done[0].must:  # close_frame's fast path, inline
                if child not in counts:
                    self.close_frame(done, seg)
                    break
        frame = stack[level]
        frame[1] = c.pos
        if c.implicit is not None:
            trig = c.implicit.children[0]
            self.problem(False, "X12-REQUIRED-MISSING", f"{trig.id} missing: {seg.id} placed in an implied loop "
                         f"{c.implicit.id}", seg, 0, "3")
        for loop in c.enter:
            counts = frame[2]
            n = counts.get(loop, 0) + 1
            counts[loop] = n
            if loop.repeat and n > loop.repeat:
                self.problem(loop.needed, "X12-LOOP-REPEAT", f"loop {loop.id} repeats {n} times, at most "
                             f"{loop.repeat} allowed", seg, 0, "4")
            frame = [loop, -1, {}, loop.fast]
            stack.append(frame)
        node = c.seg
        frame[1] = node.pos
        counts = frame[2]
        n = counts.get(node, 0) + 1
        counts[node] = n
        if node.max_use and n > node.max_use:
            self.problem(False, "X12-SEGMENT-REPEAT", f"{node.id} used {n} times in loop "
                         f"{frame[0].id}, at most {node.max_use} allowed", seg, 0, "5")
        if node.id == "HL":
            self.check_hl(seg)
        elif node.identifies:
            self.check_identifier(seg, frame, node, n)
        if not (node.check if self.native else node.ok)(seg.elements, seg.delimiters):
            self.check_elements(seg, node)
        return frame[0].id

    def close_frame(self, frame: list, seg: Segment) -> None:
        loop, counts = frame[0], frame[2]
        for child in loop.must:
            if child not in counts:
                break
        else:
            return  # every required child is there (the fast path of the check below)
        for child in loop.required:
            if child not in counts and not (child is loop.children[0] and child.usage == "R"):
                severe = child.needed if isinstance(child, LoopNode) else (
                    bool(child.posted) and child.id not in _CONTEXT_IDS)
                what = "loop" if isinstance(child, LoopNode) else "segment"
                self.problem(severe, "X12-REQUIRED-MISSING", f"required {what} {child.id} missing in loop {loop.id}",
                             seg, 0, "3" if what == "segment" else "I7")

    def check_identifier(self, seg: Segment, frame: list, node: SegNode, n: int) -> None:
        """A second REF of a kind the entity has once (e.g. two tax ids for the billing provider): the same
        value again is only the max-use finding, a different one leaves the entity unknowable."""
        key = (node, "value")
        value = seg.get(2)
        if n == 1:
            frame[2][key] = value
        elif value != frame[2].get(key):
            self.problem(True, "X12-IDENTIFIER-CONFLICT", f"loop {frame[0].id} has two different REF*{seg.get(1)} "
                         f"identifiers ({node.name}): which one is the entity's cannot be known", seg, 2, "5")

    def check_hl(self, seg: Segment) -> None:
        hl01, parent, hl04 = seg.get(1), seg.get(2), seg.get(4)
        if parent:
            if parent not in self.hl:
                self.problem(False, "X12-HL-PARENT", f"HL02 {parent!r} names no earlier HL", seg, 2, "8")
            elif self.hl[parent] == "0":
                self.problem(False, "X12-HL-CHILD", f"HL {parent} says it has no children (HL04 = 0) but HL "
                             f"{hl01} is its child", seg, 2, "8")
        if hl01 in self.hl:
            self.problem(False, "X12-HL-DUPLICATE", f"HL01 {hl01!r} is used twice", seg, 1, "8")
        self.hl[hl01] = hl04

    # ---- elements ------------------------------------------------------------------------------
    def check_elements(self, seg: Segment, node: SegNode) -> None:
        e = seg.elements
        specs = node.elements
        n = len(e)
        if n - 1 > len(specs):
            self.problem(False, "X12-TOO-MANY-ELEMENTS", f"{node.id} has {n - 1} elements, the guide defines "
                         f"{len(specs)}", seg, len(specs) + 1, "IK4-3")
        for spec in specs:
            if spec is None:
                continue
            i = spec.pos
            v = e[i] if i < n else ""
            if not v:
                if spec.usage == "R":
                    self.problem(spec.posted, "X12-ELEMENT-MISSING", f"required element {node.id}{i:02d} is "
                                 "missing", seg, i, "IK4-1")
                continue
            if spec.components is not None:
                self.check_composite(seg, node, spec, v)
            else:
                why = _bad_value(spec, v)
                if why:
                    self.bad(seg, node, spec, i, v, why)
        if node.id == "DTP" and n > 3:
            fmt, v = e[2], e[3]
            if (fmt == "D8" and not _is_date(v, 8)) or (fmt == "RD8" and not _is_range(v)):
                single_day = fmt == "RD8" and _is_date(v, 8)
                self.problem(3 in node.posted and not single_day, "X12-DATE", f"invalid date {v!r} for format {fmt}", seg, 3, "IK4-8")

    def check_composite(self, seg: Segment, node: SegNode, spec: ElementSpec, v: str) -> None:
        comp = seg.delimiters.component
        assert spec.components is not None
        if comp not in v and len(spec.components) > 1:
            other = _foreign_separator(v, seg.delimiters)
            if other:
                self.problem(False, "X12-COMPONENT-SEPARATOR", f"{node.id}{spec.pos:02d} {v!r} separates its "
                             f"components with {other!r}, not the declared {comp!r}", seg, spec.pos, "IK4-6")
                # the meaning is clear: the element is read with the declared separator from here on, so
                # every projection splits it like any other composite
                v = v.replace(other, comp)
                seg.elements[spec.pos] = v
        comps = v.split(comp)
        for j, cs in enumerate(spec.components):
            if cs is None:
                continue
            cv = comps[j] if j < len(comps) else ""
            if not cv:
                if cs.usage == "R":
                    self.problem(cs.posted, "X12-ELEMENT-MISSING", f"required component {node.id}{spec.pos:02d}-"
                                 f"{j + 1} is missing", seg, spec.pos, "IK4-1")
                continue
            why = _bad_value(cs, cv)
            if why:
                self.bad(seg, node, cs, spec.pos, cv, why)

    def bad(self, seg: Segment, node: SegNode, spec: ElementSpec, i: int, v: str, why: str) -> None:
        ack = {"code": "IK4-7", "date": "IK4-8", "time": "IK4-9", "long": "IK4-5", "short": "IK4-4"}.get(why, "IK4-6")
        severe = spec.posted and why in ("type", "date", "time")
        msg = f"{node.id}{i:02d} {v!r}: " + {"code": "not a valid code", "date": "invalid date", "time": "invalid time",
                                            "long": f"longer than {spec.max}", "short": f"shorter than {spec.min}",
                                            "type": f"not of type {spec.type}"}[why]
        if why == "long" and _delimiter_run(v) and bool(node.posted):
            severe = True
            msg += " and holds a run of delimiters: the segment's elements are shifted"
        self.problem(severe, "X12-ELEMENT-INVALID", msg, seg, i, ack)


def _bad_value(spec: ElementSpec, v: str) -> str:
    t = spec.type
    if t == "AN" or t == "ID":
        if len(v) > spec.max:
            return "long"
        if len(v) < spec.min:
            return "short"
        if spec.codes is not None and v not in spec.codes:
            return "code"
        return ""
    if t == "R":
        digits = v.lstrip("-").replace(".", "", 1)
        if not digits.isdigit():
            return "type"
        return "long" if len(digits) > spec.max else ""
    if t[0] == "N":
        digits = v.lstrip("-")
        if not digits.isdigit():
            return "type"
        return "long" if len(digits) > spec.max else ""
    if t == "DT":
        return "" if _is_date(v, spec.max if spec.min == spec.max else len(v)) else "date"
    if t == "TM":
        return "" if len(v) in (4, 6, 7, 8) and v.isdigit() and v[:2] < "24" and v[2:4] < "60" else "time"
    return ""


def _is_date(v: str, width: int) -> bool:
    if len(v) != width or width not in (6, 8) or not v.isdigit():
        return False
    m, d = int(v[-4:-2]), int(v[-2:])
    return 1 <= m <= 12 and 1 <= d <= _DAYS[m] and not (m == 2 and d == 29 and int(v[:-4]) % 4)


def _is_range(v: str) -> bool:
    a, _, b = v.partition("-")
    return _is_date(a, 8) and _is_date(b, 8) and a <= b


def _foreign_separator(v: str, d: object) -> str:
    """The punctuation character a composite uses instead of the declared component separator, if any."""
    for ch in ">:^|\\<!":
        if ch in v and ch != getattr(d, "element", "") and ch != getattr(d, "repetition", ""):
            return ch
    return ""


def _delimiter_run(v: str) -> bool:
    for i in range(len(v) - 1):
        ch = v[i]
        if not ch.isalnum() and ch != " " and v[i + 1] == ch:
            return True
    return False


if native.available():
    native._fast.set_foreign(_foreign_separator)  # the compiled walker's rule for foreign separators
