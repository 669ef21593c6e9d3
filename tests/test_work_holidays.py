"""SOP business days skip holidays as well as weekends: the built-in US federal calendar (observed dates),
a user's own CSV file, or none; the SOP due-date SQL of ``queue refresh`` on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from everyclaim.work import holidays as hd
from everyclaim.work import routing as rt
from everyclaim.work.errors import Invalid
from everyclaim.work.refresh import refresh
from everyclaim.work.schema import work_items
from everyclaim.work.settings import WorkSettings
from tests.work_data import clear_triage, result_row, write_run

MONDAY = date(2026, 11, 9)  # Veterans Day is Wednesday 2026-11-11


def test_us_federal_lists_observed_days() -> None:
    days = hd.load_holidays("us_federal")
    # a Saturday holiday is off the Friday before, a Sunday one the Monday after (OPM)
    assert days[date(2026, 7, 3)] == "Independence Day (observed)" and date(2026, 7, 4) not in days
    assert days[date(2021, 12, 31)] == "New Year's Day (observed)"  # 2022-01-01 was a Saturday
    assert days[date(2023, 1, 2)] == "New Year's Day (observed)"  # 2023-01-01 was a Sunday
    assert days[date(2026, 11, 26)] == "Thanksgiving Day" and days[date(2026, 1, 19)].startswith("Birthday of Martin")
    assert date(2020, 6, 19) not in days and date(2021, 6, 18) in days  # Juneteenth from 2021 (a Saturday)
    for year in range(2015, 2041):
        in_year = [d for d in days if d.year == year]
        assert all(d.weekday() < 5 for d in in_year)  # a day off is always a weekday
        assert 10 <= len(in_year) <= 13, year
    assert hd.load_holidays("none") == {}
    assert "us_federal" in hd.builtin_names()


def test_a_users_own_file_and_its_errors(tmp_path: Path) -> None:
    own = tmp_path / "clinic.csv"
    own.write_text("# our office\ndate,name\n2026-11-12,Staff day\n2026-11-27,Day after Thanksgiving\n")
    assert hd.load_holidays(str(own)) == {date(2026, 11, 12): "Staff day", date(2026, 11, 27): "Day after Thanksgiving"}
    bad = tmp_path / "bad.csv"
    bad.write_text("date,name\n2026-11-12,ok\n12/24/2026,not ISO\n")
    days, errors = hd.read_holidays(bad)
    assert days == {date(2026, 11, 12): "ok"} and errors == [f"{bad}:3: not a date (YYYY-MM-DD): '12/24/2026'"]
    with pytest.raises(Invalid, match="bad.csv:3"):
        hd.load_holidays(str(bad))
    with pytest.raises(Invalid, match="header"):
        (tmp_path / "nohead.csv").write_text("2026-11-12,x\n")
        hd.load_holidays(str(tmp_path / "nohead.csv"))
    with pytest.raises(Invalid, match="neither a built-in"):
        hd.load_holidays("mars_holidays")
    with pytest.raises(Invalid, match="cannot read"):
        hd.load_holidays(str(tmp_path / "missing.csv"))


def test_business_days_skip_holidays() -> None:
    federal = hd.load_holidays("us_federal")
    assert rt.add_business_days(MONDAY, 5) == date(2026, 11, 16)  # weekends only
    assert rt.add_business_days(MONDAY, 5, federal) == date(2026, 11, 17)  # Veterans Day off
    assert rt.add_business_days(date(2026, 11, 25), 1, federal) == date(2026, 11, 27)  # Thanksgiving off
    assert rt.add_business_days(date(2026, 12, 24), 1, federal) == date(2026, 12, 28)  # Christmas, weekend


@pytest.fixture
def db(engine: sa.Engine) -> sa.Engine:
    with engine.begin() as conn:
        clear_triage(conn)
    return engine


@pytest.mark.parametrize("choice", ["none", "us_federal", "own"])
def test_refresh_counts_sop_days_through_the_calendar(db: sa.Engine, tmp_path: Path, choice: str) -> None:
    own = tmp_path / "own.csv"
    own.write_text("date,name\n2026-11-11,Veterans Day\n2026-11-13,Staff day\n")
    setting = str(own) if choice == "own" else choice
    expected = rt.add_business_days(MONDAY, 5, hd.load_holidays(setting))
    assert expected == {"none": date(2026, 11, 16), "us_federal": date(2026, 11, 17),
                        "own": date(2026, 11, 18)}[choice]  # fmt: skip
    # the built-in SOP: a no-response claim gets a status inquiry within 5 business days of entering the queue
    with db.begin() as conn:
        write_run(conn, [result_row("STATUS", action="status_inquiry", balance=7_000)], as_of=MONDAY)
        refresh(conn, now=datetime(2026, 11, 9, 9, tzinfo=UTC), settings=WorkSettings(holidays=setting))
        item = conn.execute(sa.select(work_items).where(work_items.c.pcn == "STATUS")).one()
    assert (item.sop_action, item.sop_due) == ("status_inquiry", expected)


def test_a_bad_holiday_setting_stops_refresh(db: sa.Engine, tmp_path: Path) -> None:
    with db.begin() as conn:
        write_run(conn, [result_row("STATUS", action="status_inquiry")], as_of=MONDAY)
    with pytest.raises(Invalid, match="not a date"), db.begin() as conn:
        (tmp_path / "x.csv").write_text("date,name\nsoon,party\n")
        refresh(conn, settings=WorkSettings(holidays=str(tmp_path / "x.csv")))
    assert WorkSettings.from_env({"EVERYCLAIM_HOLIDAYS": "none"}).holidays == "none"
