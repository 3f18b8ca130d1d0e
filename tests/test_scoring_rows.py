"""The scoring engine's whole-column paths agree with its one-value rules.

Scoring works on a scorecard's arrays at once (vectorised linear sub-scores, Reasons drivers
picked from the arrays, a customer's `MeasureScore`s built only when read): these tests hold
those paths to the per-value semantics in `sub_score` and to what `explain` shows.
"""

from __future__ import annotations

import datetime as dt
import math
import random

import numpy as np
import pandas as pd
import pytest

from sheets_health.cells import Percent
from sheets_health.model import Customer, Measure, ScoringKind, Settings, SheetModel
from sheets_health.scoring import round_score, score_customers, sub_score, sub_scores

TODAY = dt.date(2026, 11, 22)


def linear(red: float, green: float) -> Measure:
    return Measure("M", "Usage", ScoringKind.LINEAR, red_at=red, green_at=green,
                   lower_is_better=green < red, weights={"": 1.0})


@pytest.mark.parametrize("measure", [linear(0, 20), linear(10, 2), linear(-40, 0),
                                     linear(0.5, 0.25)])
@pytest.mark.parametrize("values", [
    [0, 10, 20, 35, -5, 2.5, None, float("nan"), 7],  # plain numbers: the vectorised path
    [0, "15", None, Percent(0.5), 1.25, "1,234"],  # text and percents: value by value
])
def test_a_whole_column_scores_as_each_value_alone(measure: Measure, values: list[object]
                                                   ) -> None:
    column = np.array(values, dtype=object)
    subs, due = sub_scores(measure, column, [None] * len(values), TODAY)
    expected = [sub_score(measure, v, None, TODAY) for v in values]  # type: ignore[arg-type]
    assert due.tolist() == [e is not None for e in expected]
    for got, want in zip(subs.tolist(), expected, strict=True):
        assert (math.isnan(got) and math.isnan(want)) if want != want else got == want


def test_an_infinite_number_in_a_column_is_refused_as_alone() -> None:
    with pytest.raises(ValueError, match="not a finite number"):
        sub_scores(linear(0, 20), np.array([1.0, float("inf")], dtype=object), [None] * 2,
                    TODAY)


def _model(n: int) -> tuple[SheetModel, pd.DataFrame]:
    rng = random.Random(3)
    measures = (
        Measure("Logins", "Usage", ScoringKind.LINEAR, red_at=0, green_at=20,
                weights={"": 2, "Grow": 1}, action_when_red="Run a training"),
        Measure("Tickets", "Support", ScoringKind.BANDS,
                points=((0.0, 100.0), (3.0, 60.0), (8.0, 20.0)), weights={"": 1, "Grow": 2}),
        Measure("QBR held", "Relationship", ScoringKind.BOOLEAN, weights={"": 1},
                action_when_red="Book a QBR"),
        Measure("Seats used", "Usage", ScoringKind.PERCENTILE, weights={"Grow": 1}),
    )
    customers = tuple(Customer(f"C{i:03d}", "x", i + 2,
                               outcomes=("Grow",) if i % 4 == 0 else ()) for i in range(n))
    raw = pd.DataFrame({
        "Logins": [rng.choice([None, 0, 3, 12.5, 20, 40]) for _ in customers],
        "Tickets": [rng.choice([None, 0, 2, 5, 9]) for _ in customers],
        "QBR held": [rng.choice([None, "yes", "no"]) for _ in customers],
        "Seats used": [rng.choice([None, 1, 5, 9]) for _ in customers],
    }, index=[c.id for c in customers], dtype=object)
    return SheetModel(customers, measures, ("Grow",), Settings(), {}), raw


def test_each_customers_details_add_up_to_its_score_and_name_its_biggest_drag() -> None:
    """What `explain` prints (built on demand) matches the score and the Reasons written."""
    model, raw = _model(200)
    results = score_customers(model, raw, TODAY)
    checked = 0
    for result in results.values():
        for outcome in result.outcomes:
            details = tuple(outcome.measures)
            assert outcome.measures == details and len(outcome.measures) == len(details)
            assert list(outcome.missing) == [d.measure for d in details
                                             if d.note.startswith("no data")]
            if outcome.score is None:
                continue
            assert sum(d.points for d in details) == pytest.approx(outcome.score)
        if result.score is None or result.rag is None or result.rag.value == "Green":
            continue
        (outcome,) = result.outcomes
        worst = max(outcome.measures, key=lambda d: d.points_lost)  # first of equals
        if round_score(worst.points_lost) >= 1:
            assert result.reasons.startswith(f"{worst.measure} ")
            assert f"−{round_score(worst.points_lost)} pts" in result.reasons.split(";")[0]
            checked += 1
    assert checked > 50
