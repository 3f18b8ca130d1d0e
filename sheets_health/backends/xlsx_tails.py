"""The growing tabs of a workbook (History, the Sync log, Snapshots) kept out of openpyxl.

A year of daily History at 1,000 customers is 366,000 rows, 75 MB of XML: openpyxl makes an
object of every cell when it loads a workbook and writes every one back when it saves, and a
sync took 19× as long as with an empty History. A sync needs a few thousand of those rows
(through its bookmarks, `sheets_health.tails`) and writes only at the bottom, so such a tab
is *detached* for the sync:

- **Load**: openpyxl loads a copy of the workbook in which that tab holds only its header
  row; the tab's XML as it is in the file is kept aside (`Detached`).
- **Read**: the rows a read asks for are found in that XML by their ``r`` attribute, and
  only those are parsed, by openpyxl's own cell parser (`Detached.cells`).
- **Write**: the rows a plan touches — from its first updated row, or the last row, to the
  bottom — are parsed into openpyxl's worksheet (`Detached.hold`), where the usual apply
  edits them. On save the rows left aside go back between the header row and those rows,
  byte for byte, renumbered when retention deleted the oldest rows (`Detached.splice`).

A tab is detached only where that is safe (`detach`): its XML uses the default namespace,
every row is numbered and rows go down, and it has no shared strings, formulas, merged
cells, hyperlinks, comments or sheet protection — openpyxl itself writes only inline
strings, so a workbook Excel last saved qualifies after the tool's first save of it. Any
other tab is loaded whole, as before. openpyxl's cell parser and style tables are private;
they are used only within the release line `private_api.OPENPYXL` checks (`available`).
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from openpyxl.utils import get_column_letter
from openpyxl.utils.cell import range_boundaries

from sheets_health.backends.private_api import OPENPYXL

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
    xml: bytes
    held_from: int | None = None  # rows from here down are in the worksheet (None: none)
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

    def _row_after(self, pos: int, end: int) -> tuple[int, int] | None:
        """(number, start) of the first row starting at or after byte ``pos``."""
        at = self.xml.find(_ROW_START, pos, end)
        if at < 0:
            return None
        number = self.xml[at + len(_ROW_START):self.xml.find(b'"', at + len(_ROW_START))]
        return int(number), at

    def _offset(self, row: int) -> int:
        """Where the first row numbered ``row`` or more starts (the end: none is)."""
        lo, end = self._rows()
        hi = end
        while lo < hi:
            mid = (lo + hi) // 2
            found = self._row_after(mid, end)
            if found is None or found[0] >= row:
                hi = mid
            else:
                lo = mid + 1
        found = self._row_after(lo, end)
        return end if found is None else found[1]

    def last_below(self, stop: int | None) -> int:
        """The last row numbered under ``stop`` (None: the last row); 1 if none is."""
        body, end = self._rows()
        at = self.xml.rfind(_ROW_START, body, end if stop is None else self._offset(stop))
        found = None if at < 0 else self._row_after(at, end)
        return 1 if found is None else found[0]

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
        for number, row in _parser(self._fragment(body), wb).parse():
            for cell in row:
                yield number, cell["column"] - 1, cell["value"], cell["style_id"]

    # ------------------------------------------------------------------------- writing

    def hold(self, ws: Any, first: int) -> None:
        """Move rows ``first`` .. the bottom into the worksheet (those not held yet)."""
        from openpyxl.cell.cell import Cell
        from openpyxl.worksheet.dimensions import RowDimension

        first = max(first, 2)
        if self.held_from is not None and first >= self.held_from:
            return
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

    def splice(self, saved: bytes, deleted: int) -> tuple[bytes, int]:
        """The tab's XML as openpyxl saved it (header row and held rows), with the rows left
        aside put back below the header row; and where the first held row starts in it.

        ``deleted``: the oldest data rows the write removed (rows 2 .. 1 + deleted)."""
        match = _SHEET_DATA.search(saved)
        if match is None:
            raise ValueError(f"{self.title}: openpyxl wrote no sheetData")
        if match[1]:  # an empty <sheetData/>: no header row, nothing held
            saved = saved[:match.start()] + b"<sheetData>" + _END + saved[match.end():]
        saved = self._dimension(saved, deleted)
        found = _bounds(saved)
        assert found is not None
        body, end = found
        middle = self._span(2 + deleted, self.held_from)
        if deleted and middle:
            middle = _RENUMBER.sub(lambda m: m[1] + str(int(m[2]) - deleted).encode(), middle)
        first_held = saved.find(_ROW_START, body, end)
        if middle and first_held >= 0:
            number = int(saved[first_held + len(_ROW_START):
                               saved.find(b'"', first_held + len(_ROW_START))])
            last_aside = self.last_below(self.held_from) - deleted
            if number <= last_aside:
                raise ValueError(f"{self.title}: row {number} of the rows written would "
                                 f"land among the rows kept aside (up to row {last_aside})")
        return saved[:body] + middle + saved[body:], body + len(middle)

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

    def saved_as(self, xml: bytes, ws: Any) -> None:
        """The file now holds ``xml`` for this tab: the worksheet ``ws`` lets go of the rows
        below its header again."""
        self.xml, self._bounds, self.held_from = xml, None, None
        for key in [k for k in ws._cells if k[0] > 1]:
            del ws._cells[key]
        for number in [n for n in ws.row_dimensions if n > 1]:
            del ws.row_dimensions[number]


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


def detach(title: str, xml: bytes) -> Detached | None:
    """The tab as a `Detached`, or None when its XML is not one this module can carry."""
    head = root_tag(xml)
    if b"<worksheet " not in head or _MAIN_NS not in head:
        return None  # a prefixed namespace (x:row …): not what the patterns look for
    found = _bounds(xml)
    if found is None:
        return None
    body, end = found
    if xml.find(_ROW_START, body, end) < 0:
        return None  # nothing below the header: nothing to gain
    data_start = _SHEET_DATA.search(xml).end()  # type: ignore[union-attr]
    if any(xml.find(needle, data_start, end) >= 0 for needle in _UNSAFE_IN_ROWS):
        return None
    if any(xml.find(needle, end) >= 0 for needle in _UNSAFE_AFTER):
        return None
    if xml.count(b"<row", data_start, end) != xml.count(_ROW_START, data_start, end):
        return None  # a row without r="…" first
    return Detached(title, xml, _bounds=found)


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
            found = detach(title, archive.read(part))
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


class SplicingZip(zipfile.ZipFile):
    """The archive openpyxl saves into; the worksheet parts named in ``splices`` are changed
    on their way in (`Detached.splice`) and compressed fast (they are the big ones)."""

    def __init__(self, file: Any, splices: Mapping[str, Callable[[bytes], bytes]]) -> None:
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
            data = splice(handle.read())
        self.writestr(arcname or "", data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=1)
        self.spliced.add(arcname or "")
