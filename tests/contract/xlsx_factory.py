"""The xlsx backend in the contract suite: workbooks seeded and inspected with openpyxl."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import MergedCell
from openpyxl.styles import PatternFill
from openpyxl.styles.numbers import is_date_format, is_datetime
from openpyxl.utils import get_column_letter

from sheets_health.backends.base import Backend
from sheets_health.backends.xlsx import XlsxBackend
from sheets_health.cells import Percent
from sheets_health.model import CellValue

from .under_test import BackendFactory, Chart, Dropdown, Tabs


def write_xlsx_cell(ws: object, row: int, col: int, value: CellValue) -> None:
    """Seed a value with openpyxl directly (text never becomes a formula)."""
    cell = ws.cell(row=row, column=col + 1)  # type: ignore[attr-defined]
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"
    elif isinstance(value, Percent):  # typed as 55%: a percent-formatted 0.55
        cell.number_format = "0%" if float(value * 100).is_integer() else "0.0%"
    elif isinstance(value, dt.datetime):
        cell.number_format = "yyyy-mm-dd hh:mm"
    elif isinstance(value, dt.date):
        cell.number_format = "yyyy-mm-dd"


def _plain(value: object, number_format: str) -> CellValue:
    if isinstance(value, dt.datetime):
        kind = is_datetime(number_format) if is_date_format(number_format) else None
        if value.time() == dt.time() and kind != "datetime":
            return value.date()
    return value  # type: ignore[return-value]


class XlsxUnderTest:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._backend = XlsxBackend(path)
        self._loaded: tuple[tuple[int, int], Workbook] | None = None

    @property
    def backend(self) -> Backend:
        return self._backend

    def _book(self) -> Workbook:
        """The workbook as saved now: loaded again only when the file changed (the checks
        read it, never write it)."""
        stat = self.path.stat()
        version = (stat.st_mtime_ns, stat.st_size)
        if self._loaded is None or self._loaded[0] != version:
            self._loaded = (version, load_workbook(self.path))
        return self._loaded[1]

    def cells(self, tab: str) -> list[list[CellValue]]:
        ws = self._book()[tab]
        grid = [
            [None if isinstance(c, MergedCell) else _plain(c.value, c.number_format) for c in row]
            for row in ws.iter_rows()
        ]
        grid = [[None if v == "" else v for v in row] for row in grid]
        while grid and all(v is None for v in grid[-1]):
            grid.pop()
        width = max((i + 1 for row in grid for i, v in enumerate(row) if v is not None), default=0)
        return [row[:width] for row in grid]

    def charts(self, tab: str) -> list[Chart]:
        from openpyxl.utils.cell import range_boundaries

        found = []
        for chart in self._book()[tab]._charts:
            series = []
            for s in chart.series:
                _c, top, _c2, _r = range_boundaries(s.tx.strRef.f.split("!")[1].replace("$", ""))
                col, first, _c3, last = range_boundaries(
                    s.val.numRef.f.split("!")[1].replace("$", ""))
                series.append((top, col - 1, first, last))
            ref = chart.series[0].cat.numRef or chart.series[0].cat.strRef
            col, first, _c4, last = range_boundaries(ref.f.split("!")[1].replace("$", ""))
            kind = f"{chart.grouping} column" if chart.type == "col" else chart.type
            found.append(Chart(kind.replace("clustered ", ""), tuple(series),
                               (col - 1, first, last), chart.anchor._from.row + 1))
        return found

    def fill(self, tab: str, row: int, col: int) -> str | None:
        fill = self._book()[tab].cell(row=row, column=col + 1).fill
        if fill.fill_type != "solid" or fill.fgColor.type != "rgb":
            return None
        rgb = str(fill.fgColor.rgb)[-6:].upper()
        return None if rgb == "FFFFFF" else rgb

    def is_formula(self, tab: str, row: int, col: int) -> bool:
        return bool(self._book()[tab].cell(row=row, column=col + 1).data_type == "f")

    def dropdown(self, tab: str, row: int, col: int) -> Dropdown | None:
        ws = self._book()[tab]
        coordinate = f"{get_column_letter(col + 1)}{row}"
        for dv in ws.data_validations.dataValidation:
            if dv.type == "list" and coordinate in dv.sqref:
                values = tuple(str(dv.formula1).strip('"').split(","))
                return Dropdown(values, bool(dv.showErrorMessage))
        return None

    def frozen_rows(self, tab: str) -> int:
        pane = self._book()[tab].freeze_panes
        return 0 if not pane else int("".join(ch for ch in pane if ch.isdigit())) - 1

    def tab_names(self) -> list[str]:
        return list(self._book().sheetnames)

    def edit(self, tab: str, rows: list[list[CellValue]]) -> None:
        self._loaded = None  # edited below: never the copy the checks read
        wb = load_workbook(self.path)
        ws = wb[tab]
        for row in ws.iter_rows():
            for cell in row:
                if not isinstance(cell, MergedCell):
                    cell.value = None
        for r, values in enumerate(rows, start=1):
            for c, value in enumerate(values):
                write_xlsx_cell(ws, r, c, value)
        wb.save(self.path)

    def set_fill(self, tab: str, row: int, col: int, rgb: str) -> None:
        self._loaded = None
        wb = load_workbook(self.path)
        fill = PatternFill(fill_type="solid", fgColor="FF" + rgb, bgColor="FF" + rgb)
        wb[tab].cell(row=row, column=col + 1).fill = fill
        wb.save(self.path)


def make_xlsx(tmp_path: Path, tabs: Tabs) -> XlsxUnderTest:
    path = tmp_path / "sheet.xlsx"
    wb = Workbook()
    wb.remove(wb.active)
    for name, rows in tabs.items():
        ws = wb.create_sheet(name)
        for r, values in enumerate(rows, start=1):
            for c, value in enumerate(values):
                if value is not None:
                    write_xlsx_cell(ws, r, c, value)
    if not tabs:
        wb.create_sheet("Other")
    wb.save(path)
    return XlsxUnderTest(path)


FACTORIES: list[BackendFactory] = [BackendFactory("xlsx", make_xlsx)]
