"""Routing SOPs: conditions -> queue / skill / user, plus what must happen by when. Rules are data.

The built-in pack (``sops/builtin.yaml``) is loaded like any user's pack (:func:`load_sops`) and
installed into ``routing_rules``, where managers edit them (:func:`save_rule`). ``queue refresh`` compiles
the active rules, in position order, into one CASE per route column (:func:`compile_routes`), so routing
all open claims is part of one set-based statement. Assignment (:func:`assign`) then gives unassigned open
items to users who hold the item's skill, within each user's daily capacity (the open items a user may
hold at once, topped up by every refresh), best items first.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import sqlalchemy as sa
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from everyclaim.work import audit
from everyclaim.work.errors import Invalid, NotFound
from everyclaim.work.roles import require
from everyclaim.work.schema import routing_rules, users, work_items
from everyclaim.work.sqlfuncs import plus_days
from everyclaim.work.users import SKILL, User

BUILTIN = Path(__file__).with_name("sops") / "builtin.yaml"
WORKER_ROLES = ("biller", "manager")
rr, w = routing_rules.c, work_items.c


class Conditions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    payer: list[str] | None = Field(None, description="Payer ids (any of).")
    financial_class: list[str] | None = Field(None, description="Payer financial classes (any of).")
    tier: list[str] | None = Field(None, description="Triage tiers (any of).")
    action: list[str] | None = Field(None, description="Triage actions (any of).")
    root_cause: list[str] | None = Field(None, description="Triage root causes (any of).")
    balance_min: Decimal | None = Field(None, description="Balance at least this many dollars.")
    balance_max: Decimal | None = Field(None, description="Balance at most this many dollars.")
    deadline_within_days: int | None = Field(None, ge=0, description="Next filing/appeal deadline within N days.")


class Sop(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    action: str = Field(description="The touch action the SOP expects.")
    within_business_days: int = Field(ge=1, le=260, description="How many business days it may take.")
    start: Literal["denial", "queued"] = Field("queued", alias="from",
                                               description="Counted from the denial or from entering the queue.")


class RoutingRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    id: str = Field(pattern=r"^[a-z0-9_.-]{1,64}$")
    description: str = Field(min_length=1)
    when: Conditions = Conditions()
    queue: str = Field(pattern=r"^[a-z0-9_]{1,32}$")
    skill: str = ""
    assign_to: str = ""
    sop: Sop | None = None
    active: bool = True

    def model_post_init(self, _context: Any) -> None:
        if self.skill and not SKILL.match(self.skill):
            raise ValueError(f"skill {self.skill!r}: lower-case letters, digits and _")


@dataclass(frozen=True, slots=True)
class StoredRule:
    position: int
    rule: RoutingRule
    source: str
    updated_at: datetime


def load_sops(paths: Sequence[Path] = (BUILTIN,)) -> tuple[list[RoutingRule], list[str]]:
    """Rules from YAML packs, in file order, and the errors (``file: rule n (id): message``)."""
    rules: list[RoutingRule] = []
    errors: list[str] = []
    for path in paths:
        try:
            doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            errors.append(f"{path}: cannot read: {exc}")
            continue
        for i, raw in enumerate(doc.get("rules") or [], 1):
            try:
                rules.append(RoutingRule.model_validate(raw))
            except ValidationError as exc:
                where = raw.get("id", "?") if isinstance(raw, dict) else "?"
                errors.extend(f"{path}: rule {i} ({where}): {'.'.join(map(str, e['loc']))}: {e['msg']}"
                              for e in exc.errors())  # fmt: skip
    seen: set[str] = set()
    for r in rules:
        if r.id in seen:
            errors.append(f"duplicate rule id {r.id}")
        seen.add(r.id)
    return rules, errors


def _row(rule: RoutingRule, position: int, source: str, now: datetime, actor: User | None) -> dict[str, Any]:
    sop = rule.sop
    return {"id": rule.id, "position": position, "description": rule.description,
            "conditions": rule.when.model_dump_json(exclude_none=True), "queue": rule.queue, "skill": rule.skill,
            "assign_to": rule.assign_to, "sop_action": sop.action if sop else "",
            "sop_business_days": sop.within_business_days if sop else None, "sop_from": sop.start if sop else "",
            "active": rule.active, "source": source, "updated_at": now, "updated_by": actor.id if actor else None}  # fmt: skip


def _rule(row: Any) -> StoredRule:
    sop = None
    if row.sop_action:
        sop = Sop.model_validate({"action": row.sop_action, "within_business_days": row.sop_business_days,
                                  "from": row.sop_from or "queued"})  # fmt: skip
    rule = RoutingRule(id=row.id, description=row.description, when=Conditions.model_validate_json(row.conditions),
                       queue=row.queue, skill=row.skill, assign_to=row.assign_to, sop=sop, active=bool(row.active))  # fmt: skip
    return StoredRule(row.position, rule, row.source, row.updated_at)


def install_builtin(conn: sa.Connection, rules: Iterable[RoutingRule] | None = None, *,
                    now: datetime | None = None) -> int:
    """Insert the built-in rules the table does not have yet (edited rules are left alone); returns how many."""
    if rules is None:
        rules, errors = load_sops()
        if errors:
            raise Invalid("; ".join(errors))
    have = set(conn.execute(sa.select(rr.id)).scalars())
    top = conn.execute(sa.select(sa.func.coalesce(sa.func.max(rr.position), 0))).scalar_one()
    now = now or datetime.now(UTC)
    rows = [_row(r, top + 10 * (i + 1), "builtin", now, None) for i, r in enumerate(x for x in rules if x.id not in have)]
    if rows:
        conn.execute(sa.insert(routing_rules), rows)
    return len(rows)


def queue_names(conn: sa.Connection) -> list[str]:
    """The queues the routing rules send work to, and the default one (one small query, no rule parsing:
    the queue page shows them on every view)."""
    named = conn.execute(sa.select(rr.queue).where(rr.queue != "").distinct()).scalars()
    return sorted({*named, "general"})


def list_rules(conn: sa.Connection) -> list[StoredRule]:
    return [_rule(r) for r in conn.execute(sa.select(routing_rules).order_by(rr.position, rr.id))]


def save_rule(conn: sa.Connection, actor: User, rule: RoutingRule | dict[str, Any], *, position: int | None = None,
              now: datetime | None = None) -> StoredRule:
    """Create or replace a rule (managers). A new rule without a position goes before the last one
    (the catch-all default stays last)."""
    require(actor, "routing.edit")
    try:
        rule = rule if isinstance(rule, RoutingRule) else RoutingRule.model_validate(rule)
    except ValidationError as exc:
        raise Invalid("; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())) from None
    now = now or datetime.now(UTC)
    old = conn.execute(sa.select(routing_rules).where(rr.id == rule.id)).first()
    if position is None:
        if old is not None:
            position = old.position
        else:
            last = conn.execute(sa.select(sa.func.max(rr.position))).scalar()
            position = (last - 5) if last is not None else 10
    row = _row(rule, position, "user", now, actor)
    if old is None:
        conn.execute(sa.insert(routing_rules).values(row))
    else:
        conn.execute(sa.update(routing_rules).where(rr.id == rule.id).values(row))
    audit.record(conn, actor, "routing.save", "routing_rule", rule.id,
                 before=_rule(old).rule.model_dump(mode="json") if old else None,
                 after=rule.model_dump(mode="json") | {"position": position}, now=now)  # fmt: skip
    return _rule(conn.execute(sa.select(routing_rules).where(rr.id == rule.id)).one())


def delete_rule(conn: sa.Connection, actor: User, rule_id: str, *, now: datetime | None = None) -> None:
    require(actor, "routing.edit")
    old = conn.execute(sa.select(routing_rules).where(rr.id == rule_id)).first()
    if old is None:
        raise NotFound(f"no routing rule {rule_id}")
    conn.execute(sa.delete(routing_rules).where(rr.id == rule_id))
    audit.record(conn, actor, "routing.delete", "routing_rule", rule_id,
                 before=_rule(old).rule.model_dump(mode="json"), now=now)  # fmt: skip


# --------------------------------------------------------------------------------------------------
# Compiling rules to SQL
# --------------------------------------------------------------------------------------------------
def condition(when: Conditions, x: Any) -> sa.ColumnElement[bool]:
    """The SQL truth of ``when`` over the columns ``x`` of the work subquery."""
    parts: list[sa.ColumnElement[bool]] = []
    for field, col in (("payer", x.payer_id), ("financial_class", x.financial_class), ("tier", x.tier),
                       ("action", x.action), ("root_cause", x.root_cause)):  # fmt: skip
        values = getattr(when, field)
        if values is not None:
            parts.append(col.in_(values))
    if when.balance_min is not None:
        parts.append(x.balance_cents >= int(when.balance_min * 100))
    if when.balance_max is not None:
        parts.append(x.balance_cents <= int(when.balance_max * 100))
    if when.deadline_within_days is not None:
        parts.append(x.days_left.is_not(None) & (x.days_left <= when.deadline_within_days))
    return sa.and_(sa.true(), *parts)


def compile_routes(rules: Sequence[RoutingRule], x: Any, as_of: date) -> dict[str, sa.ColumnElement[Any]]:
    """One CASE per route column: the first active rule whose conditions hold decides."""
    active = [r for r in rules if r.active]
    if not active:
        return {}
    conds = [condition(r.when, x) for r in active]

    def case(value: Any, default: Any) -> sa.ColumnElement[Any]:
        return sa.case(*((c, value(r)) for c, r in zip(conds, active, strict=True)), else_=default)

    def start(r: RoutingRule) -> Any:
        if r.sop is None:
            return sa.cast(sa.null(), sa.Date)
        if r.sop.start == "denial":
            return sa.case((x.days_since_denial.is_not(None), plus_days(as_of, -x.days_since_denial)), else_=None)
        return plus_days(as_of, 0)  # a date on both databases

    return {
        "queue": case(lambda r: sa.literal(r.queue), sa.literal("general")),
        "skill": case(lambda r: sa.literal(r.skill), sa.literal("")),
        "routing_rule_id": case(lambda r: sa.literal(r.id), sa.literal("")),
        "assign_to": case(lambda r: sa.literal(r.assign_to), sa.literal("")),
        "sop_action": case(lambda r: sa.literal(r.sop.action if r.sop else ""), sa.literal("")),
        "sop_from": case(lambda r: sa.literal(r.sop.start if r.sop else ""), sa.literal("")),
        "sop_days": case(lambda r: sa.literal(r.sop.within_business_days if r.sop else None, sa.Integer), sa.null()),
        "sop_start": sa.type_coerce(case(start, sa.cast(sa.null(), sa.Date)), sa.Date),
    }


def active_rules(conn: sa.Connection) -> list[RoutingRule]:
    """The stored rules (the built-in pack is installed on first use)."""
    if conn.execute(sa.select(sa.func.count()).select_from(routing_rules)).scalar_one() == 0:
        install_builtin(conn)
    return [s.rule for s in list_rules(conn) if s.rule.active]


# --------------------------------------------------------------------------------------------------
# Business days: a small calendar table makes "N business days after" a join on both databases
# --------------------------------------------------------------------------------------------------
def calendar_table() -> sa.Table:
    return sa.Table("_work_calendar", sa.MetaData(), sa.Column("day", sa.Date, primary_key=True),
                    sa.Column("n", sa.Integer, nullable=False, index=True), sa.Column("is_bday", sa.Boolean, nullable=False),
                    prefixes=["TEMPORARY"])  # fmt: skip


def calendar_rows(first: date, last: date, holidays: Iterable[date] = ()) -> list[dict[str, Any]]:
    """Every day from ``first`` to ``last`` with ``n`` = business days up to it (weekends and holidays
    carry the previous count)."""
    off = set(holidays)
    rows, n, day = [], 0, first
    while day <= last:
        is_bday = day.weekday() < 5 and day not in off
        n += is_bday
        rows.append({"day": day, "n": n, "is_bday": is_bday})
        day += timedelta(days=1)
    return rows


def add_business_days(day: date, n: int, holidays: Iterable[date] = ()) -> date:
    """Python twin of the calendar join in ``queue refresh`` (for tests and single values)."""
    rows = calendar_rows(day, day + timedelta(days=n * 2 + 14), holidays)
    start = rows[0]["n"]
    return next(r["day"] for r in rows if r["is_bday"] and r["n"] == start + n)


# --------------------------------------------------------------------------------------------------
# Assignment within capacity and skills
# --------------------------------------------------------------------------------------------------
def _remaining_capacity(conn: sa.Connection) -> dict[int, tuple[User, int]]:
    held = (sa.select(w.assigned_user_id, sa.func.count().label("n")).where(w.status.in_(("open", "claimed")))
            .group_by(w.assigned_user_id).subquery())  # fmt: skip
    stmt = (sa.select(users, sa.func.coalesce(held.c.n, 0).label("held"))
            .outerjoin(held, held.c.assigned_user_id == users.c.id)
            .where(users.c.active.is_(True), users.c.role.in_(WORKER_ROLES)).order_by(users.c.id))  # fmt: skip
    out: dict[int, tuple[User, int]] = {}
    for row in conn.execute(stmt):
        user = User(row.id, row.username, row.display_name, row.role, tuple(s for s in row.skills.split(",") if s),
                    row.daily_capacity, True)  # fmt: skip
        out[user.id] = (user, max(0, row.daily_capacity - row.held))
    return out


def assign(conn: sa.Connection, *, now: datetime | None = None) -> int:
    """Give unassigned open items to users (best items first), within capacity and skills; returns how many.

    Items whose rule names a user (biller or manager) go to that user first, within their capacity. Then
    billers get the rest: per skill
    (skilled pools before the no-skill pool), the pool's items in rank order are cut into consecutive
    blocks, one per user holding the skill, as large as the user's remaining capacity."""
    now = now or datetime.now(UTC)
    capacity = _remaining_capacity(conn)
    if not capacity:
        return 0
    pools = conn.execute(sa.select(w.skill).where(w.status == "open", w.assigned_user_id.is_(None))
                         .group_by(w.skill)).scalars().all()  # fmt: skip
    by_name = {u.username: uid for uid, (u, _) in capacity.items()}
    total = 0
    for rule in active_rules(conn):  # rule-named users first
        uid = by_name.get(rule.assign_to) if rule.assign_to else None
        if uid is not None:
            done = _assign_block(conn, [(uid, capacity[uid][1])], w.routing_rule_id == rule.id, now)
            capacity[uid] = (capacity[uid][0], capacity[uid][1] - done)
            total += done
    for skill in sorted(pools, key=lambda s: (s == "", s)):
        eligible = [(uid, left) for uid, (u, left) in capacity.items()
                    if left > 0 and u.role == "biller" and (not skill or skill in u.skills)]  # fmt: skip
        done = _assign_block(conn, eligible, w.skill == skill, now)
        total += done
        for uid, left in eligible:  # blocks were cut in this order
            take = min(left, done)
            capacity[uid] = (capacity[uid][0], left - take)
            done -= take
    return total


def _assign_block(conn: sa.Connection, users_left: list[tuple[int, int]], where: sa.ColumnElement[bool],
                  now: datetime) -> int:
    """Assign the pool's unassigned open items, in rank order, to consecutive blocks of ``users_left``."""
    if not users_left:
        return 0
    slots = sa.Table("_work_slots", sa.MetaData(), sa.Column("user_id", sa.BigInteger), sa.Column("lo", sa.Integer),
                     sa.Column("hi", sa.Integer), prefixes=["TEMPORARY"])  # fmt: skip
    ranked = sa.Table("_work_ranked", sa.MetaData(), sa.Column("id", sa.BigInteger, primary_key=True),
                      sa.Column("pos", sa.Integer), prefixes=["TEMPORARY"])  # fmt: skip
    for t in (slots, ranked):
        t.drop(conn, checkfirst=True)
        t.create(conn)
    rows, lo = [], 1
    for uid, left in users_left:
        if left > 0:
            rows.append({"user_id": uid, "lo": lo, "hi": lo + left - 1})
            lo += left
    if not rows:
        return 0
    conn.execute(sa.insert(slots), rows)
    pos = sa.func.row_number().over(order_by=(w.rank, w.id))
    pick = sa.select(w.id, pos).where(w.status == "open", w.assigned_user_id.is_(None), where)
    conn.execute(sa.insert(ranked).from_select(["id", "pos"], pick))
    who = (sa.select(slots.c.user_id).select_from(ranked.join(slots, ranked.c.pos.between(slots.c.lo, slots.c.hi)))
           .where(ranked.c.id == w.id).scalar_subquery())  # fmt: skip
    inside = sa.select(ranked.c.id).join(slots, ranked.c.pos.between(slots.c.lo, slots.c.hi))
    n = conn.execute(sa.update(work_items).where(w.id.in_(inside)).values(assigned_user_id=who, updated_at=now)).rowcount
    for t in (slots, ranked):
        t.drop(conn)
    return n


def rules_as_json(rules: Iterable[StoredRule]) -> list[dict[str, Any]]:
    return [{"position": s.position, "source": s.source, **json.loads(s.rule.model_dump_json(by_alias=True))}
            for s in rules]  # fmt: skip
