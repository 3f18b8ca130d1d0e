"""End-to-end syncs on a local workbook: what a CS team sees in the sheet after cron runs."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import pytest
from openpyxl import load_workbook

from sheets_health import commands
from sheets_health.config import load_config
from sheets_health.errors import LockedError, UnsafeInputError
from sheets_health.model import Fill
from sheets_health.sync import lock_path, run_lock
from tests.contract.factories import XlsxUnderTest
from tests.sheets import rows_by_id, valid_tabs, write_sheet

NOW = dt.datetime(2026, 11, 22, 9, 30)


def sheet(tmp_path: Path) -> XlsxUnderTest:
    return XlsxUnderTest(tmp_path / "sheet.xlsx")


def test_first_sync_writes_scores_colours_reasons(tmp_path: Path) -> None:
    config = write_sheet(tmp_path)
    report = commands.sync(config, now=NOW)
    assert (report.customers, report.scored, report.not_enough_data) == (3, 3, 0)
    grid = sheet(tmp_path).cells("Customers")
    headers = grid[0]
    # missing output columns were added at the right end, after the user's columns
    assert headers[-6:] == ["Health score", "Health", "Trend", "Reasons", "Next step",
                            "Scored at"]
    rows = rows_by_id(grid)
    assert rows["C001"]["Health score"] == 100 and rows["C001"]["Health"] == "Green"
    # C002 is on the Grow scorecard (Exec sponsor weighs 2): (20 + 2 * 30) / 3 = 26.7 → 27
    assert rows["C002"]["Health score"] == 27 and rows["C002"]["Health"] == "Red"
    assert rows["C002"]["Reasons"] == (
        "Exec sponsor single-threaded (target exec sponsor) −47 pts; "
        "CSM score 4 (target ≥ 8) −27 pts")
    assert rows["C002"]["Next step"] == "Find an executive sponsor"
    assert rows["00123"]["Health score"] == 65 and rows["00123"]["Health"] == "Yellow"
    assert rows["C001"]["Scored at"] == dt.datetime(2026, 11, 22, 9, 30)
    health = headers.index("Health")
    fills = [sheet(tmp_path).fill("Customers", r, health) for r in (2, 3, 4)]
    assert fills == [Fill.GREEN.value, Fill.RED.value, Fill.YELLOW.value]
    history = sheet(tmp_path).cells("History")
    assert [r[:3] for r in history[1:]] == [
        [dt.date(2026, 11, 22), "C001", 100],
        [dt.date(2026, 11, 22), "C002", 27],
        [dt.date(2026, 11, 22), "00123", 65],
    ]
    log = sheet(tmp_path).cells("Sync log")
    assert log[1][1:7] == ["sync", 3, 3, 0, report.cells_changed, "ok"]


def test_second_sync_with_nothing_changed_changes_nothing(tmp_path: Path) -> None:
    config = write_sheet(tmp_path)
    commands.sync(config, now=NOW)
    customers = sheet(tmp_path).cells("Customers")
    history = sheet(tmp_path).cells("History")
    later = NOW + dt.timedelta(hours=1)
    report = commands.sync(config, now=later)
    assert report.cells_changed == 0 and report.rows_changed == 0
    assert sheet(tmp_path).cells("Customers") == customers  # Scored at did not move
    assert sheet(tmp_path).cells("History") == history  # same day: no new History rows
    assert len(sheet(tmp_path).cells("Sync log")) == 3  # the run itself is logged


def test_dry_run_leaves_the_file_byte_for_byte(tmp_path: Path) -> None:
    config = write_sheet(tmp_path)
    workbook = tmp_path / "sheet.xlsx"
    before = hashlib.sha256(workbook.read_bytes()).hexdigest()
    report = commands.sync(config, now=NOW, dry_run=True)
    assert report.cells_changed > 0 and report.result is None
    assert hashlib.sha256(workbook.read_bytes()).hexdigest() == before


def test_a_changed_input_rewrites_only_that_row_and_todays_history(tmp_path: Path) -> None:
    config = write_sheet(tmp_path)
    commands.sync(config, now=NOW)
    under = sheet(tmp_path)
    grid = under.cells("Customers")
    grid[2][grid[0].index("CSM score")] = 8  # C002's CSM is happier
    under.edit("Customers", grid)
    report = commands.sync(config, now=NOW + dt.timedelta(hours=2))
    assert report.rows_changed == 1
    rows = rows_by_id(under.cells("Customers"))
    assert rows["C002"]["Health score"] == 53
    assert rows["C002"]["Scored at"] == dt.datetime(2026, 11, 22, 11, 30)
    assert rows["C001"]["Scored at"] == dt.datetime(2026, 11, 22, 9, 30)
    history = under.cells("History")
    assert len(history) == 4  # today's row was replaced, not duplicated
    assert history[2][1:3] == ["C002", 53]


def test_next_day_adds_history_and_trend(tmp_path: Path) -> None:
    config = write_sheet(tmp_path, extra_config="")
    commands.sync(config, now=NOW - dt.timedelta(days=30))
    under = sheet(tmp_path)
    grid = under.cells("Customers")
    grid[2][grid[0].index("CSM score")] = 8
    under.edit("Customers", grid)
    commands.sync(config, now=NOW)
    assert len(under.cells("History")) == 7
    rows = rows_by_id(under.cells("Customers"))
    assert rows["C002"]["Trend"] == "▲ +26"
    assert rows["C001"]["Trend"] == "= 0"


def test_user_cells_and_columns_are_never_touched(tmp_path: Path) -> None:
    tabs = valid_tabs()
    tabs["Customers"][0].append("My notes")
    for i, row in enumerate(tabs["Customers"][1:], start=1):
        row.append(f"note {i}")
    config = write_sheet(tmp_path, tabs)
    book = load_workbook(tmp_path / "sheet.xlsx")
    book["Customers"]["J2"] = "=LEN(B2)"  # a person's own formula in their own column
    book.save(tmp_path / "sheet.xlsx")
    commands.sync(config, now=NOW)
    under = sheet(tmp_path)
    grid = under.cells("Customers")
    notes = grid[0].index("My notes")
    assert [r[notes] for r in grid[2:]] == ["note 2", "note 3"]
    assert under.is_formula("Customers", 2, notes)
    def inputs(rows: list[list[object]]) -> list[list[object]]:
        return [[None if v == "" else v for v in r[:9]] for r in rows]

    assert inputs(grid) == inputs(tabs["Customers"])  # type: ignore[arg-type]


def test_ids_are_text_leading_zeros_matter(tmp_path: Path) -> None:
    tabs = valid_tabs()
    tabs["Customers"].append(["123", "Not Initech", "", dt.date(2026, 1, 1), None, None, None,
                              2, "none"])
    config = write_sheet(tmp_path, tabs)
    commands.sync(config, now=NOW)
    rows = rows_by_id(sheet(tmp_path).cells("Customers"))
    assert rows["00123"]["Health score"] == 65
    assert rows["123"]["Health score"] == 0


def test_not_enough_data_is_grey_with_no_number(tmp_path: Path) -> None:
    tabs = valid_tabs()
    tabs["Customers"][1][7] = None  # C001: no CSM score
    tabs["Customers"][1][8] = None  # and no sponsor
    config = write_sheet(tmp_path, tabs)
    commands.sync(config, now=NOW)
    under = sheet(tmp_path)
    grid = under.cells("Customers")
    row = rows_by_id(grid)["C001"]
    assert row["Health score"] is None
    assert row["Health"] == "Not enough data"
    assert str(row["Reasons"]).startswith("Not enough data: 0% of the weight has data")
    assert under.fill("Customers", 2, grid[0].index("Health")) == Fill.GREY.value


def test_override_colour_is_shown_and_explained(tmp_path: Path) -> None:
    tabs = valid_tabs()
    tabs["Customers"][1][4:7] = ["Red", "Champion left", dt.date(2026, 12, 31)]
    config = write_sheet(tmp_path, tabs)
    commands.sync(config, now=NOW)
    row = rows_by_id(sheet(tmp_path).cells("Customers"))["C001"]
    assert row["Health"] == "Red" and row["Health score"] == 100
    assert str(row["Reasons"]).startswith(
        "Overridden to Red until 2026-12-31: Champion left. Computed 100 Green: ")


def test_customer_list_that_shrank_by_half_is_refused_without_force(tmp_path: Path) -> None:
    tabs = valid_tabs()
    for i in range(5):
        tabs["Customers"].append([f"X{i}", "x", "", None, None, None, None, 5, "none"])
    config = write_sheet(tmp_path, tabs)
    commands.sync(config, now=NOW)
    under = sheet(tmp_path)
    under.edit("Customers", under.cells("Customers")[:3])  # a filter-and-delete accident
    before = {tab: under.cells(tab) for tab in ("Customers", "History")}
    with pytest.raises(UnsafeInputError, match="has 2 customers but the last sync saw 8"):
        commands.sync(config, now=NOW)
    assert {tab: under.cells(tab) for tab in ("Customers", "History")} == before
    log = under.cells("Sync log")  # only the refusal itself is recorded, as an error row
    assert log[-1][log[0].index("Result")] == "error" and log[-1][log[0].index("Exit code")] == 5
    report = commands.sync(config, now=NOW, force=True)
    assert report.customers == 2


def test_overlapping_runs_are_locked_out(tmp_path: Path) -> None:
    config = write_sheet(tmp_path)
    with run_lock(lock_path(load_config(config))), pytest.raises(LockedError):
        commands.sync(config, now=NOW)


def test_the_workbook_reopens_after_sync(tmp_path: Path) -> None:
    config = write_sheet(tmp_path)
    commands.sync(config, now=NOW)
    book = load_workbook(tmp_path / "sheet.xlsx")
    assert book.sheetnames == ["Customers", "Scorecard", "Settings", "History", "Sync log",
                               "Snapshots"]
