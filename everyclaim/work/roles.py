"""Roles and what each may do: one table of permissions, checked by the backend and the web layer.

Auditors read (claims, dashboards, the audit log) and change nothing; billers work queues; managers
also approve, route and read dashboards; admins also manage users.
"""

from __future__ import annotations

from typing import Protocol

from everyclaim.work.errors import Forbidden

ROLES = ("admin", "manager", "biller", "auditor")

_WORKERS = frozenset({"biller", "manager", "admin"})
_LEADS = frozenset({"manager", "admin"})
PERMISSIONS: dict[str, frozenset[str]] = {
    "claims.read": frozenset(ROLES),
    "queue.work": _WORKERS,
    "queue.view_all": frozenset({"manager", "admin", "auditor"}),
    "queue.refresh": _LEADS,
    "touch.record": _WORKERS,
    "approval.request": _WORKERS,
    "approval.decide": _LEADS,
    "routing.edit": _LEADS,
    "users.manage": frozenset({"admin"}),
    "audit.read": frozenset({"auditor", "manager", "admin"}),
    "dashboard.read": frozenset({"manager", "admin", "auditor"}),
}


class HasRole(Protocol):
    @property
    def role(self) -> str: ...


def can(user: HasRole | None, permission: str) -> bool:
    """Whether ``user`` holds ``permission`` (an unknown permission is a programming error)."""
    allowed = PERMISSIONS[permission]
    return user is not None and user.role in allowed


def require(user: HasRole | None, permission: str) -> None:
    """Raise :class:`Forbidden` unless ``user`` holds ``permission``."""
    if not can(user, permission):
        raise Forbidden(f"your role may not do this ({permission})")
