"""Charts: every chart in both languages to PNG, SVG and PDF without a warning, and the statistics
the charts mark (special causes, funnel outliers) against hand-worked examples. Pure: no app, no
database."""

from __future__ import annotations

import ast
import re
import struct
import subprocess
import sys
import threading
import warnings
import xml.etree.ElementTree as ET
import zlib
from datetime import date, timedelta
from pathlib import Path

import matplotlib
import pytest
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties, findfont
from matplotlib.text import Text

from feedback import charts, stats
from feedback.i18n import language

PACKAGE = Path(charts.__file__).resolve().parent
MONDAY = date(2025, 3, 3)
ZH, EN = language("zh_CN"), language("en")
LANGUAGES = (ZH, EN)


def _csat_point(start: date, satisfied: int, n: int) -> charts.PeriodPoint:
    estimate = stats.csat(satisfied, n)
    return charts.PeriodPoint(start, estimate.value, estimate.low, estimate.high, n)


def _nps_group(label: str, promoters: int, passives: int, detractors: int) -> charts.GroupFigure:
    estimate = stats.nps(promoters, passives, detractors)
    return charts.GroupFigure(label, estimate.value, estimate.low, estimate.high, estimate.n)


# --- hand-worked examples -----------------------------------------------------------------------

# p-chart: 480 satisfied of 600 answers, so the centre is 0.8. With n = 100 a week's 3-sigma limits
# are 0.8 ± 3 sqrt(0.8 * 0.2 / 100) = 0.8 ± 0.12 = [0.68, 0.92]; with n = 25, 0.8 ± 0.24 =
# [0.56, 1.0]; with n = 75, 0.8 ± 0.1386 = [0.6614, 0.9386].
CONTROL_WEEKS = [
    charts.WeekCount(MONDAY, 80, 100),  # 0.80 inside
    charts.WeekCount(MONDAY + timedelta(weeks=1), 82, 100),  # 0.82 inside
    charts.WeekCount(MONDAY + timedelta(weeks=2), 60, 100),  # 0.60 < 0.68: special cause
    charts.WeekCount(MONDAY + timedelta(weeks=3), 84, 100),  # 0.84 inside
    charts.WeekCount(MONDAY + timedelta(weeks=4), 94, 100),  # 0.94 > 0.92: special cause
    charts.WeekCount(MONDAY + timedelta(weeks=5), 15, 25),  # 0.60 >= 0.56: inside at n = 25
    charts.WeekCount(MONDAY + timedelta(weeks=6), 65, 75),  # 0.867 inside
]
SPECIAL_WEEKS = [CONTROL_WEEKS[2], CONTROL_WEEKS[4]]

# Funnel around 80%: z = 3.0902 gives, for n = 100, 0.8 ± 3.0902 * 0.04 = [0.6764, 0.9236]; for
# n = 400, 0.8 ± 3.0902 * 0.02 = [0.7382, 0.8618]. The 95% funnel at n = 100 is [0.7216, 0.8784].
FUNNEL_AGENTS = [
    charts.AgentShare("Ann", 66, 100),  # 0.66 < 0.6764: outside 99.8%
    charts.AgentShare("Bo", 93, 100),  # 0.93 > 0.9236: outside 99.8%
    charts.AgentShare("陈静", 70, 100),  # 0.70: outside 95% only, so not named
    charts.AgentShare("Dee", 340, 400),  # 0.85 < 0.8618: inside
    charts.AgentShare("Eve", 350, 400),  # 0.875 > 0.8618: outside 99.8%
    charts.AgentShare("Fay", 5, 20),  # 0.25, outside, but 20 answers: too few to name
    charts.AgentShare("Gus", 0, 0),  # no answers: not drawn
]
FUNNEL_OUTLIERS = ["Ann", "Bo", "Eve"]


# --- the cases every chart is drawn for ---------------------------------------------------------


def _months() -> list[charts.PeriodPoint]:
    counts = [(90, 100), (80, 95), (20, 24), (120, 150), (110, 120), (200, 230)]
    return [
        _csat_point(date(2024 + (month + 9) // 12, (month + 9) % 12 + 1, 1), satisfied, n)
        for month, (satisfied, n) in enumerate(counts)
    ]


SERVQUAL = [
    charts.ServqualGap("reliability", -0.9, -1.2, -0.6, 140),
    charts.ServqualGap("responsiveness", -0.4, -0.65, -0.15, 140),
    charts.ServqualGap("assurance", 0.25, 0.05, 0.45, 140),
    charts.ServqualGap("empathy", -0.1, -0.3, 0.1, 140),
    charts.ServqualGap("tangibles", 0.3, -0.2, 0.8, 18),
]

CHARTS = {
    "trend_csat": {
        "typical": lambda lang: charts.trend_chart(_months(), "csat", lang),
        "empty": lambda lang: charts.trend_chart([], "csat", lang),
        "single": lambda lang: charts.trend_chart([_csat_point(MONDAY, 40, 50)], "csat", lang),
    },
    "trend_nps": {
        "typical": lambda lang: charts.trend_chart(
            [
                charts.PeriodPoint(MONDAY + timedelta(weeks=week), value, value - 15, value + 15, n)
                for week, (value, n) in enumerate([(-12.5, 40), (3.0, 25), (18.0, 60)])
            ],
            "nps",
            lang,
            title="NPS 趋势 / trend",
        ),
        "empty": lambda lang: charts.trend_chart([], "nps", lang),
        "single": lambda lang: charts.trend_chart(
            [charts.PeriodPoint(MONDAY, -100.0, None, None, 1)], "nps", lang
        ),
    },
    "control": {
        "typical": lambda lang: charts.control_chart(CONTROL_WEEKS, lang),
        "empty": lambda lang: charts.control_chart([], lang),
        "single": lambda lang: charts.control_chart([charts.WeekCount(MONDAY, 7, 9)], lang),
    },
    "composition": {
        "typical": lambda lang: charts.nps_composition(
            [
                charts.NpsCounts("2025-01", 60, 30, 10),
                charts.NpsCounts("2025-02", 5, 10, 10),
                charts.NpsCounts("2025-03", 0, 0, 0),
                charts.NpsCounts("2025-04", 40, 35, 45),
            ],
            lang,
        ),
        "empty": lambda lang: charts.nps_composition([], lang),
        "single": lambda lang: charts.nps_composition([charts.NpsCounts("2025-03", 0, 0, 1)], lang),
    },
    "breakdown_csat": {
        "typical": lambda lang: charts.breakdown_chart(
            [
                charts.GroupFigure(label, *_interval(satisfied, n))
                for label, satisfied, n in [
                    ("一线客服", 120, 150),
                    ("Billing $ & Co", 30, 45),
                    ("夜班", 10, 10),
                ]
            ],
            "csat",
            lang,
        ),
        "empty": lambda lang: charts.breakdown_chart([], "csat", lang),
        "single": lambda lang: charts.breakdown_chart(
            [charts.GroupFigure("A", *_interval(0, 1))], "csat", lang
        ),
    },
    "breakdown_nps": {
        "typical": lambda lang: charts.breakdown_chart(
            [
                _nps_group("North", 50, 30, 20),
                _nps_group("南区", 10, 20, 40),
                _nps_group("West", 3, 1, 1),
            ],
            "nps",
            lang,
        ),
        "empty": lambda lang: charts.breakdown_chart([], "nps", lang),
        "single": lambda lang: charts.breakdown_chart([_nps_group("Only", 1, 0, 0)], "nps", lang),
    },
    "breakdown_ces": {
        "typical": lambda lang: charts.breakdown_chart(
            [
                charts.GroupFigure("Phone 电话", 5.6, 5.3, 5.9, 80),
                charts.GroupFigure("Chat", 6.2, 5.9, 6.5, 12),
            ],
            "ces",
            lang,
        ),
        "empty": lambda lang: charts.breakdown_chart([], "ces", lang),
        "single": lambda lang: charts.breakdown_chart(
            [charts.GroupFigure("One", 7.0, None, None, 1)], "ces", lang
        ),
    },
    "funnel": {
        "typical": lambda lang: charts.funnel_plot(FUNNEL_AGENTS, 80.0, lang),
        "empty": lambda lang: charts.funnel_plot([], 80.0, lang),
        "single": lambda lang: charts.funnel_plot([charts.AgentShare("Solo", 1, 1)], 100.0, lang),
    },
    "servqual": {
        "typical": lambda lang: charts.servqual_chart(SERVQUAL, lang),
        "empty": lambda lang: charts.servqual_chart([], lang),
        "single": lambda lang: charts.servqual_chart(
            [charts.ServqualGap("empathy", 0.0, None, None, 1)], lang
        ),
    },
    "suggestion_counts": {
        "typical": lambda lang: charts.suggestion_counts(
            [date(2026, 9, 1), date(2026, 10, 1), date(2026, 11, 1)],
            ["Service quality", "Billing", "Other"],
            [[3, 5, 2], [0, 1, 4], [2, 0, 0]],
            lang,
        ),
        "empty": lambda lang: charts.suggestion_counts([], [], [], lang),
        "single": lambda lang: charts.suggestion_counts(
            [date(2026, 11, 1)], ["Other"], [[1]], lang
        ),
    },
    "suggestion_handling": {
        "typical": lambda lang: charts.suggestion_handling(
            [
                charts.GroupFigure("answered", 80.0, 70.0, 88.0, 60),
                charts.GroupFigure("within_goal", 65.0, 52.0, 76.0, 55),
                charts.GroupFigure("done_share", 12.0, 6.0, 22.0, 60),
            ],
            2.4,
            60,
            lang,
        ),
        "empty": lambda lang: charts.suggestion_handling([], None, 0, lang),
        "single": lambda lang: charts.suggestion_handling(
            [charts.GroupFigure("answered", 0.0, 0.0, 79.3, 1)], None, 1, lang
        ),
    },
}
CASES = [(chart, case) for chart, cases in CHARTS.items() for case in cases]


def _interval(satisfied: int, n: int) -> tuple[float, float, float, int]:
    estimate = stats.csat(satisfied, n)
    return estimate.value, estimate.low, estimate.high, n


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def _texts(figure: Figure) -> list[str]:
    """Every string drawn on the figure (after a draw, so tick labels exist)."""
    return [text.get_text() for text in figure.findobj(Text) if text.get_text().strip()]


# --- drawing and rendering ----------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGUAGES, ids=lambda lang: lang.code)
@pytest.mark.parametrize(("chart", "case"), CASES)
def test_every_chart_renders_in_every_format_without_a_warning(chart, case, lang):
    with warnings.catch_warnings():
        # "Glyph ... missing from font(s)" (a Chinese character drawn with a Latin font) and any
        # layout or date-axis warning fail the test
        warnings.simplefilter("error")
        figure = CHARTS[chart][case](lang)
        assert isinstance(figure, Figure)
        png = charts.render(figure, "png")
        svg = charts.render(figure, "svg")
        pdf = charts.render(figure, "pdf")

    assert _png_size(png) == charts.PNG_SIZES["medium"]

    root = ET.fromstring(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert b"<text" not in svg  # glyphs as paths: shows without the font installed

    assert pdf.startswith(b"%PDF")
    assert re.search(rb"/BaseFont /[A-Z]{6}\+NotoSansCJKsc-", pdf), "Noto not embedded"
    assert b"DejaVu" not in pdf


@pytest.mark.parametrize("lang", LANGUAGES, ids=lambda lang: lang.code)
@pytest.mark.parametrize("chart", list(CHARTS))
def test_empty_input_draws_a_no_data_figure(chart, lang):
    figure = CHARTS[chart]["empty"](lang)
    charts.render(figure, "png", "small")
    assert lang.gettext("No data") in _texts(figure)


@pytest.mark.parametrize("lang", LANGUAGES, ids=lambda lang: lang.code)
def test_inputs_without_answers_count_as_empty(lang):
    no_data = lang.gettext("No data")
    figures = [
        charts.trend_chart([charts.PeriodPoint(MONDAY, 0.0, None, None, 0)], "csat", lang),
        charts.control_chart([charts.WeekCount(MONDAY, 0, 0)], lang),
        charts.nps_composition([charts.NpsCounts("W1", 0, 0, 0)], lang),
        charts.breakdown_chart([charts.GroupFigure("A", 0.0, None, None, 0)], "nps", lang),
        charts.funnel_plot([charts.AgentShare("A", 0, 0)], 80.0, lang),
        charts.servqual_chart([charts.ServqualGap("tangibles", 0.0, None, None, 0)], lang),
    ]
    for figure in figures:
        assert no_data in _texts(figure)


ENGLISH_ONLY = re.compile(
    r"\b(answers?|interval|too few|limits|average|agents|promoters|"
    r"passives|detractors|special|overall|gap|Reliability|Empathy|"
    r"group|time|No data|Jan|Feb|Mar|Apr|Oct|Nov|Dec)\b"
)


@pytest.mark.parametrize(("chart", "case"), CASES)
def test_chinese_figures_carry_no_english_words(chart, case):
    figure = CHARTS[chart][case](ZH)
    charts.render(figure, "png", "small")
    texts = _texts(figure)
    assert texts
    leaks = [text for text in texts if ENGLISH_ONLY.search(text) and "/ trend" not in text]
    assert not leaks


@pytest.mark.parametrize(("chart", "case"), CASES)
def test_english_figures_carry_no_chinese_of_their_own(chart, case):
    figure = CHARTS[chart][case](EN)
    charts.render(figure, "png", "small")
    # Chinese may only come from the data (group and agent names, the given title)
    data_names = ("一线客服", "夜班", "南区", "电话", "陈静", "NPS 趋势")
    leaks = [
        text
        for text in _texts(figure)
        if re.search(r"[\u4e00-\u9fff]", text) and not any(name in text for name in data_names)
    ]
    assert not leaks


def test_dimension_names_come_from_the_catalogue():
    assert [ZH.gettext(charts.DIMENSION_NAMES[key]) for key in charts.SERVQUAL_DIMENSIONS] == [
        "可靠性",
        "响应性",
        "保证性",
        "关怀性",
        "有形性",
    ]
    assert [EN.gettext(charts.DIMENSION_NAMES[key]) for key in charts.SERVQUAL_DIMENSIONS] == [
        "Reliability",
        "Responsiveness",
        "Assurance",
        "Empathy",
        "Tangibles",
    ]


@pytest.mark.parametrize(
    ("lang", "n", "words"),
    [
        (EN, 1, "1 answer"),
        (EN, 2, "2 answers"),
        (EN, 1234, "1,234 answers"),
        (ZH, 1, "1 份回答"),
        (ZH, 2, "2 份回答"),
    ],
    ids=str,
)
def test_answer_counts_take_the_plural_of_their_language(lang, n, words):
    assert charts._answers(lang, n) == words
    figure = charts.trend_chart([_csat_point(MONDAY, n, n)], "csat", lang)
    charts.render(figure, "png", "small")
    subtitle = next(text for text in _texts(figure) if words in text)
    assert words + " ·" in subtitle


def test_one_week_and_one_agent_in_english_are_singular():
    figure = charts.control_chart([charts.WeekCount(MONDAY, 7, 9)], EN)
    assert "9 answers in 1 week ·" in figure.axes[0].get_title(loc="left")
    figure = charts.funnel_plot([charts.AgentShare("Ann", 30, 40)], 80.0, EN)
    assert figure.axes[0].get_title(loc="left").startswith("40 answers from 1 agent ·")
    figure = charts.funnel_plot(FUNNEL_AGENTS, 80.0, EN)
    assert figure.axes[0].get_title(loc="left").startswith("1,120 answers from 6 agents ·")


@pytest.mark.parametrize(
    ("lang", "monthly", "year", "label"),
    [
        (EN, False, True, "Mar 3, 2025"),
        (EN, False, False, "Mar 3"),
        (EN, True, True, "Mar 2025"),
        (EN, True, False, "Mar"),
        (ZH, False, True, "2025年3月3日"),
        (ZH, False, False, "3月3日"),
        (ZH, True, True, "2025年3月"),
        (ZH, True, False, "3月"),
    ],
    ids=str,
)
def test_dates_are_babels_in_both_languages(lang, monthly, year, label):
    assert charts._date_label(MONDAY, lang, monthly=monthly, year=year) == label


def test_the_control_charts_special_weeks_are_dated_in_the_language():
    english = charts.control_chart(CONTROL_WEEKS, EN)
    chinese = charts.control_chart(CONTROL_WEEKS, ZH)
    assert "special causes: Mar 17, 2025; Mar 31, 2025" in _texts(english)
    assert "特殊原因：2025年3月17日、2025年3月31日" in _texts(chinese)


def test_a_chinese_character_in_a_latin_font_does_warn():
    """Proves the warning filter above can fail: this is the warning a missing CJK font gives."""
    figure = Figure()
    figure.suptitle("满意度", fontfamily="DejaVu Sans")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(UserWarning, match=r"Glyph \d+ .* missing from font\(s\) DejaVu Sans"):
            charts.render(figure, "png")


def test_the_same_title_in_the_house_font_does_not_warn():
    figure = Figure()
    figure.suptitle("满意度 CSAT")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        charts.render(figure, "png")


def test_the_house_style_resolves_to_noto_sans_cjk():
    with charts.house_style():
        path = findfont(FontProperties(family=["sans-serif"]), fallback_to_default=False)
        bold = findfont(
            FontProperties(family=["sans-serif"], weight="bold"), fallback_to_default=False
        )
    assert Path(path).name == "NotoSansCJKsc-Regular.otf"
    assert Path(bold).name == "NotoSansCJKsc-Bold.otf"


@pytest.mark.parametrize(
    ("size", "pixels"),
    [
        ("small", (800, 450)),
        ("medium", (1280, 720)),
        ("large", (1920, 1080)),
        (None, (1280, 720)),
        ((1000, 600), (1000, 600)),
        ((801, 451), (801, 451)),
        ((1366, 768), (1366, 768)),
        ((600, 600), (600, 600)),
    ],
)
def test_png_has_the_requested_pixel_size(size, pixels):
    figure = charts.control_chart(CONTROL_WEEKS, ZH)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert _png_size(charts.render(figure, "png", size)) == pixels
    assert tuple(figure.get_size_inches()) == charts.FIGURE_INCHES  # render leaves it as it was


def test_png_is_a_palette_image_that_looks_the_same_in_a_third_of_the_bytes():
    import io

    from PIL import Image, ImageChops

    png = charts.render(charts.trend_chart(_months(), "csat", ZH), "png", "small")
    assert png[25] == 3  # IHDR colour type 3: a palette
    figure = charts.trend_chart(_months(), "csat", ZH)
    buffer = io.BytesIO()  # what matplotlib writes (RGBA), at the same size, as render does
    with charts.house_style():
        dpi = 450 / figure.get_size_inches()[1]
        figure.set_size_inches(800.25 / dpi, 450.25 / dpi)
        figure.savefig(buffer, format="png", dpi=dpi)
    truecolour = buffer.getvalue()
    assert len(png) * 3 < len(truecolour)
    with Image.open(io.BytesIO(png)) as ours, Image.open(io.BytesIO(truecolour)) as theirs:
        assert ours.size == theirs.size == (800, 450)
        rgb = [image.convert("RGBA").convert("RGB") for image in (ours, theirs)]
        difference = ImageChops.difference(*rgb)
        histogram = difference.convert("L").histogram()
        changed = sum(histogram[8:])  # pixels more than 8 grey levels apart
        assert changed < 0.01 * 800 * 450, changed


def test_pdf_embeds_the_font_as_the_pdf_font_type_says():
    pdf = charts.render(charts.servqual_chart(SERVQUAL, ZH), "pdf")
    if charts.PDF_FONTTYPE == 42:
        assert b"/FontFile2" in pdf and b"/CIDFontType2" in pdf
    else:
        assert b"/Subtype /Type3" in pdf
    assert b"/ToUnicode" in pdf  # text can be searched and copied


def test_pdf_never_puts_cff_outlines_in_a_truetype_slot():
    """matplotlib#2869: Type 42 with an OpenType-CFF font gives a PDF that draws wrong glyphs."""
    pdf = charts.render(charts.trend_chart(_months(), "csat", ZH), "pdf")
    for match in re.finditer(rb"stream\r?\n", pdf):
        end = pdf.find(b"endstream", match.end())
        try:
            content = zlib.decompress(pdf[match.end() : end])
        except zlib.error:
            continue
        assert not content.startswith(b"OTTO")


def test_render_rejects_unknown_formats_and_sizes():
    figure = charts.trend_chart([], "csat", EN)
    with pytest.raises(ValueError):
        charts.render(figure, "jpeg")
    with pytest.raises(ValueError):
        charts.render(figure, "png", "huge")
    with pytest.raises(ValueError):
        charts.render(figure, "png", (0, 100))


def test_unknown_locale_metric_and_dimension_are_refused():
    with pytest.raises(ValueError):
        language("fr")
    with pytest.raises(ValueError):
        charts.breakdown_chart([], "ratio", EN)
    with pytest.raises(ValueError):
        charts.servqual_chart([charts.ServqualGap("speed", 0.1, None, None, 50)], EN)


def test_the_process_wide_matplotlib_settings_are_left_alone():
    before = dict(matplotlib.rcParams)
    charts.render(charts.funnel_plot(FUNNEL_AGENTS, 80.0, ZH), "pdf")
    assert dict(matplotlib.rcParams) == before


def test_threads_drawing_at_once_get_the_same_bytes_as_one_thread():
    expected = charts.render(charts.control_chart(CONTROL_WEEKS, ZH), "png", "small")
    results, errors = [], []

    def draw() -> None:
        try:
            for _ in range(2):
                figure = charts.control_chart(CONTROL_WEEKS, ZH)
                results.append(charts.render(figure, "png", "small"))
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=draw) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert results == [expected] * 8


# --- what the charts mark -----------------------------------------------------------------------


def test_p_chart_matches_the_hand_worked_limits():
    chart = charts.p_chart(list(reversed(CONTROL_WEEKS)))  # any order in, date order out
    assert chart.centre == pytest.approx(0.8)
    assert [point.week for point in chart.points] == CONTROL_WEEKS
    limits = {point.week.n: (point.lower, point.upper) for point in chart.points}
    assert limits[100] == pytest.approx((0.68, 0.92))
    assert limits[25] == pytest.approx((0.56, 1.0))
    assert limits[75] == pytest.approx((0.8 - 3 * (0.16 / 75) ** 0.5, 0.8 + 3 * (0.16 / 75) ** 0.5))


def test_special_causes_are_the_hand_worked_weeks():
    assert charts.special_causes(CONTROL_WEEKS) == SPECIAL_WEEKS
    assert charts.special_causes([]) == []
    assert charts.special_causes([charts.WeekCount(MONDAY, 3, 10)]) == []


@pytest.mark.parametrize("lang", LANGUAGES, ids=lambda lang: lang.code)
def test_control_chart_marks_exactly_the_special_causes(lang):
    figure = charts.control_chart(CONTROL_WEEKS, lang)
    axes = figure.axes[0]
    marked = [line for line in axes.get_lines() if line.get_marker() == "D"]
    assert len(marked) == 1
    assert list(marked[0].get_xdata()) == [week.start.toordinal() for week in SPECIAL_WEEKS]
    assert list(marked[0].get_ydata()) == pytest.approx([60.0, 94.0])
    legend = [text.get_text() for text in figure.legends[0].get_texts()]
    prefix = lang.gettext("special causes: %(weeks)s", weeks="")
    special = next(text for text in legend if text.startswith(prefix))
    for week in SPECIAL_WEEKS:
        assert charts._date_label(week.start, lang) in special


def test_control_chart_without_special_causes_says_so():
    weeks = [charts.WeekCount(MONDAY + timedelta(weeks=week), 80, 100) for week in range(4)]
    figure = charts.control_chart(weeks, EN)
    assert not [line for line in figure.axes[0].get_lines() if line.get_marker() == "D"]
    assert "no special causes" in [text.get_text() for text in figure.legends[0].get_texts()]


def test_funnel_outliers_are_the_hand_worked_agents():
    assert [unit.name for unit in charts.funnel_outliers(FUNNEL_AGENTS, 80.0)] == FUNNEL_OUTLIERS
    # with no minimum, the agent on 20 answers is outside too
    assert [unit.name for unit in charts.funnel_outliers(FUNNEL_AGENTS, 80.0, min_sample=0)] == [
        "Ann",
        "Bo",
        "Eve",
        "Fay",
    ]


@pytest.mark.parametrize("lang", LANGUAGES, ids=lambda lang: lang.code)
def test_funnel_plot_names_exactly_the_outliers(lang):
    figure = charts.funnel_plot(FUNNEL_AGENTS, 80.0, lang)
    names = {unit.name for unit in FUNNEL_AGENTS}
    labelled = [text.get_text() for text in figure.axes[0].texts if text.get_text() in names]
    assert sorted(labelled) == sorted(FUNNEL_OUTLIERS)


def test_funnel_limits_are_drawn_as_smooth_curves():
    figure = charts.funnel_plot(FUNNEL_AGENTS, 80.0, EN)
    curves = [line for line in figure.axes[0].get_lines() if len(line.get_xdata()) >= 100]
    assert len(curves) == 4  # 95% and 99.8%, above and below


def test_small_samples_are_grey_and_labelled():
    too_few = "too few answers"
    figure = charts.breakdown_chart(
        [
            charts.GroupFigure("Big", 80.0, 75.0, 85.0, 200),
            charts.GroupFigure("Tiny", 90.0, 60.0, 98.0, 10),
        ],
        "csat",
        EN,
    )
    notes = [text for text in figure.axes[0].texts if too_few in text.get_text()]
    assert len(notes) == 1 and notes[0].get_color() == charts.GREY
    assert "Tiny" not in str([text.get_text() for text in figure.axes[0].texts])
    labels = {tick.get_text(): tick.get_color() for tick in figure.axes[0].get_yticklabels()}
    assert labels["Tiny (n = 10)"] == charts.GREY

    trend = charts.trend_chart(_months(), "csat", EN)  # the third month has 24 answers
    hollow = [
        line
        for line in trend.axes[0].get_lines()
        if line.get_markerfacecolor() == "white" and len(line.get_xdata())
    ]
    assert [len(line.get_xdata()) for line in hollow] == [1]
    assert any(too_few in text.get_text() for text in trend.legends[0].get_texts())


def test_nps_composition_writes_each_periods_nps():
    figure = charts.nps_composition(
        [charts.NpsCounts("Q1", 60, 30, 10), charts.NpsCounts("Q2", 10, 20, 70)], EN
    )
    texts = [text.get_text() for text in figure.axes[0].texts]
    assert "NPS +50" in texts
    assert f"NPS {charts.MINUS}60" in texts


# --- no pyplot in the server --------------------------------------------------------------------


def _pyplot_imports(source: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [
                alias.name
                for alias in node.names
                if alias.name.startswith(("matplotlib.pyplot", "pylab", "mpl_font"))
            ]
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.module.startswith(("matplotlib.pyplot", "pylab", "mpl_font")):
                found.append(node.module)
            elif node.module == "matplotlib":
                found += [
                    f"matplotlib.{alias.name}" for alias in node.names if alias.name == "pyplot"
                ]
    if re.search(r"""import_module\(\s*["'](matplotlib\.pyplot|mpl_font)""", source):
        found.append("import_module")
    return found


def test_no_module_in_the_package_imports_pyplot():
    offenders = {
        str(path.relative_to(PACKAGE)): imports
        for path in sorted(PACKAGE.rglob("*.py"))
        if (imports := _pyplot_imports(path.read_text(encoding="utf-8")))
    }
    assert offenders == {}


def test_the_scan_finds_a_pyplot_import():
    assert _pyplot_imports("import matplotlib.pyplot as plt") == ["matplotlib.pyplot"]
    assert _pyplot_imports("from matplotlib import pyplot") == ["matplotlib.pyplot"]
    assert _pyplot_imports("from mpl_font.noto import set_font") == ["mpl_font.noto"]


def test_importing_and_using_charts_loads_neither_pyplot_nor_mpl_font():
    script = (
        "import sys; from feedback import charts; from feedback.i18n import language; "
        "charts.render(charts.trend_chart([], 'csat', language('zh_CN')), 'png'); "
        "print(sorted(m for m in sys.modules "
        "if m.startswith(('matplotlib.pyplot', 'mpl_font'))))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        cwd=PACKAGE.parent,
        check=True,
        timeout=120,
    )
    assert result.stdout.strip() == "[]"


def test_one_period_whose_interval_misses_its_value_is_drawn():
    """NPS's adjusted-Wald interval need not hold the plain figure: one detractor gives -100
    with an interval from -98.5 (found by tests/test_headers.py's walk: a 500 before)."""
    estimate = stats.nps(0, 0, 1)
    assert estimate.low > estimate.value
    point = charts.PeriodPoint(date(2026, 11, 2), estimate.value, estimate.low, estimate.high, 1)
    figure = charts.trend_chart([point], "nps", EN)
    assert charts.render(figure, "png", "small").startswith(b"\x89PNG")
