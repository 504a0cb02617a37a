"""Named aggregate queries: one SQL GROUP BY per table of numbers, on SQLite and PostgreSQL.

Responses carry their period (day, week, month in the site's time zone) and their slice
(channel, team, agent, category) and the CSAT/NPS/CES scores as plain columns, so every query
here reads one table through an index and never loops over rows in Python. ``figures`` turns a
row of counts into the figures of ``stats``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta

import peewee as pw
from peewee import fn

from . import stats
from .models import Answer, Case, CommentTerms, Invitation, Response, Team
from .vocabulary import UNREACHED_STATES

GROUP_BY = ("channel", "team", "agent", "category", "week", "month", "day")
TIME_GROUPS = ("week", "month", "day")


@dataclass(frozen=True)
class Slice:
    """Which responses a report counts: a survey, a period of local dates, optional filters."""

    survey_id: int
    start: date
    end: date  # inclusive
    channel: str | None = None
    team_id: int | None = None
    agent: str | None = None
    category: str | None = None
    source: str | None = None  # "link" or "callback"; None counts both
    allowed_team_ids: tuple[int, ...] | None = None  # a team lead sees only their teams

    def previous(self) -> Slice:
        """The period of equal length just before this one, with the same filters."""
        days = (self.end - self.start).days + 1
        if self.start.toordinal() <= days:  # nothing can lie before the year 1
            return replace(self, start=date.min, end=date.min)
        return replace(
            self, start=self.start - timedelta(days=days), end=self.start - timedelta(days=1)
        )


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _response_conditions(s: Slice, weeks: bool = True) -> list:
    """The WHERE of a slice. ``weeks``: add the week range, redundant with the day range, which
    lets an index on week narrow; without it, a query that reads the slice columns too stays
    on the covering index response_survey_day (which has no week)."""
    conditions = [Response.survey == s.survey_id, Response.day >= s.start, Response.day <= s.end]
    if weeks:
        conditions += [Response.week >= _monday(s.start), Response.week <= _monday(s.end)]
    for column, value in (
        (Response.channel, s.channel),
        (Response.team, s.team_id),
        (Response.agent, s.agent),
        (Response.category, s.category),
        (Response.source, s.source),
    ):
        if value is not None:
            conditions.append(column == value)
    if s.allowed_team_ids is not None:
        conditions.append(Response.team.in_(list(s.allowed_team_ids) or [-1]))
    return conditions


def count_if(condition) -> pw.Node:
    """The rows that meet ``condition``: COUNT(*) FILTER (WHERE ...), which SQLite (3.30+) and
    PostgreSQL share, and SQLite evaluates faster than SUM(CASE WHEN ... THEN 1 ELSE 0 END)."""
    return fn.COUNT(pw.SQL("*")).filter(condition)


def _response_group_column(group_by: str) -> pw.Field:
    return {
        "channel": Response.channel,
        "team": Response.team,
        "agent": Response.agent,
        "category": Response.category,
        "week": Response.week,
        "month": Response.month,
        "day": Response.day,
    }[group_by]


SCORE_COLUMNS = (
    "responses",
    "csat_n",
    "csat_satisfied",
    "nps_n",
    "promoters",
    "passives",
    "detractors",
    "ces_n",
    "ces_sum",
    "ces_sum_sq",
    "ces_low_effort",
)


def score_counts(s: Slice, group_by: str | None = None) -> list[dict]:
    """Counts behind CSAT, NPS and CES, overall (one row, key None) or per group.

    | key | responses | csat_n | csat_satisfied | nps_n | promoters | passives | detractors |
    | ces_n | ces_sum | ces_sum_sq | ces_low_effort |

    The week range narrows the (survey_id, week, ...) index for a table by period; the totals
    and the slice groups read the day range on the covering response_survey_day instead, which
    checks no week on every row (about a quarter faster on a year).
    """
    conditions = _response_conditions(s, weeks=group_by in TIME_GROUPS)
    query = Response.select(*_score_columns()).where(*conditions)
    if group_by:
        column = _response_group_column(group_by)
        query = query.select_extend(column.alias("key")).group_by(column).order_by(column)
    rows = list(query.dicts())
    for row in rows:
        row.setdefault("key", None)
        for name in SCORE_COLUMNS:
            row[name] = int(row[name] or 0)
    return rows


# The bands of the stored scores, once: the figures count them (``_score_columns``) and the list
# of the responses behind a figure (``drilldown``) selects them with these same expressions.
# "answered" is the score given at all (COUNT of the column); unhappy and happy are the comment
# themes' sides on a survey with CSAT (``themes.side_of``).
SCORE_BANDS = {
    "csat": {
        "answered": Response.csat.is_null(False),
        "satisfied": Response.csat >= 4,
        "not_satisfied": Response.csat <= 3,
        "unhappy": Response.csat <= 2,
        "happy": Response.csat == 5,
    },
    "nps": {
        "answered": Response.nps.is_null(False),
        "promoters": Response.nps >= 9,
        "passives": Response.nps.between(7, 8),
        "detractors": Response.nps <= 6,
    },
    "ces": {"answered": Response.ces.is_null(False), "low_effort": Response.ces >= 5},
}


def _score_columns() -> list[pw.Node]:
    return [
        fn.COUNT(Response.id).alias("responses"),
        fn.COUNT(Response.csat).alias("csat_n"),
        count_if(SCORE_BANDS["csat"]["satisfied"]).alias("csat_satisfied"),
        fn.COUNT(Response.nps).alias("nps_n"),
        count_if(SCORE_BANDS["nps"]["promoters"]).alias("promoters"),
        count_if(SCORE_BANDS["nps"]["passives"]).alias("passives"),
        count_if(SCORE_BANDS["nps"]["detractors"]).alias("detractors"),
        fn.COUNT(Response.ces).alias("ces_n"),
        fn.SUM(Response.ces).alias("ces_sum"),
        fn.SUM(Response.ces * Response.ces).alias("ces_sum_sq"),
        count_if(SCORE_BANDS["ces"]["low_effort"]).alias("ces_low_effort"),
    ]


def invitation_counts(s: Slice, group_by: str | None = None) -> list[dict]:
    """Invitations sent (not cancelled) in the period, how many were answered, and how many of
    those after a reminder had gone out.

    | key | invited | answered | after_reminder |
    """
    query = Invitation.select(*_invitation_columns()).join(Case).where(*_invitation_conditions(s))
    if group_by:
        column = {
            "channel": Case.channel,
            "team": Case.team,
            "agent": Case.agent,
            "category": Case.category,
            "week": Invitation.week,
            "month": Invitation.month,
            "day": Invitation.day,
        }[group_by]
        query = query.select_extend(column.alias("key")).group_by(column)
    rows = list(query.dicts())
    for row in rows:
        row.setdefault("key", None)
        for name in _INVITATION_COLUMNS:
            row[name] = int(row[name] or 0)
    return rows


def _invitation_conditions(s: Slice) -> list:
    conditions = [
        Case.survey == s.survey_id,
        Invitation.day >= s.start,
        Invitation.day <= s.end,
        Invitation.status != "cancelled",
        # An invitation the site sends (email or text) counts once it went out and was not
        # reported bounced or failed later (or it was answered anyway); one the helpdesk sends
        # itself (no delivery) counts as soon as it exists.
        Invitation.delivery.is_null()
        | (Invitation.sent_at.is_null(False) & Invitation.delivery.not_in(UNREACHED_STATES))
        | (Invitation.status == "answered"),
    ]
    for column, value in (
        (Case.channel, s.channel),
        (Case.team, s.team_id),
        (Case.agent, s.agent),
        (Case.category, s.category),
    ):
        if value is not None:
            conditions.append(column == value)
    if s.allowed_team_ids is not None:
        conditions.append(Case.team.in_(list(s.allowed_team_ids) or [-1]))
    return conditions


def _invitation_columns() -> list[pw.Node]:
    return [
        fn.COUNT(Invitation.id).alias("invited"),
        count_if(Invitation.status == "answered").alias("answered"),
        count_if(
            (Invitation.status == "answered") & (Invitation.answered_at > Invitation.reminded_at)
        ).alias("after_reminder"),
    ]


def figures(counts: dict | None, invitations: dict | None = None) -> dict:
    """The figures of one row of counts, as the API and the dashboard show them."""
    counts = counts or {name: 0 for name in SCORE_COLUMNS}
    csat = stats.csat(counts["csat_satisfied"], counts["csat_n"])
    nps = stats.nps(counts["promoters"], counts["passives"], counts["detractors"])
    ces = stats.ces(
        counts["ces_n"], counts["ces_sum"], counts["ces_sum_sq"], counts["ces_low_effort"]
    )
    invitations = invitations or {"invited": 0, "answered": 0}
    return {
        "responses": counts["responses"],
        "csat": csat.to_dict() if csat else None,
        "nps": nps.to_dict() if nps else None,
        "ces": ces.to_dict() if ces else None,
        "response_rate": stats.response_rate(invitations["answered"], invitations["invited"]),
    }


def team_names(team_ids) -> dict[int, str]:
    ids = [i for i in team_ids if i is not None]
    if not ids:
        return {}
    return dict(Team.select(Team.id, Team.name).where(Team.id.in_(ids)).tuples())


def _group_figures(
    group_by: str, scores: dict, invitations: dict, names: dict | None = None
) -> list[dict]:
    """The figures of each group, from score and invitation counts by group key."""
    keys = sorted(set(scores) | set(invitations), key=lambda k: (k is None, str(k)))
    if group_by == "team" and names is None:
        names = team_names(keys)
    groups = []
    for key in keys:
        label = names.get(key, key) if group_by == "team" else key
        groups.append(
            {
                "key": label.isoformat() if isinstance(label, date) else label,
                **figures(scores.get(key), invitations.get(key)),
            }
        )
    return groups


def metrics(s: Slice, group_by: str | None = None) -> dict:
    """Overall figures and, with ``group_by``, the figures of each group (three queries)."""
    overall = figures(next(iter(score_counts(s)), None), next(iter(invitation_counts(s)), None))
    groups = []
    if group_by:
        invitations = {row["key"]: row for row in invitation_counts(s, group_by)}
        scores = {row["key"]: row for row in score_counts(s, group_by)}
        groups = _group_figures(group_by, scores, invitations)
    return {"overall": overall, "groups": groups}


# The slice columns: each response and each case has one value of each, so the counts of every
# (channel, team, agent, category) cell add up, exactly, to the counts of any coarser table.
CELL_COLUMNS = ("channel", "team", "agent", "category")
_SCORE_CELL_KEYS = CELL_COLUMNS + ("source",)  # then the SCORE_COLUMNS
_INVITATION_COLUMNS = ("invited", "answered", "after_reminder")
NO_INVITATIONS = dict.fromkeys(_INVITATION_COLUMNS, 0)


def score_cells(s: Slice) -> list[tuple]:
    """Score counts per cell of the slice columns and the source: one GROUP BY over the period.

    | channel | team_id | agent | category | source | responses | csat_n | ... | ces_low_effort |

    Plain tuples (a year holds thousands of cells). The source filter of ``s`` is *not*
    applied (the dashboard counts every source): the caller keeps the cells of its source.

    SQLite groups by sorting, which costs about twice a plain scan of the rows. When the period
    fills at least half of the months it touches, the cells are counted month by month on the
    index response_survey_month_cells, which holds each month's rows in cell order, so nothing
    is sorted but the few cells per month, and summed over the months in the same statement.
    A shorter period reads its days on the covering index response_survey_day and sorts them
    (cheaper than reading whole months). Both give the same cells.
    """
    conditions = _response_conditions(replace(s, source=None), weeks=False)
    if not _fills_its_months(s):
        keys = [_cell_column(name) for name in _SCORE_CELL_KEYS]
        query = Response.select(*keys, *_score_columns()).where(*conditions).group_by(*keys)
        return Response._meta.database.execute(query).fetchall()
    keys = [_cell_column(name).alias(name) for name in _SCORE_CELL_KEYS]
    by_month = (
        Response.select(Response.month, *keys, *_score_columns())
        .where(
            *conditions,
            Response.month >= s.start.replace(day=1),
            Response.month <= s.end.replace(day=1),
        )
        .group_by(Response.month, *(_cell_column(name) for name in _SCORE_CELL_KEYS))
        .alias("by_month")
    )
    columns = [by_month.c[name] for name in _SCORE_CELL_KEYS]
    query = pw.Select(
        [by_month], columns + [fn.SUM(by_month.c[name]) for name in SCORE_COLUMNS]
    ).group_by(*columns)
    return Response._meta.database.execute(query).fetchall()


def _cell_column(name: str) -> pw.Field:
    return {
        "channel": Response.channel,
        "team": Response.team,
        "agent": Response.agent,
        "category": Response.category,
        "source": Response.source,
    }[name]


def _fills_its_months(s: Slice) -> bool:
    """Whether the period covers at least half of the days of the months it touches."""
    first = s.start.replace(day=1)
    after = (s.end.replace(day=28) + timedelta(days=4)).replace(day=1)
    return 2 * ((s.end - s.start).days + 1) >= (after - first).days


_CASE_COLUMNS = {
    "channel": Case.channel,
    "team": Case.team,
    "agent": Case.agent,
    "category": Case.category,
}


def invitation_cells(s: Slice, columns: tuple[str, ...] = CELL_COLUMNS) -> list[tuple]:
    """Invitation counts per cell of the given slice columns: one GROUP BY over the period.

    | channel | team_id | agent | category | invited | answered |  (the columns asked for)
    """
    keys = [_CASE_COLUMNS[c] for c in columns]
    query = (
        Invitation.select(*keys, *_invitation_columns())
        .join(Case)
        .where(*_invitation_conditions(s))
        .group_by(*keys)
    )
    return Invitation._meta.database.execute(query).fetchall()


def _sums(cells: list[tuple], first: int, names: tuple[str, ...]) -> dict:
    """The columns from ``first`` on summed over the cells, by name (a NULL sum counts 0)."""
    columns = list(zip(*cells, strict=True))[first:] or [()] * len(names)
    return {
        name: int(sum(filter(None, column))) for name, column in zip(names, columns, strict=False)
    }


def _sums_by(cells: list[tuple], key: int, first: int, names: tuple[str, ...]) -> dict:
    """The cells summed per value of their column ``key``: {value: {"key": value, ...sums}}."""
    grouped: dict = {}
    for cell in cells:
        grouped.setdefault(cell[key], []).append(cell)
    return {value: {"key": value, **_sums(rows, first, names)} for value, rows in grouped.items()}


@dataclass
class SliceTables:
    """The counts of a slice and their breakdowns, all from the cells of one period."""

    counts: dict  # score and invitation counts of the whole slice, as ``slice_counts``
    groups: dict[str, list[dict]]  # per slice column: the groups as ``metrics`` gives them
    scores_by: dict[str, list[dict]]  # per slice column: the rows of ``score_counts``
    sources: dict[str, int]  # responses by source whatever the source filter: ``source_counts``

    @property
    def overall(self) -> dict:
        return figures(self.counts, self.counts)


def slice_tables(
    s: Slice, group_by: tuple[str, ...] = CELL_COLUMNS, scores_by: tuple[str, ...] = ()
) -> SliceTables:
    """What ``slice_counts``, ``metrics(s, g)`` and ``score_counts(s, g)`` for each g of
    ``group_by``, ``score_counts(s, g)`` for each g of ``scores_by`` and ``source_counts`` give,
    exactly, from two queries (three with team names) instead of two per total and four per
    table.

    One GROUP BY of the responses by the slice columns and the source and one of the
    invitations by the columns of ``group_by`` (a few thousand cells a year), summed here:
    counts and sums add up, so the totals are exact. SQLite groups by sorting, so a grouped
    scan costs a few plain counts of the same rows, but each table it replaces cost one
    grouped scan or more; the invitations (a join) are grouped by no more columns than needed.
    """
    every_source = score_cells(s)
    source = _SCORE_CELL_KEYS.index("source")
    sources = {
        k: row["responses"]
        for k, row in _sums_by(every_source, source, source + 1, ("responses",)).items()
    }
    scores = [c for c in every_source if s.source is None or c[source] == s.source]
    invitation_keys = tuple(c for c in CELL_COLUMNS if c in group_by)
    invitations = invitation_cells(s, invitation_keys)
    first_score, first_invitation = len(_SCORE_CELL_KEYS), len(invitation_keys)
    counts = {
        **_sums(scores, first_score, SCORE_COLUMNS),
        **_sums(invitations, first_invitation, _INVITATION_COLUMNS),
    }
    names = {}
    if "team" in group_by:
        names = team_names(
            {c[CELL_COLUMNS.index("team")] for c in scores}
            | {c[invitation_keys.index("team")] for c in invitations}
        )
    groups, by_column = {}, {}
    for column in group_by + tuple(c for c in scores_by if c not in group_by):
        by_scores = _sums_by(scores, CELL_COLUMNS.index(column), first_score, SCORE_COLUMNS)
        by_column[column] = list(by_scores.values())
        if column in group_by:
            by_invitations = _sums_by(
                invitations, invitation_keys.index(column), first_invitation, _INVITATION_COLUMNS
            )
            groups[column] = _group_figures(column, by_scores, by_invitations, names)
    return SliceTables(counts, groups, by_column, sources)


def servqual_sums(s: Slice) -> list[dict]:
    """Per servqual question: answers and the sums of the gaps (perception - expectation).

    | question_id | n | gap_sum | gap_sum_sq |
    """
    gap = Answer.value_int - Answer.expectation
    query = (
        Answer.select(
            Answer.question_id,
            fn.COUNT(Answer.id).alias("n"),
            fn.SUM(gap).alias("gap_sum"),
            fn.SUM(gap * gap).alias("gap_sum_sq"),
        )
        .join(Response)
        .where(Answer.expectation.is_null(False), *_response_conditions(s))
        .group_by(Answer.question_id)
    )
    return [
        {
            **row,
            "n": int(row["n"]),
            "gap_sum": int(row["gap_sum"] or 0),
            "gap_sum_sq": int(row["gap_sum_sq"] or 0),
        }
        for row in query.dicts()
    ]


COMMENT_BANDS = ("all", "detractors", "passives", "promoters")


def _comment_columns() -> list[pw.Node]:
    """A comment with who and when: submitted_at, csat, nps, channel, team, agent, question_id,
    text."""
    return [
        Response.submitted_at,
        Response.csat,
        Response.nps,
        Response.channel,
        Response.team,
        Response.agent,
        Answer.question_id,
        Answer.value_text.alias("text"),
    ]


def comments(s: Slice, question_ids: list[str], band: str = "all", limit: int = 12) -> list[dict]:
    """The latest comments (answers to the given text questions), detractors first.

    | submitted_at | csat | nps | channel | team_id | agent | question_id | text |

    Two newest-first queries (detractors, then the rest when the band allows) that stop after
    ``limit`` rows on the (survey_id, submitted_at) index, instead of sorting the whole period.
    """
    if not question_ids:
        return []
    bands = {
        "all": [Response.nps <= 6, (Response.nps > 6) | Response.nps.is_null()],
        "detractors": [Response.nps <= 6],
        "passives": [Response.nps.between(7, 8)],
        "promoters": [Response.nps >= 9],
    }[band]
    found: list[dict] = []
    for condition in bands:
        if len(found) >= limit:
            break
        query = (
            Answer.select(*_comment_columns())
            .join(Response)
            .where(
                Answer.question_id.in_(question_ids),
                Answer.value_text.is_null(False),
                condition,
                *_response_conditions(s),
            )
            .order_by(Response.submitted_at.desc(), Answer.id)
            .limit(limit - len(found))
        )
        found.extend(query.dicts())
    return found


def data_stamp(survey_id: int) -> tuple:
    """Changes whenever a response or an invitation is added: a cache key part.

    Two index look-ups (largest ids), not counts: on a million rows a count takes longer than
    the chart it would save. A withdrawn invitation alone does not change it; the next new
    invitation or answer does.
    """
    return (
        Response.select(fn.MAX(Response.id)).where(Response.survey == survey_id).scalar(),
        Invitation.select(fn.MAX(Invitation.id)).scalar(),
    )


def slice_counts(s: Slice) -> dict:
    """Score and invitation counts of a whole slice in one row (two queries).

    | responses | csat_n | csat_satisfied | nps_n | promoters | passives | detractors |
    | ces_n | ces_sum | ces_sum_sq | ces_low_effort | invited | answered | after_reminder |
    """
    scores = next(iter(score_counts(s)), None) or dict.fromkeys(SCORE_COLUMNS, 0)
    invitations = next(iter(invitation_counts(s)), None) or NO_INVITATIONS
    return {
        **{k: v for k, v in scores.items() if k != "key"},
        **{k: invitations[k] for k in _INVITATION_COLUMNS},
    }


def source_counts(s: Slice) -> dict[str, int]:
    """Responses of the slice by source, whatever its own source filter says.

    | source | responses |
    """
    conditions = _response_conditions(replace(s, source=None))
    query = (
        Response.select(Response.source, fn.COUNT(Response.id).alias("n"))
        .where(*conditions)
        .group_by(Response.source)
    )
    return {source: int(n) for source, n in query.tuples()}


# --- comment themes (``comment_terms``): the comments to cut, and their cached terms ----------


def comments_without_terms(
    s: Slice, question_ids: list[str], stamp: str, limit: int | None = None
) -> list[int]:
    """The responses of the slice (up to ``limit``) with an answer to one of the comment
    questions and no terms cut with this dictionary ``stamp``, by id. Each call reads the
    slice's comment answers through: call it once, not once per batch.

    | response_id |
    """
    if not question_ids:
        return []
    cut = CommentTerms.select(pw.SQL("1")).where(
        CommentTerms.response == Answer.response, CommentTerms.dictionary == stamp
    )
    query = (
        Answer.select(fn.DISTINCT(Answer.response))
        .join(Response)
        .where(
            Answer.question_id.in_(question_ids),
            Answer.value_text.is_null(False),
            ~fn.EXISTS(cut),
            *_response_conditions(s, weeks=False),
        )
        .order_by(Answer.response)
        .limit(limit)
    )
    return [row[0] for row in query.tuples()]


def comment_texts(response_ids: list[int], question_ids: list[str]) -> list[tuple]:
    """The comment answers of these responses, in the order given.

    | response_id | survey_version_id | question_id | text |
    """
    query = (
        Answer.select(
            Answer.response, Response.survey_version, Answer.question_id, Answer.value_text
        )
        .join(Response)
        .where(Answer.response.in_(response_ids), Answer.value_text.is_null(False))
        .order_by(Answer.response, Answer.id)
    )
    # The questions are picked here, not in SQL: given both, SQLite reads through the index on
    # question_id, every comment of the site for each batch of responses, instead of the few
    # answers of these responses through the index on response_id.
    wanted = set(question_ids)
    return [row for row in query.tuples() if row[2] in wanted]


def cached_terms(s: Slice, stamp: str) -> list[tuple]:
    """The slice's responses with terms cut with ``stamp``: scores and terms (one scan).

    | response_id | csat | nps | terms |
    """
    query = (
        CommentTerms.select(CommentTerms.response, Response.csat, Response.nps, CommentTerms.terms)
        .join(Response)
        .where(CommentTerms.dictionary == stamp, *_response_conditions(s, weeks=False))
    )
    # plain tuples from the cursor: a year holds a row per comment, and Peewee's row handling
    # would cost more than the query
    return CommentTerms._meta.database.execute(query).fetchall()


def comment_rows(response_ids: list[int], question_ids: list[str]) -> list[dict]:
    """The comments of these responses with who and when, newest first.

    | response_id | submitted_at | csat | nps | channel | team_id | agent | question_id | text |
    """
    if not response_ids:
        return []
    query = (
        Answer.select(Answer.response.alias("response_id"), *_comment_columns())
        .join(Response)
        .where(
            Answer.response.in_(response_ids),
            Answer.question_id.in_(question_ids),
            Answer.value_text.is_null(False),
        )
        .order_by(Response.submitted_at.desc(), Answer.response.desc(), Answer.id)
    )
    return list(query.dicts())


def commented_responses(
    s: Slice, question_ids: list[str], offset: int, limit: int
) -> tuple[list[int], int]:
    """One page of the slice's responses that hold a comment (an answer to one of the given
    text questions), newest first, and how many there are in all (two queries).

    | response_id |
    """
    if not question_ids:
        return [], 0
    commented = Answer.select(pw.SQL("1")).where(
        Answer.response == Response.id,
        Answer.question_id.in_(question_ids),
        Answer.value_text.is_null(False),
    )
    query = Response.select(Response.id).where(
        fn.EXISTS(commented), *_response_conditions(s, weeks=False)
    )
    page = query.order_by(Response.submitted_at.desc(), Response.id.desc()).offset(offset)
    return [row[0] for row in page.limit(limit).tuples()], query.count()


# --- key drivers ----------------------------------------------------------------------------

DRIVER_OUTCOMES = ("csat", "nps")
DRIVER_SUM_COLUMNS = ("answers", "top_two", "n", "sum_x", "sum_y", "sum_xx", "sum_yy", "sum_xy")


def _outcome_column(outcome: str) -> pw.Field:
    return {"csat": Response.csat, "nps": Response.nps}[outcome]


def driver_sums(s: Slice, outcome: str, top_two_from: dict[str, int]) -> dict[str, dict]:
    """Per driver question: its answers, how many are top-two-box, and the six sums of the
    pairs (driver answer x, outcome y) of the responses that answered both. One GROUP BY.

    | question_id | answers | top_two | n | sum_x | sum_y | sum_xx | sum_yy | sum_xy |

    ``top_two_from`` maps each driver to the lowest answer of its top two boxes (4 on 1-5).
    """
    if not top_two_from:
        return {}
    x, y = Answer.value_int, _outcome_column(outcome)
    paired = y.is_null(False)
    top = pw.Case(Answer.question_id, list(top_two_from.items()))
    query = (
        Answer.select(
            Answer.question_id,
            fn.COUNT(Answer.id).alias("answers"),
            count_if(x >= top).alias("top_two"),
            count_if(paired).alias("n"),
            fn.SUM(x).filter(paired).alias("sum_x"),
            fn.SUM(y).alias("sum_y"),
            fn.SUM(x * x).filter(paired).alias("sum_xx"),
            fn.SUM(y * y).alias("sum_yy"),
            fn.SUM(x * y).alias("sum_xy"),
        )
        .join(Response)
        .where(
            Answer.question_id.in_(list(top_two_from)),
            x.is_null(False),
            *_response_conditions(s, weeks=False),
        )
        .group_by(Answer.question_id)
    )
    return {
        row[0]: {name: int(v or 0) for name, v in zip(DRIVER_SUM_COLUMNS, row[1:], strict=True)}
        for row in query.tuples()
    }


def driver_patterns(s: Slice, outcome: str, question_ids: list[str]) -> list[tuple]:
    """The complete cases' distinct answer patterns and how many responses gave each.

    | <one column per question, in the order given> | outcome | count |

    A complete case is a response of the slice that answered the outcome and every one of the
    questions. One statement: the responses joined to one answer row per question (on
    answer_response), grouped by the answers; a year of a 1-5 survey gives a few hundred rows.
    Half the time of pivoting the answers per response (MAX(CASE ...) GROUP BY response) on
    PostgreSQL at a million responses (2.3 s against 4.5 s).
    """
    if not question_ids:
        return []
    y = _outcome_column(outcome)
    answers = [Answer.alias(f"a{i}") for i in range(len(question_ids))]
    query = Response.select(*(a.value_int for a in answers), y, fn.COUNT(pw.SQL("*")))
    for answer, question in zip(answers, question_ids, strict=True):
        query = query.join(
            answer,
            on=(answer.response == Response.id)
            & (answer.question_id == question)
            & answer.value_int.is_null(False),
        ).switch(Response)
    query = query.where(y.is_null(False), *_response_conditions(s, weeks=False)).group_by(
        *(a.value_int for a in answers), y
    )
    return [tuple(int(v) for v in row) for row in query.tuples()]
