"""Plausible but tricky inputs a CS team produces: each once gave a wrong score, a crash or a
misleading message. Tests marked ``DOCUMENTS`` pin a subtle behaviour worth keeping."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from sheets_health import commands
from sheets_health.errors import ContractError
from tests.contract.factories import XlsxUnderTest
from tests.sheets import rows_by_id, valid_tabs, write_sheet

NOW = dt.datetime(2026, 11, 22, 9, 30)


def customers(tmp_path: Path) -> dict[str, dict[str, object]]:
    return rows_by_id(XlsxUnderTest(tmp_path / "sheet.xlsx").cells("Customers"))


def add_customer_column(tabs: dict, header: str, values: list[object]) -> None:
    tabs["Customers"][0].append(header)
    for row, value in zip(tabs["Customers"][1:], values, strict=True):
        row.append(value)


def measure_detail(config: Path, cid: str, measure: str) -> dict[str, object]:
    payload, _ = commands.explain(config, cid, now=NOW)
    for outcome in payload["outcomes"]:
        for m in outcome["measures"]:
            if m["measure"] == measure:
                return m
    raise AssertionError(f"{measure} not in {payload}")


# ----------------------------------------------------------------------------- milestones


def test_blank_milestone_in_a_datetime_column_is_not_reached(tmp_path: Path) -> None:
    """A 'Kickoff done' column holding date-times (e.g. pasted timestamps): the customers
    with a blank cell are read as NaT by pandas and scored as *reached* (100)."""
    tabs = valid_tabs()
    add_customer_column(tabs, "Kickoff done", [dt.datetime(2026, 2, 1, 14, 30), None, None])
    # due 30 days after Start date (2026-01-15): long overdue on 2026-11-22
    tabs["Scorecard"].append(["Kickoff done", "Outcomes", "milestone: 30", None, None, 5, 5,
                              "Run the kickoff"])
    config = write_sheet(tmp_path, tabs)
    commands.sync(config, now=NOW)  # today: crashes formatting NaT in Reasons (exit 1)
    detail = measure_detail(config, "00123", "Kickoff done")
    assert detail["sub_score"] == 0, detail  # overdue, not reached


def test_milestone_flag_zero_is_not_reached(tmp_path: Path) -> None:
    """A milestone given as a 0/1 flag (a number, as sheets and SQL sources hand it over):
    0 is parsed as the serial date 1899-12-30 and counts as reached."""
    tabs = valid_tabs()
    add_customer_column(tabs, "Kickoff done", [1, 0, 0])
    tabs["Scorecard"].append(["Kickoff done", "Outcomes", "milestone: 30", None, None, 5, 5,
                              "Run the kickoff"])
    config = write_sheet(tmp_path, tabs)
    detail = measure_detail(config, "00123", "Kickoff done")
    assert detail["sub_score"] == 0, detail


# ----------------------------------------------------------------------------- dates


def test_start_date_typed_as_a_yyyymmdd_number_is_bad_input_not_a_crash(
    tmp_path: Path,
) -> None:
    """20260115 typed into a number cell is read as a serial date ~55,000 years ahead:
    OverflowError escapes the ValueError-only handling → exit 1 'internal error'."""
    tabs = valid_tabs()
    tabs["Customers"][1][3] = 20260115
    config = write_sheet(tmp_path, tabs)
    with pytest.raises(ContractError) as info:
        commands.sync(config, now=NOW)
    assert info.value.problems[0].column == "Start date"


def test_override_until_typed_as_a_number_is_bad_input_not_a_crash(tmp_path: Path) -> None:
    tabs = valid_tabs()
    tabs["Customers"][2][4:7] = ["Green", "Exec call went well", 20261231]
    config = write_sheet(tmp_path, tabs)
    with pytest.raises(ContractError):
        commands.sync(config, now=NOW)


def test_a_mangled_history_date_is_ignored_not_fatal(tmp_path: Path) -> None:
    """_history says rows a person mangled are ignored; a yyyymmdd number crashes the sync."""
    tabs = valid_tabs()
    tabs["History"].append([20261101, "C001", 80, "Green"])
    config = write_sheet(tmp_path, tabs)
    report = commands.sync(config, now=NOW)
    assert report.scored == 3


# ----------------------------------------------------------------------------- settings


def test_green_threshold_written_as_percent_does_not_turn_everyone_green(
    tmp_path: Path,
) -> None:
    """`Green at or above` 70% / `Red below` 40% (a percent cell stores 0.7 / 0.4) is taken
    as a score of 0.7 / 0.4: a customer scoring 27 is shown Green."""
    tabs = valid_tabs()
    tabs["Settings"] = [["Setting", "Value"], ["Green at or above", "70%"],
                        ["Red below", "40%"]]
    config = write_sheet(tmp_path, tabs)
    try:
        commands.sync(config, now=NOW)
    except ContractError:
        return  # refusing the ambiguous value is fine too
    assert customers(tmp_path)["C002"]["Health"] == "Red"


# ----------------------------------------------------------------------------- measures


def test_arr_column_can_be_a_fit_measure(tmp_path: Path) -> None:
    """PRODUCT: a Measure is 'a Customers column or a metric'. ARR (a Fit measure) is a
    Customers column, yet the Scorecard says "unknown measure 'ARR'"."""
    tabs = valid_tabs()
    add_customer_column(tabs, "ARR", [120000, 8000, 40000])
    tabs["Scorecard"].append(["ARR", "Fit", "bands: 0=20, 10000=60, 50000=100", None, None,
                              1, 1, None])
    config = write_sheet(tmp_path, tabs)
    report = commands.sync(config, now=NOW)
    assert report.scored == 3


# ----------------------------------------------------------------------------- sources


def test_infinite_value_from_a_source_is_refused_with_its_location(tmp_path: Path) -> None:
    """A CSV export with 'inf' (pandas reads it as float inf) in a max/mean metric is a data
    error: refused (exit 2) naming the source, metric and customer — not a crash."""
    tabs = valid_tabs()
    tabs["Scorecard"].append(["Tickets open", "Support", "linear", 10, 0, 3, 3, "Triage"])
    (tmp_path / "tickets.csv").write_text(
        "account,open\nC001,1\nC002,inf\n00123,2\n", encoding="utf-8")
    config = write_sheet(tmp_path, tabs, """
[sources.tickets]
kind = "csv"
path = "tickets.csv"
id_column = "account"

[metrics."Tickets open"]
source = "tickets"
agg = "max"
column = "open"
""")
    with pytest.raises(ContractError) as caught:
        commands.sync(config, now=NOW)
    assert str(caught.value.problems[0]) == (
        "[sources.tickets], metric 'Tickets open' of customer C002: inf is not a finite number."
        " Fix: write a number (or leave it blank)")


# ----------------------------------------------------------------------------- milestones (2)


def test_milestone_date_in_the_future_is_not_reached(tmp_path: Path) -> None:
    """A planned go-live date (2027-03-01) typed into the milestone column counts as reached
    today: C002 (Red) turns Green with 'Go-live reached +63 pts'."""
    tabs = valid_tabs()
    add_customer_column(tabs, "Go-live",
                        [dt.date(2026, 2, 1), dt.date(2027, 3, 1), dt.date(2026, 3, 1)])
    # due 60 days after Start date (2026-01-15), i.e. 2026-03-16: overdue on 2026-11-22
    tabs["Scorecard"].append(["Go-live", "Outcomes", "milestone: 60", None, None, 5, 5,
                              "Push the go-live"])
    config = write_sheet(tmp_path, tabs)
    commands.sync(config, now=NOW)
    assert measure_detail(config, "C002", "Go-live")["sub_score"] != 100
    assert customers(tmp_path)["C002"]["Health"] == "Red"


# ----------------------------------------------------------------------------- scorecards


def test_an_empty_weight_outcome_header_is_refused_not_taken_as_the_default(
    tmp_path: Path,
) -> None:
    """A 'Weight:' column with no outcome name (a placeholder) becomes the default scorecard
    key "" and silently replaces the `Weight` column: every customer without an outcome
    turns 'Not enough data'."""
    tabs = valid_tabs()
    tabs["Scorecard"][0].append("Weight:")
    tabs["Scorecard"][1].append(None)
    tabs["Scorecard"][2].append(None)
    config = write_sheet(tmp_path, tabs)
    with pytest.raises(ContractError) as caught:
        commands.sync(config, now=NOW)
    assert [str(p) for p in caught.value.problems] == [
        "tab 'Scorecard', row 1, column 'Weight:': the column 'Weight:' names no outcome. "
        "Fix: write 'Weight: <outcome>', or delete the column"]


def test_a_scorecard_without_weights_is_named_not_reported_as_missing_data(
    tmp_path: Path,
) -> None:
    """All data is there but no measure has a default `Weight`: the row says 'Not enough
    data: 0% of the weight has data (minimum 50%)' — wrong cause, and no hint what to fix."""
    tabs = valid_tabs()
    tabs["Scorecard"][1][5] = None
    tabs["Scorecard"][2][5] = None
    config = write_sheet(tmp_path, tabs)
    with pytest.raises(ContractError) as caught:
        commands.sync(config, now=NOW)
    assert [str(p) for p in caught.value.problems] == [
        "tab 'Scorecard', column 'Weight': no measure has a weight here, but 2 customers "
        "without an outcome are scored with it (Customers rows 2, 4). Fix: give some measures "
        "a weight in this column, or name outcomes in Customers"]


# ----------------------------------------------------------------------------- reasons


def test_missing_data_is_not_listed_as_a_strength_of_a_green_customer(tmp_path: Path) -> None:
    """With `Missing data` = neutral, a Green customer's Reasons read
    '...; NPS no data (counted as 50) +17 pts': missing data presented as a driver."""
    tabs = valid_tabs()
    add_customer_column(tabs, "NPS", [None, None, None])
    tabs["Scorecard"].append(["NPS", "Sentiment", "linear", 0, 50, 1, 1, "Run a survey"])
    tabs["Settings"].append(["Missing data", "neutral"])
    config = write_sheet(tmp_path, tabs)
    commands.sync(config, now=NOW)
    row = customers(tmp_path)["C001"]
    assert row["Health"] == "Green"
    assert "no data" not in str(row["Reasons"]), row["Reasons"]


def test_reasons_fit_in_a_cell_with_a_long_override_reason(tmp_path: Path) -> None:
    """A long Override reason (fits its own cell) is copied whole into Reasons, together with
    the computed reasons. Past 32,767 characters openpyxl truncates it on read-back, the
    xlsx backend's verify fails and the whole sync aborts ("did not read back ... report
    this as a bug", exit 1) on every run: no customer gets scored. (Google Sheets' limit
    is 50,000 characters; nothing caps Reasons there either.)"""
    tabs = valid_tabs()
    tabs["Customers"][2][4:7] = ["Green", "Long story: " + "x" * 32700, None]
    config = write_sheet(tmp_path, tabs)
    commands.sync(config, now=NOW)
    assert len(str(customers(tmp_path)["C002"]["Reasons"])) <= 32767


# ----------------------------------------------------------------------------- DOCUMENTS


def test_documents_percentile_with_all_equal_values_gives_everyone_50(tmp_path: Path) -> None:
    """DOCUMENTS (passes): identical values rank everyone at the median (50). Adding such a
    measure costs every customer half its weight, and it can top a Yellow customer's
    Reasons ('Logins 5 (percentile 50 among peers) −17 pts') though nobody differs."""
    tabs = valid_tabs()
    add_customer_column(tabs, "Logins", [5, 5, 5])
    tabs["Scorecard"].append(["Logins", "Usage", "percentile", None, None, 1, 1, "Train"])
    config = write_sheet(tmp_path, tabs)
    commands.sync(config, now=NOW)
    rows = customers(tmp_path)
    assert rows["C001"]["Health score"] == 83  # was 100 without the Logins measure
    assert str(rows["00123"]["Reasons"]).startswith("Logins 5 (percentile 50 among peers)")


def test_documents_one_outcome_lacking_data_blanks_the_whole_score(tmp_path: Path) -> None:
    """DOCUMENTS (passes): several outcomes, one below minimum coverage → no score at all,
    the reasons name the outcome that lacks data (never a made-up number)."""
    tabs = valid_tabs()
    tabs["Scorecard"][0].append("Weight: Retain")
    tabs["Scorecard"][1].append(None)
    tabs["Scorecard"][2].append(None)
    add_customer_column(tabs, "Logins", [None, None, None])
    tabs["Scorecard"].append(["Logins", "Usage", "linear", 0, 10, None, None, "Train", 1])
    tabs["Customers"][2][2] = "Grow, Retain"
    config = write_sheet(tmp_path, tabs)
    commands.sync(config, now=NOW)
    row = customers(tmp_path)["C002"]
    assert row["Health score"] is None and row["Health"] == "Not enough data"
    assert str(row["Reasons"]).startswith("Not enough data for Retain: 0% of the weight")
