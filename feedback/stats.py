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

import numpy as np

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


FUNNEL_LEVELS = (0.95, 0.998)  # the funnel plot's two pairs of limits


def binomial_cdf(p0: float, n: int) -> np.ndarray:
    """P(R <= r) for r = 0..n, R ~ Binomial(n, p0), 0 < p0 < 1 (log space, then scaled)."""
    k = np.arange(1, n + 1)
    log_choose = np.concatenate(([0.0], np.cumsum(np.log(n - k + 1) - np.log(k))))
    r = np.arange(n + 1)
    log_pmf = log_choose + r * math.log(p0) + (n - r) * math.log1p(-p0)
    pmf = np.exp(log_pmf - log_pmf.max())
    return np.cumsum(pmf) / pmf.sum()


def binomial_limit(p0: float, n: int, probability: float) -> float:
    """The ``probability`` quantile of the share R/n, R ~ Binomial(n, p0), interpolated as
    Spiegelhalter (2005, appendix) does so that the limit moves smoothly with n and p0:
    r_p is the smallest r with P(R <= r) >= p (as scipy's binom.ppf),
    alpha = (P(R <= r_p) - p) / (P(R <= r_p) - P(R <= r_p - 1)), and the limit is
    (r_p - alpha) / n. A share below the lower limit is then at most r_p - 1 successes, which
    happens with probability below p: the false-alarm rate never exceeds the nominal one."""
    if n <= 0:
        raise ValueError("n must be positive")
    if p0 <= 0.0 or p0 >= 1.0:
        return min(max(p0, 0.0), 1.0)
    cdf = binomial_cdf(p0, n)
    # a hair below p, as R's qbinom allows, so that rounding in the sums cannot push r_p up
    r_p = min(int(np.searchsorted(cdf, probability * (1 - 64 * np.finfo(float).eps))), n)
    below = cdf[r_p - 1] if r_p > 0 else 0.0
    step = cdf[r_p] - below
    alpha = min(max((cdf[r_p] - probability) / step, 0.0), 1.0) if step > 0 else 0.0
    return max(0.0, (r_p - alpha) / n)


def funnel_limits(p0: float, n: int, level: float) -> tuple[float, float]:
    """Funnel-plot limits (0-1 scale) around a target share p0 for a unit with n answers,
    holding ``level`` (0.95, 0.998) of a unit's shares when its true share is p0: exact
    binomial quantiles interpolated as Spiegelhalter (2005) does, not the normal
    approximation, which at p0 = 0.8 put 0.31% (n = 30) and 0.25% (n = 50) below a "99.8%"
    line. The lower limit is the (1 - level) / 2 quantile of the satisfied share; the upper
    is the same quantile of the *unsatisfied* share, mirrored (1 - that), so that a unit whose
    true share is p0 falls outside either limit with at most (1 - level) / 2 probability: the
    interpolated upper quantile of the satisfied share would flag, say, 30 of 30 satisfied
    at p0 = 0.9 (4.2% likely) as beyond the 99.8% limit."""
    tail = (1 - level) / 2
    return binomial_limit(p0, n, tail), 1.0 - binomial_limit(1.0 - p0, n, tail)


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


# --- key drivers ---------------------------------------------------------------------------


def pearson_from_sums(
    n: int, sum_x: float, sum_y: float, sum_xx: float, sum_yy: float, sum_xy: float
) -> float | None:
    """Pearson's r from the six sums of n pairs; None for fewer than 3 pairs or a constant."""
    if n < 3:
        return None
    sxx = n * sum_xx - sum_x * sum_x
    syy = n * sum_yy - sum_y * sum_y
    if sxx <= 0 or syy <= 0:
        return None
    r = (n * sum_xy - sum_x * sum_y) / math.sqrt(sxx * syy)
    return max(-1.0, min(1.0, r))


def correlation(
    n: int, sum_x: float, sum_y: float, sum_xx: float, sum_yy: float, sum_xy: float
) -> Estimate | None:
    """Pearson's r with its 95% interval by Fisher's z, tanh(atanh r +- 1.96 / sqrt(n - 3)).

    None when r cannot be computed; no interval below 4 pairs or at r = +-1.
    """
    r = pearson_from_sums(n, sum_x, sum_y, sum_xx, sum_yy, sum_xy)
    if r is None:
        return None
    if n < 4 or abs(r) >= 1.0:
        return Estimate(r, None, None, n)
    z, half = math.atanh(r), Z95 / math.sqrt(n - 3)
    return Estimate(r, math.tanh(z - half), math.tanh(z + half), n)


def correlation_matrix(counts, rows):
    """The correlation matrix of the columns of ``rows`` (distinct patterns, a numpy array),
    each pattern weighted by its count: the same as over the rows the patterns stand for."""
    weights = np.asarray(counts, dtype=float)
    values = np.asarray(rows, dtype=float)
    total = weights.sum()
    mean = weights @ values / total
    centred = values - mean
    cov = (centred * weights[:, None]).T @ centred
    scale = np.sqrt(np.diag(cov))
    if np.any(scale <= 0):
        return None
    return cov / np.outer(scale, scale)


def relative_weights(matrix):
    """Johnson's (2000) relative weights of the drivers, from the correlation matrix of the
    drivers followed by the outcome (last row and column): each driver's share of R², the
    weights adding up to R².

    R_xx = Q diag(l) Q' ; Lambda = Q diag(sqrt l) Q' (the drivers' loadings on their closest
    orthogonal counterparts Z); beta = Lambda^-1 r_xy (the outcome on Z);
    weight_j = sum_k Lambda_jk^2 beta_k^2. None when R_xx is singular.
    """
    matrix = np.asarray(matrix, dtype=float)
    rxx, rxy = matrix[:-1, :-1], matrix[:-1, -1]
    eigenvalues, vectors = np.linalg.eigh(rxx)
    if eigenvalues.min() <= 1e-10:
        return None
    loadings = vectors @ np.diag(np.sqrt(eigenvalues)) @ vectors.T
    beta = np.linalg.solve(loadings, rxy)
    return (loadings**2) @ (beta**2)


@dataclass(frozen=True)
class RelativeWeights:
    """Each driver's relative weight (share of the outcome's variance) with a bootstrap 95%
    interval, the model's R² and the number of complete cases it rests on."""

    weights: tuple[Estimate, ...]
    r_squared: float
    n: int


def relative_weights_bootstrap(
    counts, rows, resamples: int = 500, seed: int = 2000
) -> RelativeWeights | None:
    """Relative weights from distinct answer patterns (drivers..., outcome) and their counts,
    with percentile intervals from ``resamples`` bootstrap resamples of the complete cases.

    Drawing n cases with replacement from the cases is drawing the patterns' counts from a
    multinomial over the patterns, so a resample costs the number of patterns (hundreds), not
    the number of cases. Resamples whose matrix is singular are left out. Fixed seed: the
    same data always give the same interval.
    """
    counts = np.asarray(counts, dtype=np.int64)
    n = int(counts.sum())
    matrix = correlation_matrix(counts, rows) if n >= 3 else None
    point = relative_weights(matrix) if matrix is not None else None
    if point is None:
        return None
    rng = np.random.default_rng(seed)
    draws = []
    for resample in rng.multinomial(n, counts / n, size=resamples):
        m = correlation_matrix(resample, rows)
        weights = relative_weights(m) if m is not None else None
        if weights is not None:
            draws.append(weights)
    if draws:
        low, high = np.percentile(np.array(draws), [2.5, 97.5], axis=0)
    else:
        low = high = [None] * len(point)
    weights = tuple(
        Estimate(float(w), None if lo is None else float(lo), None if hi is None else float(hi), n)
        for w, lo, hi in zip(point, low, high, strict=True)
    )
    return RelativeWeights(weights, float(point.sum()), n)
