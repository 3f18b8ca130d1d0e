"""CSV and Parquet sources, aggregated inside an in-process DuckDB through the SQL path.

Why DuckDB (and not pyarrow): every metric is already compiled to one SQL GROUP BY
(`sources.sql`); DuckDB runs that same SQL, through its SQLAlchemy dialect (duckdb-engine),
over a file it streams on every core, so a 10-million-row export never becomes a DataFrame,
memory follows the number of customers rather than the file, and file and warehouse sources
share one aggregation and one set of parity tests. pyarrow reads files as fast but would
need every aggregate written a second time (or pandas again). XLSX workbooks and sheet tabs
stay on the pandas path (`sources.frames`): they are small, and openpyxl hands over typed
Python cells that would only be copied into DuckDB.

Reading: a CSV's header is read here (so a missing column gets the same error as ever, and
headers are matched by name, never position); DuckDB then reads every column as text, by
position, with the dialect fixed (no sniffing): ``delimiter``, double-quote quoting, the
encoding (UTF-8 and Latin-1 natively; others, and paths DuckDB would take for glob patterns,
through a UTF-8 copy in a temporary folder). Parquet keeps its own column types. The cell
policy is applied in SQL (`sources.duck_view`). DuckDB is imported only here, when a file
source is loaded, so the CLI starts without it.
"""

from __future__ import annotations

import codecs
import csv
import re
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection
from sqlalchemy.pool import NullPool
from sqlalchemy.sql import visitors
from sqlalchemy.sql.elements import ColumnClause, ColumnElement

from sheets_health.errors import SheetsHealthError, SourceError, SourceUnavailableError
from sheets_health.sources import duck_view, files
from sheets_health.sources.common import Clock, Progress
from sheets_health.sources.duck_view import (
    Column,
    FileRelation,
    Kind,
    kind_of,
    literal,
    roles_for,
    view_sql,
)
from sheets_health.sources.spec import MetricSpec, SourceKind, SourceSpec
from sheets_health.sources.sql import DuplicateIds, SqlLoad, aggregate

_NATIVE_ENCODINGS = {"utf-8": "utf-8", "utf-8-sig": "utf-8", "iso8859-1": "latin-1"}
_GLOB = re.compile(r"[*?\[\]{}]")  # DuckDB expands these in a path
_CSV_LINE = re.compile(r"CSV Error on Line: (\d+)")


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _encoding(spec: SourceSpec) -> str:
    try:
        return codecs.lookup(spec.encoding).name
    except LookupError:
        raise SourceError(
            f"source '{spec.name}': encoding \"{spec.encoding}\" is not known",
            'use a Python codec name, e.g. encoding = "utf-8", "latin-1" or "cp1252"',
        ) from None


def _encoding_error(spec: SourceSpec, where: str, reason: str) -> SourceError:
    return SourceError(
        f"source '{spec.name}': {where} is not {spec.encoding} text ({reason})",
        'set encoding = "latin-1" (or the export\'s encoding) on the source',
    )


def _csv_header(spec: SourceSpec, path: Path, encoding: str) -> tuple[list[str], int] | None:
    """The header row and how many lines come before it (blank lines, as pandas skips them);
    None for a file without any row."""
    python_encoding = "utf-8-sig" if encoding == "utf-8" else encoding
    try:
        with path.open(encoding=python_encoding, newline="") as handle:
            reader = csv.reader(handle, delimiter=spec.delimiter, quotechar='"')
            before = 0
            for row in reader:
                if row:
                    return row, before
                before = reader.line_num
    except OSError as exc:
        raise files.file_error(spec, path, exc) from exc
    except UnicodeDecodeError as exc:
        raise _encoding_error(spec, path.name, exc.reason) from exc
    except csv.Error as exc:
        raise SourceError(
            f"source '{spec.name}': {path.name} is not a valid CSV file: {exc}"
        ) from None
    return None


def _utf8_copy(spec: SourceSpec, path: Path, encoding: str, folder: Path) -> Path:
    """A UTF-8 copy of the file, streamed, for encodings DuckDB cannot read itself."""
    target = folder / "source.csv"
    try:
        with (
            path.open(encoding=encoding, newline="") as source,
            target.open("w", encoding="utf-8", newline="") as copy,
        ):
            shutil.copyfileobj(source, copy, 1 << 20)
    except OSError as exc:
        raise files.file_error(spec, path, exc) from exc
    except UnicodeDecodeError as exc:
        raise _encoding_error(spec, path.name, exc.reason) from exc
    return target


class _Source:
    """What DuckDB reads for one source: the table-function call and the needed columns."""

    def __init__(self, spec: SourceSpec, where: str) -> None:
        self.spec = spec
        self.where = where
        self.columns: list[Column] = []
        self.call = ""
        self.numbered_call = ""
        self.row_number = ""
        self.options = ""
        self.path = ""

    def csv_call(self, parallel: bool) -> str:
        return f"read_csv({literal(self.path)}, {self.options}, parallel = {str(parallel).lower()})"


def _open_csv(spec: SourceSpec, wanted: Sequence[str], folder: Path) -> _Source | None:
    assert spec.path is not None
    source = _Source(spec, spec.path.name)
    encoding = _encoding(spec)
    found = _csv_header(spec, spec.path, encoding)
    if found is None:
        return None
    headers, before = found
    positions = files.resolve(spec, headers, wanted, source.where)
    path, duck_encoding = spec.path, _NATIVE_ENCODINGS.get(encoding)
    if duck_encoding is None or _GLOB.search(str(path)):
        path, duck_encoding = _utf8_copy(spec, path, encoding, folder), "utf-8"
    types = ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(headers)))
    source.path = str(path)
    source.options = (
        f"header = true, auto_detect = false, delim = {literal(spec.delimiter)}, "
        f"quote = '\"', escape = '\"', encoding = '{duck_encoding}', skip = {before}, "
        f"columns = {{{types}}}, null_padding = true"
    )
    source.columns = [Column(name, f"c{positions[name]}", Kind.TEXT) for name in wanted]
    source.row_number = "row_number() OVER () + 1"  # data rows start at line 2, as in pandas
    return source


def _open_parquet(
    spec: SourceSpec, wanted: Sequence[str], folder: Path, conn: Connection
) -> _Source:
    assert spec.path is not None
    source = _Source(spec, spec.path.name)
    try:
        spec.path.stat()
    except OSError as exc:
        raise files.file_error(spec, spec.path, exc) from exc
    path = spec.path
    if _GLOB.search(str(path)):
        path = Path(shutil.copyfile(path, folder / "source.parquet"))
    source.path = str(path)
    try:
        described = conn.exec_driver_sql(
            f"DESCRIBE SELECT * FROM read_parquet({literal(source.path)})"
        ).all()
    except sa_exc.DBAPIError as exc:
        raise SourceError(
            f"source '{spec.name}': {source.where} is not a Parquet file ({_first_line(exc)})",
            'export the file as Parquet, or use kind = "csv" for CSV exports',
        ) from None
    names = [str(row[0]) for row in described]
    types = {str(row[0]): str(row[1]) for row in described}
    positions = files.resolve(spec, names, wanted, source.where)
    for name in wanted:
        column = names[positions[name]]
        kind = kind_of(types[column])
        if kind is None:
            raise SourceError(
                f"source '{spec.name}' ({source.where}): column '{column}' holds "
                f"{types[column]}, which is not text, a number, true/false or a timestamp",
                "export that column as one of those",
            )
        if name == spec.time_column and kind not in (
            Kind.TEXT,
            Kind.DATE,
            Kind.TIMESTAMP,
            Kind.INSTANT,
        ):
            raise SourceError(
                f"source '{spec.name}' ({source.where}): time column '{column}' holds "
                f"{types[column]}, not timestamps",
                "export it as a Parquet TIMESTAMP, or as ISO 8601 text",
            )
        source.columns.append(Column(name, _quote_ident(column), kind))
    source.call = f"read_parquet({literal(source.path)})"
    source.numbered_call = f"read_parquet({literal(source.path)}, file_row_number = true)"
    source.row_number = "file_row_number + 1"
    return source


def _first_line(exc: sa_exc.DBAPIError) -> str:
    return str(exc.orig).strip().split("\n")[0][:300]


def _translate(source: _Source, exc: sa_exc.DBAPIError) -> SheetsHealthError:
    """DuckDB's errors about the file, worded for the user."""
    spec, message = source.spec, str(exc.orig)
    if "Invalid unicode" in message:
        return _encoding_error(spec, source.where, "invalid bytes for that encoding")
    line = _CSV_LINE.search(message)
    if line is not None:
        details = [d.strip() for d in message.split("\n")[1:] if d.strip()]
        reason = next((d for d in details if not d.startswith("Original Line")), "")
        return SourceError(
            f"source '{spec.name}': {source.where} is not a valid CSV file: line "
            f"{line.group(1)}: {reason}",
            "check the delimiter and that every row has as many cells as the header",
        )
    if "IO Error" in message:
        return SourceUnavailableError(
            f"source '{spec.name}': cannot read {spec.path}: {_first_line(exc)}",
            "check the file share, then retry",
        )
    return SourceError(f"source '{spec.name}' ({source.where}): {_first_line(exc)}")


def _connect(folder: Path) -> tuple[sa.Engine, Connection]:
    try:
        engine = sa.create_engine("duckdb:///:memory:", poolclass=NullPool)
        conn = engine.connect()
    except (sa_exc.NoSuchModuleError, ImportError) as exc:
        raise SourceError(
            f"file sources need DuckDB, which is not installed ({exc})",
            "pip install duckdb duckdb-engine (or reinstall sheets-health)",
        ) from None
    for setting in (
        "SET TimeZone = 'UTC'",  # naive text casts to its own wall-clock time
        f"SET temp_directory = {literal(str(folder))}",  # never spill into the working folder
        "SET autoinstall_known_extensions = false",  # never download anything
        "SET enable_progress_bar = false",  # the CLI owns the terminal
    ):
        conn.exec_driver_sql(setting)
    return engine, conn


def load_file(
    spec: SourceSpec,
    metrics: Sequence[MetricSpec],
    wanted: Sequence[str],
    clock: Clock,
    progress: Progress,
) -> tuple[SqlLoad, str]:
    """Every metric of one CSV/Parquet source, and how messages name the file."""
    assert spec.path is not None
    with tempfile.TemporaryDirectory(prefix="sheets-health-", ignore_cleanup_errors=True) as tmp:
        folder = Path(tmp)
        if spec.kind is SourceKind.CSV:
            source = _open_csv(spec, wanted, folder)
            if source is None:  # not even a header row
                progress.step()
                for _ in metrics:
                    progress.step()
                return SqlLoad(), spec.path.name
        engine, conn = _connect(folder)
        try:
            if spec.kind is SourceKind.PARQUET:
                source = _open_parquet(spec, wanted, folder, conn)
            assert source is not None
            return _aggregate(source, metrics, clock, conn, progress), source.where
        finally:
            conn.close()
            engine.dispose()


def _aggregate(
    source: _Source,
    metrics: Sequence[MetricSpec],
    clock: Clock,
    conn: Connection,
    progress: Progress,
) -> SqlLoad:
    spec = source.spec
    last_year = duck_view.last_year(clock)
    text_cells = spec.kind is SourceKind.CSV
    roles = roles_for(spec, metrics)
    attempts = [(True, True), (True, False)]  # (parallel, raw ids); changed on the way
    for parallel, raw_ids in attempts:
        call = source.csv_call(parallel) if text_cells else source.call
        numbered = source.csv_call(False) if text_cells else source.numbered_call
        src_sql = view_sql(spec, source.columns, roles, call, last_year)
        conn.exec_driver_sql(f"CREATE OR REPLACE TEMP VIEW src AS {src_sql}")
        rows_sql = view_sql(spec, source.columns, roles, numbered, last_year, source.row_number)
        conn.exec_driver_sql(f"CREATE OR REPLACE TEMP VIEW src_rows AS {rows_sql}")
        relation = FileRelation(
            spec, source.where, source.columns, "src", clock, text_cells, raw_ids=raw_ids
        )
        relation.locate = _locator(relation, conn)
        if (parallel, raw_ids) == attempts[0]:
            progress.step()
        try:
            return aggregate(spec, metrics, relation, conn, clock.end, progress)
        except DuplicateIds:
            if raw_ids:
                conn.rollback()
                continue  # "A" and "A ": group by the trimmed id instead
            raise
        except sa_exc.DBAPIError as exc:
            # DuckDB's parallel CSV reader cannot pad short rows of a file whose quoted cells
            # hold line breaks; read that file on one thread instead
            if parallel and text_cells and "parallel scanner does not support" in str(exc.orig):
                conn.rollback()
                attempts.insert(attempts.index((parallel, raw_ids)) + 1, (False, raw_ids))
                continue
            raise _translate(source, exc) from None
    raise AssertionError("unreachable")


def _locator(relation: FileRelation, conn: Connection) -> Any:
    """A function finding the first row (in file order) where a condition on the view holds."""
    numbered = sa.table(
        "src_rows",
        *(sa.column(c.name) for c in relation.table.columns),  # same names + rn
    )

    def swap(element: Any) -> Any:
        if isinstance(element, ColumnClause) and element.table is relation.table:
            return numbered.c[element.name]
        return None

    def locate(condition: ColumnElement[bool], raw: str) -> tuple[int, object]:
        where: ColumnElement[bool] = visitors.replacement_traverse(condition, {}, swap)  # type: ignore[call-overload]
        query = (
            sa.select(numbered.c.rn, numbered.c[raw])
            .where(numbered.c.id != "", where)
            .order_by(numbered.c.rn)
            .limit(1)
        )
        found = conn.execute(query).one()
        return int(found[0]), found[1]

    return locate
