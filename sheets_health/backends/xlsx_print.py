"""How a workbook prints: legible pages, long text wrapped inside its column.

A tab's `PrintLayout` (in the template) becomes openpyxl page setup: orientation, no
squeezing of wide tabs, the header row and the key columns repeated on every page, and
wrapping styles on the long-text columns. Neither Excel nor LibreOffice grows a row for
wrapped text when it opens a file, so a row holding wrapped text gets a height that fits it
(`fit_row_height`), estimated from the column widths.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from copy import copy

from openpyxl.cell.cell import Cell, MergedCell
from openpyxl.styles import Alignment
from openpyxl.utils import column_index_from_string, get_column_letter
from openpyxl.worksheet.page import PageMargins
from openpyxl.worksheet.worksheet import Worksheet

from sheets_health.cells import is_blank, key_text
from sheets_health.model import norm_header
from sheets_health.template import PrintLayout

WRAP = Alignment(wrap_text=True)
DEFAULT_WIDTH = 8.43  # Excel's default column width, in characters
POINTS_PER_LINE = 15 / 11  # Excel's 15 pt default row for 11 pt text


def apply_print_layout(ws: Worksheet, layout: PrintLayout, header_rows: int = 1) -> None:
    """Page setup that prints legibly (see `PrintLayout`); columns are found by header.

    Applied to tabs ``init`` creates (and by the demo); a tab that exists keeps its own.
    """
    setup = ws.page_setup
    setup.orientation = "landscape" if layout.landscape else "portrait"
    setup.pageOrder = "overThenDown"
    ws.sheet_properties.pageSetUpPr.fitToPage = layout.fit_to_width
    if layout.fit_to_width:
        setup.fitToWidth, setup.fitToHeight = 1, 0
    else:
        setup.scale = 100
    ws.page_margins = PageMargins(left=0.4, right=0.4, top=0.5, bottom=0.6, header=0.3,
                                  footer=0.3)  # narrow: one more column per page
    ws.oddFooter.center.text = "&A, page &P of &N"  # a loose page still says where it goes
    if header_rows:
        ws.print_title_rows = f"1:{header_rows}"
    columns = _header_columns(ws)
    keys = sorted(c for c in (columns.get(norm_header(h)) for h in layout.repeat_columns) if c)
    if keys:  # print titles must be adjacent columns: else only the first key repeats
        last = keys[-1] if keys == list(range(keys[0], keys[-1] + 1)) else keys[0]
        ws.print_title_cols = f"{get_column_letter(keys[0])}:{get_column_letter(last)}"
    for header in layout.wrap:
        col = columns.get(norm_header(header))
        if col is None:
            continue
        ws.column_dimensions[get_column_letter(col)].alignment = WRAP
        for (cell,) in ws.iter_rows(min_row=header_rows + 1, min_col=col, max_col=col):
            if not isinstance(cell, MergedCell) and not is_blank(cell.value):
                wrap_cell(cell)
    wraps = wrapping_columns(ws)
    for row in range(header_rows + 1, ws.max_row + 1):
        fit_row_height(ws, row, wraps)


def wrap_cell(cell: Cell) -> None:
    """Wrap the cell's text, keeping the rest of its alignment (e.g. top)."""
    if not cell.alignment.wrap_text:
        alignment = copy(cell.alignment)
        alignment.wrap_text = True
        cell.alignment = alignment


def wrapping_columns(ws: Worksheet) -> dict[int, Alignment]:
    """Columns whose style wraps text (1-based). A cell the tool writes there wraps too, as
    one typed there in Excel would: long Reasons stay inside their column instead of being
    cut off by the next one."""
    wraps: dict[int, Alignment] = {}
    for key, dim in ws.column_dimensions.items():
        if dim.alignment is not None and dim.alignment.wrap_text:
            first = dim.min or column_index_from_string(key)
            for col in range(first, (dim.max or first) + 1):
                wraps[col] = dim.alignment
    return wraps


def fit_row_height(ws: Worksheet, row: int, wraps: Mapping[int, Alignment]) -> None:
    """Make a row tall enough for the wrapped text in it (back to the default when one line
    does); rows without wrapped text are left as they are."""
    lines, size = 1, 11.0
    for col in wraps:
        cell = ws.cell(row=row, column=col)
        if isinstance(cell, MergedCell) or is_blank(cell.value) or not cell.alignment.wrap_text:
            continue
        dim = ws.column_dimensions.get(get_column_letter(col))
        width = (dim.width if dim is not None and dim.width else None) or DEFAULT_WIDTH
        lines = max(lines, wrapped_lines(key_text(cell.value), width))
        size = max(size, float(cell.font.sz or 11))
    ws.row_dimensions[row].height = (
        None if lines == 1 else math.ceil(lines * size * POINTS_PER_LINE))


def wrapped_lines(text: str, width: float) -> int:
    """Lines ``text`` takes in a column ``width`` characters wide, wrapped at spaces."""
    # a width unit is one digit wide; text averages a little narrower (about 1.25 letters per
    # unit in Calibri and in LibreOffice's stand-in), so 1.1 leaves a margin for wide words
    per_line = max(1, int(width * 1.1))
    total = 0
    for paragraph in text.split("\n"):
        count, used = 1, 0
        for word in paragraph.split():
            if used and used + 1 + len(word) > per_line:
                count, used = count + 1, 0
            used += len(word) + (1 if used else 0)
            while used > per_line:  # a word longer than a line breaks across lines
                count, used = count + 1, used - per_line
        total += count
    return total


def _header_columns(ws: Worksheet) -> dict[str, int]:
    columns: dict[str, int] = {}
    for cell in ws[1] if ws.max_row >= 1 else ():
        if isinstance(cell.value, str) and cell.value.strip():
            columns.setdefault(norm_header(cell.value), cell.column)
    return columns
