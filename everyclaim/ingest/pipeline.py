"""Ingest: plan (what is each file?) -> read -> post, one database transaction per file.

    summary = ingest(engine, [Path("inbox/")], options)

A file that cannot be read is rejected whole: its transaction is rolled back, so nothing of it is
posted, and the rejection (with its located error) is recorded. A file already ingested (same
sha256) is a no-op. Files are posted in a sensible order within one run: payer profiles, claims
(837), acknowledgments (999, 277CA), remittances (835), then A/R snapshots.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import sqlalchemy as sa

from everyclaim.ingest.csvfiles import KINDS, CsvRejected, csv_kind, read_atb, read_payers
from everyclaim.ledger import post as ledger_post
from everyclaim.ledger.records import Problem
from everyclaim.x12.errors import X12Rejected
from everyclaim.x12.read import file_sha256, read_path
from everyclaim.x12.tokenize import sniff

SNIFF_BYTES = 4096
ORDER = {"payers": 0, "837P": 1, "837I": 1, "999": 2, "277CA": 2, "835": 3, "x12": 3, "atb": 4}
COUNTS = ("transactions", "claims", "payments", "adjustments", "findings", "skipped_transactions")


@dataclass(frozen=True)
class Options:
    as_of: date | None = None  # ATB snapshot date; default: the file's modification date
    mapping: Mapping[str, str] = field(default_factory=dict)  # CSV column renames (old -> new)


@dataclass(frozen=True)
class Planned:
    path: Path
    kind: str | None  # "x12" flavour ("835", "837P" ... or "x12"), "atb", "payers", or None
    explicit: bool  # named on the command line (vs found in a folder)


@dataclass
class FileOutcome:
    path: Path
    kind: str
    status: str  # accepted | rejected | duplicate | skipped
    message: str = ""
    counts: dict[str, int] = field(default_factory=dict)
    findings: list[Problem] = field(default_factory=list)
    error: Problem | None = None
    seconds: float = 0.0


@dataclass
class Summary:
    outcomes: list[FileOutcome] = field(default_factory=list)

    def totals(self) -> dict[str, int]:
        t = {"files": len(self.outcomes)} | {k: 0 for k in COUNTS}
        for o in self.outcomes:
            for k in COUNTS:
                t[k] += o.counts.get(k, 0)
        for status in ("accepted", "rejected", "duplicate", "skipped"):
            t[status] = sum(1 for o in self.outcomes if o.status == status)
        return t

    @property
    def any_rejected(self) -> bool:
        return any(o.status == "rejected" for o in self.outcomes)

    def as_json(self) -> dict[str, object]:
        return {
            "totals": self.totals(),
            "files": [
                {
                    "path": str(o.path), "kind": o.kind, "status": o.status, "message": o.message,
                    "counts": o.counts, "seconds": round(o.seconds, 3),
                    "error": o.error.located() if o.error else None,
                    "findings": [f.located() for f in o.findings],
                }
                for o in self.outcomes
            ],
        }


def detect(path: Path, mapping: Mapping[str, str]) -> str | None:
    """What a file is, from its first bytes: an X12 flavour, ``"atb"``, ``"payers"`` or ``None``."""
    with path.open("rb") as f:
        head = f.read(SNIFF_BYTES)
    if sniff(head):
        return _x12_flavour(head)
    try:
        first_line = head.decode("utf-8-sig").splitlines()[0] if head else ""
    except (UnicodeDecodeError, IndexError):
        return None
    return csv_kind(first_line, mapping) if "," in first_line else None


def _x12_flavour(head: bytes) -> str:
    text = head.decode("latin-1")
    st = text.find("ST", 3)
    while st != -1:
        sep = text[st + 2: st + 3]
        if sep and not sep.isalnum() and text[st - 1: st] not in ("", *"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"):
            st01 = text[st + 3: st + 6]
            return {"837": "837I" if "X223" in text else "837P", "277": "277CA"}.get(st01, st01)
        st = text.find("ST", st + 2)
    return "x12"


def plan(paths: Iterable[Path], mapping: Mapping[str, str]) -> list[Planned]:
    """Expand folders (recursively, hidden files ignored), detect each file, order for posting."""
    out: list[Planned] = []
    for p in paths:
        if p.is_dir():
            files = sorted(f for f in p.rglob("*") if f.is_file() and not _hidden(f.relative_to(p)))
            out += [Planned(f, detect(f, mapping), explicit=False) for f in files]
        else:
            out.append(Planned(p, detect(p, mapping) if p.is_file() else None, explicit=True))
    return sorted(out, key=lambda x: (ORDER.get(x.kind or "", 9), str(x.path)))


def _hidden(rel: Path) -> bool:
    return any(part.startswith(".") for part in rel.parts)


def ingest(
    engine: sa.Engine,
    paths: Iterable[Path],
    options: Options = Options(),
    progress: Callable[[Planned, FileOutcome], None] | None = None,
) -> Summary:
    return ingest_planned(engine, plan(paths, options.mapping), options, progress)


def ingest_planned(
    engine: sa.Engine,
    planned: Iterable[Planned],
    options: Options = Options(),
    progress: Callable[[Planned, FileOutcome], None] | None = None,
) -> Summary:
    """Ingest files already planned (callers that show progress plan first to know the total)."""
    summary = Summary()
    for item in planned:
        outcome = ingest_one(engine, item, options)
        summary.outcomes.append(outcome)
        if progress:
            progress(item, outcome)
    return summary


def ingest_one(engine: sa.Engine, item: Planned, options: Options) -> FileOutcome:
    started = time.perf_counter()
    with _few_collections():
        outcome = _ingest_one(engine, item, options)
    outcome.seconds = time.perf_counter() - started
    return outcome


@contextmanager
def _few_collections() -> Iterator[None]:
    """Reading allocates millions of short-lived containers (segments, records, rows) that reference
    counting frees; the cyclic collector would rescan every live object each time its default thresholds
    trip (~20% of the CPU of read + post). For one file: what exists before is frozen out of the scans and
    the youngest generation is collected every 50,000 allocations instead of 700."""
    saved = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)
    try:
        yield
    finally:
        gc.set_threshold(*saved)
        gc.unfreeze()


def _ingest_one(engine: sa.Engine, item: Planned, options: Options) -> FileOutcome:
    path = item.path
    if item.kind is None:
        if not path.exists():
            return FileOutcome(path, "?", "rejected", "no such file",
                               error=Problem("FILE-MISSING", "error", "no such file", path.name))
        if item.explicit:
            why = "neither X12 nor a known CSV (aged trial balance or payer profiles)"
            return FileOutcome(path, "?", "rejected", why, error=Problem("FILE-UNKNOWN", "error", why, path.name))
        return FileOutcome(path, "?", "skipped", "not X12 or a known CSV")
    sha = file_sha256(path)
    meta = ledger_post.FileMeta(sha256=sha, name=str(path), kind=item.kind, size=path.stat().st_size)
    reader = _Reader(item, sha, options)  # lazy: nothing is read unless post_file consumes the records
    try:
        with engine.begin() as conn:
            result = ledger_post.post_file(conn, meta, reader.records(), reader.findings)
    except (X12Rejected, CsvRejected) as exc:
        with engine.begin() as conn:
            ledger_post.record_rejection(conn, meta, exc.problem)
        return FileOutcome(path, item.kind, "rejected", exc.problem.message, error=exc.problem)
    if result.duplicate:
        return FileOutcome(path, item.kind, "duplicate", "already ingested: nothing changed")
    counts = result.counts()
    counts["transactions"] = reader.transactions()
    skipped = result.skipped_transactions
    message = f"{skipped} transaction(s) already posted from another file: skipped" if skipped else ""
    return FileOutcome(path, reader.kind(), "accepted", message, counts, [*reader.findings, *result.problems])


class _Reader:
    """The right reader for a planned file; ``findings`` fills as ``records()`` is consumed."""

    def __init__(self, item: Planned, sha: str, options: Options) -> None:
        self.item, self.sha, self.options = item, sha, options
        self.findings: list[Problem] = []
        self.reading = read_path(item.path, sha, file_name=item.path.name) if item.kind not in KINDS else None
        if self.reading is not None:
            self.findings = self.reading.findings

    def records(self) -> Iterator[object]:
        path, kind, options = self.item.path, self.item.kind, self.options
        if kind == "atb":
            as_of = options.as_of or datetime.fromtimestamp(path.stat().st_mtime).date()
            return read_atb(path, self.sha, as_of, options.mapping, self.findings)
        if kind == "payers":
            return read_payers(path, self.sha, options.mapping)
        assert self.reading is not None
        return iter(self.reading)

    def transactions(self) -> int:
        return self.reading.transactions if self.reading is not None else 0

    def kind(self) -> str:
        if self.reading is not None and self.reading.kinds:
            return "+".join(sorted(self.reading.kinds))
        return str(self.item.kind)
