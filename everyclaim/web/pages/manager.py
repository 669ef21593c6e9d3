"""The manager's day: dashboards, approvals, routing SOPs, the rules' accuracy (the automation gate) and
reviewed outcomes,
the SOP-adherence audit."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

import yaml
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
from everyclaim.work import approvals, audit, routing
from everyclaim.work import queue as work_queue
from everyclaim.work.sop_audit import STATES, sop_audit

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


# ------------------------------------------------------------------------------------------------ approvals
@router.get("/approvals")
def approvals_view(request: Request, user: User, status: str = "pending", done: str = "") -> Response:
    """Write-offs above the threshold and every refund, waiting for a manager; recent decisions below."""
    if status not in ("pending", "approved", "rejected", "auto_approved", "all"):
        raise AppError(422, fields={"status": "pending, approved, rejected, auto_approved or all"})
    with request.app.state.engine.connect() as conn:
        rows, total = approvals.list_approvals(conn, user, status=None if status == "all" else status, limit=200)
    return page(request, "approvals.html", approvals=rows, total=total, status=status, done=done[:80])


@router.post("/approvals/{approval_id}")
def decide_approval(request: Request, user: User, approval_id: int,
                    decision: Annotated[str, Form(pattern="^(approve|reject)$")],
                    note: Annotated[str, Form(max_length=2000)] = "") -> Response:
    with request.app.state.engine.begin() as conn:
        result = approvals.decide(conn, user, approval_id, decision == "approve", note)
    return RedirectResponse(f"/approvals?done={result.kind}+{result.pcn}+{result.status}", status_code=303)


# ------------------------------------------------------------------------------------------------ routing
@router.get("/routing")
def routing_view(request: Request, user: User, done: str = "", edit: str = "") -> Response:
    """The routing SOPs in order, each as the YAML a manager edits (data, validated on save)."""
    with request.app.state.engine.connect() as conn:
        stored = routing.list_rules(conn)
        counts = {q["queue"]: q for q in work_queue.queue_counts(conn)}
    rules = [{"position": s.position, "source": s.source, "rule": s.rule, "yaml": rule_yaml(s.rule),
              "open": counts.get(s.rule.queue, {}).get("open", 0)} for s in stored]  # fmt: skip
    current = next((r["yaml"] for r in rules if r["rule"].id == edit), NEW_RULE)
    return page(request, "routing.html", rules=rules, current=current, done=done[:80])


NEW_RULE = """id: sop.my_rule
description: What this rule routes, and why.
when: {payer: [], tier: [hinted], balance_min: 100}
queue: general
skill: ""
assign_to: ""
sop: {action: status_inquiry, within_business_days: 5, from: queued}
active: true
"""


def rule_yaml(rule: routing.RoutingRule) -> str:
    data = rule.model_dump(mode="json", by_alias=True, exclude_none=True)
    when = {k: v for k, v in data.get("when", {}).items() if v is not None}
    for k in ("balance_min", "balance_max"):  # dollars: a whole number shows as one ('50', not "'50'")
        if k in when and Decimal(when[k]) == Decimal(when[k]).to_integral_value():
            when[k] = int(Decimal(when[k]))
    data["when"] = when
    return yaml.safe_dump(data, sort_keys=False, default_flow_style=None, width=100)


@router.post("/routing")
def save_routing_rule(request: Request, user: User, rule: Annotated[str, Form(max_length=8000)]) -> Response:
    """Create or replace one rule from its YAML; the next ``queue refresh`` routes by it."""
    try:
        data = yaml.safe_load(rule)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        raise AppError(422, fields={"rule": f"{where}not valid YAML"}) from None
    if not isinstance(data, dict):
        raise AppError(422, fields={"rule": "a YAML mapping with id, description, when, queue ..."})
    with request.app.state.engine.begin() as conn:
        saved = routing.save_rule(conn, user, data)
    return RedirectResponse(f"/routing?done=rule+{saved.rule.id}+saved", status_code=303)


@router.post("/routing/{rule_id}/delete")
def delete_routing_rule(request: Request, user: User, rule_id: str) -> Response:
    with request.app.state.engine.begin() as conn:
        routing.delete_rule(conn, user, rule_id)
    return RedirectResponse(f"/routing?done=rule+{rule_id}+deleted", status_code=303)


# ------------------------------------------------------------------------------------------------ SOP audit
@router.get("/sop")
def sop_view(request: Request, user: User) -> Response:
    """Touches that deviate from the SOP or came late, and items overdue, per user, queue and rule."""
    with request.app.state.engine.connect() as conn:
        audit_result = sop_audit(conn, user, date.today())
    return page(request, "sop.html", a=audit_result, states=(*STATES, "deviating"))
