"""The Summary tab on Google: one batchUpdate that replaces the tab (same sheet id, so links to
it keep working; its old chart goes with it), writes the laid-out cells with their formats,
sets column widths and adds a native stacked-column chart of the colour mix (`addChart`)."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from sheets_health.backends.google_grid import SERIAL_EPOCH, rgb
from sheets_health.model import CellValue
from sheets_health.summary_sheet import CellStyle, SummarySheet

JSON = dict[str, Any]
PIXELS_PER_CHARACTER = 7
CHART_WIDTH_PX = 900
CHART_HEIGHT_PX = 330


def _value(value: CellValue) -> JSON | None:
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int | float):
        return {"numberValue": value} if math.isfinite(value) else None
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return {"numberValue": (value - SERIAL_EPOCH).days}
    if isinstance(value, str) and value:
        return {"stringValue": value}  # text, never a formula
    return None


def _format(value: CellValue, style: CellStyle | None) -> JSON:
    fmt: JSON = {"verticalAlignment": "TOP"}
    pattern = style.number_format if style else None
    if pattern is None and isinstance(value, dt.date):
        pattern = "yyyy-mm-dd"
    if pattern:
        kind = "DATE" if "yy" in pattern else "NUMBER"
        fmt["numberFormat"] = {"type": kind, "pattern": pattern}
    if style is None:
        return fmt
    text: JSON = {}
    if style.bold:
        text["bold"] = True
    if style.italic:
        text["italic"] = True
    if style.size:
        text["fontSize"] = style.size
    if text:
        fmt["textFormat"] = text
    if style.fill:
        fmt["backgroundColor"] = rgb(style.fill)
    if style.wrap:
        fmt["wrapStrategy"] = "WRAP"
    return fmt


def _cell(value: CellValue, style: CellStyle | None) -> JSON:
    data: JSON = {"userEnteredFormat": _format(value, style)}
    entered = _value(value)
    if entered is not None:
        data["userEnteredValue"] = entered
    return data


def _source(sheet_id: int, col: int, first_row: int, last_row: int) -> JSON:
    """A one-column GridRange from 1-based rows ``first_row``..``last_row``."""
    return {"sources": [{"sheetId": sheet_id, "startRowIndex": first_row - 1,
                         "endRowIndex": last_row, "startColumnIndex": col,
                         "endColumnIndex": col + 1}]}


def chart_request(sheet_id: int, sheet: SummarySheet) -> JSON:
    rng = sheet.chart
    series = [{
        "series": {"sourceRange": _source(sheet_id, col, rng.header_row, rng.last_row)},
        "targetAxis": "LEFT_AXIS",
        "colorStyle": {"rgbColor": rgb(sheet.series_colours[i % len(sheet.series_colours)])},
    } for i, col in enumerate(rng.series_columns)]
    return {"addChart": {"chart": {
        "spec": {
            "title": sheet.chart_title,
            "basicChart": {
                "chartType": "COLUMN",
                "stackedType": "STACKED",
                "legendPosition": "BOTTOM_LEGEND",
                "headerCount": 1,
                "axis": [{"position": "BOTTOM_AXIS"},
                         {"position": "LEFT_AXIS", "title": "Customers"}],
                "domains": [{"domain": {"sourceRange": _source(
                    sheet_id, rng.category_column, rng.header_row, rng.last_row)}}],
                "series": series,
            },
        },
        "position": {"overlayPosition": {
            "anchorCell": {"sheetId": sheet_id, "rowIndex": sheet.chart_row, "columnIndex": 0},
            "widthPixels": CHART_WIDTH_PX, "heightPixels": CHART_HEIGHT_PX}},
    }}}


def summary_requests(sheet_id: int, title: str, index: int, exists: bool,
                     sheet: SummarySheet) -> list[JSON]:
    """Replace the tab at ``index`` with ``sheet`` (``exists``: a tab with this id is there)."""
    width = max((len(r) for r in sheet.cells), default=1)
    requests: list[JSON] = [{"deleteSheet": {"sheetId": sheet_id}}] if exists else []
    requests.append({"addSheet": {"properties": {
        "sheetId": sheet_id, "title": title, "index": index,
        "gridProperties": {"rowCount": max(len(sheet.cells) + 20, 100),
                           "columnCount": max(width, 12), "hideGridlines": True}}}})
    requests.append({"updateCells": {
        "start": {"sheetId": sheet_id, "rowIndex": 0, "columnIndex": 0},
        "rows": [{"values": [_cell(v, sheet.styles.get((r, c))) for c, v in enumerate(row)]}
                 for r, row in enumerate(sheet.cells)],
        "fields": "userEnteredValue,userEnteredFormat",
    }})
    for col, characters in enumerate(sheet.widths):
        requests.append({"updateDimensionProperties": {
            "range": {"sheetId": sheet_id, "dimension": "COLUMNS", "startIndex": col,
                      "endIndex": col + 1},
            "properties": {"pixelSize": int(characters * PIXELS_PER_CHARACTER)},
            "fields": "pixelSize",
        }})
    if sheet.has_chart:
        requests.append(chart_request(sheet_id, sheet))
    return requests
