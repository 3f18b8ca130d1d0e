"""How often a sync opens the workbook, and that the read-back checks the saved file.

A full openpyxl load of a 10,000-customer workbook takes seconds; a sync makes one (shared by
its read and its write) and reads the saved temp file back read-only before it replaces the
workbook. Counted by spying on the real `load_workbook` (it still does the loading).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path
from typing import Any

import openpyxl.worksheet._writer as sheet_writer
import pytest
from openpyxl import Workbook, load_workbook

from sheets_health import commands
from sheets_health.backends import xlsx, xlsx_cells
from sheets_health.backends.xlsx import XlsxBackend
from sheets_health.errors import SheetsHealthError
from sheets_health.model import CellWrite, RowUpdate, TabPlan, WritePlan
from tests.contract.factories import make_xlsx
from tests.sheets import write_sheet

NOW = dt.datetime(2026, 11, 22, 9, 30)


@pytest.fixture
def loads(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """The keyword arguments of every `load_workbook` call the backend makes."""
    seen: list[dict[str, Any]] = []
    real = xlsx.load_workbook

    def spy(path: Any, **kwargs: Any) -> Any:
        seen.append(kwargs)
        return real(path, **kwargs)

    monkeypatch.setattr(xlsx, "load_workbook", spy)
    monkeypatch.setattr(xlsx_cells, "load_workbook", spy)  # the read-back's
    return seen


def full(loads: list[dict[str, Any]]) -> int:
    return sum(1 for kw in loads if not kw.get("read_only"))


def test_a_sync_loads_the_workbook_once_and_reads_the_saved_file_back(
    tmp_path: Path, loads: list[dict[str, Any]]
) -> None:
    config = write_sheet(tmp_path)
    report = commands.sync(config, now=NOW)
    assert report.cells_changed > 0
    assert full(loads) == 1  # read and write share one load (there were four)
    assert [kw.get("read_only") for kw in loads] == [False, True]  # + the read-back
    loads.clear()
    report = commands.sync(config, now=NOW + dt.timedelta(hours=1))
    assert report.cells_changed == 0
    assert full(loads) == 1


def test_a_dry_run_loads_the_workbook_once_and_writes_nothing(
    tmp_path: Path, loads: list[dict[str, Any]]
) -> None:
    config = write_sheet(tmp_path)
    before = hashlib.sha256((tmp_path / "sheet.xlsx").read_bytes()).hexdigest()
    commands.sync(config, dry_run=True, now=NOW)
    assert len(loads) == 1 and full(loads) == 1
    assert hashlib.sha256((tmp_path / "sheet.xlsx").read_bytes()).hexdigest() == before


GRID = [["Customer ID", "Health score", "Notes"], ["C-001", None, None], ["C-002", None, None]]
PLAN = WritePlan((TabPlan("Customers", ("Customer ID",), updates=(
    RowUpdate(2, ("C-001",), {"Health score": CellWrite(80)}),
    RowUpdate(3, ("C-002",), {"Health score": CellWrite(40)}),
)),))


def test_a_workbook_saved_between_read_and_write_is_loaded_again(tmp_path: Path) -> None:
    """Someone saves the workbook in Excel while the sync scores: their edit survives."""
    path = make_xlsx(tmp_path, {"Customers": GRID}).path
    backend = XlsxBackend(path)
    backend.read(["Customers"])
    wb = load_workbook(path)
    wb["Customers"]["C3"] = "called them today"
    wb.save(path)
    backend.apply(PLAN)
    ws = load_workbook(path)["Customers"]
    assert [ws["B2"].value, ws["B3"].value, ws["C3"].value] == [80, 40, "called them today"]


def test_a_cell_the_saved_file_lost_is_caught_and_the_workbook_left_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The read-back reads the temp file from disk: a value the writer dropped is caught,
    though the workbook in memory holds it."""
    path = make_xlsx(tmp_path, {"Customers": GRID}).path
    backend = XlsxBackend(path)
    backend.read(["Customers"])
    before = path.read_bytes()
    real = sheet_writer.write_cell

    def dropping_b3(xf: Any, worksheet: Any, cell: Any, styled: Any = None) -> None:
        if cell.coordinate != "B3":
            real(xf, worksheet, cell, styled)

    monkeypatch.setattr(sheet_writer, "write_cell", dropping_b3)
    with pytest.raises(SheetsHealthError, match=r"Customers!B3 did not read back as 40"):
        backend.apply(PLAN)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]  # no temp file left


def test_a_sync_saves_the_scores_and_the_summary_in_one_save(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Summary is drawn into the workbook the sync's write saves: one save and one
    read-back per sync, not a second pair for the Summary (at 10,000 customers each pair took
    as long as the rest of the sync)."""
    commands.demo(tmp_path, now=NOW)
    saves: list[list[str]] = []
    real = xlsx._write_workbook  # every save goes through it (a detached tab or not)

    def spy(wb: Workbook, handle: Any, *args: Any) -> Any:
        saves.append(list(wb.sheetnames))
        return real(wb, handle, *args)

    monkeypatch.setattr(xlsx, "_write_workbook", spy)
    report = commands.sync(tmp_path / "sheets-health.toml", now=NOW + dt.timedelta(days=1))
    assert report.cells_changed > 0
    assert len(saves) == 1
    book = load_workbook(tmp_path / "customers.xlsx")
    assert book["Summary"]["B1"].value == dt.datetime(2026, 11, 23)  # the Summary of this sync
    assert [r[0].value for r in book["Sync log"].iter_rows(min_row=2)][-1].date() == \
        dt.date(2026, 11, 23)
