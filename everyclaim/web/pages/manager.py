"""The manager's day: dashboards, the rules' accuracy (the automation gate) and reviewed outcomes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from everyclaim.triage.gate import store_outcomes
from everyclaim.triage.report import rules_report
from everyclaim.triage.rules import load_rules
from everyclaim.web.data import dashboard
from everyclaim.web.errors import AppError
from everyclaim.web.security import User
from everyclaim.web.views import page
from everyclaim.work import audit

router = APIRouter(include_in_schema=False)


def _dashboard(request: Request) -> dict[str, object]:
    with request.app.state.engine.connect() as conn:
        return dashboard(conn)


@router.get("/dashboard")
async def dashboard_view(request: Request, user: User) -> Response:
    return page(request, "dashboard.html", d=await run_in_threadpool(_dashboard, request))


def _rules(request: Request) -> list[dict[str, object]]:
    rules, _errors = load_rules([])
    with request.app.state.engine.begin() as conn:  # rules_report may create the triage tables
        return rules_report(conn, rules)


@router.get("/rules")
async def rules_view(request: Request, user: User, done: str = "") -> Response:
    rows = await run_in_threadpool(_rules, request)
    return page(request, "rules.html", rules=rows, done=done[:80])


@router.post("/rules/outcomes")
def mark_outcome(request: Request, user: User, pcn: Annotated[str, Form(min_length=1, max_length=38)],
                 rule_id: Annotated[str, Form(min_length=1, max_length=64)],
                 correct: Annotated[str, Form(pattern="^(yes|no)$")]) -> Response:
    """A reviewed outcome: was the rule right for this claim? It moves the rule's accuracy and the gate."""
    known = {r.rule.id for r in load_rules([])[0].rules}
    if rule_id not in known:
        raise AppError(422, fields={"rule_id": "not a known rule"})
    with request.app.state.engine.begin() as conn:
        store_outcomes(conn, [{"claim_id": pcn.strip(), "rule_id": rule_id, "correct": correct == "yes", "line": 0}],
                       f"web:{user.username}")
        audit.record(conn, user, "outcome.mark", "rule", rule_id, after={"pcn": pcn.strip(), "correct": correct})
    return RedirectResponse(f"/rules?done=outcome+recorded+for+{rule_id}", status_code=303)
