"""Plain cells of a worksheet's XML read without an XML parser, as openpyxl's parser reads them.

openpyxl's per-cell parser costs about 15 µs a cell through lxml, its dicts and its cell
objects; a 10,000-customer Customers tab has 420,000 cells, and a sync's read-back checks
100,000. Almost every cell the tool meets is one of a few shapes — what openpyxl itself
writes, and what Excel writes for numbers and inline text:

    <c r="B7" s="3"/>                                   (styled, empty)
    <c r="B7" s="3" t="n"><v>4.5</v></c>                (number; a date by its style)
    <c r="B7" t="b"><v>1</v></c>                        (boolean), t="e" (error)
    <c r="B7" t="inlineStr"><is><t>text</t></is></c>    (inline text)

`Scanner.rows` reads a run of rows with one regular expression match per cell, and
`Scanner.pick` finds the cells it is asked for by their coordinate; a row in which any byte
is not such a cell (shared strings, formulas, rich text, a cell without ``r``, an attribute it
does not know, a literal carriage return an XML parser would rewrite) is handed whole to
openpyxl's parser, which remains the reference: `tests/test_xlsx_scan.py` compares the two
on every shape, and on rows mixing both.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Collection, Iterator, Mapping
from typing import Any

from openpyxl.utils.cell import column_index_from_string, get_column_letter
from openpyxl.utils.datetime import from_excel

_ROW_NUMBER = re.compile(rb'\br="(\d+)"')
# one cell: its attributes, then a value, inline text, an empty <is><t/></is>, or nothing
_CELL = re.compile(
    rb'<c((?:\s+[a-z]+="[^"<>]*")*)\s*'
    rb'(?:/>|>(?:<v>([^<]*)</v>|<is><t(?:\s+xml:space="preserve")?>([^<]*)</t></is>'
    rb'|(<is><t\s*/></is>))?</c>)')
# the same cell as openpyxl and Excel write it: r, then s, then t (one match, no attributes
# to take apart); anything else goes through _CELL
_USUAL = re.compile(
    rb'<c r="([A-Z]{1,3})(\d+)"(?: s="(\d+)")?(?: t="(n|b|e|inlineStr)")?'
    rb'(?:/>|>(?:<v>([^<]*)</v>|<is><t(?: xml:space="preserve")?>([^<]*)</t></is>)?</c>)')
_LOWER = re.compile(rb'<c r="[a-z]')  # a coordinate openpyxl takes, `pick` does not look for
_ATTR = re.compile(rb'\s+([a-z]+)="([^"<>]*)"')
_KNOWN = frozenset({b"r", b"s", b"t"})
_COORDINATE = re.compile(rb"([A-Z]{1,3})(\d+)")

Cell = tuple[int, int, Any, str, int]  # row, 1-based column, value, data type, style id
Fallback = Callable[[bytes, int], Iterator[Cell]]  # a row's XML and its number


class _Slow(Exception):
    """A row this module does not read: openpyxl's parser reads it."""


class Scanner:
    """Reads rows of one workbook's tabs (its calendar and its date styles)."""

    def __init__(self, epoch: Any, date_styles: Any, timedelta_styles: Any,
                 fallback: Fallback) -> None:
        self.epoch = epoch
        self.dates = frozenset(date_styles)
        self.timedeltas = frozenset(timedelta_styles)
        self.fallback = fallback
        self._columns: dict[bytes, int] = {}
        self._names: dict[int, bytes] = {}
        self.slow_rows = 0  # rows handed to openpyxl's parser (for tests and benchmarks)

    def rows(self, xml: bytes, start: int = 0, end: int | None = None,
             wanted: Callable[[int], bool] | None = None) -> Iterator[tuple[int, list[Cell]]]:
        """(row number, its cells) of each row between bytes ``start`` and ``end`` of
        ``xml`` (rows only, in order); ``wanted``: read only the rows it accepts. A row
        without ``r`` counts on from the row before, as openpyxl counts."""
        end = len(xml) if end is None else end
        for number, body, whole in raw_rows(xml, start, end, wanted):
            if body == b"":
                yield number, []
                continue
            try:
                if body is None:
                    raise _Slow
                cells = self._cells(body, number)
            except (_Slow, ValueError):  # ValueError: let openpyxl say what is wrong
                self.slow_rows += 1
                cells = list(self.fallback(whole, number))
            yield number, cells

    def pick(self, xml: bytes, wanted: Mapping[int, Collection[int]] | None,
             columns: Collection[int] = (), start: int = 0, end: int | None = None
             ) -> Iterator[Cell]:
        """The cells of ``xml``'s rows at the wanted coordinates (row number -> 1-based
        columns; None: ``columns`` of every row between bytes ``start`` and ``end``), found
        by their ``r``; rows go to openpyxl's parser as in `rows`. A cell the file does not
        hold is left out."""
        last = None if wanted is None else max(wanted, default=0)
        rows = raw_rows(xml, start, len(xml) if end is None else end,
                        None if wanted is None else wanted.__contains__)
        for number, body, whole in rows:
            letters = columns if wanted is None else wanted[number]
            try:
                yield from self._picked(body, number, letters)
            except (_Slow, ValueError):  # ValueError: let openpyxl say what is wrong
                self.slow_rows += 1
                yield from (c for c in self.fallback(whole, number) if c[1] in letters)
            if last is not None and number >= last:
                return

    def _picked(self, body: bytes | None, number: int, columns: Collection[int]
                ) -> list[Cell]:
        if body is None:
            raise _Slow
        cells = body.count(b'<c r="')
        if body.count(b"<c") != cells or _LOWER.search(body):
            raise _Slow  # a cell found other than by its leading upper-case r="…"
        if 2 * len(columns) >= cells:  # most of the row: read it whole, keep those wanted
            return [cell for cell in self._cells(body, number) if cell[1] in columns]
        found = []
        for column in columns:
            tag = b'<c r="%s%d"' % (self._letters(column), number)
            at = body.find(tag)
            if at < 0:
                continue
            if body.find(tag, at + 1) >= 0:
                raise _Slow  # the same cell twice: openpyxl keeps the last
            found.append(self._cell_at(body, at, number)[0])
        return found

    def _cells(self, body: bytes, number: int) -> list[Cell]:
        """Every cell of a row: the usual shapes in one pass (`_USUAL`), else cell by cell."""
        cells: list[Cell] = []
        pos = 0
        for m in _USUAL.finditer(body):
            cell = self._usual(m, number) if m.start() == pos else None
            if cell is None:
                break  # a cell of another shape: the row cell by cell
            cells.append(cell)
            pos = m.end()
        else:
            if pos == len(body):
                return cells
        cells = []
        pos, size = 0, len(body)
        while pos < size:
            cell, pos = self._cell_at(body, pos, number)
            cells.append(cell)
        return cells

    def _cell_at(self, body: bytes, pos: int, number: int) -> tuple[Cell, int]:
        """The cell whose XML starts at ``pos``, and where it ends."""
        m = _USUAL.match(body, pos)
        if m is not None and (cell := self._usual(m, number)) is not None:
            return cell, m.end()
        return self._general(body, pos, number)

    def _usual(self, m: re.Match[bytes], number: int) -> Cell | None:
        """The cell a `_USUAL` match is; None when `_general` must read it (another row's
        coordinate, a character reference in a number, ``<c t="inlineStr"/>``, text in a
        cell not marked as text)."""
        letters, row_text, style_text, kind, raw, text = m.groups()
        if int(row_text) != number:
            return None
        column = self._columns.get(letters) or self._column_of(letters)
        style = int(style_text) if style_text else 0
        if kind == b"inlineStr":
            return None if text is None else (number, column, _text(text), "s", style)
        if text is not None:
            return None
        if not raw:
            return number, column, None, "n" if kind is None else kind.decode(), style
        if b"&" in raw:
            return None
        if kind is None or kind == b"n":
            value: Any = float(raw) if b"." in raw or b"E" in raw or b"e" in raw else int(raw)
            if style not in self.dates:
                return number, column, value, "n", style
            try:
                return (number, column,
                        from_excel(value, self.epoch, timedelta=style in self.timedeltas),
                        "d", style)
            except (OverflowError, ValueError):
                raise _Slow from None  # openpyxl warns and marks it an error
        if kind == b"b":
            return number, column, bool(int(raw)), "b", style
        return number, column, _text(raw), "e", style

    def _general(self, body: bytes, pos: int, number: int) -> tuple[Cell, int]:
        """`_cell_at` for a cell in any other order of attributes or shape."""
        m = _CELL.match(body, pos)
        if m is None:
            raise _Slow
        return self._cell(m, number), m.end()

    def _cell(self, m: re.Match[bytes], number: int) -> Cell:
        attrs = dict(_ATTR.findall(m[1]))
        if not attrs.keys() <= _KNOWN or b"r" not in attrs:
            raise _Slow
        kind = attrs.get(b"t", b"n")
        style = int(attrs[b"s"]) if attrs.get(b"s") else 0
        column = self._column(attrs[b"r"], number)
        raw, text, empty_text = m[2], m[3], m[4]
        if kind == b"inlineStr":
            if raw is not None:
                raise _Slow
            if text is None and empty_text is None:  # <c t="inlineStr"/>: no value
                return number, column, None, "inlineStr", style
            return number, column, _text(text or b""), "s", style
        if text is not None or empty_text is not None:
            raise _Slow  # inline text in a cell not marked so: openpyxl ignores it
        value: Any = None if not raw else _text(raw)
        data_type = kind.decode()
        if value is None:
            if kind not in (b"n", b"b", b"e"):
                raise _Slow
        elif kind == b"n":
            value = _number(value)
            if style in self.dates:
                try:
                    value = from_excel(value, self.epoch, timedelta=style in self.timedeltas)
                except (OverflowError, ValueError):
                    raise _Slow from None  # openpyxl warns and marks it an error
                data_type = "d"
        elif kind == b"b":
            value = bool(int(value))
        elif kind != b"e":
            raise _Slow  # shared strings, formula text, ISO dates
        return number, column, value, data_type, style

    def _column(self, coordinate: bytes, number: int) -> int:
        match = _COORDINATE.fullmatch(coordinate)
        if match is None or int(match[2]) != number:
            raise _Slow  # a cell outside its row: openpyxl's parser says what it makes of it
        return self._column_of(match[1])

    def _letters(self, column: int) -> bytes:
        letters = self._names.get(column)
        if letters is None:
            letters = self._names[column] = get_column_letter(column).encode()
        return letters

    def _column_of(self, letters: bytes) -> int:
        column = self._columns.get(letters)
        if column is None:
            column = self._columns[letters] = column_index_from_string(letters.decode())
        return column


def raw_rows(xml: bytes, start: int, end: int, wanted: Callable[[int], bool] | None = None
             ) -> Iterator[tuple[int, bytes | None, bytes]]:
    """(number, the cells' XML or None if the row has no ``r``, the row's whole XML) of each
    row between bytes ``start`` and ``end`` (``wanted``: only the rows it accepts)."""
    number = 0
    find = xml.find
    at = find(b"<row", start, end)
    while at >= 0:
        close = find(b">", at, end)
        if close < 0:
            raise ValueError("a row of the tab's XML does not end")
        if xml[close - 1] == 0x2F:  # <row …/>: no cells
            stop = body_end = close + 1
            body: bytes | None = b""
        else:
            body_end = find(b"</row>", close, end)
            if body_end < 0:
                raise ValueError("a row of the tab's XML does not end")
            stop = body_end + 6
            body = None
        attrs = xml[at + 4:close]
        if attrs[:1] not in (b" ", b"/", b"", b"\t", b"\n", b"\r"):  # <rowBreaks…>?
            at = find(b"<row", at + 4, end)
            continue
        numbered = _ROW_NUMBER.search(attrs)
        number = int(numbered[1]) if numbered else number + 1
        if wanted is None or wanted(number):
            if body is None:
                body = xml[close + 1:body_end]
            yield number, body if numbered else None, xml[at:stop]
        at = find(b"<row", stop, end)


def _number(text: str) -> int | float:
    """As openpyxl casts a cell's number (`_cast_number`)."""
    if "." in text or "E" in text or "e" in text:
        return float(text)
    return int(text)


_REFERENCE = re.compile(r"&(?:#x([0-9a-fA-F]+)|#([0-9]+)|(amp|lt|gt|quot|apos));")
_NAMED = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}


def _text(raw: bytes) -> str:
    if b"\r" in raw:
        raise _Slow  # an XML parser turns it into "\n"
    text = raw.decode("utf-8")
    if "&" not in text:
        return text
    unescaped = _REFERENCE.sub(_character, text)
    if "&" in _REFERENCE.sub("", text):
        raise _Slow  # a reference XML does not define: openpyxl's parser says what it is
    return unescaped


def _character(m: re.Match[str]) -> str:
    """An XML character reference as its character (not HTML's rules: &#128; is U+0080)."""
    if m[3]:
        return _NAMED[m[3]]
    code = int(m[1], 16) if m[1] else int(m[2])
    if not (code in (0x9, 0xA, 0xD) or 0x20 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD
            or 0x10000 <= code <= 0x10FFFF):
        raise _Slow  # not a character XML allows: openpyxl's parser says what it makes of it
    return chr(code)


def openpyxl_rows(root: bytes, wb: Any, shared_strings: Any = (), data_only: bool = False
                  ) -> Fallback:
    """openpyxl's parser on one row's XML (``root``: the tab's ``<worksheet …>`` tag;
    ``data_only``: a formula as its cached result, as a ``data_only`` load reads it)."""
    from openpyxl.worksheet._reader import WorkSheetParser

    def parse(row: bytes, number: int) -> Iterator[Cell]:
        source = io.BytesIO(root + b"<sheetData>" + row + b"</sheetData></worksheet>")
        parser = WorkSheetParser(source, shared_strings, data_only=data_only, epoch=wb.epoch,
                                 date_formats=wb._date_formats,
                                 timedelta_formats=wb._timedelta_formats, rich_text=False)
        parser.row_counter = number - 1  # a row without r="…" counts on from the last
        for _number, cells in parser.parse():
            for cell in cells:
                yield (cell["row"], cell["column"], cell["value"], cell["data_type"],
                       cell["style_id"])

    return parse


def scanner(wb: Any, root: bytes, shared_strings: Any = ()) -> Scanner:
    """A `Scanner` for tabs of ``wb`` (a loaded workbook, read-only or not) whose XML opens
    with ``root``."""
    return Scanner(wb.epoch, wb._date_formats, wb._timedelta_formats,
                   openpyxl_rows(root, wb, shared_strings))
