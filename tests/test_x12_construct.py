"""The reader's fast record constructors make the same objects as the classes themselves."""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal

import pytest

from everyclaim.ledger.records import Adjustment, ClaimPayment, Party, Remark, ServicePayment, Source
from everyclaim.x12.construct import maker

D = Decimal


def _values(cls: type) -> list[object]:
    sample = {str: "X1", "Decimal": D("12.30"), "date": date(2026, 1, 2), "int": 7}
    out: list[object] = []
    for f in dataclasses.fields(cls):
        t = str(f.type)
        if f.name == "source":
            out.append(Source("a" * 64, "1", "2", "3", 4, "f.835"))
        elif "tuple" in t:
            out.append((Adjustment("CO", "45", D("1.00")),) if f.name == "adjustments" else ())
        elif "Party" in t:
            out.append(Party("QC", "DOE", "JANE", "MI", "W1"))
        elif "Decimal" in t:
            out.append(sample["Decimal"])
        elif "date" in t:
            out.append(sample["date"])
        elif t == "int":
            out.append(7)
        else:
            out.append(f"{f.name[:3]}")
    return out


@pytest.mark.parametrize("cls", [Adjustment, Remark, Party, ServicePayment, ClaimPayment])
def test_maker_builds_the_same_record(cls: type) -> None:
    make = maker(cls)
    assert make is not cls  # the fast path is in use for the reader's records
    values = _values(cls)
    fast, slow = make(*values), cls(*values)
    assert type(fast) is cls and fast == slow and hash(fast) == hash(slow) and repr(fast) == repr(slow)
    n_required = sum(f.default is dataclasses.MISSING for f in dataclasses.fields(cls))
    assert make(*values[:n_required]) == cls(*values[:n_required])  # defaults are the class's
    with pytest.raises(dataclasses.FrozenInstanceError):
        fast.__setattr__(dataclasses.fields(cls)[0].name, "changed")


def test_maker_falls_back_to_the_class_when_it_cannot_be_equivalent() -> None:
    @dataclasses.dataclass(frozen=True, slots=True)
    class Checked:
        x: int

        def __post_init__(self) -> None:
            if self.x < 0:
                raise ValueError("negative")

    assert maker(Checked) is Checked
