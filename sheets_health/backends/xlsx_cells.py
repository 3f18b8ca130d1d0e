"""Reading a few cells of a saved workbook without reading every cell of its tabs.

openpyxl's read-only mode turns every cell of every row it passes into a cell object (about
15 µs each): to check the 100,000 cells a 10,000-customer sync wrote, it worked through all
420,000 cells of the Customers tab, and to learn the cached results of a tab's formulas it
read the whole tab again. `read_values` (the read-back of a save) and `read_cells` (formula
results) find each wanted cell in its row by its ``r`` (coordinate) attribute and read it
with `xlsx_scan`, which hands any row it does not read itself to openpyxl's own cell parser
— so a wanted cell reads exactly as a read-only `load_workbook` reads it (shared strings,
inline strings, booleans, dates by number format, the 1904 calendar, formulas or, with
``data_only``, their cached results).

The per-cell parser (`openpyxl.worksheet._reader.WorkSheetParser.parse_cell`) and the
workbook's style tables are private to openpyxl, checked with the release line that
`private_api.OPENPYXL` names. With any other release (or if they are gone) the same cells are
read through openpyxl's public read-only rows instead: the same answer, only slower.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Set
from pathlib import Path
from typing import Any, TypeAlias

from openpyxl import load_workbook
from openpyxl.cell.read_only import ReadOnlyCell
from openpyxl.utils.cell import coordinate_to_tuple

from sheets_health.backends import xlsx_scan, xlsx_tails
from sheets_health.backends.private_api import OPENPYXL


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


# (value, data type, style id), or openpyxl's own cell where its public rows read it
_Found: TypeAlias = "tuple[Any, str, int] | ReadOnlyCell"

# a cell read back: its value as openpyxl reads it, its data type and its number format
Read = tuple[Any, str, str]


def read_values(path: Path, wanted: Mapping[str, Mapping[int, Collection[int]]], *,
                starts: Mapping[str, tuple[int, bytes, int | None]] | None = None
                ) -> dict[str, dict[tuple[int, int], Read]]:
    """The wanted cells of each tab (title -> row -> 1-based columns) by (row, column), as
    openpyxl's read-only load would read them; a cell the file does not hold is left out. A
    title the workbook lacks raises `KeyError`, as ``wb[title]`` does.

    ``starts``: for a tab whose wanted cells all lie in rows that start at a known byte of
    its XML, (that offset, the XML to read before it: the root element and ``<sheetData>``,
    and None or where in the compressed part a run of deflate blocks starts that the offset
    counts from); the rows above are passed over unparsed, and the compressed bytes above
    that run are not inflated (a detached tab, `xlsx_tails.Saved`)."""
    cells = _read(path, wanted, False, starts)
    formats: dict[int, str] = {}  # style id -> number format, worked out once each

    def number_format(ws: Any, style: int) -> str:
        found = formats.get(style)
        if found is None:
            found = formats[style] = ReadOnlyCell(ws, 1, 1, None, "n", style).number_format
        return found

    return {title: {key: (cell.value, cell.data_type, cell.number_format)
                    if isinstance(cell, ReadOnlyCell) else
                    (cell[0], cell[1], number_format(ws, cell[2]))
                    for key, cell in found.items()} for title, (ws, found) in cells.items()}


def read_cells(path: Path, wanted: Mapping[str, Set[str]], *, data_only: bool = False
               ) -> dict[str, dict[str, ReadOnlyCell]]:
    """The wanted cells of each tab (title -> coordinates such as ``"E5"``) as openpyxl's
    read-only load gives them (with ``data_only``: formulas' cached results)."""
    positions: dict[str, dict[int, list[int]]] = {}
    for title, coordinates in wanted.items():
        rows = positions.setdefault(title, {})
        for coordinate in coordinates:
            row, column = coordinate_to_tuple(coordinate)
            rows.setdefault(row, []).append(column)
    found = _read(path, positions, data_only, None)
    return {title: {(c := cell if isinstance(cell, ReadOnlyCell)
                     else ReadOnlyCell(ws, row, column, *cell)).coordinate: c
                    for (row, column), cell in cells.items()}
            for title, (ws, cells) in found.items()}


def _read(path: Path, wanted: Mapping[str, Mapping[int, Collection[int]]], data_only: bool,
          starts: Mapping[str, tuple[int, bytes, int | None]] | None
          ) -> dict[str, tuple[Any, dict[tuple[int, int], _Found]]]:
    """(worksheet, (row, column) -> (value, data type, style id), or openpyxl's cell where
    its public rows read it) of each tab."""
    parser_class = _parser_class()
    wb = load_workbook(path, read_only=True, data_only=data_only, rich_text=False)
    try:
        found: dict[str, tuple[Any, dict[tuple[int, int], _Found]]] = {}
        for title, rows in wanted.items():
            ws = wb[title]
            cells: dict[tuple[int, int], _Found] = {}
            found[title] = (ws, cells)
            if not rows:
                continue
            parsed = None if parser_class is None else \
                _parsed(path, ws, rows, data_only, (starts or {}).get(title))
            if parsed is not None:
                cells.update(parsed)
            left = {(r, c) for r, columns in rows.items() for c in columns} \
                if parsed is None else \
                {key for key, cell in cells.items() if _unresolved(cell)}
            if left:  # cells of a shared formula whose first cell was passed over
                cells.update(_public_rows(ws, left))
        return found
    finally:
        wb.close()


def _public_rows(ws: Any, positions: Set[tuple[int, int]]
                 ) -> Iterator[tuple[tuple[int, int], ReadOnlyCell]]:
    """The wanted cells through openpyxl's public read-only rows (every cell parsed)."""
    rows = [row for row, _column in positions]
    for row in ws.iter_rows(min_row=min(rows), max_row=max(rows)):
        for cell in row:
            if isinstance(cell, ReadOnlyCell) and (cell.row, cell.column) in positions:
                yield (cell.row, cell.column), cell


def _unresolved(cell: _Found) -> bool:
    """A cell of a shared formula read without the formula's first cell: its text is "="."""
    if isinstance(cell, ReadOnlyCell):
        return False
    return cell[1] == "f" and cell[0] == "="


def _parsed(path: Path, ws: Any, wanted: Mapping[int, Collection[int]],
            data_only: bool, start: tuple[int, bytes, int | None] | None = None
            ) -> dict[tuple[int, int], tuple[Any, str, int]] | None:
    """The wanted cells: plain rows read by `xlsx_scan`, the others by openpyxl's parser
    (checked by `_parser_class`), and only the wanted rows either way. None for a tab whose
    XML names its elements with a prefix (``<x:row>``: the .NET SDK writes that), which
    `xlsx_scan` does not look for."""
    with _source(path, ws, start) as raw:
        if start is not None:
            _skip(raw, start[0])
        xml = raw.read()
    root = xlsx_tails.root_tag(xml) if start is None else xlsx_tails.root_tag(start[1])
    if not xlsx_tails.default_namespace(root):
        return None
    scanner = xlsx_scan.Scanner(ws.parent.epoch, ws.parent._date_formats,
                                ws.parent._timedelta_formats,
                                xlsx_scan.openpyxl_rows(root, ws.parent, ws._shared_strings,
                                                        data_only))
    return {(row, column): (value, data_type, style)
            for row, column, value, data_type, style in scanner.pick(xml, wanted)}


def _skip(source: Any, count: int) -> None:
    while count > 0:
        chunk = source.read(min(count, 1 << 20))
        if not chunk:
            break
        count -= len(chunk)


def _source(path: Path, ws: Any, start: tuple[int, bytes, int | None] | None) -> Any:
    """The tab's XML as a file: from the run of compressed blocks ``start`` names, if any."""
    if start is None or start[2] is None:
        return ws._get_source()
    return xlsx_tails.inflated_from(path, ws._worksheet_path, start[2])
