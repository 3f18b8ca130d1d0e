"""Inputs typed into a Google Sheet read as the workbook reads them: `55%` typed in a cell
(Google stores 0.55 with a PERCENT number format) follows the same percent rule, through the
real CLI, gspread, google-auth and requests against the emulator."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from sheets_health.backends import google_http
from sheets_health.cells import Percent
from sheets_health.cli import main
from sheets_health.errors import EXIT_BAD_INPUT, EXIT_OK
from tests.contract.factories import Tabs, XlsxUnderTest
from tests.emulator import SheetsEmulator, make_service_account_key, write_key_file
from tests.sheets import valid_tabs, write_sheet
from tests.test_google_backend import seed


def adoption_tabs(red: object, green: object) -> Tabs:
    tabs = valid_tabs()
    tabs["Customers"][0].append("Adoption")
    for row in tabs["Customers"][1:]:
        row.append(None)
    tabs["Scorecard"].append(["Adoption", "Usage", "linear", red, green, 1, 1, "Workshop"])
    return tabs


@pytest.fixture
def google(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, Path]]:
    monkeypatch.setattr(google_http.time, "sleep", lambda _seconds: None)
    with SheetsEmulator() as emulator:
        key = make_service_account_key(emulator)
        write_key_file(tmp_path / "key.json", key)
        monkeypatch.setenv("SHEETS_HEALTH_API_URL", emulator.url)
        yield emulator, tmp_path


def google_config(folder: Path, spreadsheet_id: str) -> Path:
    config = folder / "sheets-health.toml"
    config.write_text(f'[sheet]\nbackend = "google"\nspreadsheet = "{spreadsheet_id}"\n'
                      'credentials = "key.json"\ntimeout = 5\n', encoding="utf-8")
    return config


def typed_sheet(emulator: SheetsEmulator, tabs: Tabs, typed: dict[str, str]) -> str:
    """Seed the sheet, then type some cells the way a person does (USER_ENTERED)."""
    spreadsheet_id = seed(emulator, tabs)
    for a1, text in typed.items():
        tab, cell = a1.split("!")
        emulator.set_value(spreadsheet_id, tab, cell, text, user_entered=True)
    return spreadsheet_id


# Customers J2:J4 hold Adoption; Scorecard D4/E4 are its Red at / Green at
TYPED_VALUES = {"Customers!J2": "90%", "Customers!J3": "35%", "Customers!J4": "55%"}


def test_percents_typed_in_google_meet_percent_thresholds(google: tuple[Any, Path]) -> None:
    emulator, folder = google
    spreadsheet_id = typed_sheet(emulator, adoption_tabs(None, None),
                                 {**TYPED_VALUES, "Scorecard!D4": "30%", "Scorecard!E4": "80%"})
    assert emulator.cell(spreadsheet_id, "Customers", "J3")["effectiveFormat"][
        "numberFormat"]["type"] == "PERCENT"  # what Google does with a typed 55%
    config = google_config(folder, spreadsheet_id)
    result = CliRunner().invoke(main, ["--config", str(config), "sync"])
    assert result.exit_code == EXIT_OK, result.output
    rows = emulator.values(spreadsheet_id, "Customers", render="UNFORMATTED_VALUE")
    col = rows[0].index("Reasons")
    reasons = {r[0]: r[col] for r in rows[1:]}
    assert "Adoption 35% (target ≥ 80%) −23 pts" in reasons["C002"]

    # the same sheet as a workbook, percents as percent-formatted cells: the same scores
    tabs = adoption_tabs(Percent(0.3), Percent(0.8))
    for row, value in zip(tabs["Customers"][1:], (0.9, 0.35, 0.55), strict=True):
        row[-1] = Percent(value)
    (folder / "xlsx").mkdir()
    workbook = write_sheet(folder / "xlsx", copy.deepcopy(tabs))
    assert CliRunner().invoke(main, ["--config", str(workbook), "sync"]).exit_code == EXIT_OK
    grid = XlsxUnderTest(folder / "xlsx" / "sheet.xlsx").cells("Customers")
    score_col = rows[0].index("Health score")
    assert {r[0]: r[score_col] for r in rows[1:]} == {
        r[0]: r[grid[0].index("Health score")] for r in grid[1:]}


def test_percents_typed_in_google_against_plain_thresholds_are_refused(
    google: tuple[Any, Path],
) -> None:
    emulator, folder = google
    spreadsheet_id = typed_sheet(emulator, adoption_tabs(30, 80), TYPED_VALUES)
    before = emulator.values(spreadsheet_id, "Customers", render="UNFORMATTED_VALUE")
    config = google_config(folder, spreadsheet_id)
    result = CliRunner().invoke(main, ["--config", str(config), "check"])
    assert result.exit_code == EXIT_BAD_INPUT
    assert ("tab 'Customers', column 'Adoption': 3 values are percents (row 2: 90%, row 3: "
            "35%, row 4: 55%) but its 'Red at' 30 and 'Green at' 80 (Scorecard row 4) are "
            "plain numbers") in result.stderr
    assert CliRunner().invoke(main, ["--config", str(config), "sync"]).exit_code == \
        EXIT_BAD_INPUT
    assert emulator.values(spreadsheet_id, "Customers", render="UNFORMATTED_VALUE") == before
