"""Administration and oversight: users, roles and password resets (admin); the audit log (read-only)."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from everyclaim.web.security import User
from everyclaim.web.views import form_day, page
from everyclaim.work import audit
from everyclaim.work import users as work_users
from everyclaim.work.roles import ROLES

router = APIRouter(include_in_schema=False)
AUDIT_PAGE = 50


def _skills(text: str) -> tuple[str, ...]:
    return tuple(s.strip().lower() for s in text.split(",") if s.strip())


@router.get("/admin/users")
def users_view(request: Request, user: User, done: str = "") -> Response:
    with request.app.state.engine.connect() as conn:
        people = work_users.list_users(conn)
    return page(request, "users.html", people=people, roles=ROLES, done=done[:80])


@router.post("/admin/users")
def create_user(request: Request, user: User, username: Annotated[str, Form(max_length=64)],
                password: Annotated[str, Form(max_length=256)], role: Annotated[str, Form(max_length=16)],
                display_name: Annotated[str, Form(max_length=120)] = "",
                skills: Annotated[str, Form(max_length=400)] = "",
                daily_capacity: Annotated[int, Form(ge=0, le=1000)] = 40) -> Response:
    with request.app.state.engine.begin() as conn:
        made = work_users.create_user(conn, user, username.strip().lower(), password, role,
                                      display_name=display_name.strip(), skills=_skills(skills),
                                      daily_capacity=daily_capacity)
    return RedirectResponse(f"/admin/users?done=user+{made.username}+created", status_code=303)


@router.post("/admin/users/{user_id}")
def update_user(request: Request, user: User, user_id: int, role: Annotated[str, Form(max_length=16)],
                display_name: Annotated[str, Form(max_length=120)] = "",
                skills: Annotated[str, Form(max_length=400)] = "",
                daily_capacity: Annotated[int, Form(ge=0, le=1000)] = 40,
                active: Annotated[str, Form(max_length=3)] = "") -> Response:
    with request.app.state.engine.begin() as conn:
        changed = work_users.update_user(conn, user, user_id, role=role, display_name=display_name.strip(),
                                         skills=_skills(skills), daily_capacity=daily_capacity,
                                         active=active == "on")
    request.app.state.load_user.forget(user_id)
    return RedirectResponse(f"/admin/users?done=user+{changed.username}+saved", status_code=303)


@router.post("/admin/users/{user_id}/password")
def reset_password(request: Request, user: User, user_id: int,
                   password: Annotated[str, Form(max_length=256)]) -> Response:
    """Set a new password; every session the user had ends (their password stamp changes)."""
    with request.app.state.engine.begin() as conn:
        work_users.set_password(conn, user, user_id, password)
        name = work_users.get_user(conn, user_id).username
    request.app.state.load_user.forget(user_id)
    return RedirectResponse(f"/admin/users?done=password+of+{name}+reset", status_code=303)


def _when(day: str, field: str, end: bool = False) -> datetime | None:
    d = form_day(day, field)
    return None if d is None else datetime.combine(d, time.max if end else time.min, tzinfo=UTC)


def audit_search(request: Request, user: User, who: str, action: str, entity: str, entity_id: str,
                 since: str, until: str, page_no: int) -> dict[str, object]:
    with request.app.state.engine.connect() as conn:
        entries, total = audit.search(conn, user, username=who.strip() or None, action=action.strip() or None,
                                      entity=entity.strip() or None, entity_id=entity_id.strip() or None,
                                      since=_when(since, "since"), until=_when(until, "until", end=True),
                                      limit=AUDIT_PAGE, offset=(page_no - 1) * AUDIT_PAGE)  # fmt: skip
    return {"entries": entries, "total": total, "page": page_no, "pages": max(1, -(-total // AUDIT_PAGE))}


@router.get("/audit")
async def audit_view(request: Request, user: User, who: Annotated[str, Query(max_length=64)] = "",
                     action: Annotated[str, Query(max_length=64)] = "",
                     entity: Annotated[str, Query(max_length=32)] = "",
                     entity_id: Annotated[str, Query(max_length=64)] = "",
                     since: Annotated[str, Query(max_length=10)] = "", until: Annotated[str, Query(max_length=10)] = "",
                     page_no: Annotated[int, Query(alias="page", ge=1, le=100_000)] = 1) -> Response:
    """Search the audit log: who, what, when, before and after. Nothing here changes it."""
    data = await run_in_threadpool(audit_search, request, user, who, action, entity, entity_id, since, until, page_no)
    filters = {"who": who, "action": action, "entity": entity, "entity_id": entity_id, "since": since,
               "until": until}
    return page(request, "audit.html", filters=filters, **data)
