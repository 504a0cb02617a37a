"""Working time against hand-worked cases (Asia/Shanghai is UTC+8, office hours 09:00-18:00)."""

from datetime import date, datetime, timedelta

import pytest

from feedback.workdays import WorkingTime, parse_days, parse_holidays, parse_hours

CONFIG = {"TIMEZONE": "Asia/Shanghai", "WORKING_DAYS": "mon-fri", "WORKING_HOURS": "09:00-18:00"}


def utc(local_text: str) -> datetime:
    """A Shanghai local time as the naive UTC the database stores."""
    local = datetime.fromisoformat(local_text)
    return local - timedelta(hours=8)


@pytest.mark.parametrize(
    "created, days, due",
    [
        ("2026-11-20 17:00", 2, "2026-11-24 17:00"),  # Friday 17:00 + 2 -> Tuesday 17:00
        ("2026-11-21 10:00", 2, "2026-11-24 18:00"),  # Saturday -> end of Tuesday
        ("2026-11-23 08:00", 1, "2026-11-23 18:00"),  # before opening: the whole Monday
        ("2026-11-23 12:30", 0.5, "2026-11-23 17:00"),  # half a day = 4.5 h
        ("2026-11-23 19:00", 5, "2026-11-30 18:00"),  # after closing: Tue..Mon
        ("2026-11-23 18:00", 1, "2026-11-24 18:00"),  # exactly at closing
    ],
)
def test_due_times(created, days, due):
    assert WorkingTime.from_config(CONFIG).add(utc(created), days) == utc(due)


def test_holidays_are_skipped():
    config = {**CONFIG, "HOLIDAYS": "2026-11-24, 2026-11-25"}
    assert WorkingTime.from_config(config).add(utc("2026-11-23 17:00"), 1) == utc(
        "2026-11-26 17:00"
    )


def test_between_counts_only_working_time():
    working = WorkingTime.from_config(CONFIG)
    assert working.between(utc("2026-11-20 17:00"), utc("2026-11-24 17:00")) == pytest.approx(2)
    assert working.between(utc("2026-11-21 10:00"), utc("2026-11-22 20:00")) == 0
    assert working.between(utc("2026-11-23 13:30"), utc("2026-11-23 18:00")) == pytest.approx(0.5)
    assert working.between(utc("2026-11-24 10:00"), utc("2026-11-23 10:00")) == 0
    for created, days in [("2026-11-20 17:00", 2), ("2026-11-21 03:00", 3.25)]:
        assert working.between(utc(created), working.add(utc(created), days)) == pytest.approx(days)


def test_parsers_name_the_problem():
    assert parse_days("mon-wed, fri") == {0, 1, 2, 4}
    assert parse_hours("08:30-17:30")[0].minute == 30
    assert parse_holidays("2027-02-17,2027-02-18") == {date(2027, 2, 17), date(2027, 2, 18)}
    for parse, bad, words in [
        (parse_days, "mon-xyz", "unknown weekday"),
        (parse_days, "fri-mon", "forwards"),
        (parse_hours, "18:00-09:00", "after its start"),
        (parse_hours, "nine to five", "like 09:00-18:00"),
        (parse_holidays, "2027-13-01", "dates like"),
    ]:
        with pytest.raises(ValueError, match=words):
            parse(bad)
