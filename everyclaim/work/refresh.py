"""``queue refresh``: work items from the latest triage run, set-based, without rewriting unchanged rows.

One pass of SQL statements over all open claims at once (after stale claims went back to the queue:
:func:`everyclaim.work.queue.release_stale`):

1. *source*: the run's staff work (tiers ``hinted`` and ``manual``) with its deadline, rank and route,
   materialised into a temporary table;
2. *update* the items whose source row differs (``IS DISTINCT FROM`` over the compared columns); an item
   that was closed or resolved and changed comes back ``open``;
3. *insert* the claims that have no item yet;
4. *reopen* closed items whose claim is open again; *close* open items whose claim left the work
   (paid, written off, automated);
5. *assign* unassigned open items within each user's capacity and skills (:func:`routing.assign`).

Routing (queue, skill, SOP and its due date) is part of step 1: the active routing rules compile to
CASE expressions (:mod:`everyclaim.work.routing`).

``rank`` orders the work (lower first) and depends on the item alone, so one claim's change does not
rewrite the others: claims whose next deadline (filing or appeal) is 0-14 days away come first, then by
expected recovery (absolute: a refund is work too).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from everyclaim.triage import engine as triage
from everyclaim.triage.features import triage_features
from everyclaim.work import audit
from everyclaim.work.errors import NotFound
from everyclaim.work.holidays import load_holidays
from everyclaim.work.queue import release_stale
from everyclaim.work.routing import (
    RoutingRule,
    active_rules,
    assign,
    calendar_rows,
    calendar_table,
    compile_routes,
)
from everyclaim.work.schema import work_items
from everyclaim.work.settings import WorkSettings
from everyclaim.work.sqlfuncs import least, plus_days

STAFF_TIERS = ("hinted", "manual")
URGENT_DAYS = 14
URGENT_BONUS = 10**13  # larger than any expected recovery in cents
COMPARED = ("claim_id", "payer_id", "tier", "action", "root_cause", "rule_id", "hint", "balance_cents",
            "expected_recovery_cents", "deadline", "rank", "queue", "skill", "routing_rule_id", "sop_action",
            "sop_due")  # fmt: skip
DEFAULT_QUEUE = "general"

w = work_items.c


@dataclass
class RefreshResult:
    run_id: int
    as_of: date
    source: int = 0
    inserted: int = 0
    updated: int = 0
    reopened: int = 0
    closed: int = 0
    assigned: int = 0
    released: int = 0  # stale claims returned to the queue
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def unchanged(self) -> int:
        return self.source - self.inserted - self.updated

    def as_json(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "as_of": self.as_of.isoformat(), "source": self.source,
                "inserted": self.inserted, "updated": self.updated, "unchanged": self.unchanged,
                "reopened": self.reopened, "closed": self.closed, "assigned": self.assigned,
                "released": self.released,
                "timings": {k: round(v, 3) for k, v in self.timings.items()}}  # fmt: skip


def _source_table() -> sa.Table:
    cols = [sa.Column(c.name, c.type, primary_key=c.name == "pcn") for c in work_items.c
            if c.name in COMPARED or c.name in ("pcn", "run_id")]  # fmt: skip
    extra = [sa.Column("assign_to", sa.String), sa.Column("sop_from", sa.String), sa.Column("sop_days", sa.Integer),
             sa.Column("sop_start", sa.Date)]  # fmt: skip
    return sa.Table("_work_source", sa.MetaData(), *cols, *extra, prefixes=["TEMPORARY"])


def source_select(run_id: int, as_of: date, rules: list[RoutingRule], calendar: sa.Table | None = None) -> sa.Select[Any]:
    """The work items the run asks for (one row per claim), with deadline, rank, route and SOP due day
    (``sop_start`` plus ``sop_days`` business days, joined through ``calendar``; see
    :func:`everyclaim.work.routing.business_calendar`)."""
    x = work_subquery(run_id).c
    route = compile_routes(rules, x, as_of)
    urgent = sa.case(((x.days_left.is_not(None)) & (x.days_left <= URGENT_DAYS), 0), else_=1)
    rank = urgent * sa.literal(URGENT_BONUS, sa.BigInteger) - sa.func.abs(x.expected_recovery_cents)
    routed = sa.select(
        x.pcn, sa.literal(run_id).label("run_id"), x.claim_id, x.payer_id, x.tier, x.action, x.root_cause,
        x.rule_id, x.hint, x.balance_cents, x.expected_recovery_cents, plus_days(as_of, x.days_left).label("deadline"),
        rank.label("rank"),
        route.get("queue", sa.literal(DEFAULT_QUEUE)).label("queue"),
        route.get("skill", sa.literal("")).label("skill"),
        route.get("routing_rule_id", sa.literal("")).label("routing_rule_id"),
        route.get("sop_action", sa.literal("")).label("sop_action"),
        route.get("assign_to", sa.literal("")).label("assign_to"),
        route.get("sop_from", sa.literal("")).label("sop_from"),
        route.get("sop_days", sa.cast(sa.null(), sa.Integer)).label("sop_days"),
        route.get("sop_start", sa.cast(sa.null(), sa.Date)).label("sop_start"),  # typed: PostgreSQL joins it to a date
    ).subquery("routed")  # fmt: skip
    cols = [routed.c[name] for name in routed.c.keys()]
    if calendar is None:
        return sa.select(*cols, sa.null().label("sop_due"))
    c1, c2 = calendar.alias("c1"), calendar.alias("c2")
    return (sa.select(*cols, c2.c.day.label("sop_due"))
            .select_from(routed.outerjoin(c1, c1.c.day == routed.c.sop_start)
                         .outerjoin(c2, (c2.c.n == c1.c.n + routed.c.sop_days) & c2.c.is_bday)))  # fmt: skip


def work_subquery(run_id: int) -> sa.Subquery:
    """``work``: the run's staff rows with the features routing needs and ``days_left`` to the next
    (filing or appeal) deadline that has not passed."""
    r, f = triage.results.c, triage_features.c
    upcoming = [sa.case((d >= 0, d), else_=None) for d in (f.days_to_filing_deadline, f.days_to_appeal_deadline)]
    return (
        sa.select(r.pcn, r.claim_id, r.payer_id, r.tier, r.action, r.root_cause, r.rule_id, r.hint, r.balance_cents,
                  r.expected_recovery_cents, least(*upcoming).label("days_left"), f.days_since_denial,
                  f.financial_class)
        .select_from(triage.results.outerjoin(triage_features, f.atb_row_id == r.atb_row_id))
        .where(r.run_id == run_id, r.tier.in_(STAFF_TIERS))
        .subquery("work")
    )  # fmt: skip


def business_calendar(conn: sa.Connection, run_id: int, as_of: date, holidays: Iterable[date] = ()) -> sa.Table:
    """A temporary calendar from the earliest denial of the run's claims to well past ``as_of``, so an SOP's
    due day is a join (business days: ``calendar_rows``, skipping weekends and ``holidays``)."""
    r, f = triage.results.c, triage_features.c
    oldest = conn.execute(sa.select(sa.func.max(f.days_since_denial))
                          .select_from(triage.results.join(triage_features, f.atb_row_id == r.atb_row_id))
                          .where(r.run_id == run_id)).scalar()  # fmt: skip
    cal = calendar_table()
    cal.drop(conn, checkfirst=True)
    cal.create(conn)
    conn.execute(sa.insert(cal), calendar_rows(as_of - timedelta(days=max(int(oldest or 0), 0) + 1),
                                               as_of + timedelta(days=400), holidays))  # fmt: skip
    return cal


def _count(conn: sa.Connection, stmt: sa.Executable) -> int:
    """Rows an INSERT ... SELECT wrote (SQLAlchemy 2.1 keeps the count only when asked)."""
    return conn.execute(stmt.execution_options(preserve_rowcount=True)).rowcount


def refresh(conn: sa.Connection, *, run_id: int | None = None, now: datetime | None = None,
            rules: list[RoutingRule] | None = None, settings: WorkSettings | None = None) -> RefreshResult:
    """Bring ``work_items`` in line with triage run ``run_id`` (default: the latest) and route it by
    ``rules`` (default: the stored routing rules); stale claims go back to the queue first
    (:func:`everyclaim.work.queue.release_stale`). Never commits."""
    now = now or datetime.now(UTC)
    settings = settings or WorkSettings.from_env()
    run_id = run_id or triage.latest_run(conn)
    if run_id is None:
        raise NotFound("no triage run yet: run `everyclaim triage` first")
    as_of = conn.execute(sa.select(triage.runs.c.as_of).where(triage.runs.c.id == run_id)).scalar()
    if as_of is None:
        raise NotFound(f"no triage run {run_id}")
    result = RefreshResult(run_id=run_id, as_of=as_of)
    clock = time.perf_counter()
    result.released = release_stale(conn, settings.lease_minutes, now=now)

    def lap(stage: str) -> None:
        nonlocal clock
        result.timings[stage] = time.perf_counter() - clock
        clock = time.perf_counter()

    src = _source_table()
    src.drop(conn, checkfirst=True)
    src.create(conn)
    calendar = business_calendar(conn, run_id, as_of, load_holidays(settings.holidays))
    sel = source_select(run_id, as_of, active_rules(conn) if rules is None else rules, calendar)
    result.source = _count(conn, sa.insert(src).from_select([c.name for c in sel.selected_columns], sel))
    calendar.drop(conn)
    lap("source")
    s = src.c
    # a due date counted from entering the queue is kept while the item stays under the same rule
    keep_due = (s.sop_from == "queued") & (w.routing_rule_id == s.routing_rule_id)
    changed = sa.or_(*(w[c].is_distinct_from(s[c]) for c in COMPARED if c != "sop_due"),
                     ~keep_due & w.sop_due.is_distinct_from(s.sop_due))
    moved = w.queue.is_distinct_from(s.queue) | w.skill.is_distinct_from(s.skill)
    values: dict[str, Any] = {c: s[c] for c in COMPARED}
    values |= {"run_id": s.run_id, "updated_at": now,
               "status": sa.case((w.status.in_(("closed", "resolved")), "open"), else_=w.status),
               "assigned_user_id": sa.case((moved, None), else_=w.assigned_user_id),
               "sop_due": sa.case((keep_due, w.sop_due), else_=s.sop_due)}  # fmt: skip
    result.updated = conn.execute(sa.update(work_items).where(w.pcn == s.pcn, changed).values(values)).rowcount
    lap("update")
    cols = ["pcn", "run_id", *COMPARED]
    new = sa.select(*(s[c] for c in cols), sa.literal("open"), sa.literal(now, w.created_at.type),
                    sa.literal(now, w.updated_at.type)).where(~sa.exists().where(w.pcn == s.pcn))  # fmt: skip
    result.inserted = _count(conn, sa.insert(work_items).from_select([*cols, "status", "created_at", "updated_at"], new))
    lap("insert")
    in_src = sa.exists().where(s.pcn == w.pcn)
    result.reopened = conn.execute(sa.update(work_items).where(w.status == "closed", in_src)
                                   .values(status="open", updated_at=now)).rowcount  # fmt: skip
    result.closed = conn.execute(sa.update(work_items).where(w.status.in_(("open", "claimed")), ~in_src)
                                 .values(status="closed", claimed_by=None, claimed_at=None, updated_at=now)).rowcount  # fmt: skip
    lap("close")
    src.drop(conn)
    result.assigned = assign(conn, now=now)
    lap("assign")
    audit.record(conn, None, "queue.refresh", "triage_run", run_id, after=result.as_json(), now=now)
    return result
