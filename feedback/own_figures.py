"""An agent's own figures: what a person whose account carries an agent code sees of their cases.

The agent code (``app_user.agent_code``) is the name or code the helpdesk sends as a case's
``agent``; the responses of those cases are the person's own. Everything here is the
dashboard's own reporting narrowed to them: the same ``reports`` queries and ``stats`` figures
on a slice whose agent is the code (and nothing else but the survey and the period), so the
figures equal the dashboard's filtered to that agent. Other agents appear only as the unnamed
dots of the team funnel (``chart_data.own_funnel``). Plain data, no Flask.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from . import reports
from .comment_terms import comment_questions
from .reports import Slice

TREND_CHARTS = ("csat-trend", "nps-trend")  # the dashboard's, on the agent's own slice
FUNNEL_CHART = "team-funnel"
CHARTS = (*TREND_CHARTS, FUNNEL_CHART)
FORMATS = ("png", "svg", "csv")
PER_PAGE = 25  # comments on a page


@dataclass(frozen=True)
class CommentPage:
    """One page of the agent's comments."""

    rows: list[dict]  # reports.comment_rows, one entry per answer
    total: int  # responses with a comment
    page: int
    pages: int


def _period_only(s: Slice) -> Slice:
    """The survey and period of ``s``, no other filter."""
    return Slice(survey_id=s.survey_id, start=s.start, end=s.end)


def own_slice(s: Slice, agent_code: str) -> Slice:
    """The responses of the agent's cases in the survey and period of ``s``, whatever their
    team, channel, category or source."""
    return replace(_period_only(s), agent=agent_code)


def team_slice(s: Slice, team_id: int) -> Slice:
    """The responses of a team's cases in the survey and period of ``s``: the team funnel."""
    return replace(_period_only(s), team_id=team_id)


def headline(s: Slice) -> dict:
    """CSAT, NPS and CES with their intervals and n, and the number of answers (two queries),
    as ``reports.figures`` gives them to the dashboard and the API."""
    counts = reports.slice_counts(s)
    return reports.figures(counts, counts)


def comments(s: Slice, page: int, per_page: int = PER_PAGE) -> CommentPage:
    """The comments of the slice, newest first, a page at a time (past the end: the last
    page): each answer to a text question of the version answered, as stored (an erased
    customer's details inside it read "[erased]"), with when, the scores and the channel."""
    question_ids = sorted(set().union(*comment_questions(s.survey_id).values()))
    page = max(page, 1)
    ids, total = reports.commented_responses(s, question_ids, (page - 1) * per_page, per_page)
    pages = max(1, -(-total // per_page))
    if page > pages:
        page = pages
        ids, total = reports.commented_responses(s, question_ids, (page - 1) * per_page, per_page)
    return CommentPage(reports.comment_rows(ids, question_ids), total, page, pages)
