"""The login rate limit's memory: failed sign-ins per key in ``login_failures``, so every server process
(``everyclaim serve --workers N``) and every restart sees the same count.

A key is ``ip:<client address>`` or ``user:<user name>``. A sign-in is refused (429) while any of its keys
has ``attempts`` failures within the last ``window`` seconds; a success clears its keys. Each failure
also deletes every row older than the window (an indexed range), so the table stays small. Nothing
here commits: the caller's transaction does.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import sqlalchemy as sa

from everyclaim.work.schema import login_failures

f = login_failures.c
KEY_MAX = 96


def _keys(keys: Sequence[str]) -> list[str]:
    return [k[:KEY_MAX] for k in keys]


def blocked(conn: sa.Connection, keys: Sequence[str], attempts: int, window_seconds: float, now: datetime) -> bool:
    """Whether any key has ``attempts`` or more failures within the window (one grouped query)."""
    since = now - timedelta(seconds=window_seconds)
    worst = (sa.select(sa.func.count().label("n")).where(f.key.in_(_keys(keys)), f.at > since).group_by(f.key)
             .order_by(sa.func.count().desc()).limit(1))  # fmt: skip
    return (conn.execute(worst).scalar() or 0) >= attempts


def failed(conn: sa.Connection, keys: Sequence[str], window_seconds: float, now: datetime) -> None:
    """Count a failure against every key; forget what left the window."""
    conn.execute(sa.delete(login_failures).where(f.at <= now - timedelta(seconds=window_seconds)))
    conn.execute(sa.insert(login_failures), [{"key": k, "at": now} for k in _keys(keys)])


def succeeded(conn: sa.Connection, keys: Sequence[str]) -> None:
    conn.execute(sa.delete(login_failures).where(f.key.in_(_keys(keys))))
