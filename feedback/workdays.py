"""Working time: due times and elapsed time counted in working days, in the site's time zone.

A working day is one of the working weekdays (setting WORKING_DAYS), not a holiday (HOLIDAYS),
between the working hours (WORKING_HOURS). "Two working days" means two working days' worth of
working hours: a follow-up created on Friday at 17:00 with office hours 09:00-18:00 is due on
Tuesday at 17:00; one created on Saturday is due at the end of Tuesday. Knows nothing of Flask:
build it from a config mapping. Times in and out are naive UTC, as the database stores them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

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


def parse_holidays(text: str) -> frozenset[date]:
    """'2026-10-01, 2026-10-02' -> dates."""
    try:
        return frozenset(date.fromisoformat(p.strip()) for p in text.split(",") if p.strip())
    except ValueError as exc:
        raise ValueError(f"holidays must be dates like 2026-10-01: {exc}") from None


@dataclass(frozen=True)
class WorkingTime:
    days: frozenset[int]
    start: time
    end: time
    tz: ZoneInfo
    holidays: frozenset[date] = frozenset()

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> WorkingTime:
        start, end = parse_hours(config.get("WORKING_HOURS") or "09:00-18:00")
        return cls(
            parse_days(config.get("WORKING_DAYS") or "mon-fri"),
            start,
            end,
            ZoneInfo(config.get("TIMEZONE") or "Asia/Shanghai"),
            parse_holidays(config.get("HOLIDAYS") or ""),
        )

    @property
    def day_seconds(self) -> float:
        return (
            datetime.combine(date.min, self.end) - datetime.combine(date.min, self.start)
        ).total_seconds()

    def is_working_day(self, day: date) -> bool:
        return day.weekday() in self.days and day not in self.holidays

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
        raise ValueError("no working day within ten years: check WORKING_DAYS and HOLIDAYS")

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
