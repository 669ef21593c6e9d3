"""Work items from triage (queue refresh), claim_next under concurrency, touches; SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from everyclaim.work import queue as q
from everyclaim.work import touches as tc
from everyclaim.work.errors import Conflict, Forbidden, Invalid, NotFound
from everyclaim.work.refresh import refresh
from everyclaim.work.schema import audit_log, touches, users, work_items
from everyclaim.work.settings import WorkSettings
from tests.work_data import AS_OF, clear_triage, make_user, random_rows, result_row, write_run

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
TODAY = NOW.date()


@pytest.fixture
def db(engine: sa.Engine) -> sa.Engine:
    with engine.begin() as conn:
        clear_triage(conn)
    return engine


def _items(conn: sa.Connection) -> dict[str, sa.Row]:
    return {r.pcn: r for r in conn.execute(sa.select(work_items))}


def test_refresh_builds_staff_work_only_and_ranks_deadlines_first(db: sa.Engine) -> None:
    rows = [result_row("A", balance=90_000), result_row("B", balance=5_000, tier="manual", action="review"),
            result_row("C", tier="simple_fix"), result_row("D", tier="no_opportunity", action="write_off"),
            result_row("E", balance=1_000)]  # fmt: skip
    rows[4]["features"] = {"days_to_appeal_deadline": 5, "days_to_filing_deadline": 40}
    rows[0]["features"] = {"days_to_appeal_deadline": -3}  # passed: no upcoming deadline
    with db.begin() as conn:
        write_run(conn, rows)
        res = refresh(conn, now=NOW, rules=[])
        items = _items(conn)
    assert (res.source, res.inserted, res.updated, res.closed) == (3, 3, 0, 0)
    assert sorted(items) == ["A", "B", "E"]
    assert items["E"].deadline == AS_OF + timedelta(days=5) and items["A"].deadline is None
    assert sorted(items, key=lambda p: items[p].rank) == ["E", "A", "B"]  # urgent first, then by expected $
    assert {r.status for r in items.values()} == {"open"}


def test_refresh_leaves_unchanged_rows_alone_and_closes_what_left(db: sa.Engine) -> None:
    rows = random_rows(60, seed=3)
    with db.begin() as conn:
        write_run(conn, rows)
        first = refresh(conn, now=NOW, rules=[])
        before = _items(conn)
    rows2 = [dict(r) for r in rows if r["pcn"] != "P00001"]
    rows2[5] = dict(rows2[5], balance_cents=rows2[5]["balance_cents"] + 1)
    later = NOW + timedelta(days=1)
    with db.begin() as conn:
        write_run(conn, rows)
        again = refresh(conn, now=later, rules=[])
        assert (again.inserted, again.updated, again.closed) == (0, 0, 0)
        assert all(r.updated_at == before[p].updated_at for p, r in _items(conn).items())
        write_run(conn, rows2)
        third = refresh(conn, now=later, rules=[])
        after = _items(conn)
    staff = {r["pcn"] for r in rows if r["tier"] in ("hinted", "manual")}
    assert first.inserted == len(staff) == len(before)
    changed = rows2[5]["pcn"]
    assert third.updated == (1 if changed in staff else 0)
    assert third.closed == (1 if "P00001" in staff else 0)
    untouched = [p for p in staff if p not in (changed, "P00001")]
    assert all(after[p].updated_at == before[p].updated_at for p in untouched)


def test_claim_next_respects_rank_skills_assignment_and_follow_up(db: sa.Engine) -> None:
    with db.begin() as conn:
        write_run(conn, [result_row("A", balance=1_000), result_row("B", balance=50_000),
                         result_row("C", balance=9_000)])  # fmt: skip
        refresh(conn, now=NOW, rules=[])
        bob = make_user(conn, "bob")
        amy = make_user(conn, "amy", skills=("appeals",))
        aud = make_user(conn, "aud", "auditor")
        conn.execute(sa.update(work_items).where(work_items.c.pcn == "B").values(skill="appeals"))
        conn.execute(sa.update(work_items).where(work_items.c.pcn == "A").values(follow_up_on=TODAY + timedelta(days=3)))
    first = q.claim_next(db, bob, now=NOW)
    assert first is not None and first.pcn == "C"  # B needs a skill bob lacks, A waits for its follow-up
    assert q.claim_next(db, bob, now=NOW) is None
    second = q.claim_next(db, amy, now=NOW)
    assert second is not None and second.pcn == "B" and second.claimed_by == amy.id
    later = q.claim_next(db, bob, today=TODAY + timedelta(days=3), now=NOW)
    assert later is not None and later.pcn == "A"
    with pytest.raises(Forbidden):
        q.claim_next(db, aud, now=NOW)
    with db.connect() as conn:
        claims = conn.execute(sa.select(audit_log.c.username, audit_log.c.entity_id)
                              .where(audit_log.c.action == "item.claim")).all()  # fmt: skip
    assert sorted(claims) == sorted([("bob", str(first.id)), ("amy", str(second.id)), ("bob", str(later.id))])


def test_claim_sql_locks_on_postgresql_and_is_one_update_on_sqlite() -> None:
    from sqlalchemy.dialects import postgresql, sqlite

    from everyclaim.work.users import User

    user = User(1, "bob", "bob", "biller", (), 40, True)
    stmt = q.claim_statement("postgresql", q.claimable(user, TODAY), user, NOW)
    pg = str(stmt.compile(dialect=postgresql.dialect()))
    assert "WITH next AS MATERIALIZED" in pg and "FOR UPDATE SKIP LOCKED" in pg and "RETURNING" in pg
    lite = str(q.claim_statement("sqlite", q.claimable(user, TODAY), user, NOW).compile(dialect=sqlite.dialect()))
    assert lite.startswith("UPDATE work_items SET") and "RETURNING" in lite and "FOR UPDATE" not in lite


def test_concurrent_workers_never_get_the_same_item(db: sa.Engine) -> None:
    n_items, n_workers = 90, 6
    with db.begin() as conn:
        write_run(conn, [result_row(f"P{i:03d}", balance=1_000 + i) for i in range(n_items)])
        refresh(conn, now=NOW, rules=[])
        workers = [make_user(conn, f"w{i}") for i in range(n_workers)]
    got: dict[int, list[int]] = {w.id: [] for w in workers}
    errors: list[BaseException] = []
    start = threading.Barrier(n_workers)

    def work(user) -> None:  # noqa: ANN001
        try:
            start.wait()
            while (item := q.claim_next(db, user, now=NOW)) is not None:
                got[user.id].append(item.id)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    claimed = [i for ids in got.values() for i in ids]
    assert len(claimed) == len(set(claimed)) == n_items
    assert sum(1 for ids in got.values() if ids) >= 2  # really concurrent, not one worker taking all
    with db.connect() as conn:
        holders = dict(conn.execute(sa.select(work_items.c.id, work_items.c.claimed_by)).all())
    assert all(holders[i] == uid for uid, ids in got.items() for i in ids)


def test_touch_moves_the_item_and_is_append_only(db: sa.Engine) -> None:
    with db.begin() as conn:
        write_run(conn, [result_row("A"), result_row("B"), result_row("C")])
        refresh(conn, now=NOW, rules=[])
        bob = make_user(conn, "bob")
        amy = make_user(conn, "amy")
    a = q.claim_next(db, bob, now=NOW)
    assert a is not None
    with db.begin() as conn:
        with pytest.raises(Conflict):
            tc.record_touch(conn, amy, a.id, action="appeal", outcome="pending", now=NOW)
        with pytest.raises(Invalid):
            tc.record_touch(conn, bob, a.id, action="pray", outcome="pending", now=NOW)
        with pytest.raises(Invalid):
            tc.record_touch(conn, bob, a.id, action="appeal", outcome="pending", follow_up_on=TODAY - timedelta(1), now=NOW)
        t = tc.record_touch(conn, bob, a.id, action="appeal", outcome="pending", follow_up_on=TODAY + timedelta(days=30),
                            note="appeal sent with records", now=NOW)  # fmt: skip
        item = q.get_item(conn, a.id)
        assert (item.status, item.claimed_by, item.follow_up_on) == ("open", None, TODAY + timedelta(days=30))
        assert t.username == "bob" and t.pcn == a.pcn
        b = q.get_item_by_pcn(conn, "B")
        tc.record_touch(conn, amy, b.id, action="status_inquiry", outcome="paid", now=NOW)
        assert q.get_item(conn, b.id).status == "resolved"
        assert [x.action for x in tc.touches_for(conn, pcn=a.pcn)] == ["appeal"]
    nxt = q.claim_next(db, bob, now=NOW)
    assert nxt is not None and nxt.pcn == "C"  # A waits for its follow-up, B is resolved
    for sql in ("UPDATE touches SET note = 'x'", "DELETE FROM touches"):
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), db.begin() as conn:
            conn.exec_driver_sql(sql)


def test_bulk_touch_is_all_or_nothing(db: sa.Engine) -> None:
    with db.begin() as conn:
        write_run(conn, [result_row(f"P{i}") for i in range(5)])
        refresh(conn, now=NOW, rules=[])
        bob = make_user(conn, "bob")
        amy = make_user(conn, "amy")
        ids = [r.id for r in conn.execute(sa.select(work_items.c.id).order_by(work_items.c.id))]
    held = q.claim_next(db, amy, now=NOW)
    assert held is not None
    with db.begin() as conn:
        with pytest.raises(Conflict):
            tc.bulk_touch(conn, bob, ids, action="status_inquiry", outcome="no_response", now=NOW)
        with pytest.raises(NotFound):
            tc.bulk_touch(conn, bob, [*ids, 999_999], action="status_inquiry", outcome="no_response", now=NOW)
        assert conn.execute(sa.select(sa.func.count()).select_from(touches)).scalar_one() == 0
        rest = [i for i in ids if i != held.id]
        res = tc.bulk_touch(conn, bob, rest, action="status_inquiry", outcome="no_response",
                            follow_up_on=date(2026, 11, 20), now=NOW)  # fmt: skip
        assert res.count == 4
        rows = conn.execute(sa.select(touches.c.work_item_id, touches.c.bulk_id, touches.c.user_id)).all()
        assert sorted(r.work_item_id for r in rows) == rest and {(r.bulk_id, r.user_id) for r in rows} == {(res.bulk_id, bob.id)}
        logged = conn.execute(sa.select(audit_log.c.entity_id).where(audit_log.c.action == "touch.create")).scalars()
        assert sorted(int(x) for x in logged) == rest
        follow = conn.execute(sa.select(work_items.c.follow_up_on).where(work_items.c.id.in_(rest))).scalars()
        assert set(follow) == {date(2026, 11, 20)}


def test_list_queue_pages_and_scopes_by_role(db: sa.Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    with db.begin() as conn:
        write_run(conn, [result_row(f"P{i:02d}", balance=1_000 * (i + 1), payer_id="BCBS" if i % 2 else "ACME1")
                         for i in range(12)])  # fmt: skip
        refresh(conn, now=NOW, rules=[])
        bob = make_user(conn, "bob")
        mgr = make_user(conn, "mia", "manager")
        conn.execute(sa.update(work_items).where(work_items.c.pcn == "P00").values(skill="appeals"))
        page, total = q.list_queue(conn, mgr, limit=5, today=TODAY)
        assert total == 12 and [i.pcn for i in page] == ["P11", "P10", "P09", "P08", "P07"]
        _, bobs = q.list_queue(conn, bob, today=TODAY)
        assert bobs == 11  # P00 needs a skill bob lacks
        bcbs, n = q.list_queue(conn, mgr, payer_id="BCBS", order="balance", limit=2, offset=1)
        assert n == 6 and [i.pcn for i in bcbs] == ["P09", "P07"]
        # a PCN prefix keeps the rank order and paging, whether found by rank or sorted after the prefix
        # lookup (NARROW_SEARCH characters and more)
        for narrow_from in (q.NARROW_SEARCH, 1):
            monkeypatch.setattr(q, "NARROW_SEARCH", narrow_from)
            found, n = q.list_queue(conn, mgr, search="P0", limit=3, offset=2, today=TODAY)
            assert n == 10 and [i.pcn for i in found] == ["P07", "P06", "P05"]
        with pytest.raises(Invalid):
            q.list_queue(conn, mgr, order="age; drop table")
        counts = q.queue_counts(conn)
    assert counts == [{"queue": "general", "open": 12, "claimed": 0, "resolved": 0, "closed": 0,
                       "open_cents": sum(1_000 * (i + 1) for i in range(12))}]  # fmt: skip


def test_stale_claims_go_back_to_the_queue_on_claim_next_and_refresh(db: sa.Engine) -> None:
    with db.begin() as conn:
        write_run(conn, [result_row("A", balance=50_000), result_row("B", balance=9_000),
                         result_row("C", balance=1_000)])  # fmt: skip
        refresh(conn, now=NOW, rules=[])
        bob, amy, cal = make_user(conn, "bob"), make_user(conn, "amy"), make_user(conn, "cal")
    held = q.claim_next(db, bob, now=NOW, lease_minutes=30)
    assert held is not None and held.pcn == "A"
    # within the lease bob keeps A: amy gets the next best item
    second = q.claim_next(db, amy, now=NOW + timedelta(minutes=29), lease_minutes=30)
    assert second is not None and second.pcn == "B"
    # past bob's lease (not yet amy's): A goes back to the queue and, being the best, to cal
    third = q.claim_next(db, cal, now=NOW + timedelta(minutes=31), lease_minutes=30)
    assert third is not None and third.pcn == "A" and third.claimed_by == cal.id
    with db.connect() as conn:
        b = conn.execute(sa.select(work_items).where(work_items.c.pcn == "B")).one()
        released = conn.execute(sa.select(audit_log.c.username, audit_log.c.entity_id, audit_log.c.before)
                                .where(audit_log.c.action == "item.release")).all()  # fmt: skip
    assert (b.status, b.claimed_by) == ("claimed", amy.id)
    assert released == [("system", str(held.id), f'{{"claimed_by": {bob.id}}}')]
    # queue refresh releases what went stale since (amy's B and cal's A, an hour later)
    later = NOW + timedelta(minutes=95)
    with db.begin() as conn:
        res = refresh(conn, now=later, rules=[], settings=WorkSettings(lease_minutes=30))
        states = {r.pcn: (r.status, r.claimed_by) for r in conn.execute(sa.select(work_items))}
    assert res.released == 2 and res.as_json()["released"] == 2
    assert states == {"A": ("open", None), "B": ("open", None), "C": ("open", None)}


def test_claims_of_a_deactivated_user_are_released(db: sa.Engine) -> None:
    with db.begin() as conn:
        write_run(conn, [result_row("A", balance=50_000), result_row("B", balance=9_000)])
        refresh(conn, now=NOW, rules=[])
        bob, amy = make_user(conn, "bob"), make_user(conn, "amy")
    held = q.claim_next(db, bob, now=NOW, lease_minutes=30)
    assert held is not None and held.pcn == "A"
    with db.begin() as conn:
        conn.execute(sa.update(users).where(users.c.id == bob.id).values(active=False))
    again = q.claim_next(db, amy, now=NOW + timedelta(minutes=1), lease_minutes=30)
    assert again is not None and again.pcn == "A" and again.claimed_by == amy.id


def test_release_stale_is_one_set_based_pass(db: sa.Engine) -> None:
    with db.begin() as conn:
        write_run(conn, [result_row(f"P{i:03d}", balance=1_000 + i) for i in range(40)])
        refresh(conn, now=NOW, rules=[])
        bob = make_user(conn, "bob")
        conn.execute(sa.update(work_items).where(work_items.c.id % 2 == 0)
                     .values(status="claimed", claimed_by=bob.id, claimed_at=NOW))  # fmt: skip
        conn.execute(sa.update(work_items).where(work_items.c.id % 4 == 0)
                     .values(claimed_at=NOW + timedelta(minutes=20)))  # fmt: skip
    statements: list[str] = []

    def seen(_conn, _cursor, sql, *_rest) -> None:  # noqa: ANN001
        statements.append(sql.split()[0].upper())

    sa.event.listen(db, "before_cursor_execute", seen)
    try:
        with db.begin() as conn:
            n = q.release_stale(conn, 30, now=NOW + timedelta(minutes=45))
    finally:
        sa.event.remove(db, "before_cursor_execute", seen)
    assert [x for x in statements if x != "BEGIN"] == ["SELECT", "UPDATE", "INSERT"]
    assert n == 10
    with db.connect() as conn:
        claimed = conn.execute(sa.select(sa.func.count()).where(work_items.c.status == "claimed")).scalar_one()
        audited = conn.execute(sa.select(sa.func.count()).where(audit_log.c.action == "item.release")).scalar_one()
    assert (claimed, audited) == (10, 10)
