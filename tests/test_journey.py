"""Journey stages: the `Stages` setting, the scorecard each stage chooses, the Stage shown, and
the onboarding rule (an overdue milestone makes a customer in its first stage Red)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pandas as pd
import pytest

from sheets_health.contract import read_model
from sheets_health.errors import ContractError
from sheets_health.journey import parse_stages, scorecards_for, stage_of
from sheets_health.model import (
    CellValue,
    CustomerScore,
    Override,
    Rag,
    SheetModel,
    Stage,
    Table,
)
from sheets_health.scoring import score_customers

TODAY = dt.date(2026, 11, 22)
DAY_20 = TODAY - dt.timedelta(days=20)  # 2026-11-02: Kickoff (due day 14) was due 11-16
DAY_400 = TODAY - dt.timedelta(days=400)
STAGES = "Onboarding 90, Adoption 365, Mature"
JOURNEY = (Stage("Onboarding", 90), Stage("Adoption", 365), Stage("Mature"))

# ----------------------------------------------------------------------------- the setting


@pytest.mark.parametrize(("text", "stages"), [
    (STAGES, JOURNEY),
    ("onboarding 30,mature", (Stage("onboarding", 30), Stage("mature"))),
    ("First steps 60, Steady state", (Stage("First steps", 60), Stage("Steady state"))),
    ("Onboarding 90 days, Adoption 365 days, Mature", JOURNEY),
])
def test_stages_parse(text: str, stages: tuple[Stage, ...]) -> None:
    assert parse_stages(text) == stages


@pytest.mark.parametrize(("text", "message"), [
    ("Onboarding 90, Adoption, Mature",
     "stage 'Adoption' has no day limit, but only the last stage may be open-ended"),
    ("Onboarding 90, Mature 730",
     "the last stage 'Mature 730' has a day limit: customers past day 730 would have no stage"),
    ("Onboarding 90, Adoption 60, Mature",
     "'Adoption 60' does not end after 'Onboarding 90': the days must increase"),
    ("Onboarding 90.5, Mature", "'90.5' in 'Onboarding 90.5' is not a whole number of days "
     "above 0"),
    ("Onboarding 0, Mature", "'0' in 'Onboarding 0' is not a whole number of days above 0"),
    ("90, Mature", "'90' has no stage name"),
    ("Onboarding 90, onboarding", "stage 'onboarding' is listed twice"),
    ("Mature", "'Mature' names 1 stage; a journey needs at least two"),
    ("Grow@Start 30, Mature", "stage name 'Grow@Start' holds '@', which separates outcome "
     "and stage in 'Weight: <outcome> @ <stage>'"),
])
def test_bad_stages_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(ValueError) as raised:
        parse_stages(text)
    assert str(raised.value) == message


@pytest.mark.parametrize(("start", "stage"), [
    (TODAY, "Onboarding"),  # day 0
    (TODAY + dt.timedelta(days=10), "Onboarding"),  # a start date ahead counts as day 0
    (TODAY - dt.timedelta(days=89), "Onboarding"),
    (TODAY - dt.timedelta(days=90), "Adoption"),  # "Onboarding 90": the first 90 days
    (TODAY - dt.timedelta(days=364), "Adoption"),
    (TODAY - dt.timedelta(days=365), "Mature"),
    (DAY_400, "Mature"),
    (None, None),  # no start date: no stage (the Stage column says so)
])
def test_the_stage_is_the_first_whose_limit_the_tenure_is_under(
        start: dt.date | None, stage: str | None) -> None:
    found = stage_of(JOURNEY, start, TODAY)
    assert (found.name if found else None) == stage


KEYS = ("", "Grow", "Renew", "Onboarding", "Grow @ Onboarding", "Renew @ Mature")


@pytest.mark.parametrize(("outcomes", "stage", "chosen"), [
    ((), "Onboarding", ("Onboarding",)),  # Weight: <stage>
    ((), "Adoption", ("",)),  # no Weight: Adoption → the default Weight
    ((), None, ("",)),  # no start date → the default Weight
    (("Grow",), "Onboarding", ("Grow @ Onboarding",)),  # Weight: <outcome> @ <stage> first
    (("Renew",), "Onboarding", ("Onboarding",)),  # then Weight: <stage>
    (("Renew",), "Mature", ("Renew @ Mature",)),
    (("Grow",), "Mature", ("Grow",)),  # then Weight: <outcome>
    (("Grow",), None, ("Grow",)),
    (("Grow", "Renew"), "Onboarding", ("Grow @ Onboarding", "Onboarding")),
    (("Renew", "Grow"), "Adoption", ("Renew", "Grow")),
])
def test_the_scorecard_fallback_order(outcomes: tuple[str, ...], stage: str | None,
                                      chosen: tuple[str, ...]) -> None:
    found = next((s for s in JOURNEY if s.name == stage), None)
    assert scorecards_for(outcomes, found, KEYS) == chosen


# ----------------------------------------------------------------------------- a sheet

CUSTOMER_HEADERS = ("Customer ID", "Customer", "Outcomes", "Start date", "Kickoff done",
                    "Logins 30d", "Reports built")
SCORECARD_HEADERS = ("Measure", "Dimension", "Scoring", "Red at", "Green at", "Weight",
                     "Weight: Onboarding", "Weight: Grow", "Weight: Grow @ Onboarding",
                     "Action when red")


def scorecard_rows() -> list[list[CellValue]]:
    return [
        ["Kickoff done", "Outcomes", "milestone", None, 14, None, 2, None, 2,
         "Book the kickoff call"],
        ["Logins 30d", "Usage", "linear", 0, 20, 1, 1, 1, 1, "Show them the daily digest"],
        ["Reports built", "Outcomes", "linear", 0, 10, 3, None, 3, None,
         "Build their first report with them"],
    ]


def customer_rows() -> list[list[CellValue]]:
    return [
        ["N1", "New and late", "", DAY_20, None, 16, 0],
        ["N2", "New on track", "", DAY_20, "2026-11-10", 16, 0],
        ["O1", "Old, same usage", "", DAY_400, "2025-11-01", 16, 0],
        ["G1", "Grow, onboarding", "Grow", DAY_20, "2026-11-12", 10, 0],
        ["G2", "Grow, mature", "Grow", DAY_400, "2025-11-01", 10, 0],
        ["X1", "No start date", "", None, None, 16, 5],
    ]


def tables(stages: CellValue = STAGES, customers: list[list[CellValue]] | None = None,
           scorecard: list[list[CellValue]] | None = None,
           scorecard_headers: tuple[str, ...] = SCORECARD_HEADERS,
           ) -> dict[str, Table]:
    def table(tab: str, headers: tuple[str, ...], rows: list[list[CellValue]]) -> Table:
        return Table(tab, headers, tuple(map(tuple, rows)), tuple(range(2, len(rows) + 2)))

    return {
        "Customers": table("Customers", CUSTOMER_HEADERS,
                           customer_rows() if customers is None else customers),
        "Scorecard": table("Scorecard", scorecard_headers,
                           scorecard_rows() if scorecard is None else scorecard),
        "Settings": table("Settings", ("Setting", "Value"),
                          [["Stages", stages]] if stages is not None else []),
    }


def score(model: SheetModel, today: dt.date = TODAY) -> dict[str, CustomerScore]:
    raw = pd.DataFrame({cid: dict(values) for cid, values in model.sheet_values.items()}
                       ).T.astype(object)
    return score_customers(model, raw, today)


def scored(**kw: object) -> dict[str, CustomerScore]:
    return score(read_model(tables(**kw)))  # type: ignore[arg-type]


def test_each_customer_gets_its_stage_and_that_stage_s_scorecard() -> None:
    scores = scored()
    assert {cid: s.stage for cid, s in scores.items()} == {
        "N1": "Onboarding", "N2": "Onboarding", "O1": "Mature", "G1": "Onboarding",
        "G2": "Mature", "X1": "No start date"}
    assert {cid: [o.scorecard for o in s.outcomes] for cid, s in scores.items()} == {
        "N1": ["Onboarding"], "N2": ["Onboarding"], "O1": [""], "G1": ["Grow @ Onboarding"],
        "G2": ["Grow"], "X1": [""]}


def test_healthy_at_day_20_is_not_healthy_at_day_400() -> None:
    """The same measures: kickoff done, 16 logins, no report yet. A new customer is doing
    well; one 400 days in that never built a report is not."""
    scores = scored()
    # Onboarding: Kickoff 100 × 2/3 + Logins 80 × 1/3 = 93
    assert (scores["N2"].score, scores["N2"].rag) == (93, Rag.GREEN)
    # default Weight: Logins 80 × 1/4 + Reports 0 × 3/4 = 20
    assert (scores["O1"].score, scores["O1"].rag) == (20, Rag.RED)
    assert scores["G1"].score == 83 and scores["G2"].score == 13  # Grow @ Onboarding vs Grow


def test_an_overdue_onboarding_milestone_makes_a_new_customer_red_and_says_why() -> None:
    n1 = scored()["N1"]
    # Kickoff overdue → 0 × 2/3 + Logins 80 × 1/3 = 27: Red anyway, and the reason comes first
    assert n1.rag is Rag.RED and n1.computed_rag is Rag.RED
    assert n1.reasons == ("Red: Onboarding milestone 'Kickoff done' overdue since 2026-11-16; "
                          "Kickoff done not reached, overdue −67 pts; "
                          "Logins 30d 16 (target ≥ 20) −7 pts")
    assert n1.next_step == "Book the kickoff call"


def test_the_milestone_goes_red_whatever_the_score() -> None:
    """Kickoff weighs little here: the score is Green, yet the customer is Red for it."""
    rows = scorecard_rows()
    rows[0][6] = 0.1  # Kickoff done in Weight: Onboarding
    n1 = scored(scorecard=rows)["N1"]
    assert n1.score == 73 and n1.rag is Rag.RED  # (0 × 0.1 + 80 × 1) / 1.1
    assert n1.reasons.startswith("Red: Onboarding milestone 'Kickoff done' overdue since "
                                 "2026-11-16; Logins 30d 16 (target ≥ 20) −18 pts")


def test_an_overdue_milestone_is_red_even_without_enough_data_for_a_score() -> None:
    """A fact, not a guess: the missed kickoff is known even when the score is not."""
    rows = scorecard_rows()
    rows[0][6] = 0.5  # Kickoff done: a third of Weight: Onboarding, below the 50% coverage
    customers = customer_rows()
    customers[0][5] = None  # N1's logins are missing
    n1 = scored(scorecard=rows, customers=customers)["N1"]
    assert (n1.score, n1.rag) == (None, Rag.RED)
    assert n1.reasons == ("Red: Onboarding milestone 'Kickoff done' overdue since 2026-11-16; "
                          "Not enough data: 33% of the weight has data (minimum 50%); "
                          "missing Logins 30d")
    assert n1.next_step == "Book the kickoff call"


def test_a_milestone_not_yet_due_or_past_onboarding_does_not_force_red() -> None:
    customers = customer_rows()
    customers[0][3] = TODAY - dt.timedelta(days=10)  # Kickoff due in 4 days
    customers[2][4] = None  # O1 never did the kickoff, but is long past onboarding
    scores = scored(customers=customers)
    assert scores["N1"].rag is Rag.GREEN  # Kickoff left out: Logins 80
    assert "milestone" not in scores["O1"].reasons


def test_an_override_still_wins_over_the_onboarding_rule() -> None:
    model = read_model(tables())
    n1 = next(c for c in model.customers if c.id == "N1")
    model = replace(model, customers=tuple(
        replace(c, override=Override(Rag.YELLOW, "Kickoff booked for Monday"))
        if c is n1 else c for c in model.customers))
    result = score(model)["N1"]
    assert (result.rag, result.computed_rag, result.overridden) == (Rag.YELLOW, Rag.RED, True)
    assert result.reasons.startswith("Overridden to Yellow: Kickoff booked for Monday. "
                                     "Computed 27 Red: Red: Onboarding milestone 'Kickoff done'")


def test_without_stages_nothing_changes_and_the_stage_column_is_not_ours() -> None:
    headers = tuple(h for h in SCORECARD_HEADERS if "Onboarding" not in h)
    rows = [r[:6] + r[7:8] + r[9:] for r in scorecard_rows()]
    rows[0][5] = 1  # Kickoff done in the default Weight
    scores = scored(stages=None, scorecard=rows, scorecard_headers=headers)
    assert {s.stage for s in scores.values()} == {None}
    assert [o.scorecard for o in scores["N2"].outcomes] == [""]
    assert "milestone" not in scores["N1"].reasons  # no onboarding stage, no rule


# ----------------------------------------------------------------------------- bad input


def problems(**kw: object) -> list[str]:
    with pytest.raises(ContractError) as raised:
        read_model(tables(**kw))  # type: ignore[arg-type]
    return [str(p) for p in raised.value.problems]


def test_a_bad_stages_cell_names_the_cell_and_the_fix() -> None:
    assert problems(stages="Onboarding 90, Adoption, Mature") == [
        "tab 'Settings', row 2, column 'Value': stage 'Adoption' has no day limit, but only "
        "the last stage may be open-ended. Fix: write each stage with the day it ends (days "
        "since Start date) and the last without a number, e.g. 'Onboarding 90, Adoption 365, "
        "Mature' (or clear the value)",
    ]


def test_stage_columns_must_name_a_stage_of_the_setting() -> None:
    headers = (*SCORECARD_HEADERS[:-1], "Weight: Grow @ Adoptoin", "Action when red")
    rows = [[*r[:-1], 1, r[-1]] for r in scorecard_rows()]
    assert problems(scorecard=rows, scorecard_headers=headers) == [
        "tab 'Scorecard', row 1, column 'Weight: Grow @ Adoptoin': 'Adoptoin' is not one of "
        "the stages in Settings (Onboarding, Adoption, Mature). Fix: use one of those stage "
        "names, or add the stage to 'Stages'",
    ]


def test_a_stage_column_without_the_stages_setting_is_bad_input() -> None:
    found = problems(stages=None)
    assert found == [
        "tab 'Scorecard', row 1, column 'Weight: Grow @ Onboarding': the column names stage "
        "'Onboarding', but Settings has no 'Stages' row. Fix: add a 'Stages' row to "
        "Settings, e.g. 'Onboarding 90, Adoption 365, Mature', or rename the column",
    ]


def test_an_outcome_at_a_stage_needs_the_outcome_s_own_column() -> None:
    headers = (*SCORECARD_HEADERS[:-1], "Weight: Renew @ Mature", "Action when red")
    rows = [[*r[:-1], 1, r[-1]] for r in scorecard_rows()]
    assert problems(scorecard=rows, scorecard_headers=headers) == [
        "tab 'Scorecard', row 1, column 'Weight: Renew @ Mature': outcome 'Renew' has no "
        "'Weight: Renew' column. Fix: add a 'Weight: Renew' column (its scorecard in the "
        "other stages), or fix the spelling",
    ]


def test_a_stage_is_not_an_outcome() -> None:
    customers = customer_rows()
    customers[1][2] = "onboarding"
    assert problems(customers=customers) == [
        "tab 'Customers', row 3, column 'Outcomes': 'onboarding' is a stage (Settings "
        "'Stages'), not an outcome. Fix: remove it from Outcomes: the stage follows from "
        "Start date",
    ]


def test_a_stage_scorecard_without_weights_is_bad_input() -> None:
    rows = scorecard_rows()
    for row in rows:
        row[6] = None  # nothing in Weight: Onboarding
    assert problems(scorecard=rows) == [
        "tab 'Scorecard', row 1, column 'Weight: Onboarding': no measure has a weight here, "
        "but it is the scorecard of stage Onboarding. Fix: give some measures a weight in "
        "this column, or delete it",
    ]
