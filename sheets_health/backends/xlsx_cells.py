"""Reading a few cells of a saved workbook without reading every cell of its tabs.

openpyxl's read-only mode turns every cell of every row it passes into a cell object (about
15 µs each): to check the 60,000 cells a 10,000-customer sync wrote, it worked through all
300,000 cells of the Customers tab, and to learn the cached results of a tab's formulas it
read the whole tab again. `read_cells` walks each tab's XML once with lxml, looks only at
the ``r`` (coordinate) attribute of the cells it does not want, and hands the cells it does
want to openpyxl's own cell parser — so a wanted cell reads exactly as a read-only
`load_workbook` reads it (shared strings, inline strings, booleans, dates by number format,
the 1904 calendar, formulas or, with ``data_only``, their cached results).

The per-cell parser (`openpyxl.worksheet._reader.WorkSheetParser.parse_cell`) and the
workbook's style tables are private to openpyxl, checked with the release line that
`private_api.OPENPYXL` names. With any other release (or if they are gone) the same cells are
read through openpyxl's public read-only rows instead: the same answer, only slower.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Set
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from openpyxl.cell.read_only import ReadOnlyCell
from openpyxl.utils.cell import column_index_from_string, coordinate_from_string

from sheets_health.backends import xlsx_tails
from sheets_health.backends.private_api import OPENPYXL

_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_ROW = f"{_MAIN}row"
_CELL = f"{_MAIN}c"
_FORMULA = f"{_MAIN}f"
_INLINE = f"{_MAIN}is"
_TEXT = f"{_MAIN}t"
_RUN_TEXT = f"{_MAIN}r/{_MAIN}t"


def _parser_class() -> Any | None:
    """openpyxl's per-cell parser, or None outside the checked releases."""
    import openpyxl

    if not OPENPYXL.checks(openpyxl.__version__):
        return None
    try:
        from openpyxl.worksheet._reader import WorkSheetParser
    except ImportError:
        return None
    return WorkSheetParser


def read_cells(path: Path, wanted: Mapping[str, Set[str]], *, data_only: bool = False,
               starts: Mapping[str, tuple[int, bytes, int | None]] | None = None
               ) -> dict[str, dict[str, ReadOnlyCell]]:
    """The wanted cells of each tab (title -> coordinates such as ``"E5"``), as openpyxl's
    read-only load would give them; a cell the file does not hold is left out. A title the
    workbook lacks raises `KeyError`, as ``wb[title]`` does.

    ``starts``: for a tab whose wanted cells all lie in rows that start at a known byte of
    its XML, (that offset, the XML to read before it: the root element and ``<sheetData>``,
    and None or where in the compressed part a run of deflate blocks starts that the offset
    counts from); the rows above are passed over unparsed, and the compressed bytes above
    that run are not inflated (a detached tab, `xlsx_tails.Saved`)."""
    parser_class = _parser_class()
    wb = load_workbook(path, read_only=True, data_only=data_only, rich_text=False)
    try:
        found: dict[str, dict[str, ReadOnlyCell]] = {}
        for title, coordinates in wanted.items():
            ws = wb[title]
            cells: dict[str, ReadOnlyCell] = found.setdefault(title, {})
            if not coordinates:
                continue
            rows = {coordinate_from_string(c)[1] for c in coordinates}
            if parser_class is None:
                cells.update(_public_rows(ws, coordinates, min(rows), max(rows)))
                continue
            start = (starts or {}).get(title)
            cells.update(_parsed(path, ws, parser_class, coordinates, rows, data_only, start))
            left = {c for c, cell in cells.items() if _unresolved(cell)}
            if left:  # cells of a shared formula whose first cell was passed over
                left_rows = [coordinate_from_string(c)[1] for c in left]
                cells.update(_public_rows(ws, left, min(left_rows), max(left_rows)))
        return found
    finally:
        wb.close()


def _public_rows(ws: Any, coordinates: Set[str], first: int, last: int
                 ) -> Iterator[tuple[str, ReadOnlyCell]]:
    """The wanted cells through openpyxl's public read-only rows (every cell parsed)."""
    for row in ws.iter_rows(min_row=first, max_row=last):
        for cell in row:
            if isinstance(cell, ReadOnlyCell) and cell.coordinate in coordinates:
                yield cell.coordinate, cell


def _unresolved(cell: ReadOnlyCell) -> bool:
    """A cell of a shared formula read without the formula's first cell: its text is "="."""
    return cell.data_type == "f" and cell.value == "="


def _parsed(path: Path, ws: Any, parser_class: Any, coordinates: Set[str], rows: Set[int],
            data_only: bool, start: tuple[int, bytes, int | None] | None = None
            ) -> Iterator[tuple[str, ReadOnlyCell]]:
    """The wanted cells, only they handed to openpyxl's cell parser."""
    from lxml import etree

    last = max(rows)
    with _source(path, ws, start) as raw:
        source = raw if start is None else _Resumed(raw, start[0], start[1])
        parser = parser_class(source, ws._shared_strings, data_only=data_only,
                              epoch=ws.parent.epoch, date_formats=ws.parent._date_formats,
                              timedelta_formats=ws.parent._timedelta_formats)
        for _event, row in etree.iterparse(source, tag=_ROW, huge_tree=True):
            number = _row_number(row, parser.row_counter)
            parser.row_counter, parser.col_counter = number, 0
            if number in rows:
                seen = None  # the last coordinate passed over, for a cell without one
                for element in row.iterchildren(_CELL):
                    coordinate = element.get("r")
                    if coordinate is not None and coordinate not in coordinates:
                        seen = coordinate
                        continue
                    if coordinate is None and seen is not None:  # count on from there
                        parser.col_counter = column_index_from_string(
                            coordinate_from_string(seen)[0])
                    seen = None
                    got = _inline(ws, element, number, coordinate)
                    if got is None:
                        cell = parser.parse_cell(element)
                        got = ReadOnlyCell(ws, cell["row"], cell["column"], cell["value"],
                                           cell["data_type"], cell["style_id"])
                    else:
                        parser.col_counter = got.column
                    if got.coordinate in coordinates:
                        yield got.coordinate, got
            row.clear()
            if number >= last:
                break


def _source(path: Path, ws: Any, start: tuple[int, bytes, int | None] | None) -> Any:
    """The tab's XML as a file: from the run of compressed blocks ``start`` names, if any."""
    if start is None or start[2] is None:
        return ws._get_source()
    return xlsx_tails.inflated_from(path, ws._worksheet_path, start[2])


class _Resumed:
    """A tab's XML read from byte ``offset`` on, ``head`` (its root element and
    ``<sheetData>``) in front, so what is left parses as a worksheet."""

    def __init__(self, source: Any, offset: int, head: bytes) -> None:
        self._source, self._skip, self._head = source, offset, head

    def read(self, size: int = -1) -> bytes:
        while self._skip > 0:
            chunk = self._source.read(min(self._skip, 1 << 20))
            if not chunk:
                break
            self._skip -= len(chunk)
        if self._head:
            head, self._head = self._head, b""
            return head
        data: bytes = self._source.read(size)
        return data


def _inline(ws: Any, element: Any, row: int, coordinate: str | None) -> ReadOnlyCell | None:
    """An inline-string cell (what openpyxl itself writes for text) read as openpyxl's parser
    reads it, without building its rich-text objects; None for any other cell."""
    if coordinate is None or element.get("t") != "inlineStr" or element.find(_FORMULA) is not None:
        return None
    node = element.find(_INLINE)
    text = None
    if node is not None:
        plain = node.find(_TEXT)
        snippets = [] if plain is None or plain.text is None else [plain.text]
        snippets += [t.text for t in node.iterfind(_RUN_TEXT) if t.text is not None]
        text = "".join(snippets)
    style = element.get("s")
    return ReadOnlyCell(ws, row, column_index_from_string(coordinate_from_string(coordinate)[0]),
                        text, "s" if node is not None else "inlineStr", int(style) if style else 0)


def _row_number(row: Any, previous: int) -> int:
    text = row.get("r")
    if text is None:
        return previous + 1
    value = float(text)
    if not value.is_integer():
        raise ValueError(f"{text} is not a valid row number")
    return int(value)

