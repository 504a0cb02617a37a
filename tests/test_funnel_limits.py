"""The funnel plot's exact binomial limits (Spiegelhalter 2005), against scipy's binomial."""

from __future__ import annotations

import math

import pytest
from scipy.stats import binom

from feedback import charts, stats

SIZES = [1, 2, 5, 10, 30, 50, 100, 400, 2000]
TARGETS = [0.05, 0.3, 0.5, 0.7, 0.75, 0.8, 0.85, 0.9, 0.97]
PROBABILITIES = [0.001, 0.025, 0.5, 0.975, 0.999]


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("p0", TARGETS)
def test_interpolated_quantile_against_scipy(n, p0):
    for p in PROBABILITIES:
        r_p = int(binom.ppf(p, n, p0))
        below = binom.cdf(r_p - 1, n, p0) if r_p > 0 else 0.0
        at = binom.cdf(r_p, n, p0)
        alpha = (at - p) / (at - below)
        assert stats.binomial_limit(p0, n, p) == pytest.approx(
            max(0.0, (r_p - alpha) / n), abs=1e-9
        ), (n, p0, p)


@pytest.mark.parametrize("n", [5, 10, 30, 50, 100, 400])
@pytest.mark.parametrize("p0", TARGETS)
@pytest.mark.parametrize("level", stats.FUNNEL_LEVELS)
def test_false_alarms_never_exceed_the_nominal_rate(n, p0, level):
    """A unit whose true share is the target falls below the lower limit, or above the
    upper, with probability at most (1 - level) / 2 each."""
    low, high = stats.funnel_limits(p0, n, level)
    tail = (1 - level) / 2
    below = binom.cdf(math.ceil(n * low - 1e-9) - 1, n, p0)  # shares r/n < low
    above = binom.sf(math.floor(n * high + 1e-9), n, p0)  # shares r/n > high
    assert below <= tail + 1e-12
    assert above <= tail + 1e-12


@pytest.mark.parametrize(("n", "normal_rate"), [(30, 0.0031), (50, 0.0025)])
def test_the_issue_figures(n, normal_rate):
    """At a true CSAT of 80%, the normal approximation's 99.8% line was crossed from above
    0.31% (n = 30) and 0.25% (n = 50) of the time; the exact one at most 0.1%."""
    p0 = 0.8
    old_low = p0 - stats.Z998 * math.sqrt(p0 * (1 - p0) / n)
    assert binom.cdf(math.ceil(n * old_low) - 1, n, p0) == pytest.approx(normal_rate, abs=5e-5)
    low, _ = stats.funnel_limits(p0, n, 0.998)
    rate = binom.cdf(math.ceil(n * low - 1e-9) - 1, n, p0)
    assert rate <= 0.001
    assert rate == pytest.approx({30: 0.00090, 50: 0.00093}[n], abs=1e-5)


def test_limits_at_the_ends():
    assert stats.funnel_limits(0.0, 30, 0.998) == (0.0, 0.0)
    assert stats.funnel_limits(1.0, 30, 0.998) == (1.0, 1.0)
    low, high = stats.funnel_limits(0.9, 30, 0.998)
    assert high == 1.0  # 30 of 30 at 90% is no surprise
    with pytest.raises(ValueError):
        stats.binomial_limit(0.5, 0, 0.5)


def test_outliers_use_the_exact_limits():
    # 30 answers at a target of 80%: the exact 99.8% lower limit is 53.5% (r_p = 17 of 30,
    # alpha = 0.96): 17 satisfied lie inside, 16 (53.3%) outside
    low, _ = stats.funnel_limits(0.8, 30, 0.998)
    assert math.ceil(30 * low) == 17
    inside = charts.AgentShare("inside", math.ceil(30 * low), 30)
    outside = charts.AgentShare("outside", math.ceil(30 * low) - 1, 30)
    named = charts.funnel_outliers([inside, outside], 80.0, min_sample=30)
    assert [u.name for u in named] == ["outside"]
