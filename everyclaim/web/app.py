"""The web application: ``create_app(db_url)`` wires settings, the database, security, pages and the API.

    app = create_app("sqlite:///everyclaim.db")      # everyclaim serve does this, then runs uvicorn

The web layer is thin: pages and API routes call ``everyclaim.work`` (queue, touches, approvals,
audit, users), ``everyclaim.ledger.story`` and ``everyclaim.reports``; they hold no business rules.
Each request that changes something owns its transaction (``with engine.begin() as conn``).
"""

from __future__ import annotations

import logging
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from fastapi import Depends, FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from everyclaim.ledger.db import make_engine
from everyclaim.web import errors
from everyclaim.web.security import LoginLimiter, SessionCodec, authorize
from everyclaim.web.users import UserLoader
from everyclaim.web.views import build_templates
from everyclaim.work.errors import WorkError

STATIC = Path(__file__).with_name("static")
SECRET_ENV = "EVERYCLAIM_SECRET_KEY"
DB_ENV = "EVERYCLAIM_DB"
log = logging.getLogger("everyclaim.web")


@dataclass(frozen=True)
class WebSettings:
    """How the web app behaves; :meth:`from_env` reads ``EVERYCLAIM_SECRET_KEY``."""

    secret_key: str
    session_hours: float = 12.0
    login_attempts: int = 5  # failed logins per address or user name ...
    login_window_seconds: float = 300.0  # ... within this window, then 429
    page_size: int = 50
    count_limit: int = 2000  # a queue's total is counted up to here, then shown as "2,000+"
    user_cache_seconds: float = 5.0  # a role change or deactivation takes effect within this

    @classmethod
    def from_env(cls) -> WebSettings:
        key = os.environ.get(SECRET_ENV, "")
        if not key:
            log.warning("%s is not set: sessions are signed with a random key and end when the server stops",
                        SECRET_ENV)
            key = secrets.token_urlsafe(32)
        elif len(key) < 32:
            raise ValueError(f"{SECRET_ENV} must be at least 32 characters")
        return cls(secret_key=key)


class Frame:
    """ASGI middleware: request id, security headers, and an access log line without PHI.

    The log names the route *template* (``/claims/{pcn}``), never the filled-in path or query.
    """

    CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
           "frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
    DOCS_CSP = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; " \
               "script-src 'self' 'unsafe-inline'; frame-ancestors 'none'"

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        rid = secrets.token_hex(6)
        scope.setdefault("state", {})["request_id"] = rid
        status = 500
        csp = self.DOCS_CSP if scope["path"] == "/docs" else self.CSP

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers += [(b"x-request-id", rid.encode()), (b"x-content-type-options", b"nosniff"),
                            (b"referrer-policy", b"same-origin"), (b"x-frame-options", b"DENY"),
                            (b"content-security-policy", csp.encode()),
                            (b"cache-control", b"no-store" if not scope["path"].startswith("/static/")
                             else b"public, max-age=3600")]
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            route = getattr(scope.get("route"), "path", "/static" if scope["path"].startswith("/static/") else "?")
            log.info("%s %s %s %.1fms [%s]", scope["method"], route, status,
                     (time.perf_counter() - started) * 1000, rid)


def create_app(db_url: str, settings: WebSettings | None = None) -> FastAPI:
    """The app on the database at ``db_url`` (already migrated: ``everyclaim init`` or ``serve``)."""
    from everyclaim.web import api
    from everyclaim.web.pages import admin, auth, claims, manager, queue

    settings = settings or WebSettings.from_env()
    engine = make_engine(db_url, pool_pre_ping=True)
    app = FastAPI(title="everyclaim", version="0.1.0", docs_url=None, redoc_url=None, openapi_url=None,
                  description="The A/R work queue: the same data and permissions as the pages. Sign in at "
                  "/login first (the session cookie authenticates the API); state-changing requests send "
                  "the X-CSRF-Token header (its value is in GET /api/me).",
                  dependencies=[Depends(authorize)])
    app.state.settings = settings
    app.state.engine = engine
    app.state.templates = build_templates()
    app.state.sessions = SessionCodec(settings.secret_key, int(settings.session_hours * 3600))
    app.state.limiter = LoginLimiter(settings.login_attempts, settings.login_window_seconds)
    app.state.load_user = UserLoader(engine, settings.user_cache_seconds)
    app.add_exception_handler(errors.AppError, errors.on_app_error)
    app.add_exception_handler(WorkError, errors.on_work_error)
    app.add_exception_handler(StarletteHTTPException, errors.on_http_error)
    app.add_exception_handler(errors.RequestValidationError, errors.on_validation_error)
    app.add_exception_handler(Exception, errors.on_unexpected)
    for module in (auth, queue, claims, manager, admin, api):
        app.include_router(module.router)
    _docs(app)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_middleware(Frame)
    return app


def app_from_env() -> FastAPI:
    """The app on ``$EVERYCLAIM_DB`` with settings from the environment: the factory each server process
    calls under ``everyclaim serve --workers N``."""
    return create_app(os.environ[DB_ENV])


def _docs(app: FastAPI) -> None:
    """OpenAPI and Swagger UI behind the same permission check, with Swagger's files served locally."""

    @app.get("/openapi.json", include_in_schema=False)
    def openapi() -> JSONResponse:
        return JSONResponse(app.openapi())

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/openapi.json", title="everyclaim API",
                                   swagger_js_url="/static/swagger/swagger-ui-bundle.js",
                                   swagger_css_url="/static/swagger/swagger-ui.css",
                                   swagger_favicon_url="/static/favicon.svg")


def routes(app: FastAPI) -> list[tuple[str, str]]:
    """Every (method, path) the app answers (through included routers too), static files excepted."""
    out: list[tuple[str, str]] = []

    def walk(items: list[object]) -> None:
        for r in items:
            inner = getattr(r, "original_router", None)
            if inner is not None:
                walk(list(inner.routes))
            elif isinstance(r, APIRoute | Route):
                out.extend((m, r.path) for m in sorted(r.methods or ()) if m != "HEAD")

    walk(list(app.routes))
    return out


def dispose(app: FastAPI) -> None:
    engine: sa.Engine = app.state.engine
    engine.dispose()
