"""Pre-flight before any write: merged cells or a protected range over tool-owned cells, and a
spreadsheet that would pass Google's cell limit, stop the sync (exit 2) before it writes —
on a Google Sheet (real gspread stack, strict emulator) and on a workbook."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gspread
import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from openpyxl.styles import Protection

from sheets_health.backends import google_http
from sheets_health.cli import main
from sheets_health.errors import ContractError
from sheets_health.model import CellWrite, Table, TabPlan, WritePlan
from sheets_health.preflight import CELL_LIMIT, check_before_write
from tests.emulator import SheetsEmulator, gspread_client, make_service_account_key, write_key_file
from tests.sheets import valid_tabs, with_action_tabs, write_sheet
from tests.test_google_backend import seed

HEALTH, REASONS = 10, 12  # 0-based columns of the output headers the first sync adds


@pytest.fixture
def google(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
           ) -> Iterator[tuple[SheetsEmulator, str, Path, dict[str, str]]]:
    """A sheet synced once (its output columns exist), then edited: C002's CSM score 8."""
    monkeypatch.setattr(google_http.time, "sleep", lambda _seconds: None)
    with SheetsEmulator() as emulator:
        key = make_service_account_key(emulator)
        write_key_file(tmp_path / "key.json", key)
        sid = seed(emulator, with_action_tabs(valid_tabs()))
        config = tmp_path / "sheets-health.toml"
        config.write_text(f'[sheet]\nbackend = "google"\nspreadsheet = "{sid}"\n'
                          f'credentials = "key.json"\napi_url = "{emulator.url}"\ntimeout = 5\n',
                          encoding="utf-8")
        assert CliRunner().invoke(main, ["--config", str(config), "sync"]).exit_code == 0
        emulator.set_value(sid, "Customers", "H3", 8)
        emulator.reset()
        yield emulator, sid, config, key


def _sync(config: Path) -> Any:
    return CliRunner().invoke(main, ["--config", str(config), "--json", "sync"])


def _problem(result: Any) -> dict[str, Any]:
    record = json.loads(result.stdout)
    assert (result.exit_code, record["exit_code"]) == (2, 2), result.output
    [problem] = record["problems"]
    return dict(problem)


def test_a_protected_output_column_stops_the_sync_before_it_writes(google: Any) -> None:
    emulator, sid, config, _key = google
    before = emulator.values(sid, "Customers", render="UNFORMATTED_VALUE")
    emulator.protect(sid, "Customers", {"startColumnIndex": HEALTH, "endColumnIndex": HEALTH + 1})
    problem = _problem(_sync(config))
    assert problem == {
        "tab": "Customers", "row": 1, "column": "Health",
        "message": "a protected range at K1:K covers the tool-owned column 'Health', so the "
                   "sync's write would fail or be hidden; nothing was written",
        "fix": "ask the spreadsheet's owner to remove the protection (Data → Protect sheets and "
               "ranges) or to add the service account as an editor of the range"}
    assert emulator.values(sid, "Customers", render="UNFORMATTED_VALUE") == before
    writes = [r for r in emulator.api_requests() if "batchUpdate" in str(r.method_id)]
    assert len(writes) == 1  # the Sync log's error row only


def test_the_pre_flight_costs_no_request(google: Any) -> None:
    emulator, _sid, config, _key = google
    assert _sync(config).exit_code == 0
    assert [str(r.method_id) for r in emulator.api_requests()] == [
        "sheets.spreadsheets.get", "sheets.spreadsheets.batchUpdate",  # the read, the claim
        "sheets.spreadsheets.batchUpdate"]


@pytest.mark.parametrize("how", ["editor", "warning-only", "input-column"])
def test_protection_that_does_not_stop_the_account_is_fine(google: Any, how: str) -> None:
    emulator, sid, config, key = google
    if how == "editor":
        emulator.protect(sid, "Customers", None, editors=(key["client_email"],))
    elif how == "warning-only":
        emulator.protect(sid, "Customers", None, warning_only=True)
    else:  # people protect the ids and names; the tool never writes there
        emulator.protect(sid, "Customers", {"startColumnIndex": 0, "endColumnIndex": 2})
    result = _sync(config)
    assert result.exit_code == 0, result.output
    health = emulator.values(sid, "Customers", render="UNFORMATTED_VALUE")[2][HEALTH]
    assert health == "Yellow"  # C002, 27 → 53


def test_merged_output_cells_stop_the_sync(google: Any) -> None:
    emulator, sid, config, _key = google
    emulator.merge(sid, "Customers", {"startRowIndex": 1, "endRowIndex": 3,
                                      "startColumnIndex": REASONS, "endColumnIndex": REASONS + 2})
    problem = _problem(_sync(config))
    assert (problem["tab"], problem["row"], problem["column"]) == ("Customers", 2, "Reasons")
    assert problem["message"].startswith("merged cells at M2:N3 cover the tool-owned column "
                                         "'Reasons'")
    assert problem["fix"] == "select them and choose Format → Merge cells → Unmerge"


def test_a_protected_history_tab_stops_the_sync(google: Any) -> None:
    emulator, sid, config, _key = google
    emulator.protect(sid, "History")
    problem = _problem(_sync(config))
    assert (problem["tab"], problem["column"]) == ("History", "Health score")
    assert problem["message"].startswith("a protected range at the whole tab covers the "
                                         "tool-owned column 'Health score'")


def test_the_emulator_refuses_a_write_into_a_protected_range_as_google_does(
        google: Any) -> None:
    """What the pre-flight prevents: Google answers 400 and applies nothing."""
    emulator, sid, _config, key = google
    emulator.protect(sid, "Customers", {"startColumnIndex": HEALTH, "endColumnIndex": HEALTH + 1})
    sheet = gspread_client(emulator.url, key).open_by_key(sid).worksheet("Customers")
    with pytest.raises(gspread.exceptions.APIError) as raised:
        sheet.update_acell("K2", "Red")
    assert raised.value.response.status_code == 400
    assert "protected cell" in str(raised.value)
    sheet.update_acell("A10", "C999")  # outside the range: fine
    assert emulator.values(sid, "Customers")[1][HEALTH] == "Green"


# ----------------------------------------------------------------------------- workbook


def _workbook(tmp_path: Path) -> tuple[Path, Path]:
    config = write_sheet(tmp_path)
    assert CliRunner().invoke(main, ["--config", str(config), "sync"]).exit_code == 0
    path = tmp_path / "sheet.xlsx"
    wb = load_workbook(path)
    wb["Customers"]["H3"] = 8
    wb.save(path)
    return config, path


def test_merged_output_cells_in_a_workbook(tmp_path: Path) -> None:
    config, path = _workbook(tmp_path)
    wb = load_workbook(path)
    wb["Customers"].merge_cells("K2:K3")
    wb.save(path)
    kept = path.read_bytes()
    problem = _problem(_sync(config))
    assert (problem["tab"], problem["row"], problem["column"]) == ("Customers", 2, "Health")
    assert problem["message"].startswith("merged cells at K2:K3 cover")
    assert problem["fix"] == "select them and choose Home → Merge & Center → Unmerge Cells"
    wb = load_workbook(path)
    assert wb["Customers"]["H3"].value == 8 and wb["Customers"]["K3"].value is None
    assert path.read_bytes() != kept  # only the Sync log's error row was added
    assert wb["Sync log"].max_row == 3


def test_a_protected_workbook_tab_and_its_unlocked_columns(tmp_path: Path) -> None:
    config, path = _workbook(tmp_path)
    wb = load_workbook(path)
    wb["Customers"].protection.sheet = True
    wb.save(path)
    problem = _problem(_sync(config))
    assert problem["message"].startswith("a protected tab at A2:O covers the tool-owned column "
                                         "'Health score'")
    wb = load_workbook(path)
    ws = wb["Customers"]
    for row in ws.iter_rows(min_row=2, max_row=ws.max_row, min_col=10, max_col=15):
        for cell in row:
            cell.protection = Protection(locked=False)  # the team unlocked the tool's columns
    wb.save(path)
    assert _sync(config).exit_code == 0
    assert load_workbook(path)["Customers"]["K3"].value == "Yellow"


# ----------------------------------------------------------------------------- cell limit


def _history(rows: int, cols: int, last_row: int) -> Table:
    return Table("History", ("Date", "Customer ID", "Health score", "Health"),
                 rows=((None,) * 4,), row_numbers=(last_row,), grid=(rows, cols))


@pytest.mark.parametrize(("grid_rows", "appends", "refused"), [
    (999_990, 0, False),   # 9,999,900 cells, nothing added
    (999_990, 10, False),  # the new rows fit in the grid's empty rows
    (999_990, 200, True),  # 100 rows past the grid: 10,000,900 cells
    (500_000, 200, False),
])
def test_a_sync_that_would_pass_googles_cell_limit_is_refused(
        grid_rows: int, appends: int, refused: bool) -> None:
    history = _history(grid_rows, 10, last_row=grid_rows - 100)
    plan = WritePlan((TabPlan("History", appends=tuple(
        {"Date": CellWrite("2026-11-22")} for _ in range(appends))),))
    if not refused:
        check_before_write(plan, {"History": history})
        return
    with pytest.raises(ContractError) as raised:
        check_before_write(plan, {"History": history})
    [problem] = raised.value.problems
    assert problem.tab == "History"
    assert problem.message == (
        f"the spreadsheet would hold 10,000,900 cells after this sync, more than Google's "
        f"{CELL_LIMIT:,}-cell limit (History alone is 999,990 rows × 10 columns); nothing was "
        "written")
    assert problem.fix.startswith("set 'History days kept' in Settings")
