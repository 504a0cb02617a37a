"""The dashboard's charts: for each, the numbers from the reports and the figure they draw.

Each entry gives the chart (a matplotlib Figure from ``charts``) and the table behind it, so a
manager can download either. Knows nothing of Flask.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from matplotlib.figure import Figure

from . import (
    charts,
    comment_terms,
    dashboard,
    drivers,
    follow_up_figures,
    names,
    reports,
    suggestions,
)
from .definitions import SurveyDefinition
from .i18n import Language
from .reports import Slice

TREND_WEEKS_UP_TO_DAYS = 120  # a longer period is drawn by month


@dataclass(frozen=True)
class ChartData:
    figure: Figure
    header: tuple[str, ...]  # in the chart's language
    rows: list[tuple]
    # per row, the cells that count responses: {column: (criteria, n)}, the criteria of the
    # responses behind that number (the query of /manage/responses, beside the view's filters)
    # and how many they are; the chart's table on the page links each to its list
    links: tuple[dict[int, tuple[dict, int]], ...] = ()


N_ = names.N_
# the chart tables' column heads (gettext messages)
PERIOD_START, ANSWERS, LOW, HIGH = (
    N_("Period start"),
    N_("Answers"),
    N_("Low (95%)"),
    N_("High (95%)"),
)
GROUP_HEADS = {"channel": N_("Channel"), "team": N_("Team"), "category": N_("Category")}


def _header(lang: Language, *messages: str) -> tuple[str, ...]:
    return tuple(lang.gettext(message) for message in messages)


def _period(s: Slice) -> str:
    return "week" if (s.end - s.start).days + 1 <= TREND_WEEKS_UP_TO_DAYS else "month"


def _trend(metric: str):
    def build(s: Slice, definition, lang: Language, min_sample: int) -> ChartData:
        groups = reports.metrics(s, _period(s))["groups"]
        points = [
            charts.PeriodPoint(
                _day(g["key"]),
                g[metric]["value"],
                g[metric]["low"],
                g[metric]["high"],
                g[metric]["n"],
            )
            for g in groups
            if g[metric]
        ]
        period = _period(s)
        return ChartData(
            charts.trend_chart(points, metric, lang, min_sample),
            _header(lang, PERIOD_START, charts.METRIC_WORDS[metric].name, LOW, HIGH, ANSWERS),
            [(p.start.isoformat(), p.value, p.low, p.high, p.n) for p in points],
            tuple(_cells((1, 4), _in(p.start, period, measure=metric), p.n) for p in points),
        )

    return build


def trend_period(s: Slice) -> str:
    """week or month: how the dashboard splits this period over time."""
    return _period(s)


def _day(key: str) -> date:
    return date.fromisoformat(key)


def _in(start: date, period: str, **criteria) -> dict:
    """Criteria of the responses of one point of a chart over time."""
    return {**criteria, "bucket": start.isoformat(), "per": period}


def _cells(columns: tuple[int, ...], criteria: dict, n: int) -> dict:
    """The same list behind several cells of a row (a figure and its n)."""
    return {column: (criteria, n) for column in columns}


def control(s: Slice, definition, lang: Language, min_sample: int) -> ChartData:
    weeks = [
        charts.WeekCount(row["key"], row["csat_satisfied"], row["csat_n"])
        for row in reports.score_counts(s, "week")
        if row["csat_n"]
    ]
    chart = charts.p_chart(weeks)
    rows = [
        (
            p.week.start.isoformat(),
            p.week.satisfied,
            p.week.n,
            p.share,
            p.lower,
            p.upper,
            lang.gettext("special cause") if p.special else "",
        )
        for p in (chart.points if chart else ())
    ]
    points = chart.points if chart else ()
    links = tuple(
        {
            1: (_in(p.week.start, "week", measure="csat", band="satisfied"), p.week.satisfied),
            **_cells((2, 3), _in(p.week.start, "week", measure="csat"), p.week.n),
        }
        for p in points
    )
    return ChartData(
        charts.control_chart(weeks, lang),
        _header(
            lang,
            N_("Week start"),
            N_("Satisfied"),
            ANSWERS,
            N_("Share"),
            N_("Lower limit"),
            N_("Upper limit"),
            N_("Signal"),
        ),
        rows,
        links,
    )


def composition(s: Slice, definition, lang: Language, min_sample: int) -> ChartData:
    period = _period(s)
    rows = [row for row in reports.score_counts(s, period) if row["nps_n"]]
    periods = [
        charts.NpsCounts(
            _label(row["key"], period, lang), row["promoters"], row["passives"], row["detractors"]
        )
        for row in rows
    ]
    return ChartData(
        charts.nps_composition(periods, lang, min_sample),
        _header(lang, PERIOD_START, N_("Promoters"), N_("Passives"), N_("Detractors")),
        [
            (row["key"].isoformat(), row["promoters"], row["passives"], row["detractors"])
            for row in rows
        ],
        tuple(
            {
                column: (_in(row["key"], period, measure="nps", band=band), row[band])
                for column, band in enumerate(("promoters", "passives", "detractors"), start=1)
            }
            for row in rows
        ),
    )


def _label(day: date, period: str, lang: Language) -> str:
    """A period under its bar: 2026年3月, Mar 2026 for a month; 3/2, 3/2 for a week's first day."""
    return lang.skeleton(day, "yMMM" if period == "month" else "Md")


def _breakdown(group: str):
    def build(s: Slice, definition, lang: Language, min_sample: int) -> ChartData:
        groups = [g for g in reports.metrics(s, group)["groups"] if g["csat"]]
        label = (
            (lambda key: names.channel_name(key, lang))
            if group == "channel"
            else (lambda key: key or "–")
        )
        figures = [
            charts.GroupFigure(
                label(g["key"]),
                g["csat"]["value"],
                g["csat"]["low"],
                g["csat"]["high"],
                g["csat"]["n"],
            )
            for g in groups
        ]
        title = lang.gettext(names.BREAKDOWN_TITLES[group])
        return ChartData(
            charts.breakdown_chart(figures, "csat", lang, min_sample, title),
            _header(lang, GROUP_HEADS[group], N_("CSAT"), LOW, HIGH, ANSWERS),
            [(f.label, f.value, f.low, f.high, f.n) for f in figures],
            tuple(
                _cells((1, 4), {"measure": "csat", "group": group, "key": g["key"]}, f.n)
                for g, f in zip(groups, figures, strict=True)
            ),
        )

    return build


FUNNEL_HEADER = (N_("Agent"), N_("Satisfied"), ANSWERS, N_("CSAT"))


def _agent_units(s: Slice) -> tuple[list[charts.AgentShare], float]:
    """The slice's agents with CSAT answers, and their overall CSAT in percent."""
    units = [
        charts.AgentShare(row["key"], row["csat_satisfied"], row["csat_n"])
        for row in reports.score_counts(s, "agent")
        if row["key"] and row["csat_n"]
    ]
    total = sum(u.n for u in units)
    return units, 100 * sum(u.satisfied for u in units) / total if total else 0.0


def _funnel_row(label: str, unit: charts.AgentShare) -> tuple:
    return (label, unit.satisfied, unit.n, 100 * unit.satisfied / unit.n)


def funnel(s: Slice, definition, lang: Language, min_sample: int) -> ChartData:
    units, target = _agent_units(s)
    return ChartData(
        charts.funnel_plot(units, target, lang, min_sample),
        _header(lang, *FUNNEL_HEADER),
        [_funnel_row(u.name, u) for u in units],
        tuple(
            {
                1: (
                    {"measure": "csat", "band": "satisfied", "group": "agent", "key": u.name},
                    u.satisfied,
                ),
                **_cells((2, 3), {"measure": "csat", "group": "agent", "key": u.name}, u.n),
            }
            for u in units
        ),
    )


# An agent's own place in the team funnel shows the other agents without names, and only when
# there are at least this many of them: with one or two, the team's line and the agent's own
# figure would give theirs away.
OWN_FUNNEL_OTHERS = 3


def own_funnel(team: Slice, agent: str, lang: Language, min_sample: int) -> ChartData | None:
    """One agent's place among the agents of ``team`` (the team's slice): their own point
    labelled "you", every other agent an unnamed dot, and a table saying "you" and "another
    agent". No other agent's name goes into the chart or the table, and the others come in the
    order of their answers and shares, not of their names (which the order of the points in an
    SVG would give away). None when fewer than OWN_FUNNEL_OTHERS other agents have answers."""
    units, target = _agent_units(team)
    mine = next((u for u in units if u.name == agent), None)
    others = sorted(
        (charts.AgentShare("", u.satisfied, u.n) for u in units if u.name != agent),
        key=lambda u: (-u.n, -u.satisfied),
    )
    if len(others) < OWN_FUNNEL_OTHERS:
        return None
    mine_unnamed = charts.AgentShare("", mine.satisfied, mine.n) if mine else None
    another = lang.gettext("another agent")
    return ChartData(
        charts.funnel_plot(others, target, lang, min_sample, mine=mine_unnamed),
        _header(lang, *FUNNEL_HEADER),
        ([_funnel_row(lang.gettext("you"), mine)] if mine else [])
        + [_funnel_row(another, u) for u in others],
    )


def servqual(s: Slice, definition: SurveyDefinition, lang: Language, min_sample: int) -> ChartData:
    gaps = [
        charts.ServqualGap(d, e.value, e.low, e.high, e.n)
        for d, e in dashboard.servqual_gaps(s, definition)
    ]
    question_of = dashboard.servqual_questions(definition)
    return ChartData(
        charts.servqual_chart(gaps, lang, min_sample),
        _header(lang, N_("Dimension"), N_("Gap"), LOW, HIGH, ANSWERS),
        [(_dimension(lang, g.dimension), g.value, g.low, g.high, g.n) for g in gaps],
        tuple(
            _cells((1, 4), {"measure": "servqual", "question": [question_of[g.dimension]]}, g.n)
            for g in gaps
        ),
    )


def suggestion_triage(s: Slice) -> suggestions.Triage:
    """The suggestions a dashboard view counts: its period and team (a lead: their teams)."""
    return suggestions.Triage(
        start=s.start, end=s.end, team_id=s.team_id, allowed_team_ids=s.allowed_team_ids
    )


def _months(start: date, end: date) -> list[date]:
    months, month = [], start.replace(day=1)
    while month <= end:
        months.append(month)
        month = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
    return months


def suggestion_counts(s: Slice, definition, lang: Language, min_sample: int) -> ChartData:
    rows = suggestions.by_category_and_month(suggestion_triage(s))
    names = {c.id: c.name(lang.code) for c in suggestions.categories(active_only=False)}
    months = _months(s.start, s.end) if (s.end - s.start).days < 3700 else []
    order = {category_id: place for place, category_id in enumerate(names)}
    used = sorted({row["category_id"] for row in rows}, key=lambda i: order.get(i, len(order)))
    table = {(row["month"], row["category_id"]): row["n"] for row in rows}
    counts = [[table.get((m, c), 0) for m in months] for c in used]
    return ChartData(
        charts.suggestion_counts(months, [names.get(c, str(c)) for c in used], counts, lang),
        _header(lang, N_("Month"), N_("Category"), N_("Suggestions")),
        [
            (row["month"].isoformat(), names.get(row["category_id"], row["category_id"]), row["n"])
            for row in rows
        ],
    )


def suggestion_handling(s: Slice, definition, lang: Language, min_sample: int) -> ChartData:
    figures = suggestions.figures(suggestion_triage(s))
    shares = [
        charts.GroupFigure(key, f["value"], f["low"], f["high"], f["n"])
        for key, f in (
            ("answered", figures["answered"]),
            ("within_goal", figures["within_goal"]),
            ("done_share", figures["done"]),
        )
        if f
    ]
    return ChartData(
        charts.suggestion_handling(
            shares, figures["reply_days_median"], figures["received"], lang, min_sample
        ),
        _header(lang, N_("Figure"), N_("Share"), LOW, HIGH, N_("Suggestions")),
        [(lang.gettext(charts.HANDLING_ROWS[f.label]), f.value, f.low, f.high, f.n) for f in shares]
        + [
            (
                lang.gettext("median working days to the first reply"),
                figures["reply_days_median"],
                None,
                None,
                figures["replied"],
            )
        ],
    )


SUGGESTION_CHARTS = ("suggestions-by-category", "suggestion-handling")


def follow_up_recovery(s: Slice, definition, lang: Language, min_sample: int) -> ChartData:
    table = follow_up_figures.table(s, "team")
    rows = [r for r in table if r.key is not None]
    total = table[-1] if table else None
    figures = [
        charts.RecoveryFigure(
            r.key or "–", r.recovery.value, r.recovery.low, r.recovery.high, r.recovery.n
        )
        for r in rows
        if r.recovery
    ]
    summary = follow_up_figures.summary_text(total, lang) if total else None
    return ChartData(
        charts.follow_up_chart(figures, lang, min_sample, summary),
        _header(
            lang,
            N_("Team"),
            N_("Opened"),
            N_("Contacted on time (%)"),
            N_("Median hours to contact"),
            N_("Closed"),
            N_("Recovered"),
            N_("Recovery (%)"),
            LOW,
            HIGH,
        ),
        [
            (
                r.key or "–",
                r.opened,
                r.on_time.value if r.on_time else None,
                r.median_hours,
                r.closed,
                r.recovered,
                r.recovery.value if r.recovery else None,
                r.recovery.low if r.recovery else None,
                r.recovery.high if r.recovery else None,
            )
            for r in rows
        ],
        tuple(_follow_up_cells(r) for r in rows),
    )


def _follow_up_cells(row: follow_up_figures.FollowUpRow) -> dict:
    """The follow-up table's counts of one team: opened, due or contacted (the on-time share's
    n), contacted (the median's), closed (the recovery rate's n) and recovered."""

    def band(name: str) -> dict:
        return {"measure": "follow_up", "band": name, "group": "team", "key": row.key}

    cells = {
        1: (band("opened"), row.opened),
        4: (band("closed"), row.closed),
        5: (band("recovered"), row.recovered),
        6: (band("closed"), row.closed),
    }
    if row.on_time:
        cells[2] = (band("due"), row.on_time.n)
    if row.contacted:
        cells[3] = (band("contacted"), row.contacted)
    return cells


def comment_themes(s: Slice, definition, lang: Language, min_sample: int) -> ChartData:
    """The unhappy's and the happy's top terms by z (``comment_terms.slice_themes``)."""
    found = comment_terms.slice_themes(s, definition, comment_terms.current_config())
    by_csat = comment_terms.uses_csat(definition)
    sides = charts.THEME_SIDES if by_csat else charts.THEME_SIDES_NPS
    terms = {side: [charts.ThemeTerm(t.term, t.count, t.z) for t in found[side]] for side in found}
    return ChartData(
        charts.themes_chart(terms["unhappy"], terms["happy"], lang, by_csat),
        _header(lang, N_("Customers"), N_("Term"), N_("Comments"), N_("z")),
        [
            (lang.gettext(sides[side]), t.term, t.count, round(t.z, 2))
            for side in ("unhappy", "happy")
            for t in terms[side]
        ],
        tuple(
            _cells((1, 2), {"term": t.term, "side": side}, t.count)
            for side in ("unhappy", "happy")
            for t in terms[side]
        ),
    )


def _drivers(outcome: str):
    def build(s: Slice, definition: SurveyDefinition, lang: Language, min_sample: int):
        report = drivers.key_drivers(s, definition, outcome, min_sample)
        return key_drivers_chart(report, definition, lang, min_sample)

    return build


def key_drivers_chart(
    report: drivers.DriverReport, definition: SurveyDefinition, lang: Language, min_sample: int
) -> ChartData:
    """The importance-performance chart of a driver report and its table."""
    points = [
        charts.DriverPoint(
            driver_label(definition, d.question, lang),
            d.correlation.value,
            d.performance.value,
            d.n,
            d.ranked,
        )
        for d in report.drivers
        if d.correlation and d.performance
    ]

    def parts(e) -> tuple:
        return (e.value, e.low, e.high) if e else (None, None, None)

    return ChartData(
        charts.importance_performance_chart(points, report.outcome, lang, min_sample),
        _header(
            lang,
            N_("Question"),
            N_("Rank"),
            N_("Pairs"),
            N_("Correlation"),
            LOW,
            HIGH,
            N_("Performance (top-two-box share)"),
            LOW,
            HIGH,
            N_("Relative weight"),
            LOW,
            HIGH,
        ),
        [
            (
                driver_label(definition, d.question, lang),
                d.rank,
                d.n,
                *parts(d.correlation),
                *parts(d.performance),
                *parts(d.relative_weight),
            )
            for d in report.drivers
        ],
        tuple(driver_links(report, d) for d in report.drivers),
    )


def driver_links(report: drivers.DriverReport, d: drivers.Driver) -> dict:
    """The responses behind a driver's figures: its pairs with the outcome (n, correlation),
    its answers (performance), and the complete cases (relative weight)."""
    pairs = {"measure": report.outcome, "question": [d.question]}
    cells = {
        **_cells((2, 3), pairs, d.n),
        6: ({"measure": "question", "question": [d.question]}, d.performance.n)
        if d.performance
        else None,
    }
    if d.relative_weight:
        ranked = [r.question for r in report.drivers if r.ranked]
        cells[9] = ({"measure": report.outcome, "question": ranked}, report.complete_cases)
    return {column: cell for column, cell in cells.items() if cell is not None}


def driver_label(definition: SurveyDefinition, question_id: str, lang: Language) -> str:
    """A driver's name for people: its question's text in the language (its id if gone)."""
    question = definition.question(question_id)
    return question.text.get(lang.code) if question else question_id


CHARTS: dict[str, Callable[..., ChartData]] = {
    "csat-trend": _trend("csat"),
    "nps-trend": _trend("nps"),
    "csat-control": control,
    "nps-composition": composition,
    "csat-by-channel": _breakdown("channel"),
    "csat-by-team": _breakdown("team"),
    "csat-by-category": _breakdown("category"),
    "agent-funnel": funnel,
    "csat-drivers": _drivers("csat"),
    "servqual-gaps": servqual,
    "follow-up-recovery": follow_up_recovery,
    "comment-themes": comment_themes,
    "suggestions-by-category": suggestion_counts,
    "suggestion-handling": suggestion_handling,
}


def build(
    name: str, s: Slice, definition: SurveyDefinition, lang: Language, min_sample: int
) -> ChartData:
    """One chart of the dashboard with the table behind it, in ``lang``."""
    return CHARTS[name](s, definition, lang, min_sample)


# --- an improvement action's before/after check (not one of the dashboard's charts) ----------


def before_after(check: dict, title: str, lang: Language) -> Figure | None:
    """The two windows of ``actions.before_after`` as two rows with their 95% intervals; None
    for the response rate (the charts have no scale for it), before the after window has begun,
    or when neither window has an answer."""
    if check is None or not check["started"] or check["metric"] not in charts.METRICS:
        return None
    before, after = check["before"], check["after"]
    after_words = (
        N_("after, so far: %(dates)s (provisional)")
        if check["provisional"]
        else N_("after: %(dates)s")
    )
    rows = [
        (
            lang.gettext("before: %(dates)s", dates=_window(lang, before["start"], before["end"])),
            before,
        ),
        (
            lang.gettext(after_words, dates=_window(lang, after["start"], after["measured_to"])),
            after,
        ),
    ]
    groups = [
        charts.GroupFigure(
            label,
            window["figure"]["value"],
            window["figure"]["low"],
            window["figure"]["high"],
            window["figure"]["n"],
        )
        for label, window in rows
        if window["figure"]
    ]
    if not groups:
        return None
    return charts.breakdown_chart(
        groups,
        check["metric"],
        lang,
        check["min_sample"],
        title=lang.gettext("%(title)s: before and after", title=title),
    )


def _window(lang: Language, start, end) -> str:
    """A before/after window as Babel's interval: Mar 2 – 29, 2026; 2026年3月2日至29日."""
    return lang.interval(_as_date(start), _as_date(end))


def _as_date(value) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value


def _dimension(lang: Language, key: str) -> str:
    return lang.gettext(charts.DIMENSION_NAMES[key]) if key in charts.DIMENSION_NAMES else key
