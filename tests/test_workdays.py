"""Working time against hand-worked cases (Asia/Shanghai is UTC+8, office hours 09:00-18:00)."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from support import PASSWORD, in_app

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


# --- the official calendar (HOLIDAY_COUNTRY) ---------------------------------------------------

CHINA = {**CONFIG, "HOLIDAY_COUNTRY": "CN"}
# The State Council's 2026 notice (国办发明电〔2025〕7号): the days off that fall on weekdays and
# the make-up working days, as the installed holidays package must know them.
CHINA_2026_OFF = (
    "2026-01-01 2026-01-02 2026-02-16 2026-02-17 2026-02-18 2026-02-19 2026-02-20 2026-02-23 "
    "2026-04-06 2026-05-01 2026-05-04 2026-05-05 2026-06-19 2026-09-25 2026-10-01 2026-10-02 "
    "2026-10-05 2026-10-06 2026-10-07"
).split()
CHINA_2026_MAKE_UP = "2026-01-04 2026-02-14 2026-02-28 2026-05-09 2026-09-20 2026-10-10".split()


def test_the_issues_example_friday_before_spring_festival():
    """Friday 02-13 17:00 + 2 working days: Saturday 02-14 is worked (调休), 02-16..02-23 are off."""
    assert WorkingTime.from_config(CHINA).add(utc("2026-02-13 17:00"), 2) == utc("2026-02-24 17:00")
    # The same public holidays without the make-up Saturday land a day later, as before.
    own_list = {
        **CONFIG,
        "HOLIDAYS": ",".join(d for d in CHINA_2026_OFF if d.startswith("2026-02")),
    }
    assert WorkingTime.from_config(own_list).add(utc("2026-02-13 17:00"), 2) == utc(
        "2026-02-25 17:00"
    )


def test_china_2026_as_the_state_council_published_it():
    working = WorkingTime.from_config(CHINA)
    for day in CHINA_2026_OFF:
        assert not working.is_working_day(date.fromisoformat(day)), day
    for day in CHINA_2026_MAKE_UP:
        assert date.fromisoformat(day).weekday() >= 5, day  # a Saturday or a Sunday
        assert working.is_working_day(date.fromisoformat(day)), day
    worked = [d for d in _days("2026-01-01", "2026-12-31") if working.is_working_day(d)]
    # 261 weekdays, 19 of them off, 6 weekend days worked: nothing else differs.
    assert len(worked) == _weekdays(2026) - len(CHINA_2026_OFF) + len(CHINA_2026_MAKE_UP) == 248


def _days(first: str, last: str) -> list[date]:
    start, end = date.fromisoformat(first), date.fromisoformat(last)
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


def _weekdays(year: int) -> int:
    return sum(d.weekday() < 5 for d in _days(f"{year}-01-01", f"{year}-12-31"))


def test_the_whole_spring_festival_week():
    working = WorkingTime.from_config(CHINA)
    expected = {  # 02-13 .. 03-02: the nine days off 02-15..02-23, two make-up Saturdays
        "2026-02-13": True,  # Friday
        "2026-02-14": True,  # Saturday, worked
        "2026-02-15": False,  # Sunday
        "2026-02-16": False,  # Chinese New Year's Eve
        "2026-02-17": False,
        "2026-02-18": False,
        "2026-02-19": False,
        "2026-02-20": False,  # Friday, in exchange for 02-14
        "2026-02-21": False,
        "2026-02-22": False,
        "2026-02-23": False,  # Monday, in exchange for 02-28
        "2026-02-24": True,
        "2026-02-27": True,
        "2026-02-28": True,  # Saturday, worked
        "2026-03-01": False,  # Sunday
        "2026-03-02": True,
    }
    assert {d: working.is_working_day(date.fromisoformat(d)) for d in expected} == expected
    # Elapsed working time across the break: Friday's last hour, Saturday, Tuesday's morning.
    assert working.between(utc("2026-02-13 17:00"), utc("2026-02-24 13:30")) == pytest.approx(
        (1 + 9 + 4.5) / 9
    )
    # Five working days from the Thursday before: Fri, Sat 14, Tue 24, Wed 25, Thu 26.
    assert working.add(utc("2026-02-12 18:00"), 5) == utc("2026-02-26 18:00")


def test_the_sites_own_lists_override_the_official_calendar_both_ways():
    start = utc("2026-02-13 17:00")
    # The office keeps Saturday 02-14 off after all: a day later.
    off = WorkingTime.from_config({**CHINA, "HOLIDAYS": "2026-02-14"})
    assert not off.is_working_day(date(2026, 2, 14))
    assert off.add(start, 2) == utc("2026-02-25 17:00")
    # The office opens on the official holiday Monday 02-23: due that day.
    extra = WorkingTime.from_config({**CHINA, "EXTRA_WORKING_DAYS": "2026-02-23"})
    assert extra.is_working_day(date(2026, 2, 23))
    assert extra.add(start, 2) == utc("2026-02-23 17:00")
    # An extra working day also beats WORKING_DAYS without any country.
    sunday = WorkingTime.from_config({**CONFIG, "EXTRA_WORKING_DAYS": "2026-11-22"})
    assert sunday.add(utc("2026-11-20 17:00"), 2) == utc("2026-11-23 17:00")


def test_a_make_up_day_is_worked_even_outside_the_working_weekdays():
    """A six-day office (mon-sat) still works the make-up Sunday 2026-01-04 and 2026-09-20."""
    working = WorkingTime.from_config({**CHINA, "WORKING_DAYS": "mon-sat"})
    assert working.is_working_day(date(2026, 1, 4))
    assert working.is_working_day(date(2026, 1, 3)) is True  # a Saturday, not an official day off
    assert not working.is_working_day(date(2026, 1, 2))  # the official holiday Friday


def test_without_a_country_nothing_changes():
    plain = WorkingTime.from_config(CONFIG)
    assert plain.country == ""
    assert plain.is_working_day(date(2026, 2, 16)) and not plain.is_working_day(date(2026, 2, 14))


def test_next_years_arrangement_unknown_is_named_from_november():
    from feedback import workdays

    # holidays 0.109 knows China's 2026 arrangement (published November 2025), not 2027's.
    assert workdays.calendar_gaps(CHINA, today=date(2026, 6, 1)) == []
    assert workdays.calendar_gaps(CHINA, today=date(2026, 10, 31)) == []
    assert workdays.calendar_gaps(CHINA, today=date(2026, 11, 1)) == [2027]
    assert workdays.calendar_gaps(CHINA, today=date(2026, 12, 4)) == [2027]
    # An installed package that does not know this year's arrangement either: both years.
    assert workdays.calendar_gaps(CHINA, today=date(2027, 11, 2)) == [2027, 2028]
    # The site entered the arrangement itself: no warning for that year.
    entered = {**CHINA, "EXTRA_WORKING_DAYS": "2027-02-07"}
    assert workdays.calendar_gaps(entered, today=date(2026, 12, 4)) == []
    # No country, or a country without yearly arrangements (fixed by law): never.
    assert workdays.calendar_gaps(CONFIG, today=date(2026, 12, 4)) == []
    assert workdays.calendar_gaps({"HOLIDAY_COUNTRY": "DE"}, today=date(2026, 12, 4)) == []


def test_settings_name_the_problem():
    from feedback.settings import SettingError, from_environment

    assert from_environment({"FEEDBACK_HOLIDAY_COUNTRY": "cn"})["HOLIDAY_COUNTRY"] == "cn"
    for environ, words in [
        ({"FEEDBACK_HOLIDAY_COUNTRY": "XX"}, r"FEEDBACK_HOLIDAY_COUNTRY: .*knows no country 'XX'"),
        ({"FEEDBACK_HOLIDAY_COUNTRY": "China"}, "FEEDBACK_HOLIDAY_COUNTRY: .*such as CN"),
        ({"FEEDBACK_EXTRA_WORKING_DAYS": "2026-02-30"}, "FEEDBACK_EXTRA_WORKING_DAYS: extra work"),
        (
            {"FEEDBACK_HOLIDAYS": "2026-02-14", "FEEDBACK_EXTRA_WORKING_DAYS": "2026-02-14"},
            "FEEDBACK_HOLIDAYS and FEEDBACK_EXTRA_WORKING_DAYS both name 2026-02-14",
        ),
    ]:
        with pytest.raises(SettingError, match=words):
            from_environment(environ)
    with pytest.raises(ValueError, match="HOLIDAYS and EXTRA_WORKING_DAYS both name 2026-02-14"):
        WorkingTime.from_config(
            {**CHINA, "HOLIDAYS": "2026-02-14", "EXTRA_WORKING_DAYS": "2026-02-14"}
        )


@given(st.text(max_size=40))
def test_the_calendar_settings_take_any_text(text):
    from feedback.workdays import parse_country, parse_extra_working_days

    for parse in (parse_country, parse_extra_working_days):
        try:
            parse(text)
        except ValueError:
            pass


def test_the_admin_page_warns_in_both_languages(make_app, monkeypatch):
    from support import client_for

    from feedback import accounts, workdays

    app = make_app(HOLIDAY_COUNTRY="CN")
    with in_app(app):
        accounts.create_user("admin", PASSWORD, "admin")
    admin = client_for(app, "admin")
    monkeypatch.setattr(workdays, "local_today", lambda tz: date(2026, 12, 4))
    english = admin.get("/admin/?lang=en").get_data(as_text=True)
    assert "official working calendar of CN for 2027" in english
    assert "FEEDBACK_EXTRA_WORKING_DAYS" in english
    chinese = admin.get("/admin/?lang=zh_CN").get_data(as_text=True)
    assert "尚不知道 CN 2027 年的官方放假安排" in chinese and "调休" in chinese
    # In June next year's arrangement is not due yet; this year's is known: no warning.
    monkeypatch.setattr(workdays, "local_today", lambda tz: date(2026, 6, 1))
    assert 'class="warning"' not in admin.get("/admin/?lang=en").get_data(as_text=True)
    # The real clock reaches the function (Asia/Shanghai, the site's zone).
    monkeypatch.undo()
    assert (
        workdays.local_today(ZoneInfo("Asia/Shanghai"))
        == datetime.now(ZoneInfo("Asia/Shanghai")).date()
    )


def test_no_warning_without_a_country(app, monkeypatch):
    from support import client_for

    from feedback import accounts, workdays

    with in_app(app):
        accounts.create_user("admin", PASSWORD, "admin")
    monkeypatch.setattr(workdays, "local_today", lambda tz: date(2026, 12, 4))
    page = client_for(app, "admin").get("/admin/?lang=en").get_data(as_text=True)
    assert "Surveys and versions" in page and 'class="warning"' not in page
