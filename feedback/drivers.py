"""Key drivers: which rating questions move CSAT (or NPS), and how well each one does.

For a slice and an outcome, each rating question of the survey (type ``rating``, and the
perception score of a SERVQUAL dimension) is a driver with

- importance: Pearson's r between the driver's answer and the outcome's (1-5 CSAT, 0-10 NPS)
  over the responses that answered both, 95% interval by Fisher's z, and that n;
- performance: the share of top-two-box answers (4-5 on 1-5, 6-7 on 1-7) in percent, with
  its Wilson interval, over every answer to the driver;
- relative weight (Johnson 2000): the driver's share of the outcome's variance when all the
  ranked drivers explain it together, over the complete cases, with a bootstrap interval.

Drivers with fewer than ``min_sample`` pairs are shown greyed, without a rank, and stay out of
the relative weights. The correlations come from SQL sums grouped once by driver
(``reports.driver_sums``); the relative weights from the complete cases' distinct answer
patterns (``reports.driver_patterns``), which carry every sum of products they need.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import reports, stats
from .definitions import SurveyDefinition
from .reports import Slice

BOOTSTRAP_RESAMPLES = 500
BOOTSTRAP_SEED = 2000


@dataclass(frozen=True)
class Driver:
    """One driver's figures; ``rank`` is None when it rests on too few answers."""

    question: str
    n: int
    correlation: stats.Estimate | None
    performance: stats.Estimate | None
    relative_weight: stats.Estimate | None
    rank: int | None

    @property
    def ranked(self) -> bool:
        return self.rank is not None

    def to_dict(self) -> dict:
        def figure(e: stats.Estimate | None) -> dict | None:
            return None if e is None else {"value": e.value, "low": e.low, "high": e.high}

        return {
            "question": self.question,
            "n": self.n,
            "correlation": figure(self.correlation),
            "performance": figure(self.performance),
            "relative_weight": None
            if self.relative_weight is None
            else {**figure(self.relative_weight), "n": self.relative_weight.n},
            "rank": self.rank,
        }


@dataclass(frozen=True)
class DriverReport:
    outcome: str
    drivers: tuple[Driver, ...]  # ranked ones by correlation, highest first, then the rest
    r_squared: float | None  # of the relative-weights model
    complete_cases: int

    def to_dict(self) -> dict:
        return {"outcome": self.outcome, "drivers": [d.to_dict() for d in self.drivers]}


def driver_questions(definition: SurveyDefinition) -> dict[str, int]:
    """The survey's drivers, each with the lowest answer of its top two boxes."""
    return {q.id: q.max - 1 for q in definition.questions if q.type in ("rating", "servqual")}


def applies(definition: SurveyDefinition, outcome: str) -> bool:
    """Whether the survey asks the outcome and has a driver for it."""
    return bool(driver_questions(definition)) and any(
        q.type == outcome for q in definition.questions
    )


def key_drivers(
    s: Slice,
    definition: SurveyDefinition,
    outcome: str,
    min_sample: int,
    resamples: int = BOOTSTRAP_RESAMPLES,
) -> DriverReport:
    """The drivers of ``outcome`` ("csat" or "nps") in the slice. Two queries."""
    if outcome not in reports.DRIVER_OUTCOMES:
        raise ValueError(f"unknown outcome {outcome!r}")
    questions = driver_questions(definition)
    sums = reports.driver_sums(s, outcome, questions)
    measured = {}
    for qid in questions:
        row = sums.get(qid) or dict.fromkeys(reports.DRIVER_SUM_COLUMNS, 0)
        r = stats.correlation(
            row["n"], row["sum_x"], row["sum_y"], row["sum_xx"], row["sum_yy"], row["sum_xy"]
        )
        measured[qid] = (row["n"], r, stats.proportion(row["top_two"], row["answers"]))
    rankable = [q for q, (n, r, _) in measured.items() if n >= min_sample and r is not None]
    weights, r_squared, complete = _weights(s, outcome, rankable, min_sample, resamples)
    order = sorted(rankable, key=lambda q: -measured[q][1].value)
    ranks = {q: i + 1 for i, q in enumerate(order)}
    rest = [q for q in questions if q not in ranks]
    drivers = tuple(
        Driver(q, *measured[q][:2], measured[q][2], weights.get(q), ranks.get(q))
        for q in order + rest
    )
    return DriverReport(outcome, drivers, r_squared, complete)


def _weights(
    s: Slice, outcome: str, questions: list[str], min_sample: int, resamples: int
) -> tuple[dict[str, stats.Estimate], float | None, int]:
    """Relative weights of the ranked drivers over their complete cases (none below
    ``min_sample`` complete cases or with a singular correlation matrix)."""
    if not questions:
        return {}, None, 0
    patterns = reports.driver_patterns(s, outcome, questions)
    counts = [p[-1] for p in patterns]
    complete = sum(counts)
    if complete < max(min_sample, len(questions) + 2):
        return {}, None, complete
    result = stats.relative_weights_bootstrap(
        counts, [p[:-1] for p in patterns], resamples, BOOTSTRAP_SEED
    )
    if result is None:
        return {}, None, complete
    return dict(zip(questions, result.weights, strict=True)), result.r_squared, complete
