"""The calibration report on simulated customers whose truth is known."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sheets_health.calibration import (
    ActiveCustomers,
    CalibrationInputError,
    CalibrationOptions,
    OutcomeCases,
    SuggestedScoring,
    calibrate,
)
from sheets_health.calibration.stats import auc
from sheets_health.model import Measure, Rag, Settings
from tests.calibration_sim import (
    DRIVERS,
    NOISE,
    OUTCOME_DAY,
    cases_from,
    driven,
    gut_frame,
    linear,
    no_active,
    random_churn,
    saturating,
)

R, Y, G = Rag.RED, Rag.YELLOW, Rag.GREEN
ROOT = Path(__file__).resolve().parents[1]


def run(measures: list[Measure], raw: np.ndarray, churned: np.ndarray, **options: object
        ):  # type: ignore[no-untyped-def]
    cases = cases_from(measures, raw, churned)
    report = calibrate(measures, (), Settings(), cases, no_active(), 90,
                       CalibrationOptions(**options))  # type: ignore[arg-type]
    assert [g.label for g in report.scorecards] == ["Default (Weight)"]
    return report, cases


def test_simulated_drivers_are_found_and_the_suggestion_beats_equal_weights() -> None:
    measures, raw, churned = driven()
    report, cases = run(measures, raw, churned)
    group = report.scorecards[0]
    # the two measures that drive renewal come first, by the strength of their own evidence
    assert {f.measure for f in group.measures[:2]} == set(DRIVERS)
    # Tickets open is configured higher-is-better; the data clearly says the opposite
    flagged = {f.measure: f for f in group.measures if f.wrong_direction}
    assert set(flagged) == {"Tickets open"}
    assert flagged["Tickets open"].data_direction == "lower is healthier"
    assert flagged["Tickets open"].auc.high is not None and flagged["Tickets open"].auc.high < 0.5
    # the suggestion is a readable scorecard that beats the team's equal weights out of sample
    suggestion = group.suggestion
    assert suggestion is not None
    weights = {m.measure: m.weight for m in suggestion.measures}
    assert sum(weights.values()) == 100 and set(weights) == set(DRIVERS) | set(NOISE)
    assert max(weights, key=weights.__getitem__) == "Core actions"
    assert weights["Tickets open"] == 0  # a weight cannot turn a measure round
    assert suggestion.cv_auc_suggested.value is not None
    assert suggestion.cv_auc_current.value is not None
    assert suggestion.cv_auc_suggested.value > suggestion.cv_auc_current.value
    assert suggestion.cv_auc_gain.low is not None and suggestion.cv_auc_gain.low > 0
    # the current weights are scored as they are: their CV AUC is their plain AUC
    assert suggestion.cv_auc_current.value == pytest.approx(auc(cases.score, ~cases.churned))
    assert "the team's weights are unchanged" in group.why


def test_random_churn_gets_no_suggestion_and_says_why() -> None:
    measures, raw, churned = random_churn()
    report, _ = run(measures, raw, churned)
    group = report.scorecards[0]
    assert group.suggestion is None
    assert group.why.startswith("The data does not support a suggestion")
    assert group.cross_validation is not None  # the numbers behind the refusal are shown
    plain = report.as_dict()
    assert plain["scorecards"][0]["suggestion"] is None  # type: ignore[index]
    assert "does not support" in plain["scorecards"][0]["why"]  # type: ignore[index]


@pytest.mark.parametrize(("n_churned", "n_retained"), [(9, 200), (150, 9)])
def test_too_few_outcomes_of_either_kind_get_no_suggestion(n_churned: int,
                                                          n_retained: int) -> None:
    measures, raw, _ = driven(n=n_churned + n_retained)
    churned = np.array([True] * n_churned + [False] * n_retained)
    report, _ = run(measures, raw, churned)
    group = report.scorecards[0]
    assert group.suggestion is None and group.cross_validation is None
    assert group.why == (
        f"Not enough outcomes to suggest weights: {n_churned} churned and {n_retained} renewed "
        "or expanded customers; a suggestion needs at least 10 of each. Keep the current "
        "weights and calibrate again when more renewals are decided.")


def test_a_saturating_ramp_gets_a_new_scoring_when_it_predicts_clearly_better() -> None:
    measures, raw, churned = saturating()
    report, _ = run(measures, raw, churned)
    group = report.scorecards[0]
    cv = group.cross_validation
    assert cv is not None and cv.chosen == "weights and scorings"
    assert cv.with_scorings is not None and cv.with_scorings.value is not None
    assert cv.weights_only.value is not None and cv.with_scorings.value > cv.weights_only.value
    assert group.suggestion is not None
    logins = next(m for m in group.suggestion.measures if m.measure == "Logins 30d")
    assert logins.scoring in (SuggestedScoring.LOG, SuggestedScoring.LINEAR)
    assert logins.red_at is not None and logins.green_at is not None
    assert 5 < logins.red_at < logins.green_at  # a ramp where the customers are, not 0 → 5
    assert logins.weight > 0
    nps = next(m for m in group.suggestion.measures if m.measure == "NPS")
    assert nps.scoring is None or nps.weight > 0  # a dropped measure gets no new scoring


# ----------------------------------------------------------------------------- gut agreement


def test_gut_agreement_lists_the_worst_disagreements_first() -> None:
    measures = [linear("A", 0, 100)]
    ids = ["a", "b", "c", "d", "e", "f", "g"]
    rags = [G, R, R, Y, Y, G, None]
    guts = [G, G, G, R, Y, None, R]
    scores = [80.0, 30.0, 10.0, 50.0, 55.0, 90.0, np.nan]
    active = ActiveCustomers.from_frame(gut_frame(ids, rags, guts, scores))
    measures_raw = np.array([[50.0]] * 20)
    cases = cases_from(measures, measures_raw, np.array([True, False] * 10))
    report = calibrate(measures, (), Settings(), cases, active, 90)
    agreement = report.overall.agreement
    assert agreement.customers == 5 and agreement.without_gut == 1
    assert agreement.without_score == 1
    assert agreement.confusion == ((0, 1, 0), (0, 1, 0), (2, 0, 1))
    assert agreement.accuracy == pytest.approx(2 / 5)
    worst = [(d.customer_id, d.ordinal_distance, d.score_distance)
             for d in agreement.disagreements]
    # c and b: Green by gut, Red by score (c is 60 points short of 70, b 40); then d
    assert worst == [("c", 2, 60.0), ("b", 2, 40.0), ("d", 1, 10.0)]


# ----------------------------------------------------------------------------- backtest


def test_backtest_names_missed_churn_false_alarms_and_churn_per_colour() -> None:
    measures = [linear("A", 0, 100)]
    raw = np.array([[90], [80], [50], [45], [20], [10], [30], [75]], dtype=float)
    churned = np.array([True, False, True, False, True, False, False, False])
    cases = cases_from(measures, raw, churned)  # scores = raw: 90 G, 80 G, 50 Y, 45 Y, 20 R …
    backtest = calibrate(measures, (), Settings(), cases, no_active(), 90).overall.backtest
    assert (backtest.outcomes, backtest.churned, backtest.retained) == (8, 3, 5)
    assert backtest.missed_churn == ("C0000", "C0002")  # Green 90 and Yellow 50, then churned
    assert backtest.false_alarms == ("C0005", "C0006")  # Red 10 and 30, then renewed
    rates = {b.rag: (b.customers, b.churned) for b in backtest.bands}
    assert rates == {G: (3, 1), Y: (2, 1), R: (3, 1), None: (0, 0)}
    assert backtest.auc.value == pytest.approx(auc(raw[:, 0], ~churned))


def test_each_scorecard_is_reported_and_overall_does_not_mix_their_weights() -> None:
    measures = [Measure("A", "Usage", linear("A", 0, 100).kind, red_at=0, green_at=100,
                        weights={"": 1, "Grow": 3}), linear("B", 0, 100)]
    measures_raw, churned = np.random.default_rng(0).uniform(0, 100, (40, 2)), \
        np.array([True, False] * 20)
    cases = cases_from(measures, measures_raw, churned)
    frame = pd.DataFrame({
        "customer_id": cases.customer_ids,
        "outcome": np.where(churned, "churned", "expanded"),
        "outcome_date": [OUTCOME_DAY] * 40,
        "scorecards": [("Grow",) if i % 4 == 0 else ("",) for i in range(40)],
        "score": cases.score, "rag": [r.value if r else None for r in cases.rag],
        "provenance": ["snapshot"] * 40})
    index = frame.index
    split = OutcomeCases.from_frames(frame, pd.DataFrame(cases.raw, columns=["A", "B"],
                                                         index=index),
                                     pd.DataFrame(cases.sub_scores, columns=["A", "B"],
                                                  index=index), measures)
    report = calibrate(measures, ("Grow",), Settings(), split, no_active(), 90)
    by_label = {g.label: g for g in report.scorecards}
    assert set(by_label) == {"Default (Weight)", "Grow"}
    assert by_label["Grow"].backtest.outcomes == 10
    assert by_label["Default (Weight)"].backtest.outcomes == 30
    assert [f.weight for f in sorted(by_label["Grow"].measures, key=lambda f: f.measure)] == \
        [3.0, 0.0]
    assert report.overall.backtest.outcomes == 40
    assert report.overall.suggestion is None
    assert report.overall.why.startswith("Customers are on 2 scorecards")


def test_report_as_json() -> None:
    measures, raw, churned = driven(n=120)
    report, _ = run(measures, raw, churned, n_boot=200)
    plain = json.loads(json.dumps(report.as_dict(), allow_nan=False))
    group = plain["scorecards"][0]
    assert {"agreement", "backtest", "measures", "double_counts", "suggestion", "why",
            "cross_validation"} <= set(group)
    assert plain["overall"]["agreement"]["kappa"] is None  # no active customers: null
    assert plain["method"]["kappa"] == "Cohen's kappa with linear weights over Red < Yellow " \
                                       "< Green"
    bands = {b["rag"]: b for b in group["backtest"]["bands"]}
    assert bands[None]["churn_rate"] is None


def test_double_counting_pairs_are_named() -> None:
    rng = np.random.default_rng(6)
    seats = rng.normal(50, 15, 200)
    raw = np.column_stack([seats, seats * 0.9 + rng.normal(0, 3, 200), rng.normal(50, 15, 200)])
    measures = [linear("Seats", 0, 100), linear("Active users", 0, 100), linear("NPS", 0, 100)]
    report, _ = run(measures, raw, rng.random(200) < 0.3, n_boot=100)
    pairs = [(d.first, d.second) for d in report.overall.double_counts]
    assert pairs == [("Seats", "Active users")]
    assert report.overall.double_counts[0].rho > 0.9


def test_bad_outcome_is_refused_with_the_customer_named() -> None:
    measures = [linear("A", 0, 100)]
    frame = pd.DataFrame({"customer_id": ["C7"], "outcome": ["active"],
                          "outcome_date": [OUTCOME_DAY], "scorecards": [("",)],
                          "score": [50.0], "rag": ["Yellow"], "provenance": ["snapshot"]})
    values = pd.DataFrame({"A": [50.0]})
    with pytest.raises(CalibrationInputError, match="outcome case C7: outcome 'active'"):
        OutcomeCases.from_frames(frame, values, values, measures)


def test_importing_calibration_loads_neither_scipy_nor_scikit_learn() -> None:
    code = ("import sys, sheets_health.calibration, sheets_health.scoring; "
            "print(sorted(m for m in ('scipy', 'sklearn', 'threadpoolctl') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"
