"""End to end in a real browser: ``everyclaim serve`` on the seeded office, Debian's chromium driven by
Playwright. A biller signs in, filters the queue, opens a claim, records a touch, asks for a write-off,
bulk-touches two claims and is refused the approvals page (403); a manager approves the write-off; an
auditor finds the approval in the audit log.

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


def _sign_in(page: object, base: str, username: str) -> None:
    p = page  # type: ignore[assignment]
    p.goto(base + "/login")  # type: ignore[attr-defined]
    p.fill("input[name=username]", username)  # type: ignore[attr-defined]
    p.fill("input[name=password]", PASSWORD)  # type: ignore[attr-defined]
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
