"""Read an X12 file into ledger records, streaming: tokenize -> walk (validate) -> project.

    reading = read_path(path, sha256)
    for record in reading:        # Claim, Remittance, ClaimPayment, ProviderAdjustment, ClaimAck, TransactionAck
        ...
    reading.findings              # deviations that keep their meaning (Problem, severity "finding")

A file that cannot be read raises :class:`~everyclaim.x12.errors.X12Rejected` while iterating; the
caller (ingest) owns the database transaction and rolls it back, so nothing of the file is posted.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Protocol

from everyclaim.ledger.records import Problem, Source
from everyclaim.x12.project835 import Project835
from everyclaim.x12.project837 import Project837
from everyclaim.x12.projectack import Project277CA, Project999
from everyclaim.x12.segments import Segment, Walked
from everyclaim.x12.tokenize import segments_from_path
from everyclaim.x12.values import ccyymmdd
from everyclaim.x12.walk import walk

CHUNK = 1 << 20
_ENVELOPE = frozenset(("ISA", "GS", "ST", "SE"))


class Projection(Protocol):
    def on(self, loop: str, seg: Segment) -> None: ...
    def close(self) -> None: ...


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
    return h.hexdigest()


def transaction_kind(st01: str, version: str) -> str:
    """``"835"``, ``"837P"``, ``"837I"``, ``"277CA"``, ``"999"`` from ST01 and GS08/ST03."""
    if st01 == "837":
        return "837I" if "X223" in version else "837P"
    if st01 == "277":
        return "277CA"
    return st01


class Reading:
    """Iterates the records of one X12 file; ``findings`` is filled when the iteration completes."""

    def __init__(self, path: Path, sha256: str | None = None, file_name: str | None = None) -> None:
        self.path = path
        self.file_name = file_name or path.name
        self.sha256 = sha256 or file_sha256(path)
        self.findings: list[Problem] = []
        self.transactions = 0
        self.kinds: set[str] = set()

    def __iter__(self) -> Iterator[object]:
        walk_ = walk(segments_from_path(self.path), self.file_name)
        walked = iter(walk_)
        # the compiled walker hands loops 2100/2110 of an 835 to the projection's compiled claims (its
        # ``sink``) and yields ``(None, seg)`` when they have records for ``out``
        sinkable = hasattr(walked, "sink")
        out: list[object] = []
        projection: Projection | None = None
        isa13 = gs06 = gs08 = ""
        gs_date: date | None = None
        on = None  # projection.on, bound once per transaction
        for loop, seg in walked:
            sid = seg[1]
            if sid in _ENVELOPE:
                if sid == "ISA":
                    isa13 = seg.get(13).strip()
                elif sid == "GS":
                    gs06, gs08, gs_date = seg.get(6), seg.get(8), ccyymmdd(seg.get(4))
                elif sid == "ST":
                    source = Source(self.sha256, isa13, gs06, seg.get(2), seg.index, self.file_name)
                    kind = transaction_kind(seg.get(1), seg.get(3) or gs08)
                    projection = self._projection(kind, source, out, gs_date)
                    on = projection.on
                    if sinkable:
                        walked.sink = getattr(projection, "sink", None)  # type: ignore[attr-defined]
                    self.transactions += 1
                    self.kinds.add(kind)
                else:  # SE
                    if sinkable:
                        walked.sink = None  # type: ignore[attr-defined]
                    if projection is not None:
                        projection.close()
                    projection = on = None
            elif loop is None:  # taken by the compiled claims: their records are in ``out``
                pass
            elif on is not None:
                on(loop, seg)
            if out:
                yield from out
                out.clear()
        if projection is not None:  # the walker rejects an ST without SE; be safe anyway
            projection.close()
            yield from out
        self.findings.extend(walk_.findings)

    @staticmethod
    def _projection(kind: str, source: Source, out: list[object], gs_date: date | None) -> Projection:
        if kind == "835":
            return Project835(source, out)
        if kind in ("837P", "837I"):
            return Project837(source, out, kind, gs_date)
        if kind == "277CA":
            return Project277CA(source, out)
        return Project999(source, out, gs_date)


def read_path(path: Path, sha256: str | None = None, file_name: str | None = None) -> Reading:
    return Reading(path, sha256, file_name)


def read_records(path: Path) -> tuple[list[object], list[Problem]]:
    """The whole file's records and findings (convenience for tests and small files)."""
    reading = read_path(path)
    records = list(reading)
    return records, reading.findings


__all__ = ["Reading", "Walked", "file_sha256", "read_path", "read_records", "transaction_kind"]
