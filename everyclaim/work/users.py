"""Users: argon2id password hashes (argon2-cffi), roles, skills and a daily capacity.

Nothing here commits; every change writes an audit entry in the same transaction. Passwords and their
hashes never reach the audit log or an error message.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

import sqlalchemy as sa

from everyclaim.work import audit
from everyclaim.work.errors import Conflict, Forbidden, Invalid, NotFound
from everyclaim.work.roles import ROLES, require
from everyclaim.work.schema import users
from everyclaim.work.settings import WorkSettings

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
SKILL = re.compile(r"^[a-z0-9_]{1,32}$")


@dataclass(frozen=True, slots=True)
class User:
    id: int
    username: str
    display_name: str
    role: str
    skills: tuple[str, ...]
    daily_capacity: int
    active: bool

    def public(self) -> dict[str, Any]:
        """The fields safe to show or log (no hash)."""
        return {"id": self.id, "username": self.username, "display_name": self.display_name, "role": self.role,
                "skills": list(self.skills), "daily_capacity": self.daily_capacity, "active": self.active}  # fmt: skip


@cache
def _hasher() -> Any:
    """argon2-cffi's hasher (argon2id, RFC 9106 low-memory profile). Imported here: argon2-cffi comes
    with the ``web`` extra, and the rest of the work queue (refresh, audit, KPIs) runs without it."""
    try:
        from argon2 import PasswordHasher
    except ImportError:  # pragma: no cover - depends on the installation
        raise Invalid('passwords need argon2-cffi: pip install "everyclaim[web]"') from None
    return PasswordHasher()


@cache
def _dummy_hash() -> str:
    return _hasher().hash("everyclaim-timing-equaliser")


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return bool(_hasher().verify(password_hash, password))
    except (VerificationError, InvalidHashError):
        return False


def _user(row: Any) -> User:
    skills = tuple(s for s in row.skills.split(",") if s)
    return User(row.id, row.username, row.display_name, row.role, skills, row.daily_capacity, bool(row.active))


def _check_password(password: str, settings: WorkSettings) -> None:
    if len(password) < settings.min_password_length:
        raise Invalid(f"the password must have at least {settings.min_password_length} characters")


def _clean_skills(skills: Iterable[str]) -> str:
    out = sorted({s.strip().lower() for s in skills if s.strip()})
    bad = [s for s in out if not SKILL.match(s)]
    if bad:
        raise Invalid(f"skills are lower-case words (letters, digits, _): {', '.join(bad)}")
    return ",".join(out)


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise Invalid(f"role must be one of {', '.join(ROLES)}")


def create_user(conn: sa.Connection, actor: User | None, username: str, password: str, role: str, *,
                display_name: str = "", skills: Iterable[str] = (), daily_capacity: int = 40,
                settings: WorkSettings | None = None, now: datetime | None = None) -> User:
    """Create a user. ``actor`` must be an admin; ``None`` only for bootstrap (CLI, demo)."""
    if actor is not None:
        require(actor, "users.manage")
    username = username.strip().lower()
    if not USERNAME.match(username):
        raise Invalid("a username is 2-64 lower-case letters, digits, '.', '_' or '-'")
    _check_role(role)
    _check_password(password, settings or WorkSettings.from_env())
    if daily_capacity < 0:
        raise Invalid("daily capacity cannot be negative")
    if conn.execute(sa.select(users.c.id).where(users.c.username == username)).first():
        raise Conflict(f"user {username} exists")
    now = now or datetime.now(UTC)
    uid = conn.execute(sa.insert(users).values(
        username=username, display_name=display_name.strip() or username, password_hash=hash_password(password),
        role=role, skills=_clean_skills(skills), daily_capacity=daily_capacity, active=True, created_at=now,
        password_changed_at=now, failed_logins=0,
    )).inserted_primary_key[0]  # fmt: skip
    user = get_user(conn, int(uid))
    audit.record(conn, actor, "user.create", "user", user.id, after=user.public(), now=now)
    return user


def get_user(conn: sa.Connection, user_id: int) -> User:
    row = conn.execute(sa.select(users).where(users.c.id == user_id)).first()
    if row is None:
        raise NotFound(f"no user {user_id}")
    return _user(row)


def get_by_username(conn: sa.Connection, username: str) -> User:
    row = conn.execute(sa.select(users).where(users.c.username == username.strip().lower())).first()
    if row is None:
        raise NotFound("no such user")
    return _user(row)


def list_users(conn: sa.Connection) -> list[User]:
    return [_user(r) for r in conn.execute(sa.select(users).order_by(users.c.username))]


def authenticate(conn: sa.Connection, username: str, password: str, *, settings: WorkSettings | None = None,
                 now: datetime | None = None) -> User | None:
    """The active user with this name and password, else ``None`` (same answer and about the same time
    for an unknown name, a wrong password, a locked or an inactive account).

    Returns rather than raises so the caller's transaction commits the failure count: after
    ``login_max_failures`` failures in a row the account locks for ``lockout_minutes``.
    """
    settings = settings or WorkSettings.from_env()
    now = now or datetime.now(UTC)
    row = conn.execute(sa.select(users).where(users.c.username == username.strip().lower())).first()
    if row is None:
        verify_password(_dummy_hash(), password)
        audit.record(conn, None, "login.failed", "user", "", detail="unknown user", now=now)
        return None
    locked = row.locked_until is not None and _aware(row.locked_until) > now
    ok = verify_password(row.password_hash, password) and row.active and not locked
    if not ok:
        fails = row.failed_logins + 1
        lock = now + timedelta(minutes=settings.lockout_minutes) if fails >= settings.login_max_failures else None
        conn.execute(sa.update(users).where(users.c.id == row.id)
                     .values(failed_logins=0 if lock else fails, locked_until=lock or row.locked_until))  # fmt: skip
        why = "locked" if locked else ("inactive" if not row.active else "bad password")
        audit.record(conn, None, "login.failed", "user", row.id, detail=why + ("; account locked" if lock else ""),
                     now=now)  # fmt: skip
        return None
    values: dict[str, Any] = {"failed_logins": 0, "locked_until": None}
    if _hasher().check_needs_rehash(row.password_hash):
        values["password_hash"] = hash_password(password)
    conn.execute(sa.update(users).where(users.c.id == row.id).values(**values))
    user = _user(row)
    audit.record(conn, user, "login.ok", "user", user.id, now=now)
    return user


def _aware(ts: datetime) -> datetime:
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)  # SQLite hands back naive UTC


def set_password(conn: sa.Connection, actor: User | None, user_id: int, new_password: str, *,
                 settings: WorkSettings | None = None, now: datetime | None = None) -> None:
    """An admin resets anyone's password; a user changes their own; ``actor`` None is the command line
    (``everyclaim users reset-password``, audited as the system). Unlocks the account."""
    if actor is not None and actor.id != user_id:
        require(actor, "users.manage")
    target = get_user(conn, user_id)
    _check_password(new_password, settings or WorkSettings.from_env())
    now = now or datetime.now(UTC)
    conn.execute(sa.update(users).where(users.c.id == target.id).values(
        password_hash=hash_password(new_password), password_changed_at=now, failed_logins=0, locked_until=None))
    audit.record(conn, actor, "user.password", "user", target.id, detail="password set", now=now)


def update_user(conn: sa.Connection, actor: User, user_id: int, *, role: str | None = None,
                skills: Iterable[str] | None = None, daily_capacity: int | None = None, active: bool | None = None,
                display_name: str | None = None, now: datetime | None = None) -> User:
    """Change a user's role, skills, capacity, active flag or name (admins only)."""
    require(actor, "users.manage")
    before = get_user(conn, user_id)
    values: dict[str, Any] = {}
    if role is not None:
        _check_role(role)
        values["role"] = role
    if skills is not None:
        values["skills"] = _clean_skills(skills)
    if daily_capacity is not None:
        if daily_capacity < 0:
            raise Invalid("daily capacity cannot be negative")
        values["daily_capacity"] = daily_capacity
    if active is not None:
        values["active"] = active
    if display_name is not None:
        values["display_name"] = display_name.strip() or before.username
    if actor.id == user_id and (values.get("role", "admin") != "admin" or values.get("active") is False):
        raise Forbidden("an admin cannot demote or deactivate themself")
    if values:
        conn.execute(sa.update(users).where(users.c.id == user_id).values(**values))
    after = get_user(conn, user_id)
    changed = {k: v for k, v in after.public().items() if before.public()[k] != v}
    if changed:
        audit.record(conn, actor, "user.update", "user", user_id,
                     before={k: before.public()[k] for k in changed}, after=changed, now=now)  # fmt: skip
    return after
