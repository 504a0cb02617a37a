"""Follow-up figures for the dashboard, its chart and the meeting pack: SQL aggregates.

For the follow-ups opened in a period and slice (the dashboard's filters; a follow-up counts on
the day its response was submitted), per team or per week/month:

| key | opened | due_or_contacted | contacted_on_time | contacted | closed | recovered | median_hours |

- opened: follow-ups opened;
- share contacted on time: first contact (or closing) at or before the due time, out of those
  whose due time has passed or that have been contacted (one still open and not yet due is not
  counted against the team); 95% Wilson interval;
- median time to first contact: in hours of the clock (not working hours), over those contacted;
- recovery rate: closed as recovered out of all closed; 95% Wilson interval.

Two queries per table: one GROUP BY for the counts, one for the medians (window functions,
which SQLite 3.25+ and PostgreSQL share). Knows nothing of Flask.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import peewee as pw
from peewee import fn

from . import stats
from .db import database, is_postgres, utcnow
from .i18n import Language
from .models import FollowUp, Response
from .reports import Slice, _response_conditions, count_if, team_names

GROUPS = ("team", "week", "month")


def _key(group_by: str | None) -> pw.Node:
    if group_by is None:
        return pw.Value(0)
    return {"team": FollowUp.team, "week": FollowUp.week, "month": FollowUp.month}[group_by]


def _base(s: Slice, columns: list) -> pw.ModelSelect:
    # A follow-up is opened in the transaction that stores its response, with the response's
    # day (responses.submit): the same day range on the follow-up is redundant, but lets the
    # database start from the follow-ups of the period (index follow_up_day), far fewer than
    # the responses or none, instead of probing for one behind every response of the period.
    # CROSS JOIN makes SQLite keep that order (PostgreSQL plans it as the inner join it is).
    return FollowUp.select(*columns).join(Response, pw.JOIN.CROSS).where(*period_conditions(s))


CONTACTED = FollowUp.first_contact_at.is_null(False)


def bands(now: datetime) -> dict[str, pw.Node]:
    """Which follow-ups each count takes, once: the figures count them (``counts``,
    ``median_hours``) and the list of the responses behind a figure (``drilldown``) selects them
    with these same conditions (FOLLOW_UP_BANDS; "opened" is every one)."""
    closed = FollowUp.state == "closed"
    return {
        "opened": FollowUp.id.is_null(False),
        "due": CONTACTED | (FollowUp.due_at <= now),
        "on_time": CONTACTED & (FollowUp.first_contact_at <= FollowUp.due_at),
        "contacted": CONTACTED,
        "closed": closed,
        "recovered": closed & (FollowUp.outcome == "recovered"),
    }


def period_conditions(s: Slice) -> list:
    """The follow-ups of a slice, on FollowUp joined to its Response (see ``_base``)."""
    return [
        FollowUp.response == Response.id,
        FollowUp.day >= s.start,
        FollowUp.day <= s.end,
        *_response_conditions(s),
    ]


def counts(s: Slice, group_by: str | None = None, now: datetime | None = None) -> list[dict]:
    """The counts behind the figures, one row per group (or one overall row, key None)."""
    band = bands(now or utcnow())
    key = _key(group_by)
    query = _base(
        s,
        [
            key.alias("key"),
            fn.COUNT(FollowUp.id).alias("opened"),
            count_if(band["due"]).alias("due_or_contacted"),
            count_if(band["on_time"]).alias("contacted_on_time"),
            count_if(band["contacted"]).alias("contacted"),
            count_if(band["closed"]).alias("closed"),
            count_if(band["recovered"]).alias("recovered"),
        ],
    )
    if group_by:
        query = query.group_by(key).order_by(key)
    rows = []
    for row in query.dicts():
        if not row["opened"]:
            continue
        row = {k: (int(v or 0) if k != "key" else v) for k, v in row.items()}
        row["key"] = row["key"] if group_by else None
        rows.append(row)
    return rows


def _seconds_to_first_contact() -> pw.Node:
    if is_postgres():
        return fn.date_part("epoch", FollowUp.first_contact_at - FollowUp.created_at)
    return (fn.julianday(FollowUp.first_contact_at) - fn.julianday(FollowUp.created_at)) * 86400


def median_hours(s: Slice, group_by: str | None = None) -> dict:
    """The median hours from opening to first contact, by group key (None: overall)."""
    key = _key(group_by)
    seconds = _seconds_to_first_contact()
    inner = _base(
        s,
        [
            key.alias("k"),
            seconds.alias("d"),
            fn.ROW_NUMBER().over(partition_by=[key], order_by=[seconds]).alias("rn"),
            fn.COUNT(FollowUp.id).over(partition_by=[key]).alias("c"),
        ],
    ).where(CONTACTED)
    sql, params = inner.sql()
    # the middle row, or the mean of the two middle rows: integer division in both databases
    cursor = database.execute_sql(
        f"SELECT k, AVG(d) FROM ({sql}) AS ranked "
        "WHERE rn = (c + 1) / 2 OR rn = (c + 2) / 2 GROUP BY k",
        params,
    )
    # a raw cursor gives SQLite's dates as text: read the key as the counts' query reads it
    as_key = key.python_value if group_by else (lambda _k: None)
    return {as_key(k): float(value) / 3600 for k, value in cursor.fetchall()}


def share(successes: int, n: int) -> stats.Estimate | None:
    """A share in percent with its 95% Wilson interval; None when n is 0."""
    if n == 0:
        return None
    low, high = stats.wilson_interval(successes, n)
    return stats.Estimate(100 * successes / n, 100 * low, 100 * high, n)


@dataclass(frozen=True)
class FollowUpRow:
    key: object  # a team's name, a period's first day, or None for all
    opened: int
    on_time: stats.Estimate | None
    median_hours: float | None
    recovery: stats.Estimate | None
    closed: int
    recovered: int
    contacted: int = 0  # the median's n


def table(
    s: Slice, group_by: str | None = "team", now: datetime | None = None
) -> list[FollowUpRow]:
    """The figures per group, then the overall row (key None) when grouped (four queries)."""
    rows = counts(s, group_by, now)
    medians = median_hours(s, group_by)
    result = []
    names = team_names(r["key"] for r in rows) if group_by == "team" else {}
    for row in rows:
        key = row["key"]
        label = names.get(key, key) if group_by == "team" else key
        result.append(_row(label, row, medians.get(key)))
    if group_by and rows:
        total = counts(s, None, now)
        result.append(_row(None, total[0], median_hours(s, None).get(None)))
    return result


def _row(label, row: dict, median: float | None) -> FollowUpRow:
    return FollowUpRow(
        label,
        row["opened"],
        share(row["contacted_on_time"], row["due_or_contacted"]),
        median,
        share(row["recovered"], row["closed"]),
        row["closed"],
        row["recovered"],
        row["contacted"],
    )


def summary_text(row: FollowUpRow, lang: Language) -> str:
    """The headline follow-up figures of a period in a line, for the chart and the pack."""

    def pct(estimate):
        return "–" if estimate is None else lang.percent(estimate.value, "#,##0%")

    hours = "–" if row.median_hours is None else lang.number(row.median_hours, "0.0")
    return lang.gettext(
        "%(opened)s opened · contacted on time %(on_time)s · median time to first contact "
        "%(hours)s h · recovered %(recovered)s of %(closed)s closed",
        opened=lang.number(row.opened),
        on_time=pct(row.on_time),
        hours=hours,
        recovered=pct(row.recovery),
        closed=lang.number(row.closed),
    )
