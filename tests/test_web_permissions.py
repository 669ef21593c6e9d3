"""Every route of the web app, with every role and anonymously, on SQLite and PostgreSQL: the answer
follows ``security.PERMISSIONS`` exactly (allowed: neither 401 nor 403; refused: 403 in the one error
shape; anonymous: 401 under /api/, a redirect to /login for pages)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from everyclaim.web.app import routes
from everyclaim.web.security import PERMISSIONS, PUBLIC
from everyclaim.work.schema import work_items
from tests.web_world import ROLES, World, csrf

pytest_plugins = ["tests.web_world"]  # the seeded office: fixture ``world``

ERROR_KEYS = {"status", "code", "message", "request_id"}


def _sample_path(path: str, pcn: str) -> str:
    return (path.replace("{pcn}", pcn).replace("{approval_id}", "1").replace("{user_id}", "1")
            .replace("{rule_id}", "no-such-rule"))  # fmt: skip


def test_every_route_is_in_the_permission_table_and_every_entry_is_a_route(world: World) -> None:
    app_routes = set(routes(world.client().app))  # type: ignore[arg-type]
    assert app_routes - set(PERMISSIONS) == set(), "routes without a permission entry are refused to everyone"
    assert set(PERMISSIONS) - app_routes == set(), "permission entries for routes that do not exist"


def test_every_route_with_every_role(world: World) -> None:
    with world.engine.connect() as conn:
        pcn = conn.execute(sa.select(work_items.c.pcn).order_by(work_items.c.rank).limit(1)).scalar_one()
    clients = {role: world.client(role) for role in ROLES}
    anonymous = world.client()
    anonymous.headers["X-CSRF-Token"] = csrf(anonymous)  # an anonymous session (the login form's)
    checked = 0
    # /logout last: it ends the session the other requests use
    table = sorted(PERMISSIONS.items(), key=lambda kv: kv[0] == ("POST", "/logout"))
    for (method, path), allowed in table:
        url = _sample_path(path, pcn)
        for role in (*ROLES, None):
            client = clients[role] if role else anonymous
            # queue=__none__: "next" finds nothing to claim, so this walk changes no work item
            r = client.request(method, url + ("?queue=__none__" if method == "POST" else ""),
                               headers={"accept": "text/html"}, data={"queue": "__none__"} if method == "POST" else None)
            who = f"{role or 'anonymous'} {method} {path}"
            if allowed == PUBLIC or (role is not None and role in allowed):
                assert r.status_code not in (401, 403), f"{who}: refused ({r.status_code}) but allowed"
            elif role is None and (path.startswith("/api/") or path == "/openapi.json"):
                assert r.status_code == 401, who
                assert set(r.json()["error"]) >= ERROR_KEYS and r.json()["error"]["code"] == "unauthenticated"
            elif role is None:
                assert r.status_code == 303 and r.headers["location"].startswith("/login?next="), who
            else:
                assert r.status_code == 403, f"{who}: {r.status_code}, expected 403"
                if path.startswith("/api/"):
                    assert r.json()["error"]["code"] == "forbidden"
                else:
                    assert "403" in r.text and "forbidden" in r.text
            checked += 1
    assert checked == len(PERMISSIONS) * (len(ROLES) + 1)


def test_a_biller_is_refused_a_managers_approval_and_an_auditor_cannot_change_anything(world: World) -> None:
    biller, auditor = world.client("biller"), world.client("auditor")
    r = biller.get("/api/dashboard")
    assert r.status_code == 403 and r.json() == {"error": {
        "status": 403, "code": "forbidden", "message": "Your role does not allow this.",
        "request_id": r.headers["x-request-id"]}}  # fmt: skip
    writes = [(m, p) for (m, p), roles in PERMISSIONS.items() if m == "POST" and p != "/logout" and roles != PUBLIC]
    assert writes
    for method, path in writes:
        assert "auditor" not in PERMISSIONS[(method, path)], f"auditors are read-only: {path}"
    assert auditor.post("/api/touches", json={}).status_code == 403


@pytest.mark.parametrize("path", ["/api/queue", "/api/claims", "/api/dashboard", "/api/me"])
def test_anonymous_api_requests_get_401_in_the_one_error_shape(world: World, path: str) -> None:
    r = world.client().get(path)
    assert r.status_code == 401
    body = r.json()["error"]
    assert set(body) == ERROR_KEYS and body["status"] == 401 and body["code"] == "unauthenticated"
