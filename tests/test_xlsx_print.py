"""A workbook prints legibly: the template's print layout, applied by `init`, and wrapped
long text (with rows tall enough for it) in the cells a sync writes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from openpyxl import load_workbook

from sheets_health import commands
from sheets_health import template as T
from sheets_health.backends.xlsx import XlsxBackend
from sheets_health.backends.xlsx_print import wrapped_lines
from tests.sheets import valid_tabs, write_sheet

NOW = dt.datetime(2026, 11, 22, 9, 30, tzinfo=dt.UTC)


def test_init_gives_customers_a_legible_print_layout(tmp_path: Path) -> None:
    XlsxBackend(tmp_path / "new.xlsx").init(T.TEMPLATE)
    ws = load_workbook(tmp_path / "new.xlsx")[T.CUSTOMERS]
    assert ws.page_setup.orientation == "landscape"
    assert not ws.sheet_properties.pageSetUpPr.fitToPage  # never squeezed onto one width
    assert ws.page_setup.scale == 100
    assert ws.page_setup.pageOrder == "overThenDown"
    # the header row and the key columns repeat on every page
    assert ws.print_title_rows == "$1:$1"
    assert ws.print_title_cols == "$A:$B"
    headers = [c.value for c in ws[1]]
    for header in (T.REASONS, T.NEXT_STEP):
        letter = ws.cell(row=1, column=headers.index(header) + 1).column_letter
        assert ws.column_dimensions[letter].alignment.wrap_text, header
    # narrow tabs fit one page width and stay legible
    history = load_workbook(tmp_path / "new.xlsx")[T.HISTORY]
    assert history.sheet_properties.pageSetUpPr.fitToPage
    assert history.page_setup.fitToWidth == 1 and history.page_setup.fitToHeight == 0


def test_a_tab_that_exists_keeps_its_own_print_setup(tmp_path: Path) -> None:
    config = write_sheet(tmp_path)
    path = tmp_path / "sheet.xlsx"
    book = load_workbook(path)
    book[T.CUSTOMERS].page_setup.orientation = "portrait"
    book.save(path)
    commands.init(config)
    ws = load_workbook(path)[T.CUSTOMERS]
    assert ws.page_setup.orientation == "portrait"
    assert ws.print_title_cols is None


def test_reasons_written_by_a_sync_wrap_and_their_rows_grow(tmp_path: Path) -> None:
    config = write_sheet(tmp_path)
    commands.init(config)  # adds the output columns, wrapping Reasons and Next step
    commands.sync(config, now=NOW)
    ws = load_workbook(tmp_path / "sheet.xlsx")[T.CUSTOMERS]
    headers = [c.value for c in ws[1]]
    reasons = headers.index(T.REASONS) + 1
    width = ws.column_dimensions[ws.cell(row=1, column=reasons).column_letter].width
    for row in range(2, ws.max_row + 1):
        cell = ws.cell(row=row, column=reasons)
        assert cell.alignment.wrap_text, cell.value
        lines = wrapped_lines(str(cell.value), width)
        height = ws.row_dimensions[row].height
        assert (height or 15) >= 15 * lines, (cell.value, height)
    # C002's reasons (80 characters) take two lines of the 48-wide column
    assert wrapped_lines(str(ws.cell(row=3, column=reasons).value), width) == 2


def test_output_columns_a_sync_adds_wrap_too(tmp_path: Path) -> None:
    config = write_sheet(tmp_path)  # no init: the sync adds the output columns itself
    commands.sync(config, now=NOW)
    ws = load_workbook(tmp_path / "sheet.xlsx")[T.CUSTOMERS]
    headers = [c.value for c in ws[1]]
    reasons = ws.cell(row=3, column=headers.index(T.REASONS) + 1)
    assert reasons.alignment.wrap_text
    assert ws.column_dimensions[reasons.column_letter].width == 48
    assert ws.row_dimensions[3].height == 30  # two lines of C002's reasons


def test_rows_without_wrapped_text_keep_their_heights(tmp_path: Path) -> None:
    tabs = valid_tabs()
    config = write_sheet(tmp_path, tabs)
    path = tmp_path / "sheet.xlsx"
    commands.sync(config, now=NOW)
    book = load_workbook(path)
    book[T.SCORECARD].row_dimensions[2].height = 40  # a person's own layout
    book.save(path)
    tabs_after = load_workbook(path)[T.SCORECARD]
    assert tabs_after.row_dimensions[2].height == 40
    commands.sync(config, now=NOW + dt.timedelta(days=1))  # writes History, Sync log
    assert load_workbook(path)[T.SCORECARD].row_dimensions[2].height == 40


@pytest.mark.parametrize(("text", "width", "lines"), [
    ("", 10, 1),
    ("short", 10, 1),
    ("Automate workflows, Team collaboration", 24, 2),  # 38 letters, 26 a line
    ("one two\nthree", 48, 2),  # a line break is a line
    ("x" * 60, 10, 6),  # a word longer than the column breaks across lines
])
def test_wrapped_lines(text: str, width: float, lines: int) -> None:
    assert wrapped_lines(text, width) == lines


def test_the_summary_prints_its_lists_and_chart_not_the_charts_table(tmp_path: Path) -> None:
    """The colour-mix table sits right of the lists (column M): fitted to one page width
    with it, the lists would print small. The print area stops at the lists' last column."""
    from sheets_health.summary import build_summary
    from sheets_health.summary_sheet import MIX_COLUMN, layout

    path = tmp_path / "book.xlsx"
    XlsxBackend(path).init(T.TEMPLATE)
    sheet = layout(build_summary(roster={}, scores={}, seen=[], today=NOW.date(),
                                 window_days=30))
    assert 3 <= sheet.lists_width < MIX_COLUMN
    XlsxBackend(path).write_summary(T.SUMMARY, sheet)
    ws = load_workbook(path)[T.SUMMARY]
    letter = ws.cell(row=1, column=sheet.lists_width).column_letter
    assert ws.print_area == f"'{T.SUMMARY}'!$A$1:${letter}${len(sheet.cells)}"
    assert ws.cell(row=3, column=MIX_COLUMN + 1).value == "Colour mix over time"
