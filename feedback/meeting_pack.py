"""The meeting pack: one PDF for a period and slice, for the continuous-improvement meeting.

Page 1 is a cover: the survey, the period and the filters, when the pack was made, and the
headline figures of the dashboard (CSAT, NPS, CES, response rate, answers), each with its 95%
interval, n, the change against the period before and whether that change is real, with short
definitions. Then one page per dashboard chart, built by ``chart_data.build`` so the pack shows
exactly what the dashboard shows (the suggestion box's two charts when suggestions came in).
Last, the comments of the period's detractors (NPS 0-6), newest first, wrapped and
paginated in two columns; then, when the period has any, a table of the improvement actions
overdue, due, done and evaluated in it (``actions.in_period``), and a before/after chart of
each evaluated one. The last page shows the comment themes (``themes_section``): the terms that
set the unhappy's and the happy's comments apart, with the newest comment holding each of the
first few (the dashboard's themes chart is not among the chart pages: this page shows its terms).

Every page is a bare matplotlib ``Figure`` (never pyplot) of the charts' 16:9 size, in the
charts' house style (Noto Sans CJK SC, embedded in the PDF as ``charts`` embeds it), written with
``PdfPages``; how text is set on the pages is ``typeset``'s business. Knows nothing of Flask:
every word comes from the gettext catalogue through the ``i18n.Language`` the caller passes
(dates, ranges and numbers through its Babel formats), and the view and the
``export meeting-pack`` command both call ``build_pack``.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from . import (
    actions,
    chart_data,
    charts,
    comment_terms,
    dashboard,
    drivers,
    follow_up_figures,
    reports,
    stats,
    suggestions,
    typeset,
)
from .definitions import SurveyDefinition
from .periods import periods
from .reports import Slice
from .suggestions import N_

if TYPE_CHECKING:
    from .i18n import Language

COMMENT_LIMIT = 500  # detractor comments in one pack; the newest are kept

# --- words: every one from the gettext catalogue, through the Language the caller passes ---------


# Messages marked for the catalogue (N_) and translated where they are shown.
METRIC_NAMES = {
    "csat": N_("CSAT"),
    "nps": N_("NPS"),
    "ces": N_("CES (effort)"),
    "response_rate": N_("Response rate"),
    "responses": N_("Answers"),
}
CHANNEL_NAMES = {  # channels, and the sources of an answer
    "phone": N_("Phone"),
    "chat": N_("Online chat"),
    "email": N_("Email"),
    "social": N_("Social media"),
    "onsite": N_("On site"),
    "link": N_("survey link"),
    "callback": N_("callback"),
}
VERDICTS = {  # the cover's "real change?" column
    "better": N_("yes: better"),
    "worse": N_("yes: worse"),
    "no clear change": N_("no: within the noise"),
    "no_comparison": N_("no comparison: too little data"),
}
ACTION_WORDS = {  # an action's kind, and the verdict of an evaluated one
    "overdue": N_("overdue"),
    "due": N_("due in the period"),
    "done": N_("done"),
    "evaluated": N_("evaluated"),
    "improved": N_("improved"),
    "worse": N_("worse"),
    "no clear change": N_("no clear change"),
    "too few": N_("too few answers"),
}


def channel_name(code: str | None, lang: Language) -> str:
    """A channel's or source's name; the code itself when it has none, "–" when there is none."""
    return lang.gettext(CHANNEL_NAMES[code]) if code in CHANNEL_NAMES else code or "–"


def _number(value: float, decimals: int = 1, sign: bool = False) -> str:
    """1.5, ‒2.0 (a figure dash, as the charts write minus), +3.1 with sign."""
    text = f"{value:+.{decimals}f}" if sign else f"{value:.{decimals}f}"
    if float(text) == 0:
        text = f"{0:.{decimals}f}"
    return text.replace("-", charts.MINUS)


# --- the cover's text ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Headline:
    """One row of the cover's table of headline figures, as text."""

    metric: str
    label: str
    value: str
    interval: str
    n: str
    change: str
    verdict: str
    verdict_key: str  # "better", "worse", "no clear change", "no_comparison" or ""
    too_few: bool

    @property
    def cells(self) -> tuple[str, ...]:
        return (self.label, self.value, self.interval, self.n, self.change, self.verdict)


DECIMALS = {"csat": 1, "nps": 1, "ces": 2, "response_rate": 1}


def headlines(tiles: Sequence[dashboard.Tile], lang: Language) -> list[Headline]:
    """The dashboard's tiles as the rows of the cover's table (pure)."""
    rows = []
    for tile in tiles:
        metric = tile.metric
        if metric == "responses":
            now, before = tile.current["value"], tile.previous["value"]
            change = lang.gettext(
                "%(change)s (before: %(count)s)",
                change=_number(now - before, 0, sign=True),
                count=lang.number(before),
            )
            name = lang.gettext(METRIC_NAMES[metric])
            rows.append(Headline(metric, name, lang.number(now), "–", "–", change, "–", "", False))
            continue
        figure = tile.current
        decimals = DECIMALS[metric]
        if figure is None:
            value = interval = n = "–"
        elif metric == "response_rate":
            low, high = stats.wilson_interval(figure["answered"], figure["invited"])
            value = f"{_number(figure['value'], decimals)}%"
            interval = f"[{_number(100 * low, decimals)}, {_number(100 * high, decimals)}]"
            n = lang.gettext(
                "%(answered)s of %(invited)s invited",
                answered=lang.number(figure["answered"]),
                invited=lang.number(figure["invited"]),
            )
        else:
            value = _number(figure["value"], decimals) + ("%" if metric == "csat" else "")
            interval = (
                "–"
                if figure["low"] is None
                else f"[{_number(figure['low'], decimals)}, {_number(figure['high'], decimals)}]"
            )
            n = lang.number(figure["n"])
        if figure is not None and tile.too_few:
            n = f"{n} · {lang.gettext('too few answers')}"
        change = tile.change
        if change is None:
            change_text, verdict_key = "–", "no_comparison"
        else:
            change_text = (
                f"{_number(change.value, decimals, sign=True)} "
                f"[{_number(change.low, decimals, sign=True)}, "
                f"{_number(change.high, decimals, sign=True)}]"
            )
            verdict_key = change.verdict
        rows.append(
            Headline(
                metric,
                lang.gettext(METRIC_NAMES[metric]),
                value,
                interval,
                n,
                change_text,
                lang.gettext(VERDICTS[verdict_key]),
                verdict_key,
                tile.too_few,
            )
        )
    return rows


@dataclass(frozen=True)
class Cover:
    """Everything the cover page says, as text (pure data: tests read it, the page draws it)."""

    title: str
    facts: tuple[tuple[str, str], ...]  # (label, text): survey, period, filters, made
    header: tuple[str, ...]
    headlines: tuple[Headline, ...]
    definitions_title: str
    definitions: tuple[str, ...]

    def lines(self) -> list[str]:
        """All the cover's text, line by line, in reading order."""
        return [
            self.title,
            *(f"{label}: {text}" for label, text in self.facts),
            " | ".join(self.header),
            *(" | ".join(row.cells) for row in self.headlines),
            self.definitions_title,
            *self.definitions,
        ]


def filter_text(s: Slice, lang: Language, team_names: dict[int, str]) -> str:
    """The slice's filters in words, or "none" (pure; team_names maps ids to names)."""
    parts = []
    if s.channel:
        parts.append(lang.gettext("channel %(name)s", name=channel_name(s.channel, lang)))
    if s.team_id is not None:
        parts.append(lang.gettext("team %(name)s", name=team_names.get(s.team_id, s.team_id)))
    elif s.allowed_team_ids is not None:
        names = sorted(team_names.get(i, str(i)) for i in s.allowed_team_ids)
        parts.append(lang.gettext("teams %(names)s", names=", ".join(names) or "–"))
    if s.agent:
        parts.append(lang.gettext("agent %(name)s", name=s.agent))
    if s.category:
        parts.append(lang.gettext("category %(name)s", name=s.category))
    if s.source:
        parts.append(lang.gettext("source %(name)s", name=channel_name(s.source, lang)))
    if not parts:
        return lang.gettext("none: every channel, team, agent and category")
    return " · ".join(parts)


def _filtered(s: Slice) -> bool:
    return (
        any((s.channel, s.agent, s.category, s.source))
        or s.team_id is not None
        or s.allowed_team_ids is not None
    )


def cover_text(
    s: Slice,
    survey: str,
    lang: Language,
    min_sample: int,
    tz: str,
    tiles: Sequence[dashboard.Tile],
    team_names: dict[int, str],
    made: datetime,
) -> Cover:
    """The cover's text from the tiles and the slice (pure). ``made`` is an aware datetime."""
    days = (s.end - s.start).days + 1
    previous = s.previous()
    period = lang.gettext(
        "%(period)s (%(days)s), compared with the %(days)s before (%(previous)s)",
        period=lang.interval(s.start, s.end),
        days=lang.ngettext("%(num)s day", "%(num)s days", days),
        previous=lang.interval(previous.start, previous.end),
    )
    when = made.astimezone(ZoneInfo(tz))
    facts = (
        (lang.gettext("Survey"), survey),
        (lang.gettext("Period"), period),
        (lang.gettext("Filters"), filter_text(s, lang, team_names)),
        (
            lang.gettext("Made"),
            lang.gettext(
                "%(when)s (%(zone)s)", when=f"{lang.date(when.date())} {when:%H:%M}", zone=tz
            ),
        ),
    )
    header = (
        lang.gettext("Figure"),
        lang.gettext("Value"),
        lang.gettext("95% interval"),
        lang.gettext("Answers (n)"),
        lang.gettext("Change [95% interval]"),
        lang.gettext("Real change?"),
    )
    definitions = (
        lang.gettext(
            "CSAT: the share of answers of 4 or 5 on the 1–5 satisfaction question; 95% Wilson "
            "interval."
        ),
        lang.gettext(
            "NPS: promoters (9–10) minus detractors (0–6), as a share of all answers, from ‒100 "
            "to 100; 95% adjusted Wald interval."
        ),
        lang.gettext(
            "CES: the mean of the 1–7 effort question, with a 95% normal interval; 5–7 counts as "
            "low effort."
        ),
        lang.gettext(
            "Response rate: answered invitations out of those sent (not suppressed or withdrawn) "
            "in the period; 95% Wilson interval."
        ),
        lang.gettext(
            "Change: this period minus the one before, in percentage points for CSAT and the "
            "response rate. It is a real change only when its 95%% interval excludes zero. A "
            "figure on fewer than %(min_sample)s answers is greyed.",
            min_sample=min_sample,
        ),
    )
    return Cover(
        lang.gettext("Service feedback meeting pack"),
        facts,
        header,
        tuple(headlines(tiles, lang)),
        lang.gettext("How these figures are worked out"),
        definitions,
    )


def cover(
    s: Slice,
    survey_slug: str,
    definition: SurveyDefinition,
    lang: Language,
    min_sample: int,
    tz: str,
    made: datetime | None = None,
) -> Cover:
    """The cover's text for a slice: the dashboard's tiles (four queries) and the team names."""
    team_ids = {s.team_id, *(s.allowed_team_ids or ())}
    survey = lang.gettext(
        "%(title)s (%(slug)s)", title=definition.title.get(lang.code), slug=survey_slug
    )
    return cover_text(
        s,
        survey,
        lang,
        min_sample,
        tz,
        dashboard.tiles(s, min_sample),
        reports.team_names(team_ids),
        made or datetime.now(UTC),
    )


# --- the page ----------------------------------------------------------------------------------

PAGE_INCHES = charts.FIGURE_INCHES
PAGE_WIDTH = PAGE_INCHES[0] * typeset.PT_PER_INCH  # points
PAGE_HEIGHT = PAGE_INCHES[1] * typeset.PT_PER_INCH

# --- the cover page -----------------------------------------------------------------------------

MARGIN = 0.45 * typeset.PT_PER_INCH  # left and right, points
TITLE_SIZE = 24  # the charts' figure.titlesize
VERDICT_COLOURS = {
    "better": charts.BLUISH_GREEN,
    "worse": charts.VERMILLION,
    "no clear change": charts.TEXT_GREY,
    "no_comparison": charts.GREY,
    "": "#222222",
}


def _title(page: typeset.Page, title: str, corner: str = "") -> float:
    """The page's title at top-left as the charts place theirs, the corner text at top-right;
    returns where the title ends (points from the top)."""
    page.text(MARGIN * 0.4, 12, title, TITLE_SIZE, fontweight="bold")
    if corner:
        page.text(PAGE_WIDTH - MARGIN * 0.4, 14, corner, 11, ha="right", color=charts.TEXT_GREY)
    return 12 + TITLE_SIZE * 1.45


def cover_figure(cover_: Cover, corner: str = "") -> Figure:
    """The cover page: title, facts, the table of headline figures, the definitions; all in a
    smaller size when long facts (a lead's many teams, say) would run off the page."""
    figure, top, bottom = _draw_cover(cover_, corner, 1.0)
    limit = PAGE_HEIGHT - 14
    if bottom > limit:
        figure, top, bottom = _draw_cover(cover_, corner, (limit - top) / (bottom - top))
    return figure


FACT_LINES = 3  # a longer fact (a lead's many teams) ends in "…"


def _draw_cover(cover_: Cover, corner: str, scale: float) -> tuple[Figure, float, float]:
    """The cover with everything under the title at ``scale``; where that part starts and ends,
    in points from the top."""
    with charts.house_style():
        page = typeset.Page(PAGE_INCHES)
        top = y = _title(page, cover_.title, corner) + 8
        left, right = MARGIN, PAGE_WIDTH - MARGIN
        # the facts: a column of labels, then the text, wrapped
        size = 14 * scale
        label_width = max(typeset.text_width(label, size, True) for label, _ in cover_.facts) + 14
        for label, text in cover_.facts:
            page.text(left, y, label, size, fontweight="bold", color=charts.TEXT_GREY)
            width = right - left - label_width
            for line in typeset.at_most(text, FACT_LINES, width, size):
                page.text(left + label_width, y, line, size)
                y += size * 1.4
            y += 2 * scale
        y = _table(page, cover_, left, right, y + 14 * scale, scale) + 16 * scale
        # the definitions, small, under a heading
        heading, size = 12.5 * scale, 11.5 * scale
        page.text(
            left, y, cover_.definitions_title, heading, fontweight="bold", color=charts.TEXT_GREY
        )
        y += heading * 1.55
        for definition in cover_.definitions:
            for line in typeset.wrap(definition, right - left, size):
                page.text(left, y, line, size, color=charts.TEXT_GREY)
                y += size * 1.38
            y += 2 * scale
    return page.figure, top, y


def _table(
    page: typeset.Page, cover_: Cover, left: float, right: float, y: float, scale: float = 1.0
) -> float:
    """The headline figures as a table, columns as wide as their widest cell (all smaller if
    they would not fit across). Returns where the table ends."""
    head, body = 13.0 * scale, 16.0 * scale
    xs, across = typeset.table_columns(
        [
            [typeset.Cell(text, head, True) for text in cover_.header],
            *(
                [typeset.Cell(text, body, i in (0, 1)) for i, text in enumerate(row.cells)]
                for row in cover_.headlines
            ),
        ],
        left,
        right,
        gap=18.0,
    )
    head, body = head * across, body * across
    for column, text in enumerate(cover_.header):
        page.text(xs[column], y, text, head, fontweight="bold", color=charts.TEXT_GREY)
    y += head * 1.5 + 4
    page.rule(left, right, y - 4, colour="#888888", width=1.2)
    row_height = body * 2.0
    for row in cover_.headlines:
        colour = charts.GREY if row.too_few else "#222222"
        middle = y + row_height / 2
        for column, text in enumerate(row.cells):
            style = {"fontweight": "bold"} if column in (0, 1) else {}
            if column == 5:
                style = {
                    "fontweight": "bold" if row.verdict_key in ("better", "worse") else "normal",
                    "color": VERDICT_COLOURS[row.verdict_key],
                }
            page.text(
                xs[column], middle, text, body, va="center_baseline", **{"color": colour, **style}
            )
        y += row_height
        page.rule(left, right, y)
    return y


# --- the detractors' comments -------------------------------------------------------------------


@dataclass(frozen=True)
class Comment:
    """One detractor's answers to the comment questions, and who and when."""

    meta: tuple[str, ...]  # date and time, scores, channel, team, agent
    texts: tuple[tuple[str, str], ...]  # (the question, or "" when the survey has only one; text)


def comment_meta(row: dict, lang: Language, tz: str, team_names: dict[int, str]) -> tuple[str, ...]:
    """When (in the site's time zone), the scores, channel, team and agent of a comment."""
    when = row["submitted_at"].replace(tzinfo=UTC).astimezone(ZoneInfo(tz))
    parts = [
        f"{when:%Y-%m-%d %H:%M}",
        f"CSAT {'–' if row['csat'] is None else row['csat']}",
        f"NPS {'–' if row['nps'] is None else row['nps']}",
        channel_name(row["channel"], lang),
    ]
    if row.get("team") is not None:
        parts.append(lang.gettext("team %(name)s", name=team_names.get(row["team"], row["team"])))
    if row.get("agent"):
        parts.append(lang.gettext("agent %(name)s", name=row["agent"]))
    return tuple(parts)


def detractor_comments(
    s: Slice, definition: SurveyDefinition, lang: Language, tz: str, limit: int = COMMENT_LIMIT
) -> tuple[list[Comment], bool]:
    """The period's detractor comments, newest first, one entry per response; and whether
    there were more than ``limit`` (two queries)."""
    questions = {
        q.id: q.text.get(lang.code)
        for q in definition.questions
        if q.id in dashboard.comment_question_ids(definition)
    }
    rows = reports.comments(s, list(questions), band="detractors", limit=limit + 1)
    more, rows = len(rows) > limit, rows[:limit]
    names = reports.team_names({row["team"] for row in rows})
    entries: list[Comment] = []
    last_key, answered = None, set()
    for row in rows:
        # The answers of one response come one after the other, with the same moment (to the
        # microsecond), scores and slice; a question answered again means another response.
        key = (
            row["submitted_at"],
            row["csat"],
            row["nps"],
            row["channel"],
            row["team"],
            row["agent"],
        )
        question = questions.get(row["question_id"], "") if len(questions) > 1 else ""
        if key == last_key and row["question_id"] not in answered:
            entries[-1] = Comment(entries[-1].meta, (*entries[-1].texts, (question, row["text"])))
        else:
            entries.append(Comment(comment_meta(row, lang, tz, names), ((question, row["text"]),)))
            answered = set()
        last_key = key
        answered.add(row["question_id"])
    return entries, more


COLUMNS = 2
COLUMN_GAP = 30.0
COLUMN_WIDTH = (PAGE_WIDTH - 2 * MARGIN - (COLUMNS - 1) * COLUMN_GAP) / COLUMNS
COLUMN_TOP = 84.0  # points from the top of the page: under the title and the subtitle
COLUMN_HEIGHT = PAGE_HEIGHT - COLUMN_TOP - 30.0
SIZES = {"meta": 12.0, "question": 12.0, "text": 15.0}
LEADING = {"meta": 12.0 * 1.5, "question": 12.0 * 1.4, "text": 15.0 * 1.38}
ENTRY_GAP = 14.0  # between two comments, with a rule in the middle
TEXT_INDENT = 8.0  # the comment's text, right of its vermillion bar
COMMENT_COLUMNS = typeset.Columns(
    LEADING, COLUMN_HEIGHT, ENTRY_GAP, COLUMNS, head="meta", body="text", keep=2
)


def comment_lines(
    comment: Comment, lang: Language, continued: bool = False
) -> list[tuple[str, str]]:
    """(kind, text) for each line of a comment, wrapped to the column."""
    parts = [*comment.meta, lang.gettext("(continued)")] if continued else comment.meta
    lines = [("meta", line) for line in typeset.joined(parts, COLUMN_WIDTH, SIZES["meta"])]
    for question, text in comment.texts:
        if question:
            lines += [
                ("question", line)
                for line in typeset.wrap(question, COLUMN_WIDTH, SIZES["question"])
            ]
        lines += [
            ("text", line) for line in typeset.wrap(text, COLUMN_WIDTH - TEXT_INDENT, SIZES["text"])
        ]
    return lines


def layout_comments(comments: Sequence[Comment], lang: Language) -> list[list[list[typeset.Line]]]:
    """Pages of columns of lines (pure). A comment moves whole to the next column when it fits
    there; one longer than a column is split, and goes on under its meta line marked
    "continued", with at least two lines of it on each side."""

    def continued(index: int) -> list[tuple[str, str]]:
        lines = comment_lines(comments[index], lang, continued=True)
        return [line for line in lines if line[0] == "meta"]

    blocks = [comment_lines(comment, lang) for comment in comments]
    return typeset.flow(blocks, COMMENT_COLUMNS, continued)


def comments_figure(
    page_columns: Sequence[Sequence[typeset.Line]],
    title: str,
    subtitle: str,
    corner: str = "",
    empty: str = "",
) -> Figure:
    """One page of detractor comments, in columns, under the section's title."""
    with charts.house_style():
        page = typeset.Page(PAGE_INCHES)
        top = _title(page, title, corner)
        page.text(MARGIN * 0.4, top + 2, subtitle, 15, color=charts.TEXT_GREY)
        if empty:
            page.text(
                PAGE_WIDTH / 2,
                PAGE_HEIGHT / 2,
                empty,
                28,
                ha="center",
                va="center",
                color=charts.GREY,
            )
        for index, column in enumerate(page_columns):
            left = MARGIN + index * (COLUMN_WIDTH + COLUMN_GAP)
            for line in column:
                y = COLUMN_TOP + line.top
                if line.kind == "rule":
                    page.rule(left, left + COLUMN_WIDTH, y)
                elif line.kind == "meta":
                    page.text(left, y, line.text, SIZES["meta"], color=charts.TEXT_GREY)
                elif line.kind == "question":
                    page.text(left, y, line.text, SIZES["question"], color=charts.TEXT_GREY)
                else:
                    page.text(left + TEXT_INDENT, y, line.text, SIZES["text"])
            # a vermillion bar beside the text of each comment: these are detractors
            for start, end in typeset.runs(column, "text", LEADING["text"]):
                page.vrule(
                    left + 1.5, COLUMN_TOP + start + 2, COLUMN_TOP + end - 3, charts.VERMILLION, 2.5
                )
    return page.figure


# --- key drivers ----------------------------------------------------------------------------


def drivers_headline(report: drivers.DriverReport, definition, lang: Language) -> str:
    """What the key-drivers page says under its title: the drivers to fix first with their
    figures and intervals, or the strongest driver when none falls in that quadrant."""
    ranked = [d for d in report.drivers if d.ranked]
    if not ranked:
        return ""
    points = {
        d.question: charts.DriverPoint("", d.correlation.value, d.performance.value, d.n, True)
        for d in ranked
    }
    urgent = {id(p) for p in charts.fix_first(list(points.values()))}
    chosen = [d for d in ranked if id(points[d.question]) in urgent] or ranked[:1]
    parts = [
        lang.gettext(
            "%(question)s: r %(r)s [%(low)s, %(high)s], %(share)s top-two-box",
            question=chart_data.driver_label(definition, d.question, lang),
            r=_number(d.correlation.value, 2),
            low=_number(d.correlation.low, 2) if d.correlation.low is not None else "–",
            high=_number(d.correlation.high, 2) if d.correlation.high is not None else "–",
            share=f"{d.performance.value:.0f}%",
        )
        for d in chosen
    ]
    if urgent:
        return lang.gettext("Fix first: %(drivers)s", drivers="; ".join(parts))
    return lang.gettext("Strongest driver: %(drivers)s", drivers="; ".join(parts))


def drivers_page(s: Slice, definition, lang: Language, min_sample: int) -> Figure:
    """The key drivers of CSAT: the dashboard's importance-performance chart with, under its
    title, the drivers to fix first and their intervals (one computation for both)."""
    report = drivers.key_drivers(s, definition, "csat", min_sample)
    figure = chart_data.key_drivers_chart(report, definition, lang, min_sample).figure
    headline = drivers_headline(report, definition, lang)
    if headline and figure.axes and figure.axes[0].get_title(loc="left"):
        with charts.house_style():
            figure.axes[0].set_title(headline, loc="left", pad=14)
    return figure


# --- the pack -----------------------------------------------------------------------------------


def pack_charts(s: Slice, definition: SurveyDefinition) -> list[str]:
    """The dashboard's charts in its order; SERVQUAL gaps only when there are any, as there;
    the suggestion box's two charts only when suggestions came in during the period."""
    names = [name for name in chart_data.CHARTS if name != "comment-themes"]  # own page
    if not dashboard.servqual_gaps(s, definition):
        names.remove("servqual-gaps")
    if not suggestions.status_counts(chart_data.suggestion_triage(s))["all"]:
        names = [name for name in names if name not in chart_data.SUGGESTION_CHARTS]
    if not follow_up_figures.counts(s):  # the follow-ups section: only when there are any
        names.remove("follow-up-recovery")
    if not drivers.applies(definition, "csat"):  # key drivers: a survey with CSAT and ratings
        names.remove("csat-drivers")
    return names


def steps(s: Slice, definition: SurveyDefinition, tz: str = "UTC") -> list[str]:
    """The labels ``build_pack`` reports progress with, in order, once each (two queries)."""
    section = ["actions"] if actions.in_period(s, tz) else []
    return ["cover", *pack_charts(s, definition), "comments", *section, "themes", "finish"]


CORNER_SIZE = 11


def _corner(title: str, candidates: Sequence[str]) -> str:
    """The first of the candidates (longest first) that fits at the top-right of a page beside
    its title; the last one whatever its length."""
    # titles start at 1.2% of the width from the left, as the charts put theirs (charts._figure)
    room = (
        PAGE_WIDTH
        - MARGIN * 0.4
        - PAGE_WIDTH * 0.012
        - typeset.text_width(title, TITLE_SIZE, True) * 1.03
        - 30
    )
    return typeset.first_fitting(candidates, room, CORNER_SIZE)


def _mark_chart(figure: Figure, candidates: Sequence[str]) -> None:
    """The corner text at the top-right of a chart of the dashboard."""
    with charts.house_style():
        figure.text(
            1 - MARGIN * 0.4 / PAGE_WIDTH,
            1 - 14 / PAGE_HEIGHT,
            _corner(figure.get_suptitle(), candidates),
            fontsize=CORNER_SIZE,
            ha="right",
            va="top",
            color=charts.TEXT_GREY,
        )


def pages(
    s: Slice,
    survey_slug: str,
    definition: SurveyDefinition,
    lang: Language,
    min_sample: int,
    tz: str,
    made: datetime | None = None,
) -> Iterator[tuple[Figure, str | None]]:
    """The pack's pages in order, each with the step of ``steps`` it completes (or None)."""
    names = pack_charts(s, definition)
    comments, more = detractor_comments(s, definition, lang, tz)
    comment_pages = layout_comments(comments, lang)
    listed = actions.in_period(s, tz)
    section = actions_section(listed, lang, tz)
    action_charts = evaluated_charts(listed, lang)
    total = 1 + len(names) + len(comment_pages) + action_pages(section) + len(action_charts)
    total += 1  # the comment themes' page, last
    front = cover(s, survey_slug, definition, lang, min_sample, tz, made)
    filters = dict(front.facts).get(lang.gettext("Filters"))
    period = lang.interval(s.start, s.end)
    survey = definition.title.get(lang.code) or survey_slug  # words, not the slug

    def corner(number: int) -> list[str]:
        page = lang.gettext("page %(page)s of %(pages)s", page=number, pages=total)
        longest = [f"{survey} · {period} · {filters} · {page}"] if _filtered(s) else []
        return [*longest, f"{survey} · {period} · {page}", page]

    yield cover_figure(front, _corner(front.title, corner(1))), "cover"
    for number, name in enumerate(names, start=2):
        if name == "csat-drivers":
            figure = drivers_page(s, definition, lang, min_sample)
        else:
            figure = chart_data.build(name, s, definition, lang, min_sample).figure
        _mark_chart(figure, corner(number))
        yield figure, name
    count = lang.ngettext("%(num)s comment", "%(num)s comments", len(comments))
    if more:
        subtitle = lang.gettext(
            "%(count)s, newest first (only the newest %(limit)s are in this pack)",
            count=count,
            limit=COMMENT_LIMIT,
        )
    elif comments:
        subtitle = lang.gettext("%(count)s, newest first", count=count)
    else:
        subtitle = count
    title = lang.gettext("What detractors said (NPS 0–6)")
    first = 2 + len(names)
    for number, columns in enumerate(comment_pages, start=first):
        figure = comments_figure(
            columns,
            title,
            subtitle,
            _corner(title, corner(number)),
            empty="" if comments else lang.gettext("No comments from detractors in this period."),
        )
        yield figure, ("comments" if number == first + len(comment_pages) - 1 else None)
    if section.rows:
        first = 2 + len(names) + len(comment_pages)
        figures = actions_figures(
            section,
            [
                _corner(section.title, corner(number))
                for number in range(first, first + action_pages(section))
            ],
        )
        for figure in action_charts:
            _mark_chart(figure, corner(first + len(figures)))
            figures.append(figure)
        for index, figure in enumerate(figures):
            yield figure, ("actions" if index == len(figures) - 1 else None)
    themes_page = themes_section(s, definition, lang)
    yield themes_figure(themes_page, _corner(themes_page.title, corner(total))), "themes"


def build_pack(
    s: Slice,
    survey_slug: str,
    definition: SurveyDefinition,
    lang: Language,
    min_sample: int,
    tz: str,
    progress: Callable[[str], None] | None = None,
    made: datetime | None = None,
) -> bytes:
    """The meeting pack as PDF bytes: cover, the dashboard's charts, the detractors' comments,
    and the improvement actions of the period when there are any.

    ``progress`` is called with each label of ``steps(s, definition, tz)``, once each, as that
    part is done. ``made`` (aware; default now) is the time the cover gives.
    """
    report = progress or (lambda _label: None)
    buffer = io.BytesIO()
    title = lang.gettext(
        "Service feedback meeting pack: %(survey)s, %(period)s",
        survey=survey_slug,
        period=lang.interval(s.start, s.end),
    )
    pdf = PdfPages(buffer, metadata={"Title": title, "Creator": "feedback"})
    try:
        for figure, step in pages(s, survey_slug, definition, lang, min_sample, tz, made):
            # PDF settings (the font type) are read while drawing and while closing, so both
            # happen in the house style; the lock is let go between pages
            with charts.house_style():
                pdf.savefig(figure)
            if step:
                report(step)
    finally:
        with charts.house_style():
            pdf.close()
    report("finish")
    return buffer.getvalue()


# --- improvement actions ------------------------------------------------------------------------
# A table of the actions the meeting should hear about (actions.in_period): overdue, due, done
# and evaluated with their verdicts. Only in packs whose period has any.

ACTION_ROWS_PER_PAGE = 10
ACTION_COLUMNS = (0.24, 0.19, 0.09, 0.13, 0.13, 0.22)  # shares of the width between margins
ACTION_KIND_COLOURS = {
    "overdue": charts.VERMILLION,
    "due": "#222222",
    "done": charts.TEXT_GREY,
    "evaluated": "#222222",
}
ACTION_VERDICT_COLOURS = {
    "improved": charts.BLUISH_GREEN,
    "worse": charts.VERMILLION,
    "no clear change": charts.TEXT_GREY,
    "too few": charts.GREY,
    None: "#222222",
}


@dataclass(frozen=True)
class ActionsSection:
    """The actions table as text (pure data: tests read it, the pages draw it)."""

    title: str
    subtitle: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    kinds: tuple[str, ...]  # each row's kind, for its colour
    verdicts: tuple[str | None, ...]  # each row's verdict (evaluated ones), for its colour

    def lines(self) -> list[str]:
        return [
            self.title,
            self.subtitle,
            " | ".join(self.header),
            *(" | ".join(row) for row in self.rows),
        ]


def _figure_text(metric: str, figure: dict | None, lang: Language) -> str:
    if figure is None:
        return "–"
    decimals = DECIMALS[metric]
    unit = "%" if metric in ("csat", "response_rate") else ""
    return f"{_number(figure['value'], decimals)}{unit} (n={lang.number(figure['n'])})"


def actions_section(items: Sequence, lang: Language, tz: str) -> ActionsSection:
    """The rows of the actions table from ``actions.in_period`` (pure)."""
    rows, kinds, verdicts = [], [], []
    for item in items:
        action = item.action
        problem = [
            lang.gettext(METRIC_NAMES[action.metric]),
            item.team or lang.gettext("all teams"),
        ]
        if action.channel:
            problem.append(channel_name(action.channel, lang))
        if item.kind == "done":
            state = lang.gettext("done %(day)s", day=lang.skeleton(action.done_on, "MMMd"))
        elif item.kind == "evaluated":
            day = periods(action.evaluated_at, tz).day
            state = lang.gettext("evaluated %(day)s", day=lang.skeleton(day, "MMMd"))
        else:
            state = lang.gettext(ACTION_WORDS[item.kind])
        result, verdict = "–", None
        if item.kind == "done":
            result = lang.gettext("not evaluated yet")
        elif item.kind == "evaluated" and action.evaluation:
            check = json.loads(action.evaluation)
            verdict = check["verdict"]
            result = lang.gettext(
                "%(label)s: %(value)s",  # the colon as the language writes it (：in Chinese)
                label=f"{_figure_text(action.metric, check['before']['figure'], lang)} → "
                f"{_figure_text(action.metric, check['after']['figure'], lang)}",
                value=lang.gettext(ACTION_WORDS[verdict]),
            )
        rows.append(
            (
                action.title,
                " · ".join(problem),
                item.owner,
                lang.date(action.due_date),
                state,
                result,
            )
        )
        kinds.append(item.kind)
        verdicts.append(verdict)
    counts = [
        lang.gettext(
            "%(count)s %(kind)s",
            count=sum(k == kind for k in kinds),
            kind=lang.gettext(ACTION_WORDS[kind]),
        )
        for kind in ("overdue", "due", "done", "evaluated")
        if kind in kinds
    ]
    header = (
        lang.gettext("Action"),
        lang.gettext("Problem"),
        lang.gettext("Owner"),
        lang.gettext("Due"),
        lang.gettext("Where it stands"),
        lang.gettext("Before → after"),
    )
    return ActionsSection(
        lang.gettext("Improvement actions"),
        " · ".join(counts),
        header,
        tuple(rows),
        tuple(kinds),
        tuple(verdicts),
    )


def actions_figures(section: ActionsSection, corners: Sequence[str]) -> list[Figure]:
    """The actions table, ACTION_ROWS_PER_PAGE rows a page; ``corners`` has one text a page."""
    figures = []
    left, right = MARGIN, PAGE_WIDTH - MARGIN
    widths = [share * (right - left) for share in ACTION_COLUMNS]
    xs = [left + sum(widths[:i]) for i in range(len(widths))]
    head, body = 12.5, 12.5
    for page_number, first in enumerate(range(0, len(section.rows), ACTION_ROWS_PER_PAGE)):
        with charts.house_style():
            page = typeset.Page(PAGE_INCHES)
            y = _title(page, section.title, corners[page_number])
            page.text(MARGIN * 0.4, y + 2, section.subtitle, 15, color=charts.TEXT_GREY)
            y += 36
            for x, width, text in zip(xs, widths, section.header, strict=True):
                page.text(
                    x,
                    y,
                    typeset.at_most(text, 1, width - 8, head, bold=True)[0],
                    head,
                    fontweight="bold",
                    color=charts.TEXT_GREY,
                )
            y += head * 1.6
            page.rule(left, right, y - 4, colour="#888888", width=1.2)
            end = first + ACTION_ROWS_PER_PAGE
            for row, kind, verdict in zip(
                section.rows[first:end],
                section.kinds[first:end],
                section.verdicts[first:end],
                strict=True,
            ):
                cells = [
                    typeset.at_most(text, 2, width - 8, body)
                    for text, width in zip(row, widths, strict=True)
                ]
                colours = {4: ACTION_KIND_COLOURS[kind], 5: ACTION_VERDICT_COLOURS[verdict]}
                for column, (x, lines) in enumerate(zip(xs, cells, strict=True)):
                    colour = colours.get(column, "#222222")
                    weight = (
                        "bold"
                        if column == 0
                        or (column == 4 and kind == "overdue")
                        or (column == 5 and verdict in ("improved", "worse"))
                        else "normal"
                    )
                    for index, line in enumerate(lines):
                        page.text(
                            x,
                            y + 4 + index * body * 1.35,
                            line,
                            body,
                            color=colour,
                            fontweight=weight,
                        )
                y += 2 * body * 1.35 + 10
                page.rule(left, right, y - 3)
        figures.append(page.figure)
    return figures


def action_pages(section: ActionsSection) -> int:
    return -(-len(section.rows) // ACTION_ROWS_PER_PAGE)


ACTION_CHARTS = 6  # before/after charts of evaluated actions in one pack, at most


def evaluated_charts(listed: Sequence, lang: Language) -> list[Figure]:
    """A before/after chart for each evaluated action in the list (the first ACTION_CHARTS
    with a chart: the response rate has none)."""
    figures = []
    for item in listed:
        if item.kind != "evaluated" or not item.action.evaluation:
            continue
        figure = chart_data.before_after(
            json.loads(item.action.evaluation), item.action.title, lang
        )
        if figure is not None:
            figures.append(figure)
        if len(figures) == ACTION_CHARTS:
            break
    return figures


# --- comment themes -----------------------------------------------------------------------------
# The page of ``comment_terms.slice_themes``: each side's top terms with their counts and z, and
# under the first few the newest comment that holds it. Always in the pack, last.

THEME_ROWS = 12  # terms a side on the page
THEME_EXAMPLES = 3  # of them with a comment beside
THEME_SIZE = 13.0


@dataclass(frozen=True)
class ThemesSection:
    """The themes page as text (pure data: tests read it, the page draws it)."""

    title: str
    subtitle: str
    header: tuple[str, str, str]
    sides: tuple[tuple[str, tuple[tuple[str, str, str, str], ...]], ...]
    # per side: its heading and rows (term, comments, z, the newest comment holding it or "")
    empty: str

    def lines(self) -> list[str]:
        return [
            self.title,
            self.subtitle,
            *(
                line
                for heading, rows in self.sides
                for line in (heading, *(" | ".join(filter(None, row)) for row in rows))
            ),
        ]


def themes_section(s: Slice, definition: SurveyDefinition, lang: Language) -> ThemesSection:
    """The comment themes of the slice as the page's text (queries of ``comment_terms``)."""
    config = comment_terms.current_config()
    found = comment_terms.slice_themes(s, definition, config, top=THEME_ROWS)
    wanted = [(side, t.term) for side in found for t in found[side][:THEME_EXAMPLES]]
    examples = comment_terms.newest_holding(s, definition, config, wanted)
    headings = charts.THEME_SIDES if comment_terms.uses_csat(definition) else charts.THEME_SIDES_NPS
    sides = tuple(
        (
            lang.gettext(headings[side]),
            tuple(
                (
                    t.term,
                    lang.number(t.count),
                    _number(t.z, 1),
                    examples.get((side, t.term), ""),
                )
                for t in found[side]
            ),
        )
        for side in ("unhappy", "happy")
    )
    return ThemesSection(
        lang.gettext("What unhappy and happy customers write about"),
        lang.gettext(
            "Terms one side's comments use more than all the others, by z (above 1.96: "
            "clearly distinctive); with the newest comment that holds each of the first %(n)s",
            n=THEME_EXAMPLES,
        ),
        (lang.gettext("Term"), lang.gettext("Comments"), "z"),
        sides,
        lang.gettext("No term stands out in these comments."),
    )


def themes_figure(section: ThemesSection, corner: str = "") -> Figure:
    """The themes page: a column a side, a row a term, the examples in grey under theirs."""
    width = (PAGE_WIDTH - 2 * MARGIN - COLUMN_GAP) / 2
    with charts.house_style():
        page = typeset.Page(PAGE_INCHES)
        top = _title(page, section.title, corner)
        for line_number, line in enumerate(
            typeset.at_most(section.subtitle, 2, PAGE_WIDTH - 2 * MARGIN, 13)
        ):
            page.text(MARGIN * 0.4, top + 2 + line_number * 18, line, 13, color=charts.TEXT_GREY)
        for index, ((heading, rows), colour) in enumerate(
            zip(section.sides, (charts.VERMILLION, charts.BLUISH_GREEN), strict=True)
        ):
            left = MARGIN + index * (width + COLUMN_GAP)
            xs = (left, left + width * 0.62, left + width * 0.82)
            y = COLUMN_TOP + 6
            page.text(left, y, heading, 15, fontweight="bold", color=colour)
            y += 26
            for x, text in zip(xs, section.header, strict=True):
                page.text(x, y, text, 11.5, color=charts.TEXT_GREY)
            y += 18
            page.rule(left, left + width, y - 4)
            if not rows:
                page.text(left, y + 8, section.empty, THEME_SIZE, color=charts.GREY)
            for term, count, z, example in rows:
                if y > PAGE_HEIGHT - 40:
                    break
                page.text(
                    xs[0],
                    y + 2,
                    typeset.at_most(term, 1, width * 0.6, THEME_SIZE)[0],
                    THEME_SIZE,
                    fontweight="bold",
                )
                page.text(xs[1], y + 2, count, THEME_SIZE)
                page.text(xs[2], y + 2, z, THEME_SIZE)
                y += THEME_SIZE * 1.5
                if example:
                    quoted = typeset.at_most(f"“{example}”", 1, width - 12, 11)[0]
                    page.text(left + 12, y, quoted, 11, color=charts.TEXT_GREY)
                    y += 11 * 1.6
    return page.figure
