"""Fast constructors for the ledger's frozen record classes, for the reader's hot path.

A frozen dataclass's ``__init__`` sets each field through ``object.__setattr__`` (a generic attribute
look-up per field); reading a large 835 builds about ten records per claim, so that was a fifth of the
reader's time. :func:`maker` generates, once per class, a function with the same signature (field order,
defaults) that sets the slots through their descriptors. The object is the same: same class, every field
set, equal and hashed like one made by ``cls(...)`` (tests/test_x12_construct.py). Only for slotted
dataclasses without ``__post_init__`` or default factories; anything else gets ``cls`` itself.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any


def maker(cls: type) -> Callable[..., Any]:
    """A constructor equivalent to ``cls(...)`` for the slotted frozen dataclass ``cls``."""
    fields = dataclasses.fields(cls)
    if (not hasattr(cls, "__slots__") or hasattr(cls, "__post_init__")
            or any(f.default_factory is not dataclasses.MISSING or not f.init for f in fields)):
        return cls
    ns: dict[str, Any] = {"_new": object.__new__, "_cls": cls}
    params, body = [], ["    self = _new(_cls)"]
    for i, f in enumerate(fields):
        ns[f"_s{i}"] = cls.__dict__[f.name].__set__  # the slot's member descriptor: no frozen check
        if f.default is dataclasses.MISSING:
            params.append(f.name)
        else:
            ns[f"_d{i}"] = f.default
            params.append(f"{f.name}=_d{i}")
        body.append(f"    _s{i}(self, {f.name})")
    src = f"def make({', '.join(params)}):\n" + "\n".join(body) + "\n    return self\n"
    exec(compile(src, f"<maker {cls.__name__}>", "exec"), ns)  # noqa: S102 - generated from the fields above
    return ns["make"]  # type: ignore[no-any-return]
