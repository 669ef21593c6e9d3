"""The JSON API under ``/api/``: the same data as the pages (``everyclaim.web.data``) and the same
permissions (``security.PERMISSIONS``); anonymous requests get 401, refusals 403, one error shape.

Money is a decimal string (``"1234.50"``), never a float; dates are ISO 8601.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from everyclaim.ledger import schema as t
from everyclaim.web.data import QueueFilter, claim_page, dashboard, queue_page
from everyclaim.web.errors import AppError
from everyclaim.web.security import User, csrf_token
from everyclaim.work import approvals, audit
from everyclaim.work import queue as work_queue
from everyclaim.work import touches as work_touches

router = APIRouter(tags=["api"])  # full paths, no prefix: the permission table names them as written


def _default(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    if hasattr(value, "as_json"):
        return value.as_json()
    raise TypeError(type(value).__name__)


class ApiJSON(JSONResponse):
    """JSON with Decimal money as strings (FastAPI's encoder would make floats of them)."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, default=_default, separators=(",", ":")).encode()


class Me(BaseModel):
    id: int
    username: str
    role: str
    csrf_token: str = Field(description="Send as the X-CSRF-Token header on POST requests.")


class TouchIn(BaseModel):
    pcn: str = Field(min_length=1, max_length=38, description="The claim's patient control number (CLM01).")
    action: str = Field(description=f"One of {', '.join(work_touches.ACTIONS)}.")
    outcome: str = Field(description=f"One of {', '.join(work_touches.OUTCOMES)}.")
    follow_up_on: date | None = None
    note: str = Field("", max_length=4000)


@router.get("/api/me", response_model=Me)
def me(request: Request, user: User) -> Me:
    """Who is signed in, and the CSRF token for state-changing requests."""
    return Me(id=user.id, username=user.username, role=user.role, csrf_token=csrf_token(request))


def _conn_read(request: Request, fn: Any, *args: Any) -> Any:
    with request.app.state.engine.connect() as conn:
        return fn(conn, *args)


@router.get("/api/queue", response_class=ApiJSON)
async def api_queue(request: Request, user: User, queue: str = "", tier: str = "", payer: str = "",
                    search: str = "", status: str = "open", order: str = "rank",
                    page: Annotated[int, Query(ge=1, le=100_000)] = 1, mine: bool = False) -> ApiJSON:
    """A page of the caller's queue: items ordered by rank (deadline urgency, then net value).

    ``total`` is counted up to a limit (``capped`` true: there are at least that many)."""
    f = QueueFilter(queue.strip(), tier, payer.strip(), search.strip(), status, order, page, mine)
    settings = request.app.state.settings
    data = await run_in_threadpool(_conn_read, request, queue_page, user, f, settings.page_size, settings.count_limit)
    return ApiJSON(data)


@router.post("/api/queue/next", response_class=ApiJSON)
def api_next(request: Request, user: User, queue: str = "") -> ApiJSON:
    """Claim the best open item the caller may work; ``{"item": null}`` when there is none."""
    item = work_queue.claim_next(request.app.state.engine, user, queue=queue or None)
    return ApiJSON({"item": item.as_json() if item else None})


@router.get("/api/claims", response_class=ApiJSON)
async def api_claims(request: Request, user: User, search: Annotated[str, Query(max_length=38)] = "",
                     limit: Annotated[int, Query(ge=1, le=500)] = 50,
                     offset: Annotated[int, Query(ge=0)] = 0) -> ApiJSON:
    """Claims in the ledger whose PCN starts with ``search``, newest billed first."""
    c = t.claims.c
    stmt = sa.select(c.pcn, c.payer_id, c.payer_name, c.charge_cents, c.service_from, c.last_billed_date)
    if search.strip():
        stmt = stmt.where(c.pcn.startswith(search.strip(), autoescape=True))
    stmt = stmt.order_by(c.last_billed_date.desc(), c.id.desc()).limit(limit).offset(offset)

    def read(conn: sa.Connection) -> list[dict[str, Any]]:
        return [{"pcn": r.pcn, "payer_id": r.payer_id, "payer_name": r.payer_name,
                 "charge": Decimal(r.charge_cents).scaleb(-2), "service_from": r.service_from,
                 "last_billed_date": r.last_billed_date} for r in conn.execute(stmt)]

    return ApiJSON({"claims": await run_in_threadpool(_conn_read, request, read)})


def _story(request: Request, user: User, pcn: str) -> dict[str, Any]:
    with request.app.state.engine.begin() as conn:
        return claim_page(conn, user, pcn)


@router.get("/api/claims/{pcn}", response_class=ApiJSON)
async def api_claim(request: Request, user: User, pcn: str) -> ApiJSON:
    """A claim's whole story (the view is written to the audit log)."""
    if len(pcn) > 38:
        raise AppError(404)
    return ApiJSON(await run_in_threadpool(_story, request, user, pcn))


@router.get("/api/touches", response_class=ApiJSON)
def api_touches(request: Request, user: User, pcn: Annotated[str, Query(min_length=1, max_length=38)]) -> ApiJSON:
    """A claim's touches, newest first."""
    with request.app.state.engine.connect() as conn:
        return ApiJSON({"touches": [x.as_json() for x in work_touches.touches_for(conn, pcn=pcn)]})


@router.post("/api/touches", response_class=ApiJSON, status_code=201)
def api_record_touch(request: Request, user: User, body: TouchIn) -> ApiJSON:
    """Record a touch on a claim's work item."""
    with request.app.state.engine.begin() as conn:
        item = work_queue.get_item_by_pcn(conn, body.pcn)
        touch = work_touches.record_touch(conn, user, item.id, action=body.action, outcome=body.outcome,
                                          follow_up_on=body.follow_up_on, note=body.note)
    return ApiJSON({"touch": touch.as_json()}, status_code=201)


@router.get("/api/dashboard", response_class=ApiJSON)
async def api_dashboard(request: Request, user: User) -> ApiJSON:
    """Open A/R, tiers and automation share, KPIs, the aging x dollar heat map, denial root causes, queues."""
    return ApiJSON(await run_in_threadpool(_conn_read, request, dashboard))


@router.get("/api/audit", response_class=ApiJSON)
def api_audit(request: Request, user: User, who: str = "", action: str = "", entity: str = "",
              entity_id: str = "", limit: Annotated[int, Query(ge=1, le=500)] = 100,
              offset: Annotated[int, Query(ge=0)] = 0) -> ApiJSON:
    """Audit log entries, newest first (read-only)."""
    with request.app.state.engine.connect() as conn:
        entries, total = audit.search(conn, user, username=who or None, action=action or None,
                                      entity=entity or None, entity_id=entity_id or None, limit=limit, offset=offset)
    return ApiJSON({"total": total, "entries": [_entry(e) for e in entries]})


def _entry(e: Any) -> dict[str, Any]:
    return {k: getattr(e, k) for k in ("id", "at", "user_id", "username", "action", "entity", "entity_id",
                                       "before", "after", "detail")}


class DecisionIn(BaseModel):
    approve: bool
    note: str = Field("", max_length=2000)


@router.get("/api/approvals", response_class=ApiJSON)
def api_approvals(request: Request, user: User, status: str = "pending",
                  limit: Annotated[int, Query(ge=1, le=500)] = 50, offset: Annotated[int, Query(ge=0)] = 0) -> ApiJSON:
    """Write-off and refund requests (``status=all`` for every one), oldest first."""
    with request.app.state.engine.connect() as conn:
        rows, total = approvals.list_approvals(conn, user, status=None if status == "all" else status,
                                               limit=limit, offset=offset)
    return ApiJSON({"total": total, "approvals": [a.as_json() for a in rows]})


@router.post("/api/approvals/{approval_id}", response_class=ApiJSON)
def api_decide(request: Request, user: User, approval_id: int, body: DecisionIn) -> ApiJSON:
    """Approve or reject a pending request (never one's own)."""
    with request.app.state.engine.begin() as conn:
        result = approvals.decide(conn, user, approval_id, body.approve, body.note)
    return ApiJSON({"approval": result.as_json()})
