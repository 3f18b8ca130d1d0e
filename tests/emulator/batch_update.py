"""spreadsheets.batchUpdate: the Request kinds the project and gspread use.

The batch is atomic like Google's: the server snapshots the spreadsheet and restores
it if any request fails. Kinds not implemented answer 501 so a test notices instead of
a silent no-op.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from typing import Any

from . import fieldmask
from .a1 import format_range
from .grid import GridError, Sheet, Spreadsheet, clean_grid_range, new_sheet_properties

JSON = dict[str, Any]
Handler = Callable[[Spreadsheet, JSON], JSON]
DUPLICATE_TITLE = 'A sheet with the name "{title}" already exists. Please enter another name.'


class NotImplementedKind(Exception):
    pass


def _mask(text: str | None, kind: str) -> fieldmask.Tree:
    if not text:
        raise GridError("At least one field must be specified in 'fields'.")
    try:
        return fieldmask.parse(text)
    except fieldmask.FieldMaskError:
        raise GridError(f"Invalid field mask: '{text}'") from None


def _link_colors(fmt: JSON, source: JSON) -> None:
    for holder, src, key in ((fmt, source, "backgroundColor"),
                             (fmt.get("textFormat", {}), source.get("textFormat", {}),
                              "foregroundColor")):
        style = key + "Style"
        if key in src and style not in src:
            holder.pop(style, None)
        elif style in src and key not in src:
            holder.pop(key, None)


def _update_cell(sheet: Sheet, r: int, c: int, data: JSON, tree: fieldmask.Tree) -> None:
    cell = copy.deepcopy(sheet.get(r, c) or {})
    fieldmask.apply_update(cell, data, tree)
    if "userEnteredFormat" in data and isinstance(cell.get("userEnteredFormat"), dict):
        _link_colors(cell["userEnteredFormat"], data["userEnteredFormat"])
    sheet.put(r, c, cell)


def _write_rows(sheet: Sheet, r0: int, c0: int, rows: list[JSON], tree: fieldmask.Tree,
                area: tuple[int, int] | None = None) -> None:
    for i, row in enumerate(rows):
        for j, data in enumerate(row.get("values") or []):
            _update_cell(sheet, r0 + i, c0 + j, data or {}, tree)
    if area is not None:  # cells of the range not covered by rows are cleared
        r1, c1 = area
        for r in range(r0, r1):
            row_values = (rows[r - r0].get("values") or []) if r - r0 < len(rows) else []
            for c in range(c0 + len(row_values), c1):
                _update_cell(sheet, r, c, {}, tree)


def _exceeds(sheet: Sheet, r1: int, c1: int, r0: int, c0: int) -> None:
    if r1 > sheet.row_count or c1 > sheet.col_count:
        cells = format_range(sheet.title, r0, r1, c0, c1).rsplit("!", 1)[1]
        raise GridError(f"Range ('{sheet.title}'!{cells}) exceeds grid limits. Max rows: "
                        f"{sheet.row_count}, max columns: {sheet.col_count}")


def update_cells(ss: Spreadsheet, req: JSON) -> JSON:
    tree = _mask(req.get("fields"), "updateCells")
    rows = req.get("rows") or []
    if "range" in req:
        sheet, r0, r1, c0, c1 = ss.resolve_grid_range(req["range"])
        if len(rows) > r1 - r0 or any(len(r.get("values") or []) > c1 - c0 for r in rows):
            raise GridError("Attempting to write row " f"{r0 + len(rows)} beyond the range.")
        _write_rows(sheet, r0, c0, rows, tree, area=(r1, c1))
    else:
        start = req.get("start") or {}
        sheet = ss.sheet_by_id(int(start.get("sheetId", 0)))
        r0, c0 = int(start.get("rowIndex", 0)), int(start.get("columnIndex", 0))
        width = max((len(r.get("values") or []) for r in rows), default=0)
        _exceeds(sheet, r0 + max(len(rows), 1), c0 + max(width, 1), r0, c0)
        _write_rows(sheet, r0, c0, rows, tree)
    return {}


def append_cells(ss: Spreadsheet, req: JSON) -> JSON:
    tree = _mask(req.get("fields"), "appendCells")
    sheet = ss.sheet_by_id(int(req.get("sheetId", 0)))
    rows = req.get("rows") or []
    last = max((r for (r, _c), cell in sheet.cells.items() if cell), default=-1) + 1
    need = last + len(rows)
    if need > sheet.row_count:
        sheet.resize(rows=need)
    width = max((len(r.get("values") or []) for r in rows), default=0)
    if width > sheet.col_count:
        sheet.resize(cols=width)
    _write_rows(sheet, last, 0, rows, tree)
    return {}


def find_replace(ss: Spreadsheet, req: JSON) -> JSON:
    """findReplace over typed text (strings; formulas only with includeFormulas), in one
    range, one sheet or all sheets, as Google does; numbers and dates are left alone here."""
    find = req.get("find")
    if not find:
        raise GridError("Invalid findReplace request: 'find' must not be empty.")
    scopes = [k for k in ("range", "sheetId", "allSheets") if k in req]
    if len(scopes) != 1:
        raise GridError("Invalid findReplace request: exactly one of range, sheetId or "
                        "allSheets must be set.")
    if "range" in scopes:
        sheet, r0, r1, c0, c1 = ss.resolve_grid_range(req["range"])
        areas = [(sheet, r0, r1, c0, c1)]
    elif "sheetId" in scopes:
        sheet = ss.sheet_by_id(int(req["sheetId"]))
        areas = [(sheet, 0, sheet.row_count, 0, sheet.col_count)]
    else:
        areas = [(s, 0, s.row_count, 0, s.col_count) for s in ss.sheets]
    flags = 0 if req.get("matchCase") else re.IGNORECASE
    try:
        pattern = re.compile(find if req.get("searchByRegex") else re.escape(find), flags)
    except re.error:
        raise GridError(f"Invalid regular expression: {find}") from None
    replacement = str(req.get("replacement") or "")
    values = occurrences = 0
    rows: set[tuple[int, int]] = set()
    sheets: set[int] = set()
    for sheet, r0, r1, c0, c1 in areas:
        for (r, c), cell in list(sheet.cells.items()):
            if not (r0 <= r < r1 and c0 <= c < c1):
                continue
            entered = cell.get("userEnteredValue") or {}
            key = "formulaValue" if "formulaValue" in entered else "stringValue"
            if key not in entered or (key == "formulaValue" and not req.get("includeFormulas")):
                continue
            text = str(entered[key])
            if req.get("matchEntireCell"):
                hits = 1 if pattern.fullmatch(text) else 0
                new = pattern.sub(lambda _m: replacement, text) if hits else text
            else:
                new, hits = pattern.subn(lambda _m: replacement, text)
            if not hits:
                continue
            changed = copy.deepcopy(cell)
            changed["userEnteredValue"] = {key: new} if new != "" else {}
            if not changed["userEnteredValue"]:
                changed.pop("userEnteredValue")
            sheet.put(r, c, changed)
            values += 1
            occurrences += hits
            rows.add((sheet.sheet_id, r))
            sheets.add(sheet.sheet_id)
    counts = {"valuesChanged": values, "occurrencesChanged": occurrences,
              "rowsChanged": len(rows), "sheetsChanged": len(sheets), "formulasChanged": 0}
    return {"findReplace": {k: v for k, v in counts.items() if v}}


def repeat_cell(ss: Spreadsheet, req: JSON) -> JSON:
    tree = _mask(req.get("fields"), "repeatCell")
    sheet, r0, r1, c0, c1 = ss.resolve_grid_range(req.get("range") or {})
    for r in range(r0, r1):
        for c in range(c0, c1):
            _update_cell(sheet, r, c, req.get("cell") or {}, tree)
    return {}


def add_sheet(ss: Spreadsheet, req: JSON) -> JSON:
    props = copy.deepcopy(req.get("properties") or {})
    titles = ss.titles()
    title = props.get("title")
    if title is None:
        n = len(ss.sheets) + 1
        while f"Sheet{n}" in titles:
            n += 1
        title = f"Sheet{n}"
    if title.lower() in (t.lower() for t in titles):
        raise GridError(DUPLICATE_TITLE.format(title=title))
    sheet_id = props.get("sheetId")
    if sheet_id is not None and any(s.sheet_id == int(sheet_id) for s in ss.sheets):
        raise GridError(f"A sheet with the id {sheet_id} already exists.")
    sheet_id = int(sheet_id) if sheet_id is not None else ss.new_sheet_id()
    gp = props.pop("gridProperties", {}) or {}
    index = int(props.pop("index", len(ss.sheets)))
    full = new_sheet_properties(sheet_id, title, min(index, len(ss.sheets)),
                                int(gp.get("rowCount", 1000)), int(gp.get("columnCount", 26)))
    full["gridProperties"].update({k: v for k, v in gp.items() if v})
    full.update({k: v for k, v in props.items() if k not in ("sheetId", "title") and v is not None})
    for sheet in ss.sheets:
        if sheet.properties["index"] >= full["index"]:
            sheet.properties["index"] += 1
    ss.sheets.append(Sheet(full))
    ss.reindex()
    return {"addSheet": {"properties": copy.deepcopy(full)}}


def delete_sheet(ss: Spreadsheet, req: JSON) -> JSON:
    sheet = ss.sheet_by_id(int(req.get("sheetId", 0)))
    if len(ss.sheets) == 1:
        raise GridError("You can't remove all the sheets in a document.")
    ss.sheets.remove(sheet)
    ss.drop_named_ranges(sheet.sheet_id)
    ss.reindex()
    return {}


def update_sheet_properties(ss: Spreadsheet, req: JSON) -> JSON:
    tree = _mask(req.get("fields"), "updateSheetProperties")
    source = req.get("properties") or {}
    sheet = ss.sheet_by_id(int(source.get("sheetId", 0)))
    bad = fieldmask.validate(tree, "SheetProperties", _schemas())
    if bad:
        raise GridError(f"Invalid field mask: '{req.get('fields')}'")
    before = copy.deepcopy(sheet.properties)
    updated = copy.deepcopy(sheet.properties)
    fieldmask.apply_update(updated, source, tree)
    updated["sheetId"] = before["sheetId"]
    title = updated.get("title") or ""
    if not title:
        raise GridError("Sheet title cannot be empty.")
    if title != before["title"] and title.lower() in (t.lower() for t in ss.titles()
                                                      if t != before["title"]):
        raise GridError(DUPLICATE_TITLE.format(title=title))
    others = [s for s in ss.sheets if s is not sheet]
    if updated.get("hidden") and all(s.properties.get("hidden") for s in others):
        raise GridError("You can't hide all the sheets in a document.")
    gp = updated.setdefault("gridProperties", {})
    rows, cols = int(gp.get("rowCount", 0)), int(gp.get("columnCount", 0))
    if rows < 1 or cols < 1:
        raise GridError("Sheet must have at least one row and one column.")
    for key, limit in (("frozenRowCount", rows), ("frozenColumnCount", cols)):
        if int(gp.get(key, 0)) > limit:
            raise GridError(f"Requested {key} ({gp[key]}) exceeds the grid size.")
        if gp.get(key) == 0:
            gp.pop(key)
    requested = updated.get("index")
    new_index = int(before["index"] if requested is None else requested)
    updated["index"] = before["index"]
    sheet.properties = updated
    sheet.resize(rows, cols)
    if new_index != before["index"]:
        ss.sheets.remove(sheet)
        ss.sheets.insert(min(new_index, len(ss.sheets)), sheet)
        for i, s in enumerate(ss.sheets):
            s.properties["index"] = i
    return {}


def update_spreadsheet_properties(ss: Spreadsheet, req: JSON) -> JSON:
    tree = _mask(req.get("fields"), "updateSpreadsheetProperties")
    fieldmask.apply_update(ss.properties, req.get("properties") or {}, tree)
    return {}


def _dimension_range(ss: Spreadsheet, dr: JSON) -> tuple[Sheet, str, int, int]:
    sheet = ss.sheet_by_id(int(dr.get("sheetId", 0)))
    dimension = dr.get("dimension")
    if dimension not in ("ROWS", "COLUMNS"):
        raise GridError("Invalid dimension: DIMENSION_UNSPECIFIED")
    size = sheet.row_count if dimension == "ROWS" else sheet.col_count
    start, end = int(dr.get("startIndex", 0)), int(dr.get("endIndex", size))
    if start < 0 or end < start:
        raise GridError("Invalid dimension range: start index must be <= end index.")
    return sheet, dimension, start, end


def append_dimension(ss: Spreadsheet, req: JSON) -> JSON:
    sheet = ss.sheet_by_id(int(req.get("sheetId", 0)))
    length = int(req.get("length", 0))
    if length < 1:
        raise GridError("length must be greater than 0")
    if req.get("dimension") == "ROWS":
        sheet.resize(rows=sheet.row_count + length)
    elif req.get("dimension") == "COLUMNS":
        sheet.resize(cols=sheet.col_count + length)
    else:
        raise GridError("Invalid dimension: DIMENSION_UNSPECIFIED")
    return {}


def insert_dimension(ss: Spreadsheet, req: JSON) -> JSON:
    sheet, dimension, start, end = _dimension_range(ss, req.get("range") or {})
    size = sheet.row_count if dimension == "ROWS" else sheet.col_count
    if start > size:
        raise GridError(f"Cannot insert {dimension.lower()} at index {start}: the sheet has "
                        f"only {size}.")
    if end > start:
        sheet.insert(dimension, start, end - start)
        ss.shift_named_ranges(sheet.sheet_id, dimension, start, end - start)
    return {}


def delete_dimension(ss: Spreadsheet, req: JSON) -> JSON:
    sheet, dimension, start, end = _dimension_range(ss, req.get("range") or {})
    size = sheet.row_count if dimension == "ROWS" else sheet.col_count
    if end > size:
        raise GridError(f"Range exceeds grid limits. Max {dimension.lower()}: {size}")
    if start == 0 and end >= size:
        what = "rows" if dimension == "ROWS" else "columns"
        raise GridError(f"You can't delete all the {what} on the sheet.")
    sheet.delete(dimension, start, end)
    ss.shift_named_ranges(sheet.sheet_id, dimension, start, start - end)
    return {}


def _sort_key(ss: Spreadsheet, cell: JSON | None) -> tuple[int, Any]:
    _user, effective, _formatted, _nf = ss.cell_parts(cell)
    if effective is None:
        return (3, 0)
    if "numberValue" in effective:
        return (0, effective["numberValue"])
    if "stringValue" in effective:
        return (1, effective["stringValue"].lower())
    if "boolValue" in effective:
        return (2, effective["boolValue"])
    return (2, 1)


def sort_range(ss: Spreadsheet, req: JSON) -> JSON:
    sheet, r0, r1, c0, c1 = ss.resolve_grid_range(req.get("range") or {})
    rows = [[sheet.get(r, c) for c in range(c0, c1)] for r in range(r0, r1)]
    for spec in reversed(req.get("sortSpecs") or []):
        col = int(spec.get("dimensionIndex", 0)) - c0
        if not 0 <= col < c1 - c0:
            raise GridError("Sort column is outside of the range.")
        filled = [row for row in rows if _sort_key(ss, row[col])[0] != 3]
        empty = [row for row in rows if _sort_key(ss, row[col])[0] == 3]
        filled.sort(key=lambda row: _sort_key(ss, row[col]),
                    reverse=spec.get("sortOrder") == "DESCENDING")
        rows = filled + empty
    for i, row in enumerate(rows):
        for j, cell in enumerate(row):
            sheet.put(r0 + i, c0 + j, copy.deepcopy(cell))
    return {}


def set_data_validation(ss: Spreadsheet, req: JSON) -> JSON:
    sheet, r0, r1, c0, c1 = ss.resolve_grid_range(req.get("range") or {})
    rule = req.get("rule")
    for r in range(r0, r1):
        for c in range(c0, c1):
            cell = copy.deepcopy(sheet.get(r, c) or {})
            if rule:
                cell["dataValidation"] = copy.deepcopy(rule)
            else:
                cell.pop("dataValidation", None)
            sheet.put(r, c, cell)
    return {}


def update_dimension_properties(ss: Spreadsheet, req: JSON) -> JSON:
    tree = _mask(req.get("fields"), "updateDimensionProperties")
    sheet, dimension, start, end = _dimension_range(ss, req.get("range") or {})
    meta = sheet.row_meta if dimension == "ROWS" else sheet.col_meta
    for i in range(start, end):
        entry = meta.get(i, {})
        fieldmask.apply_update(entry, req.get("properties") or {}, tree)
        meta[i] = entry
    return {}


def merge_cells(ss: Spreadsheet, req: JSON) -> JSON:
    sheet, r0, r1, c0, c1 = ss.resolve_grid_range(req.get("range") or {})
    kind = req.get("mergeType", "MERGE_ALL")
    blocks = ([(r0, r1, c0, c1)] if kind == "MERGE_ALL" else
              [(r, r + 1, c0, c1) for r in range(r0, r1)] if kind == "MERGE_ROWS" else
              [(r0, r1, c, c + 1) for c in range(c0, c1)])
    for a, b, c, d in blocks:
        sheet.merges.append({"sheetId": sheet.sheet_id, "startRowIndex": a, "endRowIndex": b,
                             "startColumnIndex": c, "endColumnIndex": d})
    return {}


def unmerge_cells(ss: Spreadsheet, req: JSON) -> JSON:
    sheet, r0, r1, c0, c1 = ss.resolve_grid_range(req.get("range") or {})
    sheet.merges = [m for m in sheet.merges if not (
        r0 <= m["startRowIndex"] and m["endRowIndex"] <= r1
        and c0 <= m["startColumnIndex"] and m["endColumnIndex"] <= c1)]
    return {}


def _named_range_area(ss: Spreadsheet, rng: JSON) -> JSON:
    """A named range's GridRange, checked against the grid; an open end stays open (the
    range then grows with rows appended below), zero indexes are left out as Google does."""
    sheet = ss.sheet_by_id(int(rng.get("sheetId", 0)))
    for key, limit in (("startRowIndex", sheet.row_count), ("startColumnIndex", sheet.col_count)):
        if int(rng.get(key, 0)) >= limit:
            raise GridError(f"Range ('{sheet.title}') exceeds grid limits. Max rows: "
                            f"{sheet.row_count}, max columns: {sheet.col_count}")
    ss.resolve_grid_range(rng)  # bounded ends inside the grid, start <= end
    return {k: v for k, v in rng.items() if not (v == 0 and k in (
        "sheetId", "startRowIndex", "startColumnIndex"))}


def add_named_range(ss: Spreadsheet, req: JSON) -> JSON:
    named = copy.deepcopy(req.get("namedRange") or {})
    if any(n["name"] == named.get("name") for n in ss.named_ranges):
        raise GridError(f"Named range with name {named.get('name')} already exists.")
    named.setdefault("namedRangeId", str(ss.new_sheet_id()))
    named["range"] = _named_range_area(ss, named.get("range") or {})
    ss.named_ranges.append(named)
    return {"addNamedRange": {"namedRange": copy.deepcopy(named)}}


def update_named_range(ss: Spreadsheet, req: JSON) -> JSON:
    """Rename or move a named range, found by id; ``fields`` says which parts change
    (``range`` replaces the whole GridRange, so a missing end makes it open-ended)."""
    tree = _mask(req.get("fields"), "updateNamedRange")
    source = req.get("namedRange") or {}
    found = next((n for n in ss.named_ranges
                  if n["namedRangeId"] == source.get("namedRangeId")), None)
    if found is None:
        raise GridError(f"No named range with id: {source.get('namedRangeId')}")
    bad = fieldmask.validate(tree, "NamedRange", _schemas())
    if bad:
        raise GridError(f"Invalid field mask: '{req.get('fields')}'")
    updated = copy.deepcopy(found)
    fieldmask.apply_update(updated, source, tree)
    updated["namedRangeId"] = found["namedRangeId"]
    if updated.get("name") != found["name"] and any(
            n["name"] == updated.get("name") for n in ss.named_ranges):
        raise GridError(f"Named range with name {updated.get('name')} already exists.")
    updated["range"] = _named_range_area(ss, updated.get("range") or {})
    found.clear()
    found.update(updated)
    return {}


def delete_named_range(ss: Spreadsheet, req: JSON) -> JSON:
    before = len(ss.named_ranges)
    ss.named_ranges = [n for n in ss.named_ranges if n["namedRangeId"] != req.get("namedRangeId")]
    if len(ss.named_ranges) == before:
        raise GridError(f"No named range with id: {req.get('namedRangeId')}")
    return {}


def add_conditional_format_rule(ss: Spreadsheet, req: JSON) -> JSON:
    """Insert a rule at ``index`` (default 0: it is checked first); its ranges must be on
    one sheet, which keeps it (``sheets[].conditionalFormats``)."""
    rule = copy.deepcopy(req.get("rule") or {})
    ranges = rule.get("ranges") or []
    if not ranges:
        raise GridError("Must specify at least one range.")
    sheets = {int(g.get("sheetId", 0)) for g in ranges}
    if len(sheets) != 1:
        raise GridError("All ranges must be on the same sheet.")
    for g in ranges:
        ss.resolve_grid_range(g)
    condition = ((rule.get("booleanRule") or {}).get("condition") or {}).get("type")
    if condition not in ("TEXT_EQ", "NOT_BLANK", "BLANK"):
        raise NotImplementedKind(f"addConditionalFormatRule with condition {condition}")
    sheet = ss.sheet_by_id(sheets.pop())
    rules = sheet.extra.setdefault("conditionalFormats", [])
    rules.insert(min(int(req.get("index", 0)), len(rules)), rule)
    return {}


def no_op(ss: Spreadsheet, req: JSON) -> JSON:
    return {}


def set_basic_filter(ss: Spreadsheet, req: JSON) -> JSON:
    flt = copy.deepcopy(req.get("filter") or {})
    sheet, r0, r1, c0, c1 = ss.resolve_grid_range(flt.get("range") or {})
    flt["range"] = clean_grid_range({"sheetId": sheet.sheet_id, "startRowIndex": r0,
                                     "endRowIndex": r1, "startColumnIndex": c0,
                                     "endColumnIndex": c1})
    sheet.extra["basicFilter"] = flt
    return {}


def clear_basic_filter(ss: Spreadsheet, req: JSON) -> JSON:
    ss.sheet_by_id(int(req.get("sheetId", 0))).extra.pop("basicFilter", None)
    return {}


def _chart_ids(ss: Spreadsheet) -> set[int]:
    return {int(c["chartId"]) for sheet in ss.sheets for c in sheet.extra.get("charts", [])}


def add_chart(ss: Spreadsheet, req: JSON) -> JSON:
    """An embedded chart: every source range and the anchor must be on this spreadsheet
    and inside its grid, as Google checks; the chart is stored on its anchor's sheet
    (``sheets[].charts``) and goes with it when the sheet is deleted."""
    chart = copy.deepcopy(req.get("chart") or {})
    spec = chart.get("spec") or {}
    basic = spec.get("basicChart")
    if not basic:
        raise GridError("Invalid chart spec: exactly one chart type must be set.")
    ranges = [d.get("domain", {}).get("sourceRange", {}) for d in basic.get("domains", [])]
    ranges += [s.get("series", {}).get("sourceRange", {}) for s in basic.get("series", [])]
    if not basic.get("series"):
        raise GridError("Invalid chart spec: a chart needs at least one series.")
    for source in ranges:
        for gr in source.get("sources") or []:
            ss.resolve_grid_range(gr)
    anchor = ((chart.get("position") or {}).get("overlayPosition") or {}).get("anchorCell")
    if anchor is None:
        raise GridError("Invalid chart position: an overlay position with an anchor cell "
                        "is required.")
    sheet = ss.sheet_by_id(int(anchor.get("sheetId", 0)))
    if int(anchor.get("rowIndex", 0)) >= sheet.row_count:
        raise GridError("Invalid anchor cell: the row is outside the grid.")
    used = _chart_ids(ss)
    if "chartId" in chart and int(chart["chartId"]) in used:
        raise GridError(f"An object with the id {chart['chartId']} already exists.")
    chart.setdefault("chartId", max(used, default=100_000) + 1)
    sheet.extra.setdefault("charts", []).append(chart)
    return {"addChart": {"chart": copy.deepcopy(chart)}}


HANDLERS: dict[str, Handler] = {
    "addChart": add_chart,
    "updateCells": update_cells,
    "appendCells": append_cells,
    "findReplace": find_replace,
    "repeatCell": repeat_cell,
    "addSheet": add_sheet,
    "deleteSheet": delete_sheet,
    "updateSheetProperties": update_sheet_properties,
    "updateSpreadsheetProperties": update_spreadsheet_properties,
    "appendDimension": append_dimension,
    "insertDimension": insert_dimension,
    "deleteDimension": delete_dimension,
    "sortRange": sort_range,
    "setDataValidation": set_data_validation,
    "updateDimensionProperties": update_dimension_properties,
    "mergeCells": merge_cells,
    "unmergeCells": unmerge_cells,
    "addNamedRange": add_named_range,
    "updateNamedRange": update_named_range,
    "deleteNamedRange": delete_named_range,
    "autoResizeDimensions": no_op,
    "addConditionalFormatRule": add_conditional_format_rule,
    "setBasicFilter": set_basic_filter,
    "clearBasicFilter": clear_basic_filter,
}


def _schemas() -> JSON:
    from .discovery import load
    return load().schemas


def apply(ss: Spreadsheet, body: JSON) -> list[JSON]:
    """Run the requests in order; raise GridError naming the failing request."""
    requests = body.get("requests") or []
    if not requests:
        raise GridError("Must specify at least one request.")
    replies = []
    for i, req in enumerate(requests):
        kinds = [k for k, v in req.items() if v is not None]
        if not kinds:
            raise GridError(f"Invalid requests[{i}]: No request set.")
        kind = kinds[0]
        handler = HANDLERS.get(kind)
        if handler is None:
            raise NotImplementedKind(kind)
        try:
            replies.append(handler(ss, req[kind]))
        except GridError as exc:
            raise GridError(f"Invalid requests[{i}].{kind}: {exc}") from None
    return replies
