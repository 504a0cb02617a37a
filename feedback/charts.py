"""Charts for improvement meetings: plain numbers in, a matplotlib ``Figure`` out, then bytes.

Knows nothing of Flask or the database, and never imports ``matplotlib.pyplot``: pyplot keeps every
figure in a global registry, which leaks in a server. Each chart is a bare ``Figure``.

One house style for every chart: the Okabe-Ito palette (safe for colour-blind readers), Noto Sans
CJK SC for all text so Chinese and Latin both render, type large enough to read on a projector, a
light grid and nothing else. Every figure says how many answers it rests on; a figure resting on
fewer than ``min_sample`` answers is drawn grey and labelled "too few answers" / "回答太少".

matplotlib reads its settings (fonts, sizes, how PDF and SVG embed text) from the process-wide
``rcParams`` while a figure is built *and* while it is drawn. Both happen here under one lock inside
``rc_context(HOUSE_STYLE)``, so requests in several threads never see each other's settings and the
rest of the process keeps matplotlib's defaults.
"""

from __future__ import annotations

import functools
import importlib.util
import io
import math
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib
import numpy as np
from matplotlib import font_manager
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FixedLocator, FuncFormatter, MaxNLocator

from feedback.names import N_
from feedback.stats import FUNNEL_LEVELS, funnel_limits, nps, p_chart_limits
from feedback.vocabulary import SERVQUAL_DIMENSIONS

if TYPE_CHECKING:
    from feedback.i18n import Language

# --- the house style ----------------------------------------------------------------------------

FONT_FAMILY = "Noto Sans CJK SC"
METRICS = ("csat", "nps", "ces")

# Okabe & Ito (2008), "Color Universal Design".
BLACK = "#000000"
ORANGE = "#E69F00"
SKY_BLUE = "#56B4E9"
BLUISH_GREEN = "#009E73"
YELLOW = "#F0E442"
BLUE = "#0072B2"
VERMILLION = "#D55E00"
REDDISH_PURPLE = "#CC79A7"
OKABE_ITO = (ORANGE, SKY_BLUE, BLUISH_GREEN, YELLOW, BLUE, VERMILLION, REDDISH_PURPLE, BLACK)
GREY = "#999999"
LIGHT_GREY = "#DDDDDD"
TEXT_GREY = "#555555"

FIGURE_INCHES = (12.8, 7.2)  # 16:9; at 100 dpi this is the "medium" PNG
# "slot": the dashboard's picture in its half-width slot (about 510 px) on a 1x screen; the
# page's srcset offers small and medium for wider slots and sharper screens.
PNG_SIZES = {
    "slot": (560, 315),
    "small": (800, 450),
    "medium": (1280, 720),
    "large": (1920, 1080),
}
FORMATS = ("png", "svg", "pdf")


def _register_fonts() -> tuple[Path, ...]:
    """Add mpl_font's Noto Sans CJK SC files to matplotlib's font list (once per process)."""
    # find_spec locates the package without running it: mpl_font/__init__ imports pyplot.
    spec = importlib.util.find_spec("mpl_font")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("feedback.charts needs the mpl-font package for Noto Sans CJK SC")
    folder = Path(spec.submodule_search_locations[0]) / "fonts" / "noto"
    files = tuple(sorted(folder.glob("*.otf")) + sorted(folder.glob("*.ttf")))
    if not files:
        raise ImportError(f"no Noto Sans CJK SC font files in {folder}")
    known = {entry.fname for entry in font_manager.fontManager.ttflist}
    for path in files:
        if str(path) not in known:
            font_manager.fontManager.addfont(str(path))
    return files


FONT_FILES = _register_fonts()


def _pdf_fonttype(font_files: Sequence[Path]) -> int:
    """42 (TrueType) when the fonts have TrueType outlines, else 3; see the comment at the call."""
    with open(font_files[0], "rb") as font_file:
        return 3 if font_file.read(4) == b"OTTO" else 42


# Type 42 embeds TrueType outlines. matplotlib writes the CFF outlines of an OpenType .otf (as
# Noto Sans CJK ships) into the TrueType slot regardless (matplotlib#2869, still open), and viewers
# such as MuPDF then draw the wrong glyphs. Those fonts therefore go in as Type 3: still embedded
# (subset, with a ToUnicode map so text can be searched and copied) and drawn right everywhere.
# A TrueType build of the font (glyf outlines) gets Type 42 automatically.
PDF_FONTTYPE = _pdf_fonttype(FONT_FILES)

HOUSE_STYLE = {
    "font.family": "sans-serif",
    # DejaVu Sans only catches the odd glyph Noto lacks (a rare symbol in an agent's name).
    "font.sans-serif": [FONT_FAMILY, "DejaVu Sans"],
    "font.size": 18,
    "figure.titlesize": 24,
    "figure.titleweight": "bold",
    "axes.titlesize": 16,
    "axes.titlecolor": TEXT_GREY,
    "axes.labelsize": 17,
    "axes.labelcolor": "#222222",
    "xtick.labelsize": 16,
    "ytick.labelsize": 16,
    "legend.fontsize": 15,
    "axes.prop_cycle": matplotlib.cycler(color=OKABE_ITO),
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.edgecolor": "#444444",
    "axes.linewidth": 1.0,
    "axes.grid": True,
    "axes.axisbelow": True,
    "grid.color": LIGHT_GREY,
    "grid.linewidth": 0.8,
    "xtick.color": "#333333",
    "ytick.color": "#333333",
    "axes.unicode_minus": False,  # our formatters write MINUS themselves
    "text.parse_math": False,  # a "$" in a team's or an agent's name is just a dollar sign
    "lines.linewidth": 2.5,
    "lines.markersize": 9,
    "legend.frameon": False,
    "figure.facecolor": "white",
    "savefig.facecolor": "white",
    "figure.dpi": 100,
    "savefig.dpi": 100,
    "pdf.fonttype": PDF_FONTTYPE,
    "svg.fonttype": "path",  # glyphs as paths: the SVG shows Chinese without any font installed
    "svg.hashsalt": "feedback-charts",  # the same chart gives the same SVG ids
}

_STYLE_LOCK = threading.RLock()


@contextmanager
def house_style() -> Iterator[None]:
    """Apply HOUSE_STYLE while building or drawing a figure, one thread at a time."""
    with _STYLE_LOCK, matplotlib.rc_context(HOUSE_STYLE):
        yield


def _styled(chart: Callable[..., Figure]) -> Callable[..., Figure]:
    @functools.wraps(chart)
    def wrapper(*args, **kwargs) -> Figure:
        with house_style():
            return chart(*args, **kwargs)

    return wrapper


# --- words -------------------------------------------------------------------------------------
# Every word comes from the gettext catalogue through the ``Language`` a chart is given
# (``feedback.i18n.language("en")``); dates and numbers are Babel's. ``N_`` marks a message for
# extraction where it is looked up later by key.


@dataclass(frozen=True)
class MetricWords:
    """A metric's words on the charts (gettext messages)."""

    name: str
    axis: str
    trend_title: str
    breakdown_title: str


METRIC_WORDS = {
    "csat": MetricWords(
        N_("CSAT"),
        N_("CSAT, % satisfied (4–5)"),
        N_("Customer satisfaction (CSAT) over time"),
        N_("CSAT by group"),
    ),
    "nps": MetricWords(
        N_("NPS"),
        N_("NPS (\u2012100 to +100)"),
        N_("Net Promoter Score (NPS) over time"),
        N_("NPS by group"),
    ),
    "ces": MetricWords(
        N_("CES"),
        N_("customer effort, mean (1–7)"),
        N_("Customer effort (CES) over time"),
        N_("Customer effort (CES) by group"),
    ),
}
BANDS = {
    "promoters": N_("promoters (9–10)"),
    "passives": N_("passives (7–8)"),
    "detractors": N_("detractors (0–6)"),
}
DIMENSION_NAMES = {
    "reliability": N_("Reliability"),
    "responsiveness": N_("Responsiveness"),
    "assurance": N_("Assurance"),
    "empathy": N_("Empathy"),
    "tangibles": N_("Tangibles"),
}
HANDLING_ROWS = {
    "answered": N_("answered"),
    "within_goal": N_("first reply within the goal"),
    "done_share": N_("done"),
}

# Noto Sans CJK draws U+2212 MINUS SIGN a full em wide, twice a digit; the figure dash is a digit
# wide, as a minus should be.
MINUS = "\u2012"


def _count(lang: Language, n: int) -> str:
    return lang.number(n)


def _answers(lang: Language, n: int) -> str:
    """ "1 answer", "1,234 answers", "1,234 份回答"."""
    return lang.ngettext("%(num)s answer", "%(num)s answers", n, num=_count(lang, n))


def _suggestions(lang: Language, n: int) -> str:
    return lang.ngettext("%(num)s suggestion", "%(num)s suggestions", n, num=_count(lang, n))


def _too_few_legend(lang: Language, min_sample: int) -> str:
    return lang.gettext("too few answers (n < %(min_sample)s)", min_sample=min_sample)


def _row_label(lang: Language, label: str, n: int) -> str:
    return lang.gettext("%(label)s (n = %(n)s)", label=label, n=_count(lang, n))


def _signed(value: float, decimals: int = 0) -> str:
    """+23, ‒12 (MINUS), 0."""
    text = f"{value:+.{decimals}f}"
    if float(text) == 0:
        return f"{0:.{decimals}f}"
    return text.replace("-", MINUS)


def _format_value(metric: str, value: float) -> str:
    if metric == "csat":
        return f"{value:.0f}%"
    if metric == "nps":
        return _signed(value)
    return f"{value:.1f}"


def _date_label(day: date, lang: Language, *, monthly: bool = False, year: bool = True) -> str:
    """Babel's date in the language: 2026年3月2日, Mar 2, 2026; without the year 3月2日, Mar 2."""
    skeleton = ("MMM" if monthly else "MMMd") if not year else ("yMMM" if monthly else "yMMMd")
    return lang.skeleton(day, skeleton)


# --- the arguments ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PeriodPoint:
    """One period of a trend: its first day, the figure, its 95% interval (None if n is tiny), n."""

    start: date
    value: float
    low: float | None
    high: float | None
    n: int


@dataclass(frozen=True)
class WeekCount:
    """One week of a p-chart: its first day, the satisfied (4-5) answers and all answers."""

    start: date
    satisfied: int
    n: int


@dataclass(frozen=True)
class ControlPoint:
    """A week on the p-chart: its CSAT share and its 3-sigma limits, all on the 0-1 scale."""

    week: WeekCount
    share: float
    lower: float
    upper: float

    @property
    def special(self) -> bool:
        return self.share < self.lower or self.share > self.upper


@dataclass(frozen=True)
class PChart:
    """A p-chart: the centre line (total satisfied / total answers) and each week's point."""

    centre: float
    points: tuple[ControlPoint, ...]


@dataclass(frozen=True)
class NpsCounts:
    """One period of NPS answers: its axis label and the promoters, passives and detractors."""

    label: str
    promoters: int
    passives: int
    detractors: int

    @property
    def n(self) -> int:
        return self.promoters + self.passives + self.detractors


@dataclass(frozen=True)
class GroupFigure:
    """One row of a breakdown: the group's label, the figure, its 95% interval and n."""

    label: str
    value: float
    low: float | None
    high: float | None
    n: int


@dataclass(frozen=True)
class AgentShare:
    """One agent on the funnel plot: name, satisfied (4-5) answers and all answers."""

    name: str
    satisfied: int
    n: int


@dataclass(frozen=True)
class ServqualGap:
    """One SERVQUAL dimension: its key (SERVQUAL_DIMENSIONS), mean gap, 95% interval and n."""

    dimension: str
    value: float
    low: float | None
    high: float | None
    n: int


# --- the pure helpers the charts use ------------------------------------------------------------


def p_chart(weeks: Sequence[WeekCount]) -> PChart | None:
    """The p-chart of weekly CSAT shares, weeks in date order; None without answers."""
    answered = sorted((week for week in weeks if week.n > 0), key=lambda week: week.start)
    total = sum(week.n for week in answered)
    if total == 0:
        return None
    centre = sum(week.satisfied for week in answered) / total
    points = []
    for week in answered:
        lower, upper = p_chart_limits(centre, week.n)
        points.append(ControlPoint(week, week.satisfied / week.n, lower, upper))
    return PChart(centre, tuple(points))


def special_causes(weeks: Sequence[WeekCount]) -> list[WeekCount]:
    """The weeks whose CSAT share lies outside their 3-sigma p-chart limits, in date order."""
    chart = p_chart(weeks)
    return [] if chart is None else [point.week for point in chart.points if point.special]


def funnel_outliers(
    units: Sequence[AgentShare], target: float, min_sample: int = 30
) -> list[AgentShare]:
    """Agents with at least min_sample answers whose share lies outside the 99.8% funnel.

    target is the overall CSAT in percent. Agents on fewer answers are never named: the funnel is
    wide for them anyway, and a name on a projector should rest on enough answers.
    """
    p0 = target / 100
    outliers = []
    for unit in units:
        if unit.n <= 0 or unit.n < min_sample:
            continue
        lower, upper = funnel_limits(p0, unit.n, FUNNEL_LEVELS[1])
        share = unit.satisfied / unit.n
        if share < lower or share > upper:
            outliers.append(unit)
    return outliers


# --- shared drawing -----------------------------------------------------------------------------


def _figure(title: str, subtitle: str | None = None) -> tuple[Figure, Axes]:
    figure = Figure(figsize=FIGURE_INCHES, layout="constrained")
    figure.get_layout_engine().set(w_pad=0.15, h_pad=0.12)
    figure.suptitle(title, x=0.012, ha="left")
    axes = figure.add_subplot()
    if subtitle:
        axes.set_title(subtitle, loc="left", pad=14)
    return figure, axes


def _no_data(title: str, lang: Language) -> Figure:
    figure, axes = _figure(title)
    _say_no_data(axes, lang, 36)
    return figure


def _say_no_data(axes: Axes, lang: Language, size: float) -> None:
    """ "No data" in grey in the middle of an empty axes."""
    axes.set_axis_off()
    axes.text(
        0.5,
        0.5,
        lang.gettext("No data"),
        ha="center",
        va="center",
        fontsize=size,
        color=GREY,
        transform=axes.transAxes,
    )


def _text_width(text: str) -> int:
    """Rough width in digits: a CJK character is two, anything else one."""
    return sum(2 if ord(char) >= 0x2E80 else 1 for char in text)


def _legend_below(figure: Figure, handles: list) -> None:
    """One legend under the plot, in as many columns as fit across the figure."""
    labels = [handle.get_label() for handle in handles]
    # about 100 digit widths fit across at the legend's size, with a handle and a gap per entry
    widths = [_text_width(label) + 7 for label in labels]
    columns = len(handles)
    while columns > 1 and sum(sorted(widths, reverse=True)[:columns]) > 100:
        columns -= 1
    figure.legend(
        handles,
        labels,
        loc="outside lower center",
        ncols=columns,
        handlelength=1.8,
        columnspacing=1.6,
    )


def _dot_handle(
    label: str, colour: str, marker: str = "o", size: float = 11, edge: str | None = None
) -> Line2D:
    """A legend entry for a kind of point (``edge``: the marker's edge colour, if not its own)."""
    return Line2D(
        [],
        [],
        linestyle="none",
        marker=marker,
        markersize=size,
        color=colour,
        markeredgecolor=edge or colour,
        label=label,
    )


def _too_few_handle(lang: Language, min_sample: int) -> Line2D:
    return Line2D(
        [],
        [],
        linestyle="none",
        marker="o",
        markersize=10,
        markerfacecolor="white",
        markeredgecolor=GREY,
        markeredgewidth=2,
        label=_too_few_legend(lang, min_sample),
    )


SCALES = {"csat": (0, 100, 10), "nps": (-100, 100, 20), "ces": (1, 7, 1)}  # bottom, top, step


def _scale_limits(metric: str, lows: list[float], highs: list[float]) -> tuple[float, float]:
    """Axis limits holding every value and interval: round numbers within the scale, plus room
    so that a marker on the scale's end is not cut in half."""
    bottom, top, step = SCALES[metric]
    low = max(bottom, math.floor(min(lows) / step) * step)
    high = min(top, math.ceil(max(highs) / step) * step)
    if high - low < 2 * step:  # one flat value: still show a little of the scale around it
        low, high = max(bottom, low - step), min(top, high + step)
    room = (high - low) * 0.03
    return low - room, high + room


def _value_axis(axis, metric: str, low: float, high: float) -> None:
    """Ticks on round numbers inside [low, high] and the scale; % for CSAT, MINUS for NPS."""
    bottom, top, step = SCALES[metric]
    if (high - low) / step > 8:
        step *= 2
    first = max(bottom, math.ceil(low / step) * step)
    ticks = list(np.arange(first, min(high, top) + 1e-9, step))
    axis.set_major_locator(FixedLocator(ticks))
    if metric == "csat":
        axis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:.0f}%"))
    elif metric == "nps":
        axis.set_major_formatter(FuncFormatter(lambda value, _: _signed(value)))
    else:
        axis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:.0f}"))


def _check_metric(metric: str, allowed: Sequence[str] = METRICS) -> None:
    if metric not in allowed:
        raise ValueError(f"metric must be one of {', '.join(allowed)}, not {metric!r}")


def _date_axis(axes: Axes, days: Sequence[date], lang: Language) -> None:
    """Ticks at period starts, as many as fit; the year under the first and wherever it changes."""
    numbers = [day.toordinal() for day in days]
    if len(days) > 1:
        monthly = float(np.median(np.diff(numbers))) >= 25
    else:
        monthly = days[0].day == 1
    half = 15.0 if monthly else 3.5
    longest = max(_text_width(_date_label(day, lang, monthly=monthly, year=False)) for day in days)
    fit = max(2, min(12, int(95 / (longest + 3))))  # ~95 digit widths across the axis
    every = max(1, math.ceil(len(days) / fit))
    shown = list(range(0, len(days), every))
    labels, last_year = [], None
    for index in shown:
        day = days[index]
        label = _date_label(day, lang, monthly=monthly, year=False)
        if day.year != last_year:  # the year under the first label and where it changes
            label += "\n" + lang.skeleton(day, "y")
        labels.append(label)
        last_year = day.year
    axes.set_xticks([numbers[index] for index in shown], labels)
    axes.set_xlim(numbers[0] - half, numbers[-1] + half)
    axes.grid(axis="x", visible=False)


# --- the charts ---------------------------------------------------------------------------------


@_styled
def trend_chart(
    points: Sequence[PeriodPoint],
    metric: str,
    lang: Language,
    min_sample: int = 30,
    title: str | None = None,
) -> Figure:
    """CSAT, NPS or CES per period: line and markers, 95% interval shaded, small periods grey."""
    _check_metric(metric)
    title = title or lang.gettext(METRIC_WORDS[metric].trend_title)
    points = sorted((point for point in points if point.n > 0), key=lambda point: point.start)
    if not points:
        return _no_data(title, lang)
    total = sum(point.n for point in points)
    figure, axes = _figure(
        title,
        lang.gettext("%(answers)s · shaded: 95%% interval", answers=_answers(lang, total)),
    )

    x = np.array([point.start.toordinal() for point in points], dtype=float)
    values = np.array([point.value for point in points], dtype=float)
    lows = np.array([np.nan if point.low is None else point.low for point in points])
    highs = np.array([np.nan if point.high is None else point.high for point in points])
    small = np.array([point.n < min_sample for point in points])

    band = axes.fill_between(
        x, lows, highs, color=SKY_BLUE, alpha=0.3, linewidth=0, label=lang.gettext("95% interval")
    )
    if len(points) == 1 and not np.isnan(lows[0]):
        # a band needs two points; one period gets its interval as a whisker instead, drawn
        # around the interval's own middle (NPS's adjusted interval need not hold the value)
        axes.errorbar(
            x,
            (lows + highs) / 2,
            yerr=(highs - lows) / 2,
            fmt="none",
            ecolor=SKY_BLUE,
            elinewidth=10,
            alpha=0.6,
            capsize=0,
        )
    (line,) = axes.plot(
        x,
        values,
        color=BLUE,
        marker="o",
        markersize=10,
        label=lang.gettext(METRIC_WORDS[metric].name),
        zorder=3,
    )
    handles = [line, band]
    if small.any():
        axes.plot(
            x[small],
            values[small],
            linestyle="none",
            marker="o",
            markersize=11,
            markerfacecolor="white",
            markeredgecolor=GREY,
            markeredgewidth=2.2,
            zorder=4,
        )
        handles.append(_too_few_handle(lang, min_sample))

    low, high = _scale_limits(metric, list(np.fmin(lows, values)), list(np.fmax(highs, values)))
    axes.set_ylim(low, high)
    _value_axis(axes.yaxis, metric, low, high)
    axes.set_ylabel(lang.gettext(METRIC_WORDS[metric].axis))
    if metric == "nps" and low < 0 < high:
        axes.axhline(0, color="#444444", linewidth=1.2, zorder=1)
    _date_axis(axes, [point.start for point in points], lang)

    if len(points) <= 16:
        # n under each point, on a band at the foot of the plot
        for position, point, is_small in zip(x, points, small, strict=True):
            axes.annotate(
                _count(lang, point.n),
                (position, 0),
                xycoords=("data", "axes fraction"),
                xytext=(0, 6),
                textcoords="offset points",
                ha="center",
                va="bottom",
                fontsize=13,
                color=GREY if is_small else TEXT_GREY,
            )
        axes.set_ylim(low - (high - low) * 0.08, high)
        axes.annotate(
            "n",
            (0, 0),
            xycoords="axes fraction",
            xytext=(-8, 6),
            textcoords="offset points",
            ha="right",
            va="bottom",
            fontsize=13,
            color=TEXT_GREY,
        )
    _legend_below(figure, handles)
    return figure


@_styled
def control_chart(weeks: Sequence[WeekCount], lang: Language) -> Figure:
    """p-chart of weekly CSAT: centre line, 3-sigma limits stepping with n, special causes."""
    title = lang.gettext("Weekly CSAT: control chart (p-chart)")
    chart = p_chart(weeks)
    if chart is None:
        return _no_data(title, lang)
    points = chart.points
    total = sum(point.week.n for point in points)
    figure, axes = _figure(
        title,
        lang.gettext(
            "%(answers)s in %(weeks)s · limits: average ± 3 sigma for each week's n",
            answers=_answers(lang, total),
            weeks=lang.ngettext("%(num)s week", "%(num)s weeks", len(points)),
        ),
    )
    x = np.array([point.week.start.toordinal() for point in points], dtype=float)
    shares = np.array([100 * point.share for point in points])
    lowers = np.array([100 * point.lower for point in points])
    uppers = np.array([100 * point.upper for point in points])
    half = 3.5
    # each week's limits span its own week, so they step where n changes
    step_x = np.concatenate(([x[0] - half], x, [x[-1] + half]))
    for limits in (lowers, uppers):
        step_y = np.concatenate(([limits[0]], limits, [limits[-1]]))
        axes.step(step_x, step_y, where="mid", color=TEXT_GREY, linewidth=1.8, zorder=2)
    centre = 100 * chart.centre
    axes.axhline(centre, color=BLACK, linestyle="--", linewidth=1.8, zorder=2)
    (line,) = axes.plot(
        x, shares, color=BLUE, marker="o", markersize=9, zorder=3, label=lang.gettext("weekly CSAT")
    )
    special = np.array([point.special for point in points])
    handles = [
        line,
        Line2D(
            [],
            [],
            color=BLACK,
            linestyle="--",
            linewidth=1.8,
            label=lang.gettext("average %(value)s", value=f"{centre:.1f}%"),
        ),
        Line2D([], [], color=TEXT_GREY, linewidth=1.8, label=lang.gettext("3-sigma limits")),
    ]
    if special.any():
        axes.plot(
            x[special],
            shares[special],
            linestyle="none",
            marker="D",
            markersize=14,
            color=VERMILLION,
            markeredgecolor=BLACK,
            markeredgewidth=1.2,
            zorder=4,
        )
        flagged = [_date_label(point.week.start, lang) for point in points if point.special]
        listed = lang.gettext("; ").join(flagged[:4])
        if len(flagged) > 4:
            listed += " " + lang.gettext("+%(count)s more", count=len(flagged) - 4)
        handles.append(
            Line2D(
                [],
                [],
                linestyle="none",
                marker="D",
                markersize=12,
                color=VERMILLION,
                markeredgecolor=BLACK,
                label=lang.gettext("special causes: %(weeks)s", weeks=listed),
            )
        )
    else:
        handles.append(Line2D([], [], linestyle="none", label=lang.gettext("no special causes")))

    low = min(lowers.min(), shares.min())
    high = max(uppers.max(), shares.max())
    pad = max(2.0, (high - low) * 0.08)
    low, high = max(0.0, low - pad), min(100.0, high + pad)
    if high - low < 10:
        low, high = max(0.0, centre - 5), min(100.0, centre + 5)
    room = (high - low) * 0.02  # a limit clamped at 0% or 100% stays visible
    axes.set_ylim(low - room, high + room)
    axes.yaxis.set_major_locator(
        FixedLocator(
            [tick for tick in range(0, 101, 5 if high - low <= 40 else 10) if low <= tick <= high]
        )
    )
    axes.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:.0f}%"))
    axes.set_ylabel(lang.gettext("CSAT, % satisfied"))
    _date_axis(axes, [point.week.start for point in points], lang)
    _legend_below(figure, handles)
    return figure


@_styled
def nps_composition(periods: Sequence[NpsCounts], lang: Language, min_sample: int = 30) -> Figure:
    """100% stacked bars of promoters, passives and detractors per period, NPS above each bar."""
    title = lang.gettext("Promoters, passives and detractors")
    if not any(period.n > 0 for period in periods):
        return _no_data(title, lang)
    total = sum(period.n for period in periods)
    figure, axes = _figure(
        title,
        lang.gettext(
            "%(answers)s · above the bars: NPS = %% promoters – %% detractors",
            answers=_answers(lang, total),
        ),
    )
    positions = np.arange(len(periods))
    width = 0.62 if len(periods) > 1 else 0.35
    segments = (("detractors", VERMILLION), ("passives", YELLOW), ("promoters", BLUISH_GREEN))
    bottoms = np.zeros(len(periods))
    label_size = 15 if len(periods) <= 8 else 12
    for key, colour in segments:
        shares = np.array(
            [100 * getattr(period, key) / period.n if period.n else 0.0 for period in periods]
        )
        for index, period in enumerate(periods):
            if period.n == 0:
                continue
            faded = period.n < min_sample
            axes.bar(
                positions[index],
                shares[index],
                width,
                bottom=bottoms[index],
                color=colour,
                alpha=0.3 if faded else 1.0,
                edgecolor="white",
                linewidth=1,
            )
            if shares[index] >= 7 and len(periods) <= 14:
                axes.text(
                    positions[index],
                    bottoms[index] + shares[index] / 2,
                    f"{shares[index]:.0f}%",
                    ha="center",
                    va="center",
                    fontsize=label_size,
                    color=GREY if faded else BLACK,
                )
        bottoms += shares
    roomy = len(periods) <= 6
    for index, period in enumerate(periods):
        if period.n == 0:
            continue  # its tick says n = 0
        estimate = nps(period.promoters, period.passives, period.detractors)
        note = f"NPS {_signed(estimate.value)}" if len(periods) <= 10 else _signed(estimate.value)
        colour = BLACK
        if period.n < min_sample:
            # faded bar and grey number; the legend says why, and a roomy chart says it here too
            colour = GREY
            if roomy:
                note = note + "\n" + lang.gettext("too few answers")
        axes.text(
            positions[index],
            101.5,
            note,
            ha="center",
            va="bottom",
            linespacing=1.1,
            fontsize=label_size + 1,
            fontweight="bold",
            color=colour,
        )
    axes.set_xticks(
        positions, [f"{period.label}\nn = {_count(lang, period.n)}" for period in periods]
    )
    axes.tick_params(axis="x", length=0)
    axes.set_xlim(-0.6, len(periods) - 0.4)
    # room above 100% for the NPS line (two lines when the period has too few answers)
    two_lines = roomy and any(0 < period.n < min_sample for period in periods)
    axes.set_ylim(0, 118 if two_lines else 110)
    axes.yaxis.set_major_locator(FixedLocator([0, 25, 50, 75, 100]))
    axes.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:.0f}%"))
    axes.set_ylabel(lang.gettext("% of answers"))
    axes.grid(axis="x", visible=False)
    axes.spines["left"].set_visible(False)
    handles = [
        Patch(color=colour, label=lang.gettext(BANDS[key])) for key, colour in reversed(segments)
    ]
    if any(0 < period.n < min_sample for period in periods):
        handles.append(Patch(color=GREY, alpha=0.3, label=_too_few_legend(lang, min_sample)))
    _legend_below(figure, handles)
    return figure


def _row_chart(
    axes: Axes,
    estimates: Sequence,
    labels: Sequence[str],
    value_text: Callable[[Any], str],
    *,
    min_sample: int,
    too_few: str | None,
    bars: bool,
    colours: Sequence[str],
) -> None:
    """Rows top to bottom: a dot (or a bar from zero) with its whisker, a value column at right.

    ``estimates`` have ``value``, ``low``, ``high`` and ``n``; a row under ``min_sample`` is
    greyed, and ``too_few`` (if any) follows its ``value_text``."""
    small = [e.n < min_sample for e in estimates]
    texts = [
        value_text(e) + (f"  {too_few}" if is_small and too_few else "")
        for e, is_small in zip(estimates, small, strict=True)
    ]
    values = [e.value for e in estimates]
    lows, highs = [e.low for e in estimates], [e.high for e in estimates]
    rows = len(labels)
    positions = np.arange(rows)
    size = 16 if rows <= 10 else max(11, int(16 * 10 / rows))
    for row, value, low, high, is_small, colour in zip(
        positions, values, lows, highs, small, colours, strict=True
    ):
        shade = GREY if is_small else colour
        if bars:
            axes.barh(
                row, value, height=0.55, color=shade, alpha=0.45 if is_small else 0.9, zorder=2
            )
        if low is not None and high is not None:
            axes.plot(
                [low, high],
                [row, row],
                color=GREY if is_small else BLACK,
                linewidth=2.2,
                solid_capstyle="butt",
                zorder=3,
            )
            for end in (low, high):
                axes.plot(
                    [end, end],
                    [row - 0.12, row + 0.12],
                    color=GREY if is_small else BLACK,
                    linewidth=2.2,
                    zorder=3,
                )
        if not bars:
            axes.plot(
                [value],
                [row],
                linestyle="none",
                marker="o",
                markersize=13 if rows <= 10 else 9,
                markerfacecolor="white" if is_small else colour,
                markeredgecolor=shade,
                markeredgewidth=2.2,
                zorder=4,
            )
    axes.set_yticks(positions, labels, fontsize=size)
    for tick, is_small in zip(axes.get_yticklabels(), small, strict=True):
        tick.set_color(GREY if is_small else "#222222")
    for row, text, is_small in zip(positions, texts, small, strict=True):
        axes.annotate(
            text,
            (1, row),
            xycoords=("axes fraction", "data"),
            xytext=(14, 0),
            textcoords="offset points",
            ha="left",
            va="center",
            fontsize=size,
            color=GREY if is_small else BLACK,
            fontweight="normal" if is_small else "bold",
        )
    axes.set_ylim(rows - 0.5, -0.5)
    axes.grid(axis="y", visible=False)
    axes.tick_params(axis="y", length=0)
    axes.spines["left"].set_visible(False)


@_styled
def breakdown_chart(
    groups: Sequence[GroupFigure],
    metric: str,
    lang: Language,
    min_sample: int = 30,
    title: str | None = None,
) -> Figure:
    """One row per group: the figure as a dot with its 95% interval, n beside the group's name."""
    _check_metric(metric)
    title = title or lang.gettext(METRIC_WORDS[metric].breakdown_title)
    groups = [group for group in groups if group.n > 0]
    if not groups:
        return _no_data(title, lang)
    total = sum(group.n for group in groups)
    figure, axes = _figure(
        title,
        lang.gettext("%(answers)s · lines: 95%% interval", answers=_answers(lang, total)),
    )
    _row_chart(
        axes,
        groups,
        [_row_label(lang, group.label, group.n) for group in groups],
        lambda group: _format_value(metric, group.value),
        min_sample=min_sample,
        too_few=lang.gettext("too few answers"),
        bars=False,
        colours=[BLUE] * len(groups),
    )
    lows = [group.value if group.low is None else min(group.low, group.value) for group in groups]
    highs = [
        group.value if group.high is None else max(group.high, group.value) for group in groups
    ]
    low, high = _scale_limits(metric, lows, highs)
    axes.set_xlim(low, high)
    _value_axis(axes.xaxis, metric, low, high)
    axes.set_xlabel(lang.gettext(METRIC_WORDS[metric].axis))
    if metric == "nps" and low < 0 < high:
        axes.axvline(0, color="#444444", linewidth=1.2, zorder=1)
    return figure


@_styled
def suggestion_counts(
    months: Sequence[date],
    categories: Sequence[str],
    counts: Sequence[Sequence[int]],
    lang: Language,
) -> Figure:
    """Stacked bars: suggestions per month, one colour per category (counts[category][month])."""
    title = lang.gettext("Suggestions by category and month")
    total = sum(sum(row) for row in counts)
    if not months or total == 0:
        return _no_data(title, lang)
    figure, axes = _figure(
        title,
        lang.gettext("%(count)s in the period", count=_suggestions(lang, total)),
    )
    positions = np.arange(len(months))
    bottoms = np.zeros(len(months))
    handles = []
    for index, (name, row) in enumerate(zip(categories, counts, strict=True)):
        colour = OKABE_ITO[index % len(OKABE_ITO)]
        values = np.array(row, dtype=float)
        axes.bar(
            positions, values, 0.62, bottom=bottoms, color=colour, edgecolor="white", linewidth=1
        )
        bottoms += values
        handles.append(Patch(color=colour, label=name))
    for position, height in zip(positions, bottoms, strict=True):
        if height:
            axes.text(
                position,
                height,
                f"{int(height)}",
                ha="center",
                va="bottom",
                fontsize=14,
                fontweight="bold",
            )
    axes.set_xticks(positions, [_date_label(m, lang, monthly=True) for m in months])
    axes.tick_params(axis="x", length=0)
    axes.set_ylim(0, max(bottoms) * 1.15)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_ylabel(lang.gettext("suggestions"))
    axes.grid(axis="x", visible=False)
    _legend_below(figure, handles)
    return figure


@_styled
def suggestion_handling(
    shares: Sequence[GroupFigure],
    median_days: float | None,
    received: int,
    lang: Language,
    min_sample: int = 30,
) -> Figure:
    """Rows of shares with their 95% intervals: answered, within the goal, done (labels given
    as ``GroupFigure.label`` keys: "answered", "within_goal", "done_share")."""
    title = lang.gettext("How suggestions were answered")
    shares = [share for share in shares if share.n > 0]
    if not shares:
        return _no_data(title, lang)
    count = _suggestions(lang, received)
    subtitle = (
        lang.gettext(
            "%(count)s · median %(days)s working days to the first public reply · "
            "lines: 95%% interval",
            count=count,
            days=lang.number(median_days, "0.0"),
        )
        if median_days is not None
        else lang.gettext("%(count)s · no public reply yet · lines: 95%% interval", count=count)
    )
    figure, axes = _figure(title, subtitle)
    _row_chart(
        axes,
        shares,
        [_row_label(lang, lang.gettext(HANDLING_ROWS[share.label]), share.n) for share in shares],
        lambda share: _format_value("csat", share.value),
        min_sample=min_sample,
        too_few=lang.gettext("too few suggestions"),
        bars=True,
        colours=[BLUE, BLUISH_GREEN, ORANGE][: len(shares)],
    )
    axes.set_xlim(0, 100)
    _value_axis(axes.xaxis, "csat", 0, 100)
    axes.set_xlabel(lang.gettext("% of suggestions"))
    return figure


@_styled
def funnel_plot(
    units: Sequence[AgentShare],
    target: float,
    lang: Language,
    min_sample: int = 30,
    mine: AgentShare | None = None,
) -> Figure:
    """Agents' CSAT against their answers, inside 95% and 99.8% funnels around the target (%).

    With ``mine``, the chart of one agent's place in their team: ``mine`` is drawn apart and
    labelled "you", and ``units`` are the other agents, drawn as plain dots that nothing names
    or marks (their names are not even read).
    """
    title = (
        lang.gettext("CSAT by agent against number of answers")
        if mine is None
        else lang.gettext("Your CSAT among your team's agents")
    )
    units = [unit for unit in units if unit.n > 0]
    mine = mine if mine is not None and mine.n > 0 else None
    everyone = units + ([mine] if mine else [])
    if not everyone:
        return _no_data(title, lang)
    total = sum(unit.n for unit in everyone)
    figure, axes = _figure(
        title,
        lang.gettext(
            "%(answers)s from %(agents)s · funnel: where chance alone would put them",
            answers=_answers(lang, total),
            agents=lang.ngettext("%(num)s agent", "%(num)s agents", len(everyone)),
        ),
    )
    p0 = min(max(target / 100, 0.0), 1.0)
    largest = max(unit.n for unit in everyone)
    x_max = max(largest * 1.08, min_sample * 1.5, 10)
    # limits as curves: exact binomial limits at every whole n of a fine grid; the
    # interpolation makes them move almost smoothly from one n to the next
    grid = np.unique(np.round(np.geomspace(1, x_max, 400)).astype(int))
    curves = {
        level: np.array([funnel_limits(p0, int(n), level) for n in grid]) * 100
        for level in FUNNEL_LEVELS
    }
    for level, style in zip(FUNNEL_LEVELS, ("--", "-"), strict=True):
        for side in (0, 1):
            axes.plot(
                grid,
                curves[level][:, side],
                color=TEXT_GREY,
                linestyle=style,
                linewidth=1.8,
                zorder=2,
            )
    axes.axhline(100 * p0, color=BLACK, linewidth=1.5, zorder=2)

    counts = np.array([unit.n for unit in units], dtype=float)
    shares = np.array([100 * unit.satisfied / unit.n for unit in units])
    small = counts < min_sample
    # beside "you" no other agent is named or marked out
    named = set() if mine else {id(unit) for unit in funnel_outliers(units, target, min_sample)}
    outside = np.array([id(unit) in named for unit in units], dtype=bool)
    plain = ~small & ~outside
    axes.plot(
        counts[plain],
        shares[plain],
        linestyle="none",
        marker="o",
        markersize=11,
        color=BLUE,
        alpha=0.85,
        zorder=3,
    )
    axes.plot(
        counts[small],
        shares[small],
        linestyle="none",
        marker="o",
        markersize=11,
        markerfacecolor="white",
        markeredgecolor=GREY,
        markeredgewidth=2,
        zorder=3,
    )
    axes.plot(
        counts[outside],
        shares[outside],
        linestyle="none",
        marker="D",
        markersize=13,
        color=VERMILLION,
        markeredgecolor=BLACK,
        markeredgewidth=1.2,
        zorder=4,
    )
    all_shares = [100 * unit.satisfied / unit.n for unit in everyone]
    limit_at_min = 100 * funnel_limits(p0, max(min_sample, 1), FUNNEL_LEVELS[1])[0]
    y_low = max(0.0, math.floor((min(min(all_shares), limit_at_min) - 5) / 10) * 10)
    axes.set_ylim(y_low, 104)
    axes.set_xlim(-x_max * 0.012, x_max)
    if mine:
        _draw_mine(axes, mine, lang, min_sample, x_max, (y_low, 104))
    else:
        _label_outliers(
            axes,
            [
                (count, share, unit.name)
                for count, share, unit, out in zip(counts, shares, units, outside, strict=True)
                if out
            ],
            x_max,
            (y_low, 104),
        )
    axes.yaxis.set_major_locator(FixedLocator(list(range(int(y_low), 101, 10))))
    axes.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:.0f}%"))
    axes.set_xlabel(lang.gettext("answers"))
    axes.set_ylabel(lang.gettext("CSAT, % satisfied"))
    handles = []
    if not mine:
        handles.append(_dot_handle(lang.gettext("agents"), BLUE))
    else:
        if units:
            handles.append(_dot_handle(lang.gettext("other agents of your team"), BLUE))
        handles.append(_dot_handle(lang.gettext("you"), ORANGE, "*", 20, edge=BLACK))
    handles += [
        Line2D(
            [],
            [],
            color=BLACK,
            linewidth=1.5,
            label=lang.gettext("overall %(value)s", value=f"{100 * p0:.1f}%"),
        ),
        Line2D(
            [], [], color=TEXT_GREY, linestyle="--", linewidth=1.8, label=lang.gettext("95% limits")
        ),
        Line2D([], [], color=TEXT_GREY, linewidth=1.8, label=lang.gettext("99.8% limits")),
    ]
    if outside.any():
        handles.append(
            _dot_handle(lang.gettext("outside 99.8% limits"), VERMILLION, "D", 12, edge=BLACK)
        )
    if small.any() or (mine and mine.n < min_sample):
        handles.append(_too_few_handle(lang, min_sample))
    _legend_below(figure, handles)
    return figure


def _draw_mine(
    axes: Axes,
    mine: AgentShare,
    lang: Language,
    min_sample: int,
    x_max: float,
    y_range: tuple[float, float],
) -> None:
    """The one agent of a team funnel who is shown as themself: a star, labelled "you" with
    their figure (hollow and grey on fewer than ``min_sample`` answers)."""
    share = 100 * mine.satisfied / mine.n
    few = mine.n < min_sample
    axes.plot(
        [mine.n],
        [share],
        linestyle="none",
        marker="*",
        markersize=26,
        color=ORANGE,
        markerfacecolor="white" if few else ORANGE,
        markeredgecolor=GREY if few else BLACK,
        markeredgewidth=2 if few else 1.2,
        zorder=5,
    )
    label = lang.gettext(
        "you: %(value)s (n = %(n)s)", value=_format_value("csat", share), n=_count(lang, mine.n)
    )
    _label_outliers(axes, [(mine.n, share, label)], x_max, y_range)


def _label_outliers(
    axes: Axes, points: list[tuple[float, float, str]], x_max: float, y_range: tuple[float, float]
) -> None:
    """Names beside the outlying points, nudged apart vertically so that none overlap."""
    gap = (y_range[1] - y_range[0]) * 0.07
    placed: list[tuple[float, float]] = []
    for count, share, name in sorted(points, key=lambda point: point[1]):
        label_y = share
        for other_x, other_y in placed:
            if abs(other_x - count) < x_max * 0.3 and abs(other_y - label_y) < gap:
                label_y = other_y + gap
        label_y = min(label_y, y_range[1] - gap / 2)
        placed.append((count, label_y))
        right = count > x_max * 0.7  # near the right edge the name goes to the left of its point
        shift = x_max * (-0.02 if right else 0.02) * (1 if label_y == share else 1.6)
        axes.annotate(
            name,
            (count, share),
            xytext=(count + shift, label_y),
            ha="right" if right else "left",
            va="center",
            fontsize=15,
            fontweight="bold",
            color=BLACK,
            zorder=5,
            bbox={
                "boxstyle": "round,pad=0.15",
                "facecolor": "white",
                "edgecolor": "none",
                "alpha": 0.85,
            },
            arrowprops=None
            if label_y == share
            else {"arrowstyle": "-", "color": GREY, "linewidth": 1, "shrinkA": 0, "shrinkB": 6},
        )


@_styled
def servqual_chart(
    dimensions: Sequence[ServqualGap], lang: Language, min_sample: int = 30
) -> Figure:
    """SERVQUAL gap (perception - expectation) per dimension: bars from zero, 95% whiskers."""
    title = lang.gettext("SERVQUAL gaps: perception – expectation")
    unknown = [gap.dimension for gap in dimensions if gap.dimension not in SERVQUAL_DIMENSIONS]
    if unknown:
        raise ValueError(f"unknown SERVQUAL dimension(s): {', '.join(map(str, unknown))}")
    order = {key: index for index, key in enumerate(SERVQUAL_DIMENSIONS)}
    gaps = sorted((gap for gap in dimensions if gap.n > 0), key=lambda gap: order[gap.dimension])
    if not gaps:
        return _no_data(title, lang)
    total = max(gap.n for gap in gaps)  # each respondent rates every dimension
    figure, axes = _figure(
        title,
        lang.gettext(
            "%(answers)s · below zero: expectations not met · lines: 95%% interval",
            answers=_answers(lang, total),
        ),
    )
    _row_chart(
        axes,
        gaps,
        [_row_label(lang, lang.gettext(DIMENSION_NAMES[gap.dimension]), gap.n) for gap in gaps],
        lambda gap: _signed(gap.value, 2),
        min_sample=min_sample,
        too_few=lang.gettext("too few answers"),
        bars=True,
        colours=[VERMILLION if gap.value < 0 else BLUE for gap in gaps],
    )
    ends = (
        [0.0]
        + [gap.value for gap in gaps]
        + [edge for gap in gaps for edge in (gap.low, gap.high) if edge is not None]
    )
    reach = max(abs(min(ends)), abs(max(ends)), 0.5)
    step = 0.5 if reach <= 2 else 1.0
    reach = math.ceil(reach / step) * step + step / 2
    left = -reach if min(ends) < 0 else -step / 2
    right = reach if max(ends) > 0 else step / 2
    axes.set_xlim(left, right)
    ticks = np.arange(math.ceil(left / step) * step, right + 1e-9, step)
    axes.xaxis.set_major_locator(FixedLocator(list(ticks)))
    axes.xaxis.set_major_formatter(
        FuncFormatter(lambda value, _: _signed(value, 1 if step < 1 else 0))
    )
    axes.axvline(0, color=BLACK, linewidth=1.6, zorder=3)
    axes.set_xlabel(lang.gettext("gap, scale points"))
    return figure


# --- key drivers -------------------------------------------------------------------------------


@dataclass(frozen=True)
class DriverPoint:
    """One driver on the importance-performance chart: its name, Pearson r with the outcome
    (importance), top-two-box share in percent (performance), n, and whether it is ranked."""

    label: str
    importance: float
    performance: float
    n: int
    ranked: bool


DRIVER_OUTCOME_WORDS = {"csat": N_("CSAT"), "nps": N_("NPS")}


def quadrant_means(points: Sequence[DriverPoint]) -> tuple[float, float] | None:
    """Where the quadrant lines cross: the mean importance and mean performance of the
    ranked drivers; None without one."""
    ranked = [p for p in points if p.ranked]
    if not ranked:
        return None
    return (
        sum(p.importance for p in ranked) / len(ranked),
        sum(p.performance for p in ranked) / len(ranked),
    )


def fix_first(points: Sequence[DriverPoint]) -> list[DriverPoint]:
    """Ranked drivers above the mean importance and below the mean performance."""
    means = quadrant_means(points)
    if means is None:
        return []
    return [p for p in points if p.ranked and p.importance > means[0] and p.performance < means[1]]


@_styled
def importance_performance_chart(
    points: Sequence[DriverPoint], outcome: str, lang: Language, min_sample: int = 30
) -> Figure:
    """Key drivers: importance (r with the outcome) across, performance (top-two-box %) up,
    quadrant lines at the ranked drivers' means; the high-importance, low-performance quadrant
    is labelled "fix first". Drivers under ``min_sample`` pairs are hollow grey dots."""
    outcome_name = lang.gettext(DRIVER_OUTCOME_WORDS[outcome])
    title = lang.gettext("What drives %(outcome)s", outcome=outcome_name)
    points = [p for p in points if p.n > 0]
    means = quadrant_means(points)
    if means is None:
        return _no_data(title, lang)
    figure, axes = _figure(
        title,
        lang.gettext(
            "importance: correlation with %(outcome)s · performance: share of top-two-box answers",
            outcome=outcome_name,
        ),
    )
    xs = [p.importance for p in points]
    ys = [p.performance for p in points]
    x_low = min(0.0, math.floor(min(xs) * 10 - 1) / 10)
    x_high = min(1.0, math.ceil(max(xs) * 10 + 1) / 10)
    y_low = max(0.0, math.floor((min(ys) - 10) / 10) * 10)
    axes.set_xlim(x_low, x_high)
    axes.set_ylim(y_low, 104)
    axes.axvline(means[0], color=TEXT_GREY, linestyle="--", linewidth=1.6, zorder=1)
    axes.axhline(means[1], color=TEXT_GREY, linestyle="--", linewidth=1.6, zorder=1)
    axes.fill_between(
        [means[0], x_high], y_low, means[1], color=VERMILLION, alpha=0.08, linewidth=0, zorder=0
    )
    axes.text(
        x_high - (x_high - x_low) * 0.01,
        y_low + 1.5,
        lang.gettext("fix first: important, done poorly"),
        ha="right",
        va="bottom",
        fontsize=16,
        fontweight="bold",
        color=VERMILLION,
        zorder=5,
    )
    urgent = {id(p) for p in fix_first(points)}
    for point in points:
        small = not point.ranked
        colour = GREY if small else VERMILLION if id(point) in urgent else BLUE
        axes.plot(
            [point.importance],
            [point.performance],
            linestyle="none",
            marker="D" if id(point) in urgent else "o",
            markersize=13,
            markerfacecolor="white" if small else colour,
            markeredgecolor=colour,
            markeredgewidth=2.2,
            zorder=4,
        )
        axes.annotate(
            _row_label(lang, point.label, point.n),
            (point.importance, point.performance),
            xytext=(10, 8),
            textcoords="offset points",
            fontsize=14,
            color=GREY if small else BLACK,
            fontweight="normal" if small else "bold",
            zorder=5,
        )
    axes.xaxis.set_major_formatter(FuncFormatter(lambda value, _: _signed(value, 1)))
    axes.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:.0f}%"))
    axes.set_xlabel(lang.gettext("importance: correlation with %(outcome)s", outcome=outcome_name))
    axes.set_ylabel(lang.gettext("performance: % top-two-box"))
    handles = [
        _dot_handle(lang.gettext("drivers"), BLUE),
        _dot_handle(lang.gettext("fix first"), VERMILLION, marker="D"),
        Line2D(
            [],
            [],
            color=TEXT_GREY,
            linestyle="--",
            linewidth=1.6,
            label=lang.gettext("means of the ranked drivers"),
        ),
    ]
    if any(not p.ranked for p in points):
        handles.append(_too_few_handle(lang, min_sample))
    _legend_below(figure, handles)
    return figure


# --- bytes --------------------------------------------------------------------------------------


def render(figure: Figure, fmt: str, size: str | tuple[int, int] | None = None) -> bytes:
    """The figure as PNG, SVG or PDF bytes; size is a PNG_SIZES name or (width, height) pixels.

    size sets the shape for every format and the exact pixel size for PNG (default "medium"); a
    PNG comes in 256 colours (palette_png).
    Type keeps its size relative to the picture, so a "large" PNG is a sharper "medium" one.
    """
    if fmt not in FORMATS:
        raise ValueError(f"fmt must be one of {', '.join(FORMATS)}, not {fmt!r}")
    width, height = _pixels(size)
    with house_style():
        original = figure.get_size_inches().copy()
        dpi = height / original[1]
        # a quarter pixel over, because the PNG writer truncates to whole pixels
        figure.set_size_inches((width + 0.25) / dpi, (height + 0.25) / dpi)
        try:
            buffer = io.BytesIO()
            figure.savefig(buffer, format=fmt, dpi=dpi)
        finally:
            figure.set_size_inches(original)
    return palette_png(buffer.getvalue()) if fmt == "png" else buffer.getvalue()


def palette_png(data: bytes) -> bytes:
    """A PNG as 256 colours (Pillow's octree): a chart's flat colours and smoothed edges look the
    same and the file is about a quarter (a dashboard's 800 x 450 trend chart: 50 KB as
    matplotlib writes it, 12 KB). An opaque picture (every chart, the posters) loses its unused
    alpha channel first, so readers get a plain palette; a transparent one keeps its alpha.
    Pillow is matplotlib's own dependency."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        if image.mode == "RGBA" and image.getextrema()[3][0] == 255:
            image = image.convert("RGB")
        out = io.BytesIO()
        image.quantize(colors=256, method=Image.Quantize.FASTOCTREE).save(out, "PNG", optimize=True)
    return out.getvalue()


def _pixels(size: str | tuple[int, int] | None) -> tuple[int, int]:
    if size is None:
        return PNG_SIZES["medium"]
    if isinstance(size, str):
        if size not in PNG_SIZES:
            raise ValueError(f"size must be one of {', '.join(PNG_SIZES)} or (width, height)")
        return PNG_SIZES[size]
    width, height = size
    if (
        int(width) != width
        or int(height) != height
        or not (16 <= width <= 8000 and 16 <= height <= 8000)
    ):
        raise ValueError("a PNG size is two whole numbers of pixels between 16 and 8000")
    return int(width), int(height)


# --- follow-ups ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecoveryFigure:
    label: str
    value: float  # percent
    low: float
    high: float
    n: int  # closed follow-ups


@_styled
def follow_up_chart(
    groups: Sequence[RecoveryFigure],
    lang: Language,
    min_sample: int = 30,
    summary: str | None = None,
) -> Figure:
    """One row per team: the share of closed follow-ups recovered, with its 95% interval.

    ``summary`` (the period's headline follow-up figures, as text) goes under the title."""
    title = lang.gettext("Follow-ups: recovery rate by team")
    groups = [group for group in groups if group.n > 0]
    if not groups:
        figure = _no_data(title, lang)
        if summary:
            figure.axes[0].set_title(summary, loc="left", pad=14)
        return figure
    closed = sum(group.n for group in groups)
    subtitle = lang.gettext("%(closed)s closed · lines: 95%% interval", closed=_count(lang, closed))
    figure, axes = _figure(title, f"{summary}\n{subtitle}" if summary else subtitle)
    _row_chart(
        axes,
        groups,
        [group.label for group in groups],
        lambda group: lang.gettext(
            "%(value)s%% of %(n)s", value=f"{group.value:.0f}", n=_count(lang, group.n)
        ),
        min_sample=min_sample,
        too_few=None,
        bars=False,
        colours=[BLUE] * len(groups),
    )
    axes.set_xlim(0, 100)
    axes.set_xlabel(lang.gettext("recovered, % of closed follow-ups"))
    return figure


# --- comment themes -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ThemeTerm:
    term: str
    count: int  # comments of the side that hold it
    z: float


THEME_SIDES = {
    "unhappy": N_("Unhappy customers (CSAT 1–2)"),
    "happy": N_("Happy customers (CSAT 5)"),
}
THEME_SIDES_NPS = {
    "unhappy": N_("Detractors (NPS 0–6)"),
    "happy": N_("Promoters (NPS 9–10)"),
}
THEME_ROWS = 10  # terms drawn per side


@_styled
def themes_chart(
    unhappy: Sequence[ThemeTerm],
    happy: Sequence[ThemeTerm],
    lang: Language,
    by_csat: bool = True,
) -> Figure:
    """The terms that set each side's comments apart: one panel a side, a bar per term as
    long as its z, the term and its count beside it; the first THEME_ROWS of each."""
    title = lang.gettext("What unhappy and happy customers write about")
    if not unhappy and not happy:
        return _no_data(title, lang)
    figure = Figure(figsize=FIGURE_INCHES, layout="constrained")
    figure.get_layout_engine().set(w_pad=0.15, h_pad=0.12)
    figure.suptitle(title, x=0.012, ha="left")
    sides = THEME_SIDES if by_csat else THEME_SIDES_NPS
    reach = max([t.z for t in (*unhappy, *happy)] + [2.0]) * 1.08
    for index, (side, terms, colour) in enumerate(
        (("unhappy", unhappy, VERMILLION), ("happy", happy, BLUISH_GREEN))
    ):
        axes = figure.add_subplot(1, 2, index + 1)
        axes.set_title(lang.gettext(sides[side]), loc="left", pad=14)
        shown = list(terms[:THEME_ROWS])
        if not shown:
            _say_no_data(axes, lang, 24)
            continue
        rows = range(len(shown))
        axes.barh(list(rows), [t.z for t in shown], color=colour, height=0.62)
        axes.set_yticks(list(rows))
        axes.set_yticklabels(
            [
                lang.gettext("%(term)s (%(count)s)", term=t.term, count=lang.number(t.count))
                for t in shown
            ]
        )
        axes.invert_yaxis()
        axes.set_xlim(0, reach)
        axes.axvline(1.96, color=GREY, linewidth=1.2, linestyle="--")
        axes.set_xlabel(lang.gettext("z (above 1.96: clearly distinctive)"))
        axes.grid(axis="y", visible=False)
    return figure
