"""A1 notation: parsing ranges the way the Sheets API does, and echoing them back.

Google answers with bounded ranges clipped to the grid (``Sheet1!A1:Z1000``) and
quotes a sheet title only when it must (``'Sync log'!A1``, ``'D3'!A1``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_CELL = re.compile(r"^([A-Za-z]{0,3})(\d*)$")
_SIMPLE_TITLE = re.compile(r"^[^\W\d]\w*$")
_LOOKS_LIKE_CELL = re.compile(r"^[A-Za-z]{1,3}\d+$|^[Rr]\d*[Cc]\d*$")


class A1Error(ValueError):
    """The range text cannot be parsed (Google: "Unable to parse range: ...")."""


def col_to_index(letters: str) -> int:
    """``A`` -> 0, ``Z`` -> 25, ``AA`` -> 26."""
    n = 0
    for ch in letters.upper():
        n = n * 26 + (ord(ch) - 64)
    return n - 1


def index_to_col(index: int) -> str:
    letters = ""
    n = index + 1
    while n:
        n, rem = divmod(n - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def quote_title(title: str) -> str:
    """Quote a sheet title the way Google echoes it in ranges."""
    if _SIMPLE_TITLE.match(title) and not _LOOKS_LIKE_CELL.match(title):
        return title
    return "'" + title.replace("'", "''") + "'"


@dataclass(frozen=True)
class ParsedRange:
    """A range as written: sheet title (None = first sheet) and optional bounds.

    Bounds are 0-based, end-exclusive; None means "open" (to the grid edge)."""

    sheet: str | None
    start_row: int | None = None
    end_row: int | None = None
    start_col: int | None = None
    end_col: int | None = None
    whole_sheet: bool = False


def split_sheet(text: str) -> tuple[str | None, str | None]:
    """Split ``'My tab'!A1:B2`` into (title, cells). Either part may be None."""
    if text.startswith("'"):
        i, title = 1, ""
        while True:
            j = text.find("'", i)
            if j < 0:
                raise A1Error(text)
            title += text[i:j]
            if text[j + 1 : j + 2] == "'":
                title += "'"
                i = j + 2
                continue
            rest = text[j + 1 :]
            break
        if rest == "":
            return title, None
        if not rest.startswith("!"):
            raise A1Error(text)
        return title, rest[1:]
    if "!" in text:
        title, _, cells = text.rpartition("!")
        return title, cells
    return None, text


def _endpoint(text: str) -> tuple[int | None, int | None]:
    m = _CELL.match(text)
    if not m or (not m.group(1) and not m.group(2)):
        raise A1Error(text)
    col = col_to_index(m.group(1)) if m.group(1) else None
    row = int(m.group(2)) - 1 if m.group(2) else None
    if row is not None and row < 0:
        raise A1Error(text)
    return col, row


def parse_cells(cells: str) -> tuple[int | None, int | None, int | None, int | None]:
    """Parse the cell part (``A1``, ``A1:B2``, ``A:C``, ``2:5``, ``A2:F``).

    Returns (start_row, end_row, start_col, end_col), end-exclusive, None = open."""
    if ":" not in cells:
        col, row = _endpoint(cells)
        if col is None or row is None:
            raise A1Error(cells)
        return row, row + 1, col, col + 1
    left, _, right = cells.partition(":")
    c1, r1 = _endpoint(left)
    c2, r2 = _endpoint(right)
    # A column-only start with a row-only end (A:5) is not valid A1.
    if (c1 is None and c2 is not None and r2 is not None and r1 is None) or (
        r1 is None and c1 is not None and c2 is None
    ):
        raise A1Error(cells)
    if r1 is not None and r2 is not None and r2 < r1:
        r1, r2 = r2, r1
    if c1 is not None and c2 is not None and c2 < c1:
        c1, c2 = c2, c1
    start_row = r1 if r1 is not None else 0
    end_row = r2 + 1 if r2 is not None else None
    start_col = c1 if c1 is not None else 0
    end_col = c2 + 1 if c2 is not None else None
    return start_row, end_row, start_col, end_col


def parse_range(text: str, titles: list[str]) -> ParsedRange:
    """Parse a full A1 range against the spreadsheet's sheet titles.

    A bare word that names a sheet means the whole sheet; a bare cell range
    means the first sheet."""
    if not text:
        raise A1Error(text)
    title, cells = split_sheet(text)
    if title is None:
        assert cells is not None
        if cells in titles:
            return ParsedRange(cells, whole_sheet=True)
        # Google matches sheet titles case-insensitively for bare names.
        lowered = {t.lower(): t for t in titles}
        try:
            bounds = parse_cells(cells)
        except A1Error:
            if cells.lower() in lowered:
                return ParsedRange(lowered[cells.lower()], whole_sheet=True)
            raise
        return ParsedRange(None, *bounds)
    if title not in titles:
        lowered = {t.lower(): t for t in titles}
        if title.lower() not in lowered:
            raise A1Error(text)
        title = lowered[title.lower()]
    if cells is None or cells == "":
        if cells == "":
            raise A1Error(text)
        return ParsedRange(title, whole_sheet=True)
    return ParsedRange(title, *parse_cells(cells))


def format_range(title: str, r0: int, r1: int, c0: int, c1: int) -> str:
    """Echo a bounded, end-exclusive range as Google does: ``Sheet1!A1:B2``."""
    prefix = quote_title(title) + "!"
    if r1 - r0 <= 1 and c1 - c0 <= 1:
        return f"{prefix}{index_to_col(c0)}{r0 + 1}"
    return f"{prefix}{index_to_col(c0)}{r0 + 1}:{index_to_col(c1 - 1)}{r1}"
