"""The growing tabs of a workbook (History, the Sync log, Snapshots) kept out of openpyxl.

A year of daily History at 1,000 customers is 366,000 rows, 75 MB of XML: openpyxl makes an
object of every cell when it loads a workbook and writes every one back when it saves, and a
sync took 19× as long as with an empty History. A sync needs a few thousand of those rows
(through its bookmarks, `sheets_health.tails`) and writes only at the bottom, so such a tab
is *detached* for the sync:

- **Load**: openpyxl loads a copy of the workbook in which that tab holds only its header
  row; the tab's XML as it is in the file is kept aside (`Detached`).
- **Read**: the rows a read asks for are found in that XML by their ``r`` attribute, and
  only those are parsed (`xlsx_scan`, openpyxl's own cell parser for any row it does not
  read itself; `Detached.cells`).
- **Write**: the rows a plan touches — from its first updated row, or the last row, to the
  bottom — are parsed into openpyxl's worksheet (`Detached.hold`), where the usual apply
  edits them. On save the rows left aside go back between the header row and those rows,
  byte for byte, renumbered when retention deleted the oldest rows (`Detached.splice`).
- **Kept compressed**: even inflating and deflating 75 MB costs a second. So the tab is
  saved as three runs of deflate blocks, each ending on a byte boundary: the XML down to the
  header row, the rows above the first row its bookmarks reach (what the next sync is
  expected to read), and the rest; the zip entry's comment records where they lie (`Saved`).
  The next load inflates only the first and the last run (`_segmented`, which checks the
  runs against the entry's CRC-32 and length), and its save copies the middle run as it is,
  compressing only the rows that left the bookmarks since and adding them to it
  (`Cold.grown`; the CRC-32 of the whole part from its runs' CRCs, `crc32_combine`). A read
  or a write that reaches those rows, and retention (which renumbers every row), inflates
  them first (`Detached.warm`). A part another program saved has no such comment, or one
  that no longer adds up, and is read whole.

A tab is detached only where that is safe (`detach`): its XML uses the default namespace,
every row is numbered and rows go down, and it has no shared strings, formulas, merged
cells, hyperlinks, comments or sheet protection — openpyxl itself writes only inline
strings, so a workbook Excel last saved qualifies after the tool's first save of it. Any
other tab is loaded whole, as before. openpyxl's cell parser and style tables are private;
they are used only within the release line `private_api.OPENPYXL` checks (`available`).
"""

from __future__ import annotations

import io
import json
import posixpath
import re
import struct
import time
import zipfile
import zlib
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from openpyxl.utils import get_column_letter
from openpyxl.utils.cell import range_boundaries

from sheets_health.backends.private_api import OPENPYXL
from sheets_health.backends.xlsx_scan import raw_rows, scanner

_ROW_START = b'<row r="'
_SHEET_DATA = re.compile(rb"<sheetData\s*(/?)>")
_DIMENSION = re.compile(rb'<dimension ref="([^"]*)"\s*/>')
# a row's number and its cells' (whatever the order of their attributes)
_RENUMBER = re.compile(rb'(<row\s[^>]*?\br="|<c\s[^>]*?\br="[A-Z]{1,3})(\d+)(?=")')
_MAIN_NS = b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_END = b"</sheetData>"
# in a tab's XML: what the raw rows could not carry safely (see the module docstring)
_UNSAFE_IN_ROWS = (b't="s"', b"<f")  # <f…: formulas (and, rarely, a rich-text <family>)
_UNSAFE_AFTER = (b"<mergeCells", b"<sheetProtection", b"<hyperlinks", b"<legacyDrawing")
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
_PKG = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
# a tab's zip entry comment: where its compressed runs lie (`Saved`)
_RECORD = b"sheets-health rows "
_LOCAL_HEADER = b"PK\x03\x04"


def available() -> bool:
    """openpyxl's cell parser is one this module was checked with."""
    import openpyxl

    if not OPENPYXL.checks(openpyxl.__version__):
        return False
    try:
        from openpyxl.worksheet._reader import WorkSheetParser  # noqa: F401
    except ImportError:
        return False
    return True


@dataclass
class Detached:
    """One tab's XML as in the file, and which of its rows openpyxl's worksheet holds.

    Rows are found without indexing them all: they go down the XML in order (the file
    format requires it), so the first row at or below a number is a binary search over byte
    positions, each step one short `bytes.find`."""

    title: str
    xml: bytes  # rows from ``cold.upto`` down when ``cold``; every row when not
    held_from: int | None = None  # rows from here down are in the worksheet (None: none)
    cold: Cold | None = None  # the rows above ``xml``'s, still compressed as in the file
    # the rows some of whose cells are in the worksheet (`hold_cells`), each with the cells
    # of it that are not (None: no row is held so); and the rows whose height the write set
    partial: dict[int, dict[bytes, bytes]] | None = field(default=None, repr=False)
    sized: frozenset[int] = frozenset()
    _bounds: tuple[int, int] | None = field(default=None, repr=False)

    # ------------------------------------------------------------------------- layout

    def _rows(self) -> tuple[int, int]:
        """Where the rows below the header start (right after the header row) and where
        ``</sheetData>`` starts."""
        if self._bounds is None:
            found = _bounds(self.xml)
            if found is None:  # pragma: no cover - checked by `detach` / written by `splice`
                raise ValueError(f"{self.title}: the tab's XML has no rows")
            self._bounds = found
        return self._bounds

    def _offset(self, row: int) -> int:
        """Where the first row numbered ``row`` or more starts (the end: none is)."""
        body, end = self._rows()
        return _find_row(self.xml, body, end, row)

    def last_below(self, stop: int | None) -> int:
        """The last row numbered under ``stop`` (None: the last row); 1 if none is."""
        body, end = self._rows()
        at = self.xml.rfind(_ROW_START, body, end if stop is None else self._offset(stop))
        if at >= 0:
            return _number_at(self.xml, at)
        if self.cold is None:
            return 1
        if stop is None or stop > self.cold.last:
            return self.cold.last
        self.warm()
        return self.last_below(stop)

    def warm(self) -> None:
        """Inflate the rows still compressed into ``xml`` (a read or write reaches them)."""
        cold = self.cold
        if cold is None:
            return
        rows = cold.inflate()
        body = self._rows()[0]
        self.xml, self.cold, self._bounds = self.xml[:body] + rows + self.xml[body:], None, None

    def _reaches_cold(self, first: int) -> bool:
        return self.cold is not None and first < self.cold.upto

    @property
    def last_row(self) -> int:
        return self.last_below(None)

    def _span(self, first: int, stop: int | None) -> bytes:
        """The XML of rows ``first`` .. ``stop - 1`` (None: to the bottom)."""
        start = self._offset(first)
        return self.xml[start:self._rows()[1] if stop is None else self._offset(stop)]

    def _fragment(self, body: bytes) -> io.BytesIO:
        """A worksheet holding only ``body`` rows, with the tab's own root element (so its
        namespace declarations hold)."""
        return io.BytesIO(root_tag(self.xml) + b"<sheetData>" + body + b"</sheetData></worksheet>")

    # ------------------------------------------------------------------------- reading

    def cells(self, wb: Any, ranges: Sequence[tuple[int, int | None]] | None
              ) -> Iterator[tuple[int, int, Any, int]]:
        """(row, 0-based column, value as openpyxl reads it, style id) of each cell in the
        row ranges (``(first, stop)``, stop None: to the bottom; None: every row below the
        header), as in the file (a read comes before a write holds any rows)."""
        spans = [(2, None)] if ranges is None else sorted(ranges, key=lambda r: r[0])
        if any(self._reaches_cold(max(first, 2)) and (stop is None or stop > max(first, 2))
               for first, stop in spans):
            self.warm()
        merged: list[tuple[int, int | None]] = []
        for first, stop in spans:
            first = max(first, 2)
            if stop is not None and stop <= first:
                continue
            if merged and (merged[-1][1] is None or merged[-1][1] >= first):
                last = merged[-1]
                merged[-1] = (last[0], None if last[1] is None or stop is None
                              else max(last[1], stop))
            else:
                merged.append((first, stop))
        body = b"".join(self._span(first, stop) for first, stop in merged)
        if not body:
            return
        for _number, row in scanner(wb, root_tag(self.xml)).rows(body):
            for number, column, value, _kind, style in row:
                yield number, column - 1, value, style

    # ------------------------------------------------------------------------- writing

    def hold(self, ws: Any, first: int) -> None:
        """Move rows ``first`` .. the bottom into the worksheet (those not held yet)."""
        from openpyxl.cell.cell import Cell
        from openpyxl.worksheet.dimensions import RowDimension

        first = max(first, 2)
        if self.held_from is not None and first >= self.held_from:
            return
        if self._reaches_cold(first):
            self.warm()
        body = self._span(first, self.held_from)
        self.held_from = first
        if not body:
            return
        wb = ws.parent
        parser = _parser(self._fragment(body), wb)
        for _number, row in parser.parse():
            for cell in row:
                c = Cell(ws, row=cell["row"], column=cell["column"],
                         style_array=wb._cell_styles[cell["style_id"]])
                c._value = cell["value"]
                c.data_type = cell["data_type"]
                ws._cells[(cell["row"], cell["column"])] = c
        for number, attrs in parser.row_dimensions.items():
            if "s" in attrs:
                attrs["s"] = wb._cell_styles[int(attrs["s"])]
            ws.row_dimensions[int(number)] = RowDimension(ws, **attrs)

    def values_in(self, wb: Any, columns: Sequence[int]
                  ) -> Iterator[tuple[int, tuple[Any, ...]]]:
        """(row, the values in ``columns`` (1-based) as openpyxl reads them) of every row
        below the header, as in the file."""
        self.warm()
        body, end = self._rows()
        row: dict[int, Any] = {}
        number = None
        for at, column, value, _kind, _style in scanner(wb, root_tag(self.xml)).pick(
                self.xml, None, columns, body, end):
            if at != number and number is not None:
                yield number, tuple(row.get(c) for c in columns)
                row = {}
            number, row[column] = at, value
        if number is not None:
            yield number, tuple(row.get(c) for c in columns)

    def hold_cells(self, ws: Any, wanted: Mapping[int, Collection[int]]) -> bool:
        """Bring only the ``wanted`` cells (row -> 1-based columns) into the worksheet, as
        the file holds them (a cell it does not hold stays out); the save puts them back
        into their rows (`splice`). False, holding nothing, when a row's cells cannot be
        told apart (`_cell_spans`): hold the rows whole instead."""
        from openpyxl.cell.cell import Cell

        if self.held_from is not None or self.partial is not None:
            raise ValueError(f"{self.title}: rows are held already")
        self.warm()
        body, end = self._rows()
        rows = set(wanted)
        spans: dict[int, dict[bytes, bytes]] = {}  # each row's cells but the held ones
        for number, cells, _whole in raw_rows(self.xml, body, end, rows.__contains__):
            found = None if cells is None else _cell_spans(cells)
            if found is None:
                return False
            held = {_column_key(get_column_letter(c).encode()) for c in wanted[number]}
            # what openpyxl saves of a held cell is all of it: a cell the write emptied
            # (no value, no style) leaves the row
            spans[number] = {key: cell for key, cell in found.items() if key not in held}
        wb = ws.parent
        for number, column, value, kind, style in scanner(wb, root_tag(self.xml)).pick(
                self.xml, wanted, start=body, end=end):
            cell = Cell(ws, row=number, column=column, style_array=wb._cell_styles[style])
            cell._value = value
            cell.data_type = kind
            ws._cells[(number, column)] = cell
        self.partial = spans
        return True

    def _merged(self, saved: bytes, body: int, end: int,
                partial: Mapping[int, Mapping[bytes, bytes]]) -> bytes:
        """The rows of the file with the held cells openpyxl saved (``saved``'s rows from
        ``body`` to ``end``) put into them, each in its column's place (``partial``: the
        held rows' other cells)."""
        written = {number: (cells, whole) for number, cells, whole
                   in raw_rows(saved, body, end)}
        start, stop = self._rows()
        out: list[bytes] = []
        for number, _cells, whole in raw_rows(self.xml, start, stop):
            mine = written.pop(number, None)
            if mine is None and number in partial:  # its held cells would be lost
                raise ValueError(f"{self.title}: row {number} was held but not saved")
            if mine is None:
                out.append(whole)
                continue
            theirs = partial.get(number)
            ours = _cell_spans(mine[0] or b"")
            if theirs is None or ours is None:
                raise ValueError(f"{self.title}: row {number}'s cells cannot be told apart")
            merged = {**theirs, **ours}
            out.append(self._row_tag(whole, mine[1], number)
                       + b"".join(merged[c] for c in sorted(merged)) + b"</row>")
        if written:
            raise ValueError(f"{self.title}: rows {sorted(written)[:5]} were written where the "
                             "file has no row")
        return b"".join(out)

    def _row_tag(self, theirs: bytes, ours: bytes, number: int) -> bytes:
        """The file's row tag (without ``spans``, which a new cell can outgrow), with the
        height openpyxl wrote when the write set it."""
        tag = theirs[:theirs.find(b">") + 1]
        if tag.endswith(b"/>"):
            tag = tag[:-2] + b">"
        tag = _SPANS.sub(b"", tag)
        if number in self.sized:
            tag = _HEIGHT.sub(b"", tag)
            mine = ours[:ours.find(b">") + 1]
            extra = b"".join(m[0] for m in _HEIGHT.finditer(mine))
            tag = tag[:-1] + extra + b">"
        return tag

    def splice(self, saved: bytes, deleted: int, keep_from: int = 2) -> Saved:
        """The tab's XML as openpyxl saved it (header row and held rows), with the rows left
        aside put back below the header row.

        ``deleted``: the oldest data rows the write removed (rows 2 .. 1 + deleted).
        ``keep_from``: the first row the next sync is expected to read; the rows above it
        are compressed apart (`Saved`), so that sync leaves them compressed."""
        if deleted:
            self.warm()  # every row is renumbered
        match = _SHEET_DATA.search(saved)
        if match is None:
            raise ValueError(f"{self.title}: openpyxl wrote no sheetData")
        if match[1]:  # an empty <sheetData/>: no header row, nothing held
            saved = saved[:match.start()] + b"<sheetData>" + _END + saved[match.end():]
        saved = self._dimension(saved, deleted)
        found = _bounds(saved)
        assert found is not None
        body, end = found
        if self.partial is not None:
            if deleted:
                raise ValueError(f"{self.title}: rows held in part cannot be renumbered")
            merged = self._merged(saved, body, end, self.partial)
            return _segment(saved[:body], None, b"", merged + saved[end:], keep_from, 2)
        middle = self._span(2 + deleted, self.held_from)
        if deleted and middle:
            middle = _RENUMBER.sub(lambda m: m[1] + str(int(m[2]) - deleted).encode(), middle)
        first_held = saved.find(_ROW_START, body, end)
        held_number = None if first_held < 0 else _number_at(saved, first_held)
        if held_number is not None and (middle or self.cold is not None):
            last_aside = self.last_below(self.held_from) - deleted
            if held_number <= last_aside:
                raise ValueError(f"{self.title}: row {held_number} of the rows written would "
                                 f"land among the rows kept aside (up to row {last_aside})")
        return _segment(saved[:body], self.cold, middle, saved[body:], keep_from, held_number)

    def _dimension(self, out: bytes, deleted: int) -> bytes:
        """The ``<dimension>`` openpyxl worked out from the rows it held, widened to the rows
        put back."""
        mine, theirs = _DIMENSION.search(out), _DIMENSION.search(self.xml)
        if mine is None or theirs is None:
            return out
        try:
            a = range_boundaries(mine[1].decode())
            b = range_boundaries(theirs[1].decode())
        except (TypeError, ValueError):
            return out
        if None in a or None in b:
            return out
        low_col = min(a[0], b[0])
        high_col = max(a[2], b[2])
        high_row = max(a[3], b[3] - deleted)
        ref = f"{get_column_letter(low_col)}1:{get_column_letter(high_col)}{high_row}"
        return out[:mine.start(1)] + ref.encode() + out[mine.end(1):]

    def saved_as(self, saved: Saved, ws: Any) -> None:
        """The file now holds ``saved`` for this tab: the worksheet ``ws`` lets go of the rows
        below its header again."""
        self.xml, self.cold, self._bounds, self.held_from = saved.xml, saved.cold, None, None
        self.partial, self.sized = None, frozenset()
        for key in [k for k in ws._cells if k[0] > 1]:
            del ws._cells[key]
        for number in [n for n in ws.row_dimensions if n > 1]:
            del ws.row_dimensions[number]


@dataclass
class Cold:
    """Rows 2 .. ``upto - 1`` of a tab as the file holds them: raw deflate blocks that end on
    a flush, so a save copies them as they are, before the rows it compresses anew."""

    data: bytes
    size: int  # their XML's length
    crc: int  # the CRC-32 of their XML
    upto: int  # the first row below them
    last: int  # the last row among them

    def inflate(self) -> bytes:
        rows = _inflate(self.data, final=False)
        if len(rows) != self.size or zlib.crc32(rows) != self.crc:
            raise ValueError("the compressed rows do not match their record")
        return rows

    def grown(self, rows: bytes, upto: int) -> Cold:
        """These rows, then ``rows`` (the XML of whole rows), with the row ``upto`` below."""
        return Cold(self.data + _deflate(rows, final=False), self.size + len(rows),
                    zlib.crc32(rows, self.crc), upto,
                    _number_at(rows, rows.rfind(_ROW_START)))


@dataclass
class Saved:
    """A detached tab as a save writes it: the XML through the header row, the rows kept
    compressed (``cold``), and the rows below and the rest of the XML (``tail``).

    The part is written as three runs of deflate blocks, each ending on a byte boundary, and
    its zip entry's comment records where they lie (`_RECORD`): the next load inflates the
    first and the last only, and the next save copies the middle one as it is."""

    head: bytes
    cold: Cold | None
    tail: bytes
    held_at: int  # where the rows openpyxl wrote begin in ``tail``
    trusted: bool = True  # the rows that went cold are plain rows (`_safe_rows`)
    tail_at: int = 0  # where ``tail`` begins in the compressed part (known once compressed)

    @property
    def xml(self) -> bytes:
        """What the next sync sees of the tab without inflating ``cold``."""
        return self.head + self.tail

    def compressed(self) -> tuple[list[bytes], int, int, bytes]:
        """The compressed part in pieces, its CRC-32 and length, and the entry's comment."""
        head = _deflate(self.head, final=False, level=6)
        cold = b"" if self.cold is None else self.cold.data
        tail = _deflate(self.tail, final=True)
        crc = zlib.crc32(self.head)
        size = len(self.head) + len(self.tail)
        if self.cold is not None:
            crc = crc32_combine(crc, self.cold.crc, self.cold.size)
            size += self.cold.size
        crc = zlib.crc32(self.tail, crc)
        self.tail_at = len(head) + len(cold)
        comment = b""
        if self.cold is not None and self.trusted:
            comment = _RECORD + json.dumps({
                "head": len(head), "cold": len(cold), "size": self.cold.size,
                "crc": self.cold.crc, "upto": self.cold.upto, "last": self.cold.last,
            }, separators=(",", ":")).encode()
        return [head, cold, tail], crc, size, comment


def _segment(head: bytes, cold: Cold | None, middle: bytes, rest: bytes, keep_from: int,
             held: int | None) -> Saved:
    """`Detached.splice`'s result: ``middle`` (the rows put back, below ``cold``'s) split
    at ``keep_from`` (never above ``cold``'s rows, never below the first held row)."""
    upto = max(keep_from, 2 if cold is None else cold.upto)
    if held is not None:
        upto = min(upto, held)
    split = _find_row(middle, 0, len(middle), upto)
    if held is None and split == len(middle):  # the tail keeps the last row
        split = max(middle.rfind(_ROW_START), 0)
    moving, tail = middle[:split], middle[split:] + rest
    if moving:  # the tail holds a row: held ones, or the last one put back
        start = Cold(b"", 0, 0, 2, 1) if cold is None else cold
        cold = start.grown(moving, _number_at(tail, tail.find(_ROW_START)))
    return Saved(head, cold, tail, len(middle) - split, _safe_rows(moving))


def crc32_combine(crc1: int, crc2: int, len2: int) -> int:
    """The CRC-32 of A + B from A's CRC, B's CRC and B's length (zlib's `crc32_combine`,
    which Python's zlib module does not offer)."""
    return _multmodp(_x2nmodp(len2, 3), crc1) ^ crc2


_POLY = 0xEDB88320


def _multmodp(a: int, b: int) -> int:
    """a × b modulo the CRC polynomial (bit-reflected, as zlib)."""
    m, p = 1 << 31, 0
    while m:
        if a & m:
            p ^= b
            if not a & (m - 1):
                break
        m >>= 1
        b = (b >> 1) ^ _POLY if b & 1 else b >> 1
    return p


def _x2n_table() -> list[int]:
    table, p = [], 1 << 30  # x^1
    for _ in range(32):
        table.append(p)
        p = _multmodp(p, p)
    return table


_X2N = _x2n_table()


def _x2nmodp(n: int, k: int) -> int:
    """x^(n × 2^k) modulo the CRC polynomial."""
    p = 1 << 31  # x^0
    while n:
        if n & 1:
            p = _multmodp(_X2N[k & 31], p)
        n >>= 1
        k += 1
    return p


def _deflate(data: bytes, *, final: bool, level: int = 1) -> bytes:
    """Raw deflate blocks; not ``final``: ending on a byte boundary, more blocks may follow."""
    packer = zlib.compressobj(level, zlib.DEFLATED, -15)
    return packer.compress(data) + packer.flush(zlib.Z_FINISH if final else zlib.Z_SYNC_FLUSH)


def _inflate(data: bytes | memoryview, *, final: bool) -> bytes:
    unpacker = zlib.decompressobj(-15)
    out = unpacker.decompress(data)
    if unpacker.eof != final or unpacker.unused_data:
        raise ValueError("the compressed run does not end where its record says")
    return out


def delete_oldest(ws: Any, count: int) -> None:
    """Delete data rows 2 .. 1 + ``count`` from a detached tab's worksheet: the held rows
    below move up (openpyxl's own `delete_rows` first fills every row from there to the
    bottom with cells, the rows left aside included); `Detached.splice` renumbers the rest."""
    moved = sorted((key, cell) for key, cell in ws._cells.items() if key[0] > 1)
    for key, _cell in moved:
        del ws._cells[key]
    for (row, col), cell in moved:
        if row >= 2 + count:
            cell.row = row - count
            ws._cells[(row - count, col)] = cell
    dims = sorted((n, d) for n, d in ws.row_dimensions.items() if n > 1)
    for number, _dim in dims:
        del ws.row_dimensions[number]
    for number, dim in dims:
        if number >= 2 + count:
            dim.index = number - count
            ws.row_dimensions[number - count] = dim


def _parser(source: io.BytesIO, wb: Any) -> Any:
    from openpyxl.worksheet._reader import WorkSheetParser

    return WorkSheetParser(source, [], data_only=False, epoch=wb.epoch,
                           date_formats=wb._date_formats,
                           timedelta_formats=wb._timedelta_formats, rich_text=False)


_SPANS = re.compile(rb'\s+spans="[^"]*"')
_HEIGHT = re.compile(rb'\s+(?:ht|customHeight)="[^"]*"')
# one cell of a row, its column letters first: what the merge moves as a whole
_CELL_SPAN = re.compile(rb'<c r="([A-Z]{1,3})\d+"[^>]*?(?:/>|>.*?</c>)', re.S)


def _column_key(letters: bytes) -> bytes:
    """Column letters that sort as columns do ("@" sorts before "A": B < AA < AAA)."""
    return letters.rjust(3, b"@")


def _cell_spans(cells: bytes) -> dict[bytes, bytes] | None:
    """A row's cells by column (letters zero-padded to sort as columns do); None unless the
    row is nothing but cells whose ``r`` comes first, each column once."""
    spans: dict[bytes, bytes] = {}
    pos, size = 0, len(cells)
    while pos < size:
        m = _CELL_SPAN.match(cells, pos)
        if m is None:
            return None
        key = _column_key(m[1])
        if key in spans:
            return None
        spans[key] = m[0]
        pos = m.end()
    return spans


def _number_at(xml: bytes, at: int) -> int:
    """The number of the row whose ``<row r="`` starts at byte ``at``."""
    start = at + len(_ROW_START)
    return int(xml[start:xml.find(b'"', start)])


def _find_row(xml: bytes, lo: int, end: int, row: int) -> int:
    """Where the first row numbered ``row`` or more starts between bytes ``lo`` and ``end``
    of rows in order (``end``: none is): a binary search over byte positions."""
    hi = end
    while lo < hi:
        mid = (lo + hi) // 2
        at = xml.find(_ROW_START, mid, end)
        if at < 0 or _number_at(xml, at) >= row:
            hi = mid
        else:
            lo = mid + 1
    at = xml.find(_ROW_START, lo, end)
    return end if at < 0 else at


def _safe_rows(xml: bytes, start: int = 0, end: int | None = None) -> bool:
    """Rows (bytes ``start`` .. ``end``) with nothing the raw rows could not carry (see the
    module docstring)."""
    end = len(xml) if end is None else end
    if any(xml.find(needle, start, end) >= 0 for needle in _UNSAFE_IN_ROWS):
        return False
    # no row without r="…" first
    return xml.count(b"<row", start, end) == xml.count(_ROW_START, start, end)


def _bounds(xml: bytes) -> tuple[int, int] | None:
    """See `Detached._rows`; None when the XML has no ``<sheetData>`` with rows in it."""
    match = _SHEET_DATA.search(xml)
    if match is None or match[1]:
        return None
    start = match.end()
    end = xml.rfind(_END)
    if end < start:
        return None
    first = xml.find(_ROW_START, start, end)
    body = start
    if first >= 0 and xml.startswith(_ROW_START + b'1"', first):  # the header row stays
        after = xml.find(_ROW_START, first + 1, end)
        body = end if after < 0 else after
    return body, end


def root_tag(xml: bytes) -> bytes:
    """A worksheet's opening ``<worksheet …>`` tag, its namespace declarations with it."""
    return xml[:xml.find(b">", xml.find(b"<worksheet")) + 1]


def default_namespace(root: bytes) -> bool:
    """A worksheet root tag declaring SpreadsheetML as its default namespace (its elements
    are ``<row>`` and ``<c>``, not ``<x:row>``: what the byte patterns look for)."""
    return b"<worksheet " in root and _MAIN_NS in root


def detach(title: str, xml: bytes, cold: Cold | None = None) -> Detached | None:
    """The tab as a `Detached`, or None when its XML is not one this module can carry
    (``cold``: the rows above those in ``xml``, checked when they were saved)."""
    if not default_namespace(root_tag(xml)):
        return None  # a prefixed namespace (x:row …): not what the patterns look for
    found = _bounds(xml)
    if found is None:
        return None
    body, end = found
    if xml.find(_ROW_START, body, end) < 0:
        return None  # nothing below the header: nothing to gain
    data_start = _SHEET_DATA.search(xml).end()  # type: ignore[union-attr]
    if not _safe_rows(xml, data_start, end):
        return None
    if any(xml.find(needle, end) >= 0 for needle in _UNSAFE_AFTER):
        return None
    return Detached(title, xml, cold=cold, _bounds=found)


def stub(tab: Detached) -> bytes:
    """The tab's XML with only its header row."""
    body, end = tab._rows()
    return tab.xml[:body] + tab.xml[end:]


# ----------------------------------------------------------------------------- the package


def sheet_parts(archive: zipfile.ZipFile) -> dict[str, str]:
    """Tab title -> its worksheet part in the package (``xl/worksheets/sheet4.xml``)."""
    from lxml import etree

    book = etree.fromstring(archive.read("xl/workbook.xml"))
    rels = etree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    targets = {r.get("Id"): r.get("Target", "") for r in rels.iter(f"{_PKG}Relationship")}
    parts: dict[str, str] = {}
    for sheet in book.iter(f"{_MAIN}sheet"):
        target = targets.get(sheet.get(_REL))
        if target:
            parts[sheet.get("name", "")] = (target[1:] if target.startswith("/")
                                            else posixpath.normpath(f"xl/{target}"))
    return parts


def detached_copy(data: bytes, wanted: Callable[[str], bool]
                  ) -> tuple[io.BytesIO, dict[str, Detached]] | None:
    """A copy of the package with the ``wanted`` tabs that can be detached cut down to their
    header rows (stored, not compressed: it is read once, in memory), and those tabs by
    title; None when none of them can be."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        parts = sheet_parts(archive)
        detached: dict[str, Detached] = {}
        for title, part in parts.items():
            if not wanted(title) or part not in archive.namelist():
                continue
            segments = _segmented(data, archive.getinfo(part))
            found = (detach(title, archive.read(part)) if segments is None
                     else detach(title, *segments))
            if found is not None:
                detached[part] = found
        if not detached:
            return None
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED, allowZip64=True) as copy:
            for info in archive.infolist():
                payload = (stub(detached[info.filename]) if info.filename in detached
                           else archive.read(info))
                copy.writestr(info.filename, payload, compress_type=zipfile.ZIP_STORED)
    out.seek(0)
    return out, {d.title: d for d in detached.values()}


def _segmented(data: bytes, info: zipfile.ZipInfo) -> tuple[bytes, Cold] | None:
    """A part the tool saved in runs (`Saved`): its XML without the rows kept compressed,
    and those; None for any other part, or one whose runs do not add up to the entry (its
    CRC-32 and length in the zip directory are checked against the runs and the record)."""
    if not info.comment.startswith(_RECORD):
        return None
    try:
        record = json.loads(info.comment[len(_RECORD):])
        raw = _entry_data(data, info)
        head_end = int(record["head"])
        tail_start = head_end + int(record["cold"])
        head = _inflate(raw[:head_end], final=False)
        tail = _inflate(raw[tail_start:], final=True)
        cold = Cold(bytes(raw[head_end:tail_start]), int(record["size"]), int(record["crc"]),
                    int(record["upto"]), int(record["last"]))
    except (ValueError, KeyError, TypeError, zlib.error, struct.error):
        return None
    crc = zlib.crc32(tail, crc32_combine(zlib.crc32(head), cold.crc, cold.size))
    if crc != info.CRC or len(head) + cold.size + len(tail) != info.file_size:
        return None
    return head + tail, cold


def _data_offset(info: zipfile.ZipInfo, local: bytes) -> int:
    """Where an entry's compressed bytes start, from its local header (``local``: the 30
    bytes at ``info.header_offset``)."""
    if local[:4] != _LOCAL_HEADER or info.compress_type != zipfile.ZIP_DEFLATED:
        raise ValueError(f"{info.filename}: no deflated entry where the zip directory says")
    name, extra = struct.unpack_from("<HH", local, 26)
    return info.header_offset + 30 + name + extra


def _entry_data(data: bytes, info: zipfile.ZipInfo) -> memoryview:
    """An entry's compressed bytes in the package ``data``."""
    start = _data_offset(info, data[info.header_offset:info.header_offset + 30])
    return memoryview(data)[start:start + info.compress_size]


def inflated_from(path: Any, part: str, at: int) -> io.BytesIO:
    """A part of a package on disk inflated from compressed byte ``at`` on, where a run of
    `Saved` begins."""
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(part)
    with open(path, "rb") as handle:
        handle.seek(info.header_offset)
        handle.seek(_data_offset(info, handle.read(30)) + at)
        raw = handle.read(info.compress_size - at)
    return io.BytesIO(_inflate(raw, final=True))


class SplicingZip(zipfile.ZipFile):
    """The archive openpyxl saves into; the worksheet parts named in ``splices`` are changed
    on their way in (`Detached.splice`) and written in compressed runs (`Saved`)."""

    def __init__(self, file: Any, splices: Mapping[str, Callable[[bytes], Saved]]) -> None:
        super().__init__(file, "w", zipfile.ZIP_DEFLATED, allowZip64=True)
        self.splices = dict(splices)
        self.spliced: set[str] = set()

    def write(self, filename: Any, arcname: str | None = None,  # type: ignore[override]
              compress_type: int | None = None, compresslevel: int | None = None) -> None:
        splice = self.splices.get(arcname or "")
        if splice is None:
            super().write(filename, arcname, compress_type, compresslevel)
            return
        with open(filename, "rb") as handle:
            saved = splice(handle.read())
        pieces, crc, size, comment = saved.compressed()
        info = zipfile.ZipInfo(arcname or "", date_time=time.localtime(time.time())[:6])
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o600 << 16  # as writestr: ?rw-------
        info.CRC, info.file_size, info.compress_size = crc, size, sum(map(len, pieces))
        info.comment = comment
        self._write_compressed(info, pieces)
        self.spliced.add(arcname or "")

    def _write_compressed(self, info: zipfile.ZipInfo, pieces: Sequence[bytes]) -> None:
        """Add an entry whose compressed bytes, CRC and sizes are known (zipfile can only
        compress what it is given): its local header, the bytes, and its directory record,
        as `ZipFile.open(..., "w")` and its close write them on a seekable file."""
        if self._writing:  # type: ignore[attr-defined]
            raise ValueError("another entry is being written")
        zip64 = max(info.file_size, info.compress_size) > zipfile.ZIP64_LIMIT
        self.fp.seek(self.start_dir)  # type: ignore[union-attr]
        info.header_offset = self.fp.tell()  # type: ignore[union-attr]
        self._writecheck(info)  # type: ignore[attr-defined]
        self._didModify = True
        self.fp.write(info.FileHeader(zip64))  # type: ignore[union-attr]
        for piece in pieces:
            self.fp.write(piece)  # type: ignore[union-attr]
        self.start_dir = self.fp.tell()  # type: ignore[union-attr]
        self.filelist.append(info)
        self.NameToInfo[info.filename] = info
