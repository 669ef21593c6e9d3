"""Code sets: CARC, RARC, CAS groups, claim status, frequency, place of service, 277 categories,
claim filing indicators, and the CARC (+ group, + RARC) -> denial category map.

Everything is data under ``everyclaim/codes/data`` (provenance in ``data/SOURCES.md``). The data is read once
per process through :func:`load_code_sets` (cached); the returned :class:`CodeSets` is immutable.

    >>> cs = load_code_sets()
    >>> cs.denial_category("CO", "29")
    'timely_filing'
    >>> cs.is_denial("CO", "45")
    False
"""

from __future__ import annotations

import csv
import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from types import MappingProxyType

import yaml

__all__ = [
    "DENIAL_CATEGORIES",
    "ADJUSTMENT_CATEGORIES",
    "Category",
    "Code",
    "CodeSets",
    "MappingRow",
    "carc_category_rows",
    "categories",
    "load_code_sets",
]

#: The eleven internal denial categories, in the order leadership reports show them.
DENIAL_CATEGORIES: tuple[str, ...] = (
    "eligibility",
    "authorization",
    "coding",
    "medical_necessity",
    "timely_filing",
    "missing_information",
    "duplicate",
    "coordination_of_benefits",
    "bundling",
    "provider_enrollment",
    "other",
)
#: Categories for adjustments that are *not* denials.
ADJUSTMENT_CATEGORIES: tuple[str, ...] = (
    "contractual",
    "patient_responsibility",
    "payment_adjustment",
    "pending",
)

KINDS: tuple[str, ...] = (
    "carc",
    "rarc",
    "group",
    "claim_status",
    "frequency",
    "pos",
    "stc_category",
    "claim_filing",
)


@dataclass(frozen=True)
class Code:
    """One code of one code set.

    ``extra`` holds the set-specific columns (e.g. ``financial_class`` for claim filing codes,
    ``class`` for 277 categories, the flags of CLP02 claim status codes).
    """

    kind: str
    code: str
    description: str
    start_date: str = ""
    stop_date: str = ""
    status: str = "active"
    notes: str = ""
    extra: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def active(self) -> bool:
        return self.status == "active"

    def flag(self, name: str) -> bool:
        """A boolean column of ``extra`` (``"true"``/``"false"``)."""
        return self.extra.get(name, "").lower() == "true"


@dataclass(frozen=True)
class Category:
    """An internal category: one of the eleven denial categories or a non-denial adjustment class."""

    name: str
    kind: str  # "denial" or "adjustment"
    description: str


@dataclass(frozen=True)
class MappingRow:
    """One expanded row of the denial-category map. Empty ``group``/``rarc`` mean "any"."""

    group: str
    carc: str
    rarc: str
    category: str
    rationale: str


@dataclass(frozen=True)
class CodeSets:
    """All code sets and the denial-category map. Build with :func:`load_code_sets`."""

    tables: Mapping[str, Mapping[str, Code]]
    category_defs: Mapping[str, Category]
    rows: tuple[MappingRow, ...]
    default_category: str = "other"
    _index: Mapping[tuple[str, str, str], MappingRow] = field(default_factory=lambda: MappingProxyType({}))

    # -- look-ups ---------------------------------------------------------------------------------------
    def lookup(self, kind: str, code: str) -> Code | None:
        if kind not in self.tables:
            raise KeyError(f"unknown code set {kind!r}; known: {', '.join(KINDS)}")
        return self.tables[kind].get(normalise(kind, code))

    def carc(self, code: str) -> Code | None:
        return self.lookup("carc", code)

    def rarc(self, code: str) -> Code | None:
        return self.lookup("rarc", code)

    def group(self, code: str) -> Code | None:
        return self.lookup("group", code)

    def claim_status(self, code: str) -> Code | None:
        return self.lookup("claim_status", code)

    def frequency(self, code: str) -> Code | None:
        return self.lookup("frequency", code)

    def pos(self, code: str) -> Code | None:
        return self.lookup("pos", code)

    def stc_category(self, code: str) -> Code | None:
        return self.lookup("stc_category", code)

    def claim_filing(self, code: str) -> Code | None:
        return self.lookup("claim_filing", code)

    # -- denial categories ------------------------------------------------------------------------------
    def denial_category(self, group: str | None, carc: str, rarcs: Iterable[str] = ()) -> str:
        """Category of one adjustment (CAS group + CARC) with the remark codes that came with it.

        Most specific wins: group+carc+rarc > carc+rarc > group+carc > carc > default ("other").
        With several RARCs, they are tried in the order given.
        """
        g = (group or "").strip().upper()
        c = normalise("carc", carc)
        rs = [normalise("rarc", r) for r in rarcs if r and r.strip()]
        candidates = [(g, c, r) for r in rs] + [("", c, r) for r in rs] + [(g, c, ""), ("", c, "")]
        for key in candidates:
            row = self._index.get(key)
            if row is not None:
                return row.category
        return self.default_category

    def is_denial(self, group: str | None, carc: str, rarcs: Iterable[str] = ()) -> bool:
        """True when the adjustment is a denial (one of the eleven categories), False for contractual
        write-downs, patient responsibility, payer-paid-differently and pending adjustments."""
        return self.category_defs[self.denial_category(group, carc, rarcs)].kind == "denial"

    def explain(self, kind: str, code: str) -> str:
        """A few lines a biller understands: code, description, status/dates, category, notes."""
        found = self.lookup(kind, code)
        if found is None:
            return f"{kind.upper()} {code}: unknown code (not in the everyclaim {kind} list)."
        lines = [f"{kind.upper()} {found.code}: {found.description}"]
        if found.start_date or found.stop_date or found.status != "active":
            dates = f"effective {found.start_date or '?'}"
            if found.stop_date:
                dates += f", deactivated {found.stop_date}"
            elif not found.active:
                dates += ", deactivated (date unknown)"
            lines.append(f"Status: {found.status}; {dates}")
        for name, value in found.extra.items():
            if value and value.lower() != "false":
                lines.append(f"{name.replace('_', ' ').capitalize()}: {value}")
        if kind == "carc":
            cat = self.denial_category("", found.code)
            cdef = self.category_defs[cat]
            label = "denial category" if cdef.kind == "denial" else "adjustment (not a denial)"
            lines.append(f"Category: {cat.replace('_', ' ')} - {label}. {cdef.description}")
            lines.extend(self._carc_overrides(found.code))
        if found.notes:
            lines.append(f"Notes: {found.notes}")
        return "\n".join(lines)

    def _carc_overrides(self, carc: str) -> list[str]:
        by_cat: dict[tuple[str, str], list[str]] = {}
        for row in self.rows:
            if row.carc == carc and (row.group or row.rarc):
                by_cat.setdefault((row.group, row.category), []).append(row.rarc)
        out = []
        for (grp, cat), rarcs in by_cat.items():
            who = f"{grp}-{carc}" if grp else carc
            named = [r for r in rarcs if r]
            if named:
                shown = ", ".join(named[:6]) + (" ..." if len(named) > 6 else "")
                who += f" with {shown}"
            out.append(f"  {who}: {cat.replace('_', ' ')}")
        return (["Where the group or remark code decides:"] + out) if out else []


def normalise(kind: str, code: str) -> str:
    """Canonical spelling of a code: trimmed, upper case; CARCs and CLP02 without leading zeros."""
    c = (code or "").strip().upper()
    if kind in ("carc", "claim_status") and c.isdigit():
        c = str(int(c))
    if kind == "pos" and c.isdigit() and len(c) == 1:
        c = "0" + c
    return c


# -- loading --------------------------------------------------------------------------------------------
_FILES = {
    "carc": "carc.csv",
    "rarc": "rarc.csv",
    "group": "cas_groups.csv",
    "claim_status": "claim_status.csv",
    "frequency": "frequency.csv",
    "pos": "place_of_service.csv",
    "stc_category": "stc_category.csv",
    "claim_filing": "claim_filing.csv",
}
_BASE_COLUMNS = {"code", "description", "name", "start_date", "stop_date", "status", "notes"}


def data_text(name: str) -> str:
    """Text of one data file shipped in the package."""
    return resources.files(__package__).joinpath("data", name).read_text(encoding="utf-8")


def read_table(kind: str) -> list[dict[str, str]]:
    """Rows of one code-set CSV as dicts (header row gives the keys)."""
    return list(csv.DictReader(data_text(_FILES[kind]).splitlines()))


def _code_from_row(kind: str, row: Mapping[str, str]) -> Code:
    description = row.get("description") or row.get("name") or ""
    extra = {k: v for k, v in row.items() if k not in _BASE_COLUMNS}
    if kind in ("group", "frequency", "claim_filing") and row.get("name"):
        description = row["name"] + (f" - {row['description']}" if row.get("description") else "")
    return Code(
        kind=kind,
        code=normalise(kind, row["code"]),
        description=description,
        start_date=row.get("start_date", ""),
        stop_date=row.get("stop_date", ""),
        status=row.get("status") or "active",
        notes=row.get("notes", ""),
        extra=MappingProxyType(extra),
    )


def _expand_mapping(doc: Mapping) -> tuple[MappingRow, ...]:
    rows: list[MappingRow] = []
    for entry in doc.get("carc", []):
        rows += [
            MappingRow("", normalise("carc", c), "", entry["category"], entry["why"]) for c in entry["carcs"]
        ]
    for entry in doc.get("group_overrides", []):
        g = entry["group"].upper()
        rows += [
            MappingRow(g, normalise("carc", c), "", entry["category"], entry["why"]) for c in entry["carcs"]
        ]
    for entry in doc.get("rarc_rules", []):
        g = entry.get("group", "").upper()
        for c in entry["carcs"]:
            rows += [
                MappingRow(g, normalise("carc", c), normalise("rarc", r), entry["category"], entry["why"])
                for r in entry["rarcs"]
            ]
    return tuple(rows)


def build_code_sets(tables: Mapping[str, list[dict[str, str]]], mapping_doc: Mapping) -> CodeSets:
    """Build :class:`CodeSets` from parsed tables and the parsed mapping YAML (used by tests and loaders)."""
    built = {
        kind: MappingProxyType({c.code: c for c in (_code_from_row(kind, r) for r in rows)})
        for kind, rows in tables.items()
    }
    cats = MappingProxyType(
        {name: Category(name, d["kind"], d["description"]) for name, d in mapping_doc["categories"].items()}
    )
    rows = _expand_mapping(mapping_doc)
    index: dict[tuple[str, str, str], MappingRow] = {}
    for row in rows:
        index.setdefault((row.group, row.carc, row.rarc), row)
    return CodeSets(
        tables=MappingProxyType(built),
        category_defs=cats,
        rows=rows,
        default_category=mapping_doc.get("default", "other"),
        _index=MappingProxyType(index),
    )


@functools.lru_cache(maxsize=1)
def load_code_sets() -> CodeSets:
    """The code sets shipped with everyclaim, read once per process."""
    tables = {kind: read_table(kind) for kind in _FILES}
    mapping_doc = yaml.safe_load(data_text("denial_categories.yaml"))
    return build_code_sets(tables, mapping_doc)


def categories() -> tuple[Category, ...]:
    """The eleven denial categories with a one-sentence description each (leadership-facing)."""
    defs = load_code_sets().category_defs
    return tuple(defs[name] for name in DENIAL_CATEGORIES)


def carc_category_rows() -> list[tuple[str, str, str, str]]:
    """The map as flat rows ``(group_or_empty, carc, rarc_or_empty, category)`` for a SQL table.

    Apply with the same precedence as :meth:`CodeSets.denial_category`:
    group+carc+rarc > carc+rarc > group+carc > carc; anything unmatched is ``other``.
    """
    return [(r.group, r.carc, r.rarc, r.category) for r in load_code_sets().rows]
