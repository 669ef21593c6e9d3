"""Signing in and out, the landing page and the health check."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from everyclaim.web.errors import AppError
from everyclaim.web.security import User, client_key, new_session, set_cookie
from everyclaim.web.users import password_stamp
from everyclaim.web.views import page
from everyclaim.work import users as work_users
from everyclaim.work.errors import AuthFailed

router = APIRouter(include_in_schema=False)

# Where each role starts its day.
HOME = {"biller": "/queue", "manager": "/dashboard", "admin": "/admin/users", "auditor": "/audit"}


def _safe_next(target: str | None) -> str | None:
    """Only a local path (``/queue?x=1``), never another site (``//evil``, ``https://...``)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


@router.get("/login")
def login_form(request: Request, next: str | None = None) -> Response:
    if request.state.user is not None:  # already signed in
        return RedirectResponse(HOME.get(request.state.user.role, "/"), status_code=303)
    session = request.state.session
    if session is None or session.user_id is not None:  # a fresh anonymous session with its CSRF token
        session = new_session()
        request.state.session = session
    response = page(request, "login.html", next=_safe_next(next) or "", error="")
    set_cookie(request, response, session)
    return response


def _authenticate(request: Request, username: str, password: str, keys: tuple[str, ...]) -> work_users.User:
    """Check the rate limit, then the password; failures are counted and audited, so they commit."""
    limiter = request.app.state.limiter
    with request.app.state.engine.begin() as conn:
        if limiter.blocked(conn, *keys):
            raise AppError(429)
        try:
            user = work_users.authenticate(conn, username, password)
        except AuthFailed:
            user = None
        if user is None:
            limiter.failed(conn, *keys)
        else:
            limiter.succeeded(conn, *keys)
        stamp = password_stamp(conn, user.id) if user else ""
    if user is None:
        raise AuthFailed("wrong user name or password")
    request.state.stamp = stamp
    return user


@router.post("/login")
async def login(request: Request, username: Annotated[str, Form(max_length=64)],
                password: Annotated[str, Form(max_length=256)], next: Annotated[str, Form()] = "") -> Response:
    name = username.strip().lower()
    keys = (client_key(request), "user:" + name)
    try:
        user = await run_in_threadpool(_authenticate, request, name, password, keys)
    except AuthFailed:
        response = page(request, "login.html", status_code=401, next=_safe_next(next) or "",
                        error="Wrong user name or password.")
        return response
    request.app.state.load_user.forget(user.id)
    target = _safe_next(next) or HOME.get(user.role, "/")
    response = RedirectResponse(target, status_code=303)
    set_cookie(request, response, new_session(user.id, request.state.stamp))  # a new token after sign-in
    return response


@router.post("/logout")
def logout(request: Request) -> Response:
    response = RedirectResponse("/login", status_code=303)
    set_cookie(request, response, new_session())
    return response


@router.get("/")
def home(user: User) -> Response:
    return RedirectResponse(HOME.get(user.role, "/claims"), status_code=303)


@router.get("/healthz")
def healthz() -> JSONResponse:
    return JSONResponse({"status": "ok"})
