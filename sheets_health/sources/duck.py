"""CSV and Parquet files aggregated inside DuckDB, through the SQL path's compiler.

The file is read as text (``all_varchar``), so the cell policy stays the one of
`sources.frames`: ids are trimmed text (``00123`` stays ``00123``), blanks are missing,
numbers are plain decimal text, timestamps are ISO 8601 text — naive ones are wall-clock
time in the source's ``timezone`` (converted here with the zone's own transitions: an
ambiguous time is the earlier instant, a time in a gap moves to the end of the gap), ones
with an offset are instants. The time column becomes UTC microseconds, so DuckDB's own time
zone never matters. One DuckDB pass checks the cells first; whenever a cell falls outside
that fast policy (``1,234``, ``45%``, a bad timestamp, ``time_format``, a non-UTF-8
encoding, an NPS score outside 0–10, a duplicate id…), this module returns None and the
caller uses the pandas path, which gives the same values and the same errors (with rows).
DuckDB is imported here only, when a file source loads.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.sql.elements import ColumnElement

from sheets_health.errors import SourceError
from sheets_health.sources import common, sql
from sheets_health.sources.common import Clock, Progress
from sheets_health.sources.spec import Agg, MetricSpec, Op, SourceKind, SourceSpec

if TYPE_CHECKING:
    import pandas as pd

# whitespace other than " " that Python's str.strip() removes (str.isspace): a cell with it
# at either end goes to the pandas path, so DuckDB's fast trim() of spaces matches pandas
_OTHER_SPACE = (
    r"[\t\n\v\f\r\x1c-\x1f\x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}"
    r"\x{205f}\x{3000}]"
)
_EDGE_SPACE = f"^ *{_OTHER_SPACE}|{_OTHER_SPACE} *$"
_NUMBER = r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$"
# text that pandas or parse_number may read as a number although _NUMBER does not
_NUMBERISH = r"(?i)^[^a-z@]*[0-9][^a-z@]*$|^[+-]?(inf|infinity|nan)$"
_DATE = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
_CLOCK = r"[ T][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?"
_TIME = f"^{_DATE}({_CLOCK}(Z|[+-][0-9]{{2}}(:[0-9]{{2}})?)?)?$"
_UTF8 = {"utf-8", "utf8", "utf-8-sig", "utf_8", "utf_8_sig"}
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_US = dt.timedelta(microseconds=1)


class _Fallback(Exception):
    """The file needs the pandas path (an unusual cell or option)."""


def _micros(moment: dt.datetime) -> int:
    return (moment - _EPOCH) // _US


class _UtcMicros(sql._Times):
    """Times as UTC microseconds since 1970 (the view converts every row once)."""

    def expr(self, col: ColumnElement[Any]) -> ColumnElement[Any]:
        return col

    def param(self, moment: dt.datetime) -> ColumnElement[Any]:
        return sa.literal(_micros(moment), sa.BigInteger())

    def value(self, raw: object) -> dt.datetime | None:
        return None if raw is None else _EPOCH + int(raw) * _US  # type: ignore[call-overload]


class _FileCompiler(sql._Compiler):
    """Text columns ``c<i>``, numbers ``n<i>``, the time ``t`` (see `_select`)."""

    def __init__(self, spec: SourceSpec, src: Any, index: dict[str, int], **kw: Any) -> None:
        super().__init__(spec, src, {}, **kw)
        self.index = index
        self.numeric_order: set[str] = set()

    def col(self, name: str) -> ColumnElement[Any]:
        if name == self.spec.time_column and self.times is not None:
            column: ColumnElement[Any] = self.src.c.t
        else:
            column = self.src.c[f"c{self.index[name]}"]
        return column

    def number(self, name: str) -> ColumnElement[Any]:
        column: ColumnElement[Any] = self.src.c[f"n{self.index[name]}"]
        return column

    def operand(self, name: str, value: object) -> ColumnElement[Any]:
        values = value if isinstance(value, tuple) else (value,)
        return self.number(name) if isinstance(values[0], int | float) else self.col(name)

    def cell(self, value: object) -> object:
        return None if value is None else common.natural(str(value))

    def last_query(self, metric: MetricSpec) -> sa.Select[Any]:
        assert metric.column is not None and self.times is not None
        value = self.col(metric.column)
        order = self.number(metric.column) if metric.column in self.numeric_order else value
        ranked = (
            sa.select(
                self.id.label("cid"),
                value.label("v"),
                sa.func.row_number()
                .over(
                    partition_by=self.id,
                    order_by=(self.col(self.spec.time_column or "").desc(), order.desc()),
                )
                .label("rn"),
            )
            .where(self.cond(metric), value.is_not(None), self.id.is_not(None))
            .subquery("ranked")
        )
        return sa.select(ranked.c.cid, ranked.c.v).where(ranked.c.rn == 1)


def _uses(spec: SourceSpec, metrics: Sequence[MetricSpec]) -> tuple[set[str], set[str]]:
    """(columns read as numbers, columns whose raw values are returned); raises _Fallback
    for what only the pandas path handles."""
    numeric: set[str] = set()
    raw: set[str] = set()
    time = spec.time_column
    for metric in metrics:
        if metric.column is not None:
            if metric.column == time:
                raise _Fallback
            if metric.agg in (Agg.COLUMN, Agg.LAST):
                raw.add(metric.column)
            elif metric.agg is not Agg.DISTINCT:
                numeric.add(metric.column)
        for condition in metric.where:
            values = condition.value if isinstance(condition.value, tuple) else (condition.value,)
            if condition.column == time or any(isinstance(v, bool) or v == "" for v in values):
                raise _Fallback
            kinds = {isinstance(v, int | float) for v in values}
            if len(kinds) > 1:
                raise _Fallback
            if kinds == {True} or condition.op in (Op.LT, Op.LE, Op.GT, Op.GE):
                numeric.add(condition.column)
    return numeric, raw


def _reader(spec: SourceSpec, width: int) -> tuple[str, dict[str, Any]]:
    """The table function reading the file, with the path and options as bound values
    (CSV columns are named c0, c1… by position: header text never enters the SQL)."""
    assert spec.path is not None
    if spec.kind is SourceKind.PARQUET:
        return "read_parquet(:path)", {"path": str(spec.path)}
    names = ", ".join(f"'c{i}': 'VARCHAR'" for i in range(width))
    return (
        f"read_csv(:path, columns = {{{names}}}, header = true, delim = :delim, "
        "quote = '\"', escape = '\"', auto_detect = false, strict_mode = true)",
        {"path": str(spec.path), "delim": spec.delimiter},
    )


def _transitions(zone: ZoneInfo, low: dt.datetime, high: dt.datetime) -> list[dt.datetime]:
    """UTC instants in [low - 2 days, high + 2 days] where the zone's offset changes."""
    found: list[dt.datetime] = []
    day = dt.timedelta(days=1)
    at = low.replace(tzinfo=dt.UTC) - 2 * day
    stop = high.replace(tzinfo=dt.UTC) + 2 * day
    while at < stop:
        nxt = at + day
        if at.astimezone(zone).utcoffset() != nxt.astimezone(zone).utcoffset():
            lo, hi = at, nxt
            while hi - lo > dt.timedelta(seconds=1):
                mid = lo + (hi - lo) / 2
                if mid.astimezone(zone).utcoffset() == lo.astimezone(zone).utcoffset():
                    lo = mid
                else:
                    hi = mid
            found.append(hi)
        at = nxt
    return found


def _naive_to_utc(
    local: ColumnElement[Any], zone: ZoneInfo, changes: list[dt.datetime], low: dt.datetime
) -> Any:
    """Wall-clock microseconds → UTC microseconds, as pandas localises (ambiguous: the
    earlier instant; non-existent: the end of the gap)."""

    def offset(moment: dt.datetime) -> int:
        delta = moment.astimezone(zone).utcoffset()
        assert delta is not None
        return delta // _US

    first = changes[0] - dt.timedelta(days=1) if changes else low.replace(tzinfo=dt.UTC)
    whens: list[tuple[Any, Any]] = []
    for change in reversed(changes):
        before, after = offset(change - dt.timedelta(seconds=1)), offset(change)
        at = _micros(change)
        whens.append((local >= at + max(before, after), local - after))
        if after > before:  # a gap: wall-clock times that never happen
            whens.append((local >= at + before, sa.literal(at, sa.BigInteger())))
    otherwise = local - offset(first)
    return sa.case(*whens, else_=otherwise) if whens else otherwise


def _micros_of(text: Any, aware: bool) -> Any:
    return sa.func.epoch_us(sa.cast(text, sa.DateTime(timezone=aware)))


def _csv_headers(spec: SourceSpec) -> list[str]:
    """The header row exactly as the pandas path reads it (any trouble: the pandas path)."""
    import pandas as pd

    assert spec.path is not None
    try:
        header = pd.read_csv(spec.path, nrows=0, sep=spec.delimiter, encoding=spec.encoding)
    except Exception as exc:  # missing file, bad encoding, empty file: worded by pandas path
        raise _Fallback from exc
    return [str(h) for h in header.columns]


def load_file(
    spec: SourceSpec,
    metrics: Sequence[MetricSpec],
    wanted: Sequence[str],
    clock: Clock,
    progress: Progress,
) -> tuple[dict[str, pd.Series], frozenset[str], int, list[str]] | None:
    """Every metric of a CSV or Parquet file, or None when the pandas path must do it."""
    if spec.kind is SourceKind.CSV and (
        spec.time_format is not None or spec.encoding.lower() not in _UTF8
    ):
        return None
    try:
        numeric, raw = _uses(spec, metrics)
        headers = _csv_headers(spec) if spec.kind is SourceKind.CSV else []
    except _Fallback:
        return None
    import duckdb

    engine = sa.create_engine("duckdb:///:memory:", poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SET TimeZone = 'UTC'")
            conn.exec_driver_sql("SET enable_progress_bar = false")
            return _load(spec, metrics, wanted, headers, clock, progress, conn, numeric, raw)
    except (_Fallback, duckdb.Error, sa_exc.SQLAlchemyError, SourceError):
        return None
    finally:
        engine.dispose()


def _load(
    spec: SourceSpec,
    metrics: Sequence[MetricSpec],
    wanted: Sequence[str],
    headers: Sequence[str],
    clock: Clock,
    progress: Progress,
    conn: sa.Connection,
    numeric: set[str],
    raw: set[str],
) -> tuple[dict[str, pd.Series], frozenset[str], int, list[str]]:
    import pandas as pd

    from sheets_health.sources.files import resolve

    reader, params = _reader(spec, len(headers))
    probe = conn.execute(sa.text(f"SELECT * FROM {reader} LIMIT 0"), params)
    keys = list(probe.keys())
    if headers and len(keys) != len(headers):
        raise _Fallback
    found = resolve(spec, headers or keys, wanted, Path(str(spec.path)).name)
    index = {name: i for i, name in enumerate(found)}
    source = sa.text(f"SELECT * FROM {reader}").bindparams(**params)
    files = source.columns(*(sa.column(k) for k in keys)).subquery("f")

    # the view: r<i> the cell as read, c<i> trimmed text (NULL if blank; the id "" if blank,
    # so blank-id rows form one group the aggregation sets aside), n<i> numbers, t the time
    columns: list[Any] = []
    for name, i in index.items():
        cell = sa.cast(files.c[keys[found[name]]], sa.String())
        columns.append(cell.label(f"r{i}"))
        trimmed = sa.func.trim(cell)
        if name == spec.id_column:
            columns.append(sa.func.coalesce(trimmed, "").label(f"c{i}"))
        else:
            columns.append(sa.func.nullif(trimmed, "").label(f"c{i}"))
    inner = sa.select(*columns).select_from(files).subquery("cells")

    def time_of(table: Any) -> tuple[Any, Any, Any]:
        """(text, wall-clock microseconds, has an offset) of the time column of ``table``."""
        text = table.c[f"c{index[spec.time_column or '']}"]
        # every time matches _TIME (checked below): only an offset has Z, + or - after the date
        tail = sa.func.substr(text, 11)
        aware = sa.or_(
            sa.func.contains(tail, "Z"), sa.func.contains(tail, "+"), sa.func.contains(tail, "-")
        )
        return text, _micros_of(text, False), aware

    def view(low: dt.datetime, high: dt.datetime) -> Any:
        picked: list[Any] = list(inner.c)
        for name, i in index.items():
            if name in numeric or name in raw:
                picked.append(sa.try_cast(inner.c[f"c{i}"], sa.Double()).label(f"n{i}"))
        if spec.time_column is not None:
            time_text, local, offset = time_of(inner)
            changes = _transitions(clock.zone, low, high)
            instant = sa.case(
                (offset, _micros_of(time_text, True)),
                else_=_naive_to_utc(local, clock.zone, changes, low),
            )
            picked.append(instant.label("t"))
        return sa.select(*picked).subquery("src")

    # the checks, as extra aggregates of the same pass (one value per customer id)
    def checks(src: Any) -> list[Any]:
        found_checks: list[Any] = []
        for name, i in index.items():
            text, nonblank = src.c[f"c{i}"], src.c[f"c{i}"].is_not(None)
            if name != spec.time_column:
                edge = sa.func.regexp_matches(src.c[f"r{i}"], _EDGE_SPACE)
                found_checks.append(sa.func.count().filter(edge).label(f"space{i}"))
            if name in numeric or name in raw:
                odd = sa.and_(nonblank, sa.not_(sa.func.regexp_full_match(text, _NUMBER)))
                found_checks.append(sa.func.count().filter(odd).label(f"text{i}"))
                if name in raw:
                    odd = sa.and_(odd, sa.func.regexp_matches(text, _NUMBERISH))
                found_checks.append(sa.func.count().filter(odd).label(f"odd{i}"))
        if spec.time_column is not None:
            t, local, offset = time_of(src)
            t = src.c[f"c{index[spec.time_column]}"]
            bad = sa.and_(t.is_not(None), sa.not_(sa.func.regexp_full_match(t, _TIME)))
            naive = sa.case((sa.not_(offset), local))
            found_checks += [
                sa.func.count().filter(bad).label("bad_times"),
                sa.func.min(naive).label("low"),
                sa.func.max(naive).label("high"),
            ]
        return found_checks

    # the zone's changes are taken for a range most exports fit; a file outside it is
    # aggregated again with its own range
    low = (clock.end - dt.timedelta(days=3 * 366)).replace(tzinfo=None)
    high = (clock.end + dt.timedelta(days=366)).replace(tzinfo=None)
    times = _UtcMicros("duckdb", clock, True) if spec.time_column is not None else None
    grouped = [m for m in metrics if m.agg not in (Agg.COLUMN, Agg.LAST)]
    for _attempt in range(2):
        src = view(low, high)
        compiler = _FileCompiler(spec, src, index, times=times, end=clock.end)
        load = sql.aggregate(spec, grouped, compiler, conn, clock, Progress(spec.name, 0),
                             extra=checks(src))  # fmt: skip
        totals = {
            k: sum(int(v or 0) for v in values)  # type: ignore[call-overload]
            for k, values in load.extra.items()
            if k not in ("low", "high")
        }
        if any(totals[k] for k in totals if k.startswith(("space", "odd", "bad_times"))):
            raise _Fallback
        # as in pandas, `last` breaks ties by number only when every value is a number
        compiler.numeric_order = {n for n in raw if not totals[f"text{index[n]}"]}
        lows = [int(str(v)) for v in load.extra.get("low", []) if v is not None]
        highs = [int(str(v)) for v in load.extra.get("high", []) if v is not None]
        if not lows:
            break
        seen_low = _EPOCH.replace(tzinfo=None) + min(lows) * _US
        seen_high = _EPOCH.replace(tzinfo=None) + max(highs) * _US
        if low <= seen_low and seen_high <= high:
            break
        low, high = min(low, seen_low), max(high, seen_high)
    ids = pd.Index(sorted(load.ids), name="customer_id", dtype=object)
    for metric in metrics:
        if metric.agg in (Agg.COLUMN, Agg.LAST):
            load.values[metric.name] = sql._raw_metric(spec, metric, compiler, conn, ids)
    for _ in range(1 + len(metrics)):
        progress.step()
    return load.values, load.ids, load.rows, load.notes


def parquet_cells(spec: SourceSpec, wanted: Sequence[str]) -> Any:
    """The needed columns of a Parquet file as text `files.Cells` for the pandas path
    (row numbers count data rows from 1)."""
    import duckdb
    import numpy as np

    from sheets_health.sources.files import Cells, file_error, resolve

    assert spec.path is not None
    where = spec.path.name
    try:
        with spec.path.open("rb"):
            pass
    except OSError as exc:
        raise file_error(spec, spec.path, exc) from exc
    conn = duckdb.connect()
    try:
        conn.execute("SET TimeZone = 'UTC'")
        try:
            keys = [
                d[0]
                for d in conn.execute(
                    "SELECT * FROM read_parquet(?) LIMIT 0", [str(spec.path)]
                ).description
            ]
        except duckdb.Error as exc:
            raise SourceError(
                f"source '{spec.name}': {where} is not a Parquet file ({exc})",
                'check the path, or use kind = "csv" for CSV exports',
            ) from exc
        found = resolve(spec, keys, wanted, where)
        picked = ", ".join(
            f'CAST("{keys[pos].replace(chr(34), chr(34) * 2)}" AS VARCHAR) AS c{i}'
            for i, pos in enumerate(found.values())
        )
        frame = conn.execute(f"SELECT {picked} FROM read_parquet(?)", [str(spec.path)]).df()
    finally:
        conn.close()
    frame.columns = list(found)
    frame = frame.astype(object).where(frame.notna(), "")
    return Cells(frame, np.arange(1, len(frame) + 1, dtype=np.int64), where, text=True)
