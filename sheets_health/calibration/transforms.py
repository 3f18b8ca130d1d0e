"""Raw value → 0–100 transforms a suggestion may propose, and the scorecard formula itself.

Vectorised twins of the scoring engine's rules, so calibration can score thousands of
customers under many candidate scorecards without building a sheet model for each.
`log_sub_score` is the `log` scoring the engine will adopt: linear on a log scale between
`Red at` and `Green at`, for counts with a long tail (logins, API calls, seats used), where a
straight line between two thresholds saturates for most customers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from enum import StrEnum

import numpy as np

from sheets_health.calibration.stats import BoolArray, FloatArray


class SuggestedScoring(StrEnum):
    LINEAR = "linear"
    LOG = "log"


def linear_sub_scores(values: FloatArray, red_at: float, green_at: float) -> FloatArray:
    """100 × (x − Red at) / (Green at − Red at), clamped to 0–100; NaN stays NaN.

    Lower is better when Green at < Red at, as in the scoring engine.
    """
    if red_at == green_at:
        raise ValueError(f"Red at and Green at are both {red_at}: no ramp between them")
    share = (np.asarray(values, dtype=float) - red_at) / (green_at - red_at)
    return 100.0 * np.clip(share, 0.0, 1.0)


def log_sub_scores(values: FloatArray, red_at: float, green_at: float) -> FloatArray:
    """Linear on log(1 + x) between Red at and Green at, clamped to 0–100; NaN stays NaN.

    log(1 + x) rather than log(x) so a count of 0 is allowed (it scores like Red at 0). Counts
    cannot be negative, so a negative value or threshold is an error, never clamped silently.
    """
    x = np.asarray(values, dtype=float)
    if red_at < 0 or green_at < 0:
        raise ValueError(f"log scoring needs Red at and Green at ≥ 0 (got {red_at}, {green_at})")
    if np.any(x[~np.isnan(x)] < 0):
        raise ValueError("log scoring needs values ≥ 0 (counts); a value is negative")
    return linear_sub_scores(np.log1p(x), math.log1p(red_at), math.log1p(green_at))


def log_sub_score(value: float, red_at: float, green_at: float) -> float:
    """One value under `log` scoring (see `log_sub_scores`)."""
    return float(log_sub_scores(np.array([value]), red_at, green_at)[0])


def transform(kind: SuggestedScoring, values: FloatArray, red_at: float, green_at: float
              ) -> FloatArray:
    if kind is SuggestedScoring.LOG:
        return log_sub_scores(values, red_at, green_at)
    return linear_sub_scores(values, red_at, green_at)


def scorecard_scores(sub_scores: FloatArray, weights: FloatArray, fills: FloatArray
                     ) -> FloatArray:
    """The scorecard formula: the weighted mean of the sub-scores present.

    ``sub_scores`` is customers × measures (0–100, NaN missing); ``fills`` per measure is the
    value a missing sub-score counts as (50 neutral, 0 zero) or NaN to leave it out and share
    its weight among the measures present. NaN where no weighted measure has a value.
    """
    s = np.asarray(sub_scores, dtype=float)
    fill = np.asarray(fills, dtype=float)
    s = np.where(np.isnan(s) & ~np.isnan(fill), fill, s)
    w = np.asarray(weights, dtype=float)
    present = ~np.isnan(s)
    total = present.astype(float) @ w
    points = np.where(present, s, 0.0) @ w
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, points / np.where(total > 0, total, 1.0), np.nan)


# ----------------------------------------------------------------------------- readable numbers


def readable(x: float) -> float:
    """Two significant figures (17.3 → 17, 0.1234 → 0.12, 1840 → 1800): a threshold a person
    types into a sheet, not an artefact of the sample."""
    if x == 0 or not math.isfinite(x):
        return x
    digits = 1 - math.floor(math.log10(abs(x)))
    return round(x, digits) if digits > 0 else float(round(x, digits))


def class_thresholds(values: FloatArray, retained: BoolArray, lower_is_better: bool
                     ) -> tuple[float, float] | None:
    """(Red at, Green at) from the data: the churned customers' median is Red at, the retained
    customers' median Green at — in the Scorecard's direction, never flipping it silently.

    None when the medians do not differ in that direction (the data cannot place a ramp).
    """
    x = np.asarray(values, dtype=float)
    keep = ~np.isnan(x)
    churned, kept = x[keep & ~retained], x[keep & retained]
    if len(churned) == 0 or len(kept) == 0:
        return None
    red, green = readable(float(np.median(churned))), readable(float(np.median(kept)))
    if (green < red) != lower_is_better or green == red:
        return None
    return red, green


def readable_weights(weights: Sequence[float] | FloatArray, total: int = 100) -> list[int]:
    """Whole numbers summing to ``total`` in proportion to ``weights`` (largest remainders;
    ties go to the earlier measure). All zero stays all zero."""
    w = np.clip(np.asarray(weights, dtype=float), 0.0, None)
    if w.sum() <= 0:
        return [0] * len(w)
    exact = w / w.sum() * total
    floor = np.floor(exact).astype(int)
    short = total - int(floor.sum())
    order = sorted(range(len(w)), key=lambda i: (-(exact[i] - floor[i]), i))
    for i in order[:short]:
        floor[i] += 1
    return [int(v) for v in floor]
