"""How long each chart takes to draw and render: median milliseconds over a few rounds.

    .venv/bin/python bench/bench_charts.py                 # table of medians, about a minute
    .venv/bin/python bench/bench_charts.py --out /tmp/ch   # also writes every chart as PNG/SVG/PDF

Times one chart at a time in one thread on made-up but realistic numbers (12 months, 26 weeks,
25 agents...). "build" is the chart function alone; "png", "svg" and "pdf" are render() of the built
figure (PNG at the "medium" 1280x720 size); "build+png" is the two together, what a dashboard
request pays. No assertions: the numbers are for reading.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from feedback import charts, stats  # noqa: E402
from feedback.i18n import LANGUAGES, language  # noqa: E402


def sample_inputs() -> dict[str, tuple]:
    """Arguments (without the locale) for every chart, drawn from a fixed random seed."""
    rng = random.Random(7)
    months = []
    for index in range(12):
        n = rng.randint(18, 260)
        satisfied = sum(rng.random() < 0.84 + 0.005 * index for _ in range(n))
        estimate = stats.csat(satisfied, n)
        months.append(
            charts.PeriodPoint(
                date(2024 + (index + 6) // 12, (index + 6) % 12 + 1, 1),
                estimate.value,
                estimate.low,
                estimate.high,
                n,
            )
        )
    weeks = []
    for index in range(26):
        n = rng.randint(25, 90)
        share = 0.62 if index == 9 else 0.86
        weeks.append(
            charts.WeekCount(
                date(2025, 1, 6) + timedelta(weeks=index),
                sum(rng.random() < share for _ in range(n)),
                n,
            )
        )
    periods = []
    for index in range(6):
        n = rng.randint(20, 300)
        promoters = int(n * rng.uniform(0.4, 0.6))
        detractors = int(n * rng.uniform(0.1, 0.25))
        periods.append(
            charts.NpsCounts(
                f"2025-{index + 1:02d}", promoters, n - promoters - detractors, detractors
            )
        )
    groups = []
    for name in (
        "一线客服",
        "二线支持",
        "现场工程师",
        "Billing",
        "VIP desk",
        "夜班",
        "新人组",
        "Partners",
    ):
        n = rng.choice([12, 45, 80, 150, 320])
        satisfied = sum(rng.random() < rng.uniform(0.7, 0.93) for _ in range(n))
        estimate = stats.csat(satisfied, n)
        groups.append(charts.GroupFigure(name, estimate.value, estimate.low, estimate.high, n))
    agents = []
    for index in range(25):
        n = rng.randint(8, 240)
        p = 0.6 if index == 3 else 0.98 if index == 11 else 0.85
        agents.append(
            charts.AgentShare(f"Agent {index + 1:02d}", sum(rng.random() < p for _ in range(n)), n)
        )
    target = 100 * sum(agent.satisfied for agent in agents) / sum(agent.n for agent in agents)
    gaps = []
    for dimension, mean in zip(
        charts.SERVQUAL_DIMENSIONS, (-0.9, -0.4, 0.2, -0.1, 0.5), strict=True
    ):
        n = 20 if dimension == "tangibles" else 140
        values = [rng.gauss(mean, 1.3) for _ in range(n)]
        estimate = stats.servqual_gap(n, sum(values), sum(v * v for v in values))
        gaps.append(charts.ServqualGap(dimension, estimate.value, estimate.low, estimate.high, n))
    return {
        "trend_chart": (charts.trend_chart, (months, "csat")),
        "control_chart": (charts.control_chart, (weeks,)),
        "nps_composition": (charts.nps_composition, (periods,)),
        "breakdown_chart": (charts.breakdown_chart, (groups, "csat")),
        "funnel_plot": (charts.funnel_plot, (agents, target)),
        "servqual_chart": (charts.servqual_chart, (gaps,)),
    }


def _ms(seconds: float) -> str:
    return f"{1000 * seconds:8.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9, help="timed rounds per chart (default 9)")
    parser.add_argument("--locale", default="zh_CN", choices=LANGUAGES)
    parser.add_argument("--out", type=Path, help="also write each chart in both languages here")
    args = parser.parse_args()

    inputs = sample_inputs()
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        for name, (chart, arguments) in inputs.items():
            for locale in LANGUAGES:
                figure = chart(*arguments, language(locale))
                for fmt in charts.FORMATS:
                    (args.out / f"{name}.{locale}.{fmt}").write_bytes(charts.render(figure, fmt))
        count = len(inputs) * len(charts.LOCALES) * len(charts.FORMATS)
        print(f"wrote {count} files to {args.out}")

    # one untimed round first: font loading and matplotlib's caches fill on first use
    for chart, arguments in inputs.values():
        charts.render(chart(*arguments, language(args.locale)), "png")

    print(f"median ms over {args.rounds} rounds, locale {args.locale}, PNG 1280x720")
    print(f"{'chart':<17}{'build':>8}{'png':>8}{'svg':>8}{'pdf':>8}{'build+png':>11}")
    for name, (chart, arguments) in inputs.items():
        timings: dict[str, list[float]] = {
            key: [] for key in ("build", "png", "svg", "pdf", "total")
        }
        for _ in range(args.rounds):
            started = time.perf_counter()
            figure = chart(*arguments, language(args.locale))
            built = time.perf_counter()
            charts.render(figure, "png")
            rendered = time.perf_counter()
            timings["build"].append(built - started)
            timings["png"].append(rendered - built)
            timings["total"].append(rendered - started)
            for fmt in ("svg", "pdf"):
                figure = chart(*arguments, language(args.locale))
                started = time.perf_counter()
                charts.render(figure, fmt)
                timings[fmt].append(time.perf_counter() - started)
        medians = {key: statistics.median(values) for key, values in timings.items()}
        print(
            f"{name:<17}{_ms(medians['build'])}{_ms(medians['png'])}{_ms(medians['svg'])}"
            f"{_ms(medians['pdf'])}{_ms(medians['total']):>11}"
        )


if __name__ == "__main__":
    main()
