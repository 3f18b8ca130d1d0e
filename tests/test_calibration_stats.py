"""Calibration's statistics against hand-worked values and against scikit-learn / SciPy."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr
from sklearn.metrics import cohen_kappa_score, roc_auc_score

from sheets_health.calibration.fit import grouped_folds
from sheets_health.calibration.stats import (
    Resampler,
    SortedScores,
    auc,
    confusion,
    linear_weighted_kappa,
    percentile_interval,
    spearman_pairs,
)
from sheets_health.calibration.transforms import (
    class_thresholds,
    linear_sub_scores,
    log_sub_score,
    log_sub_scores,
    readable,
    readable_weights,
    scorecard_scores,
)
from sheets_health.model import (
    Customer,
    Measure,
    MissingPolicy,
    Rag,
    ScoringKind,
    Settings,
    SheetModel,
)
from sheets_health.scoring import score_customers, sub_score

R, Y, G = Rag.RED, Rag.YELLOW, Rag.GREEN


# ----------------------------------------------------------------------------- kappa


# Ten active customers, gut colour against the score's colour:
#
#                score Red  Yellow  Green     row total
#   gut Red          2        1       1          4
#   gut Yellow       0        3       1          4
#   gut Green        0        1       1          2
#   column total     2        5       3         10
#
# accuracy = diagonal / n = (2 + 3 + 1) / 10 = 0.6
# linear agreement weights: 1 on the diagonal, 0.5 for neighbours, 0 for Red vs Green
# p_o = (6 × 1 + (1 + 1 + 1) × 0.5 + 1 × 0) / 10 = 7.5 / 10 = 0.75
# p_e from the margins (rows .4 .4 .2, columns .2 .5 .3):
#   diagonal   .4×.2 + .4×.5 + .2×.3           = .08 + .20 + .06 = .34
#   neighbours (.4×.5 + .4×.2 + .4×.3 + .2×.5) × 0.5 = .50 × 0.5 = .25
#   p_e = .59
# kappa = (p_o − p_e) / (1 − p_e) = .16 / .41 = 0.3902439…
GUT = [R, R, R, R, Y, Y, Y, Y, G, G]
SCORE = [R, R, Y, G, Y, Y, Y, G, Y, G]


def test_confusion_and_kappa_match_the_hand_computation() -> None:
    table = confusion(GUT, SCORE)
    assert table == ((2, 1, 1), (0, 3, 1), (0, 1, 1))
    assert linear_weighted_kappa(table) == pytest.approx(0.16 / 0.41)


def test_kappa_matches_scikit_learn_linear_weights() -> None:
    order = {R: 0, Y: 1, G: 2}
    rng = np.random.default_rng(3)
    for _ in range(5):
        gut = list(rng.choice([R, Y, G], 60))
        score = list(rng.choice([R, Y, G], 60))
        expected = cohen_kappa_score([order[g] for g in gut], [order[s] for s in score],
                                     labels=[0, 1, 2], weights="linear")
        assert linear_weighted_kappa(confusion(gut, score)) == pytest.approx(expected)
    assert cohen_kappa_score([order[g] for g in GUT], [order[s] for s in SCORE],
                             weights="linear") == pytest.approx(0.16 / 0.41)


@pytest.mark.parametrize(("gut", "score", "expected"), [
    ([R, Y, G], [R, Y, G], 1.0),  # perfect agreement
    ([R, R, G, G], [G, G, R, R], -1.0),  # every Red called Green and back: worse than chance
    ([G, G, G], [G, G, G], None),  # everyone Green on both sides: undefined, not 1
])
def test_kappa_edges(gut: list[Rag], score: list[Rag], expected: float | None) -> None:
    got = linear_weighted_kappa(confusion(gut, score))
    assert got == (None if expected is None else pytest.approx(expected))


# ----------------------------------------------------------------------------- AUC

# Four retained customers scored 80, 60, 60, 30; three churned scored 60, 40, 20.
# AUC = share of (retained, churned) pairs where the retained one scored higher, ties ½:
#   80 beats 60, 40, 20                 → 3
#   60 ties 60 (½), beats 40, 20        → 2.5   (twice: the two 60s)
#   30 beats 20 only                    → 1
#   (3 + 2.5 + 2.5 + 1) / (4 × 3) = 9 / 12 = 0.75
SCORES = [80, 60, 60, 30, 60, 40, 20]
RETAINED = [True, True, True, True, False, False, False]


def test_auc_matches_the_hand_computation_and_scikit_learn() -> None:
    assert auc(SCORES, RETAINED) == pytest.approx(0.75)
    assert roc_auc_score(RETAINED, SCORES) == pytest.approx(0.75)


def test_auc_leaves_out_missing_scores_and_needs_both_classes() -> None:
    assert auc([*SCORES, math.nan], [*RETAINED, False]) == pytest.approx(0.75)
    assert math.isnan(auc([1.0, 2.0], [True, True]))


def test_weighted_auc_equals_auc_of_the_repeated_customers() -> None:
    rng = np.random.default_rng(0)
    scores = rng.integers(0, 6, 40).astype(float)  # many ties
    scores[[3, 9]] = np.nan
    retained = rng.random(40) < 0.6
    counts = rng.integers(0, 4, (5, 40)).astype(np.int32)
    prepared = SortedScores.of(scores, retained)
    for row, got in zip(counts, prepared.auc(counts), strict=True):
        repeated = np.repeat(np.arange(40), row)
        assert got == pytest.approx(auc(scores[repeated], retained[repeated]))


def test_bootstrap_resamples_customers_like_the_textbook_bootstrap() -> None:
    """The fast path (counts per customer) against a slow explicit resample with the same
    draws: the percentile interval is the same, and a customer's rows travel together."""
    rng = np.random.default_rng(1)
    customer = np.repeat(np.arange(30), 2)  # two outcome rows per customer
    scores = rng.normal(size=60)
    retained = rng.random(60) < 0.5
    resampler = Resampler(customer, n_boot=200, seed=42, max_cells=600)  # several batches
    fast = resampler.run([SortedScores.of(scores, retained).auc])[:, 0]
    draws = np.random.default_rng(42)
    slow = []
    done = 0
    while done < 200:
        b = min(resampler.batch, 200 - done)
        picks = draws.integers(0, 30, size=(b, 30))
        for drawn in picks:
            rows = np.concatenate([np.flatnonzero(customer == c) for c in drawn])
            slow.append(roc_auc_score(retained[rows], scores[rows]))
        done += b
    assert fast == pytest.approx(np.array(slow))
    for counts in resampler.batches():
        assert (counts[:, 0::2] == counts[:, 1::2]).all()
    low, high = percentile_interval(fast)
    assert low == pytest.approx(np.percentile(slow, 2.5))
    assert high == pytest.approx(np.percentile(slow, 97.5))


def test_folds_never_split_a_customer_and_keep_both_classes_in_each() -> None:
    rng = np.random.default_rng(5)
    customer = rng.integers(0, 80, 200)
    customer = np.unique(customer, return_inverse=True)[1]
    retained = rng.random(200) < 0.7
    folds = grouped_folds(retained, customer, folds=5, seed=3)
    assert sorted(np.concatenate(folds).tolist()) == list(range(200))
    for test in folds:
        train = np.setdiff1d(np.arange(200), test)
        assert not set(customer[test]) & set(customer[train])
        assert retained[test].any() and not retained[test].all()


def test_folds_shrink_when_a_class_is_small() -> None:
    retained = np.array([True] * 20 + [False] * 3)
    assert len(grouped_folds(retained, np.arange(23), folds=5, seed=0)) == 3


# ----------------------------------------------------------------------------- Spearman


def test_spearman_pairs_match_scipy_over_pairwise_complete_rows() -> None:
    rng = np.random.default_rng(2)
    a = rng.normal(size=100)
    frame = pd.DataFrame({"A": a, "B": a * 3 + rng.normal(scale=0.5, size=100),
                          "C": rng.normal(size=100), "D": -a + rng.normal(scale=0.3, size=100)})
    frame.loc[::7, "B"] = np.nan
    frame.loc[::5, "D"] = np.nan
    pairs = {(p[0], p[1]): p for p in spearman_pairs(frame, 0.7)}
    assert set(pairs) == {("A", "B"), ("A", "D"), ("B", "D")}
    for (x, y), (_, _, rho, n) in pairs.items():
        both = frame[[x, y]].dropna()
        assert n == len(both)
        assert rho == pytest.approx(spearmanr(both[x], both[y]).statistic)
    assert pairs[("A", "D")][2] < 0


# ----------------------------------------------------------------------------- transforms


@pytest.mark.parametrize(("red", "green"), [(0, 20), (10, 2), (-5, 5)])
def test_linear_sub_scores_agree_with_the_scoring_engine(red: float, green: float) -> None:
    measure = Measure("M", "Usage", ScoringKind.LINEAR, red_at=red, green_at=green,
                      lower_is_better=green < red, weights={"": 1})
    values = np.array([-20, -5, 0, 1, 2, 6, 10, 15, 20, 35], dtype=float)
    day = dt.date(2026, 1, 1)
    expected = [sub_score(measure, float(v), day, day) for v in values]
    assert linear_sub_scores(values, red, green) == pytest.approx(expected)


@pytest.mark.parametrize(("value", "red", "green", "expected"), [
    # log(1 + 9) / log(1 + 99) = log 10 / log 100 = ½ → 50: halfway on a log scale
    (9, 0, 99, 50.0),
    (0, 0, 99, 0.0),
    (99, 0, 99, 100.0),
    (5000, 0, 99, 100.0),  # clamped
    # lower is better: 1 ticket of a 0 (green) → 99 (red) ramp keeps log 2 / log 100 lost
    (1, 99, 0, 100.0 * (1 - math.log(2) / math.log(100))),
])
def test_log_scoring(value: float, red: float, green: float, expected: float) -> None:
    assert log_sub_score(value, red, green) == pytest.approx(expected)


def test_log_scoring_refuses_negative_counts() -> None:
    with pytest.raises(ValueError, match="values ≥ 0"):
        log_sub_scores(np.array([3.0, -1.0]), 0, 10)
    with pytest.raises(ValueError, match="Red at and Green at ≥ 0"):
        log_sub_score(3.0, -1, 10)


@pytest.mark.parametrize(("x", "expected"), [
    (17.3, 17.0), (0.1234, 0.12), (1840.0, 1800.0), (-3.46, -3.5), (0.0, 0.0), (5.0, 5.0)])
def test_readable_thresholds(x: float, expected: float) -> None:
    assert readable(x) == expected


@pytest.mark.parametrize(("weights", "expected"), [
    ([1, 1, 1], [34, 33, 33]),  # largest remainder, ties to the earlier measure
    ([3.0, 1.0, 0.0], [75, 25, 0]),
    ([0.004, 2.0], [0, 100]),
    ([0, 0], [0, 0]),
])
def test_readable_weights_sum_to_100(weights: list[float], expected: list[int]) -> None:
    assert readable_weights(weights) == expected


def test_class_thresholds_keep_the_scorecard_direction() -> None:
    values = np.array([1, 2, 3, 10, 12, 14], dtype=float)
    retained = np.array([False, False, False, True, True, True])
    assert class_thresholds(values, retained, lower_is_better=False) == (2.0, 12.0)
    assert class_thresholds(values, retained, lower_is_better=True) is None  # never flipped


@pytest.mark.parametrize("policy", list(MissingPolicy))
def test_scorecard_formula_matches_the_scoring_engine(policy: MissingPolicy) -> None:
    rng = np.random.default_rng(4)
    measures = [Measure(f"M{j}", "Usage", ScoringKind.LINEAR, red_at=0, green_at=100,
                        weights={"": w}) for j, w in enumerate((1.0, 2.5, 0.5))]
    raw = rng.uniform(-10, 110, (30, 3))
    raw[rng.random((30, 3)) < 0.2] = np.nan
    customers = tuple(Customer(f"C{i}", "x", i + 2) for i in range(30))
    model = SheetModel(customers, tuple(measures), (), Settings(missing=policy, min_coverage=0),
                       {})
    frame = pd.DataFrame(raw, index=[c.id for c in customers],
                         columns=[m.name for m in measures]).astype(object)
    frame = frame.where(frame.notna(), None)
    engine = score_customers(model, frame, dt.date(2026, 1, 1))
    fill = {MissingPolicy.SKIP: np.nan, MissingPolicy.NEUTRAL: 50.0, MissingPolicy.ZERO: 0.0}
    sub = np.column_stack([linear_sub_scores(raw[:, j], 0, 100) for j in range(3)])
    ours = scorecard_scores(sub, np.array([1.0, 2.5, 0.5]), np.full(3, fill[policy]))
    for i, c in enumerate(customers):
        expected = engine[c.id].outcomes[0].score
        if expected is None:
            assert math.isnan(ours[i])
        else:
            assert ours[i] == pytest.approx(expected)
