"""Element values to Python values: money, quantities, dates, names; located errors when malformed.

The walker has already checked the elements the ledger posts against the guide, so these conversions
fail only on input the guide cannot describe (e.g. a money amount of ``"12,50"``); they then raise
:class:`~everyclaim.x12.errors.X12Rejected` naming the segment and element.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from everyclaim.ledger.records import Adjustment, Party, Problem, Remark
from everyclaim.x12.errors import X12Rejected
from everyclaim.x12.segments import Segment


def _reject(seg: Segment, n: int, what: str, file_name: str) -> X12Rejected:
    return X12Rejected(
        Problem(
            code="X12-ELEMENT-MALFORMED",
            severity="error",
            message=f"{seg.id}{n:02d} is not a valid {what}: {seg.get(n)!r}",
            file_name=file_name,
            seg_index=seg.index,
            seg_id=seg.id,
            element=n,
            ack_code="IK4-6",
        )
    )


def money(seg: Segment, n: int, file_name: str = "") -> Decimal:
    """A required amount (X12 type R)."""
    raw = seg.get(n)
    try:
        return Decimal(raw)
    except InvalidOperation:
        raise _reject(seg, n, "amount", file_name) from None


def money_or_none(seg: Segment, n: int, file_name: str = "") -> Decimal | None:
    return money(seg, n, file_name) if seg.get(n) else None


def money_or_zero(seg: Segment, n: int, file_name: str = "") -> Decimal:
    return money(seg, n, file_name) if seg.get(n) else Decimal("0")


def ccyymmdd(raw: str) -> date | None:
    """``CCYYMMDD`` to a date, ``None`` when empty or invalid."""
    if len(raw) != 8 or not raw.isdigit():
        return None
    try:
        return date(int(raw[:4]), int(raw[4:6]), int(raw[6:]))
    except ValueError:
        return None


def date_element(seg: Segment, n: int, file_name: str = "") -> date | None:
    """A date element that is posted: empty gives ``None``, malformed rejects."""
    raw = seg.get(n)
    if not raw:
        return None
    d = ccyymmdd(raw)
    if d is None:
        raise _reject(seg, n, "date (CCYYMMDD)", file_name)
    return d


def period(seg: Segment, fmt_n: int, value_n: int, file_name: str = "") -> tuple[date | None, date | None]:
    """A DTP date as (from, to): ``D8`` ``CCYYMMDD``, ``RD8`` ``CCYYMMDD-CCYYMMDD``, ``DT`` ``CCYYMMDDHHMM``."""
    fmt, raw = seg.get(fmt_n), seg.get(value_n)
    if not raw or fmt not in ("D8", "RD8", "DT", "RDT", ""):  # TM (an hour) and others carry no date
        return None, None
    if fmt in ("DT", "RDT") and len(raw) >= 12 and "-" not in raw:
        d = ccyymmdd(raw[:8])
        if d is None:
            raise _reject(seg, value_n, "date-time (CCYYMMDDHHMM)", file_name)
        return d, d
    if fmt == "RDT" or (fmt == "RD8" or "-" in raw) and len(raw) > 17:
        a, _, b = raw.partition("-")
        start, end = ccyymmdd(a[:8]), ccyymmdd(b[:8])
        if start is None or end is None:
            raise _reject(seg, value_n, "date-time range", file_name)
        return start, end
    if fmt == "RD8" or "-" in raw:
        a, _, b = raw.partition("-")
        start, end = ccyymmdd(a), ccyymmdd(b or a)  # "RD8" with one date: a one-day range
        if start is None or end is None:
            raise _reject(seg, value_n, "date range (CCYYMMDD-CCYYMMDD)", file_name)
        return start, end
    d = date_element(seg, value_n, file_name)
    return d, d


def party(seg: Segment) -> Party:
    """An NM1 segment as a :class:`Party`."""
    return Party(seg.get(1), seg.get(3), seg.get(4), seg.get(8), seg.get(9))


def n1_party(seg: Segment) -> Party:
    """An N1 segment (835 payer/payee) as a :class:`Party`."""
    return Party(seg.get(1), seg.get(2), "", seg.get(3), seg.get(4))


def cas_triplets(seg: Segment, file_name: str = "") -> list[Adjustment]:
    """Every (reason, amount, quantity) triplet of a CAS segment, under its group code."""
    group = seg.get(1)
    out = []
    for n in range(2, 20, 3):
        carc = seg.get(n)
        if not carc:
            continue
        out.append(Adjustment(group, carc, money(seg, n + 1, file_name), money_or_none(seg, n + 2, file_name)))
    return out


def procedure(seg: Segment, n: int) -> tuple[str, str, tuple[str, ...]]:
    """A composite procedure (``HC:99213:25``) as (qualifier, code, modifiers)."""
    parts = seg.components(n)
    parts += [""] * (2 - len(parts))
    return parts[0], parts[1], tuple(m for m in parts[2:6] if m)


def remarks(seg: Segment, positions: range | tuple[int, ...], qualifier: str) -> list[Remark]:
    return [Remark(qualifier, seg.get(n)) for n in positions if seg.get(n)]
