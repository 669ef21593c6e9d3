"""What a page or an API answer shows, assembled once for both (the HTML and the JSON never disagree).

Each function takes an open connection and the signed-in user, reads through the layers below
(``everyclaim.work``, ``everyclaim.ledger.story``, ``everyclaim.triage``, ``everyclaim.reports``)
and returns plain dicts. Nothing here decides a business rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa

from everyclaim.ledger import schema as t
from everyclaim.ledger.story import claim_story, decode_codes
from everyclaim.triage import engine as triage_engine
from everyclaim.web.errors import AppError
from everyclaim.work import approvals, audit
from everyclaim.work import queue as work_queue
from everyclaim.work import touches as work_touches
from everyclaim.work.errors import NotFound
from everyclaim.work.roles import can
from everyclaim.work.users import User

TIERS = ("hinted", "manual", "simple_fix", "no_opportunity")
ORDERS = tuple(work_queue.ORDERS)


@dataclass(frozen=True)
class QueueFilter:
    """The queue's filters as they arrive in the query string (validated here, not in SQL)."""

    queue: str = ""
    tier: str = ""
    payer: str = ""
    search: str = ""
    status: str = "open"
    order: str = "rank"
    page: int = 1
    mine: bool = False

    def __post_init__(self) -> None:
        problems = {}
        if self.tier and self.tier not in TIERS:
            problems["tier"] = f"one of {', '.join(TIERS)}"
        if self.order not in ORDERS:
            problems["order"] = f"one of {', '.join(ORDERS)}"
        if self.status not in ("open", "claimed", "resolved", "closed", "all"):
            problems["status"] = "open, claimed, resolved, closed or all"
        if not 1 <= self.page <= 100_000:
            problems["page"] = "1 or more"
        if len(self.search) > 40 or len(self.payer) > 40 or len(self.queue) > 64:
            problems["search"] = "at most 40 characters"
        if problems:
            raise AppError(422, fields=problems)

    def query(self, **change: object) -> str:
        """This filter as a query string, with ``change`` applied (for paging and sorting links)."""
        from urllib.parse import urlencode

        values: dict[str, object] = {k: getattr(self, k) for k in
                                     ("queue", "tier", "payer", "search", "status", "order", "page", "mine")}
        values |= change
        values["mine"] = "1" if values["mine"] else ""
        values["page"] = "" if values["page"] == 1 else values["page"]
        return urlencode({k: v for k, v in values.items() if v not in ("", None)})


def queue_page(conn: sa.Connection, user: User, f: QueueFilter, page_size: int, count_limit: int,
               today: date | None = None) -> dict[str, Any]:
    """A page of the user's queue (billers: their items and what they may claim; leads: everything).

    The total is counted up to ``count_limit`` (then shown as "2,000+"): a page stays fast however long
    the queue is."""
    counted = max(count_limit, f.page * page_size + 1)  # paging past the counted pages still shows a next
    items, total = work_queue.list_queue(
        conn, user, queue=f.queue or None, status=None if f.status == "all" else f.status, tier=f.tier or None,
        payer_id=f.payer or None, search=f.search or None, mine=f.mine, today=today,
        limit=page_size, offset=(f.page - 1) * page_size, order=f.order,
        count_limit=counted)  # fmt: skip
    claims = _claim_facts(conn, [i.claim_id for i in items if i.claim_id is not None])
    today = today or date.today()
    rows = []
    for item in items:
        facts = claims.get(item.claim_id or -1, {})
        served = facts.get("service_from")
        rows.append(item.as_json() | {
            "payer_name": facts.get("payer_name", ""),
            "age_days": (today - served).days if served else None,
            "deadline_days": (item.deadline - today).days if item.deadline else None,
            "held_by_me": item.claimed_by == user.id,
        })  # fmt: skip
    capped = total >= counted
    pages = max(1, -(-total // page_size))
    return {"items": rows, "total": total, "capped": capped, "page": f.page, "pages": pages, "page_size": page_size}


def _claim_facts(conn: sa.Connection, claim_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Payer name and date of service for a page of claims (one query)."""
    if not claim_ids:
        return {}
    c = t.claims.c
    rows = conn.execute(sa.select(c.id, c.payer_name, c.service_from).where(c.id.in_(claim_ids)))
    return {r.id: {"payer_name": r.payer_name, "service_from": r.service_from} for r in rows}


def claim_page(conn: sa.Connection, user: User, pcn: str, today: date | None = None) -> dict[str, Any]:
    """A claim's whole story for the claim page and ``/api/claims/{pcn}``; logs the view (audit)."""
    story = claim_story(conn, pcn)
    if story is None:
        raise AppError(404, "No claim with that patient control number.")
    decode_codes(story)
    story["triage"] = triage_engine.explain_claim(conn, pcn)
    try:
        item = work_queue.get_item_by_pcn(conn, pcn)
    except NotFound:
        item = None
    story["work_item"] = item.as_json() if item else None
    story["touches"] = [x.as_json() for x in work_touches.touches_for(conn, pcn=pcn)]
    story["approvals"] = [x.as_json() for x in approvals.list_approvals(conn, user, status=None, item_id=item.id)[0]
                          ] if item else []
    story["deadlines"] = deadlines(conn, story, today or date.today())
    story["can_touch"] = bool(item) and can(user, "touch.record") and item is not None and (
        item.status == "open" or (item.status == "claimed" and item.claimed_by == user.id))
    audit.record(conn, user, "claim.view", "claim", pcn)
    return story


def deadlines(conn: sa.Connection, story: dict[str, Any], today: date) -> list[dict[str, Any]]:
    """Filing and appeal deadlines from the payer's profile: the date and the days left (negative: past)."""
    claim = story.get("claim")
    if not claim:
        return []
    p = t.payer_profiles.c
    prof = conn.execute(sa.select(p.timely_filing_days, p.appeal_days).where(p.payer_id == claim["payer_id"])).first()
    out = []
    served = claim.get("service_from")
    if prof and prof.timely_filing_days and served:
        due = served + timedelta(days=int(prof.timely_filing_days))
        out.append({"kind": "timely filing", "from": "date of service", "due": due, "days_left": (due - today).days})
    denials = [r for r in story.get("remittances", []) if r.get("denied") and not r.get("is_reversal")]
    if prof and prof.appeal_days and denials:
        denied_on = max((r.get("payment_date") or r.get("received_date") for r in denials), default=None)
        if denied_on:
            due = denied_on + timedelta(days=int(prof.appeal_days))
            out.append({"kind": "appeal", "from": "latest denial", "due": due, "days_left": (due - today).days})
    item = story.get("work_item")
    if item and item.get("sop_due"):
        due = date.fromisoformat(item["sop_due"])
        out.append({"kind": f"SOP: {item.get('sop_action') or 'next step'}", "from": "routing rule", "due": due,
                    "days_left": (due - today).days})
    return sorted(out, key=lambda d: d["due"])


AUTOMATIC_TIERS = ("no_opportunity", "simple_fix")


def dashboard(conn: sa.Connection) -> dict[str, Any]:
    """The manager's numbers: open A/R, tiers and automation share, KPIs, the aging x dollar heat map,
    denial root causes, payer mix and the queues. Each part is ``None`` when its data is missing."""
    from everyclaim.reports import ar

    run = triage_engine.latest_run(conn)
    triage = None
    if run is not None:
        as_of = conn.execute(sa.select(triage_engine.runs.c.as_of).where(triage_engine.runs.c.id == run)).scalar()
        summary = triage_engine.summarise(conn, run, as_of).as_json()
        total = sum(v["claims"] for v in summary["by_tier"].values()) or 1
        automated = sum(summary["by_tier"].get(k, {"claims": 0})["claims"] for k in AUTOMATIC_TIERS)
        summary["automation_share"] = round(automated / total, 4)
        triage = summary
    build = ar.buildup(conn)
    return {
        "open_ar": ar.open_ar(conn),
        "triage": triage,
        "buildup": build.as_json() if build else None,
        "denials": ar.denial_categories(conn)[:10],
        "queues": work_queue.queue_counts(conn),
        "kpis": _kpis(conn),
        "aging_labels": [a for a, _, _ in ar.AGING],
        "dollar_labels": [d for d, _, _ in ar.DOLLARS],
    }


KPI_TILES = (("days_in_ar", "Days in A/R", "days", "open A/R over average daily charges"),
             ("denial_rate", "Denial rate", "pct", "of adjudicated claims, last {w} days"),
             ("net_collection_rate", "Net collection rate", "pct", "paid of what was collectible, last {w} days"),
             ("first_pass_acceptance_rate", "First-pass acceptance", "pct", "claims accepted on first submission"),
             ("pct_ar_over_90", "A/R over 90 days", "pct", "share of open A/R dollars"))


def _kpis(conn: sa.Connection) -> dict[str, Any] | None:
    """The leaders' KPIs (``everyclaim.reports.kpis``), with the tiles the dashboard shows first."""
    from everyclaim.reports import kpis

    k = kpis.kpis(conn)
    if k is None:
        return None
    out = k.as_json()
    tiles = []
    for key, label, unit, note in KPI_TILES:
        value = out.get(key)
        shown = "-" if value is None else (f"{float(value):.0%}" if unit == "pct" else f"{float(value):.0f}")
        tiles.append({"label": label, "value": shown, "note": note.format(w=k.window_days)})
    months = sorted(out["root_causes_by_month"])[-6:]
    causes = sorted({c["root_cause"] for m in months for c in out["root_causes_by_month"][m]})
    grid = {m: {c["root_cause"]: c for c in out["root_causes_by_month"][m]} for m in months}
    out |= {"tiles": tiles, "months": months, "causes": causes, "cause_grid": grid}
    return out
