"""A structural check of 276 claim status inquiries (005010X212), for tests.

pyx12 has no 5010 276 map, so this is our own reading of the guide's structure: the envelope counts,
the HL hierarchy (20 source -> 21 receiver -> 19 provider -> 22 subscriber -> 23 dependent), the
segments each level holds in guide order with their qualifiers and repeat limits, and the claim
status tracking block (2200D/E) with its service lines (2210D/E). It reads files through everyclaim's
own tokenizer. ``tests/test_actions.py`` proves it on the public 276 samples before trusting it.
"""

from __future__ import annotations

from pathlib import Path

from everyclaim.x12.tokenize import segments_from_path

PARENT = {"20": "", "21": "20", "19": "21", "22": "19", "23": "22"}
# (segment id, qualifier in element 1 or None, min, max), in guide order
LEVEL = {
    "20": [("NM1", "PR", 1, 1)],
    "21": [("NM1", "41", 1, 1)],
    "19": [("NM1", "1P", 1, 1)],
    "22": [("DMG", "D8", 0, 1), ("NM1", "IL", 1, 1)],
    "23": [("DMG", "D8", 1, 1), ("NM1", "QC", 1, 1)],
}
CLAIM = [("TRN", "1", 1, 1), ("REF", "1K", 0, 1), ("REF", "BLT", 0, 1), ("REF", "LU", 0, 1), ("REF", "6P", 0, 1),
         ("REF", "EJ", 0, 1), ("REF", "XZ", 0, 1), ("REF", "D9", 0, 1), ("AMT", "T3", 0, 1), ("DTP", "472", 0, 1)]
SERVICE = [("SVC", None, 1, 1), ("REF", "FJ", 0, 1), ("DTP", "472", 0, 1)]

def _needed(s: list[str]) -> list[int]:
    """The element positions that must not be empty in this segment."""
    return {"NM1": [3] if s[1] == "QC" else [3, 8, 9], "TRN": [2], "DMG": [2, 3], "AMT": [2], "DTP": [2, 3],
            "REF": [2]}.get(s[0], [])


def _take(segs: list[list[str]], i: int, spec: list[tuple[str, str | None, int, int]]) -> tuple[int, str]:
    """Consume ``spec`` from ``segs[i:]``; the new index, or an error message."""
    for sid, qual, lo, hi in spec:
        n = 0
        while i < len(segs) and n < hi and segs[i][0] == sid and (qual is None or segs[i][1] == qual):
            missing = [p for p in _needed(segs[i]) if len(segs[i]) <= p or not segs[i][p]]
            if missing:
                return i, f"{sid}{missing[0]:02d} is required"
            i, n = i + 1, n + 1
        if n < lo:
            got = segs[i][0] if i < len(segs) else "end"
            return i, f"{sid}*{qual} required, found {got}"
    return i, ""


def check_276(path: Path) -> list[str]:
    """Problems found in a 276 file ([] when it has the 005010X212 structure)."""
    segs = [list(s.elements) for s in segments_from_path(path)]
    problems: list[str] = []
    if [s[0] for s in segs[:3]] != ["ISA", "GS", "ST"] or [s[0] for s in segs[-2:]] != ["GE", "IEA"]:
        return ["not one ISA/GS/ST ... GE/IEA interchange"]
    ids = (segs[1][1], segs[2][1], segs[2][3] if len(segs[2]) > 3 else "")
    if ids != ("HR", "276", "005010X212"):
        problems.append(f"GS01/ST01/ST03 are {'/'.join(ids)}, not HR/276/005010X212")
    st = [i for i, s in enumerate(segs) if s[0] == "ST"]
    se = [i for i, s in enumerate(segs) if s[0] == "SE"]
    if len(st) != len(se) or int(segs[-2][1]) != len(st):
        problems.append("ST/SE pairs and GE01 disagree")
    for a, b in zip(st, se, strict=False):
        if int(segs[b][1]) != b - a + 1 or segs[b][2] != segs[a][2]:
            problems.append(f"SE at {b + 1}: count {segs[b][1]}, expected {b - a + 1}")
        problems += _body(segs[a + 1 : b])
    return problems


def _body(body: list[list[str]]) -> list[str]:
    if not body or body[0][0] != "BHT" or body[0][1:3] != ["0010", "13"]:
        return ["BHT*0010*13 must open the transaction"]
    i, last_of, prev_code, prev_has_child = 1, {}, "", "1"
    seen = 0
    while i < len(body):
        hl = body[i]
        if hl[0] != "HL":
            return [f"segment {hl[0]} outside the HL structure (position {i + 2})"]
        seen += 1
        code = hl[3] if len(hl) > 3 else ""
        parent = hl[2] if len(hl) > 2 else ""
        if code not in PARENT:
            return [f"HL03 {code!r} is not a 276 level"]
        if hl[1] != str(seen):
            return [f"HL01 {hl[1]} out of sequence"]
        if parent != last_of.get(PARENT[code], ""):
            return [f"HL {hl[1]}: parent {parent!r}, expected the latest level {PARENT[code]} ({last_of.get(PARENT[code])})"]
        if prev_code and PARENT.get(code) == prev_code and prev_has_child != "1":
            return [f"HL {hl[1]}: the previous HL said it has no children"]
        last_of[code] = hl[1]
        for deeper in [k for k, v in PARENT.items() if v == code]:
            last_of.pop(deeper, None)
        prev_code, prev_has_child = code, hl[4] if len(hl) > 4 else ""
        i, err = _take(body, i + 1, LEVEL[code])
        if err:
            return [f"HL {hl[1]} ({code}): {err}"]
        claim_level = code == "23" or (code == "22" and prev_has_child == "0")
        while claim_level and i < len(body) and body[i][0] == "TRN":
            i, err = _take(body, i, CLAIM)
            while not err and i < len(body) and body[i][0] == "SVC":
                i, err = _take(body, i, SERVICE)
            if err:
                return [f"HL {hl[1]} claim: {err}"]
        if claim_level and (i == len(body) or body[i][0] == "HL") and body[i - 1][0] in ("NM1", "DMG"):
            return [f"HL {hl[1]} ({code}): no claim status tracking (TRN)"]
    return []
