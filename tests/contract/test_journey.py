"""Contract: journey stages on every backend — the Stage column a sync adds and keeps up to
date as customers age, the scorecard each stage chooses, and a customer in its first weeks
with an overdue onboarding milestone shown Red for that reason."""

from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path

from sheets_health.config import Config, config_from_dict
from sheets_health.model import CellValue, Fill
from sheets_health.sync import run_sync
from sheets_health.template import (
    ALERT_HEADERS,
    CUSTOMERS,
    OUTPUT_COLUMNS,
    SNAPSHOT_HEADERS,
    tab_template,
)

from .conftest import Make
from .factories import BackendUnderTest, Tabs
from .helpers import assert_grid

NOW = dt.datetime(2026, 11, 22, 9, 30)
DAY_20 = dt.date(2026, 11, 2)  # 20 days before NOW: Kickoff (due day 14) was due 11-16
DAY_400 = dt.date(2025, 10, 18)
KICKOFF = 3  # the `Kickoff done` column of CUSTOMERS


def _config(tmp_path: Path) -> Config:
    raw = tomllib.loads('[sheet]\nbackend = "xlsx"\npath = "sheet.xlsx"\n')
    return config_from_dict(raw, tmp_path)


def _tabs(stages: str | None = "Onboarding 90, Adoption 365, Mature") -> Tabs:
    settings: list[list[CellValue]] = [["Setting", "Value"]]
    if stages:
        settings.append(["Stages", stages])
    return {
        "Customers": [
            ["Customer ID", "Customer", "Start date", "Kickoff done", "Logins 30d",
             "Reports built"],
            ["N1", "Newco (late kickoff)", DAY_20, None, 16, 0],
            ["N2", "Freshco", DAY_20, dt.date(2026, 11, 10), 16, 0],
            ["O1", "Oldco", DAY_400, dt.date(2025, 10, 30), 16, 0],
        ],
        "Scorecard": [
            ["Measure", "Dimension", "Scoring", "Red at", "Green at", "Weight",
             "Weight: Onboarding", "Action when red"],
            ["Kickoff done", "Outcomes", "milestone", None, 14, None, 2,
             "Book the kickoff call"],
            ["Logins 30d", "Usage", "linear", 0, 20, 1, 1, "Show them the daily digest"],
            ["Reports built", "Outcomes", "linear", 0, 10, 3, None,
             "Build their first report with them"],
        ],
        "Settings": settings,
        "History": [["Date", "Customer ID", "Health score", "Health"]],
        "Sync log": [["Run at", "Mode", "Customers", "Scored", "Not enough data",
                      "Cells changed", "Result", "Message"]],
        "Snapshots": [list(SNAPSHOT_HEADERS)],  # the tool-owned tabs, as `init` makes them
        "Alerts": [list(ALERT_HEADERS)],
        "Summary": [],
    }


def _rows(sheet: BackendUnderTest) -> dict[str, dict[str, CellValue]]:
    grid = sheet.cells("Customers")
    headers = [str(h) for h in grid[0]]
    return {str(r[0]): dict(zip(headers, r, strict=False)) for r in grid[1:]}


def _health_fill(sheet: BackendUnderTest, row: int) -> str | None:
    return sheet.fill("Customers", row, sheet.cells("Customers")[0].index("Health"))


def test_a_new_customer_with_an_overdue_onboarding_milestone_goes_red_for_that_reason(
        backend_factory: Make, tmp_path: Path) -> None:
    sheet = backend_factory(_tabs())
    run_sync(_config(tmp_path), backend=sheet.backend, now=NOW)
    assert sheet.cells("Customers")[0][-len(OUTPUT_COLUMNS):] == list(OUTPUT_COLUMNS)
    rows = _rows(sheet)
    assert rows["N1"]["Stage"] == "Onboarding"
    assert rows["N1"]["Health"] == "Red" and _health_fill(sheet, 2) == Fill.RED.value
    assert str(rows["N1"]["Reasons"]).startswith(
        "Red: Onboarding milestone 'Kickoff done' overdue since 2026-11-16; ")
    assert rows["N1"]["Next step"] == "Book the kickoff call"
    # the same usage, kickoff done: healthy at day 20, not at day 400 (no report built)
    assert (rows["N2"]["Stage"], rows["N2"]["Health score"], rows["N2"]["Health"]) == (
        "Onboarding", 93, "Green")
    assert (rows["O1"]["Stage"], rows["O1"]["Health score"], rows["O1"]["Health"]) == (
        "Mature", 20, "Red")
    assert "milestone" not in str(rows["O1"]["Reasons"])


def test_the_kickoff_done_and_the_stage_moving_on_are_written_and_then_nothing(
        backend_factory: Make, tmp_path: Path) -> None:
    sheet = backend_factory(_tabs())
    config = _config(tmp_path)
    run_sync(config, backend=sheet.backend, now=NOW)
    grid = sheet.cells("Customers")
    grid[1][KICKOFF] = dt.date(2026, 11, 23)  # the kickoff happened
    sheet.edit("Customers", grid)
    later = NOW + dt.timedelta(days=1)
    run_sync(config, backend=sheet.backend, now=later)
    rows = _rows(sheet)
    assert (rows["N1"]["Health score"], rows["N1"]["Health"]) == (93, "Green")
    assert "milestone" not in str(rows["N1"]["Reasons"])
    assert _health_fill(sheet, 2) == Fill.GREEN.value
    # 70 days on N1 and N2 are past onboarding: the default scorecard (no report: Red)
    adoption = NOW + dt.timedelta(days=70)
    run_sync(config, backend=sheet.backend, now=adoption)
    rows = _rows(sheet)
    assert [rows[c]["Stage"] for c in ("N1", "N2", "O1")] == ["Adoption", "Adoption", "Mature"]
    assert [rows[c]["Health score"] for c in ("N1", "N2", "O1")] == [20, 20, 20]
    assert rows["N2"]["Scored at"] == adoption.replace(second=0, microsecond=0)
    assert rows["O1"]["Scored at"] == later  # unchanged since its Trend became "= 0"
    report = run_sync(config, backend=sheet.backend, now=adoption)
    assert report.cells_changed == 0


def test_without_stages_a_column_of_your_own_named_stage_is_left_alone(
        backend_factory: Make, tmp_path: Path) -> None:
    tabs = _tabs(stages=None)
    tabs["Scorecard"] = [[*r[:6], r[7]] for r in tabs["Scorecard"]]  # no Weight: Onboarding
    tabs["Scorecard"][1][5] = 1  # Kickoff done in the default Weight
    tabs["Customers"][0].append("Stage")
    for row, stage in zip(tabs["Customers"][1:], ("trial", "paid", "paid"), strict=True):
        row.append(stage)
    sheet = backend_factory(tabs)
    run_sync(_config(tmp_path), backend=sheet.backend, now=NOW)
    rows = _rows(sheet)
    assert [rows[c]["Stage"] for c in ("N1", "N2", "O1")] == ["trial", "paid", "paid"]
    assert not str(rows["N1"]["Reasons"]).startswith("Red:")  # no onboarding stage, no rule
    assert rows["N1"]["Health"] == "Red"  # the milestone still costs its points


def test_init_adds_the_stage_column_to_an_existing_customers_tab(
        backend_factory: Make) -> None:
    headers = [h for h in tab_template(CUSTOMERS).headers if h != "Stage"]
    row: list[CellValue] = ["C1", "Acme", *[None] * (len(headers) - 2)]
    sheet = backend_factory({"Customers": [headers, row]})
    changes = sheet.backend.init([tab_template(CUSTOMERS)])
    assert [c for c in changes if c.startswith("added column")] == [
        "added column Stage to Customers"]
    assert_grid(sheet.cells("Customers"), [[*headers, "Stage"], ["C1", "Acme"]])


def test_a_customer_without_a_start_date_is_shown_and_warned_about(
        backend_factory: Make, tmp_path: Path) -> None:
    tabs = _tabs()
    tabs["Customers"].append(["X1", "Nodate", None, None, 16, 5])
    sheet = backend_factory(tabs)
    report = run_sync(_config(tmp_path), backend=sheet.backend, now=NOW)
    x1 = _rows(sheet)["X1"]
    # the default Weight: Logins 80 × 1/4 + Reports 50 × 3/4 = 57.5 → 58
    assert (x1["Stage"], x1["Health score"], x1["Health"]) == ("No start date", 58, "Yellow")
    assert report.warnings == (
        "1 customer without a Start date (Customers row 5) has no journey stage: Stage says "
        "'No start date' and the stage scorecards do not apply; fill in Start date",)
