"""The local day, week and month of a moment: the periods reports count by."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

# The last day a report filter may name. Reports reach past a period's end (to the end of its
# month, its week, the next day) and Python's calendar stops at 9999-12-31: a year of margin.
LAST_DAY = date(9998, 12, 31)


@dataclass(frozen=True)
class Periods:
    day: date
    week: date  # its Monday
    month: date  # its first day


def periods(moment_utc: datetime, tz: str) -> Periods:
    """The day, week and month of a naive-UTC moment, in the site's time zone."""
    local = moment_utc.replace(tzinfo=UTC).astimezone(ZoneInfo(tz)).date()
    return Periods(
        day=local, week=local - timedelta(days=local.weekday()), month=local.replace(day=1)
    )
