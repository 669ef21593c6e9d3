"""Who may do what: one permission table, signed session cookies, CSRF tokens, a login rate limit.

* :data:`PERMISSIONS` maps every route (method, path template) to the roles allowed on it. The
  :func:`authorize` dependency runs on every route of the app and refuses what the table does not
  allow: a route missing from the table is refused to everyone (``tests/test_web_permissions.py``
  fails when a route is missing, and walks every route with every role).
* Anonymous requests get 401 (JSON under ``/api/``; pages redirect to ``/login``); a signed-in user
  whose role is not listed gets 403.
* The session is a cookie signed with itsdangerous (``HttpOnly``, ``SameSite=Lax``, ``Secure`` when
  the request came over https), holding the user id, a CSRF token and the user's password stamp (a
  password reset ends every session of that user). It expires after ``session_hours``.
* Every state-changing request (not GET/HEAD) carries the session's CSRF token, as the form field
  ``csrf_token`` or the ``X-CSRF-Token`` header (htmx sends the header; see ``base.html``).
* Failed logins are counted per client address and per user name, in the database (so the limit holds
  across server processes and restarts: :mod:`everyclaim.work.login_limit`); past the limit the login
  answers 429 until the window has passed.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import Depends, Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.concurrency import run_in_threadpool

from everyclaim.web.errors import AppError
from everyclaim.work import login_limit
from everyclaim.work.roles import PERMISSIONS as ROLE_PERMISSIONS
from everyclaim.work.roles import ROLES
from everyclaim.work.users import User as WorkUser

PUBLIC = frozenset({"(anyone)"})  # no sign-in needed: the login page and the health check


def _may(permission: str) -> frozenset[str]:
    """The roles holding a backend permission (``everyclaim.work.roles``: one truth for roles)."""
    return ROLE_PERMISSIONS[permission]


# (method, path template) -> roles. The single source of truth; see the module docstring.
PERMISSIONS: dict[tuple[str, str], frozenset[str]] = {
    ("GET", "/login"): PUBLIC,
    ("POST", "/login"): PUBLIC,
    ("GET", "/healthz"): PUBLIC,
    ("POST", "/logout"): frozenset(ROLES),
    ("GET", "/"): frozenset(ROLES),
    ("GET", "/docs"): frozenset(ROLES),
    ("GET", "/openapi.json"): frozenset(ROLES),
    # the biller's day
    ("GET", "/queue"): _may("queue.work") | _may("queue.view_all"),
    ("GET", "/queue/rows"): _may("queue.work") | _may("queue.view_all"),
    ("POST", "/queue/next"): _may("queue.work"),
    ("POST", "/queue/bulk"): _may("touch.record"),
    ("GET", "/claims/{pcn}"): _may("claims.read"),
    ("POST", "/claims/{pcn}/touches"): _may("touch.record"),
    ("POST", "/claims/{pcn}/approvals"): _may("approval.request"),
    # the manager's day
    ("GET", "/dashboard"): _may("dashboard.read"),
    ("GET", "/approvals"): _may("approval.decide"),
    ("POST", "/approvals/{approval_id}"): _may("approval.decide"),
    ("GET", "/routing"): _may("routing.edit"),
    ("POST", "/routing"): _may("routing.edit"),
    ("POST", "/routing/{rule_id}/delete"): _may("routing.edit"),
    ("GET", "/rules"): _may("dashboard.read"),
    ("POST", "/rules/outcomes"): _may("approval.decide"),
    ("GET", "/sop"): _may("dashboard.read"),
    # administration and oversight
    ("GET", "/admin/users"): _may("users.manage"),
    ("POST", "/admin/users"): _may("users.manage"),
    ("POST", "/admin/users/{user_id}"): _may("users.manage"),
    ("POST", "/admin/users/{user_id}/password"): _may("users.manage"),
    ("GET", "/audit"): _may("audit.read"),
    # the JSON API: the same roles as the pages it mirrors
    ("GET", "/api/me"): frozenset(ROLES),
    ("GET", "/api/queue"): _may("queue.work") | _may("queue.view_all"),
    ("POST", "/api/queue/next"): _may("queue.work"),
    ("GET", "/api/claims"): _may("claims.read"),
    ("GET", "/api/claims/{pcn}"): _may("claims.read"),
    ("GET", "/api/touches"): _may("claims.read"),
    ("POST", "/api/touches"): _may("touch.record"),
    ("GET", "/api/dashboard"): _may("dashboard.read"),
    ("GET", "/api/approvals"): _may("approval.decide"),
    ("POST", "/api/approvals/{approval_id}"): _may("approval.decide"),
    ("GET", "/api/audit"): _may("audit.read"),
}

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
COOKIE = "everyclaim_session"


@dataclass(frozen=True, slots=True)
class Session:
    csrf: str
    user_id: int | None = None
    stamp: str = ""  # the user's password stamp when the session began


class SessionCodec:
    """Signs and checks the session cookie (itsdangerous, timestamped)."""

    def __init__(self, secret: str, max_age_seconds: int) -> None:
        self._s = URLSafeTimedSerializer(secret, salt="everyclaim.session")
        self.max_age = max_age_seconds

    def dumps(self, s: Session) -> str:
        return self._s.dumps({"c": s.csrf, "u": s.user_id, "p": s.stamp})

    def loads(self, value: str | None) -> Session | None:
        if not value:
            return None
        try:
            data = self._s.loads(value, max_age=self.max_age)
        except BadSignature:  # includes SignatureExpired
            return None
        if not isinstance(data, dict) or not isinstance(data.get("c"), str):
            return None
        uid = data.get("u")
        return Session(data["c"], uid if isinstance(uid, int) else None, str(data.get("p") or ""))


def new_session(user_id: int | None = None, stamp: str = "") -> Session:
    return Session(secrets.token_urlsafe(24), user_id, stamp)


def set_cookie(request: Request, response: Response, session: Session) -> None:
    codec: SessionCodec = request.app.state.sessions
    response.set_cookie(COOKIE, codec.dumps(session), max_age=codec.max_age, httponly=True, samesite="lax",
                        secure=request.url.scheme == "https", path="/")


@dataclass(frozen=True, slots=True)
class LoginLimiter:
    """Failed logins per key (client address, user name) within a sliding window, kept in the database
    (:mod:`everyclaim.work.login_limit`); each method runs in the caller's transaction."""

    attempts: int
    window_seconds: float

    def blocked(self, conn: sa.Connection, *keys: str) -> bool:
        return login_limit.blocked(conn, keys, self.attempts, self.window_seconds, datetime.now(UTC))

    def failed(self, conn: sa.Connection, *keys: str) -> None:
        login_limit.failed(conn, keys, self.window_seconds, datetime.now(UTC))

    def succeeded(self, conn: sa.Connection, *keys: str) -> None:
        login_limit.succeeded(conn, keys)


def route_key(request: Request) -> tuple[str, str]:
    route = request.scope.get("route")
    method = "GET" if request.method == "HEAD" else request.method
    return method, getattr(route, "path", request.url.path)


async def _csrf_ok(request: Request, session: Session | None) -> bool:
    if session is None:
        return False
    sent = request.headers.get("x-csrf-token")
    if sent is None and "form" in request.headers.get("content-type", ""):
        sent = str((await request.form()).get("csrf_token") or "")
    return bool(sent) and hmac.compare_digest(sent, session.csrf)


async def authorize(request: Request) -> WorkUser | None:
    """The dependency on every route: session, user, role and CSRF, per :data:`PERMISSIONS`."""
    key = route_key(request)
    allowed = PERMISSIONS.get(key)
    if allowed is None:  # not in the table: nobody
        raise AppError(403, "This address is not in the permission table.")
    session = request.app.state.sessions.loads(request.cookies.get(COOKIE))
    request.state.session = session
    user = await run_in_threadpool(request.app.state.load_user, session) if session and session.user_id else None
    request.state.user = user
    if allowed != PUBLIC:
        if user is None:
            raise AppError(401)
        if user.role not in allowed:
            raise AppError(403)
    if request.method not in SAFE_METHODS and not await _csrf_ok(request, session):
        raise AppError(403, "The form expired or did not come from this site; reload the page and try again.",
                       code="csrf")
    return user


async def signed_in(request: Request) -> WorkUser:
    user: WorkUser | None = request.state.user
    if user is None:  # only reachable on a route wrongly marked PUBLIC
        raise AppError(401)
    return user


User = Annotated[WorkUser, Depends(signed_in)]


def csrf_token(request: Request) -> str:
    session: Session | None = getattr(request.state, "session", None)
    return session.csrf if session else ""


def may(user: WorkUser | None, method: str, path: str) -> bool:
    """Whether ``user`` may use a route (templates hide links the role cannot follow)."""
    allowed = PERMISSIONS.get((method, path))
    return allowed is not None and (allowed == PUBLIC or (user is not None and user.role in allowed))


def client_key(request: Request) -> str:
    return "ip:" + (request.client.host if request.client else "?")


def describe() -> list[dict[str, Any]]:
    """The permission table as rows (for the docs and the admin page)."""
    return [{"method": m, "path": p, "roles": sorted(r)}
            for (m, p), r in sorted(PERMISSIONS.items(), key=lambda kv: (kv[0][1], kv[0][0]))]
