"""Build everyclaim's implementation guides (``everyclaim/x12/guides/*.json``) from pyx12's map XMLs.

Run by hand when the maps change (pyx12 is a dev dependency only; the JSON is committed)::

    python tools/build_guides.py

pyx12 (https://github.com/azoner/pyx12, BSD-3-Clause, (c) John Holland) describes each HIPAA
implementation guide as XML: loops, segments and elements with usage, repeat counts, positions and code
lists; ``dataele.xml`` gives each data element's type and length. We keep the transaction set
(``ST_LOOP``) of each guide; the envelopes (ISA/GS/GE/IEA) are checked in code by the walker.

JSON shape (short keys, one file per guide)::

    loop:    {"t": "loop", "id", "name", "usage", "repeat" (0 = unbounded), "pos", "wrapper": bool,
              "children": [loop | segment ...]}
    segment: {"t": "seg", "id", "name", "usage", "max_use" (0 = unbounded), "pos",
              "elements": [element | null ...]  (index 0 = element 01)}
    element: {"usage": "R"|"S"|"N", "type": "AN"|"ID"|"R"|"N0"|"N2"|"DT"|"TM", "min", "max",
              "codes": [...] | null, "components": [element | null ...] (composites only)}
"""

from __future__ import annotations

import functools
import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pyx12

MAPS = {
    "835": "835.5010.X221.A1.xml",
    "837P": "837.5010.X222.A1.xml",
    "837I": "837Q3.I.5010.X223.A1.xml",
    "277CA": "277.5010.X214.xml",
    "999": "999.5010X231.A1.xml",
}
OUT = Path(__file__).resolve().parents[1] / "everyclaim" / "x12" / "guides"


def _repeat(text: str | None) -> int:
    text = (text or "1").strip()
    return 0 if text.startswith(">") else int(text)


# External code lists (pyx12's codes.xml) copied into the guides: small and stable. The others (remark
# codes, countries, currencies) change often or are checked elsewhere (everyclaim/codes).
EXTERNAL = ("states",)


@functools.cache
def _external_codes(name: str) -> tuple[str, ...]:
    root = ET.parse(Path(pyx12.__file__).parent / "map" / "codes.xml").getroot()
    for codeset in root:
        if codeset.findtext("id") == name:
            return tuple(sorted({(c.text or "").strip() for c in codeset.iter("code")} - {""}))
    raise KeyError(f"pyx12 codes.xml has no code list {name!r}")


def _element(e: ET.Element, dataele: dict[str, tuple[str, int, int]]) -> dict:
    typ, lo, hi = dataele.get(e.findtext("data_ele") or "", ("AN", 1, 999))
    vc = e.find("valid_codes")
    codes = None
    if vc is not None and vc.get("external") is None:
        found = sorted({(c.text or "").strip() for c in vc.findall("code")})
        codes = found or None
    elif vc is not None and vc.get("external") in EXTERNAL:
        codes = list(_external_codes(vc.get("external", "")))
    return {"usage": e.findtext("usage"), "type": typ, "min": lo, "max": hi, "codes": codes}


def _composite(c: ET.Element, dataele: dict[str, tuple[str, int, int]]) -> dict:
    comps: list[dict | None] = []
    for e in c.findall("element"):
        seq = int(e.findtext("seq") or "0")
        while len(comps) < seq:
            comps.append(None)
        comps[seq - 1] = _element(e, dataele)
    return {"usage": c.findtext("usage"), "type": "C", "min": 0, "max": 0, "codes": None, "components": comps}


def _segment(s: ET.Element, dataele: dict[str, tuple[str, int, int]]) -> dict:
    elements: list[dict | None] = []
    for child in s:
        if child.tag not in ("element", "composite"):
            continue
        seq = int(child.findtext("seq") or "0")
        while len(elements) < seq:
            elements.append(None)
        elements[seq - 1] = _element(child, dataele) if child.tag == "element" else _composite(child, dataele)
    return {"t": "seg", "id": s.get("xid"), "name": s.findtext("name"), "usage": s.findtext("usage"),
            "max_use": _repeat(s.findtext("max_use")), "pos": int(s.findtext("pos") or "0"),
            "elements": elements}


def _loop(node: ET.Element, dataele: dict[str, tuple[str, int, int]]) -> dict:
    children = []
    for child in node:
        if child.tag == "loop":
            children.append(_loop(child, dataele))
        elif child.tag == "segment":
            children.append(_segment(child, dataele))
    return {"t": "loop", "id": node.get("xid"), "name": node.findtext("name"), "usage": node.findtext("usage"),
            "repeat": _repeat(node.findtext("repeat")), "pos": int(node.findtext("pos") or "0"),
            "wrapper": node.get("type") == "wrapper", "children": children}


def main() -> int:
    maps = Path(pyx12.__file__).parent / "map"
    dataele = {
        d.get("ele_num", ""): (d.get("data_type", "AN"), int(d.get("min_len", "1")), int(d.get("max_len", "999")))
        for d in ET.parse(maps / "dataele.xml").getroot()
    }
    OUT.mkdir(parents=True, exist_ok=True)
    for kind, file in MAPS.items():
        root = ET.parse(maps / file).getroot()
        st_loop = root.find(".//loop[@xid='ST_LOOP']")
        assert st_loop is not None, file
        guide = {"kind": kind, "name": root.findtext("name"), "source": f"pyx12 {pyx12.__version__} map/{file}",
                 "root": _loop(st_loop, dataele)}
        path = OUT / f"{kind}.json"
        path.write_text(json.dumps(guide, separators=(",", ":")) + "\n", encoding="utf-8")
        print(f"wrote {path} ({path.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
