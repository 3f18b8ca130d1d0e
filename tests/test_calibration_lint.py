"""Practice warnings `check` will show: one per rule, each with its reason in plain words."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from sheets_health.calibration import lint_scorecard
from sheets_health.calibration.lint import months_before
from sheets_health.model import Measure, ScoringKind

TODAY = dt.date(2026, 11, 30)
RECENT = dt.date(2026, 9, 1)


def measure(name: str, weight: float = 1.0, degree: int = 1, proactive: bool | None = True,
            action: str = "Call", scorecard: str = "", **kw: object) -> Measure:
    fields = {"red_at": 0, "green_at": 10, **kw}
    return Measure(name, "Usage", ScoringKind.LINEAR, weights={scorecard: weight},
                   value_degree=degree, proactive=proactive, action_when_red=action,
                   **fields)  # type: ignore[arg-type]


GOOD = [measure("Goals met"), measure("Core actions", degree=2),
        measure("Tickets", proactive=False)]


def codes(measures: list[Measure], scorecards: tuple[str, ...] = (), **kw: object) -> list[str]:
    kw.setdefault("last_calibration", RECENT)
    return [w.code for w in lint_scorecard(measures, scorecards, TODAY, **kw)]  # type: ignore[arg-type]


def test_a_scorecard_following_the_practice_gets_no_warning() -> None:
    assert codes(GOOD) == []


@pytest.mark.parametrize(("measures", "code", "words"), [
    ([measure("Logins", 3, degree=3), measure("Goals met", 1)], "value-degree-3",
     "puts 75% of its weight on value-degree-3 measures (Logins). Logins and activity only "
     "roughly show whether a customer gets value"),
    ([measure("Tickets", 3, proactive=False), measure("QBR held", 1),
      measure("Escalations", 1, proactive=None)], "proactive-share",
     "puts only 20% of its weight on proactive measures (1 of its measures do not say whether "
     "they are proactive). A score made of problems that already happened"),
    ([measure("Goals met")], "too-few-measures",
     "has 1 measure with weight. With fewer than 2, one data glitch"),
    ([measure(f"M{i}") for i in range(11)], "too-many-measures",
     "has 11 measures with weight. With more than 10, each one moves the score so little"),
    ([*GOOD, measure("Seats", action=" ")], "no-action-when-red",
     "Seats has weight but no Action when red. A red measure without a next step"),
])
def test_each_rule(measures: list[Measure], code: str, words: str) -> None:
    warnings = lint_scorecard(measures, (), TODAY, last_calibration=RECENT)
    assert [w.code for w in warnings] == [code]
    assert words in warnings[0].message


def test_a_measure_at_weight_zero_is_not_counted() -> None:
    assert codes([*GOOD, measure("Logins", 0, degree=3, action="")]) == []


def test_more_than_four_outcomes() -> None:
    outcomes = ("Adopt", "Grow", "Save", "Expand", "Renew")
    measures = [Measure(n, "Usage", ScoringKind.LINEAR, red_at=0, green_at=10,
                        weights=dict.fromkeys(outcomes, 1.0), value_degree=1, proactive=True,
                        action_when_red="Call") for n in ("A", "B")]
    warnings = lint_scorecard(measures, outcomes, TODAY, last_calibration=RECENT)
    assert [w.code for w in warnings] == ["too-many-outcomes"]
    assert warnings[0].message.startswith("The Scorecard has 5 desired outcomes (Adopt, Grow, "
                                          "Save, Expand, Renew).")


def test_rules_run_per_outcome_scorecard() -> None:
    measures = [Measure("Logins", "Usage", ScoringKind.LINEAR, red_at=0, green_at=10,
                        weights={"": 1, "Grow": 5}, value_degree=3, proactive=True,
                        action_when_red="Call"), *GOOD]
    warnings = lint_scorecard(measures, ("Grow",), TODAY, last_calibration=RECENT)
    assert [(w.code, w.scorecard) for w in warnings] == [("too-few-measures", "Grow"),
                                                          ("value-degree-3", "Grow")]
    assert warnings[1].message.startswith("The Grow scorecard puts 100% of its weight")


def test_correlated_measures_from_current_values() -> None:
    rng = np.random.default_rng(1)
    seats = rng.normal(50, 10, 60)
    values = pd.DataFrame({"Goals met": rng.normal(size=60), "Core actions": seats,
                           "Tickets": -seats + rng.normal(0, 1, 60)})
    # Tickets is lower-is-better: fewer tickets with more core actions is the same signal
    measures = [GOOD[0], GOOD[1], measure("Tickets", proactive=False, red_at=10, green_at=0,
                                          lower_is_better=True)]
    warnings = lint_scorecard(measures, (), TODAY, values=values, last_calibration=RECENT)
    assert [(w.code, w.measures) for w in warnings] == [("double-count",
                                                         ("Core actions", "Tickets"))]
    assert "counts the same signal twice" in warnings[0].message


@pytest.mark.parametrize(("last", "code"), [
    (None, "never-calibrated"),
    (dt.date(2026, 5, 29), "calibration-due"),
    (dt.date(2026, 5, 30), None),  # exactly six months ago is still in time
])
def test_calibration_age(last: dt.date | None, code: str | None) -> None:
    assert codes(GOOD, last_calibration=last) == ([code] if code else [])


@pytest.mark.parametrize(("day", "months", "expected"), [
    (dt.date(2026, 11, 30), 6, dt.date(2026, 5, 30)),
    (dt.date(2026, 8, 31), 6, dt.date(2026, 2, 28)),  # no 31 February
    (dt.date(2026, 3, 15), 6, dt.date(2025, 9, 15)),  # across the year
])
def test_months_before(day: dt.date, months: int, expected: dt.date) -> None:
    assert months_before(day, months) == expected
