"""Users (argon2id), roles and the append-only audit log, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from everyclaim.work import audit
from everyclaim.work import users as u
from everyclaim.work.errors import Conflict, Forbidden, Invalid
from everyclaim.work.roles import PERMISSIONS, ROLES, can
from everyclaim.work.schema import audit_log, roles, users
from everyclaim.work.settings import WorkSettings
from tests.work_data import PASSWORD, make_user

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def test_roles_are_seeded_and_every_permission_names_known_roles(engine: sa.Engine) -> None:
    with engine.connect() as conn:
        assert sorted(conn.execute(sa.select(roles.c.name)).scalars()) == sorted(ROLES)
    assert all(set(r) <= set(ROLES) for r in PERMISSIONS.values())


def test_create_and_authenticate_with_argon2id(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        admin = make_user(conn, "ada", "admin")
        bob = u.create_user(conn, admin, "Bob", PASSWORD, "biller", skills=("Appeals", "medicare"), daily_capacity=30)
    assert (bob.username, bob.skills, bob.daily_capacity) == ("bob", ("appeals", "medicare"), 30)
    with engine.begin() as conn:
        stored = conn.execute(sa.select(users.c.password_hash).where(users.c.id == bob.id)).scalar_one()
        assert stored.startswith("$argon2id$") and PASSWORD not in stored
        assert u.authenticate(conn, "BOB", PASSWORD) == bob
        assert u.authenticate(conn, "bob", PASSWORD + "x") is None
        assert u.authenticate(conn, "nobody", PASSWORD) is None
        logged = conn.execute(sa.select(audit_log.c.action, audit_log.c.after)).all()
    assert [a for a, _ in logged].count("login.failed") == 2
    assert all(PASSWORD not in (after or "") and "argon2" not in (after or "") for _, after in logged)


def test_bad_input_and_refusals(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        bob = make_user(conn, "bob")
        with pytest.raises(Invalid):
            u.create_user(conn, None, "carl", "short", "biller")
        with pytest.raises(Invalid):
            u.create_user(conn, None, "carl", PASSWORD, "overlord")
        with pytest.raises(Invalid):
            u.create_user(conn, None, "carl smith", PASSWORD, "biller")
        with pytest.raises(Conflict):
            make_user(conn, "bob")
        with pytest.raises(Forbidden):
            u.create_user(conn, bob, "carl", PASSWORD, "biller")
        with pytest.raises(Forbidden):
            u.update_user(conn, bob, bob.id, role="admin")
    assert can(bob, "touch.record") and not can(bob, "approval.decide") and not can(None, "claims.read")


def test_lockout_after_failures_and_reset_unlocks(engine: sa.Engine) -> None:
    settings = WorkSettings(login_max_failures=3, lockout_minutes=15)
    with engine.begin() as conn:
        admin = make_user(conn, "ada", "admin")
        bob = make_user(conn, "bob")
    for _ in range(3):
        with engine.begin() as conn:  # each failure commits
            assert u.authenticate(conn, "bob", "wrong password!", settings=settings, now=NOW) is None
    with engine.begin() as conn:
        assert u.authenticate(conn, "bob", PASSWORD, settings=settings, now=NOW) is None  # locked
        later = NOW + timedelta(minutes=16)
        assert u.authenticate(conn, "bob", PASSWORD, settings=settings, now=later) == bob
        u.set_password(conn, admin, bob.id, "a new password 1")
        assert u.authenticate(conn, "bob", "a new password 1") == bob
        with pytest.raises(Forbidden):
            u.set_password(conn, bob, admin.id, "a new password 2")


def test_update_user_records_before_and_after(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        admin = make_user(conn, "ada", "admin")
        bob = make_user(conn, "bob")
        after = u.update_user(conn, admin, bob.id, role="manager", skills=["appeals"], daily_capacity=12)
        with pytest.raises(Forbidden):
            u.update_user(conn, admin, admin.id, role="biller")
        entries, total = audit.search(conn, admin, action="user.update")
    assert (after.role, after.skills, after.daily_capacity) == ("manager", ("appeals",), 12)
    assert total == 1 and entries[0].before == {"role": "biller", "skills": [], "daily_capacity": 40}
    assert entries[0].after == {"role": "manager", "skills": ["appeals"], "daily_capacity": 12}


def test_audit_log_refuses_update_and_delete(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        make_user(conn, "ada", "admin")  # writes an audit entry
    for sql in ("UPDATE audit_log SET username = 'x'", "DELETE FROM audit_log"):
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), engine.begin() as conn:
            conn.exec_driver_sql(sql)
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(audit_log)).scalar_one() == 1


def test_audit_search_is_for_auditors_and_filters(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        admin = make_user(conn, "ada", "admin")
        auditor = make_user(conn, "aud", "auditor")
        biller = make_user(conn, "bob")
        audit.record(conn, biller, "claim.view", "claim", "PCN1")
        audit.record(conn, biller, "claim.view", "claim", "PCN2")
        entries, total = audit.search(conn, auditor, action="claim.", entity_id="PCN2")
        _, everything = audit.search(conn, admin)
        with pytest.raises(Forbidden):
            audit.search(conn, biller)
    assert total == 1 and entries[0].username == "bob" and entries[0].entity_id == "PCN2"
    assert everything == 5  # three user.create + two views
