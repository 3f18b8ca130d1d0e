"""spreadsheets.values.*: read, write, append and clear A1 ranges."""

from __future__ import annotations

import copy
from typing import Any

from . import cells as cv
from .a1 import format_range, index_to_col
from .grid import GridError, Sheet, Spreadsheet

JSON = dict[str, Any]


def _first(params: dict[str, list[str]], name: str, default: str) -> str:
    values = params.get(name)
    return values[-1] if values else default


def _true(params: dict[str, list[str]], name: str) -> bool:
    return _first(params, name, "false").lower() == "true"


def render_range(ss: Spreadsheet, sheet: Sheet, r0: int, r1: int, c0: int, c1: int,
                 major: str, value_render: str, dt_render: str) -> JSON:
    """A ValueRange with Google's trimming: no trailing empty cells or rows, no
    ``values`` key at all when nothing is left."""
    ss.fresh_read()
    grid: list[list[Any]] = []
    for r in range(r0, r1):
        row = []
        for c in range(c0, c1):
            user, effective, formatted, nf = ss.cell_parts_at(sheet, r, c)
            row.append(cv.render(user, effective, formatted, nf, value_render, dt_render))
        grid.append(row)
    if major == "COLUMNS":
        grid = [list(col) for col in zip(*grid, strict=False)] if grid else []
    rows: list[list[Any]] = []
    for row in grid:
        while row and row[-1] is None:
            row.pop()
        rows.append(["" if v is None else v for v in row])
    while rows and not rows[-1]:
        rows.pop()
    out: JSON = {"range": format_range(sheet.title, r0, r1, c0, c1), "majorDimension": major}
    if rows:
        out["values"] = rows
    return out


def get(ss: Spreadsheet, range_text: str, params: dict[str, list[str]]) -> JSON:
    sheet, r0, r1, c0, c1 = ss.resolve(range_text)
    return render_range(ss, sheet, r0, r1, c0, c1, _major(_first(params, "majorDimension", "ROWS")),
                        _first(params, "valueRenderOption", "FORMATTED_VALUE"),
                        _first(params, "dateTimeRenderOption", "SERIAL_NUMBER"))


def batch_get(ss: Spreadsheet, params: dict[str, list[str]]) -> JSON:
    out: JSON = {"spreadsheetId": ss.spreadsheet_id}
    ranges = params.get("ranges", [])
    if ranges:
        out["valueRanges"] = [get(ss, text, params) for text in ranges]
    return out


def _major(value: str | None) -> str:
    return "COLUMNS" if value == "COLUMNS" else "ROWS"


def _check_cells(values: list[Any]) -> None:
    for i, row in enumerate(values):
        if not isinstance(row, list):
            raise GridError(f"Invalid values[{i}]: {row!r}")
        for j, value in enumerate(row):
            if isinstance(value, list):
                raise GridError(f"Invalid values[{i}][{j}]: list_value {{\n}}\n")
            if isinstance(value, dict):
                raise GridError(f"Invalid values[{i}][{j}]: struct_value {{\n}}\n")


def write(ss: Spreadsheet, range_text: str, body: JSON, input_option: str, *,
          grow: bool = False, anchor: tuple[Sheet, int, int] | None = None,
          render: tuple[str, str] | None = None) -> JSON:
    """Write a ValueRange; returns an UpdateValuesResponse.

    ``anchor`` (sheet, row, col) overrides where writing starts (append)."""
    if input_option not in ("RAW", "USER_ENTERED"):
        raise GridError("Invalid valueInputOption: INPUT_VALUE_OPTION_UNSPECIFIED")
    values = body.get("values") or []
    _check_cells(values)
    if _major(body.get("majorDimension")) == "COLUMNS":
        width = max((len(col) for col in values), default=0)
        values = [[col[i] if i < len(col) else None for col in values] for i in range(width)]
    if anchor is not None:
        sheet, r0, c0 = anchor
        r1, c1 = r0 + max(len(values), 1), c0 + max((len(r) for r in values), default=1)
        bounded = False
    else:
        sheet, r0, r1, c0, c1 = ss.resolve(range_text, clip=False)
        bounded = True
    height = len(values)
    width = max((len(r) for r in values), default=0)
    single = r1 - r0 == 1 and c1 - c0 == 1 and ":" not in range_text.rsplit("!", 1)[-1]
    if bounded and not single:
        limit = format_range(sheet.title, r0, r1, c0, c1)
        if height > r1 - r0:
            raise GridError(f"Requested writing within range [{limit}], but tried writing to row "
                            f"[{r0 + height}]")
        if width > c1 - c0:
            raise GridError(f"Requested writing within range [{limit}], but tried writing to "
                            f"column [{index_to_col(c0 + width - 1)}]")
    need_rows, need_cols = r0 + height, c0 + width
    if need_rows > sheet.row_count or need_cols > sheet.col_count:
        if not grow:
            cells = format_range(sheet.title, r0, max(need_rows, r0 + 1), c0,
                                 max(need_cols, c0 + 1)).rsplit("!", 1)[1]
            raise GridError(f"Range ('{sheet.title}'!{cells}) exceeds grid limits. "
                            f"Max rows: {sheet.row_count}, max columns: {sheet.col_count}")
        sheet.resize(rows=max(sheet.row_count, need_rows), cols=max(sheet.col_count, need_cols))
    user_entered = input_option == "USER_ENTERED"
    count = 0
    for i, row in enumerate(values):
        for j, value in enumerate(row):
            if value is None:
                continue
            count += 1
            cell = copy.deepcopy(sheet.get(r0 + i, c0 + j) or {})
            user, number_format = cv.parse_input(value, user_entered)
            if user is None:
                cell.pop("userEnteredValue", None)
            else:
                cell["userEnteredValue"] = user
            if number_format and not cell.get("userEnteredFormat", {}).get("numberFormat"):
                cell.setdefault("userEnteredFormat", {})["numberFormat"] = number_format
            sheet.put(r0 + i, c0 + j, cell)
    out: JSON = {"spreadsheetId": ss.spreadsheet_id}
    if height and width:
        written = format_range(sheet.title, r0, r0 + height, c0, c0 + width)
        touched = [(i, j) for i, row in enumerate(values) for j, v in enumerate(row)
                   if v is not None]
        out.update(updatedRange=written, updatedRows=len({i for i, _ in touched}),
                   updatedColumns=len({j for _, j in touched}), updatedCells=count)
        if render is not None:
            out["updatedData"] = render_range(ss, sheet, r0, r0 + height, c0, c0 + width,
                                              _major(body.get("majorDimension")), *render)
    else:
        out["updatedRange"] = format_range(sheet.title, r0, r0 + 1, c0, c0 + 1)
    return out


def _response_render(params: dict[str, list[str]] | JSON,
                     in_body: bool = False) -> tuple[str, str] | None:
    if in_body:
        body: JSON = dict(params)
        if not body.get("includeValuesInResponse"):
            return None
        return (body.get("responseValueRenderOption") or "FORMATTED_VALUE",
                body.get("responseDateTimeRenderOption") or "SERIAL_NUMBER")
    q: dict[str, list[str]] = dict(params)
    if not _true(q, "includeValuesInResponse"):
        return None
    return (_first(q, "responseValueRenderOption", "FORMATTED_VALUE"),
            _first(q, "responseDateTimeRenderOption", "SERIAL_NUMBER"))


def _require_input_option(value: str | None) -> str:
    if not value:
        raise GridError("'valueInputOption' is required but not specified")
    return value


def update(ss: Spreadsheet, range_text: str, params: dict[str, list[str]], body: JSON) -> JSON:
    option = _require_input_option(_first(params, "valueInputOption", ""))
    if body.get("range") and body["range"] != range_text:
        a = ss.resolve(body["range"], clip=False)
        b = ss.resolve(range_text, clip=False)
        if a != b:
            raise GridError(f"Requested range [{body['range']}] must match the URL range "
                            f"[{range_text}]")
    return write(ss, range_text, body, option, render=_response_render(params))


def batch_update(ss: Spreadsheet, body: JSON) -> JSON:
    option = _require_input_option(body.get("valueInputOption"))
    render = _response_render(body, in_body=True)
    responses = [write(ss, vr.get("range", ""), vr, option, render=render)
                 for vr in body.get("data") or []]
    out: JSON = {"spreadsheetId": ss.spreadsheet_id}
    if responses:
        sheets = {r["updatedRange"].rsplit("!", 1)[0] for r in responses if "updatedRows" in r}
        out.update(totalUpdatedRows=sum(r.get("updatedRows", 0) for r in responses),
                   totalUpdatedColumns=max(r.get("updatedColumns", 0) for r in responses),
                   totalUpdatedCells=sum(r.get("updatedCells", 0) for r in responses),
                   totalUpdatedSheets=len(sheets), responses=responses)
    return out


def _tables(sheet: Sheet) -> list[tuple[int, int, int, int]]:
    """Bounding boxes (r0, r1, c0, c1) of 4-connected regions of cells holding values."""
    filled = {k for k, v in sheet.cells.items() if v.get("userEnteredValue")}
    seen: set[tuple[int, int]] = set()
    boxes = []
    for start in sorted(filled):
        if start in seen:
            continue
        stack, region = [start], []
        seen.add(start)
        while stack:
            r, c = stack.pop()
            region.append((r, c))
            for nxt in ((r + 1, c), (r - 1, c), (r, c + 1), (r, c - 1)):
                if nxt in filled and nxt not in seen:
                    seen.add(nxt)
                    stack.append(nxt)
        rows = [r for r, _ in region]
        cols = [c for _, c in region]
        boxes.append((min(rows), max(rows) + 1, min(cols), max(cols) + 1))
    return boxes


def append(ss: Spreadsheet, range_text: str, params: dict[str, list[str]], body: JSON) -> JSON:
    """Find the "table" in the range and write below it, from its first column.

    Like Google, a table is a block of connected non-empty cells touching the range; with
    several, the last one (lowest, then rightmost) wins, so a row with a gap in the middle
    makes the next append start at the gap's right (as the real recordings show)."""
    option = _require_input_option(_first(params, "valueInputOption", ""))
    sheet, r0, r1, c0, c1 = ss.resolve(range_text, clip=False)
    touching = [b for b in _tables(sheet) if b[0] < r1 and b[1] > r0 and b[2] < c1 and b[3] > c0]
    table: str | None = None
    target_row, target_col = r0, c0
    if touching:
        t0, t1, u0, u1 = max(touching, key=lambda b: (b[1], b[3]))
        table = format_range(sheet.title, t0, t1, u0, u1)
        target_row, target_col = t1, u0
    if _first(params, "insertDataOption", "OVERWRITE") == "INSERT_ROWS":
        rows = len(body.get("values") or [])
        if body.get("majorDimension") == "COLUMNS":
            rows = max((len(col) for col in body.get("values") or []), default=0)
        if target_row < sheet.row_count and rows:
            sheet.insert("ROWS", target_row, rows)
    updates = write(ss, range_text, body, option, grow=True,
                    anchor=(sheet, target_row, target_col), render=_response_render(params))
    out: JSON = {"spreadsheetId": ss.spreadsheet_id}
    if table:
        out["tableRange"] = table
    out["updates"] = updates
    return out


def clear(ss: Spreadsheet, range_text: str) -> JSON:
    sheet, r0, r1, c0, c1 = ss.resolve(range_text)
    for (r, c), cell in list(sheet.cells.items()):
        if r0 <= r < r1 and c0 <= c < c1:
            cell = dict(cell)
            cell.pop("userEnteredValue", None)
            sheet.put(r, c, cell)
    return {"spreadsheetId": ss.spreadsheet_id,
            "clearedRange": format_range(sheet.title, r0, r1, c0, c1)}


def batch_clear(ss: Spreadsheet, body: JSON) -> JSON:
    cleared = [clear(ss, text)["clearedRange"] for text in body.get("ranges") or []]
    out: JSON = {"spreadsheetId": ss.spreadsheet_id}
    if cleared:
        out["clearedRanges"] = cleared
    return out
