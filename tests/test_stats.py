"""The statistics against hand-worked cases and independent implementations (statsmodels)."""

from __future__ import annotations

import math

import pytest
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint

from feedback import stats


@pytest.mark.parametrize(
    "x,n", [(0, 1), (1, 1), (0, 10), (7, 10), (10, 10), (45, 50), (812, 1000), (3, 31)]
)
def test_wilson_matches_statsmodels(x, n):
    low, high = stats.wilson_interval(x, n)
    ref_low, ref_high = proportion_confint(x, n, alpha=0.05, method="wilson")
    assert low == pytest.approx(ref_low, abs=1e-12)
    assert high == pytest.approx(ref_high, abs=1e-12)


def test_csat_hand_worked():
    # 8 of 10 satisfied: p = .8, z^2 = 3.8415; centre = (.8 + .19207)/1.38415 = .71673
    # half = 1.95996 * sqrt(.016 + .0096037) / 1.38415 = .22657 -> 49.0 .. 94.3
    figure = stats.csat(8, 10)
    assert figure.value == 80 and figure.n == 10
    assert figure.low == pytest.approx(49.016, abs=0.01)
    assert figure.high == pytest.approx(94.331, abs=0.01)
    assert stats.csat(0, 0) is None


def test_nps_hand_worked():
    # 50 promoters, 30 passives, 20 detractors: NPS = 30.
    # n' = 103, P' = 50.75, D' = 20.75; p = 30/103 = .291262
    # var = (.492718 + .201456 - .291262^2) / 103 = .0059160; half = 1.96 * .076916 = .150754
    figure = stats.nps(50, 30, 20)
    assert figure.value == 30 and figure.n == 100
    assert (figure.promoters, figure.passives, figure.detractors) == (50, 30, 20)
    assert figure.low == pytest.approx(100 * (0.291262 - 0.150754), abs=0.01)
    assert figure.high == pytest.approx(100 * (0.291262 + 0.150754), abs=0.01)


def test_nps_interval_is_clipped_and_none_without_answers():
    all_promoters = stats.nps(3, 0, 0)
    assert all_promoters.value == 100 and all_promoters.high <= 100
    assert stats.nps(0, 0, 4).low >= -100
    assert stats.nps(0, 0, 0) is None


def test_ces_mean_interval_hand_worked():
    answers = [7, 6, 5, 5, 3, 7, 2, 6]
    n, total, total_sq = len(answers), sum(answers), sum(a * a for a in answers)
    mean = total / n
    s = math.sqrt(sum((a - mean) ** 2 for a in answers) / (n - 1))
    figure = stats.ces(n, total, total_sq, low_effort=sum(a >= 5 for a in answers))
    assert figure.value == pytest.approx(5.125)
    assert figure.low == pytest.approx(mean - 1.959964 * s / math.sqrt(n), abs=1e-6)
    assert figure.high == pytest.approx(mean + 1.959964 * s / math.sqrt(n), abs=1e-6)
    assert figure.low_effort == pytest.approx(75.0)
    single = stats.ces(1, 4, 16, 0)
    assert single.value == 4 and single.low is None


def test_servqual_gap():
    gaps = [-2, -1, 0, -3, -1]
    figure = stats.servqual_gap(len(gaps), sum(gaps), sum(g * g for g in gaps))
    assert figure.value == pytest.approx(-1.4)
    assert figure.low < -1.4 < figure.high


def test_proportion_difference_matches_statsmodels_newcombe():
    diff = stats.proportion_difference(40, 100, 60, 100)
    low, high = confint_proportions_2indep(
        60, 100, 40, 100, method="newcomb", compare="diff", alpha=0.05
    )
    assert diff.value == pytest.approx(20)
    assert diff.low == pytest.approx(100 * low, abs=1e-9)
    assert diff.high == pytest.approx(100 * high, abs=1e-9)
    assert diff.verdict == "better"
    assert stats.proportion_difference(50, 100, 52, 100).verdict == "no clear change"
    assert stats.proportion_difference(80, 100, 50, 100).verdict == "worse"


def test_nps_difference_combines_adjusted_wald_variances():
    first, second = (30, 40, 30), (60, 30, 10)
    c1, v1 = stats.nps_adjusted(30, 30, 100)
    c2, v2 = stats.nps_adjusted(60, 10, 100)
    diff = stats.nps_difference(first, second)
    assert diff.value == pytest.approx(100 * (c2 - c1))
    assert diff.high - diff.value == pytest.approx(100 * 1.959964 * math.sqrt(v1 + v2), abs=1e-4)
    assert diff.verdict == "better"


def test_p_chart_and_funnel_limits():
    low, high = stats.p_chart_limits(0.8, 100)
    assert (low, high) == pytest.approx((0.8 - 0.12, 0.8 + 0.12))
    assert stats.p_chart_limits(0.99, 10)[1] == 1.0
    # exact binomial funnel limits come close to the normal approximation on many answers
    f_low, f_high = stats.funnel_limits(0.8, 400, 0.998)
    assert f_high - 0.8 == pytest.approx(3.090232 * 0.02, abs=0.004)
    assert 0.8 - f_low == pytest.approx(3.090232 * 0.02, abs=0.004)
