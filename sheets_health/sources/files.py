"""Readers for file-like sources on the pandas path: XLSX workbooks and tabs of the sheet.

Each reader returns `Cells`: only the columns the metrics need, matched by header name
(case- and space-insensitively, never by position), with the file/sheet row number of every
data row so that a bad value can be reported where it is.
"""

from __future__ import annotations

import errno
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sheets_health.config import Config
from sheets_health.errors import SheetsHealthError, SourceError, SourceUnavailableError
from sheets_health.headers import header_problems
from sheets_health.model import CellValue, Table, norm_header
from sheets_health.sources.spec import SourceKind, SourceSpec

ReadTab = Callable[[str | None, str], Table]

# errno values that mean "the file share is not there right now", not "the path is wrong"
_OUTAGE_ERRNOS = {
    errno.EIO,
    errno.ETIMEDOUT,
    errno.EHOSTDOWN,
    errno.EHOSTUNREACH,
    errno.ENETDOWN,
    errno.ENETUNREACH,
    errno.ENOTCONN,
    errno.ESTALE,
    errno.ECONNREFUSED,
    errno.ECONNRESET,
}


@dataclass(frozen=True)
class Cells:
    """The needed columns of a source as read (keys: the names the config uses)."""

    frame: pd.DataFrame
    lines: np.ndarray  # 1-based row number in the file/sheet of every frame row
    where: str  # e.g. "usage_events.csv" or "tab 'NPS responses'"
    text: bool  # every cell is text (CSV); otherwise cells are typed (xlsx, sheet)

    def line(self, position: int) -> int:
        return int(self.lines[position])


def file_error(spec: SourceSpec, path: Path, exc: OSError) -> SheetsHealthError:
    where = f"source '{spec.name}'"
    if isinstance(exc, FileNotFoundError):
        return SourceError(
            f"{where}: file {path} does not exist",
            "check path (relative paths start at the config file's folder) and that the export ran",
        )
    if isinstance(exc, PermissionError):
        return SourceError(f"{where}: no permission to read {path}", "fix the file's permissions")
    if exc.errno in _OUTAGE_ERRNOS:
        return SourceUnavailableError(
            f"{where}: cannot reach {path}: {exc.strerror}", "check the file share, then retry"
        )
    return SourceError(f"{where}: cannot read {path}: {exc.strerror or exc}")


def resolve(
    spec: SourceSpec, headers: Sequence[str], wanted: Sequence[str], where: str
) -> dict[str, int]:
    """Config column names → header positions; a missing or ambiguous name is an error."""
    by_norm: dict[str, list[int]] = {}
    for index, header in enumerate(headers):
        if header is not None and str(header).strip():
            by_norm.setdefault(norm_header(header), []).append(index)
    found: dict[str, int] = {}
    for name in wanted:
        positions = by_norm.get(norm_header(name), [])
        if len(positions) > 1:
            raise SourceError(
                f"source '{spec.name}' ({where}): {len(positions)} columns are named '{name}'",
                "rename the duplicates so each header is unique",
            )
        if not positions:
            shown = ", ".join(f"'{h}'" for h in headers if h is not None and str(h).strip())
            raise SourceError(
                f"source '{spec.name}' ({where}): there is no column '{name}'",
                f"the columns are {shown or '(none: no header row)'}; set id_column, "
                "time_column, column or the where keys to one of them",
            )
        found[name] = positions[0]
    return found


def read_csv(spec: SourceSpec, wanted: Sequence[str]) -> Cells:
    """A CSV source read whole by pandas: the reference the DuckDB path (`sources.duck`) is
    tested against, and the baseline of benchmarks/bench_file_aggregation.py. Syncs read CSV
    files through DuckDB."""
    assert spec.path is not None
    path = spec.path
    where = path.name
    options = {"sep": spec.delimiter, "encoding": spec.encoding, "dtype": str}
    try:
        try:
            header = pd.read_csv(path, nrows=0, **options)  # type: ignore[call-overload]
        except pd.errors.EmptyDataError:
            empty = pd.DataFrame({name: pd.Series([], dtype=object) for name in wanted})
            return Cells(empty, np.zeros(0, dtype=np.int64), where, text=True)
        headers = [str(h) for h in header.columns]
        found = resolve(spec, headers, wanted, where)
        frame = pd.read_csv(
            path,
            usecols=sorted(set(found.values())),
            keep_default_na=False,
            na_filter=False,
            **options,
        )  # type: ignore[call-overload]
    except OSError as exc:
        raise file_error(spec, path, exc) from exc
    except UnicodeDecodeError as exc:
        raise SourceError(
            f"source '{spec.name}': {where} is not {spec.encoding} text ({exc.reason})",
            'set encoding = "latin-1" (or the export\'s encoding) on the source',
        ) from exc
    except (pd.errors.ParserError, ValueError) as exc:
        raise SourceError(f"source '{spec.name}': {where} is not a valid CSV file: {exc}") from exc
    columns = {
        name: frame.iloc[:, sorted(set(found.values())).index(pos)] for name, pos in found.items()
    }
    cells = pd.DataFrame(columns)
    cells.index = pd.RangeIndex(len(cells))
    return Cells(cells, np.arange(2, len(cells) + 2, dtype=np.int64), where, text=True)


def _rows_to_cells(
    spec: SourceSpec,
    headers: Sequence[str],
    rows: Sequence[Sequence[CellValue]],
    numbers: Sequence[int],
    wanted: Sequence[str],
    where: str,
) -> Cells:
    if not [h for h in headers if h is not None and str(h).strip()]:
        raise SourceError(
            f"source '{spec.name}': {where} is missing or has no header row",
            "check the tab name; row 1 must hold the column names",
        )
    clashes = header_problems(Table(where, tuple(str(h or "") for h in headers),
                                    tuple(map(tuple, rows)), tuple(numbers)))
    if clashes:  # the same rule as the tool's own tabs: one header per column
        raise SourceError(f"source '{spec.name}' ({where}): "
                          + "; ".join(p.message for p in clashes), clashes[0].fix)
    found = resolve(spec, [str(h) if h is not None else "" for h in headers], wanted, where)
    data = {
        name: pd.Series([row[pos] if pos < len(row) else None for row in rows], dtype=object)
        for name, pos in found.items()
    }
    return Cells(pd.DataFrame(data), np.asarray(numbers, dtype=np.int64), where, text=False)


def read_workbook(spec: SourceSpec, path: Path, tab: str | None, wanted: Sequence[str]) -> Cells:
    """A tab of an .xlsx workbook (the first tab if none is named), read-only, values only."""
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except OSError as exc:
        raise file_error(spec, path, exc) from exc
    except (InvalidFileException, zipfile.BadZipFile, KeyError) as exc:
        raise SourceError(
            f"source '{spec.name}': {path.name} is not an .xlsx workbook ({exc})",
            'save the file as .xlsx, or use kind = "csv" for CSV exports',
        ) from exc
    try:
        if tab is None:
            sheet = book.worksheets[0]
        else:
            names = {norm_header(n): n for n in book.sheetnames}
            if norm_header(tab) not in names:
                raise SourceError(
                    f"source '{spec.name}': {path.name} has no tab '{tab}'",
                    f"the tabs are {', '.join(repr(n) for n in book.sheetnames)}",
                )
            sheet = book[names[norm_header(tab)]]
        where = f"{path.name} tab '{sheet.title}'"
        headers: tuple[CellValue, ...] = ()
        rows: list[tuple[CellValue, ...]] = []
        numbers: list[int] = []
        for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
            if number == 1:
                headers = tuple(row)
                continue
            if all(v is None or (isinstance(v, str) and not v.strip()) for v in row):
                continue
            rows.append(tuple(row))
            numbers.append(number)
    finally:
        book.close()
    return _rows_to_cells(spec, [str(h or "") for h in headers], rows, numbers, wanted, where)


def read_table(spec: SourceSpec, table: Table, wanted: Sequence[str]) -> Cells:
    numbers = table.row_numbers or tuple(range(2, len(table.rows) + 2))
    return _rows_to_cells(spec, table.headers, table.rows, numbers, wanted, f"tab '{table.tab}'")


def read_cells(
    spec: SourceSpec, wanted: Sequence[str], config: Config, read_tab: ReadTab | None
) -> Cells:
    """The needed columns of an XLSX or sheet source (small: read whole, typed by openpyxl)."""
    if spec.kind is SourceKind.XLSX:
        assert spec.path is not None
        return read_workbook(spec, spec.path, spec.tab, wanted)
    assert spec.kind is SourceKind.SHEET and spec.tab is not None
    if spec.path is not None:
        return read_workbook(spec, spec.path, spec.tab, wanted)
    if read_tab is not None:
        return read_table(spec, read_tab(spec.spreadsheet, spec.tab), wanted)
    if config.sheet.backend == "xlsx" and config.sheet.path is not None:
        return read_workbook(spec, config.sheet.path, spec.tab, wanted)
    raise SourceError(
        f"source '{spec.name}': a sheet source needs the sheet, but none was given",
        "this is a bug in the caller: pass read_tab to load_metrics",
    )
