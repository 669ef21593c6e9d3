"""Where the public test material lives: ../shared/data beside the repository (see its SOURCES.tsv)."""

from __future__ import annotations

import os
from pathlib import Path

SHARED = Path(os.environ.get("EVERYCLAIM_SHARED", Path(__file__).resolve().parents[2] / "shared"))
X12 = SHARED / "data" / "x12"
READ_KINDS = ("835", "837p", "837i", "277ca", "999")


def valid_files(*kinds: str, readable: bool = True) -> list[Path]:
    """Sample files outside ``invalid/`` for the given folders (``readable``: without KNOWN_REJECTED)."""
    out = []
    for kind in kinds or READ_KINDS:
        out += sorted(p for p in (X12 / kind).iterdir() if p.is_file() and not (readable and p.name in KNOWN_REJECTED))
    return out


def invalid_files() -> list[Path]:
    return sorted(p for p in X12.glob("*/invalid/*") if p.is_file())


def split_segments(path: Path) -> list[list[str]]:
    """A deliberately naive, independent reading: good enough to count, not to validate."""
    text = path.read_bytes().decode("latin-1").lstrip("\ufeff").lstrip("ï»¿")
    if text.startswith("\xff\xfe") or "\x00" in text[:10]:
        text = path.read_bytes().decode("utf-16")
    text = text.lstrip("\ufeff").lstrip()
    if text.startswith("ISA"):
        element, terminator = text[3], None
        fields = text.split(element, 16)
        terminator = fields[16][1] if len(fields) > 16 else "~"
    else:
        element = text[2]
        terminator = "~" if "~" in text else "\n"
    segs = []
    for raw in text.split(terminator):
        raw = raw.strip()
        if raw:
            segs.append(raw.split(element))
    return segs


# Samples outside invalid/ that the issue's own rules reject ("a transaction cut off", "an empty element
# the ledger needs"): rejecting them is the documented behaviour, so tests expect the rejection.
KNOWN_REJECTED = {
    "oopx12__FromBogeyone.txt": "277CA cut off after HL*2: ST without SE",
    "oopx12__UnicodeExample.txt": "UTF-16 without BOM, and the transaction is cut off (no SE)",
    "oopx12__Example1_pretty_bom.txt": "CLP*090909*22 has no CLP03/CLP04 (money the ledger posts)",
}
# invalid/ samples the reader accepts: none (each is rejected with a located error)
KNOWN_ACCEPTED_INVALID: dict[str, str] = {}
