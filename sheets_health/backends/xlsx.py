"""A local ``.xlsx`` workbook through openpyxl: the embedded backend for `demo` and Excel teams.

Why it looks the way it does:

- One full load per sync: `read` loads the workbook once (formulas kept, so formulas and
  formatting of cells the tool does not own survive the write) and `apply` edits that same
  load, and so does the Summary write after it, unless the file changed on disk in between
  (then it loads again). A formula cell reads as the value Excel last computed (None if it
  never was): those values come from a read-only ``data_only`` pass over the tabs that hold
  formulas, and only when there are any.
- openpyxl drops the cached results of formulas when it saves; we put them back while
  saving (see `_keeping_formula_values`) so the next read still sees them, and the workbook
  asks Excel to recalculate on open.
- The growing tabs (History, the Sync log, Snapshots) a sync reads through bookmarks are
  left out of that load where it is safe (`xlsx_tails`): only the rows a read asks for are
  parsed, only the rows a write touches join openpyxl's worksheet, and the rest goes back
  into the saved file byte for byte. The bookmarks are defined names scoped to their tab
  (``sheets_health_<mark>``), which Excel moves with their rows as Google moves named ranges.
- Customers is left out of the load too: its rows are read from the XML (`xlsx_scan`), a
  sync's updates hold only the cells they write (and the row's wrapped cells, for its
  height: `_hold_cells`), and the save puts those cells back into their rows; every other
  row goes back byte for byte. A row the merge cannot take apart is held whole instead.
- Every save is atomic: a temp file in the same directory, checked, then ``os.replace``.
  The check reads the saved temp file back (read-only, only the tabs written) and compares
  every written cell with what was meant, so it proves the file, not the memory.
  Any error before the rename leaves the original byte-for-byte as it was; a plan with
  nothing to write (or an ``init`` with nothing to add) never opens the file for writing.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import logging
import math
import os
import re
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from copy import copy
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell, MergedCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.styles.colors import COLOR_INDEX
from openpyxl.styles.numbers import is_date_format, is_datetime
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.utils.cell import coordinate_from_string, range_boundaries
from openpyxl.utils.datetime import to_excel
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from sheets_health import rowmatch
from sheets_health.backends import xlsx_cells, xlsx_tails
from sheets_health.backends.xlsx_cells import read_cells, read_values
from sheets_health.backends.xlsx_print import (
    WRAP,
    apply_print_layout,
    fit_row_height,
    wrap_cell,
    wrapping_columns,
)
from sheets_health.cells import Percent, is_blank, key_text, same_value
from sheets_health.errors import (
    AccessDeniedError,
    ConfigError,
    ContractError,
    NotFoundError,
    OutageError,
    Problem,
    SheetsHealthError,
    WriteConflictError,
)
from sheets_health.model import (
    MARK_PREFIX,
    ApplyResult,
    Blocked,
    CellValue,
    CellWrite,
    Mark,
    Table,
    TabPlan,
    WritePlan,
    norm_header,
)
from sheets_health.summary_sheet import SummarySheet
from sheets_health.template import CUSTOMERS, SCORING, SUMMARY, TEMPLATE, TabTemplate

DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
PERCENT_FORMAT = "0%"
LAST_ROW = 1_048_576  # Excel's grid height: dropdowns cover the whole column
LOOSE_DROPDOWNS = frozenset({norm_header(SCORING)})  # dropdowns that accept other text
WIDE_COLUMNS = frozenset(
    norm_header(h) for h in ("Reasons", "Next step", "Notes", "Action when red", "Message")
)
TIME_COLUMNS = frozenset(norm_header(h) for h in ("Run at", "Scored at"))  # yyyy-mm-dd hh:mm
_INIT_HINT = "run `sheets-health init` to create it, or fix `path` in sheets-health.toml"
_LOCK_HINT = "close the workbook in Excel (which locks it) and check the file's permissions"

LAST_COLUMN = 16_384  # Excel's grid width (XFD): a bookmark's open right edge
FIRST_DATA_ROW = 2  # below the header row
_CUSTOMERS = norm_header(CUSTOMERS)
log = logging.getLogger(__name__)

# (sheet title, coordinate) -> value Excel last computed for a formula there
_FormulaCache = dict[tuple[str, str], Any]


@dataclass
class _Book:
    """One load of the workbook, shared by a sync's read and its write."""

    stat: tuple[int, int]  # (mtime_ns, size) when loaded: a change on disk means load again
    wb: Workbook
    cache: _FormulaCache  # the value Excel last computed for each formula cell
    # tabs whose rows below the header stay out of ``wb`` (`xlsx_tails`), by title
    detached: dict[str, xlsx_tails.Detached] = field(default_factory=dict)


@dataclass
class _TabWriter:
    """The state of one tab while a plan is applied in memory."""

    ws: Worksheet
    cache: _FormulaCache  # cached formula results, so keys computed by a formula match
    columns: dict[str, int] = field(default_factory=dict)  # norm header -> 1-based column
    wraps: dict[int, Alignment] = field(default_factory=dict)  # column -> its wrapping style
    first_row: int = 2  # the first data row the worksheet holds (a detached tab: fewer)
    # a detached tab written in place: only the cells written are held (`_hold_cells`)
    partial: xlsx_tails.Detached | None = None


class XlsxBackend:
    """A workbook on disk; see the module docstring for the read/write policy."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._book: _Book | None = None
        # a Summary the next `apply` draws into the workbook it saves (one save, not two)
        self._summary: tuple[str, SummarySheet] | None = None

    @property
    def description(self) -> str:
        return f"workbook {self.path}"

    @property
    def time_zone(self) -> str | None:
        """A workbook has no zone of its own: the `Time zone` setting or the machine's."""
        return None

    # ------------------------------------------------------------------------- read

    def read(self, tabs: Sequence[str],
             marks: Mapping[str, Sequence[str | int | Mark]] | None = None
             ) -> dict[str, Table]:
        """Each tab; a tab with ``marks`` (the growing ones) as its header row plus the rows of
        its bookmarks (``sheets_health_<mark>``) or every row from an int on, the whole tab
        when a bookmark is missing. Tabs with marks stay out of the load where they can
        (`xlsx_tails`); the others are read whole."""
        # bookmarks and rows from an int on (a fixed rectangle: the tab is read whole)
        plain: dict[str, Sequence[str | int]] = {
            norm_header(t): [x for x in m if not isinstance(x, Mark)] for t, m in
            (marks or {}).items() if m and not any(isinstance(x, Mark) for x in m)}
        # the growing tabs read through bookmarks, and Customers (read whole, written in
        # part: `xlsx_tails.Detached.hold_cells`)
        detach = frozenset(norm_header(t) for t in tabs) & (plain.keys() | {_CUSTOMERS})
        book = self._open(detach=detach)
        result: dict[str, Table] = {}
        for name in tabs:
            ws = _find_sheet(book.wb, name)
            if ws is None:
                continue
            detached = book.detached.get(ws.title)
            if detached is None:
                result[name] = replace(_read_table(ws, book.cache), marks=_read_marks(ws))
                continue
            try:
                result[name] = _read_detached(ws, detached, book.cache,
                                              plain.get(norm_header(name), ()))
            except Exception as exc:  # a cell openpyxl's parser refuses, as a whole load would
                self._book = None
                raise self._invalid(exc) from exc
        return result

    def _open(self, *, detach: frozenset[str] = frozenset(), whole: bool = False) -> _Book:
        """The workbook as last loaded, or loaded again if the file changed since (or if
        ``whole`` and tabs were left out of the last load). ``detach``: tabs (normalised
        titles) to leave out of a new load where they can be (`xlsx_tails`)."""
        stat = self._stat()
        book = self._book
        if book is None or book.stat != stat or (whole and book.detached):
            detached: dict[str, xlsx_tails.Detached] = {}
            wb = None
            if detach and xlsx_tails.available():
                wb, detached = self._load_detached(detach)
            if wb is None:
                wb = self._load(data_only=False)
            book = self._book = _Book(stat, wb, self._formula_values(wb), detached)
        return book

    def _load_detached(self, detach: frozenset[str]
                       ) -> tuple[Workbook | None, dict[str, xlsx_tails.Detached]]:
        """The workbook with the ``detach`` tabs that can be left out of it cut down to their
        header rows, and those tabs; (None, {}) when none can be."""
        with self._reading():
            data = self.path.read_bytes()
        try:
            copy = xlsx_tails.detached_copy(data, lambda title: norm_header(title) in detach)
        except Exception as exc:  # not a package we can take apart: openpyxl will say why
            log.debug("loading %s whole: %s", self.path, exc)
            return None, {}
        if copy is None:
            return None, {}
        source, detached = copy
        return self._load(data_only=False, source=source), detached

    def _formula_values(self, wb: Workbook) -> _FormulaCache:
        """Cached results of the formula cells, read from the file for those cells only."""
        formulas = {ws.title: _formula_cells(ws) for ws in wb.worksheets}
        formulas = {title: cells for title, cells in formulas.items() if cells}
        if not formulas:
            return {}
        with self._reading():
            return _cached_values(self.path, formulas)

    # ------------------------------------------------------------------------- apply

    def apply(self, plan: WritePlan) -> ApplyResult:
        summary, self._summary = self._summary, None
        if plan.is_empty and summary is None:
            return ApplyResult()
        book = self._open()
        if any(t.add_headers and not _in_part(t) and (ws := _find_sheet(book.wb, t.tab))
               is not None and ws.title in book.detached for t in plan.tabs):
            book = self._open(whole=True)  # a new column must not land on notes below
        self._book = None  # edited below: never read again, saved or not
        before, wb, cache = book.stat, book.wb, dict(book.cache)
        deleted: dict[str, int] = {}
        problems: list[Problem] = []
        written: list[tuple[Cell, CellValue]] = []
        repaired: list[str] = []
        skipped: list[str] = []
        appended = 0
        for tab_plan in plan.tabs:
            if tab_plan.is_empty:
                continue
            ws = _find_sheet(wb, tab_plan.tab)
            if ws is None:
                problems.append(
                    Problem(
                        tab_plan.tab,
                        None,
                        None,
                        "the tab does not exist",
                        "run `sheets-health init` to create it",
                    )
                )
                continue
            tab = _TabWriter(ws, cache, _header_columns(ws, cache), wrapping_columns(ws))
            detached = book.detached.get(ws.title)
            if detached is not None and _in_part(tab_plan):
                tab.partial = detached
            elif detached is not None:
                tab.first_row = _hold(ws, detached, tab_plan.recheck_from)
            _add_headers(tab, tab_plan.add_headers)
            located = list(_locate_updates(tab, tab_plan, repaired, skipped, problems))
            if tab.partial is not None and not _hold_cells(tab, located):
                tab.partial = None  # a row the merge cannot take apart: hold them whole
                tab.first_row = _hold(ws, book.detached[ws.title], FIRST_DATA_ROW)
            for update_row, cells in located:
                written += _write_row(tab, update_row, cells, problems)
            if tab.partial is not None:  # rows whose height the write set (`fit_row_height`)
                tab.partial.sized = frozenset(n for n in ws.row_dimensions if n > 1)
            next_row = _last_used_row(ws, tab.first_row) + 1 if tab_plan.appends else 0
            for cells in tab_plan.appends:
                written += _write_row(tab, next_row, cells, problems)
                next_row += 1
                appended += 1
            _set_marks(ws, tab_plan.marks, tab_plan.delete_rows)
            if tab_plan.delete_rows and detached is not None:
                xlsx_tails.delete_oldest(ws, tab_plan.delete_rows)
                deleted[ws.title] = tab_plan.delete_rows
            elif tab_plan.delete_rows:  # retention: the oldest rows, never ones just written
                ws.delete_rows(2, tab_plan.delete_rows)
                cache = _shift_rows(cache, ws.title, 2, tab_plan.delete_rows)
        if problems:
            raise ContractError(problems)
        if summary is not None:
            self._draw_summary(wb, *summary)
        saved = self._save(wb, cache, before, written, book.detached, deleted)
        self._keep(wb, cache, saved, book.detached)
        return ApplyResult(
            cells_written=len(written),
            rows_appended=appended,
            repaired=tuple(repaired),
            skipped=tuple(skipped),
        )

    # ------------------------------------------------------------------------- summary

    def stage_summary(self, tab: str, sheet: SummarySheet) -> bool:
        """Have the next `apply` draw the Summary into the workbook it saves: the scores and
        the Summary land in one save (at 10,000 customers a second save and its read-back
        cost as much as the first)."""
        self._summary = (tab, sheet)
        return True

    def write_summary(self, tab: str, sheet: SummarySheet) -> None:
        """Replace the tool-owned Summary tab (cells and chart) in one atomic save."""
        book = self._open()
        self._book = None  # edited below: never read again, saved or not
        before, wb, cache = book.stat, book.wb, dict(book.cache)
        self._draw_summary(wb, tab, sheet)
        self._keep(wb, cache, self._save(wb, cache, before, [], book.detached), book.detached)

    @staticmethod
    def _draw_summary(wb: Workbook, tab: str, sheet: SummarySheet) -> None:
        from sheets_health.backends.xlsx_summary import draw_summary, fit_rows

        layout = next(t for t in TEMPLATE if t.name == SUMMARY)
        ws = draw_summary(wb, tab, sheet)
        apply_print_layout(ws, layout.print_layout, 0)
        if sheet.lists_width:  # the chart and the lists fit the page; the chart's table not
            ws.print_area = f"A1:{get_column_letter(sheet.lists_width)}{len(sheet.cells)}"
        fit_rows(ws, sheet)

    def hold_lease(self, mode: str, run_at: dt.datetime, run_id: str) -> None:
        """Nothing to claim: a workbook is one file, and `sheet_lock` locks it."""

    # ------------------------------------------------------------------------- init

    def init(self, template: Sequence[TabTemplate]) -> list[str]:
        before = self._stat() if self.path.exists() else None
        if before is None:
            if not self.path.parent.is_dir():
                raise NotFoundError(
                    f"cannot create {self.path}: folder {self.path.parent} does not exist",
                    "create the folder first, or fix `path` in sheets-health.toml",
                )
            wb = Workbook()
            wb.remove(wb.active)
            cache: _FormulaCache = {}
        else:
            book = self._open(whole=True)
            self._book = None  # edited below
            wb, cache = book.wb, dict(book.cache)
        changes: list[str] = []
        for tab in template:
            changes += _init_tab(wb, tab)
        if changes:
            self._save(wb, cache, before, [])
        return changes

    # ------------------------------------------------------------------------- files

    def _keep(self, wb: Workbook, cache: _FormulaCache, saved: tuple[int, int],
              detached: Mapping[str, xlsx_tails.Detached]) -> None:
        """The workbook just saved is the file now: a write that follows (the Snapshots tab a
        sync adds, a Summary written on its own) edits it instead of loading the whole workbook
        again (unless the file changes on disk in between: `_open` compares the stat)."""
        self._book = _Book(saved, wb, cache, dict(detached))

    @contextlib.contextmanager
    def _reading(self) -> Iterator[None]:
        """A missing or unreadable workbook as the tool's errors, with the fix."""
        try:
            yield
        except FileNotFoundError:
            raise NotFoundError(f"workbook {self.path} does not exist", _INIT_HINT) from None
        except OSError as exc:
            raise _os_error(self.path, "read", exc) from exc

    def _stat(self) -> tuple[int, int]:
        with self._reading():
            st = self.path.stat()
        return st.st_mtime_ns, st.st_size

    def _mode(self, exists: bool) -> int:
        if exists:
            return self.path.stat().st_mode & 0o7777
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask

    def _load(self, *, data_only: bool, read_only: bool = False, source: Any = None
              ) -> Workbook:
        with self._reading():
            try:
                return load_workbook(
                    self.path if source is None else source,
                    read_only=read_only,
                    data_only=data_only,
                    keep_vba=self.path.suffix.lower() == ".xlsm",
                    rich_text=False,
                )
            except OSError:
                raise
            except Exception as exc:  # openpyxl raises many kinds on a damaged or foreign file
                raise self._invalid(exc) from exc

    def _invalid(self, exc: Exception) -> ConfigError:
        return ConfigError(
            f"{self.path} is not a valid .xlsx workbook ({type(exc).__name__}: {exc})",
            "point `path` at an .xlsx file saved by Excel, LibreOffice or Google "
            "Sheets (File → Download → Microsoft Excel)",
        )

    def _save(
        self,
        wb: Workbook,
        cache: _FormulaCache,
        before: tuple[int, int] | None,
        written: list[tuple[Cell, CellValue]],
        detached: Mapping[str, xlsx_tails.Detached] | None = None,
        deleted: Mapping[str, int] | None = None,
    ) -> tuple[int, int]:
        """Write a temp file next to the workbook, verify it, then rename it over the original;
        the (mtime, size) of the file it became. ``detached`` tabs get their rows left aside
        back on the way (``deleted``: the oldest rows retention removed from each)."""
        wb.calculation.fullCalcOnLoad = True
        try:
            fd, tmp_name = tempfile.mkstemp(
                prefix=f".{self.path.stem}.",
                suffix=f".tmp{self.path.suffix or '.xlsx'}",
                dir=self.path.parent,
            )
        except OSError as exc:
            raise _os_error(self.path, "write", exc) from exc
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as handle:
                with _keeping_formula_values(cache):
                    spliced = _write_workbook(wb, handle, detached or {}, deleted or {})
                handle.flush()
                os.fsync(handle.fileno())
            _verify(tmp, written, {title: (saved.held_at, _opening(saved.head), saved.tail_at)
                                   for title, saved in spliced.items()})
            with contextlib.suppress(OSError):  # keep the workbook's mode, not mkstemp's 0600
                os.chmod(tmp, self._mode(before is not None))
            if before is not None and self._stat() != before:
                raise WriteConflictError(
                    f"{self.path} changed on disk while the tool was writing it; "
                    "nothing was written",
                    "save and close the workbook in Excel, then run again",
                )
            st = tmp.stat()  # a rename keeps both
            os.replace(tmp, self.path)
            for title, saved in spliced.items():  # the file holds those rows now
                (detached or {})[title].saved_as(saved, wb[title])
            return st.st_mtime_ns, st.st_size
        except OSError as exc:
            raise _os_error(self.path, "write", exc) from exc
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()


# ----------------------------------------------------------------------------- reading


def _find_sheet(wb: Workbook, name: str) -> Worksheet | None:
    wanted = norm_header(name)
    for ws in wb.worksheets:
        if norm_header(ws.title) == wanted:
            return ws
    return None


def _value(cell: Cell | MergedCell, cache: _FormulaCache) -> Any:
    """The cell's value as a ``data_only`` load reads it: a formula as its cached result."""
    if cell.data_type == "f":
        return cache.get((cell.parent.title, cell.coordinate))
    return cell.value


def _header_text(value: Any) -> str:
    """A header as text, outer spaces dropped (as Google's reader does): `  ` is blank."""
    return value.strip() if isinstance(value, str) else key_text(_cell_value_of(value,
                                                                              "General"))


def _read_headers(ws: Worksheet, cache: _FormulaCache) -> list[str]:
    headers = [_header_text(_value(cell, cache)) for cell in ws[1]] if ws.max_row >= 1 else []
    while headers and not headers[-1].strip():
        headers.pop()
    return headers


def _header_columns(ws: Worksheet, cache: _FormulaCache) -> dict[str, int]:
    columns: dict[str, int] = {}
    for index, header in enumerate(_read_headers(ws, cache), start=1):
        if header.strip():
            columns.setdefault(norm_header(header), index)
    return columns


def _read_table(ws: Worksheet, cache: _FormulaCache) -> Table:
    headers = _read_headers(ws, cache)
    width = len(headers)
    rows: list[tuple[CellValue, ...]] = []
    numbers: list[int] = []
    colors: dict[tuple[int, int], str] = {}
    if width:
        styles = _StyleMemo()
        for row_cells in ws.iter_rows(min_row=2, max_col=width):
            looks = [styles.of(cell) for cell in row_cells]
            values = tuple(_cell_value_of(_value(cell, cache), number_format)
                           for cell, (_rgb, number_format) in zip(row_cells, looks, strict=True))
            values += (None,) * (width - len(values))
            if all(is_blank(v) for v in values):
                continue
            row = row_cells[0].row
            rows.append(values)
            numbers.append(row)
            for col, (rgb, _format) in enumerate(looks):
                if rgb is not None:
                    colors[(row, col)] = rgb
    return Table(ws.title, tuple(headers), tuple(rows), tuple(numbers), colors,
                 blocked=_blocked(ws, width))


MERGED_FIX = "select them and choose Home → Merge & Center → Unmerge Cells"
PROTECTED_FIX = ("unprotect the tab (Review → Unprotect Sheet), or unlock the tool's columns "
                 "(Format Cells → Protection → untick Locked) before protecting it again")


def _blocked(ws: Worksheet, width: int) -> tuple[Blocked, ...]:
    """Merged ranges, and the locked columns of a protected tab (openpyxl would write into
    them, but the team protected them on purpose)."""
    found = [Blocked("merged cells", r.min_row, r.max_row, r.min_col - 1, r.max_col - 1,
                     MERGED_FIX) for r in ws.merged_cells.ranges]
    if ws.protection.sheet:
        bottom = max(ws.max_row, 2)
        locked = [col - 1 for col in range(1, max(width, ws.max_column) + 1)
                  if any(ws.cell(row=r, column=col).protection.locked
                         for r in range(2, bottom + 1))]
        runs: list[list[int]] = []  # contiguous locked columns: one range each
        for col in locked:
            if runs and runs[-1][1] == col - 1:
                runs[-1][1] = col
            else:
                runs.append([col, col])
        found += [Blocked("a protected tab", 2, None, a, b, PROTECTED_FIX) for a, b in runs]
    return tuple(found)


def _cell_value_of(value: Any, number_format: str) -> CellValue:
    if value is None or isinstance(value, bool | int | float | str):
        if isinstance(value, float) and math.isnan(value):
            return None
        if isinstance(value, int | float) and not isinstance(value, bool) \
                and _is_percent_format(number_format):
            return Percent(value)
        return value
    if isinstance(value, dt.datetime):
        kind = is_datetime(number_format) if is_date_format(number_format) else None
        if value.time() == dt.time() and kind not in ("datetime", "time"):
            return value.date()
        return value.replace(tzinfo=None)
    if isinstance(value, dt.date):
        return value
    if isinstance(value, dt.time):  # a time-of-day cell: no CellValue shape for it, keep text
        return value.isoformat()
    if isinstance(value, dt.timedelta):  # a duration ([h]:mm) cell: as a number of days
        return value.total_seconds() / 86400
    return str(value)


_LITERALS = re.compile(r'"[^"]*"|\\.|\[[^\]]*\]')


def _is_percent_format(number_format: str) -> bool:
    """A number format that shows the value × 100 with a % sign (``0%``, ``0.0%``); a quoted
    or escaped ``"%"`` is literal text and does not scale, so it does not count."""
    return "%" in number_format and "%" in _LITERALS.sub("", number_format)


class _StyleMemo:
    """Each cell's fill colour and number format, worked out once per distinct style of the
    workbook: openpyxl builds both from the style tables on every access, which was a fifth
    of a 10,000-customer read."""

    _PLAIN: tuple[str | None, str] = (None, "General")

    def __init__(self) -> None:
        self._seen: dict[int, tuple[str | None, str]] = {}

    def of(self, cell: Cell | MergedCell) -> tuple[str | None, str]:
        if not cell.has_style:
            return self._PLAIN
        key = cell.style_id
        look = self._seen.get(key)
        if look is None:
            look = self._seen[key] = (_fill_rgb(cell), cell.number_format or "General")
        return look


def _fill_rgb(cell: Cell | MergedCell) -> str | None:
    """The cell's solid background as RRGGBB; None for none/white or theme colours."""
    fill = cell.fill
    if fill is None or fill.fill_type != "solid":
        return None
    color = fill.fgColor
    rgb: str | None = None
    if color.type == "rgb" and isinstance(color.rgb, str):
        rgb = color.rgb
    elif color.type == "indexed" and isinstance(color.indexed, int):
        rgb = COLOR_INDEX[color.indexed] if color.indexed < len(COLOR_INDEX) else None
    if rgb is None or len(rgb) < 6:
        return None
    rgb = rgb[-6:].upper()
    return None if rgb == "FFFFFF" else rgb


# ----------------------------------------------------------------------------- applying


def _add_headers(tab: _TabWriter, headers: Sequence[str]) -> None:
    """Append missing headers after the last non-empty one, styled like the header before."""
    last = max(tab.columns.values(), default=0)
    for header in headers:
        if norm_header(header) in tab.columns:
            continue
        neighbour = tab.ws.cell(row=1, column=last) if last else None
        last = _free_column(tab.ws, last + 1, tab.partial)
        cell = tab.ws.cell(row=1, column=last)
        if neighbour is not None and neighbour.has_style:
            cell._style = copy(neighbour._style)
        else:
            cell.font = Font(bold=True)
        _set_value(cell, header)
        tab.columns[norm_header(header)] = last
        if norm_header(header) in _template_wraps(tab.ws.title):  # Reasons wrap from the start
            letter = get_column_letter(last)
            chosen = letter in tab.ws.column_dimensions  # a width the person chose stays
            dim = tab.ws.column_dimensions[letter]
            dim.alignment = WRAP
            if not chosen:
                dim.width = 48
            tab.wraps[last] = WRAP


def _template_wraps(title: str) -> frozenset[str]:
    """Headers the template's print layout wraps in the tab of that name (none if unknown)."""
    for tab in TEMPLATE:
        if norm_header(tab.name) == norm_header(title):
            return frozenset(norm_header(h) for h in tab.print_layout.wrap)
    return frozenset()


def _free_column(ws: Worksheet, col: int, partial: xlsx_tails.Detached | None = None) -> int:
    """The first column from ``col`` on with nothing in it: unlabelled notes stay the user's
    (in a tab written in part, ``partial``, the rows in the file count too)."""
    def used(col: int) -> bool:
        if any(not is_blank(cell.value) for (cell,) in ws.iter_rows(min_col=col, max_col=col)
               if not isinstance(cell, MergedCell)):
            return True
        return partial is not None and any(
            not is_blank(value) for _row, (value,) in partial.values_in(ws.parent, [col]))

    while used(col):
        col += 1
    return col


def _locate_updates(
    tab: _TabWriter,
    plan: TabPlan,
    repaired: list[str],
    skipped: list[str],
    problems: list[Problem],
) -> Iterator[tuple[int, Mapping[str, CellWrite]]]:
    """Each update's current row, found again by key (the plan's row number is a hint)."""
    if not plan.key_columns:
        for update in plan.updates:
            if update.row < 2:
                raise ValueError(f"{plan.tab}: row {update.row} is not a data row")
            yield update.row, update.cells
        return
    key_cols: list[int] = []
    for name in plan.key_columns:
        col = tab.columns.get(norm_header(name))
        if col is None:
            problems.append(
                Problem(
                    plan.tab,
                    1,
                    name,
                    "the key column is missing",
                    f"add a column headed '{name}' back to row 1",
                )
            )
        else:
            key_cols.append(col)
    if len(key_cols) != len(plan.key_columns):
        return
    if tab.partial is not None:
        keys: Iterator[tuple[int, tuple[Any, ...]]] = tab.partial.values_in(tab.ws.parent,
                                                                            key_cols)
    else:
        keys = ((row, tuple(_value(tab.ws.cell(row=row, column=c), tab.cache)
                            for c in key_cols))
                for row in range(tab.first_row, tab.ws.max_row + 1))
    index = rowmatch.key_index((row, tuple(key_text(v) for v in values))
                               for row, values in keys)
    for update in plan.updates:
        key = tuple(key_text(k) for k in update.key)
        row, moved, skip = rowmatch.find_row(plan.tab, rowmatch.label(plan.key_columns, key),
                                             update.row, index.get(key, []))
        repaired.extend([moved] if moved else [])
        skipped.extend([skip] if skip else [])
        if row is not None:
            yield row, update.cells


def _in_part(plan: TabPlan) -> bool:
    """A plan for Customers that only updates rows it finds by key: its detached rows stay
    as they are in the file but for the cells it writes (`_hold_cells`)."""
    return (norm_header(plan.tab) == _CUSTOMERS and bool(plan.key_columns)
            and not plan.appends and not plan.delete_rows and not plan.marks)


def _hold_cells(tab: _TabWriter, located: Sequence[tuple[int, Mapping[str, CellWrite]]]
                ) -> bool:
    """Hold the cells the updates write, and the row's wrapped cells a new height is worked
    out from (`fit_row_height`); False when the rows cannot be written in part."""
    assert tab.partial is not None
    wanted: dict[int, set[int]] = {}
    for row, cells in located:
        columns = wanted.setdefault(row, set(tab.wraps))
        columns.update(c for h in cells if (c := tab.columns.get(norm_header(h))) is not None)
    return tab.partial.hold_cells(tab.ws, wanted)


def _write_row(
    tab: _TabWriter, row: int, cells: Mapping[str, CellWrite], problems: list[Problem]
) -> list[tuple[Cell, CellValue]]:
    written: list[tuple[Cell, CellValue]] = []
    for header, write in cells.items():
        col = tab.columns.get(norm_header(header))
        if col is None:
            problems.append(
                Problem(
                    tab.ws.title,
                    1,
                    header,
                    "the column is missing",
                    "run `sheets-health init` to add it back to row 1",
                )
            )
            continue
        cell = tab.ws.cell(row=row, column=col)
        if isinstance(cell, MergedCell):
            problems.append(
                Problem(
                    tab.ws.title,
                    row,
                    header,
                    "the cell is part of merged cells",
                    "unmerge those cells",
                )
            )
            continue
        written.append((cell, _set_value(cell, write.value)))
        if col in tab.wraps:
            wrap_cell(cell)  # see wrapping_columns
        if write.fill is not None:
            cell.fill = _solid(write.fill.value)
    if any(cell.column in tab.wraps for cell, _value in written):
        fit_row_height(tab.ws, row, tab.wraps)
    return written


@functools.lru_cache(maxsize=64)
def _solid(rgb: str) -> PatternFill:
    """The solid fill of a colour (one object per colour: each costs openpyxl to build)."""
    return PatternFill(fill_type="solid", fgColor="FF" + rgb, bgColor="FF" + rgb)


def _set_value(cell: Cell, value: CellValue) -> CellValue:
    """Store a value with its own type: text is never a formula, dates get a date format."""
    if (isinstance(value, float) and not math.isfinite(value)) or value == "":
        value = None
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
        cell.value = value
        cell.data_type = "s"  # "=…" stays text: openpyxl would otherwise mark it a formula
        return value
    if isinstance(value, dt.datetime):
        cell.value = value.replace(tzinfo=None)
        cell.number_format = DATETIME_FORMAT
    elif isinstance(value, dt.date):
        cell.value = value
        cell.number_format = DATE_FORMAT
    elif isinstance(value, Percent):  # shown as typed: 50%, stored as 0.5
        cell.value = float(value)
        cell.number_format = PERCENT_FORMAT
    else:
        cell.value = value
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if number and is_date_format(cell.number_format):
            cell.number_format = "General"
    return value


def _last_used_row(ws: Worksheet, first: int = 1) -> int:
    """The last row with a value, looking from row ``first`` down (at least 1)."""
    last = 1
    for row in ws.iter_rows(min_row=first):
        if any(not is_blank(c.value) for c in row if not isinstance(c, MergedCell)):
            last = row[0].row
    return last


def _verify(path: Path, written: list[tuple[Cell, CellValue]],
            starts: Mapping[str, tuple[int, bytes, int | None]] | None = None) -> None:
    """Read the saved temp file back and check every written cell reads as written.

    Only the written cells of the written tabs (`xlsx_cells.read_cells`): it reads the file
    that is about to replace the workbook, not the copy in memory. In a detached tab the rows
    put back unchanged are passed over (``starts``: where its written rows begin).
    """
    if not written:
        return
    wanted: dict[str, dict[int, dict[int, CellValue]]] = {}
    for cell, expected in written:
        wanted.setdefault(cell.parent.title, {}).setdefault(cell.row, {})[cell.column] = expected
    found = read_values(path, wanted, starts=starts)
    for title, rows in wanted.items():
        got = found[title]
        for row, columns in rows.items():
            for column, expected in columns.items():  # a cell never saved reads back blank
                cell = got.get((row, column))
                if cell is not None and type(cell[0]) is type(expected) \
                        and type(expected) in _PLAIN_READ_BACK and cell[0] == expected \
                        and (cell[1] == "s") == (type(expected) is str):
                    continue  # read back as written: text as text, a number as itself
                _check_read_back(path, title, f"{get_column_letter(column)}{row}", expected,
                                 cell)


# values that read back as themselves whatever the cell's number format says (`_verify`)
_PLAIN_READ_BACK = frozenset({str, int, float, bool})


def _check_read_back(path: Path, title: str, coordinate: str, expected: CellValue,
                     got: xlsx_cells.Read | None) -> None:
    value = None if got is None else _cell_value_of(got[0], got[2] or "General")
    is_text = got is not None and got[1] == "s"
    type_ok = not isinstance(expected, str) or is_blank(expected) or is_text
    if not type_ok or not same_value(value, expected):
        raise SheetsHealthError(
            f"{path.name}: {title}!{coordinate} did not read back as "
            f"{expected!r}; the workbook was left as it was",
            "report this as a bug with the value that was being written",
        )


# ----------------------------------------------------------------------------- growing tabs


def _mark_text(title: str, mark: Mark) -> str:
    """A bookmark as a defined name's reference: open ends run to Excel's last row/column."""
    last_col = get_column_letter(LAST_COLUMN if mark.end_col is None else mark.end_col)
    last_row = LAST_ROW if mark.end is None else mark.end - 1
    return (f"{quote_sheetname(title)}!${get_column_letter(mark.first_col + 1)}${mark.start}"
            f":${last_col}${last_row}")


def _read_marks(ws: Worksheet) -> dict[str, Mark]:
    """The tool's bookmarks on this tab (defined names scoped to it that point into it)."""
    marks: dict[str, Mark] = {}
    for name, defined in ws.defined_names.items():
        if not name.startswith(MARK_PREFIX):
            continue
        sheet, _, ref = (defined.attr_text or "").rpartition("!")
        if sheet.strip("'").replace("''", "'") != ws.title:
            continue
        try:
            low_col, low_row, high_col, high_row = range_boundaries(ref)
        except (TypeError, ValueError):
            continue
        if None in (low_col, low_row, high_col, high_row):
            continue
        assert low_col and low_row and high_col and high_row
        marks[name[len(MARK_PREFIX):]] = Mark(
            low_row, None if high_row >= LAST_ROW else high_row + 1, low_col - 1,
            None if high_col >= LAST_COLUMN else high_col)
    return marks


def _set_marks(ws: Worksheet, marks: Mapping[str, Mark], deleted: int) -> None:
    """Place bookmarks given in rows as read, before ``deleted`` oldest rows go."""
    for name, mark in marks.items():
        placed = mark.after_deleting(deleted) if deleted else mark
        ws.defined_names[MARK_PREFIX + name] = DefinedName(
            MARK_PREFIX + name, attr_text=_mark_text(ws.title, placed))


def _read_detached(ws: Worksheet, detached: xlsx_tails.Detached, cache: _FormulaCache,
                   wanted: Sequence[str | int]) -> Table:
    """A detached tab read as Google reads it: the header row plus the cells inside the
    wanted bookmarks (or from an int row on); every row when a bookmark is missing."""
    headers = _read_headers(ws, cache)
    found = _read_marks(ws)
    spans: tuple[Mark, ...] = ()
    if wanted and all(m in found for m in wanted if isinstance(m, str)):
        spans = tuple(found[m] if isinstance(m, str) else Mark(m) for m in wanted)
    elif wanted:
        log.info("%s: a bookmark is missing: reading the tab whole", ws.title)
    width = len(headers)
    looks: dict[int, tuple[str | None, str]] = {}
    by_row: dict[int, list[CellValue]] = {}
    colors: dict[tuple[int, int], str] = {}
    ranges = [(s.start, s.end) for s in spans] if spans else None
    kept: set[int] = set()  # rows with a value in them (`_read_table` drops the others)
    for row, col, raw, style in detached.cells(ws.parent, ranges):
        if col >= width or (spans and not any(s.holds_row(row) and s.holds_col(col)
                                              for s in spans)):
            continue
        look = looks.get(style)
        if look is None:  # as `_StyleMemo` sees a loaded cell of that style
            probe = Cell(ws, style_array=ws.parent._cell_styles[style])
            look = looks[style] = (_fill_rgb(probe), probe.number_format or "General")
        if look[0] is not None:
            colors[(row, col)] = look[0]
        if raw is None:
            continue
        value = raw if type(raw) is str else _cell_value_of(raw, look[1])
        if value is not None:
            values = by_row.get(row)
            if values is None:
                values = by_row[row] = [None] * width
            values[col] = value
            if row not in kept and not is_blank(value):
                kept.add(row)
    rows = sorted(kept)
    return Table(ws.title, tuple(headers), tuple(tuple(by_row[r]) for r in rows), tuple(rows),
                 {key: rgb for key, rgb in colors.items() if key[0] in kept},
                 read_spans=spans, marks=found)


def _hold(ws: Worksheet, detached: xlsx_tails.Detached, first: int | None) -> int:
    """Bring a detached tab's rows a write touches into the worksheet: from ``first`` (its
    first updated row) or its last row with a value, to the bottom; the first row held."""
    start = detached.last_row if first is None else min(first, detached.last_row)
    detached.hold(ws, start)
    held = detached.held_from or 2
    while held > 2 and _last_used_row(ws, held) < held:  # only blank rows so far: go up
        detached.hold(ws, max(2, held - 256))
        held = detached.held_from or 2
    return held


def _write_workbook(wb: Workbook, handle: Any, detached: Mapping[str, xlsx_tails.Detached],
                    deleted: Mapping[str, int]) -> dict[str, xlsx_tails.Saved]:
    """Save ``wb`` into ``handle`` as openpyxl's `save_workbook` does, each detached tab's
    rows left aside put back on the way; each such tab as saved (`_verify`, `saved_as`). The
    rows above a detached tab's bookmarks stay compressed as they are (`_keep_from`)."""
    from openpyxl.writer.excel import ExcelWriter

    if not detached:
        wb.save(handle)
        return {}
    done: dict[str, xlsx_tails.Saved] = {}
    splices = {}
    for title, tab in detached.items():
        ws = wb[title]
        part = f"xl/worksheets/sheet{wb.worksheets.index(ws) + 1}.xml"

        def splice(raw: bytes, title: str = title, tab: xlsx_tails.Detached = tab,
                   keep_from: int = _keep_from(ws)) -> xlsx_tails.Saved:
            done[title] = saved = tab.splice(raw, deleted.get(title, 0), keep_from)
            return saved

        splices[part] = splice
    archive = xlsx_tails.SplicingZip(handle, splices)
    wb.properties.modified = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    try:
        ExcelWriter(wb, archive).save()
    except BaseException:
        with contextlib.suppress(Exception):  # the temp file goes: only close the archive
            archive.close()
        raise
    if set(done) != set(detached):
        raise SheetsHealthError(
            f"the rows of {', '.join(sorted(set(detached) - set(done)))} were not put back "
            "while saving; the workbook was left as it was",
            "report this as a bug (with the openpyxl version)")
    return done


def _keep_from(ws: Worksheet) -> int:
    """The first data row the tab's bookmarks reach (as the next sync reads them): the rows
    above stay compressed in the file. 2 (none kept) without bookmarks below the header."""
    starts = [mark.start for mark in _read_marks(ws).values()
              if mark.end is None or mark.end > FIRST_DATA_ROW]
    return max(min(starts, default=FIRST_DATA_ROW), FIRST_DATA_ROW)


def _opening(head: bytes) -> bytes:
    """What a worksheet's XML opens with, down to its rows (`xlsx_cells.read_cells`)."""
    return xlsx_tails.root_tag(head) + b"<sheetData>"


# ----------------------------------------------------------------------------- formulas


def _formula_cells(ws: Worksheet) -> set[str]:
    """The coordinates of every formula cell in the tab."""
    return {cell.coordinate for cell in ws._cells.values() if cell.data_type == "f"}


def _cached_values(path: Path, formulas: Mapping[str, set[str]]) -> _FormulaCache:
    """The cached result of each formula cell (tab -> coordinates), as a read-only
    ``data_only`` load reads it; a formula never computed has none."""
    found = read_cells(path, formulas, data_only=True)
    return {(title, coordinate): cell.value for title, cells in found.items()
            for coordinate, cell in cells.items() if cell.value is not None}


def _shift_rows(cache: _FormulaCache, title: str, first: int, count: int) -> _FormulaCache:
    """The cache after ``count`` rows from ``first`` on were deleted from tab ``title``."""
    shifted: _FormulaCache = {}
    for (tab, coordinate), value in cache.items():
        if tab != title:
            shifted[(tab, coordinate)] = value
            continue
        column, row = coordinate_from_string(coordinate)
        if row >= first + count:
            shifted[(tab, f"{column}{row - count}")] = value
        elif row < first:
            shifted[(tab, coordinate)] = value
    return shifted


@contextlib.contextmanager
def _keeping_formula_values(cache: _FormulaCache) -> Iterator[None]:
    """While saving, write formula cells with their cached result (openpyxl drops it).

    A patch of openpyxl's private cell writer, checked with openpyxl 3.1.5 (the version
    guard in `private_api` refuses others; pyproject.toml pins the same). It can go when
    openpyxl saves a formula cell's cached value itself, or when the workbook is written by
    a library that does.
    """
    if not cache:
        yield
        return
    import openpyxl
    import openpyxl.worksheet._writer as sheet_writer

    from sheets_health.backends.private_api import OPENPYXL

    OPENPYXL.require(openpyxl.__version__)
    try:
        from openpyxl.cell._writer import _set_attributes
        from openpyxl.xml.functions import Element, SubElement
    except ImportError as exc:
        raise OPENPYXL.unsupported(openpyxl.__version__, str(exc)) from exc
    original = getattr(sheet_writer, "write_cell", None)
    if original is None:
        raise OPENPYXL.unsupported(openpyxl.__version__, "no worksheet._writer.write_cell")

    def write_cell(xf: Any, worksheet: Any, cell: Any, styled: Any = None) -> None:
        cached = cache.get((worksheet.title, cell.coordinate))
        if cached is None or cell.data_type != "f" or not isinstance(cell._value, str):
            original(xf, worksheet, cell, styled)
            return
        _, attributes = _set_attributes(cell, styled)
        text, kind = _cached_text(cached)
        if kind:
            attributes["t"] = kind
        element = Element("c", attributes)
        SubElement(element, "f").text = cell._value[1:]
        SubElement(element, "v").text = text
        xf.write(element)

    sheet_writer.write_cell = write_cell
    try:
        yield
    finally:
        sheet_writer.write_cell = original


def _cached_text(value: Any) -> tuple[str, str | None]:
    if isinstance(value, bool):
        return ("1" if value else "0"), "b"
    if isinstance(value, int | float):
        return repr(value), None
    if isinstance(value, dt.date | dt.time | dt.timedelta):
        return repr(to_excel(value)), None
    text = str(value)
    errors = {"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A"}
    return text, "e" if text in errors else "str"


# ----------------------------------------------------------------------------- init


def _init_tab(wb: Workbook, tab: TabTemplate) -> list[str]:
    ws = _find_sheet(wb, tab.name)
    changes: list[str] = []
    new_tab = ws is None
    if ws is None:
        ws = wb.create_sheet(tab.name)
        changes.append(f"added tab {tab.name}")
        if tab.frozen_rows:
            ws.freeze_panes = f"A{tab.frozen_rows + 1}"
    wrapping = {norm_header(h) for h in tab.print_layout.wrap}
    columns = _header_columns(ws, {})
    existing = set(columns)
    last = max(columns.values(), default=0)
    for header in tab.headers:
        if norm_header(header) in columns:
            continue
        last = _free_column(ws, last + 1)
        cell = ws.cell(row=1, column=last)
        cell.value = header
        cell.font = Font(bold=True)
        columns[norm_header(header)] = last
        ws.column_dimensions[get_column_letter(last)].width = _width(tab, header)
        if norm_header(header) in wrapping:
            ws.column_dimensions[get_column_letter(last)].alignment = WRAP
        if not new_tab:
            changes.append(f"added column {header} to {ws.title}")
    if new_tab:
        for r, values in enumerate(tab.rows, start=2):
            for c, value in enumerate(values, start=1):
                if not is_blank(value):
                    _set_value(ws.cell(row=r, column=c), value)
        apply_print_layout(ws, tab.print_layout, tab.frozen_rows)
    for header, choices in tab.dropdowns.items():
        col = columns.get(norm_header(header))
        if col is None or _has_dropdown(ws, col):
            continue
        letter = get_column_letter(col)
        strict = norm_header(header) not in LOOSE_DROPDOWNS
        dv = DataValidation(
            type="list",
            formula1='"' + ",".join(choices) + '"',
            allow_blank=True,
            showErrorMessage=strict,
            errorStyle="stop" if strict else "information",
        )
        dv.add(f"{letter}2:{letter}{LAST_ROW}")
        ws.add_data_validation(dv)
        if norm_header(header) in existing:  # a new tab or column gets it without a word
            changes.append(f"added dropdown {header} to {ws.title}")
    return changes


def _has_dropdown(ws: Worksheet, col: int) -> bool:
    coordinate = f"{get_column_letter(col)}2"
    return any(coordinate in dv.sqref for dv in ws.data_validations.dataValidation)


def _width(tab: TabTemplate, header: str) -> float:
    if norm_header(header) in WIDE_COLUMNS:
        return 48
    if norm_header(header) in TIME_COLUMNS:
        return 18  # narrower prints ### instead of the time
    index = tab.headers.index(header)
    longest = max(
        [len(header)] + [len(str(r[index])) for r in tab.rows if index < len(r)], default=0
    )
    return float(min(max(longest + 3, 12), 40))


def _os_error(path: Path, action: str, exc: OSError) -> SheetsHealthError:
    reason = exc.strerror or str(exc)
    if isinstance(exc, PermissionError):
        return AccessDeniedError(f"cannot {action} {path}: {reason}", _LOCK_HINT)
    if isinstance(exc, IsADirectoryError):
        return ConfigError(f"{path} is a folder, not a workbook", "set `path` to an .xlsx file")
    return OutageError(f"cannot {action} {path}: {reason}", "check the disk, then run again")
