"""The work-queue commands end to end on a SQLite file: users, routing, queue refresh and show."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from everyclaim.cli.app import app
from everyclaim.ledger.db import make_engine, upgrade
from tests.work_data import result_row, write_run


def test_users_routing_and_queue_commands(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/w.db"
    engine = make_engine(url)
    upgrade(engine)
    with engine.begin() as conn:
        rows = [result_row("A", action="appeal"), result_row("B", action="review"), result_row("C", tier="simple_fix")]
        rows[0]["features"] = {"days_since_denial": 3}
        write_run(conn, rows)
    engine.dispose()
    run = CliRunner().invoke
    made = run(app, ["users", "create", "ann", "--skills", "appeals", "--password-stdin", "--db", url],
               input="a long password\n")  # fmt: skip
    assert made.exit_code == 0, made.output
    short = run(app, ["users", "create", "ben", "--password-stdin", "--db", url], input="short\n")
    assert short.exit_code == 1 and "at least 10 characters" in short.output
    first = run(app, ["queue", "refresh", "--json", "--db", url])
    assert first.exit_code == 0, first.output
    res = json.loads(first.output)
    assert (res["source"], res["inserted"], res["assigned"]) == (2, 2, 2)
    again = json.loads(run(app, ["queue", "refresh", "--json", "--db", url]).output)
    assert (again["inserted"], again["updated"], again["unchanged"]) == (0, 0, 2)
    # weekends only: the appeal's 10 business days from the denial no longer skip Veterans Day (2026-11-11)
    weekends = json.loads(run(app, ["queue", "refresh", "--json", "--holidays", "none", "--db", url]).output)
    assert (weekends["updated"], weekends["unchanged"]) == (1, 1)
    run(app, ["queue", "refresh", "--db", url])  # back to the default calendar
    (tmp_path / "days.csv").write_text("date,name\nnot a day,x\n")
    bad_days = run(app, ["queue", "refresh", "--holidays", str(tmp_path / "days.csv"), "--db", url])
    assert bad_days.exit_code == 1 and "days.csv:2: not a date" in " ".join(bad_days.output.split())
    queues = json.loads(run(app, ["queue", "show", "--json", "--db", url]).output)["queues"]
    assert {q["queue"]: q["open"] for q in queues} == {"appeals": 1, "general": 1}
    rules = json.loads(run(app, ["routing", "list", "--json", "--db", url]).output)["rules"]
    assert rules[-1]["id"] == "sop.default"
    bad = tmp_path / "bad.yaml"
    bad.write_text("rules:\n  - {id: x, queue: q}\n")
    checked = run(app, ["routing", "check", str(bad)])
    assert checked.exit_code == 1 and "description" in checked.output
    audit = json.loads(run(app, ["queue", "sop-audit", "--today", "2026-12-31", "--json", "--db", url]).output)
    assert audit["totals"]["overdue"] == 1 and audit["flagged"][0]["pcn"] == "A"  # the appeal was never made
    assert run(app, ["queue", "sop-audit", "--today", "31/12/2026", "--db", url]).exit_code == 2
    no_atb = run(app, ["kpis", "--db", url])
    assert no_atb.exit_code == 1 and "no A/R snapshot" in no_atb.output
    k = json.loads(run(app, ["kpis", "--as-of", "2026-11-02", "--json", "--db", url]).output)
    assert k["automation_share"] == "0.3333" and k["days_in_ar"] is None  # one of three triaged is automated
    users = json.loads(run(app, ["users", "list", "--json", "--db", url]).output)["users"]
    assert [(x["username"], x["skills"]) for x in users] == [("ann", ["appeals"])]
