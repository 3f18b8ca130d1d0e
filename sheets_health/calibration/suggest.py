"""Suggested weights (and scorings), or a plain statement that the data cannot support one.

The procedure, run inside each cross-validation training set and then once on everybody:

1. *Scorings* (optional): for each `linear` measure with numbers, the candidates are its own
   sub-score, `linear` between data thresholds (Red at = the churned customers' median,
   Green at = the retained customers' median, in the Scorecard's direction), and `log` between
   its own or the data thresholds. The candidate most correlated with renewing wins if it beats
   the current one by at least `_MARGIN` (a person should not be asked to change a scoring for
   a hair's breadth) and its correlation is clearly above zero.
2. *Weights*: a logistic regression of renewing on the sub-scores, weights ≥ 0 with an
   elastic-net penalty (see `fit`).

Current weights, fitted weights and fitted weights with scorings are all scored as the
scorecard formula (weighted mean of the sub-scores present) on the same held-out customers;
folds are stratified and grouped by customer, repeated with several seeds. Each repeat's
held-out scores are pooled into one AUC (a fold of 2 churned customers is too small for its
own), and the repeats averaged; the intervals bootstrap customers over those held-out scores
(they leave out the refits' own variability, so the rules below ask for a clear margin). A
suggestion is made only when the fitted scorecard's AUC interval lies above 0.5 and the paired
interval of its gain over the current weights lies above 0.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sheets_health.calibration.fit import (
    fit_nonnegative_logistic,
    grouped_folds,
    impute,
    single_threaded_blas,
)
from sheets_health.calibration.inputs import CalibrationOptions
from sheets_health.calibration.report import (
    CrossValidation,
    Estimate,
    MeasureSuggestion,
    Suggestion,
)
from sheets_health.calibration.stats import (
    BoolArray,
    FloatArray,
    IntArray,
    Resampler,
    SortedScores,
    auc,
    percentile_interval,
)
from sheets_health.calibration.transforms import (
    SuggestedScoring,
    class_thresholds,
    readable_weights,
    scorecard_scores,
    transform,
)
from sheets_health.model import Measure, ScoringKind

_MARGIN = 0.02  # correlation a new scoring must gain over the current one to be proposed
_NO_SCORE = 50.0  # a customer none of whose weighted measures has data: the middle


@dataclass(frozen=True)
class Data:
    """One group's outcome cases as the fit sees them."""

    sub: FloatArray  # cases × measures, 0–100
    raw: FloatArray
    retained: BoolArray
    customers: IntArray  # customer number per case
    fills: FloatArray  # per measure: missing counts as (NaN: left out)


Scoring = tuple[SuggestedScoring, float, float]


def _corr(x: FloatArray, y: BoolArray) -> float:
    keep = ~np.isnan(x)
    if keep.sum() < 3 or np.ptp(x[keep]) == 0 or y[keep].all() or not y[keep].any():
        return -math.inf
    return float(np.corrcoef(x[keep], y[keep].astype(float))[0, 1])


def _candidates(m: Measure, raw: FloatArray, retained: BoolArray, counts: bool
                ) -> list[Scoring]:
    """Other scorings for one measure, thresholds from ``raw``/``retained`` (the training
    rows); ``counts``: every value of the measure, in and out of training, is ≥ 0."""
    if m.kind is not ScoringKind.LINEAR or m.red_at is None or m.green_at is None:
        return []
    if not np.isfinite(raw).any():
        return []
    found: list[Scoring] = []
    data = class_thresholds(raw, retained, m.lower_is_better)
    if data is not None:
        found.append((SuggestedScoring.LINEAR, *data))
    if counts and m.red_at >= 0 and m.green_at >= 0:
        found.append((SuggestedScoring.LOG, m.red_at, m.green_at))
        if data is not None and min(data) >= 0:
            found.append((SuggestedScoring.LOG, *data))
    return found


def choose_scorings(measures: Sequence[Measure], d: Data, rows: IntArray
                    ) -> dict[int, Scoring]:
    """Per measure index, the scoring to use instead of its own (only where one is better on
    ``rows``)."""
    chosen: dict[int, Scoring] = {}
    y = d.retained[rows]
    for j, m in enumerate(measures):
        raw = d.raw[rows, j]
        counts = not bool(np.any(d.raw[:, j] < 0))  # NaN compares False: missing is fine
        # beat the current scoring clearly, and be clearly related to renewing at all
        # (a correlation above 2/√n): noise with a lucky step between two medians is not
        best = None
        best_corr = max(_corr(d.sub[rows, j], y) + _MARGIN, 2.0 / math.sqrt(max(1, len(rows))))
        for candidate in _candidates(m, raw, y, counts):
            c = _corr(transform(candidate[0], raw, candidate[1], candidate[2]), y)
            if c > best_corr:
                best, best_corr = candidate, c
        if best is not None:
            chosen[j] = best
    return chosen


def _apply(d: Data, scorings: dict[int, Scoring]) -> FloatArray:
    if not scorings:
        return d.sub
    sub = d.sub.copy()
    for j, (kind, red, green) in scorings.items():
        sub[:, j] = transform(kind, d.raw[:, j], red, green)
    return sub


def fit_weights(sub: FloatArray, d: Data, rows: IntArray, options: CalibrationOptions
                ) -> FloatArray:
    x = sub[rows] / 100.0
    with warnings.catch_warnings():  # a measure nobody in the fold has: impute says 0.5
        warnings.simplefilter("ignore", RuntimeWarning)
        means = np.nanmean(x, axis=0)
    x = impute(x, d.fills / 100.0, means)
    weights, _ = fit_nonnegative_logistic(x, d.retained[rows], options.l1, options.l2)
    return weights


def _score(sub: FloatArray, weights: FloatArray, fills: FloatArray) -> FloatArray:
    if not np.any(weights > 0):
        return np.full(len(sub), _NO_SCORE)
    scores = scorecard_scores(sub, weights, fills)
    return np.where(np.isnan(scores), _NO_SCORE, scores)


def cross_validate(measures: Sequence[Measure], d: Data, current: FloatArray,
                   options: CalibrationOptions, resampler: Resampler) -> CrossValidation:
    """Current, fitted, and fitted-with-scorings weights on the same held-out customers."""
    n = len(d.retained)
    current_scores = _score(d.sub, current, d.fills) if np.any(current > 0) else \
        np.full(n, np.nan)
    weights_oof, scorings_oof = [], []
    any_scoring = False
    k = 0
    for r in range(options.repeats):
        folds = grouped_folds(d.retained, d.customers, options.folds, options.seed + r)
        k = len(folds)
        w_oof, s_oof = np.empty(n), np.empty(n)
        for test in folds:
            train = np.setdiff1d(np.arange(n), test, assume_unique=True)
            w_oof[test] = _score(d.sub[test], fit_weights(d.sub, d, train, options),
                                 d.fills)
            scorings = choose_scorings(measures, d, train)
            any_scoring = any_scoring or bool(scorings)
            sub = _apply(d, scorings)
            s_oof[test] = _score(sub[test], fit_weights(sub, d, train, options), d.fills)
        weights_oof.append(w_oof)
        scorings_oof.append(s_oof)
    prepared = [SortedScores.of(current_scores, d.retained)] + [
        SortedScores.of(s, d.retained) for s in weights_oof + scorings_oof]
    reps = resampler.run([p.auc for p in prepared])
    r = options.repeats
    cur, w, s = reps[:, 0], reps[:, 1:1 + r].mean(axis=1), reps[:, 1 + r:].mean(axis=1)
    point_cur = auc(current_scores, d.retained)
    point_w = float(np.mean([auc(x, d.retained) for x in weights_oof]))
    point_s = float(np.mean([auc(x, d.retained) for x in scorings_oof]))
    with_scorings = Estimate.of(point_s, *percentile_interval(s)) if any_scoring else None
    scorings_gain = Estimate.of(point_s - point_w, *percentile_interval(s - w))
    use_scorings = with_scorings is not None and scorings_gain.above(0.0)
    point, reps_chosen = (point_s, s) if use_scorings else (point_w, w)
    return CrossValidation(
        folds=k, repeats=r,
        current=Estimate.of(point_cur, *percentile_interval(cur)),
        weights_only=Estimate.of(point_w, *percentile_interval(w)),
        with_scorings=with_scorings,
        chosen="weights and scorings" if use_scorings else "weights",
        suggested=Estimate.of(point, *percentile_interval(reps_chosen)),
        gain=Estimate.of(point - point_cur, *percentile_interval(reps_chosen - cur)),
    )


def suggest(measures: Sequence[Measure], d: Data, current: FloatArray,
            options: CalibrationOptions, resampler: Resampler
            ) -> tuple[Suggestion | None, str, CrossValidation | None]:
    """(suggestion, why, cross-validation): the suggestion is None unless the data clearly
    supports it, and ``why`` says in words what it rests on or why there is none."""
    churned, retained = int((~d.retained).sum()), int(d.retained.sum())
    need = options.min_per_class
    if churned < need or retained < need:
        return None, (
            f"Not enough outcomes to suggest weights: {churned} churned and {retained} "
            f"renewed or expanded customers; a suggestion needs at least {need} of each. "
            "Keep the current weights and calibrate again when more renewals are decided."
        ), None
    with single_threaded_blas():
        cv = cross_validate(measures, d, current, options, resampler)
    held_out = (f"cross-validated AUC {cv.suggested.text()} on customers held out of the fit"
                f" ({cv.folds} folds × {cv.repeats} repeats)")
    if not cv.suggested.above(0.5):
        return None, (
            f"The data does not support a suggestion: fitted weights predict renewal no better "
            f"than chance ({held_out}). Keep the current weights."), cv
    if cv.current.value is not None and not cv.gain.above(0.0):
        return None, (
            f"The data does not support a suggestion: fitted weights are not clearly better "
            f"than the current ones ({held_out}, against {cv.current.text()} for the current "
            f"weights; difference {cv.gain.text()}). Keep the current weights."), cv
    every = np.arange(len(d.retained))
    scorings = choose_scorings(measures, d, every) if cv.chosen != "weights" else {}
    with single_threaded_blas():
        fitted = fit_weights(_apply(d, scorings), d, every, options)
    weights = readable_weights(fitted)
    if not any(weights):
        return None, "The data does not support a suggestion: no measure earns a weight.", cv
    suggested = tuple(  # a dropped measure needs no new scoring
        MeasureSuggestion(m.name, weights[j], float(current[j]),
                          *(scorings.get(j, (None, None, None)) if weights[j] else
                            (None, None, None)))
        for j, m in enumerate(measures))
    against = ("" if cv.current.value is None
               else f", against {cv.current.text()} for the current weights")
    why = (f"Fitted on {churned + retained} outcomes ({churned} churned): {held_out}"
           f"{against}. Suggested {cv.chosen}; the team's weights are unchanged.")
    return Suggestion(suggested, cv.current, cv.suggested, cv.gain), why, cv
