"""Pure conversion between Sheets API grid JSON and the product's tables and cell writes.

No IO here. Reading follows `sheets_health.cells`: numbers as int/float, DATE / DATE_TIME
serials as `datetime.date` / `datetime.datetime`, PERCENT-formatted numbers as `Percent`
(the stored fraction), error values (formulas Google could not
compute) as None. Writing: numbers as numberValue, text as stringValue (never a formula),
bools as boolValue, dates as serial numberValue with a ``yyyy-mm-dd`` number format, a
`Percent` as its fraction with a ``0%`` number format.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sheets_health.cells import SERIAL_EPOCH, Percent, column_letter, is_blank, key_text
from sheets_health.model import (
    MARK_PREFIX,
    Blocked,
    CellValue,
    CellWrite,
    Mark,
    Table,
    norm_header,
)

JSON = dict[str, Any]

SERIAL_EPOCH_DT = dt.datetime(1899, 12, 30)
DATE_PATTERN = "yyyy-mm-dd"
DATE_TIME_PATTERN = "yyyy-mm-dd hh:mm:ss"
PERCENT_PATTERN = "0%"
VALUE = "userEnteredValue"
BACKGROUND = "userEnteredFormat.backgroundColor"
NUMBER_FORMAT = "userEnteredFormat.numberFormat"

_PROPS = "properties(sheetId,title,index,gridProperties(rowCount,columnCount,frozenRowCount))"
# Colours come from userEnteredFormat: it is where the tool's fills (and a person's) live, and
# unlike effectiveFormat.backgroundColor it is absent on the many unformatted cells, which
# keeps the one read small as History grows.
# Formula text only (a typed value's userEnteredValue stays out): the tool's lookup formulas
# in Customers' output headers are checked against what they should be.
CELL_FIELDS = ("effectiveValue,effectiveFormat(numberFormat(type)),"
               "userEnteredFormat(backgroundColor),userEnteredValue(formulaValue)")
META_FIELDS = f"sheets({_PROPS})"
# The sync's one read also brings the spreadsheet's time zone: the day its History rows are on.
# …and the merges and protected ranges, for the pre-flight (`sheets_health.preflight`)
BLOCK_FIELDS = "merges,protectedRanges(range,warningOnly,requestingUserCanEdit)"
READ_FIELDS = ("properties(timeZone),"
               f"sheets({_PROPS},{BLOCK_FIELDS},conditionalFormats(ranges,booleanRule),"
               f"data(startRow,startColumn,rowData(values({CELL_FIELDS}))))")
MERGED_FIX = "select them and choose Format → Merge cells → Unmerge"
PROTECTED_FIX = ("ask the spreadsheet's owner to remove the protection (Data → Protect sheets "
                 "and ranges) or to add the service account as an editor of the range")
KEY_FIELDS = (f"sheets({_PROPS},data(startRow,startColumn,rowData(values(effectiveValue,"
              "effectiveFormat(numberFormat(type))))))")
VALUES_FIELDS = f"sheets({_PROPS},data(startRow,startColumn,rowData(values(effectiveValue))))"
INIT_FIELDS = f"sheets({_PROPS},data(startRow,startColumn,rowData(values(effectiveValue,"
INIT_FIELDS += "dataValidation))))"


NAMED_PREFIX = MARK_PREFIX  # the tool's named ranges: sheets_health_<mark name>
GRID_LIMITS = "exceeds grid limits"  # Google's 400 for a range past a tab's last row/column
NAMED_FIELDS = "namedRanges(namedRangeId,name,range)"


@dataclass(frozen=True)
class Named:
    """A named range in a read's ``ranges`` (Google accepts its bare name as A1 text)."""

    name: str


@dataclass(frozen=True)
class NamedRange:
    range_id: str
    sheet_id: int
    mark: Mark


def parse_named(spreadsheet: Mapping[str, Any]) -> dict[str, NamedRange]:
    """The tool's named ranges, by mark name (other named ranges are a person's)."""
    found = {}
    for item in spreadsheet.get("namedRanges") or []:
        name = str(item.get("name", ""))
        if not name.startswith(NAMED_PREFIX):
            continue
        rng = item.get("range") or {}
        end = rng.get("endRowIndex")
        end_col = rng.get("endColumnIndex")
        mark = Mark(int(rng.get("startRowIndex", 0)) + 1, None if end is None else int(end) + 1,
                    int(rng.get("startColumnIndex", 0)),
                    None if end_col is None else int(end_col))
        found[name.removeprefix(NAMED_PREFIX)] = NamedRange(
            str(item.get("namedRangeId", "")), int(rng.get("sheetId", 0)), mark)
    return found


def grid_range(sheet_id: int, mark: Mark) -> JSON:
    """A mark as a GridRange; an open end is left out, so the range grows with the tab."""
    rng: JSON = {"sheetId": sheet_id, "startRowIndex": mark.start - 1,
                 "startColumnIndex": mark.first_col}
    if mark.end is not None:
        rng["endRowIndex"] = mark.end - 1
    if mark.end_col is not None:
        rng["endColumnIndex"] = mark.end_col
    return rng


def named_range_request(sheet_id: int, name: str, mark: Mark, range_id: str | None) -> JSON:
    named: JSON = {"name": NAMED_PREFIX + name, "range": grid_range(sheet_id, mark)}
    if range_id is None:
        return {"addNamedRange": {"namedRange": named}}
    return {"updateNamedRange": {"namedRange": {"namedRangeId": range_id, **named},
                                 "fields": "name,range"}}


def delete_rows_request(sheet_id: int, count: int) -> JSON:
    """Delete the ``count`` oldest data rows (right below the header row)."""
    return {"deleteDimension": {"range": {"sheetId": sheet_id, "dimension": "ROWS",
                                          "startIndex": 1, "endIndex": 1 + count}}}


def quote_title(title: str) -> str:
    """A sheet title as A1 range text: always quoted, inner quotes doubled."""
    return "'" + title.replace("'", "''") + "'"


column_letters = column_letter  # one rule for A1 letters, owned by the cell policy


# ----------------------------------------------------------------------------- reading


@dataclass
class Grid:
    """One sheet as the API returned it: properties plus the cells of the ranges read."""

    sheet_id: int
    title: str
    row_count: int
    column_count: int
    frozen_rows: int = 0
    index: int = 0  # the tab's position among the tabs
    values: dict[tuple[int, int], CellValue] = field(default_factory=dict)  # 0-based
    colors: dict[tuple[int, int], str] = field(default_factory=dict)
    raw: dict[tuple[int, int], JSON] = field(default_factory=dict)
    blocked: list[Blocked] = field(default_factory=list)  # merges, ranges protected from us
    formulas: dict[tuple[int, int], str] = field(default_factory=dict)  # where read
    rules: list[JSON] = field(default_factory=list)  # conditional formats, where read

    def headers(self) -> list[str]:
        """Row 1, trailing blanks trimmed."""
        cols = [c for (r, c), v in self.values.items() if r == 0 and not is_blank(v)]
        width = max(cols, default=-1) + 1
        return [header_text(self.values.get((0, c))) for c in range(width)]

    def column(self, header: str) -> int | None:
        wanted = norm_header(header)
        for index, name in enumerate(self.headers()):
            if norm_header(name) == wanted:
                return index
        return None

    def used_width(self) -> int:
        """Columns up to the last one holding any value read, header or not."""
        return max((c for (_r, c), v in self.values.items() if not is_blank(v)), default=-1) + 1

    def row_key(self, row: int, key_cols: Sequence[int]) -> tuple[str, ...]:
        return tuple(key_text(self.values.get((row, c))) for c in key_cols)


def header_text(value: CellValue) -> str:
    return value.strip() if isinstance(value, str) else key_text(value)


def color_hex(color: Mapping[str, Any] | None) -> str | None:
    """RRGGBB of a non-white background (missing components are 0, as Google omits them)."""
    if not color:
        return None
    parts = [round(float(color.get(k, 0.0)) * 255) for k in ("red", "green", "blue")]
    text = "".join(f"{max(0, min(255, p)):02X}" for p in parts)
    return None if text == "FFFFFF" else text


def cell_value(cell: Mapping[str, Any]) -> CellValue:
    value = cell.get("effectiveValue")
    if not value:
        return None
    if "numberValue" in value:
        number = float(value["numberValue"])
        kind = ((cell.get("effectiveFormat") or {}).get("numberFormat") or {}).get("type")
        if kind == "DATE":
            return SERIAL_EPOCH + dt.timedelta(days=math.floor(number))
        if kind == "DATE_TIME":
            moment = SERIAL_EPOCH_DT + dt.timedelta(days=number)
            return moment.replace(microsecond=0) + dt.timedelta(
                seconds=round(moment.microsecond / 1e6))
        if kind == "PERCENT":  # typed 55%: Google stores 0.55 with a percent format
            return Percent(number)
        if number.is_integer() and abs(number) < 2**53:
            return int(number)
        return number
    if "stringValue" in value:
        return str(value["stringValue"])
    if "boolValue" in value:
        return bool(value["boolValue"])
    return None  # errorValue: a formula Google could not compute


def parse_grids(spreadsheet: Mapping[str, Any]) -> list[Grid]:
    grids = []
    for sheet in spreadsheet.get("sheets") or []:
        props = sheet.get("properties") or {}
        grid_props = props.get("gridProperties") or {}
        grid = Grid(
            sheet_id=int(props.get("sheetId", 0)),
            title=str(props.get("title", "")),
            row_count=int(grid_props.get("rowCount", 0)),
            column_count=int(grid_props.get("columnCount", 0)),
            frozen_rows=int(grid_props.get("frozenRowCount", 0)),
            index=int(props.get("index", 0)),
            rules=list(sheet.get("conditionalFormats") or []),
        )
        grid.blocked = [_blocked(m, "merged cells", MERGED_FIX)
                        for m in sheet.get("merges") or []]
        grid.blocked += [_blocked(p.get("range") or {}, "a protected range", PROTECTED_FIX)
                         for p in sheet.get("protectedRanges") or []
                         if not p.get("warningOnly") and not p.get("requestingUserCanEdit")]
        for block in sheet.get("data") or []:
            row0 = int(block.get("startRow", 0))
            col0 = int(block.get("startColumn", 0))
            for i, row in enumerate(block.get("rowData") or []):
                for j, cell in enumerate(row.get("values") or []):
                    if not cell:
                        continue
                    at = (row0 + i, col0 + j)
                    grid.raw[at] = cell
                    typed = (cell.get("userEnteredValue") or {}).get("formulaValue")
                    if typed is not None:
                        grid.formulas[at] = str(typed)
                    value = cell_value(cell)
                    if value is not None:
                        grid.values[at] = value
                    color = color_hex((cell.get("userEnteredFormat") or {}).get("backgroundColor"))
                    if color:
                        grid.colors[at] = color
        grids.append(grid)
    return grids


def _blocked(rng: Mapping[str, Any], kind: str, fix: str) -> Blocked:
    """A GridRange (0-based, end exclusive, a missing bound: the edge) as a `Blocked`."""
    end_row, end_col = rng.get("endRowIndex"), rng.get("endColumnIndex")
    return Blocked(kind, int(rng.get("startRowIndex", 0)) + 1,
                   None if end_row is None else int(end_row),
                   int(rng.get("startColumnIndex", 0)),
                   None if end_col is None else int(end_col) - 1, fix)


def to_table(grid: Grid, read_spans: tuple[Mark, ...] = (),
             marks: Mapping[str, Mark] | None = None) -> Table:
    """Header row 1, data rows below; fully blank rows dropped; cells past the headers too."""
    headers = tuple(grid.headers())
    width = len(headers)
    by_row: dict[int, list[CellValue]] = {}
    for (r, c), value in grid.values.items():
        if r == 0 or c >= width or is_blank(value):
            continue
        by_row.setdefault(r, [None] * width)[c] = value
    rows = sorted(by_row)
    return Table(
        tab=grid.title,
        headers=headers,
        rows=tuple(tuple(by_row[r]) for r in rows),
        row_numbers=tuple(r + 1 for r in rows),
        colors={(r + 1, c): color for (r, c), color in grid.colors.items() if r > 0},
        read_spans=read_spans,
        marks=dict(marks or {}),
        grid=(grid.row_count, grid.column_count),
        blocked=tuple(grid.blocked),
    )


# ----------------------------------------------------------------------------- writing


def rgb(hex_color: str) -> JSON:
    return {name: int(hex_color[i:i + 2], 16) / 255 for name, i in
            (("red", 0), ("green", 2), ("blue", 4))}


def cell_data(write: CellWrite) -> tuple[JSON, frozenset[str]]:
    """The CellData for one write and the field-mask parts it needs."""
    value = write.value
    data: JSON = {}
    mask = {VALUE}
    fmt: JSON = {}
    if isinstance(value, bool):
        data[VALUE] = {"boolValue": value}
    elif isinstance(value, Percent):  # shown as typed: 50%, stored as 0.5
        data[VALUE] = {"numberValue": float(value)}
        fmt["numberFormat"] = {"type": "PERCENT", "pattern": PERCENT_PATTERN}
    elif isinstance(value, int | float):
        if math.isfinite(value):
            data[VALUE] = {"numberValue": value}
    elif isinstance(value, dt.datetime):
        naive = value.replace(tzinfo=None)
        delta = naive - SERIAL_EPOCH_DT
        data[VALUE] = {"numberValue": delta.days + delta.seconds / 86400}
        fmt["numberFormat"] = {"type": "DATE_TIME", "pattern": DATE_TIME_PATTERN}
    elif isinstance(value, dt.date):
        data[VALUE] = {"numberValue": (value - SERIAL_EPOCH).days}
        fmt["numberFormat"] = {"type": "DATE", "pattern": DATE_PATTERN}
    elif isinstance(value, str) and value != "":
        data[VALUE] = {"stringValue": value}
    if "numberFormat" in fmt:
        mask.add(NUMBER_FORMAT)
    if write.fill is not None:
        fmt["backgroundColor"] = rgb(str(write.fill.value))
        mask.add(BACKGROUND)
    if fmt:
        data["userEnteredFormat"] = fmt
    return data, frozenset(mask)


def fields_of(mask: Iterable[str]) -> str:
    return ",".join(sorted(mask))


@dataclass(frozen=True)
class CellAt:
    sheet_id: int
    row: int  # 0-based
    col: int  # 0-based
    data: JSON
    mask: frozenset[str]


def update_requests(cells: Iterable[CellAt], max_rows: int = 2000) -> list[JSON]:
    """updateCells requests: one per run of consecutive rows in a column sharing a mask.

    A field mask applies to every cell of a request, so cells are grouped by mask; a whole
    output column written for every customer becomes one request.
    """
    groups: dict[tuple[int, int, frozenset[str]], dict[int, JSON]] = {}
    for cell in cells:
        groups.setdefault((cell.sheet_id, cell.col, cell.mask), {})[cell.row] = cell.data
    out: list[JSON] = []
    for (sheet_id, col, mask), rows in sorted(groups.items(), key=lambda g: (g[0][0], g[0][1],
                                                                            sorted(g[0][2]))):
        run: list[int] = []
        for row in sorted(rows):
            if run and (row != run[-1] + 1 or len(run) >= max_rows):
                out.append(_column_run(sheet_id, col, mask, run, rows))
                run = []
            run.append(row)
        if run:
            out.append(_column_run(sheet_id, col, mask, run, rows))
    return out


def _column_run(sheet_id: int, col: int, mask: frozenset[str], run: list[int],
                rows: Mapping[int, JSON]) -> JSON:
    return {"updateCells": {
        "range": {"sheetId": sheet_id, "startRowIndex": run[0], "endRowIndex": run[-1] + 1,
                  "startColumnIndex": col, "endColumnIndex": col + 1},
        "rows": [{"values": [rows[r]]} for r in run],
        "fields": fields_of(mask),
    }}


def rows_request(sheet_id: int, start_row: int,
                 rows: Sequence[Sequence[tuple[JSON, frozenset[str]]]]) -> JSON:
    """New rows written at a fixed position (0-based ``start_row``), never appended: sent
    twice, it writes the same cells twice. Cells of the range left out are cleared."""
    mask: set[str] = {VALUE}
    for row in rows:
        for _data, parts in row:
            mask |= parts
    width = max((len(row) for row in rows), default=1)
    return {"updateCells": {
        "range": {"sheetId": sheet_id, "startRowIndex": start_row,
                  "endRowIndex": start_row + len(rows), "startColumnIndex": 0,
                  "endColumnIndex": width},
        "rows": [{"values": [data for data, _parts in row]} for row in rows],
        "fields": fields_of(mask),
    }}


def append_request(sheet_id: int, rows: Sequence[Sequence[tuple[JSON, frozenset[str]]]]) -> JSON:
    """appendCells: what the benchmark's peers send (the sync itself places its rows)."""
    mask: set[str] = {VALUE}
    for row in rows:
        for _data, parts in row:
            mask |= parts
    return {"appendCells": {
        "sheetId": sheet_id,
        "rows": [{"values": [data for data, _parts in row]} for row in rows],
        "fields": fields_of(mask),
    }}


def append_rows_request(sheet_id: int, count: int) -> JSON:
    return {"appendDimension": {"sheetId": sheet_id, "dimension": "ROWS", "length": count}}


def header_request(sheet_id: int, start_col: int, headers: Sequence[str]) -> JSON:
    return {"updateCells": {
        "range": {"sheetId": sheet_id, "startRowIndex": 0, "endRowIndex": 1,
                  "startColumnIndex": start_col, "endColumnIndex": start_col + len(headers)},
        "rows": [{"values": [{VALUE: {"stringValue": h}} for h in headers]}],
        "fields": VALUE,
    }}


def append_columns_request(sheet_id: int, count: int) -> JSON:
    return {"appendDimension": {"sheetId": sheet_id, "dimension": "COLUMNS", "length": count}}


def same_written(planned: CellValue, found: CellValue) -> bool:
    """Does a read-back cell hold what was written? (dates compare to the second)."""
    if is_blank(planned) or is_blank(found):
        return is_blank(planned) and is_blank(found)
    if isinstance(planned, dt.date) and isinstance(found, dt.date):
        def serial(d: dt.date) -> float:
            if isinstance(d, dt.datetime):
                delta = d.replace(tzinfo=None) - SERIAL_EPOCH_DT
                return delta.days + delta.seconds / 86400
            return float((d - SERIAL_EPOCH).days)
        return abs(serial(planned) - serial(found)) < 2 / 86400
    if isinstance(planned, bool) or isinstance(found, bool):
        return planned is found
    if isinstance(planned, int | float) and isinstance(found, int | float):
        return math.isclose(float(planned), float(found), rel_tol=1e-9, abs_tol=1e-9)
    return isinstance(planned, str) and isinstance(found, str) and planned == found
