"""Drawing the Summary tab in a workbook: the laid-out cells and a native stacked-column chart
of the colour mix (openpyxl), so Excel and LibreOffice show the same picture as Google."""

from __future__ import annotations

import math

from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.chart.shapes import GraphicalProperties
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from sheets_health.backends.xlsx_print import POINTS_PER_LINE, wrapped_lines
from sheets_health.model import CellValue
from sheets_health.summary_sheet import SummarySheet

_TOP = Alignment(vertical="top")
_TOP_WRAP = Alignment(vertical="top", wrap_text=True)
CHART_WIDTH_CM = 24.0
CHART_HEIGHT_CM = 8.5


def draw_summary(wb: Workbook, tab: str, sheet: SummarySheet) -> Worksheet:
    """Replace the tab (created after the last tab the first time, kept in place after)."""
    existing = next((ws for ws in wb.worksheets if ws.title.casefold() == tab.casefold()), None)
    index = wb.worksheets.index(existing) if existing is not None else len(wb.worksheets)
    if existing is not None:
        wb.remove(existing)
    ws = wb.create_sheet(tab, index)
    for r, values in enumerate(sheet.cells, start=1):
        for c, value in enumerate(values, start=1):
            if value is None:
                continue
            cell = ws.cell(row=r, column=c, value=_plain(value))
            if isinstance(value, str):
                cell.data_type = "s"  # text is never a formula
            style = sheet.styles.get((r - 1, c - 1))
            if style is None:
                cell.alignment = _TOP
                continue
            if style.bold or style.size or style.italic:
                cell.font = Font(bold=style.bold, italic=style.italic, size=style.size)
            if style.fill:
                cell.fill = PatternFill("solid", start_color=style.fill, end_color=style.fill)
            if style.number_format:
                cell.number_format = style.number_format
            cell.alignment = _TOP_WRAP if style.wrap else _TOP
    for c, width in enumerate(sheet.widths, start=1):
        ws.column_dimensions[get_column_letter(c)].width = width
    if sheet.has_chart:
        ws.add_chart(_chart(ws, sheet), f"A{sheet.chart_row + 1}")
    ws.sheet_view.showGridLines = False
    return ws


def fit_rows(ws: Worksheet, sheet: SummarySheet) -> None:
    """Rows tall enough for their wrapped Reasons (spreadsheets do not grow rows on open);
    after the print layout, which fits rows by the columns' own wrap style only."""
    lines: dict[int, int] = {}
    for (r, c), style in sheet.styles.items():
        value = sheet.cells[r][c] if c < len(sheet.cells[r]) else None
        if not style.wrap or not isinstance(value, str) or c >= len(sheet.widths):
            continue
        need = wrapped_lines(value, sheet.widths[c])
        if need > 1:
            lines[r + 1] = max(lines.get(r + 1, 1), need)
    for row, count in lines.items():
        ws.row_dimensions[row].height = math.ceil(count * 11 * POINTS_PER_LINE)


def _plain(value: CellValue) -> CellValue:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _chart(ws: Worksheet, sheet: SummarySheet) -> BarChart:
    rng = sheet.chart
    chart = BarChart()
    chart.type = "col"
    chart.grouping = "stacked"
    chart.overlap = 100
    chart.gapWidth = 40
    chart.title = sheet.chart_title
    chart.y_axis.title = "Customers"
    chart.y_axis.majorGridlines = None
    chart.x_axis.number_format = "mmm d"
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    chart.legend.position = "b"
    chart.width, chart.height = CHART_WIDTH_CM, CHART_HEIGHT_CM
    for i, col in enumerate(rng.series_columns):
        data = Reference(ws, min_col=col + 1, min_row=rng.header_row, max_row=rng.last_row)
        chart.add_data(data, titles_from_data=True)
        colour = sheet.series_colours[i % len(sheet.series_colours)]
        chart.series[-1].graphicalProperties = GraphicalProperties(solidFill=colour)
        chart.series[-1].graphicalProperties.line.solidFill = colour
    cats = Reference(ws, min_col=rng.category_column + 1, min_row=rng.first_row,
                     max_row=rng.last_row)
    chart.set_categories(cats)
    return chart
