"""Pure statistics: counts and sums in, figures with their 95% intervals out.

Knows nothing of Flask or the database. Every figure carries the number of answers it rests on.
Definitions (shown to managers beside the figures):

- CSAT: share of 4 and 5 answers on a 1-5 question, in percent; Wilson score interval.
- NPS: 100 x (promoters 9-10 - detractors 0-6) / answers; adjusted Wald interval (Rocks 2016).
- CES: mean of a 1-7 question with a normal interval (mean +- 1.96 s / sqrt n); share of 5-7.
- SERVQUAL gap: mean of (perception - expectation) with a normal interval.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

Z95 = 1.959963984540054  # the 97.5th percentile of the standard normal
Z998 = 3.090232306167813  # two-sided 99.8%


@dataclass(frozen=True)
class Estimate:
    """A figure with its 95% interval; low and high are None when n is too small for one."""

    value: float
    low: float | None
    high: float | None
    n: int

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class NpsEstimate(Estimate):
    promoters: int = 0
    passives: int = 0
    detractors: int = 0


@dataclass(frozen=True)
class CesEstimate(Estimate):
    low_effort: float | None = None  # share of 5-7 answers, percent


def wilson_interval(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for a proportion, on the 0-1 scale."""
    if n <= 0:
        raise ValueError("n must be positive")
    if not 0 <= successes <= n:
        raise ValueError("successes must lie between 0 and n")
    p = successes / n
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def proportion(successes: int, n: int) -> Estimate | None:
    """A share in percent with its Wilson interval; None when n is 0."""
    if n == 0:
        return None
    low, high = wilson_interval(successes, n)
    return Estimate(100 * successes / n, 100 * low, 100 * high, n)


def csat(satisfied: int, n: int) -> Estimate | None:
    """CSAT in percent from the count of 4-5 answers among n answers; None without answers."""
    return proportion(satisfied, n)


def nps(promoters: int, passives: int, detractors: int, z: float = Z95) -> NpsEstimate | None:
    """NPS (-100..100) with the adjusted Wald interval of Rocks (2016); None without answers.

    Adds 3 to n and 3/4 to promoters and to detractors, then
    p = P'/n' - D'/n', var = (P'/n' + D'/n' - p^2) / n', interval 100 (p +- z sqrt(var)).
    """
    n = promoters + passives + detractors
    if n == 0:
        return None
    centre, variance = nps_adjusted(promoters, detractors, n)
    half = z * math.sqrt(variance)
    return NpsEstimate(
        100 * (promoters - detractors) / n,
        max(-100.0, 100 * (centre - half)),
        min(100.0, 100 * (centre + half)),
        n,
        promoters,
        passives,
        detractors,
    )


def nps_adjusted(promoters: int, detractors: int, n: int) -> tuple[float, float]:
    """The adjusted-Wald estimate of NPS on the -1..1 scale, and its variance."""
    n_adj = n + 3
    p_share = (promoters + 0.75) / n_adj
    d_share = (detractors + 0.75) / n_adj
    centre = p_share - d_share
    return centre, (p_share + d_share - centre * centre) / n_adj


def mean_interval(n: int, total: float, total_sq: float, z: float = Z95) -> Estimate | None:
    """A mean from n, the sum and the sum of squares, with a normal interval (s: n-1)."""
    if n == 0:
        return None
    mean = total / n
    if n < 2:
        return Estimate(mean, None, None, n)
    variance = max(0.0, (total_sq - n * mean * mean) / (n - 1))
    half = z * math.sqrt(variance / n)
    return Estimate(mean, mean - half, mean + half, n)


def ces(n: int, total: float, total_sq: float, low_effort: int) -> CesEstimate | None:
    """CES: the mean of 1-7 answers with its interval, and the share of 5-7 in percent."""
    estimate = mean_interval(n, total, total_sq)
    if estimate is None:
        return None
    return CesEstimate(
        estimate.value, estimate.low, estimate.high, n, low_effort=100 * low_effort / n
    )


def servqual_gap(n: int, total_gap: float, total_gap_sq: float) -> Estimate | None:
    """The mean gap perception - expectation over n answers, from the sums of the gaps."""
    return mean_interval(n, total_gap, total_gap_sq)


def response_rate(answered: int, invited: int) -> dict | None:
    if invited == 0:
        return None
    return {"value": 100 * answered / invited, "invited": invited, "answered": answered}


# --- comparing -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Difference:
    """b - a with a 95% interval; ``verdict`` says whether the interval excludes zero."""

    value: float
    low: float
    high: float

    @property
    def verdict(self) -> str:
        if self.low > 0:
            return "better"
        if self.high < 0:
            return "worse"
        return "no clear change"


def proportion_difference(x1: int, n1: int, x2: int, n2: int, z: float = Z95) -> Difference:
    """Second share minus first, in percentage points, with Newcombe's hybrid score interval."""
    p1, p2 = x1 / n1, x2 / n2
    l1, u1 = wilson_interval(x1, n1, z)
    l2, u2 = wilson_interval(x2, n2, z)
    d = p2 - p1
    low = d - math.sqrt((p2 - l2) ** 2 + (u1 - p1) ** 2)
    high = d + math.sqrt((u2 - p2) ** 2 + (p1 - l1) ** 2)
    return Difference(100 * d, 100 * low, 100 * high)


def nps_difference(
    first: tuple[int, int, int], second: tuple[int, int, int], z: float = Z95
) -> Difference:
    """Second NPS minus first: the difference of the adjusted-Wald estimates and its interval.

    Each argument is (promoters, passives, detractors).
    """
    c1, v1 = nps_adjusted(first[0], first[2], sum(first))
    c2, v2 = nps_adjusted(second[0], second[2], sum(second))
    half = z * math.sqrt(v1 + v2)
    return Difference(100 * (c2 - c1), 100 * (c2 - c1 - half), 100 * (c2 - c1 + half))


def mean_difference(first: Estimate, second: Estimate, z: float = Z95) -> Difference | None:
    """Second mean minus first (Welch), from two estimates with intervals."""
    if None in (first.low, second.low):
        return None
    se1 = (first.high - first.value) / Z95
    se2 = (second.high - second.value) / Z95
    half = z * math.sqrt(se1 * se1 + se2 * se2)
    d = second.value - first.value
    return Difference(d, d - half, d + half)


# --- control charts and funnels ----------------------------------------------------------


def p_chart_limits(p_bar: float, n: int, sigmas: float = 3.0) -> tuple[float, float]:
    """Lower and upper control limits of a p-chart for a period of n answers (0-1 scale)."""
    if n <= 0:
        raise ValueError("n must be positive")
    half = sigmas * math.sqrt(p_bar * (1 - p_bar) / n)
    return max(0.0, p_bar - half), min(1.0, p_bar + half)


def funnel_limits(p0: float, n: int, z: float) -> tuple[float, float]:
    """Funnel-plot limits around a target share p0 for a unit with n answers (0-1 scale)."""
    return p_chart_limits(p0, n, sigmas=z)


# --- before and after an improvement action ------------------------------------------------

IMPROVED, NO_CLEAR_CHANGE, WORSE, TOO_FEW = "improved", "no clear change", "worse", "too few"
VERDICTS = (IMPROVED, NO_CLEAR_CHANGE, WORSE, TOO_FEW)


def improvement_verdict(
    difference: Difference | None, n_before: int, n_after: int, min_sample: int
) -> str:
    """The verdict on after - before of a figure where higher is better.

    ``too few`` when either window rests on fewer than ``min_sample`` answers (or there is no
    difference to judge); else ``improved`` when the 95% interval of the difference lies above
    zero, ``worse`` when below, ``no clear change`` when it contains zero.
    """
    if difference is None or min(n_before, n_after) < min_sample:
        return TOO_FEW
    return {"better": IMPROVED, "worse": WORSE}.get(difference.verdict, NO_CLEAR_CHANGE)
