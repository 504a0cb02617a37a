"""What the dashboard shows, worked out from the reports: plain data, no Flask.

Each function runs a fixed number of queries, whatever the number of groups.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import reports, stats
from .definitions import SurveyDefinition
from .reports import Slice
from .vocabulary import SERVQUAL_DIMENSIONS

TILE_METRICS = ("csat", "nps", "ces", "response_rate", "responses")


@dataclass(frozen=True)
class Tile:
    metric: str
    current: dict | None  # the figure as reports.figures gives it
    previous: dict | None
    change: stats.Difference | None  # current - previous with its interval
    too_few: bool
    # the response rate without the answers that came after a reminder, when there were any
    without_reminders: dict | None = None

    @property
    def real_change(self) -> bool:
        """The intervals say the figure moved (the change's interval excludes zero)."""
        return self.change is not None and self.change.verdict != "no clear change"


def _change(metric: str, now: dict, before: dict) -> stats.Difference | None:
    """now - before for one metric, from two rows of counts (score and invitation counts)."""
    if metric == "csat" and now["csat_n"] and before["csat_n"]:
        return stats.proportion_difference(
            before["csat_satisfied"], before["csat_n"], now["csat_satisfied"], now["csat_n"]
        )
    if metric == "nps" and now["nps_n"] and before["nps_n"]:
        return stats.nps_difference(
            (before["promoters"], before["passives"], before["detractors"]),
            (now["promoters"], now["passives"], now["detractors"]),
        )
    if metric == "ces" and now["ces_n"] > 1 and before["ces_n"] > 1:
        return stats.mean_difference(
            stats.mean_interval(before["ces_n"], before["ces_sum"], before["ces_sum_sq"]),
            stats.mean_interval(now["ces_n"], now["ces_sum"], now["ces_sum_sq"]),
        )
    if metric == "response_rate" and now["invited"] and before["invited"]:
        return stats.proportion_difference(
            before["answered"], before["invited"], now["answered"], now["invited"]
        )
    return None


def _counts(s: Slice) -> dict:
    scores = next(iter(reports.score_counts(s)), None) or dict.fromkeys(reports.SCORE_COLUMNS, 0)
    invitations = next(iter(reports.invitation_counts(s)), None) or reports.NO_INVITATIONS
    return {**scores, **invitations}


def tiles(s: Slice, min_sample: int) -> list[Tile]:
    """CSAT, NPS, CES, response rate and answers, against the previous period of equal length
    (four queries)."""
    return tiles_of(_counts(s), _counts(s.previous()), min_sample)


def tiles_of(now: dict, before: dict, min_sample: int) -> list[Tile]:
    """The tiles from the counts of the period and of the previous one (``slice_counts`` rows:
    score and invitation counts)."""
    figures_now, figures_before = reports.figures(now, now), reports.figures(before, before)
    sizes = {
        "csat": now["csat_n"],
        "nps": now["nps_n"],
        "ces": now["ces_n"],
        "response_rate": now["invited"],
    }
    result = []
    for metric in TILE_METRICS:
        if metric == "responses":
            result.append(
                Tile(
                    metric, {"value": now["responses"]}, {"value": before["responses"]}, None, False
                )
            )
            continue
        result.append(
            Tile(
                metric,
                figures_now[metric],
                figures_before[metric],
                _change(metric, now, before),
                too_few=sizes[metric] < min_sample,
                without_reminders=(
                    stats.response_rate(now["answered"] - now["after_reminder"], now["invited"])
                    if metric == "response_rate" and now.get("after_reminder")
                    else None
                ),
            )
        )
    return result


@dataclass(frozen=True)
class AgentRow:
    agent: str
    n: int
    csat: stats.Estimate


def agent_ranking(s: Slice, min_sample: int) -> tuple[list[AgentRow], list[AgentRow]]:
    """Agents with enough answers ordered by the lower bound of their CSAT interval, and the
    agents left out of the order for having too few."""
    return agent_ranking_of(reports.score_counts(s, "agent"), min_sample)


def agent_ranking_of(rows: list[dict], min_sample: int) -> tuple[list[AgentRow], list[AgentRow]]:
    """The agent ranking from score counts by agent (``score_counts(s, "agent")`` rows)."""
    ranked, too_few = [], []
    for row in rows:
        if row["key"] is None or row["csat_n"] == 0:
            continue
        item = AgentRow(row["key"], row["csat_n"], stats.csat(row["csat_satisfied"], row["csat_n"]))
        (ranked if item.n >= min_sample else too_few).append(item)
    ranked.sort(key=lambda r: (-r.csat.low, -r.n, r.agent))
    too_few.sort(key=lambda r: (-r.n, r.agent))
    return ranked, too_few


def servqual_gaps(s: Slice, definition: SurveyDefinition) -> list[tuple[str, stats.Estimate]]:
    """The gap per SERVQUAL dimension, in the usual order of the five."""
    dimension_of = {q.id: q.dimension for q in definition.questions if q.type == "servqual"}
    if not dimension_of:  # no SERVQUAL question: no gap, and no scan of the period's answers
        return []
    gaps = {}
    for row in reports.servqual_sums(s):
        dimension = dimension_of.get(row["question_id"])
        if dimension and row["n"]:
            gaps[dimension] = stats.servqual_gap(row["n"], row["gap_sum"], row["gap_sum_sq"])
    return [(d, gaps[d]) for d in SERVQUAL_DIMENSIONS if d in gaps]


def servqual_questions(definition: SurveyDefinition) -> dict[str, str]:
    """The SERVQUAL question of each dimension (whose answers a gap counts), by dimension."""
    return {q.dimension: q.id for q in definition.questions if q.type == "servqual"}


def comment_question_ids(definition: SurveyDefinition) -> list[str]:
    return [q.id for q in definition.questions if q.type in ("text", "textarea")]
