"""The Summary tab as a laid-out grid both backends draw the same way: cells, their styles
(bold titles, number formats, colour fills), column widths and where the chart goes.

The chart of the colour mix sits right under the title, where a lead looks first; the table it
reads from is the last section. Pure: no IO, no openpyxl or gspread.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from sheets_health.cells import is_blank, same_value
from sheets_health.model import CellValue, Fill, Mark, Rag, Table
from sheets_health.roster import date_or_none, number_or_none
from sheets_health.summary import (
    LABELS,
    MIX_DAYS,
    MIX_TITLE,
    NO_DATA,
    ChartRange,
    ColourMix,
    Section,
    Summary,
)

CHART_ROWS = 18  # blank rows under the title that the chart covers
CHART_TITLE = "Customers by health colour, day by day"
# the chart's series, in LABELS order: stronger than the cell fills, so the bars read at a glance
SERIES_COLOURS = ("6AA84F", "F1C232", "CC4125", "B7B7B7")
HEADER_FILL = "EFEFEF"
_FILLS = {Rag.GREEN.value: Fill.GREEN.value, Rag.YELLOW.value: Fill.YELLOW.value,
          Rag.RED.value: Fill.RED.value, NO_DATA: Fill.GREY.value}
_FORMATS = {"ARR": "#,##0", "ARR at risk": "#,##0", "% of ARR": '0.0"%"', "% fed": '0.0"%"',
            "Renewal date": "yyyy-mm-dd", "Date": "yyyy-mm-dd", "Score": "0",
            "Score then": "0", "Score now": "0", "Change": "+0;-0;0"}
_COLOURED = {"Health", "From", "To"}  # columns whose cells name a colour
_WRAPPED = {"Reasons", "Next step"}
_MAX_WIDTH = 48.0
_MIN_WIDTH = 9.0


@dataclass(frozen=True)
class CellStyle:
    bold: bool = False
    size: int | None = None  # font points; None: the default
    fill: str | None = None  # RRGGBB
    number_format: str | None = None
    wrap: bool = False
    italic: bool = False


@dataclass(frozen=True)
class SummarySheet:
    """``styles`` by (0-based row, 0-based column); ``chart`` in 1-based sheet rows."""

    cells: tuple[tuple[CellValue, ...], ...]
    styles: Mapping[tuple[int, int], CellStyle] = field(default_factory=dict)
    widths: tuple[float, ...] = ()
    chart: ChartRange = field(default_factory=lambda: ChartRange(0, 0, 0, 0, ()))
    chart_row: int = 2  # 0-based row of the chart's top-left corner (column A)
    chart_title: str = CHART_TITLE
    series_colours: tuple[str, ...] = SERIES_COLOURS
    fingerprint: str = ""  # of what it shows (`layout`), also in row 1's note
    lists_width: int = 0  # the columns the lists take (what a printout shows, with the chart)

    @property
    def has_chart(self) -> bool:
        return self.chart.last_row >= self.chart.first_row > 0


TITLE = "Customer health summary"
OWNED_NOTE = "Rewritten by every sync: edits here are lost"
_TITLE_WIDTH = 32.0
# The colour-mix table sits at a fixed place, right of every section (the widest has ten
# columns) and level with the chart: a sync on Google reads the Summary as its row 1 (with
# the fingerprint of what it shows) and this rectangle, whatever the length of the lists.
MIX_COLUMN = 12  # 0-based: column M
MIX_TOP = 3  # 1-based: the table's title row
MIX_RANGE = Mark(MIX_TOP, MIX_TOP + 2 + MIX_DAYS + 1, MIX_COLUMN, MIX_COLUMN + 1 + len(LABELS))
_FINGERPRINT = " · "  # between the note and the fingerprint in row 1


def _top_row(summary: Summary, width: int) -> tuple[CellValue, ...]:
    """Row 1 is the tab's header row as the backends read it: the title, the day, and a note
    in the last column, so a read of the tab keeps every column (the mix table included)."""
    day = summary.mix.days[-1] if summary.mix.days else None
    row: list[CellValue] = [None] * max(width, 3)
    row[0], row[1], row[-1] = TITLE, day, OWNED_NOTE
    return tuple(row)


def _section_styles(section: Section, row: int, col0: int,
                    styles: dict[tuple[int, int], CellStyle], widths: list[float]) -> int:
    """The styles and column widths of a section whose title is on 0-based ``row`` from
    column ``col0``; the row after it."""
    styles[(row, col0)] = CellStyle(bold=True, size=12)
    header_row = row + 1
    for col, header in enumerate(section.headers, start=col0):
        styles[(header_row, col)] = CellStyle(bold=True, fill=_FILLS.get(header, HEADER_FILL),
                                              wrap=True)
        widths[col] = max(widths[col], min(_MAX_WIDTH, len(header) + 2.0))
    for i, values in enumerate(section.rows):
        r = header_row + 1 + i
        for offset, value in enumerate(values):
            header = section.headers[offset] if offset < len(section.headers) else ""
            fill = _FILLS.get(str(value)) if header in _COLOURED else None
            style = CellStyle(fill=fill, number_format=_FORMATS.get(header),
                              wrap=header in _WRAPPED, bold=str(value).startswith(
                                  ("Total", "ARR at risk")) and offset == 0)
            if style != CellStyle():
                styles[(r, col0 + offset)] = style
            widths[col0 + offset] = max(widths[col0 + offset],
                                        min(_MAX_WIDTH, _text_width(value) + 2.0))
    row = header_row + 1 + len(section.rows)
    if section.note:
        styles[(row, col0)] = CellStyle(italic=True)
        row += 1
    return row


def layout(summary: Summary) -> SummarySheet:
    mix = next((s for s in summary.sections if s.title == MIX_TITLE), None)
    lists = replace(summary, sections=tuple(s for s in summary.sections if s is not mix))
    grid, _chart = lists.grid()
    width = lists_width = max(len(grid[0]) if grid else 0, 3)
    if mix is not None:
        if width > MIX_COLUMN - 1:
            raise ValueError(f"a Summary section is {width} columns wide: it would reach the "
                             "colour-mix table")
        width = MIX_COLUMN + len(mix.headers)
    blank: list[CellValue] = [None] * width
    rows = [list(_top_row(summary, width)), [*grid[1], *blank][:width],
            *(list(blank) for _ in range(CHART_ROWS)),
            *([*r, *blank][:width] for r in grid[2:])]
    styles: dict[tuple[int, int], CellStyle] = {
        (0, 0): CellStyle(bold=True, size=14),
        (0, 1): CellStyle(bold=True, size=14, number_format="yyyy-mm-dd"),
        (0, width - 1): CellStyle(italic=True)}
    widths = [_MIN_WIDTH] * width
    widths[0] = _TITLE_WIDTH
    row = 2 + CHART_ROWS  # 0-based: the first section's title
    for section in lists.sections:
        row = _section_styles(section, row, 0, styles, widths) + 1  # a blank row between
    chart = ChartRange(0, 0, 0, 0, ())
    if mix is not None:
        block = [(mix.title,), mix.headers, *mix.rows]
        while len(rows) < MIX_TOP - 1 + len(block):
            rows.append(list(blank))
        for i, values in enumerate(block):
            rows[MIX_TOP - 1 + i][MIX_COLUMN:MIX_COLUMN + len(values)] = values
        _section_styles(mix, MIX_TOP - 1, MIX_COLUMN, styles, widths)
        chart = ChartRange(MIX_TOP + 1, MIX_TOP + 2, MIX_TOP + 1 + len(mix.rows), MIX_COLUMN,
                           tuple(range(MIX_COLUMN + 1, MIX_COLUMN + len(mix.headers))))
    cells = tuple(tuple(r) for r in rows)
    sheet = SummarySheet(cells, styles, tuple(widths), chart, lists_width=lists_width)
    fingerprint = _fingerprint(sheet)
    top = list(cells[0])
    top[-1] = f"{OWNED_NOTE}{_FINGERPRINT}{fingerprint}"
    return replace(sheet, cells=(tuple(top), *cells[1:]), fingerprint=fingerprint)


def _fingerprint(sheet: SummarySheet) -> str:
    """What the tab shows, in 12 hex digits (row 1's note left out: it carries them)."""
    import hashlib

    shown = repr((sheet.cells, sorted(sheet.styles.items()), sheet.widths, sheet.chart,
                  sheet.chart_row, sheet.chart_title, sheet.series_colours))
    return hashlib.sha256(shown.encode()).hexdigest()[:12]


def shown_fingerprint(table: Table | None) -> str | None:
    """The fingerprint row 1 of a Summary tab carries; None on a tab the tool drew before it
    had one (or that is not the tool's)."""
    if table is None:
        return None
    for header in table.headers:
        text = header if isinstance(header, str) else ""
        if text.startswith(OWNED_NOTE + _FINGERPRINT):
            return text[len(OWNED_NOTE + _FINGERPRINT):].strip() or None
    return None


def read_whole(table: Table | None) -> bool:
    """A Summary read through `MIX_RANGE` that the tool drew before the table had its fixed
    place: read it whole once (its past days are in the old place)."""
    return (table is not None and not table.complete and TITLE in table.headers
            and shown_fingerprint(table) is None)


def _text_width(value: CellValue) -> float:
    if value is None:
        return 0.0
    if isinstance(value, float | int) and not isinstance(value, bool):
        return len(f"{value:,.0f}") + 1.0
    return float(len(str(value)))


def read_mix(table: Table | None) -> ColourMix | None:
    """The colour-mix series the Summary tab shows (found by its section title, whatever row
    it is on): the days a sync's bounded History read no longer holds."""
    if table is None:
        return None
    rows = [(table.row_numbers[i], table.rows[i]) for i in range(len(table.rows))]
    found = next(((n, r.index(MIX_TITLE)) for n, r in rows if MIX_TITLE in r), None)
    if found is None:
        return None
    start, col0 = found  # column M, or A in a tab drawn before the table had its place
    by_row = dict(rows)
    headers = [str(v) for v in by_row.get(start + 1, ())]
    columns = {label: headers.index(label, col0) for label in LABELS
               if label in headers[col0:]}
    if len(columns) < len(LABELS):
        return None
    days: list[dt.date] = []
    counts: dict[str, list[int]] = {label: [] for label in LABELS}
    row = start + 2
    while row in by_row:
        cells = by_row[row]
        day = date_or_none(cells[col0] if col0 < len(cells) else None)
        if day is None:
            break
        days.append(day)
        for label, col in columns.items():
            value = number_or_none(cells[col] if col < len(cells) else None)
            counts[label].append(int(value or 0))
        row += 1
    return ColourMix(tuple(days), {k: tuple(v) for k, v in counts.items()})


def unchanged(table: Table | None, sheet: SummarySheet) -> bool:
    """The tab already shows these cells (a second sync the same day with nothing changed
    rewrites nothing). Read with row 1 as headers, as every tab is; read through
    `MIX_RANGE` (Google), by the fingerprint row 1 carries."""
    if table is None:
        return False
    if not table.complete:
        return bool(sheet.fingerprint) and shown_fingerprint(table) == sheet.fingerprint
    if [_header(v) for v in sheet.cells[0]] != [_header(v) for v in table.headers]:
        return False  # row 1 is read as header text
    shown = dict(zip(table.row_numbers, table.rows, strict=True))
    wanted = {r: v for r, v in enumerate(sheet.cells, start=1)
              if r > 1 and any(not is_blank(c) for c in v)}
    shown = {r: v for r, v in shown.items() if any(not is_blank(c) for c in v)}
    if shown.keys() != wanted.keys():
        return False
    for r, values in wanted.items():
        have = shown[r]
        for c, value in enumerate(values):
            found = have[c] if c < len(have) else None
            if not same_value(found if not is_blank(found) else None, value):
                return False
        if any(not is_blank(v) for v in have[len(values):]):
            return False
    return True


def _header(value: CellValue) -> str:
    if isinstance(value, dt.date):
        return value.isoformat()[:10]
    return "" if is_blank(value) else str(value).strip()
