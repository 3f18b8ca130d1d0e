"""Spreadsheet state: sheets, their grid properties and the cells in them.

Cells are stored sparsely as the writable part of a CellData (userEnteredValue,
userEnteredFormat, dataValidation, note); effective values, formatted values and
effective formats are derived on read, the way Google derives them.
"""

from __future__ import annotations

import copy
import secrets
import threading
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

from . import cells as cv
from . import formulas
from .a1 import A1Error, format_range, index_to_col, parse_range

JSON = dict[str, Any]
WRITABLE = ("userEnteredValue", "userEnteredFormat", "dataValidation", "note", "hyperlink",
            "textFormatRuns", "pivotTable")

DEFAULT_FORMAT: JSON = {
    "backgroundColor": {"red": 1, "green": 1, "blue": 1},
    "padding": {"top": 2, "right": 3, "bottom": 2, "left": 3},
    "verticalAlignment": "BOTTOM",
    "wrapStrategy": "OVERFLOW_CELL",
    "textFormat": {
        "foregroundColor": {},
        "fontFamily": "arial,sans,sans-serif",
        "fontSize": 10,
        "bold": False,
        "italic": False,
        "strikethrough": False,
        "underline": False,
        "foregroundColorStyle": {"rgbColor": {}},
    },
    "backgroundColorStyle": {"rgbColor": {"red": 1, "green": 1, "blue": 1}},
}
_THEME: list[tuple[str, JSON]] = [("TEXT", {}), ("BACKGROUND", {"red": 1, "green": 1, "blue": 1}),
          ("ACCENT1", {"red": 0.25882354, "green": 0.52156866, "blue": 0.95686275}),
          ("ACCENT2", {"red": 0.91764706, "green": 0.2627451, "blue": 0.20784314}),
          ("ACCENT3", {"red": 0.9843137, "green": 0.7372549, "blue": 0.015686275}),
          ("ACCENT4", {"red": 0.20392157, "green": 0.65882355, "blue": 0.3254902}),
          ("ACCENT5", {"red": 1, "green": 0.42745098, "blue": 0.003921569}),
          ("ACCENT6", {"red": 0.27450982, "green": 0.7411765, "blue": 0.7764706}),
          ("LINK", {"red": 0.06666667, "green": 0.33333334, "blue": 0.8})]


class GridError(Exception):
    """A request the API rejects with 400 INVALID_ARGUMENT."""


def deep_merge(base: JSON, top: JSON) -> JSON:
    out = copy.deepcopy(base)
    for key, value in top.items():
        atomic = key.endswith(("Color", "ColorStyle"))  # colours replace, never blend
        if isinstance(value, dict) and isinstance(out.get(key), dict) and not atomic:
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


_FALSE_DEFAULTS = ("hidden", "rightToLeft", "hideGridlines", "frozenRowCount",
                   "frozenColumnCount", "rowGroupControlAfter", "columnGroupControlAfter")


def clean_properties(props: JSON) -> JSON:
    """Sheet properties as proto3 JSON prints them: no nulls, no false/0 flags,
    colours rounded to float32 and mirrored as ``tabColorStyle``."""
    out: JSON = {}
    for key, value in props.items():
        if value is None or (key in _FALSE_DEFAULTS and not value):
            continue
        out[key] = clean_properties(value) if isinstance(value, dict) else value
    if "tabColor" in out or "tabColorStyle" in out:
        out = cv.with_color_styles(out, keys=("tabColor",))
    return out


def clean_grid_range(gr: JSON) -> JSON:
    """GridRange output: sheetId 0 is the proto default and is left out."""
    return {k: v for k, v in gr.items() if not (k == "sheetId" and v == 0)}


def _has_content(cell: JSON | None) -> bool:
    return cell is not None and any(cell.get(k) not in (None, {}, "") for k in WRITABLE)


def _has_formula(cell: JSON) -> bool:
    return isinstance((cell.get("userEnteredValue") or {}).get("formulaValue"), str)


@dataclass
class Sheet:
    properties: JSON
    cells: dict[tuple[int, int], JSON] = field(default_factory=dict)
    row_meta: dict[int, JSON] = field(default_factory=dict)
    col_meta: dict[int, JSON] = field(default_factory=dict)
    merges: list[JSON] = field(default_factory=list)
    extra: JSON = field(default_factory=dict)  # basicFilter, protectedRanges, ...
    # the cells holding a formula, kept as cells change (a read looks for array formulas
    # among them, not among every cell of a 365,000-row History)
    formula_cells: set[tuple[int, int]] | None = field(default=None, repr=False,
                                                       compare=False)
    # `used_extent`, kept as cells are added (None: work it out again)
    extent: tuple[int, int] | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.formula_cells is None:
            self._index()

    def _index(self) -> None:
        self.formula_cells = {k for k, v in self.cells.items() if _has_formula(v)}
        self.extent = None

    def used_extent(self) -> tuple[int, int]:
        """(rows, cols) up to the last cell holding anything; (0, 0) for none."""
        if self.extent is None:
            self.extent = (0, 0) if not self.cells else (
                max(self.cells)[0] + 1, max(map(itemgetter(1), self.cells)) + 1)
        return self.extent

    @property
    def sheet_id(self) -> int:
        return int(self.properties["sheetId"])

    @property
    def title(self) -> str:
        return str(self.properties["title"])

    @property
    def row_count(self) -> int:
        return int(self.properties["gridProperties"].get("rowCount", 0))

    @property
    def col_count(self) -> int:
        return int(self.properties["gridProperties"].get("columnCount", 0))

    def resize(self, rows: int | None = None, cols: int | None = None) -> None:
        gp = self.properties["gridProperties"]
        if rows is not None:
            gp["rowCount"] = rows
        if cols is not None:
            gp["columnCount"] = cols
        self.cells = {k: v for k, v in self.cells.items()
                      if k[0] < self.row_count and k[1] < self.col_count}
        self._index()

    def get(self, r: int, c: int) -> JSON | None:
        return self.cells.get((r, c))

    def snapshot(self) -> Sheet:
        """A copy to restore if a request fails half-way. Stored cells are never edited in
        place (every write copies the cell, edits the copy and `put`s it), so the copy shares
        them: its cost is one dict copy, not a deep copy of every cell of a large tab."""
        return Sheet(copy.deepcopy(self.properties), dict(self.cells),
                     copy.deepcopy(self.row_meta), copy.deepcopy(self.col_meta),
                     copy.deepcopy(self.merges), copy.deepcopy(self.extra),
                     set(self.formula_cells or ()), self.extent)

    def put(self, r: int, c: int, cell: JSON | None) -> None:
        assert self.formula_cells is not None
        if _has_content(cell):
            assert cell is not None
            stored = self.cells[(r, c)] = {k: v for k, v in cell.items() if v not in (None, {})}
            if self.extent is not None:
                self.extent = (max(self.extent[0], r + 1), max(self.extent[1], c + 1))
            if _has_formula(stored):
                self.formula_cells.add((r, c))
                return
        else:
            if self.cells.pop((r, c), None) is not None and self.extent is not None and (
                    r + 1 == self.extent[0] or c + 1 == self.extent[1]):
                self.extent = None  # it was on the edge
        self.formula_cells.discard((r, c))

    def value_extent(self) -> tuple[int, int]:
        """(rows, cols) up to the last cell holding a value."""
        keys = [k for k, v in self.cells.items() if v.get("userEnteredValue")]
        if not keys:
            return 0, 0
        return max(k[0] for k in keys) + 1, max(k[1] for k in keys) + 1

    def insert(self, dimension: str, start: int, count: int) -> None:
        axis = 0 if dimension == "ROWS" else 1
        moved: dict[tuple[int, int], JSON] = {}
        for (r, c), cell in self.cells.items():
            key = [r, c]
            if key[axis] >= start:
                key[axis] += count
            moved[(key[0], key[1])] = cell
        self.cells = moved
        self._index()
        meta = self.row_meta if axis == 0 else self.col_meta
        shifted = {(i + count if i >= start else i): m for i, m in meta.items()}
        meta.clear()
        meta.update(shifted)
        if axis == 0:
            self.resize(rows=self.row_count + count)
        else:
            self.resize(cols=self.col_count + count)

    def delete(self, dimension: str, start: int, end: int) -> None:
        axis = 0 if dimension == "ROWS" else 1
        width = end - start
        moved: dict[tuple[int, int], JSON] = {}
        for (r, c), cell in self.cells.items():
            key = [r, c]
            if start <= key[axis] < end:
                continue
            if key[axis] >= end:
                key[axis] -= width
            moved[(key[0], key[1])] = cell
        self.cells = moved
        self._index()
        meta = self.row_meta if axis == 0 else self.col_meta
        kept = {(i - width if i >= end else i): m for i, m in meta.items() if not start <= i < end}
        meta.clear()
        meta.update(kept)
        if axis == 0:
            self.resize(rows=self.row_count - width)
        else:
            self.resize(cols=self.col_count - width)


@dataclass
class Spreadsheet:
    spreadsheet_id: str
    properties: JSON
    sheets: list[Sheet] = field(default_factory=list)
    named_ranges: list[JSON] = field(default_factory=list)
    shared_with: set[str] | None = None  # None: everyone may access
    formula_results: dict[str, JSON] = field(default_factory=dict)
    next_ids: list[int] = field(default_factory=list)  # ids to hand out next (replays)
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)
    # array-formula results by sheet id, (row, col): computed once per read (see `spills`)
    _spills: dict[int, dict[tuple[int, int], JSON]] = field(default_factory=dict, repr=False)
    _extents: dict[int, tuple[int, int]] = field(default_factory=dict, repr=False)
    # worked out once per read, like `_spills` (`fresh_read` forgets them): formats by
    # (kind, default format's text, cell format's text, number?), the default format's text,
    # and each sheet's conditional-format rules by column (`_rules`)
    _formats: dict[tuple[str, str, str, bool | None], JSON] = field(default_factory=dict,
                                                                   repr=False)
    _default_text: str | None = field(default=None, repr=False)
    _rules_by_sheet: dict[int, dict[int, list[tuple[int, int, JSON, JSON]]]] = field(
        default_factory=dict, repr=False)

    # ----------------------------------------------------------------- lookups
    def titles(self) -> list[str]:
        return [s.title for s in self.sheets]

    def sheet_by_id(self, sheet_id: int) -> Sheet:
        for sheet in self.sheets:
            if sheet.sheet_id == sheet_id:
                return sheet
        raise GridError(f"No grid with id: {sheet_id}")

    def sheet_by_title(self, title: str) -> Sheet:
        for sheet in self.sheets:
            if sheet.title == title:
                return sheet
        raise GridError(f"Unable to parse range: {title}")

    def new_sheet_id(self) -> int:
        if self.next_ids:
            return self.next_ids.pop(0)
        used = {s.sheet_id for s in self.sheets}
        while True:
            candidate = secrets.randbelow(2**31 - 1) + 1
            if candidate not in used:
                return candidate

    def shift_named_ranges(self, sheet_id: int, dimension: str, start: int, count: int) -> None:
        """Move named ranges of one sheet the way Google does when rows (or columns) are
        inserted (``count`` > 0, before index ``start``) or deleted (``count`` < 0, the
        ``-count`` lines from ``start``).

        Inserting before a range's first line moves the range down; inserting inside it grows
        it; inserting at its end (just below a bounded range) leaves it. Deleting lines above
        moves it up, deleting lines inside shrinks it; an unbounded end stays unbounded. A
        bounded range whose every line is deleted is dropped (Google shows it as #REF!)."""
        keys = (("startRowIndex", "endRowIndex") if dimension == "ROWS"
                else ("startColumnIndex", "endColumnIndex"))
        kept = []
        for named in self.named_ranges:
            rng = named.get("range") or {}
            if int(rng.get("sheetId", 0)) != sheet_id:
                kept.append(named)
                continue
            lo = int(rng.get(keys[0], 0))
            hi = rng.get(keys[1])
            if count > 0:
                new_lo = lo + count if start <= lo else lo
                new_hi = None if hi is None else (int(hi) + count if start < int(hi) else int(hi))
            else:
                end = start - count
                new_lo = _after_delete(lo, start, end)
                new_hi = None if hi is None else _after_delete(int(hi), start, end)
                if new_hi is not None and new_hi <= new_lo:
                    continue
            if new_lo:
                rng[keys[0]] = new_lo
            else:
                rng.pop(keys[0], None)
            if new_hi is not None:
                rng[keys[1]] = new_hi
            kept.append(named)
        self.named_ranges = kept

    def drop_named_ranges(self, sheet_id: int) -> None:
        """Named ranges of a deleted sheet go with it."""
        self.named_ranges = [n for n in self.named_ranges
                             if int((n.get("range") or {}).get("sheetId", 0)) != sheet_id]

    def reindex(self) -> None:
        self.sheets.sort(key=lambda s: s.properties["index"])
        for i, sheet in enumerate(self.sheets):
            sheet.properties["index"] = i

    def resolve(self, text: str, *, clip: bool = True) -> tuple[Sheet, int, int, int, int]:
        """A1 text -> (sheet, r0, r1, c0, c1), end-exclusive, open ends closed at the grid.

        With ``clip`` a bounded range beyond the grid is an error (reads); writers
        pass ``clip=False`` and grow the grid themselves."""
        tail = text.rsplit("!", 1)[-1]
        named = next((n for n in self.named_ranges if n["name"] in (text, tail)), None)
        if named is not None:
            return self.resolve_grid_range(named["range"])
        try:
            parsed = parse_range(text, self.titles())
        except A1Error:
            raise GridError(f"Unable to parse range: {text}") from None
        if not self.sheets:
            raise GridError(f"Unable to parse range: {text}")
        visible = [s for s in self.sheets if not s.properties.get("hidden")] or self.sheets
        sheet = self.sheet_by_title(parsed.sheet) if parsed.sheet is not None else visible[0]
        if parsed.whole_sheet:
            return sheet, 0, sheet.row_count, 0, sheet.col_count
        r0 = parsed.start_row or 0
        c0 = parsed.start_col or 0
        r1 = parsed.end_row if parsed.end_row is not None else max(sheet.row_count, r0 + 1)
        c1 = parsed.end_col if parsed.end_col is not None else max(sheet.col_count, c0 + 1)
        if clip and (r1 > sheet.row_count or c1 > sheet.col_count):
            raise GridError(
                f"Range ('{sheet.title}'!{text.split('!')[-1]}) exceeds grid limits. "
                f"Max rows: {sheet.row_count}, max columns: {sheet.col_count}"
            )
        return sheet, r0, r1, c0, c1

    def resolve_grid_range(self, gr: JSON) -> tuple[Sheet, int, int, int, int]:
        sheet = self.sheet_by_id(int(gr.get("sheetId", 0)))
        r0 = int(gr.get("startRowIndex", 0))
        r1 = int(gr.get("endRowIndex", sheet.row_count))
        c0 = int(gr.get("startColumnIndex", 0))
        c1 = int(gr.get("endColumnIndex", sheet.col_count))
        if min(r0, r1, c0, c1) < 0 or r0 > r1 or c0 > c1:
            raise GridError("Invalid range: start index must be <= end index and >= 0.")
        if r1 > sheet.row_count or c1 > sheet.col_count:
            cells = format_range(sheet.title, r0, max(r1, r0 + 1), c0, max(c1, c0 + 1))
            raise GridError(
                f"Range ('{sheet.title}'!{cells.rsplit('!', 1)[1]}) exceeds grid limits. "
                f"Max rows: {sheet.row_count}, max columns: {sheet.col_count}"
            )
        return sheet, r0, r1, c0, c1

    # ------------------------------------------------------------------- cells
    def effective_format(self, cell: JSON, effective: JSON | None) -> JSON:
        """The default format with the cell's own on top.

        Worked out once per distinct (default format, cell format, number or not) in a read
        and shared: the merge per cell was most of a large read's time. Callers copy it
        before changing it (`cell_data_at`); the response mask copies what it keeps."""
        default = self.properties.get("defaultFormat", DEFAULT_FORMAT)
        user = cell.get("userEnteredFormat", {})
        if self._default_text is None:
            self._default_text = repr(default)
        key = ("effective", self._default_text, repr(user),
               None if effective is None else "numberValue" in effective)
        fmt = self._formats.get(key)
        if fmt is None:
            fmt = deep_merge(default, cv.with_color_styles(user))
            if "horizontalAlignment" not in fmt and effective is not None:
                fmt["horizontalAlignment"] = "RIGHT" if "numberValue" in effective else "LEFT"
            fmt.setdefault("hyperlinkDisplayType", "PLAIN_TEXT")
            self._formats[key] = fmt
        return fmt

    def user_format(self, user: JSON) -> JSON:
        """`cv.with_color_styles` of a cell's own format, shared like `effective_format`."""
        key = ("user", "", repr(user), None)
        fmt = self._formats.get(key)
        if fmt is None:
            fmt = self._formats[key] = cv.with_color_styles(user)
        return fmt

    def cell_parts(
        self, cell: JSON | None
    ) -> tuple[JSON | None, JSON | None, str | None, JSON | None]:
        """(userEnteredValue, effectiveValue, formattedValue, numberFormat)."""
        if not cell:
            return None, None, None, None
        user = cell.get("userEnteredValue")
        effective = cv.effective_value(user, self.formula_results)
        number_format = cell.get("userEnteredFormat", {}).get("numberFormat")
        return user, effective, cv.formatted_value(effective, number_format), number_format

    # ------------------------------------------------------ computed cells
    def fresh_read(self) -> None:
        """Forget computed array results and shared formats: the next read works them out
        again."""
        self._spills = {}
        self._extents = {}
        self._formats = {}
        self._default_text = None
        self._rules_by_sheet = {}

    def _range_values(self, sheet: Sheet, tab: str | None, r0: int, r1: int, c0: int,
                      c1: int) -> formulas.Array:
        source = self.sheet_by_title(tab) if tab is not None else sheet
        r1 = source.row_count if r1 < 0 else min(r1, source.row_count)
        c1 = min(c1, source.col_count)
        out: formulas.Array = []
        for r in range(r0, r1):
            row: list[JSON | None] = []
            for c in range(c0, c1):
                cell = source.get(r, c)
                _user, effective, _f, number_format = self.cell_parts(cell)
                if effective is not None and number_format:
                    effective = {**effective, "_numberFormat": number_format}
                row.append(effective)
            out.append(row)
        return out

    def _used(self, sheet: Sheet) -> tuple[int, int]:
        """`Sheet.used_extent` with the cells array formulas spill into: once per read."""
        found = self._extents.get(sheet.sheet_id)
        if found is None:
            rows, cols = sheet.used_extent()
            spilled = self.spills(sheet)
            if spilled:
                rows = max(rows, max(spilled)[0] + 1)
                cols = max(cols, max(map(itemgetter(1), spilled)) + 1)
            found = self._extents[sheet.sheet_id] = (rows, cols)
        return found

    def spills(self, sheet: Sheet) -> dict[tuple[int, int], JSON]:
        """What array formulas show, cell by cell: the anchor and the cells it spills into.

        A spill that would cover a cell holding a value does not happen: the anchor shows
        #REF! naming that cell, as Google does. A looked-up number keeps its source's number
        format (Google infers a result's format from the cells it comes from)."""
        if sheet.sheet_id in self._spills:
            return self._spills[sheet.sheet_id]
        out: dict[tuple[int, int], JSON] = {}
        self._spills[sheet.sheet_id] = out
        ranges: dict[tuple[Any, ...], formulas.Array] = {}  # the output formulas share them

        def read(tab: str | None, r0: int, r1: int, c0: int, c1: int) -> formulas.Array:
            at = (tab, r0, r1, c0, c1)
            if at not in ranges:
                ranges[at] = self._range_values(sheet, tab, r0, r1, c0, c1)
            return ranges[at]

        for r, c in sorted(sheet.formula_cells or ()):
            formula = sheet.cells[(r, c)]["userEnteredValue"]["formulaValue"]
            if not isinstance(formula, str) or not formulas.is_array_formula(formula):
                continue
            try:
                result = formulas.evaluate(formula, read)
            except GridError as exc:
                out[(r, c)] = formulas.error("REF", str(exc))
                continue
            if r + len(result) > sheet.row_count or c + len(result[0]) > sheet.col_count:
                out[(r, c)] = formulas.error(
                    "REF", "Result was not automatically expanded, please insert more rows "
                    f"({r + len(result) - sheet.row_count}).")
                continue
            blocked = next(((r + i, c + j) for i, row in enumerate(result)
                            for j in range(len(row)) if (i or j)
                            and (sheet.get(r + i, c + j) or {}).get("userEnteredValue")), None)
            if blocked is not None:
                out[(r, c)] = formulas.error(
                    "REF", "Array result was not expanded because it would overwrite data in "
                    f"{index_to_col(blocked[1])}{blocked[0] + 1}.")
                continue
            for i, row in enumerate(result):
                for j, value in enumerate(row):
                    if value is not None:
                        out[(r + i, c + j)] = value
            out.setdefault((r, c), {"stringValue": ""})
        return out

    def cell_parts_at(self, sheet: Sheet, r: int, c: int
                      ) -> tuple[JSON | None, JSON | None, str | None, JSON | None]:
        """`cell_parts` of the cell at (r, c), array results included."""
        cell = sheet.get(r, c)
        spilled = self._spills.get(sheet.sheet_id)
        computed = (spilled if spilled is not None else self.spills(sheet)).get((r, c))
        if computed is None:
            return self.cell_parts(cell)
        effective = dict(computed)
        inferred = effective.pop("_numberFormat", None)
        user = (cell or {}).get("userEnteredValue")
        number_format = (cell or {}).get("userEnteredFormat", {}).get("numberFormat") or inferred
        return user, effective, cv.formatted_value(effective, number_format), number_format

    def conditional_format(self, sheet: Sheet, r: int, c: int, effective: JSON | None
                           ) -> JSON | None:
        """The format of the first conditional-format rule that applies to the cell."""
        for r0, r1, condition, fmt in self._rules(sheet).get(c, ()):
            if r0 <= r < r1 and _condition_holds(condition, effective):
                return dict(fmt)
        return None

    def _rules(self, sheet: Sheet) -> dict[int, list[tuple[int, int, JSON, JSON]]]:
        """The sheet's conditional-format rules by column, in rule order, as (first row,
        end row, condition, format): worked out once per read."""
        by_column = self._rules_by_sheet.get(sheet.sheet_id)
        if by_column is None:
            by_column = self._rules_by_sheet[sheet.sheet_id] = {}
            for rule in sheet.extra.get("conditionalFormats") or []:
                boolean = rule.get("booleanRule") or {}
                condition, fmt = boolean.get("condition") or {}, boolean.get("format") or {}
                for g in rule.get("ranges", []):
                    r0, r1 = int(g.get("startRowIndex", 0)), int(g.get("endRowIndex", 1 << 30))
                    c0 = int(g.get("startColumnIndex", 0))
                    c1 = min(int(g.get("endColumnIndex", sheet.col_count)), sheet.col_count)
                    for col in range(c0, c1):
                        by_column.setdefault(col, []).append((r0, r1, condition, fmt))
        return by_column

    def cell_data_at(self, sheet: Sheet, r: int, c: int) -> JSON:
        """`cell_data` of the cell at (r, c): array results and conditional formats in."""
        cell = sheet.get(r, c)
        computed = self.spills(sheet).get((r, c))
        rules = sheet.extra.get("conditionalFormats")
        out = self.cell_data(cell)
        if computed is not None:
            _user, effective, formatted, number_format = self.cell_parts_at(sheet, r, c)
            out["effectiveValue"] = effective
            out["formattedValue"] = formatted
            fmt = dict(self.effective_format(cell or {}, effective))  # changed below
            if number_format:
                fmt["numberFormat"] = cv.json_copy(number_format)
            out["effectiveFormat"] = fmt
        if rules:
            effective = out.get("effectiveValue")
            rule = self.conditional_format(sheet, r, c, effective)
            if rule:
                fmt = out["effectiveFormat"] = dict(  # a copy: changed below
                    out.get("effectiveFormat") or self.effective_format(cell or {}, effective))
                fmt.update(cv.with_color_styles(rule))  # it copies
        return out

    def cell_data(self, cell: JSON | None) -> JSON:
        """A full CellData as spreadsheets.get returns it."""
        if not cell:
            return {}
        user, effective, formatted, _ = self.cell_parts(cell)
        out: JSON = {}
        if user:
            out["userEnteredValue"] = cv.json_copy(user)
        if effective is not None:
            out["effectiveValue"] = effective
            out["formattedValue"] = formatted
        if cell.get("userEnteredFormat"):
            out["userEnteredFormat"] = self.user_format(cell["userEnteredFormat"])
        if effective is not None or cell.get("userEnteredFormat"):
            out["effectiveFormat"] = self.effective_format(cell, effective)
        for key in ("dataValidation", "note", "hyperlink", "textFormatRuns"):
            if cell.get(key):
                out[key] = copy.deepcopy(cell[key])
        return out

    # -------------------------------------------------------------------- JSON
    def sheet_json(self, sheet: Sheet) -> JSON:
        out: JSON = {"properties": clean_properties(sheet.properties)}
        if sheet.merges:
            out["merges"] = [clean_grid_range(m) for m in sheet.merges]
        for key, value in sheet.extra.items():
            if value:
                out[key] = copy.deepcopy(value)
        return out

    def grid_data(self, sheet: Sheet, r0: int, r1: int, c0: int, c1: int) -> JSON:
        spilled = self.spills(sheet)
        rules = sheet.extra.get("conditionalFormats") or []
        plain = not spilled and not rules
        computed = (lambda sh, r, c: self.cell_data(sh.get(r, c))) if plain else \
            self.cell_data_at
        # past the last cell holding anything every cell is empty, as Google leaves it out,
        # unless a conditional-format rule colours empty cells
        r_end, c_end = r1, c1
        if not any(_colours_blank(rule) for rule in rules):
            rows_used, cols_used = self._used(sheet)
            r_end, c_end = min(r1, rows_used), min(c1, cols_used)
        rows: list[JSON] = []
        for r in range(r0, r_end):
            values = [computed(sheet, r, c) for c in range(c0, c_end)]
            while values and not values[-1]:
                values.pop()
            rows.append({"values": values} if values else {})
        while rows and not rows[-1]:
            rows.pop()
        data: JSON = {}
        if r0:
            data["startRow"] = r0
        if c0:
            data["startColumn"] = c0
        if rows:
            data["rowData"] = rows
        data["rowMetadata"] = [
            {"pixelSize": 21, **sheet.row_meta.get(r, {})} for r in range(r0, r1)
        ]
        data["columnMetadata"] = [
            {"pixelSize": 100, **sheet.col_meta.get(c, {})} for c in range(c0, c1)
        ]
        return data

    def to_json(self, ranges: list[str] | None = None, grid: bool = False) -> JSON:
        self.fresh_read()
        out: JSON = {"spreadsheetId": self.spreadsheet_id,
                     "properties": copy.deepcopy(self.properties), "sheets": []}
        if ranges:
            picked: dict[int, list[tuple[int, int, int, int]]] = {}
            order: list[Sheet] = []
            for text in ranges:
                sheet, r0, r1, c0, c1 = self.resolve(text)
                if sheet.sheet_id not in picked:
                    picked[sheet.sheet_id] = []
                    order.append(sheet)
                picked[sheet.sheet_id].append((r0, r1, c0, c1))
            for sheet in order:
                entry = self.sheet_json(sheet)
                if grid:
                    entry["data"] = [self.grid_data(sheet, *b) for b in picked[sheet.sheet_id]]
                out["sheets"].append(entry)
        else:
            for sheet in self.sheets:
                entry = self.sheet_json(sheet)
                if grid:
                    entry["data"] = [self.grid_data(sheet, 0, sheet.row_count, 0, sheet.col_count)]
                out["sheets"].append(entry)
        if self.named_ranges:
            out["namedRanges"] = copy.deepcopy(self.named_ranges)
        out["spreadsheetUrl"] = f"https://docs.google.com/spreadsheets/d/{self.spreadsheet_id}/edit"
        return out


def _colours_blank(rule: JSON) -> bool:
    """Whether a conditional-format rule may colour an empty cell (unknown types: maybe)."""
    try:
        return _condition_holds((rule.get("booleanRule") or {}).get("condition") or {}, None)
    except GridError:
        return True


def _condition_holds(condition: JSON, effective: JSON | None) -> bool:
    """The conditions the sync's colour rules use; any other type is not emulated."""
    kind = condition.get("type")
    text = "" if effective is None else str(next(iter(effective.values()), ""))
    if kind == "NOT_BLANK":
        return effective is not None and text != ""
    if kind == "BLANK":
        return effective is None or text == ""
    if kind == "TEXT_EQ":
        wanted = [str(v.get("userEnteredValue") or "") for v in condition.get("values") or []]
        return bool(wanted) and effective is not None and text.lower() == wanted[0].lower()
    raise GridError(f"Condition type {kind} is not emulated.")


def _after_delete(index: int, start: int, end: int) -> int:
    """Where a range bound ends up once lines [start, end) are deleted."""
    if index >= end:
        return index - (end - start)
    return min(index, start)


def new_spreadsheet(spreadsheet_id: str, title: str) -> Spreadsheet:
    props: JSON = {
        "title": title,
        "locale": "en_US",
        "autoRecalc": "ON_CHANGE",
        "timeZone": "Etc/GMT",
        "defaultFormat": copy.deepcopy(DEFAULT_FORMAT),
        "spreadsheetTheme": {
            "primaryFontFamily": "Arial",
            "themeColors": [{"colorType": t, "color": {"rgbColor": dict(c)}} for t, c in _THEME],
        },
    }
    return Spreadsheet(spreadsheet_id, props)


def new_sheet_properties(sheet_id: int, title: str, index: int, rows: int = 1000,
                         cols: int = 26) -> JSON:
    return {"sheetId": sheet_id, "title": title, "index": index, "sheetType": "GRID",
            "gridProperties": {"rowCount": rows, "columnCount": cols}}
