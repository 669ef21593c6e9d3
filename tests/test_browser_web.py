"""End to end in a real browser: ``everyclaim serve`` on the seeded office, Debian's chromium driven by
Playwright. A biller signs in, filters the queue, opens a claim, records a touch, asks for a write-off,
bulk-touches two claims and is refused the approvals page (403); a manager approves the write-off; an
auditor finds the approval in the audit log. An admin adds a user, changes the role, resets the password
and deactivates the account; the auditor finds each change in the read-only log.

``EVERYCLAIM_SCREENSHOTS=docs/screenshots`` saves a screenshot of each main page there (for the README).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.web_world import PASSWORD, SECRET

pytest_plugins = ["tests.web_world"]

CHROMIUM = "/usr/bin/chromium"
SHOTS = os.environ.get("EVERYCLAIM_SCREENSHOTS", "")

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(_sqlite_world: Path, tmp_path: Path) -> Iterator[str]:
    """``everyclaim serve`` on a private copy of the seeded office; yields its base URL."""
    db = tmp_path / "world.db"
    shutil.copyfile(_sqlite_world, db)
    port = _free_port()
    env = os.environ | {"EVERYCLAIM_SECRET_KEY": SECRET}
    log = (tmp_path / "serve.log").open("w")
    proc = subprocess.Popen([sys.executable, "-c", "from everyclaim.cli import main; main()", "serve", "--port", str(port), "--db",
                             f"sqlite:///{db}", "--log-level", "warning"], env=env, stdout=log, stderr=log)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1)  # noqa: S310 - our own local server
                break
            except OSError:
                if proc.poll() is not None:
                    raise RuntimeError((tmp_path / "serve.log").read_text()) from None
                time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


def _shot(page: object, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)  # type: ignore[attr-defined]


def _sign_in(page: object, base: str, username: str, password: str = PASSWORD) -> None:
    p = page  # type: ignore[assignment]
    p.goto(base + "/login")  # type: ignore[attr-defined]
    p.fill("input[name=username]", username)  # type: ignore[attr-defined]
    p.fill("input[name=password]", password)  # type: ignore[attr-defined]
    p.click("button[type=submit]")  # type: ignore[attr-defined]


def test_a_day_in_the_browser(server: str) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        try:
            _biller(browser.new_page(viewport={"width": 1400, "height": 900}), server, sync_api.expect)
            _manager(browser.new_page(viewport={"width": 1400, "height": 900}), server, sync_api.expect)
            _auditor(browser.new_page(viewport={"width": 1400, "height": 900}), server, sync_api.expect)
        finally:
            browser.close()


def _biller(page, base: str, expect) -> None:  # type: ignore[no-untyped-def]
    page.goto(base + "/queue")
    assert "/login" in page.url  # anonymous: sent to sign in
    _shot(page, "login")
    page.fill("input[name=username]", "biller")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(base + "/queue")
    expect(page.locator("table.queue tbody tr").first).to_be_visible()
    rows = page.locator("table.queue tbody tr")
    assert rows.count() >= 3
    _shot(page, "queue")
    # filter by tier through htmx: the table is swapped in place and the URL follows
    page.select_option("select[name=tier]", "manual")
    page.wait_for_url("**tier=manual**")
    tiers = page.locator("table.queue tbody td:nth-child(4)").all_inner_texts()
    assert tiers and {t.strip() for t in tiers} == {"manual"}
    page.select_option("select[name=tier]", "")
    page.wait_for_url(lambda url: "tier=manual" not in url)
    # open the last claim of the page (the front of the queue is for "next")
    link = page.locator("table.queue tbody tr td:nth-child(3) a").last
    pcn = link.inner_text().strip()
    link.click()
    page.wait_for_url(f"**/claims/{pcn}")
    expect(page.locator("h1")).to_have_text(f"Claim {pcn}")
    expect(page.locator("#triage")).to_contain_text("Rule")
    _shot(page, "claim")
    # record a touch
    page.select_option("#touches select[name=action]", "status_inquiry")
    page.select_option("#touches select[name=outcome]", "pending")
    page.fill("#touches textarea[name=note]", "called the payer; reference 4711")
    page.click("#touches button[type=submit]")
    expect(page.locator(".flash")).to_have_text("touch recorded")
    expect(page.locator("#touches table")).to_contain_text("called the payer; reference 4711")
    # ask for a write-off above the threshold: it waits for a manager
    page.select_option("#approvals select[name=kind]", "write_off")
    page.fill("#approvals input[name=amount]", "1,250.00")
    page.fill("#approvals input[name=reason]", "past timely filing; proof on file")
    page.click("#approvals button[type=submit]")
    expect(page.locator(".flash")).to_have_text("write off pending")
    # bulk: select two claims on the queue and act on both at once
    page.goto(base + "/queue")
    boxes = page.locator("table.queue tbody input[name=item_id]")
    boxes.nth(0).check()
    boxes.nth(1).check()
    page.select_option("fieldset.bulk select[name=action]", "status_inquiry")
    page.select_option("fieldset.bulk select[name=outcome]", "no_response")
    page.fill("fieldset.bulk input[name=note]", "bulk status check")
    page.click("#bulk-submit")
    expect(page.locator(".flash")).to_have_text("2 claims touched")
    # a biller may not approve: the approvals page is refused with a 403 page
    response = page.goto(base + "/approvals")
    assert response is not None and response.status == 403
    expect(page.locator("h1")).to_contain_text("403")
    _shot(page, "forbidden")
    page.context.storage_state()  # keep nothing; next role gets its own page
    page.context.close()


def _manager(page, base: str, expect) -> None:  # type: ignore[no-untyped-def]
    _sign_in(page, base, "manager")
    page.wait_for_url(base + "/dashboard")
    expect(page.locator("#heatmap table")).to_be_visible()
    expect(page.locator(".tiles")).to_contain_text("Automation share")
    _shot(page, "dashboard")
    page.goto(base + "/approvals")
    row = page.locator("table.approvals tbody tr", has_text="past timely filing; proof on file")
    expect(row).to_have_count(1)
    _shot(page, "approvals")
    row.locator("input[name=note]").fill("documented, approved")
    row.locator("button[value=approve]").click()
    expect(page.locator(".flash")).to_contain_text("approved")
    for name, path in (("routing", "/routing"), ("rules", "/rules"), ("sop", "/sop")):
        page.goto(base + path)
        expect(page.locator("h1")).to_be_visible()
        _shot(page, name)
    page.context.close()


def _auditor(page, base: str, expect) -> None:  # type: ignore[no-untyped-def]
    _sign_in(page, base, "auditor")
    page.wait_for_url(base + "/audit")
    page.fill("input[name=action]", "approval.decide")
    page.click("form.filters button[type=submit]")
    entry = page.locator("table.audit tbody tr").first
    expect(entry).to_contain_text("manager")
    expect(entry).to_contain_text("approval.decide")
    expect(entry).to_contain_text("status=approved")
    page.goto(base + "/audit?action=touch.create")
    expect(page.locator("table.audit tbody")).to_contain_text("biller")
    _shot(page, "audit")
    assert page.locator("table.audit form").count() == 0  # read-only: nothing to submit on the log
    page.context.close()


NEW_PASSWORD = "a brand new password 1"
RESET_PASSWORD = "the reset password 22"


def test_admin_and_auditor_in_the_browser(server: str) -> None:
    """An admin adds a user, changes the role, resets the password (the old one stops working) and
    deactivates the account (its session ends); a biller is refused the admin page; the auditor finds
    every one of those changes in the read-only audit log, without a password or its hash."""
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        try:
            new = lambda: browser.new_context(viewport={"width": 1400, "height": 900}).new_page()  # noqa: E731
            _admin(new(), new, server, sync_api.expect)
            _auditor_reads_the_admin_trail(new(), server, sync_api.expect)
        finally:
            browser.close()


def _user_row(page, username: str):  # type: ignore[no-untyped-def]
    return page.locator("main table tbody tr", has=page.locator("td:first-child", has_text=username))


def _admin(page, new_page, base: str, expect) -> None:  # type: ignore[no-untyped-def]
    _sign_in(page, base, "admin")
    page.wait_for_url(base + "/admin/users")
    expect(page.locator("h1")).to_have_text("Users and roles")
    # add a biller
    form = page.locator("section.card form")
    form.locator("input[name=username]").fill("dana")
    form.locator("input[name=display_name]").fill("Dana Follow-up")
    form.locator("select[name=role]").select_option("biller")
    form.locator("input[name=skills]").fill("appeals")
    form.locator("input[name=password]").fill(NEW_PASSWORD)
    form.locator("button[type=submit]").click()
    expect(page.locator(".flash")).to_have_text("user dana created")
    row = _user_row(page, "dana")
    expect(row).to_have_count(1)
    expect(row.locator("select[name=role]")).to_have_value("biller")
    # dana signs in (her own browser context) and works as a biller
    dana = new_page()
    _sign_in(dana, base, "dana", NEW_PASSWORD)
    dana.wait_for_url(base + "/queue")
    response = dana.goto(base + "/admin/users")  # not hers: 403
    assert response is not None and response.status == 403
    # promote her to manager
    row.locator("select[name=role]").select_option("manager")
    row.locator("input[name=daily_capacity]").fill("25")
    row.locator("button", has_text="Save").click()
    expect(page.locator(".flash")).to_have_text("user dana saved")
    expect(_user_row(page, "dana").locator("select[name=role]")).to_have_value("manager")
    dana.goto(base + "/dashboard")  # the new role takes effect for her open session
    expect(dana.locator("h1")).to_be_visible()
    assert "/dashboard" in dana.url
    _shot(page, "users")
    # reset her password: her session ends, the old password fails, the new one works
    _user_row(page, "dana").locator("input[name=password]").fill(RESET_PASSWORD)
    _user_row(page, "dana").locator("button", has_text="Reset").click()
    expect(page.locator(".flash")).to_have_text("password of dana reset")
    dana.goto(base + "/queue")
    assert "/login" in dana.url
    _sign_in(dana, base, "dana", NEW_PASSWORD)
    expect(dana.locator("[role=alert]")).to_have_text("Wrong user name or password.")
    _sign_in(dana, base, "dana", RESET_PASSWORD)
    dana.wait_for_url(base + "/dashboard")
    # deactivate her: the session she has stops working, and she cannot sign in again
    _user_row(page, "dana").locator("input[name=active]").uncheck()
    _user_row(page, "dana").locator("button", has_text="Save").click()
    expect(page.locator(".flash")).to_have_text("user dana saved")
    expect(_user_row(page, "dana").locator("input[name=active]")).not_to_be_checked()
    dana.goto(base + "/dashboard")
    assert "/login" in dana.url
    _sign_in(dana, base, "dana", RESET_PASSWORD)
    expect(dana.locator("[role=alert]")).to_have_text("Wrong user name or password.")
    dana.context.close()
    page.context.close()


def _auditor_reads_the_admin_trail(page, base: str, expect) -> None:  # type: ignore[no-untyped-def]
    _sign_in(page, base, "auditor")
    page.wait_for_url(base + "/audit")
    page.fill("input[name=who]", "admin")
    page.fill("input[name=action]", "user.")
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**action=user.**")
    table = page.locator("table.audit tbody")
    actions = [a.strip() for a in table.locator("td:nth-child(3)").all_inner_texts()]
    # newest first: deactivated, promoted... the whole trail of the admin's changes to dana
    assert actions == ["user.update", "user.password", "user.update", "user.create"], actions
    expect(table.locator("tr").first).to_contain_text("active=False")
    expect(table.locator("tr").nth(2)).to_contain_text("role=manager")
    expect(table.locator("tr").nth(3)).to_contain_text("role=biller")
    _shot(page, "audit_admin")
    html = page.content()
    assert NEW_PASSWORD not in html and RESET_PASSWORD not in html and "argon2" not in html
    # her failed sign-in with the old password is there too, by the system
    page.goto(base + "/audit?action=login.failed")
    expect(table.locator("tr").first).to_contain_text("login.failed")
    # read-only: the only forms are the search (GET) and sign-out; changing users is refused
    assert page.locator("main form[method=post]").count() == 0
    response = page.goto(base + "/admin/users")
    assert response is not None and response.status == 403
    page.context.close()
