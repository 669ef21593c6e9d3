"""An implementation guide as a tree of loops and segments, compiled for the walker.

The tree comes from ``guides/<kind>.json`` (generated from pyx12's maps by ``tools/build_guides.py``)
and ``guides/posted_elements.yaml`` (the elements the ledger posts). Compilation precomputes, per loop,
a transition table ``seg_id -> candidates``: every segment or child loop that segment id may start
within that loop, in guide order, each with the qualifier that identifies it (``NM101`` in {85} for
2010AA, ``HL03`` = 22 for 2000B, ``CAS`` has none ...). Loaded guides are cached per process.

For the walker's hot loop each loop also gets ``fast`` (the same candidates indexed by qualifier value)
and each segment node ``ok``: a generated straight-line function that says whether the full element
check would report nothing. ``ok`` may answer False for a fine segment (the walker then runs the full
check, which finds nothing), never True for a segment the full check flags (tested in test_x12_walk.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

import yaml

KINDS = ("835", "837P", "837I", "277CA", "999")


@dataclass(slots=True, eq=False)
class ElementSpec:
    """One element (or component) of a segment: usage R/S/N, X12 data type, lengths, code list."""

    pos: int
    usage: str
    type: str
    min: int
    max: int
    codes: frozenset[str] | None
    components: tuple[ElementSpec | None, ...] | None = None
    posted: bool = False


@dataclass(slots=True, eq=False)
class SegNode:
    id: str
    name: str
    usage: str
    max_use: int  # 0 = unbounded
    pos: int
    loop: LoopNode
    elements: tuple[ElementSpec | None, ...]
    qual: tuple[int, int, frozenset[str]] | None = None  # (element, component or 0, codes)
    posted: frozenset[int] = frozenset()
    # a REF used at most once in a name loop (NM1/N1 trigger): the entity's one identifier of that kind;
    # two different values make the entity unknowable (walker: X12-IDENTIFIER-CONFLICT)
    identifies: bool = False
    # ``ok(elements, delimiters)``: True only when checking the elements would report nothing (the
    # walker's fast path; on False it runs the full check, which words the findings). See _checker.
    ok: Callable[[list[str], Any], bool] | None = None
    # the same answer as ``ok`` from the compiled core (native.py), or None without it
    check: Any = None


@dataclass(slots=True, eq=False)
class LoopNode:
    id: str
    name: str
    usage: str
    repeat: int  # 0 = unbounded
    pos: int
    wrapper: bool
    parent: LoopNode | None
    children: list[SegNode | LoopNode] = field(default_factory=list)
    table: dict[str, tuple[Candidate, ...]] = field(default_factory=dict)
    needed: bool = False  # the loop (or a descendant) holds a posted element
    required: tuple[SegNode | LoopNode, ...] = ()
    # compiled for the walker's fast path (see _compile):
    must: tuple[SegNode | LoopNode, ...] = ()  # ``required`` less a required trigger (always present)
    # seg_id -> (qualifier element or 0, qualifier is a component, {value: entries}, default entries); an
    # entry is (pos, simple, node, node.pos, node.max_use, node.ok, candidate, node's loop id, node.check, plan), simple = the
    # candidate opens no loop, is not implied and is not an HL (the walker's inline case)
    fast: dict[str, tuple[int, int, dict[str, tuple[tuple, ...]], tuple[tuple, ...]]] = field(default_factory=dict)


@dataclass(slots=True, eq=False)
class Candidate:
    """``seg`` may start here at guide position ``pos``, after entering the loops ``enter``."""

    pos: int
    seg: SegNode
    enter: tuple[LoopNode, ...]
    qual: tuple[int, int, frozenset[str]] | None
    implicit: LoopNode | None = None  # entering skips this loop's (missing, non-posted) trigger


@dataclass(slots=True, eq=False)
class Guide:
    kind: str
    name: str
    root: LoopNode  # ST_LOOP
    seg_ids: frozenset[str]
    posted_ids: frozenset[str]  # segment ids that hold a posted element somewhere in the guide


@cache
def load_guide(kind: str) -> Guide:
    """The compiled guide ``kind`` (one of :data:`KINDS`)."""
    if kind not in KINDS:
        raise KeyError(f"no implementation guide {kind!r}; known: {', '.join(KINDS)}")
    base = resources.files("everyclaim.x12") / "guides"
    data = json.loads((base / f"{kind}.json").read_text(encoding="utf-8"))
    text = (base / "posted_elements.yaml").read_text(encoding="utf-8")
    posted = _posted(yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)), kind)  # noqa: S506 - safe
    seg_ids: set[str] = set()
    root = _loop(data["root"], None, posted, seg_ids)
    for loop in iter_loops(root):
        trigger = loop.children[0] if loop.children else None
        name_loop = isinstance(trigger, SegNode) and trigger.id in ("NM1", "N1")
        for c in loop.children:
            if isinstance(c, SegNode):
                c.check = _native_check(c)
                # with the compiled core, only the pure-Python path (EVERYCLAIM_PURE=1) calls ``ok``:
                # compiled when first called (53 functions of the 835 guide took ~45 ms per process)
                c.ok = _checker(c) if c.check is None else _LazyCheck(c)
                c.identifies = name_loop and c.id == "REF" and c.max_use == 1
    _compile(root)
    posted_ids = frozenset(seg for (_, seg) in posted)
    return Guide(kind, data["name"], root, frozenset(seg_ids), posted_ids)


def _posted(doc: dict[str, Any], kind: str) -> dict[tuple[str, str], frozenset[int | str]]:
    """``(loop, segment) -> {element, "element-component", ...}``; a component also marks its element."""
    out: dict[tuple[str, str], frozenset[int | str]] = {}
    for g, loop, seg, elements in doc["posted"]:
        if str(g) == kind:
            keys: set[int | str] = set()
            for e in elements:
                keys.add(int(str(e).split("-")[0]))
                if isinstance(e, str):
                    keys.add(e)
            out[(loop, seg)] = out.get((loop, seg), frozenset()) | frozenset(keys)
    return out


def _element(d: dict[str, Any] | None, pos: int, posted: frozenset[int | str]) -> ElementSpec | None:
    if d is None:
        return None
    comps = None
    whole = pos in posted and not any(isinstance(k, str) and k.startswith(f"{pos}-") for k in posted)
    if d.get("components") is not None:
        comps = tuple(_component(c, pos, i + 1, whole or f"{pos}-{i + 1}" in posted)
                      for i, c in enumerate(d["components"]))
    codes = frozenset(d["codes"]) if d.get("codes") else None
    return ElementSpec(pos, d["usage"], d["type"], d["min"], d["max"], codes, comps, pos in posted)


def _component(d: dict[str, Any] | None, pos: int, j: int, posted: bool) -> ElementSpec | None:
    if d is None:
        return None
    codes = frozenset(d["codes"]) if d.get("codes") else None
    return ElementSpec(j, d["usage"], d["type"], d["min"], d["max"], codes, None, posted)


def _loop(d: dict[str, Any], parent: LoopNode | None, posted: dict[tuple[str, str], frozenset[int]],
          seg_ids: set[str]) -> LoopNode:
    node = LoopNode(d["id"], d["name"] or "", d["usage"], d["repeat"], d["pos"], d["wrapper"], parent)
    for c in d["children"]:
        if c["t"] == "loop":
            child = _loop(c, node, posted, seg_ids)
            node.needed |= child.needed
            node.children.append(child)
            continue
        p = posted.get((node.id, c["id"]), frozenset()) | posted.get(("*", c["id"]), frozenset())
        els = tuple(_element(e, i + 1, p) for i, e in enumerate(c["elements"]))
        posted_ints = frozenset(k for k in p if isinstance(k, int))
        seg = SegNode(c["id"], c["name"] or "", c["usage"], c["max_use"], c["pos"], node, els,
                      _qualifier(c["id"], els), posted_ints)
        node.needed |= bool(p)
        node.children.append(seg)
        seg_ids.add(c["id"])
    return node


def _qualifier(seg_id: str, els: tuple[ElementSpec | None, ...]) -> tuple[int, int, frozenset[str]] | None:
    """pyx12's rule: a required first ID element with codes, the first component of a composite, HL03."""
    if seg_id == "HL":
        e = els[2] if len(els) > 2 else None
        return (3, 0, e.codes) if e is not None and e.codes else None
    first = els[0] if els else None
    if first is None:
        return None
    if first.components is not None:
        c = first.components[0]
        return (1, 1, c.codes) if c is not None and c.type == "ID" and c.codes else None
    if first.type == "ID" and first.usage == "R" and first.codes:
        return (1, 0, first.codes)
    return None


def _entries(loop: LoopNode) -> list[Candidate]:
    """The candidates that enter ``loop`` from its parent."""
    if not loop.wrapper:
        trigger = loop.children[0]
        assert isinstance(trigger, SegNode), loop.id
        out = [Candidate(loop.pos, trigger, (loop,), trigger.qual)]
        if not trigger.posted and trigger.id != "HL":
            for child in loop.children[1:]:
                if isinstance(child, LoopNode) and not child.wrapper:
                    t = child.children[0]
                    assert isinstance(t, SegNode)
                    out.append(Candidate(loop.pos, t, (loop, child), t.qual, loop))
        return out
    out = []
    for c in _own_candidates(loop):
        out.append(Candidate(loop.pos, c.seg, (loop, *c.enter), c.qual, c.implicit))
    return out


def _own_candidates(loop: LoopNode) -> list[Candidate]:
    out: list[Candidate] = []
    children = loop.children if loop.wrapper or loop.parent is None else loop.children[1:]
    for c in children:
        if isinstance(c, SegNode):
            out.append(Candidate(c.pos, c, (), c.qual))
        else:
            out.extend(_entries(c))
    return out


def _compile(loop: LoopNode) -> None:
    table: dict[str, list[Candidate]] = {}
    cands = _own_candidates(loop)
    for cand in [c for c in cands if c.implicit is None] + [c for c in cands if c.implicit is not None]:
        table.setdefault(cand.seg.id, []).append(cand)
    loop.table = {k: tuple(v) for k, v in table.items()}
    loop.required = tuple(c for c in loop.children if c.usage == "R")
    loop.must = tuple(c for c in loop.required if c is not loop.children[0])
    loop.fast = {k: m for k, v in loop.table.items() if (m := _matcher(v)) is not None}
    for c in loop.children:
        if isinstance(c, LoopNode):
            _compile(c)


def _matcher(cands: tuple[Candidate, ...]):  # noqa: ANN202
    """``(element, component, {value: candidates}, default)``: the candidates (in guide order) whose
    qualifier admits a value, so the walker finds one with a dict look-up instead of a scan. ``None``
    when the candidates qualify on different elements (none in the current guides: the walker scans)."""
    quals = {(c.qual[0], c.qual[1]) for c in cands if c.qual is not None}
    if len(quals) > 1:
        return None
    def entry(c: Candidate) -> tuple:
        simple = not c.enter and c.implicit is None and c.seg.id != "HL" and not c.seg.identifies
        # the compiled walker enters the loops of ``plan`` itself; None: it calls _Walker.enter
        plan = None if c.implicit is not None or c.seg.id == "HL" or c.seg.identifies else c.enter
        return (c.pos, simple, c.seg, c.seg.pos, c.seg.max_use, c.seg.ok, c, c.seg.loop.id, c.seg.check, plan)

    default = tuple(entry(c) for c in cands if c.qual is None)
    if not quals:
        return (0, 0, {}, default)
    (qi, qc), = quals
    values = {v for c in cands if c.qual is not None for v in c.qual[2]}
    by = {v: tuple(entry(c) for c in cands if c.qual is None or v in c.qual[2]) for v in values}
    return (qi, qc, by, default)


# ---------------------------------------------------------------------------------------------------
# Compiled element checks: one straight-line function per segment node, generated once per guide.
# It answers "would the walker's element check report nothing?" with cheap len() / str / set tests and
# must never say True when the full check (walk._Walker.check_elements) would report something; when it
# says False the walker runs the full check, which decides and words the findings.
# ---------------------------------------------------------------------------------------------------
_DAYS = (0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
MMDD = frozenset(f"{m:02d}{d:02d}" for m in range(1, 13) for d in range(1, _DAYS[m] + 1))


def _value_test(spec: ElementSpec, consts: dict[str, object]) -> str:
    """A Python expression over ``v`` (non-empty) that is True only when ``walk._bad_value`` is ``""``."""
    t, lo, hi = spec.type, spec.min, spec.max
    if t in ("AN", "ID"):
        tests = [f"len(v) <= {hi}" if lo <= 1 else f"{lo} <= len(v) <= {hi}"]
        if spec.codes is not None:
            name = f"C{len(consts)}"
            consts[name] = spec.codes
            if all(lo <= len(c) <= hi for c in spec.codes):  # a listed code has a valid length
                return f"v in {name}"
            tests.append(f"v in {name}")
        return " and ".join(tests)
    if t == "R":  # the first test (no sign, at most one '.') is the common case and implies the second
        return (f"(len(v) <= {hi} and v.replace('.', '', 1).isdigit()) or "
                f"((x := v.lstrip('-').replace('.', '', 1)).isdigit() and len(x) <= {hi})")
    if t[0] == "N":
        return f"(x := v.lstrip('-')).isdigit() and len(x) <= {hi}"
    if t == "DT":
        if lo == hi == 8:
            return "len(v) == 8 and v.isdigit() and ((x := v[4:]) in MMDD) and (x != '0229' or not int(v[:4]) % 4)"
        if lo == hi == 6:
            return "len(v) == 6 and v.isdigit() and ((x := v[2:]) in MMDD) and (x != '0229' or not int(v[:2]) % 4)"
        return "False"
    if t == "TM":
        return "len(v) in (4, 6, 7, 8) and v.isdigit() and v[:2] < '24' and v[2:4] < '60'"
    return "True"


def _checker_source(node: SegNode, consts: dict[str, object]) -> str:
    specs = node.elements
    required = [s.pos for s in specs if s is not None and s.usage == "R"]
    need = max(required, default=0) + 1
    body = ["    n = len(e)", f"    if n > {len(specs) + 1} or n < {need}:", "        return False"]
    if node.id == "DTP":
        d8 = "len({0}) == 8 and {0}.isdigit() and (x := {0}[4:]) in MMDD and (x != '0229' or not int({0}[:4]) % 4)"
        body += ["    if n > 3:", "        f, v = e[2], e[3]",
                 f"        if f == 'D8' and not ({d8.format('v')}):", "            return False",
                 "        if f == 'RD8':",
                 "            if not (len(v) == 17 and v[8] == '-' and v[:8] <= v[9:]):", "                return False",
                 "            a, b = v[:8], v[9:]",
                 f"            if not ({d8.format('a')}) or not ({d8.format('b')}):", "                return False"]
    for spec in specs:
        if spec is None:
            continue
        i = spec.pos
        ind = "    "
        if i >= need:  # optional from here on: the elements are in order, so n <= i ends the check
            body += [f"    if n <= {i}:", "        return True"]
        body.append(f"{ind}v = e[{i}]")
        if spec.usage == "R":
            body += [f"{ind}if not v:", f"{ind}    return False"]
        else:
            body += [f"{ind}if v:"]
            ind += "    "
        if spec.components is None:
            body += [f"{ind}if not ({_value_test(spec, consts)}):", f"{ind}    return False"]
            continue
        comps = spec.components
        body += [f"{ind}c = d.component", f"{ind}if c in v:", f"{ind}    p = v.split(c)", f"{ind}else:"]
        if len(comps) > 1:
            body += [f"{ind}    if foreign(v, d):", f"{ind}        return False"]
        body += [f"{ind}    p = (v,)", f"{ind}k = len(p)"]
        for j, cs in enumerate(comps):
            if cs is None:
                continue
            body.append(f"{ind}v = p[{j}] if k > {j} else ''")
            if cs.usage == "R":
                body += [f"{ind}if not v or not ({_value_test(cs, consts)}):", f"{ind}    return False"]
            else:
                body += [f"{ind}if v and not ({_value_test(cs, consts)}):", f"{ind}    return False"]
    body.append("    return True")
    return "def ok(e, d):\n" + "\n".join(body) + "\n"


class _LazyCheck:
    """``node``'s generated ``ok``, compiled on its first call."""

    __slots__ = ("fn", "node")

    def __init__(self, node: SegNode) -> None:
        self.node, self.fn = node, None

    def __call__(self, e: list[str], d: Any) -> bool:  # noqa: ANN401 - the delimiters
        if self.fn is None:
            self.fn = _checker(self.node)
        return self.fn(e, d)


def _checker(node: SegNode) -> Callable[[list[str], Any], bool]:
    from everyclaim.x12.walk import _foreign_separator  # noqa: PLC0415 - the walker's own rule

    consts: dict[str, object] = {}
    src = _checker_source(node, consts)
    ns: dict[str, object] = {"MMDD": MMDD, "foreign": _foreign_separator, **consts}
    exec(compile(src, f"<guide check {node.loop.id}/{node.id}>", "exec"), ns)  # noqa: S102 - generated above
    return ns["ok"]  # type: ignore[return-value]


# The same test as data for the compiled core (_fast.c ``Check``): kinds as numbered there.
_AN, _R, _N, _DT8, _DT6, _TM, _ANY, _FALSE = range(8)


def _test_spec(spec: ElementSpec) -> tuple[int, int, int, frozenset[str] | None, int]:
    """(kind, min, max, codes, codes only): what :func:`_value_test` generates, as data."""
    t, lo, hi = spec.type, spec.min, spec.max
    if t in ("AN", "ID"):
        only = spec.codes is not None and all(lo <= len(c) <= hi for c in spec.codes)
        return (_AN, lo, hi, spec.codes, int(only))
    if t == "R":
        return (_R, lo, hi, None, 0)
    if t[0] == "N":
        return (_N, lo, hi, None, 0)
    if t == "DT":
        return ((_DT8 if lo == hi == 8 else _DT6 if lo == hi == 6 else _FALSE), lo, hi, None, 0)
    if t == "TM":
        return (_TM, lo, hi, None, 0)
    return (_ANY, lo, hi, None, 0)


def check_spec(node: SegNode) -> tuple[int, int, int, tuple]:
    """``node``'s element check as data for ``_fast.Check`` (the same answers as :func:`_checker_source`)."""
    specs = node.elements
    need = max((s.pos for s in specs if s is not None and s.usage == "R"), default=0) + 1
    out = []
    for s in specs:
        if s is None:
            continue
        if s.components is None:
            out.append((s.pos, int(s.usage == "R"), _test_spec(s), None))
            continue
        comps = tuple((j, int(cs.usage == "R"), _test_spec(cs)) for j, cs in enumerate(s.components) if cs is not None)
        out.append((s.pos, int(s.usage == "R"), None, (int(len(s.components) > 1), comps)))
    return (len(specs) + 1, need, int(node.id == "DTP"), tuple(out))


def _native_check(node: SegNode) -> Any:
    from everyclaim.x12 import native  # noqa: PLC0415

    return native._fast.Check(*check_spec(node)) if native.available() else None


def iter_loops(loop: LoopNode):  # noqa: ANN201 - a small generator helper for tests and tools
    yield loop
    for c in loop.children:
        if isinstance(c, LoopNode):
            yield from iter_loops(c)
