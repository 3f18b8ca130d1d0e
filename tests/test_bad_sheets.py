"""A catalogue of bad sheets: each is refused with exit code 2, a message naming tab, row and
column with the fix, and the workbook left as it was (byte for byte on `check` and a dry run;
a real sync adds only its `error` row to the Sync log)."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from sheets_health.cli import main
from sheets_health.errors import EXIT_BAD_INPUT
from tests.contract.factories import Tabs, XlsxUnderTest
from tests.sheets import column, valid_tabs, write_sheet


def set_cell(tab: str, row: int, header: str, value: object) -> Callable[[Tabs], None]:
    def edit(tabs: Tabs) -> None:
        tabs[tab][row - 1][column(tabs, tab, header)] = value  # type: ignore[call-overload]

    return edit


def drop_column(tab: str, header: str) -> Callable[[Tabs], None]:
    def edit(tabs: Tabs) -> None:
        index = column(tabs, tab, header)
        for row in tabs[tab]:
            del row[index]

    return edit


def add_row(tab: str, row: list[object]) -> Callable[[Tabs], None]:
    def edit(tabs: Tabs) -> None:
        tabs[tab].append(row)  # type: ignore[arg-type]

    return edit


def add_column(tab: str, header: object, values: list[object], at: int | None = None
               ) -> Callable[[Tabs], None]:
    """A column typed in by hand (at the right end, or inserted before 0-based ``at``)."""
    def edit(tabs: Tabs) -> None:
        for row, value in zip(tabs[tab], [header, *values], strict=False):
            row.insert(len(row) if at is None else at, value)  # type: ignore[arg-type]

    return edit


def drop_tab(tab: str) -> Callable[[Tabs], None]:
    def edit(tabs: Tabs) -> None:
        del tabs[tab]

    return edit


# name: (edit, the location the message must name, words it must contain)
BAD_SHEETS: dict[str, tuple[Callable[[Tabs], None], str, str]] = {
    "missing_required_column": (
        drop_column("Customers", "Customer ID"),
        "tab 'Customers', row 1, column 'Customer ID'",
        "required column 'Customer ID' is missing",
    ),
    "missing_tab": (drop_tab("Scorecard"), "tab 'Scorecard'", "the 'Scorecard' tab is missing"),
    "duplicate_customer_id": (
        set_cell("Customers", 3, "Customer ID", "C001"),
        "tab 'Customers', row 3, column 'Customer ID'",
        "Customer ID 'C001' is also on row 2",
    ),
    "customer_ids_differ_only_in_case": (
        set_cell("Customers", 3, "Customer ID", "c001"),
        "tab 'Customers', row 3, column 'Customer ID'",
        "Customer ID 'c001' differs only in upper/lower case from 'C001' on row 2",
    ),
    "blank_customer_id": (
        set_cell("Customers", 3, "Customer ID", None),
        "tab 'Customers', row 3, column 'Customer ID'",
        "the row has data but no Customer ID",
    ),
    "unknown_measure": (
        add_row("Scorecard", ["Logins 30d", "Usage", "linear", 0, 20, 1, 1, None]),
        "tab 'Scorecard', row 4, column 'Measure'",
        "unknown measure 'Logins 30d'",
    ),
    "log_scoring_with_a_negative_threshold": (
        lambda t: (set_cell("Scorecard", 2, "Scoring", "log")(t),
                   set_cell("Scorecard", 2, "Red at", -1)(t)),
        "tab 'Scorecard', row 2, column 'Red at'",
        "log scoring is for counts: 'Red at' and 'Green at' must be 0 or more",
    ),
    "negative_count_under_log_scoring": (
        lambda t: (set_cell("Scorecard", 2, "Scoring", "log")(t),
                   set_cell("Customers", 3, "CSM score", -4)(t)),
        "tab 'Customers', row 3, column 'CSM score'",
        "-4 is negative; log scoring is for counts (0 or more)",
    ),
    "negative_weight": (
        set_cell("Scorecard", 3, "Weight: Grow", -2),
        "tab 'Scorecard', row 3, column 'Weight: Grow'",
        "weight -2 is negative",
    ),
    "non_numeric_weight": (
        set_cell("Scorecard", 2, "Weight", "heavy"),
        "tab 'Scorecard', row 2, column 'Weight'",
        "'heavy' is not a number",
    ),
    "red_equals_green": (
        set_cell("Scorecard", 2, "Green at", 3),
        "tab 'Scorecard', row 2, column 'Green at'",
        "'Red at' equals 'Green at' (3)",
    ),
    "unknown_scoring_kind": (
        set_cell("Scorecard", 2, "Scoring", "logarithmic"),
        "tab 'Scorecard', row 2, column 'Scoring'",
        "unknown scoring kind 'logarithmic'",
    ),
    "category_value_without_mapping": (
        set_cell("Customers", 4, "Exec sponsor", "champion only"),
        "tab 'Customers', row 4, column 'Exec sponsor'",
        "'champion only' has no points in 'Exec sponsor'",
    ),
    "text_in_a_linear_measure": (
        set_cell("Customers", 2, "CSM score", "great"),
        "tab 'Customers', row 2, column 'CSM score'",
        "'great' is not a number",
    ),
    "bad_date": (
        set_cell("Customers", 3, "Start date", "31/02/2026"),
        "tab 'Customers', row 3, column 'Start date'",
        "'31/02/2026' is not a date in YYYY-MM-DD form",
    ),
    "override_without_reason": (
        set_cell("Customers", 2, "Override", "Red"),
        "tab 'Customers', row 2, column 'Override reason'",
        "override to Red has no reason",
    ),
    "bad_override_colour": (
        set_cell("Customers", 2, "Override", "Amber"),
        "tab 'Customers', row 2, column 'Override'",
        "'Amber' is not Green, Yellow or Red",
    ),
    "outcome_without_scorecard": (
        set_cell("Customers", 2, "Outcomes", "Grow, Shrink"),
        "tab 'Customers', row 2, column 'Outcomes'",
        "outcome 'Shrink' has no 'Weight: Shrink' column in Scorecard",
    ),
    "duplicate_header": (
        add_column("Customers", "CSM score", [2, 3, 4]),
        "tab 'Customers', row 1, column 'CSM score'",
        "columns H and J are both headed 'CSM score'",
    ),
    "duplicate_weight_header": (
        add_column("Scorecard", " weight", [5, 5]),
        "tab 'Scorecard', row 1, column 'Weight'",
        "columns F and I are both headed 'Weight'",
    ),
    "duplicate_settings_value": (
        add_column("Settings", "Value", [60, 30]),
        "tab 'Settings', row 1, column 'Value'",
        "columns B and C are both headed 'Value'",
    ),
    "blank_header_over_data": (
        add_column("Customers", None, ["call back", None, "renewal risk"], at=2),
        "tab 'Customers', row 1, column 'C'",
        "column C has no header but holds data (rows 2, 4)",
    ),
    "bad_setting": (
        add_row("Settings", ["Missing data", "ignore"]),
        "tab 'Settings', row 4, column 'Value'",
        "'ignore' is not one of skip, neutral, zero",
    ),
}


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("command", [["sync"], ["check"], ["sync", "--dry-run"]])
@pytest.mark.parametrize("case", sorted(BAD_SHEETS))
def test_bad_sheet_is_refused_and_left_unchanged(tmp_path: Path, case: str,
                                                 command: list[str]) -> None:
    edit, where, words = BAD_SHEETS[case]
    tabs = valid_tabs()
    edit(tabs)
    config = write_sheet(tmp_path, tabs)
    workbook = tmp_path / "sheet.xlsx"
    before = digest(workbook)
    under = XlsxUnderTest(workbook)
    tabs_before = {tab: under.cells(tab) for tab in under.tab_names()}
    result = CliRunner().invoke(main, ["--config", str(config), *command])
    assert result.exit_code == EXIT_BAD_INPUT, result.output
    assert result.stdout == ""
    assert f"{where}: {words}" in result.stderr
    assert "Fix: " in result.stderr
    assert "no score was written" in result.stderr
    if command != ["sync"]:
        assert digest(workbook) == before
        return
    # a real sync records the failed run as an `error` row in the Sync log, and nothing else
    log = tabs_before.pop("Sync log")
    assert {tab: under.cells(tab) for tab in tabs_before} == tabs_before
    [row] = under.cells("Sync log")[len(log):]
    assert row[6:9] == ["error", row[7], 2] and f"{where}: {words}" in str(row[7])
    assert re.fullmatch(r"[0-9a-f]{8}", str(row[9]))  # the run id, as the Run id column says


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    tabs = valid_tabs()
    for edit in (BAD_SHEETS["duplicate_customer_id"][0], BAD_SHEETS["negative_weight"][0],
                 BAD_SHEETS["override_without_reason"][0],
                 set_cell("Customers", 4, "Start date", "next spring")):
        edit(tabs)
    config = write_sheet(tmp_path, tabs)
    result = CliRunner().invoke(main, ["--config", str(config), "--json", "sync"])
    assert result.exit_code == EXIT_BAD_INPUT
    payload = json.loads(result.stdout)
    where = sorted((p["tab"], p["row"], p["column"]) for p in payload["problems"])
    assert where == [
        ("Customers", 2, "Override reason"),
        ("Customers", 3, "Customer ID"),
        ("Customers", 4, "Start date"),
        ("Scorecard", 3, "Weight: Grow"),
    ]
    assert payload["exit_code"] == EXIT_BAD_INPUT
    assert all(p["fix"] for p in payload["problems"])


def test_the_valid_sheet_passes(tmp_path: Path) -> None:
    config = write_sheet(tmp_path)
    result = CliRunner().invoke(main, ["--config", str(config), "check"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("OK: 3 customers, 2 measures, 1 outcome scorecards")
