"""The work queue's errors: values with a stable ``code`` and a message safe to show (no PHI).

The web layer maps them to HTTP statuses (:data:`HTTP_STATUS`) and one JSON error shape; the CLI
prints ``code: message`` and exits non-zero. Any other exception is a bug and must not reach a client.
"""

from __future__ import annotations


class WorkError(Exception):
    code = "work_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(WorkError):
    code = "not_found"


class Forbidden(WorkError):
    code = "forbidden"


class Conflict(WorkError):
    code = "conflict"


class Invalid(WorkError):
    code = "invalid"


class AuthFailed(WorkError):
    code = "auth_failed"


HTTP_STATUS: dict[type[WorkError], int] = {NotFound: 404, Forbidden: 403, Conflict: 409, Invalid: 422,
                                           AuthFailed: 401}  # fmt: skip
