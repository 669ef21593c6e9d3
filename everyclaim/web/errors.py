"""One error vocabulary for the web app: the same shape in JSON and on the HTML error page.

Every refusal or failure becomes an :class:`AppError` (or is turned into one), rendered as::

    {"error": {"status": 403, "code": "forbidden", "message": "...", "request_id": "a1b2c3d4"}}

for ``/api/`` (and any request that asks for JSON), else as ``error.html`` with the same fields.
Exception text never reaches the client and never reaches the log (database errors carry SQL
parameters, i.e. PHI): the log gets the exception's type, the route template and the request id.
"""

from __future__ import annotations

import logging
import traceback
import uuid
from dataclasses import dataclass

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("everyclaim.web")

CODES = {
    400: ("bad_request", "The request could not be understood."),
    401: ("unauthenticated", "Sign in first."),
    403: ("forbidden", "Your role does not allow this."),
    404: ("not_found", "There is nothing here."),
    405: ("method_not_allowed", "This address does not accept that method."),
    409: ("conflict", "Someone else changed this first; reload and try again."),
    422: ("invalid", "Some fields are missing or malformed."),
    429: ("rate_limited", "Too many attempts; wait a few minutes."),
    500: ("internal", "Something went wrong on our side; the request id identifies it in the log."),
}


@dataclass
class AppError(Exception):
    """A refusal with a status, a stable code and a message safe to show (no PHI, no internals)."""

    status: int
    message: str = ""
    code: str = ""
    fields: dict[str, str] | None = None  # field -> what is wrong (422)

    def __post_init__(self) -> None:
        default_code, default_message = CODES.get(self.status, ("error", "Error."))
        self.code = self.code or default_code
        self.message = self.message or default_message


def request_id(request: Request) -> str:
    rid = getattr(request.state, "request_id", None)
    if rid is None:
        rid = request.state.request_id = uuid.uuid4().hex[:12]
    return str(rid)


def wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path == "/openapi.json" or \
        "application/json" in request.headers.get("accept", "")


def error_body(request: Request, err: AppError) -> dict[str, object]:
    body: dict[str, object] = {"status": err.status, "code": err.code, "message": err.message,
                               "request_id": request_id(request)}
    if err.fields:
        body["fields"] = err.fields
    return {"error": body}


def render_error(request: Request, err: AppError) -> Response:
    """The one place an error becomes a response."""
    if err.status == 401 and not wants_json(request):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={_quote(target)}", status_code=303)
    if wants_json(request):
        return JSONResponse(error_body(request, err), status_code=err.status)
    from everyclaim.web.views import page

    return page(request, "error.html", status_code=err.status, error=error_body(request, err)["error"])


def _quote(path: str) -> str:
    from urllib.parse import quote

    return quote(path, safe="/")


def _route(request: Request) -> str:
    route = request.scope.get("route")
    return getattr(route, "path", "?")


async def on_app_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AppError)
    return render_error(request, exc)


async def on_work_error(request: Request, exc: Exception) -> Response:
    """The backend's refusals (``everyclaim.work.errors``): their safe code and message, mapped to a status."""
    from everyclaim.work.errors import HTTP_STATUS, WorkError

    assert isinstance(exc, WorkError)
    status = next((s for cls, s in HTTP_STATUS.items() if isinstance(exc, cls)), 400)
    return render_error(request, AppError(status, exc.message, code=exc.code))


async def on_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    return render_error(request, AppError(exc.status_code))


async def on_validation_error(request: Request, exc: Exception) -> Response:
    """422 naming the fields, never echoing the submitted values (they may be PHI)."""
    assert isinstance(exc, RequestValidationError)
    fields = {".".join(str(p) for p in e.get("loc", ())[1:]) or "body": str(e.get("msg", "invalid"))
              for e in exc.errors()}
    return render_error(request, AppError(422, fields=fields))


async def on_unexpected(request: Request, exc: Exception) -> Response:
    """Log the type and the stack (file:line, no message: messages carry SQL parameters) and answer 500."""
    rid = request_id(request)
    frames = "".join(traceback.format_list(traceback.extract_tb(exc.__traceback__)[-6:]))
    log.error("unhandled %s on %s %s [request %s]\n%s", type(exc).__name__, request.method, _route(request),
              rid, frames)
    return render_error(request, AppError(500))
