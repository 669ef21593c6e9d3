"""The one exception of the X12 reader: a whole file is rejected, with a located :class:`Problem`.

Everything short of a rejection is a *finding* (a :class:`Problem` with severity ``"finding"``) that the
walker collects and returns; see :mod:`everyclaim.x12.walk` for which deviation is which.
"""

from __future__ import annotations

from everyclaim.ledger.records import Problem


class X12Rejected(Exception):
    """The input cannot be read as X12 we support; ``problem`` says where and why (severity "error")."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.located())
        self.problem = problem


def reject(code: str, message: str, file_name: str, seg_index: int = 0, seg_id: str = "",
           element: int = 0, ack_code: str = "", control: str = "") -> X12Rejected:
    """Build (not raise) an :class:`X12Rejected` for an error-severity problem."""
    return X12Rejected(Problem(code, "error", message, file_name, seg_index, seg_id, element, ack_code, control))
