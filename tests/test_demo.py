"""`everyclaim demo` end to end at a small size: synthesize, ingest into a fresh SQLite ledger, report."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from everyclaim.cli import app


def test_demo_runs_end_to_end_and_reports_what_a_pfs_director_reads_first(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["demo", "--out", str(tmp_path / "demo"), "--claims", "300", "--seed", "3",
                                      "--as-of", "2026-11-01", "--json"])
    assert result.exit_code == 0, result.output
    r = json.loads(result.output)
    ingest = r["ingest"]
    assert ingest["rejected"] == 0 and ingest["accepted"] > 5
    assert ingest["claims"] >= 300  # every synthesized claim was billed at least once
    assert r["open_ar"]["claims"] > 0 and float(r["open_ar"]["dollars"]) > 0
    assert {row["aging"] for row in r["buildup"]["rows"]} == {"0-30", "31-60", "61-180", "181-365", ">365"}
    assert sum(c["claims"] for row in r["buildup"]["rows"] for c in row.values() if isinstance(c, dict)) \
        == r["open_ar"]["claims"]
    assert r["denial_categories"] and all(d["category"] != "contractual" for d in r["denial_categories"])
    assert (tmp_path / "demo" / "everyclaim.db").exists()
    tiers = r["triage"]["by_tier"]
    assert sum(v["claims"] for v in tiers.values()) == r["triage"]["claims"] > 0
    assert set(tiers) <= {"no_opportunity", "simple_fix", "hinted", "manual"}
    story = CliRunner().invoke(app, ["claims", "show", r["example_claim"], "--json", "--db", r["database"]])
    assert story.exit_code == 0, story.output
    triaged = json.loads(story.output)["triage"]
    assert triaged["tier"] in tiers and triaged["rule_id"] and triaged["hint"]
    assert triaged["evidence"]["pcn"] == r["example_claim"]
    web = r["web"]  # the demo ends with the web work queue: serve command and one sign-in per role
    assert web["serve"] == f"everyclaim serve --db {r['database']}"
    assert {u["role"] for u in web["users"]} == {"admin", "manager", "biller", "auditor"}
    assert all(len(u["password"]) >= 10 for u in web["users"])
    econ = r["economics"]
    assert econ["threshold"]["threshold"] == "40.33" and econ["score"]["claims"] == r["triage"]["claims"]
    assert econ["score"]["model"] == "priors"  # 60 resolved denials: too few to train
    assert 0 <= econ["capacity"]["unworked_share"] <= 1 and econ["simulation"]["productivity_ratio"] >= 1
    # a second run starts from nothing: same answers
    again = CliRunner().invoke(app, ["demo", "--out", str(tmp_path / "demo"), "--claims", "300", "--seed", "3",
                                     "--as-of", "2026-11-01", "--json"])
    assert json.loads(again.output)["open_ar"] == r["open_ar"]
