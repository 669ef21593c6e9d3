"""The optional compiled core of the X12 reader (``everyclaim/x12/_fast.c``), and the switch to pure Python.

``pip install -e .`` builds the extension when a C compiler is there; without one (or with
``EVERYCLAIM_PURE=1`` in the environment) the reader runs the pure-Python code, which is also the
oracle the compiled path is tested against (tests/test_x12_native.py: identical records, findings and
errors). The compiled code only takes the common case; every deviation is decided in Python.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

try:
    from everyclaim.x12 import _fast  # type: ignore[attr-defined]
except ImportError:  # no compiler at install time: pure Python
    _fast = None

ENV = "EVERYCLAIM_PURE"  # also read by ledger/post.py (the compiled 835 rows)


def available() -> bool:
    """The extension was built and imports."""
    return _fast is not None


def enabled() -> bool:
    """Use the compiled path (read per file, so tests can switch it with the environment variable)."""
    return _fast is not None and os.environ.get(ENV, "") in ("", "0")


def splitter() -> Callable[..., Any] | None:
    return _fast.Splitter if enabled() else None  # type: ignore[union-attr]


def module() -> Any:
    """The extension module when enabled, else ``None``."""
    return _fast if enabled() else None
