"""The web app over a small seeded office (SQLite, and PostgreSQL when EVERYCLAIM_TEST_DB is set):
sign-in and sessions, CSRF, the login limit, the queue, a claim's story, touches, bulk touches, the
dashboard, the audit trail, the API's money and errors, and what never reaches a client or a log."""

from __future__ import annotations

import logging
import re
from datetime import date, timedelta
from pathlib import Path

import sqlalchemy as sa

from everyclaim.web.security import COOKIE
from everyclaim.work.schema import audit_log, login_failures, touches, work_items
from tests.web_world import PASSWORD, World, csrf, login

pytest_plugins = ["tests.web_world"]  # the seeded office: fixture ``world``

STATIC = Path(__file__).resolve().parents[1] / "everyclaim" / "web" / "static"


def _open_items(world: World, n: int, skip: int = 0) -> list[tuple[int, str]]:
    """``n`` open, unclaimed items a biller may touch, from the end of the queue (``/queue/next`` takes from
    the front); each test takes its own slice (``skip``) because PostgreSQL's tests share one world."""
    w = work_items.c
    with world.engine.connect() as conn:
        rows = conn.execute(sa.select(w.id, w.pcn).where(w.status == "open", w.skill.in_(("", "appeals", "coding", "refunds")),
                                                          w.assigned_user_id.is_(None))
                            .order_by(w.rank.desc()).offset(skip).limit(n)).all()  # fmt: skip
    assert len(rows) == n, "the seeded world has enough open work"
    return [(r.id, r.pcn) for r in rows]


def _audit(world: World, action: str, entity_id: str) -> list[sa.Row]:  # type: ignore[type-arg]
    a = audit_log.c
    with world.engine.connect() as conn:
        return conn.execute(sa.select(audit_log).where(a.action == action, a.entity_id == entity_id)).all()


# ------------------------------------------------------------------------------------------------ sign-in
def test_sign_in_sets_a_signed_http_only_cookie_and_sends_each_role_to_its_start_page(world: World) -> None:
    homes = {"biller": "/queue", "manager": "/dashboard", "admin": "/admin/users", "auditor": "/audit"}
    for role, home in homes.items():
        c = world.client()
        token = csrf(c)
        r = c.post("/login", data={"username": role, "password": PASSWORD, "csrf_token": token})
        assert r.status_code == 303 and r.headers["location"] == home
        cookie = r.headers["set-cookie"]
        assert cookie.startswith(COOKIE + "=") and "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax")
        assert c.get(home).status_code == 200


def test_the_cookie_is_secure_over_https_and_a_tampered_cookie_is_anonymous(world: World) -> None:
    c = world.client()
    c.base_url = c.base_url.copy_with(scheme="https")  # type: ignore[assignment]
    token = csrf(c)
    r = c.post("/login", data={"username": "biller", "password": PASSWORD, "csrf_token": token})
    assert "Secure" in r.headers["set-cookie"]
    value = c.cookies[COOKIE]
    forged = world.client()
    forged.cookies.set(COOKIE, value[:-3] + ("AAA" if not value.endswith("AAA") else "BBB"))
    assert forged.get("/api/me").status_code == 401


def test_wrong_password_says_nothing_about_which_part_was_wrong_and_the_login_is_rate_limited(world: World) -> None:
    c = world.client(login_attempts=3)
    token = csrf(c)
    for username in ("biller", "nobody-here"):
        r = c.post("/login", data={"username": username, "password": "wrong password!", "csrf_token": token})
        assert r.status_code == 401 and "Wrong user name or password." in r.text
    c.post("/login", data={"username": "biller", "password": "wrong password!", "csrf_token": token})
    r = c.post("/login", data={"username": "biller", "password": PASSWORD, "csrf_token": token})
    assert r.status_code == 429 and "Too many attempts" in r.text  # even the right password waits
    with world.engine.begin() as conn:  # PostgreSQL's tests share one world: leave no failures behind
        conn.execute(sa.delete(login_failures))


def test_the_login_limit_holds_across_server_processes_and_a_success_clears_it(world: World) -> None:
    one, two = world.client(login_attempts=3), world.client(login_attempts=3)  # two apps: two processes
    for i, c in enumerate((one, two, one)):
        r = c.post("/login", data={"username": "manager", "password": f"wrong {i}!", "csrf_token": csrf(c)})
        assert r.status_code == 401
    with world.engine.connect() as conn:
        stored = conn.execute(sa.select(login_failures.c.key, sa.func.count()).group_by(login_failures.c.key)).all()
    assert sorted(stored) == [("ip:testclient", 3), ("user:manager", 3)]  # no password, no PHI
    fresh = world.client(login_attempts=3)  # a process started after the failures knows them too
    r = fresh.post("/login", data={"username": "manager", "password": PASSWORD, "csrf_token": csrf(fresh)})
    assert r.status_code == 429
    with world.engine.begin() as conn:  # the window passes
        conn.execute(sa.update(login_failures).values(at=login_failures.c.at - timedelta(minutes=6)))
    login(fresh, "manager")
    with world.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(login_failures)).scalar_one() == 0


def test_forms_without_the_csrf_token_are_refused(world: World) -> None:
    c = world.client("biller")
    item_id, pcn = _open_items(world, 1)[0]
    del c.headers["X-CSRF-Token"]
    r = c.post(f"/claims/{pcn}/touches", data={"action": "appeal", "outcome": "pending"})
    assert r.status_code == 403 and "did not come from this site" in r.text
    r = c.post(f"/claims/{pcn}/touches", data={"action": "appeal", "outcome": "pending", "csrf_token": "forged"})
    assert r.status_code == 403
    assert c.post("/api/touches", json={"pcn": pcn, "action": "appeal", "outcome": "pending"}).json()["error"]["code"] == "csrf"


def test_login_does_not_redirect_to_another_site(world: World) -> None:
    c = world.client()
    token = csrf(c)
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil"):
        r = c.post("/login", data={"username": "auditor", "password": PASSWORD, "csrf_token": token, "next": target})
        assert r.headers["location"] == "/audit"
        c.cookies.clear()
        token = csrf(c)
    r = c.post("/login", data={"username": "auditor", "password": PASSWORD, "csrf_token": token, "next": "/audit?who=x"})
    assert r.headers["location"] == "/audit?who=x"


def test_a_password_reset_ends_the_users_other_sessions(world: World) -> None:
    biller = world.client("biller", user_cache_seconds=0)
    admin = world.client("admin")
    assert biller.get("/api/me").status_code == 200
    with world.engine.connect() as conn:
        uid = conn.execute(sa.text("SELECT id FROM users WHERE username = 'biller'")).scalar_one()
    r = admin.post(f"/admin/users/{uid}/password", data={"password": "a brand new passphrase"})
    assert r.status_code == 303
    assert biller.get("/api/me").status_code == 401
    fresh = world.client()
    login(fresh, "biller", "a brand new passphrase")
    admin.post(f"/admin/users/{uid}/password", data={"password": PASSWORD})  # the shared PG world


# ------------------------------------------------------------------------------------------------ the queue
def test_the_queue_is_ordered_by_rank_filters_and_pages_through_htmx(world: World) -> None:
    c = world.client("manager")
    data = c.get("/api/queue").json()
    ranks = [i["rank"] for i in data["items"]]
    assert ranks == sorted(ranks) and data["total"] >= len(ranks) > 0
    first = data["items"][0]
    assert {"tier", "action", "root_cause", "balance", "payer_name", "age_days", "hint"} <= set(first)
    assert re.fullmatch(r"-?\d+\.\d\d", first["balance"])  # money as an exact decimal string
    tier = first["tier"]
    filtered = c.get("/api/queue", params={"tier": tier}).json()
    assert filtered["items"] and {i["tier"] for i in filtered["items"]} == {tier}
    rows = c.get("/queue/rows", params={"tier": tier})
    assert rows.status_code == 200 and "<html" not in rows.text and first["pcn"] in c.get("/queue").text
    assert c.get("/api/queue", params={"tier": "bogus"}).json()["error"]["fields"]["tier"].startswith("one of")
    page2 = c.get("/api/queue", params={"page": 2}).json()
    assert page2["page"] == 2 and not {i["id"] for i in page2["items"]} & {i["id"] for i in data["items"]}


def test_a_biller_sees_only_work_they_may_take_and_next_hands_out_one_claim(world: World) -> None:
    biller, manager = world.client("biller"), world.client("manager")
    mine = biller.get("/api/queue").json()
    everything = manager.get("/api/queue").json()
    assert mine["total"] <= everything["total"]
    r = biller.post("/queue/next")
    assert r.status_code == 303 and r.headers["location"].startswith("/claims/")
    pcn = r.headers["location"].rsplit("/", 1)[1]
    with world.engine.connect() as conn:
        status = conn.execute(sa.select(work_items.c.status).where(work_items.c.pcn == pcn)).scalar_one()
    assert status == "claimed"


# ------------------------------------------------------------------------------------------------ a claim
def test_the_claim_page_tells_the_whole_story_in_words_and_the_view_is_audited(world: World) -> None:
    c = world.client("biller")
    with world.engine.connect() as conn:  # a claim with a denial adjustment on it, in the work queue
        pcn = conn.execute(sa.text(
            "SELECT w.pcn FROM work_items w JOIN claim_payments p ON p.claim_id = w.claim_id "
            "JOIN adjustments a ON a.claim_payment_id = p.id WHERE a.group_code = 'CO' ORDER BY w.pcn LIMIT 1"
        )).scalar_one()  # fmt: skip
    before = len(_audit(world, "claim.view", pcn))
    r = c.get(f"/claims/{pcn}")
    assert r.status_code == 200
    for section in ("Summary", "Deadlines", "Why it is here", "Touches", "Billed lines", "Acknowledgments",
                    "Remittances", "Aged trial balance snapshots"):
        assert f">{section}<" in r.text, section
    story = c.get(f"/api/claims/{pcn}").json()
    adjustments = [a for p in story["remittances"] for a in p["adjustments"]]
    assert adjustments and all(a["meaning"] and a["meaning"] != "unknown CARC" for a in adjustments)
    assert adjustments[0]["meaning"] in r.text  # the CARC in words on the page
    assert story["triage"]["hint"] and story["work_item"]["pcn"] == pcn
    member = story["claim"]["subscriber_id"]
    assert member and member not in r.text  # the page masks the member id
    assert len(_audit(world, "claim.view", pcn)) == before + 2  # the page and the API view


def test_recording_a_touch_shows_it_and_writes_the_audit_log(world: World) -> None:
    c = world.client("biller")
    item_id, pcn = _open_items(world, 1, skip=1)[0]
    follow = (date.today() + timedelta(days=14)).isoformat()
    r = c.post(f"/claims/{pcn}/touches", data={"action": "status_inquiry", "outcome": "pending",
                                                 "follow_up_on": follow, "note": "called payer, ref 123"})
    assert r.status_code == 303 and r.headers["location"].startswith(f"/claims/{pcn}")
    page = c.get(r.headers["location"]).text
    assert "called payer, ref 123" in page and "touch recorded" in page
    entries = _audit(world, "touch.create", str(item_id))
    assert entries and entries[-1].username == "biller"
    api = c.get("/api/touches", params={"pcn": pcn}).json()["touches"]
    assert api[0]["follow_up_on"] == follow and api[0]["action"] == "status_inquiry"
    bad = c.post(f"/claims/{pcn}/touches", data={"action": "dance", "outcome": "pending"})
    assert bad.status_code == 422 and "action must be one of" in bad.text


def test_bulk_touch_acts_on_every_selected_claim_at_once(world: World) -> None:
    c = world.client("biller")
    picked = _open_items(world, 3, skip=2)
    r = c.post("/queue/bulk", data={"item_id": [str(i) for i, _ in picked], "action": "status_inquiry",
                                    "outcome": "no_response", "note": "bulk status check"})
    assert r.status_code == 303 and "3+claims+touched" in r.headers["location"]
    with world.engine.connect() as conn:
        n = conn.execute(sa.select(sa.func.count()).select_from(touches).where(
            touches.c.work_item_id.in_([i for i, _ in picked]), touches.c.note == "bulk status check")).scalar_one()
    assert n == 3


def test_api_touch_and_its_validation_errors_name_fields_not_values(world: World) -> None:
    c = world.client("biller")
    _, pcn = _open_items(world, 1, skip=5)[0]
    r = c.post("/api/touches", json={"pcn": pcn, "action": "appeal", "outcome": "pending", "note": "x"})
    assert r.status_code == 201 and r.json()["touch"]["pcn"] == pcn
    r = c.post("/api/touches", json={"pcn": pcn, "action": "appeal", "outcome": "pending",
                                     "follow_up_on": "SECRET-MEMBER-W99"})
    body = r.json()["error"]
    assert r.status_code == 422 and "follow_up_on" in body["fields"] and "SECRET-MEMBER-W99" not in r.text
    assert c.get("/api/claims/NO-SUCH-CLAIM").json()["error"]["code"] == "not_found"


# ------------------------------------------------------------------------------------------------ manager
def test_the_dashboard_shows_tiers_automation_share_and_the_heat_map(world: World) -> None:
    c = world.client("manager")
    d = c.get("/api/dashboard").json()
    assert d["open_ar"]["claims"] > 0 and 0 <= d["triage"]["automation_share"] <= 1
    assert sum(v["claims"] for v in d["triage"]["by_tier"].values()) == d["triage"]["claims"]
    assert [r["aging"] for r in d["buildup"]["rows"]] == d["aging_labels"]
    page = c.get("/dashboard").text
    assert "Automation share" in page and 'id="heatmap"' in page


def test_rules_page_and_marking_an_outcome_moves_the_rules_review_count(world: World) -> None:
    c = world.client("manager")
    page = c.get("/rules").text
    assert ">Sampled</th>" in page  # the column `everyclaim rules report` has
    rule_id = re.search(r'<option>([a-z0-9_.]+)</option>', page).group(1)  # type: ignore[union-attr]
    r = c.post("/rules/outcomes", data={"pcn": "P-REVIEWED-1", "rule_id": rule_id, "correct": "yes"})
    assert r.status_code == 303
    assert _audit(world, "outcome.mark", rule_id)
    assert c.post("/rules/outcomes", data={"pcn": "P1", "rule_id": "no.such", "correct": "yes"}).status_code == 422


def test_the_audit_log_is_searchable(world: World) -> None:
    c = world.client("auditor")
    r = c.get("/audit", params={"action": "login."})
    assert r.status_code == 200 and "login.ok" in r.text
    api = c.get("/api/audit", params={"action": "login.ok", "who": "auditor"}).json()
    assert api["total"] >= 1 and {e["username"] for e in api["entries"]} == {"auditor"}
    assert c.get("/audit", params={"since": "yesterday"}).status_code == 422


def test_admin_adds_a_user_who_can_then_sign_in(world: World) -> None:
    admin = world.client("admin")
    name = f"new{world.kind[:2]}{date.today():%d}"
    r = admin.post("/admin/users", data={"username": name, "password": "long enough pass", "role": "biller",
                                         "skills": "appeals, medicare", "daily_capacity": "30"})
    assert r.status_code in (303, 409)  # 409: the shared PG world already has them from a rerun
    c = world.client()
    login(c, name, "long enough pass")
    assert c.get("/api/me").json()["role"] == "biller"
    assert admin.post("/admin/users", data={"username": "x", "password": "short", "role": "biller"}).status_code == 422


# ------------------------------------------------------------------------------------------------ safety
def test_an_internal_error_shows_no_exception_text_and_logs_no_phi(world: World, caplog: object) -> None:
    if world.kind != "sqlite":
        return  # the failure is staged by renaming a table in a private SQLite copy
    c = world.client("biller")
    _, pcn = _open_items(world, 1)[0]
    with world.engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE claim_lines RENAME TO claim_lines_gone")
    with caplog.at_level(logging.INFO, logger="everyclaim.web"):  # type: ignore[attr-defined]
        r = c.get(f"/api/claims/{pcn}")
        page = c.get(f"/claims/{pcn}")
    assert r.status_code == 500 and r.json()["error"]["code"] == "internal"
    assert page.status_code == 500 and "request" in page.text.lower()
    for text in (r.text, page.text, caplog.text):  # type: ignore[attr-defined]
        assert pcn not in text and "SELECT" not in text and "claim_lines" not in text
    assert "OperationalError" in caplog.text and "/claims/{pcn}" in caplog.text  # type: ignore[attr-defined]


def test_pages_carry_security_headers_and_use_only_local_scripts(world: World) -> None:
    c = world.client("manager")
    r = c.get("/dashboard")
    assert "script-src 'self'" in r.headers["content-security-policy"]
    assert r.headers["x-frame-options"] == "DENY" and r.headers["cache-control"] == "no-store"
    scripts = re.findall(r'<script[^>]*src="([^"]+)"', r.text + c.get("/docs").text)
    assert scripts and all(s.startswith("/static/") for s in scripts)
    assert "cdn" not in c.get("/docs").text.lower()
    htmx = c.get("/static/htmx.min.js")
    assert htmx.status_code == 200 and re.search(r'version:"2\.0\.\d+"', htmx.text)
    version = re.search(r'version:"(2\.0\.\d+)"', (STATIC / "htmx.min.js").read_text()).group(1)  # type: ignore[union-attr]
    assert f"| {version} |" in (STATIC / "PROVENANCE.md").read_text()
    assert c.get("/openapi.json").json()["paths"]["/api/queue"]["get"]


# ------------------------------------------------------------------------------------------------ approvals, routing
def test_a_large_write_off_waits_for_a_manager_who_approves_it(world: World) -> None:
    biller, manager = world.client("biller"), world.client("manager")
    item_id, pcn = _open_items(world, 1, skip=6)[0]
    r = biller.post(f"/claims/{pcn}/approvals", data={"kind": "write_off", "amount": "1,250.00",
                                                        "reason": "timely filing missed, documented"})
    assert r.status_code == 303 and "write+off+pending" in r.headers["location"]
    assert "write off" in biller.get(r.headers["location"]).text
    assert biller.get("/approvals").status_code == 403
    pending = manager.get("/api/approvals").json()["approvals"]
    mine = [a for a in pending if a["pcn"] == pcn]
    assert len(mine) == 1 and mine[0]["amount"] == "1250.00"
    assert pcn in manager.get("/approvals").text
    r = manager.post(f"/approvals/{mine[0]['id']}", data={"decision": "approve", "note": "ok"})
    assert r.status_code == 303
    assert _audit(world, "approval.decide", str(mine[0]["id"]))[-1].username == "manager"
    again = manager.post(f"/api/approvals/{mine[0]['id']}", json={"approve": False})
    assert again.status_code == 409 and again.json()["error"]["code"] == "conflict"
    bad = biller.post(f"/claims/{pcn}/approvals", data={"kind": "write_off", "amount": "12.345", "reason": "x"})
    assert bad.status_code in (409, 422)


def test_routing_rules_are_edited_as_yaml_and_bad_yaml_is_a_clear_error(world: World) -> None:
    c = world.client("manager")
    page = c.get("/routing")
    assert page.status_code == 200 and "sop.appeal_denial" in page.text
    rule = ("id: web.test_rule\ndescription: Small balances at ACME to the small queue.\n"
            "when: {payer: [ACME1], balance_max: 50}\nqueue: small\nsop: {action: status_inquiry, "
            "within_business_days: 5, from: queued}\n")
    r = c.post("/routing", data={"rule": rule})
    assert r.status_code == 303 and "web.test_rule" in c.get("/routing").text
    assert "balance_max: 50" in c.get("/routing", params={"edit": "web.test_rule"}).text
    assert c.post("/routing", data={"rule": "id: [unclosed"}).status_code == 422
    assert c.post("/routing", data={"rule": "id: x\nqueue: BAD QUEUE\n"}).status_code == 422
    assert c.post("/routing/web.test_rule/delete").status_code == 303
    assert "web.test_rule" not in c.get("/routing").text


def test_the_sop_audit_and_kpis_reach_the_managers_pages(world: World) -> None:
    c = world.client("manager")
    sop = c.get("/sop")
    assert sop.status_code == 200 and "By user" in sop.text and "Late and overdue" in sop.text
    d = c.get("/api/dashboard").json()["kpis"]
    assert [t["label"] for t in d["tiles"]][:2] == ["Days in A/R", "Denial rate"] and d["payer_mix"]
    page = c.get("/dashboard").text
    assert "Denied dollars by root cause, by month" in page and "Payer mix" in page


def test_every_template_compiles() -> None:
    from everyclaim.web.views import TEMPLATES, build_templates

    env = build_templates().env
    names = sorted(p.name for p in TEMPLATES.glob("*.html"))
    assert len(names) >= 12
    for name in names:
        env.get_template(name)  # raises TemplateSyntaxError with the file and line


def test_a_long_queue_is_counted_up_to_the_limit_and_paging_still_works(world: World) -> None:
    c = world.client("manager", count_limit=3, page_size=2)
    first = c.get("/api/queue").json()
    assert first["total"] == 3 and first["capped"] is True and len(first["items"]) == 2
    assert "3+ claims" in c.get("/queue").text
    third = c.get("/api/queue", params={"page": 3}).json()  # past the counted pages: still served
    assert third["items"] and third["page"] == 3


def test_users_reset_password_on_the_command_line(world: World) -> None:
    from typer.testing import CliRunner

    from everyclaim.cli import app

    r = CliRunner().invoke(app, ["users", "reset-password", "auditor", "--password-stdin", "--db", world.url],
                           input="a new auditor passphrase\n")
    assert r.exit_code == 0, r.output
    login(world.client(), "auditor", "a new auditor passphrase")
    with world.engine.connect() as conn:
        entry = conn.execute(sa.select(audit_log).where(audit_log.c.action == "user.password")
                             .order_by(audit_log.c.id.desc())).first()
    assert entry is not None and entry.username == "system"
    bad = CliRunner().invoke(app, ["users", "reset-password", "auditor", "--password-stdin", "--db", world.url],
                             input="short\n")
    assert bad.exit_code == 1
    CliRunner().invoke(app, ["users", "reset-password", "auditor", "--password-stdin", "--db", world.url],
                       input=PASSWORD + "\n")  # the shared PG world
