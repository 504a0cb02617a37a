"""Working time: due times and elapsed time counted in working days, in the site's time zone.

A working day is one of the working weekdays (setting WORKING_DAYS), not a holiday (HOLIDAYS),
between the working hours (WORKING_HOURS). "Two working days" means two working days' worth of
working hours: a follow-up created on Friday at 17:00 with office hours 09:00-18:00 is due on
Tuesday at 17:00; one created on Saturday is due at the end of Tuesday. Knows nothing of Flask:
build it from a config mapping. Times in and out are naive UTC, as the database stores them.

With HOLIDAY_COUNTRY set (CN), a country's official calendar comes from the ``holidays``
package: its public holidays are days off and its make-up working days (调休, a Saturday or
Sunday worked in exchange for a longer holiday) are working days, whatever WORKING_DAYS says.
The site's own lists override it both ways: a date in HOLIDAYS is a day off, one in
EXTRA_WORKING_DAYS a working day. China publishes each year's arrangement in November;
``calendar_gaps`` names the years the installed package does not know yet (the admin page warns).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from .cache import cached

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def parse_days(text: str) -> frozenset[int]:
    """'mon,tue,wed,thu,fri' or 'mon-fri' (or a mix) -> weekday numbers (Monday 0)."""
    days: set[int] = set()
    for part in (p.strip().lower() for p in text.split(",") if p.strip()):
        first, _, last = part.partition("-")
        if first not in WEEKDAYS or (last and last not in WEEKDAYS):
            raise ValueError(f"unknown weekday in {part!r}: use {', '.join(WEEKDAYS)}")
        a, b = WEEKDAYS.index(first), WEEKDAYS.index(last or first)
        if b < a:
            raise ValueError(f"{part!r}: the range must run forwards (mon-fri)")
        days.update(range(a, b + 1))
    if not days:
        raise ValueError("name at least one working day")
    return frozenset(days)


def parse_hours(text: str) -> tuple[time, time]:
    """'09:00-18:00' -> (09:00, 18:00)."""
    try:
        start, end = (time.fromisoformat(p.strip()) for p in text.split("-"))
    except ValueError:
        raise ValueError(f"expected hours like 09:00-18:00, got {text!r}") from None
    if end <= start:
        raise ValueError(f"{text!r}: the end of the working day must come after its start")
    return start, end


def parse_dates(text: str, what: str = "holidays") -> frozenset[date]:
    """'2026-10-01, 2026-10-02' -> dates."""
    try:
        return frozenset(date.fromisoformat(p.strip()) for p in text.split(",") if p.strip())
    except ValueError as exc:
        raise ValueError(f"{what} must be dates like 2026-10-01: {exc}") from None


def parse_holidays(text: str) -> frozenset[date]:
    """HOLIDAYS: '2026-10-01, 2026-10-02' -> dates."""
    return parse_dates(text, "holidays")


def parse_extra_working_days(text: str) -> frozenset[date]:
    """EXTRA_WORKING_DAYS: '2026-10-10' -> dates."""
    return parse_dates(text, "extra working days")


def parse_country(text: str) -> str:
    """HOLIDAY_COUNTRY: '' (no official calendar) or a code the holidays package knows ('CN')."""
    code = text.strip().upper()
    if not code:
        return ""
    try:
        import holidays
    except ImportError:  # pragma: no cover - it is in requirements.txt
        raise ValueError("needs the holidays package (pip install holidays)") from None
    if code not in holidays.list_supported_countries():
        raise ValueError(
            f"the holidays package knows no country {text.strip()!r}: use an ISO 3166 code "
            "such as CN (empty: no official calendar)"
        )
    return code


def check_overrides(holidays_text: str, extra_text: str, prefix: str = "") -> None:
    """A date may be a holiday or an extra working day, not both (``prefix``: FEEDBACK_)."""
    both = parse_holidays(holidays_text) & parse_extra_working_days(extra_text)
    if both:
        named = ", ".join(sorted(d.isoformat() for d in both))
        raise ValueError(
            f"{prefix}HOLIDAYS and {prefix}EXTRA_WORKING_DAYS both name {named}: a date is "
            "either a day off or a working day"
        )


@dataclass(frozen=True)
class OfficialYear:
    """One year of a country's official calendar, as the installed holidays package knows it."""

    days_off: frozenset[date]
    working_days: frozenset[date]  # make-up working days (调休) on a weekend


@cached(64)
def official_year(country: str, year: int) -> OfficialYear:
    """The official days off and make-up working days of ``year`` (fixed for the installed
    package, so kept for the life of the process)."""
    import holidays

    # A make-up day can lie in the year before the holiday it pays for (late December for New
    # Year's Day): the next year's arrangement is read too, and each date kept in its own year.
    calendar = holidays.country_holidays(country, years=(year, year + 1))
    return OfficialYear(
        frozenset(day for day in calendar if day.year == year),
        frozenset(day for day in calendar.weekend_workdays if day.year == year),
    )


# China's State Council publishes the next year's arrangement in late October or November: from
# this month on the admin page warns while the installed package does not know it.
NEXT_YEAR_WARNING_MONTH = 11
# A country whose package data had make-up working days in one of these last years publishes a
# yearly arrangement (China does every year); others (fixed holidays by law) never get a warning.
_ARRANGEMENT_YEARS_BACK = 5


def local_today(tz: ZoneInfo) -> date:
    """Today in the site's time zone (tests replace it)."""
    return datetime.now(tz).date()


def calendar_gaps(config: Mapping[str, Any], today: date | None = None) -> list[int]:
    """The years (this one; the next from November) whose official arrangement of working days
    HOLIDAY_COUNTRY publishes yearly but the installed holidays package does not know yet, nor
    the site's own HOLIDAYS and EXTRA_WORKING_DAYS name a date of. Empty: nothing to warn of."""
    country = parse_country(config.get("HOLIDAY_COUNTRY") or "")
    if not country:
        return []
    today = today or local_today(ZoneInfo(config.get("TIMEZONE") or "Asia/Shanghai"))
    past = range(today.year - _ARRANGEMENT_YEARS_BACK, today.year + 1)
    if not any(official_year(country, year).working_days for year in past):
        return []
    own = parse_holidays(config.get("HOLIDAYS") or "") | parse_extra_working_days(
        config.get("EXTRA_WORKING_DAYS") or ""
    )
    years = [today.year] + ([today.year + 1] if today.month >= NEXT_YEAR_WARNING_MONTH else [])
    return [
        year
        for year in years
        if not official_year(country, year).working_days and all(d.year != year for d in own)
    ]


@dataclass(frozen=True)
class WorkingTime:
    days: frozenset[int]
    start: time
    end: time
    tz: ZoneInfo
    holidays: frozenset[date] = frozenset()
    country: str = ""  # whose official calendar applies (holidays package); "" none
    extra_working_days: frozenset[date] = frozenset()

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> WorkingTime:
        start, end = parse_hours(config.get("WORKING_HOURS") or "09:00-18:00")
        check_overrides(config.get("HOLIDAYS") or "", config.get("EXTRA_WORKING_DAYS") or "")
        return cls(
            parse_days(config.get("WORKING_DAYS") or "mon-fri"),
            start,
            end,
            ZoneInfo(config.get("TIMEZONE") or "Asia/Shanghai"),
            parse_holidays(config.get("HOLIDAYS") or ""),
            parse_country(config.get("HOLIDAY_COUNTRY") or ""),
            parse_extra_working_days(config.get("EXTRA_WORKING_DAYS") or ""),
        )

    @property
    def day_seconds(self) -> float:
        return (
            datetime.combine(date.min, self.end) - datetime.combine(date.min, self.start)
        ).total_seconds()

    def is_working_day(self, day: date) -> bool:
        """The site's own lists first, then the official calendar, then the working weekdays."""
        if day in self.extra_working_days:
            return True
        if day in self.holidays:
            return False
        if self.country:
            official = official_year(self.country, day.year)
            if day in official.working_days:
                return True
            if day in official.days_off:
                return False
        return day.weekday() in self.days

    def _local(self, utc: datetime) -> datetime:
        return utc.replace(tzinfo=UTC).astimezone(self.tz).replace(tzinfo=None)

    def _utc(self, local: datetime) -> datetime:
        return local.replace(tzinfo=self.tz).astimezone(UTC).replace(tzinfo=None)

    def _windows(self, local: datetime):
        """The working windows (start, end) in local time from the one holding ``local`` on."""
        day = local.date()
        for _ in range(3660):  # ten years of days: enough for any due time
            if self.is_working_day(day):
                opens = datetime.combine(day, self.start)
                closes = datetime.combine(day, self.end)
                if closes > local:
                    yield max(opens, local), closes
            day += timedelta(days=1)
        raise ValueError(
            "no working day within ten years: check WORKING_DAYS, HOLIDAYS and HOLIDAY_COUNTRY"
        )

    def add(self, start_utc: datetime, working_days: float) -> datetime:
        """The moment ``working_days`` days of working time after ``start_utc`` (naive UTC)."""
        remaining = working_days * self.day_seconds
        for opens, closes in self._windows(self._local(start_utc)):
            span = (closes - opens).total_seconds()
            if remaining <= span:
                return self._utc(opens + timedelta(seconds=remaining))
            remaining -= span
        raise AssertionError("unreachable")

    def between(self, start_utc: datetime, end_utc: datetime) -> float:
        """Working days (fractional) from ``start_utc`` to ``end_utc``; 0 when end is earlier."""
        if end_utc <= start_utc:
            return 0.0
        end_local = self._local(end_utc)
        seconds = 0.0
        for opens, closes in self._windows(self._local(start_utc)):
            if opens >= end_local:
                break
            seconds += (min(closes, end_local) - opens).total_seconds()
            if closes >= end_local:
                break
        return seconds / self.day_seconds
