"""The X12 primitives every reader and writer shares: delimiters, a segment, a walked segment.

A :class:`Segment` keeps X12's own numbering: ``seg.elements[0]`` is the segment id and
``seg.elements[1]`` is element 01, so ``CLP03`` is ``seg.elements[3]``. Use :meth:`Segment.get`
for an element that may be absent. Composite elements are split on demand with
:meth:`Segment.components`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple


@dataclass(frozen=True, slots=True)
class Delimiters:
    element: str = "*"
    component: str = ":"
    repetition: str = "^"
    segment: str = "~"


class Segment(NamedTuple):
    index: int  # 1-based position in the file (ISA = 1), counted over all interchanges
    id: str
    elements: list[str]  # elements[0] == id
    delimiters: Delimiters

    def get(self, n: int) -> str:
        """Element ``n`` (1-based) or ``""`` when absent."""
        e = self.elements
        return e[n] if n < len(e) else ""

    def components(self, n: int) -> list[str]:
        """Element ``n`` split on the component separator (``[""]`` when absent)."""
        return self.get(n).split(self.delimiters.component)


class Walked(NamedTuple):
    """A segment placed in its implementation guide: ``loop`` is the guide's loop id.

    Loop ids follow the implementation guides (and pyx12's maps): ``"ISA_LOOP"``, ``"GS_LOOP"``,
    ``"ST_LOOP"``, ``"HEADER"``, ``"1000A"``, ``"2000B"``, ``"2300"``, ``"2400"``, ``"2110"``, ... and
    ``"DETAIL"`` / ``"FOOTER"`` for table-level segments such as 835 ``PLB`` and ``SE``.
    """

    loop: str
    seg: Segment


def render(elements: list[str] | tuple[str, ...], d: Delimiters) -> str:
    """One segment as text, trailing empty elements trimmed, with its terminator."""
    n = len(elements)
    while n > 1 and elements[n - 1] == "":
        n -= 1
    return d.element.join(elements[:n]) + d.segment
