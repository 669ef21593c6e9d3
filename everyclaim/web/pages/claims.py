"""One claim's page: its whole story (lines, acknowledgments, remittances with CARC/RARC in words,
ATB snapshots, touches, the triage rule and its evidence, deadlines counting down), the touch form,
and a write-off or refund request. Every view is written to the audit log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from everyclaim.web.data import claim_page
from everyclaim.web.errors import AppError
from everyclaim.web.security import User
from everyclaim.web.views import form_day, page
from everyclaim.work import approvals
from everyclaim.work import queue as work_queue
from everyclaim.work import touches as work_touches

router = APIRouter(include_in_schema=False)
PCN_MAX = 38  # CLM01


def _story(request: Request, user: User, pcn: str) -> dict[str, object]:
    if len(pcn) > PCN_MAX:
        raise AppError(404)
    with request.app.state.engine.begin() as conn:  # the view is audited: a write
        return claim_page(conn, user, pcn)


@router.get("/claims/{pcn}")
async def claim_view(request: Request, user: User, pcn: str, done: str = "") -> Response:
    story = await run_in_threadpool(_story, request, user, pcn)
    return page(request, "claim.html", story=story, pcn=pcn, actions=work_touches.ACTIONS,
                outcomes=work_touches.OUTCOMES, done=done[:80])


@router.post("/claims/{pcn}/touches")
def record_touch(request: Request, user: User, pcn: str, action: Annotated[str, Form(max_length=32)],
                 outcome: Annotated[str, Form(max_length=32)],
                 follow_up_on: Annotated[str, Form(max_length=10)] = "",
                 note: Annotated[str, Form(max_length=4000)] = "") -> Response:
    """Record what was done on the claim: action, outcome, next follow-up date, note."""
    with request.app.state.engine.begin() as conn:
        item = work_queue.get_item_by_pcn(conn, pcn)
        work_touches.record_touch(conn, user, item.id, action=action, outcome=outcome,
                                  follow_up_on=form_day(follow_up_on, "follow_up_on"), note=note)
    return RedirectResponse(f"/claims/{pcn}?done=touch+recorded#touches", status_code=303)


def parse_amount(value: str, field: str = "amount") -> str:
    """Dollars as typed (``1,234.50`` -> ``1234.50``); the backend checks the value itself."""
    text = value.replace(",", "").replace("$", "").strip()
    if not text:
        raise AppError(422, fields={field: "an amount in dollars, e.g. 125.00"})
    return text


@router.post("/claims/{pcn}/approvals")
def request_approval(request: Request, user: User, pcn: str, kind: Annotated[str, Form(max_length=16)],
                     amount: Annotated[str, Form(max_length=20)],
                     reason: Annotated[str, Form(max_length=2000)] = "") -> Response:
    """Ask for a write-off or a refund: small write-offs are approved at once, the rest wait for a manager."""
    with request.app.state.engine.begin() as conn:
        item = work_queue.get_item_by_pcn(conn, pcn)
        result = approvals.request(conn, user, item.id, kind, parse_amount(amount), reason)
    words = f"{result.kind} {result.status}".replace("_", " ").replace(" ", "+")
    return RedirectResponse(f"/claims/{pcn}?done={words}#approvals", status_code=303)
