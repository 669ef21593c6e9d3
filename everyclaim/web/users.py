"""The session's user, looked up through ``everyclaim.work.users`` with a few seconds of memory.

A session names a user id and the password stamp it began with; the user must still exist, be
active and carry the same stamp (a password reset ends every older session). Lookups are cached
for ``ttl`` seconds per (id, stamp) so a page view costs no extra query; a role change or a
deactivation takes effect within that time.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime

import sqlalchemy as sa

from everyclaim.web.security import Session
from everyclaim.work import users as work_users
from everyclaim.work.errors import NotFound
from everyclaim.work.schema import users as users_table


def password_stamp(conn: sa.Connection, user_id: int) -> str:
    """When the user's password last changed, as the session's stamp ('' when never)."""
    changed = conn.execute(sa.select(users_table.c.password_changed_at).where(users_table.c.id == user_id)).scalar()
    return changed.isoformat() if isinstance(changed, datetime) else str(changed or "")


class UserLoader:
    """``loader(session) -> User | None``; thread-safe; one per app."""

    def __init__(self, engine: sa.Engine, ttl: float) -> None:
        self.engine, self.ttl = engine, ttl
        self._cache: dict[int, tuple[float, str, work_users.User | None]] = {}
        self._lock = threading.Lock()

    def __call__(self, session: Session) -> work_users.User | None:
        uid = session.user_id
        if uid is None:
            return None
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(uid)
        if hit is None or now - hit[0] > self.ttl:
            hit = (now, *self._load(uid))
            with self._lock:
                self._cache[uid] = hit
        _, stamp, user = hit
        if user is None or not user.active or stamp != session.stamp:
            return None
        return user

    def _load(self, uid: int) -> tuple[str, work_users.User | None]:
        with self.engine.connect() as conn:
            try:
                return password_stamp(conn, uid), work_users.get_user(conn, uid)
            except NotFound:
                return "", None

    def forget(self, user_id: int) -> None:
        """Drop a cached user at once (after this app changed their role, password or status)."""
        with self._lock:
            self._cache.pop(user_id, None)
