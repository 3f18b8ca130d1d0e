"""Table-driven tests of the scoring semantics users rely on (PRODUCT.md, "Scoring")."""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
import pytest

from sheets_health.model import (
    Customer,
    HistoryPoint,
    Measure,
    MissingPolicy,
    Override,
    Rag,
    RollUp,
    ScoringKind,
    Settings,
    SheetModel,
)
from sheets_health.scoring import round_score, score_customers, sub_score, trend_text

TODAY = dt.date(2026, 11, 22)
START = dt.date(2026, 9, 1)


def linear(red: float, green: float, **kw: object) -> Measure:
    return Measure("M", "Usage", ScoringKind.LINEAR, red_at=red, green_at=green,
                   lower_is_better=green < red, weights={"": 1.0}, **kw)  # type: ignore[arg-type]


BANDS = Measure("Tickets", "Support", ScoringKind.BANDS,
                points=((0.0, 100.0), (3.0, 60.0), (8.0, 20.0)), weights={"": 1})
CATEGORY = Measure("Sponsor", "Relationship", ScoringKind.CATEGORY,
                   points=(("single-threaded", 30.0), ("exec sponsor", 100.0)), weights={"": 1})
BOOLEAN = Measure("QBR held", "Relationship", ScoringKind.BOOLEAN, weights={"": 1})
BOOLEAN_NO = Measure("Churn flag", "Fit", ScoringKind.BOOLEAN, good_value=False,
                     weights={"": 1})
MILESTONE = Measure("Onboarded", "Outcomes", ScoringKind.MILESTONE, green_at=30,
                    weights={"": 1})
MILESTONE_FALLING = Measure("Onboarded", "Outcomes", ScoringKind.MILESTONE, green_at=30,
                            red_at=50, weights={"": 1})


@pytest.mark.parametrize(
    ("measure", "value", "expected"),
    [
        # linear, higher is better: red at 0, green at 20
        (linear(0, 20), 0, 0.0),
        (linear(0, 20), 10, 50.0),
        (linear(0, 20), 20, 100.0),
        (linear(0, 20), 35, 100.0),  # clamped
        (linear(0, 20), -5, 0.0),  # clamped
        (linear(0, 20), "15", 75.0),  # a number typed as text
        # linear, lower is better: green at 2 tickets, red at 10
        (linear(10, 2), 2, 100.0),
        (linear(10, 2), 6, 50.0),
        (linear(10, 2), 10, 0.0),
        (linear(10, 2), 0, 100.0),
        (linear(10, 2), 15, 0.0),
        # bands: steps at thresholds, below the first threshold takes the first band
        (BANDS, 0, 100.0),
        (BANDS, 2.9, 100.0),
        (BANDS, 3, 60.0),
        (BANDS, 7, 60.0),
        (BANDS, 8, 20.0),
        (BANDS, 100, 20.0),
        (BANDS, -1, 100.0),
        # boolean
        (BOOLEAN, "yes", 100.0),
        (BOOLEAN, "No", 0.0),
        (BOOLEAN, True, 100.0),
        (BOOLEAN, 0, 0.0),
        (BOOLEAN_NO, "no", 100.0),
        (BOOLEAN_NO, "yes", 0.0),
        # category: case-insensitive text
        (CATEGORY, "single-threaded", 30.0),
        (CATEGORY, "Exec Sponsor", 100.0),
        # missing values are NaN (the missing-data policy decides)
        (linear(0, 20), None, math.nan),
        (linear(0, 20), "  ", math.nan),
        (CATEGORY, None, math.nan),
    ],
)
def test_sub_score(measure: Measure, value: object, expected: float) -> None:
    got = sub_score(measure, value, START, TODAY)  # type: ignore[arg-type]
    assert got is not None
    if math.isnan(expected):
        assert math.isnan(got)
    else:
        assert got == pytest.approx(expected)


@pytest.mark.parametrize(
    ("measure", "value", "start", "expected"),
    [
        (MILESTONE, dt.date(2026, 9, 20), START, 100.0),  # reached
        (MILESTONE, dt.date(2026, 12, 1), START, 0.0),  # a planned date is not reached
        (MILESTONE, "2026-11-22", START, 100.0),  # reached today
        (MILESTONE, 1, START, 100.0),  # numbers are flags
        (MILESTONE, 0, START, 0.0),
        (MILESTONE, "yes", START, 100.0),
        (MILESTONE, None, TODAY - dt.timedelta(days=10), None),  # not yet due: left out
        (MILESTONE, None, TODAY - dt.timedelta(days=30), None),  # due today: not overdue
        (MILESTONE, None, TODAY - dt.timedelta(days=31), 0.0),  # overdue: 0 at once
        (MILESTONE_FALLING, None, TODAY - dt.timedelta(days=40), 50.0),  # halfway to red
        (MILESTONE_FALLING, None, TODAY - dt.timedelta(days=60), 0.0),
        (MILESTONE, None, None, math.nan),  # no start date: cannot tell, missing data
    ],
)
def test_milestone(measure: Measure, value: object, start: dt.date | None,
                   expected: float | None) -> None:
    got = sub_score(measure, value, start, TODAY)  # type: ignore[arg-type]
    if expected is None:
        assert got is None
    elif math.isnan(expected):
        assert got is not None and math.isnan(got)
    else:
        assert got == pytest.approx(expected)


@pytest.mark.parametrize(("value", "problem"), [
    (linear(0, 20), "abc"),
    (CATEGORY, "multi-threaded"),
    (BOOLEAN, "maybe"),
])
def test_unscorable_values_raise(value: Measure, problem: str) -> None:
    with pytest.raises(ValueError):
        sub_score(value, problem, START, TODAY)


# ----------------------------------------------------------------------------- whole scores


def model(
    measures: list[Measure],
    customers: list[Customer],
    settings: Settings | None = None,
    scorecards: tuple[str, ...] = (),
    history: tuple[HistoryPoint, ...] = (),
) -> SheetModel:
    return SheetModel(tuple(customers), tuple(measures), scorecards, settings or Settings(), {},
                      history)


def frame(rows: dict[str, dict[str, object]], measures: list[Measure]) -> pd.DataFrame:
    return pd.DataFrame.from_dict(rows, orient="index").reindex(
        columns=[m.name for m in measures]).astype(object)


def m(name: str, weight: float, **kw: object) -> Measure:
    weights = kw.pop("weights", {"": weight})
    return Measure(name, "Usage", ScoringKind.LINEAR, red_at=0, green_at=100,
                   weights=weights, **kw)  # type: ignore[arg-type]


def score_one(measures: list[Measure], values: dict[str, object], **kw: object):  # type: ignore[no-untyped-def]
    fields = {"start_date": START, **kw.pop("customer", {})}  # type: ignore[dict-item]
    customer = Customer("C1", "Acme", 2, **fields)  # type: ignore[arg-type]
    sm = model(measures, [customer], **kw)  # type: ignore[arg-type]
    return score_customers(sm, frame({"C1": values}, measures), TODAY)["C1"]


@pytest.mark.parametrize(
    ("weights", "values", "expected"),
    [
        ((1, 1), (80, 40), 60),  # equal weights
        ((3, 1), (80, 40), 70),  # weights normalised: 0.75*80 + 0.25*40
        ((30, 10), (80, 40), 70),  # any scale
        ((1, 0.5), (100, 0), 67),  # half-up rounding of 66.67
        ((0.5, 0.5), (69, 70), 70),  # 69.5 rounds up to 70: Green, not Yellow
    ],
)
def test_weights_are_normalised(weights: tuple[float, float], values: tuple[float, float],
                                expected: int) -> None:
    measures = [m("A", weights[0]), m("B", weights[1])]
    result = score_one(measures, {"A": values[0], "B": values[1]})
    assert result.score == expected


@pytest.mark.parametrize(
    ("policy", "expected_score", "expected_note"),
    [
        (MissingPolicy.SKIP, 80, "no data, left out"),  # weight shared among those present
        (MissingPolicy.NEUTRAL, 65, "no data, counted as 50"),  # (80 + 50) / 2
        (MissingPolicy.ZERO, 40, "no data, counted as 0"),  # (80 + 0) / 2
    ],
)
def test_missing_data_policy_from_settings(policy: MissingPolicy, expected_score: int,
                                           expected_note: str) -> None:
    measures = [m("A", 1), m("B", 1)]
    result = score_one(measures, {"A": 80, "B": None},
                       settings=Settings(missing=policy, min_coverage=0.5))
    assert result.score == expected_score
    b = next(d for d in result.outcomes[0].measures if d.measure == "B")
    assert b.note == expected_note


def test_missing_policy_per_measure_beats_the_setting() -> None:
    measures = [m("A", 1), m("B", 1, missing=MissingPolicy.ZERO)]
    result = score_one(measures, {"A": 80, "B": None},
                       settings=Settings(missing=MissingPolicy.SKIP, min_coverage=0.5))
    assert result.score == 40


@pytest.mark.parametrize(
    ("values", "min_coverage", "scored"),
    [
        ({"A": 80, "B": 60, "C": 20}, 0.5, True),
        ({"A": 80, "B": None, "C": None}, 0.5, True),  # A carries 2/4 = 50% of the weight
        ({"A": None, "B": 60, "C": None}, 0.5, False),  # 25% < 50%
        ({"A": None, "B": None, "C": None}, 0.0, False),  # nothing at all is never a score
        ({"A": None, "B": 60, "C": 20}, 0.6, False),  # 50% < 60%
    ],
)
def test_coverage_floor(values: dict[str, object], min_coverage: float, scored: bool) -> None:
    measures = [m("A", 2), m("B", 1), m("C", 1)]
    result = score_one(measures, values, settings=Settings(min_coverage=min_coverage))
    assert (result.score is not None) is scored
    if not scored:
        assert result.rag is None
        assert result.reasons.startswith("Not enough data")
        assert "missing" in result.reasons or "no scorecard" in result.reasons


def test_not_enough_data_says_why() -> None:
    measures = [m("Logins", 2), m("NPS", 1), m("Tickets", 1)]
    result = score_one(measures, {"Logins": None, "NPS": 70, "Tickets": None})
    assert result.score is None
    assert result.reasons == (
        "Not enough data: 25% of the weight has data (minimum 50%); missing Logins, Tickets"
    )
    assert result.next_step == "Add data for: Logins, Tickets"


def test_neutral_fill_does_not_count_as_coverage() -> None:
    measures = [m("A", 1), m("B", 3)]
    result = score_one(measures, {"A": 90, "B": None},
                       settings=Settings(missing=MissingPolicy.NEUTRAL, min_coverage=0.5))
    assert result.score is None  # only 25% of the weight has real data


def test_not_yet_due_milestone_is_left_out_not_missing() -> None:
    measures = [m("A", 1), Measure("Onboarded", "Outcomes", ScoringKind.MILESTONE,
                                   green_at=30, weights={"": 3})]
    customer = {"start_date": TODAY - dt.timedelta(days=5)}
    result = score_one(measures, {"A": 90, "Onboarded": None}, customer=customer,
                       settings=Settings(min_coverage=0.9))
    assert result.score == 90  # coverage counts only what is due
    assert result.outcomes[0].coverage == 1.0


def test_percentile_ranks_within_the_same_scorecard() -> None:
    p = Measure("Seats", "Usage", ScoringKind.PERCENTILE, weights={"Grow": 1, "Save": 1})
    customers = [
        Customer("A", "A", 2, outcomes=("Grow",)),
        Customer("B", "B", 3, outcomes=("Grow",)),
        Customer("C", "C", 4, outcomes=("Grow",)),
        Customer("D", "D", 5, outcomes=("Save",)),  # alone on its scorecard
    ]
    sm = model([p], customers, scorecards=("Grow", "Save"))
    scores = score_customers(sm, frame({"A": {"Seats": 10}, "B": {"Seats": 30},
                                        "C": {"Seats": 20}, "D": {"Seats": 1}}, [p]), TODAY)
    assert [scores[c].score for c in "ABCD"] == [0, 100, 50, 100]


def test_percentile_lower_is_better_and_ties() -> None:
    p = Measure("Tickets", "Support", ScoringKind.PERCENTILE, lower_is_better=True,
                weights={"": 1})
    customers = [Customer(c, c, i) for i, c in enumerate("ABC")]
    sm = model([p], customers)
    scores = score_customers(sm, frame({"A": {"Tickets": 5}, "B": {"Tickets": 5},
                                        "C": {"Tickets": 1}}, [p]), TODAY)
    assert [scores[c].score for c in "ABC"] == [25, 25, 100]


@pytest.mark.parametrize(
    ("rollup", "outcomes", "expected", "weakest"),
    [
        (RollUp.MEAN, ("Grow", "Save"), 60, "Save"),  # (80 + 40) / 2
        (RollUp.MIN, ("Grow", "Save"), 40, "Save"),
        (RollUp.MEAN, ("Grow",), 80, None),
        (RollUp.MEAN, (), 60, None),  # no outcome: the default Weight column
    ],
)
def test_outcome_scorecards_and_rollup(rollup: RollUp, outcomes: tuple[str, ...],
                                       expected: int, weakest: str | None) -> None:
    a = m("A", 1, weights={"": 1, "Grow": 1})
    b = m("B", 1, weights={"": 1, "Save": 1})
    result = score_one([a, b], {"A": 80, "B": 40}, customer={"outcomes": outcomes},
                       settings=Settings(rollup=rollup), scorecards=("Grow", "Save"))
    assert result.score == expected
    assert len(result.outcomes) == max(1, len(outcomes))
    if weakest:
        assert result.reasons.startswith(f"Weakest outcome {weakest} 40: ")
    else:
        assert not result.reasons.startswith("Weakest")


def test_one_outcome_without_enough_data_means_no_score() -> None:
    a = m("A", 1, weights={"Grow": 1})
    b = m("B", 1, weights={"Save": 1})
    result = score_one([a, b], {"A": 80, "B": None}, customer={"outcomes": ("Grow", "Save")},
                       scorecards=("Grow", "Save"))
    assert result.score is None
    assert result.reasons.startswith("Not enough data for Save")


@pytest.mark.parametrize(
    ("override", "expected_rag", "overridden", "prefix"),
    [
        (Override(Rag.RED, "Champion left", TODAY + dt.timedelta(days=1)), Rag.RED, True,
         "Overridden to Red until 2026-11-23: Champion left. Computed 80 Green: "),
        (Override(Rag.RED, "Champion left", TODAY), Rag.RED, True,  # the last day applies
         "Overridden to Red until 2026-11-22: Champion left. Computed 80 Green: "),
        (Override(Rag.RED, "Champion left", None), Rag.RED, True,
         "Overridden to Red: Champion left. Computed 80 Green: "),
        (Override(Rag.RED, "Champion left", TODAY - dt.timedelta(days=1)), Rag.GREEN, False,
         "Override to Red expired 2026-11-21. "),
        (None, Rag.GREEN, False, "No measure fully on target"),  # 80 is below target
    ],
)
def test_override_expiry(override: Override | None, expected_rag: Rag, overridden: bool,
                         prefix: str | None) -> None:
    result = score_one([m("A", 1)], {"A": 80}, customer={"override": override})
    assert result.score == 80  # the computed score is always written
    assert result.rag is expected_rag
    assert result.computed_rag is Rag.GREEN
    assert result.overridden is overridden
    if prefix is None:
        assert "verrid" not in result.reasons, result.reasons
    else:
        assert result.reasons.startswith(prefix)


@pytest.mark.parametrize(
    ("values", "reasons", "next_step"),
    [
        # red: the biggest drags, weight × shortfall, with values and targets
        ({"Logins": 3, "Tickets": 9, "NPS": 10},
         "Tickets 9 (target ≤ 2) −29 pts; Logins 3 (target ≥ 20) −28 pts; "
         "NPS 10 (target ≥ 50) −19 pts",
         "Triage the open tickets"),
        # green: the strongest drivers
        ({"Logins": 25, "Tickets": 1, "NPS": 60},
         "Logins 25 (target ≥ 20) +33 pts; Tickets 1 (target ≤ 2) +33 pts; NPS 60 (target ≥ 50) "
         "+33 pts", ""),
    ],
)
def test_reason_text(values: dict[str, object], reasons: str, next_step: str) -> None:
    measures = [
        Measure("Logins", "Usage", ScoringKind.LINEAR, red_at=0, green_at=20, weights={"": 1},
                action_when_red="Run an adoption workshop"),
        Measure("Tickets", "Support", ScoringKind.LINEAR, red_at=10, green_at=2,
                lower_is_better=True, weights={"": 1}, action_when_red="Triage the open tickets"),
        Measure("NPS", "Sentiment", ScoringKind.LINEAR, red_at=-20, green_at=50,
                weights={"": 1}),
    ]
    result = score_one(measures, values)
    assert result.reasons == reasons
    assert result.next_step == next_step


GREEN_MEASURES = [
    Measure("Logins", "Usage", ScoringKind.LINEAR, red_at=0, green_at=20, weights={"": 3}),
    Measure("NPS", "Sentiment", ScoringKind.LINEAR, red_at=-20, green_at=50, weights={"": 3}),
    Measure("Support tickets open", "Support", ScoringKind.LINEAR, red_at=5, green_at=1,
            lower_is_better=True, weights={"": 1}, action_when_red="Triage the tickets"),
]


@pytest.mark.parametrize(
    ("values", "reasons"),
    [
        # the finding: a below-target measure was listed as a strength ("… 4 (target ≤ 1)
        # +14 pts"); in its red zone (sub-score below Red below, 40) it is named as "despite"
        ({"Logins": 25, "NPS": 60, "Support tickets open": 4},
         "Logins 25 (target ≥ 20) +43 pts; NPS 60 (target ≥ 50) +43 pts; "
         "despite: Support tickets open 4 (target ≤ 1)"),
        # between red and target (sub-score 50): neither a strength nor a "despite"
        ({"Logins": 25, "NPS": 60, "Support tickets open": 3},
         "Logins 25 (target ≥ 20) +43 pts; NPS 60 (target ≥ 50) +43 pts"),
        # green without a measure fully on target
        ({"Logins": 18, "NPS": 43, "Support tickets open": 2},
         "No measure fully on target"),
        ({"Logins": 20, "NPS": 50, "Support tickets open": 5},
         "Logins 20 (target ≥ 20) +43 pts; NPS 50 (target ≥ 50) +43 pts; "
         "despite: Support tickets open 5 (target ≤ 1)"),
    ],
)
def test_green_reasons_name_only_on_target_strengths(values: dict[str, object],
                                                     reasons: str) -> None:
    result = score_one(GREEN_MEASURES, values)
    assert result.rag is Rag.GREEN
    assert result.reasons == reasons
    assert result.next_step == ""


def test_several_measures_far_below_target_are_all_named() -> None:
    measures = [*GREEN_MEASURES,
                Measure("Exec sponsor", "Relationship", ScoringKind.CATEGORY,
                        points=(("none", 0.0), ("exec sponsor", 100.0)), weights={"": 1})]
    measures[0] = Measure("Logins", "Usage", ScoringKind.LINEAR, red_at=0, green_at=20,
                          weights={"": 9})
    result = score_one(measures, {"Logins": 30, "NPS": 60, "Support tickets open": 6,
                                  "Exec sponsor": "none"})
    assert result.rag is Rag.GREEN
    assert result.reasons == (
        "Logins 30 (target ≥ 20) +64 pts; NPS 60 (target ≥ 50) +21 pts; despite: "
        "Support tickets open 6 (target ≤ 1) and Exec sponsor none (target exec sponsor)")


def test_reasons_show_targets_per_kind() -> None:
    measures = [BANDS, CATEGORY, BOOLEAN]
    result = score_one(measures, {"Tickets": 9, "Sponsor": "single-threaded", "QBR held": "no"})
    assert result.reasons == (
        "QBR held no (target yes) −33 pts; Tickets 9 (target < 3) −27 pts; "
        "Sponsor single-threaded (target exec sponsor) −23 pts"
    )


@pytest.mark.parametrize(
    ("history", "expected"),
    [
        ([], ""),
        ([(31, 60.0)], "▲ +20"),  # before the window start: the baseline
        ([(45, 90.0), (30, 92.0), (10, 50.0)], "▼ -12"),  # last one on/before the start
        ([(10, 80.0)], "= 0"),  # none before the window: earliest inside it
        ([(0, 10.0)], ""),  # today's own row is never the baseline
        ([(40, None), (20, 70.0)], "▲ +10"),  # a day without a score is skipped
    ],
)
def test_trend(history: list[tuple[int, float | None]], expected: str) -> None:
    points = [HistoryPoint(TODAY - dt.timedelta(days=d), "C1", s) for d, s in history]
    assert trend_text(80, points, TODAY, 30) == expected


def test_trend_from_history_in_a_full_score() -> None:
    history = (HistoryPoint(TODAY - dt.timedelta(days=30), "C1", 92.0),)
    result = score_one([m("A", 1)], {"A": 80}, history=history)
    assert result.trend == "▼ -12"


@pytest.mark.parametrize(("value", "expected"), [(69.5, 70), (68.5, 69), (0.49, 0), (99.5, 100)])
def test_round_half_up(value: float, expected: int) -> None:
    assert round_score(value) == expected


GREEN_ACTIONS = [
    Measure("Logins", "Usage", ScoringKind.LINEAR, red_at=0, green_at=20, weights={"": 1},
            action_when_red="Run an adoption workshop"),
    Measure("Seats used", "Outcomes", ScoringKind.LINEAR, red_at=0, green_at=10,
            weights={"": 2}, action_when_green="Offer more seats"),
    Measure("Sponsor", "Relationship", ScoringKind.LINEAR, red_at=0, green_at=10,
            weights={"": 1}, action_when_green="Ask for a reference"),
]


@pytest.mark.parametrize(
    ("values", "rag", "next_step"),
    [
        # Green: the `Action when green` of the strongest driver (Seats adds the most points)
        ({"Logins": 20, "Seats used": 10, "Sponsor": 10}, Rag.GREEN, "Offer more seats"),
        # the strongest driver has no green action: the next one that has
        ({"Logins": 40, "Seats used": 10, "Sponsor": 10}, Rag.GREEN, "Offer more seats"),
        # Seats below its own green zone is no ground for an upsell: the sponsor's action
        ({"Logins": 20, "Seats used": 6, "Sponsor": 10}, Rag.GREEN, "Ask for a reference"),
        # Green, but no measure with a green action in its green zone: no next step
        ({"Logins": 20, "Seats used": 6, "Sponsor": 6}, Rag.GREEN, ""),
        # Red and Yellow keep the `Action when red` of the biggest drag
        ({"Logins": 0, "Seats used": 2, "Sponsor": 2}, Rag.RED, "Run an adoption workshop"),
    ],
)
def test_action_when_green_is_the_next_step_of_a_green_customer(
        values: dict[str, object], rag: Rag, next_step: str) -> None:
    result = score_one(GREEN_ACTIONS, values)
    assert result.rag is rag
    assert result.next_step == next_step
