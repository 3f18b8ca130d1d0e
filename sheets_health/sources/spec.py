"""The `[sources.*]` and `[metrics.*]` config tables, parsed into typed specs.

`sheets_health.config` calls `parse_specs` when it loads the file. Parsing gathers every
problem (each naming the key and the fix) instead of stopping at the first, so they are all
shown at once. The schema itself is documented in `sheets_health.sources`. Light on purpose
(no pandas, no SQLAlchemy): loading a config must not load the data stack.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_ID_COLUMN = "Customer ID"
DEFAULT_TIMEZONE = "UTC"
DEFAULT_SQL_TIMEOUT = 300.0


class SourceKind(StrEnum):
    CSV = "csv"
    PARQUET = "parquet"
    XLSX = "xlsx"
    SQL = "sql"
    SHEET = "sheet"


class Agg(StrEnum):
    COLUMN = "column"
    COUNT = "count"
    SUM = "sum"
    MEAN = "mean"
    MIN = "min"
    MAX = "max"
    LAST = "last"
    DISTINCT = "distinct"
    DAYS_SINCE = "days_since"
    NPS = "nps"
    PCT_CHANGE = "pct_change"


class Op(StrEnum):
    EQ = "="
    NE = "!="
    LT = "<"
    LE = "<="
    GT = ">"
    GE = ">="
    IN = "in"
    NOT_IN = "not in"


_OP_ALIASES = {"==": Op.EQ, "<>": Op.NE, "not_in": Op.NOT_IN, "notin": Op.NOT_IN}
ORDERING_OPS = frozenset({Op.LT, Op.LE, Op.GT, Op.GE})

# aggregations that take / need `column`, and those that need the source's time column
NEEDS_COLUMN = frozenset(
    {Agg.COLUMN, Agg.SUM, Agg.MEAN, Agg.MIN, Agg.MAX, Agg.LAST, Agg.DISTINCT, Agg.NPS}
)
NO_COLUMN = frozenset({Agg.COUNT, Agg.DAYS_SINCE})
NEEDS_TIME = frozenset({Agg.LAST, Agg.DAYS_SINCE, Agg.PCT_CHANGE})
RAW_VALUE_AGGS = frozenset({Agg.COLUMN, Agg.LAST})  # values as cells, not floats

Scalar = str | int | float | bool


@dataclass(frozen=True)
class Condition:
    """One clause of a metric's `where`; the clauses of a metric are ANDed."""

    column: str
    op: Op
    value: Scalar | tuple[Scalar, ...]


@dataclass(frozen=True)
class SourceSpec:
    name: str
    kind: SourceKind
    id_column: str = DEFAULT_ID_COLUMN
    time_column: str | None = None
    timezone: str = DEFAULT_TIMEZONE
    time_format: str | None = None
    path: Path | None = None
    tab: str | None = None
    spreadsheet: str | None = None
    url: str | None = None
    table: str | None = None
    query: str | None = None
    delimiter: str = ","
    encoding: str = "utf-8-sig"
    timeout: float = DEFAULT_SQL_TIMEOUT
    max_age_days: float | None = None  # newest row older than this: its metrics are missing

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def tab_of_this_sheet(self) -> str | None:
        """The tab a sheet source reads from the synced sheet itself (None: another one)."""
        if self.kind is SourceKind.SHEET and self.spreadsheet is None and self.path is None:
            return self.tab
        return None


@dataclass(frozen=True)
class MetricSpec:
    name: str
    source: str
    agg: Agg
    column: str | None = None
    window_days: float | None = None
    where: tuple[Condition, ...] = ()
    default: float | None = None  # the value for customers the source has no rows for

    @property
    def window(self) -> dt.timedelta | None:
        return None if self.window_days is None else dt.timedelta(days=self.window_days)


@dataclass(frozen=True)
class Specs:
    sources: Mapping[str, SourceSpec]
    metrics: Mapping[str, MetricSpec]


_COMMON_KEYS = {"kind", "id_column", "time_column", "timezone", "max_age_days"}
_SOURCE_KEYS: dict[SourceKind, set[str]] = {
    SourceKind.CSV: _COMMON_KEYS | {"path", "time_format", "delimiter", "encoding"},
    SourceKind.PARQUET: _COMMON_KEYS | {"path", "time_format"},
    SourceKind.XLSX: _COMMON_KEYS | {"path", "tab", "time_format"},
    SourceKind.SQL: _COMMON_KEYS | {"url", "table", "query", "timeout"},
    SourceKind.SHEET: _COMMON_KEYS | {"tab", "spreadsheet", "path", "time_format"},
}
_PATH_EXAMPLES = {  # the kinds that need `path`
    SourceKind.CSV: "usage_events.csv",
    SourceKind.PARQUET: "usage_events.parquet",
    SourceKind.XLSX: "export.xlsx",
}
_METRIC_KEYS = {"source", "agg", "column", "window_days", "where", "default"}
_TABLE_NAME = re.compile(r"^[A-Za-z_][\w$]*(\.[A-Za-z_][\w$]*)?$")


def _quoted(values: Any) -> str:
    items = [f'"{v}"' for v in values]
    return ", ".join(items[:-1]) + f" or {items[-1]}" if len(items) > 1 else items[0]


def _unknown_keys(where: str, raw: Mapping[str, Any], known: set[str]) -> list[str]:
    problems = []
    for key in sorted(set(raw) - known):
        close = difflib.get_close_matches(key, sorted(known), n=1)
        fix = (
            f"did you mean {close[0]}?"
            if close
            else f"the keys here are {', '.join(sorted(known))}"
        )
        problems.append(f"{where}: unknown key '{key}'. Fix: {fix}")
    return problems


def _text(raw: Mapping[str, Any], key: str, where: str, problems: list[str]) -> str | None:
    value = raw.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        problems.append(f'{where}: {key} must be non-empty text. Fix: write {key} = "..."')
        return None
    return value.strip()


def parse_source(
    name: str, raw: Mapping[str, Any], base_dir: Path, backend: str
) -> tuple[SourceSpec, list[str]]:
    """``base_dir``: the config file's folder; ``backend``: the [sheet]'s ("xlsx"/"google")."""
    where = f"[sources.{name}]"
    problems: list[str] = []
    kind_raw = raw.get("kind")
    try:
        kind = SourceKind(str(kind_raw).strip().lower())
    except ValueError:
        shown = "missing" if kind_raw is None else f'"{kind_raw}" is not known'
        problems.append(f"{where}: kind is {shown}. Fix: write kind = {_quoted(SourceKind)}")
        return SourceSpec(name=name, kind=SourceKind.CSV), problems
    problems += _unknown_keys(where, raw, _SOURCE_KEYS[kind])
    id_column = _text(raw, "id_column", where, problems) or DEFAULT_ID_COLUMN
    time_column = _text(raw, "time_column", where, problems)
    timezone = _text(raw, "timezone", where, problems) or DEFAULT_TIMEZONE
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(
            f'{where}: timezone "{timezone}" is not known. '
            'Fix: use an IANA name such as "UTC" or "Europe/Paris"'
        )
        timezone = DEFAULT_TIMEZONE
    time_format = _text(raw, "time_format", where, problems)
    path_text = _text(raw, "path", where, problems)
    path = None
    if path_text is not None:
        path = Path(path_text).expanduser()
        if not path.is_absolute():
            path = base_dir / path
    tab = _text(raw, "tab", where, problems)
    spreadsheet = _text(raw, "spreadsheet", where, problems)
    url = _text(raw, "url", where, problems)
    table = _text(raw, "table", where, problems)
    query = _text(raw, "query", where, problems)
    delimiter = raw.get("delimiter", ",")
    if not isinstance(delimiter, str) or len(delimiter) != 1:
        problems.append(f'{where}: delimiter must be one character. Fix: delimiter = ";"')
        delimiter = ","
    encoding = _text(raw, "encoding", where, problems) or "utf-8-sig"
    timeout = raw.get("timeout", DEFAULT_SQL_TIMEOUT)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
        problems.append(
            f"{where}: timeout must be a positive number of seconds. Fix: timeout = 300"
        )
        timeout = DEFAULT_SQL_TIMEOUT

    max_age = raw.get("max_age_days")
    if max_age is not None and (isinstance(max_age, bool) or not isinstance(max_age, int | float)
                                or not 0 < max_age <= 36_600):
        problems.append(f"{where}: max_age_days must be a positive number of days. "
                        "Fix: max_age_days = 7")
        max_age = None
    if max_age is not None and time_column is None:
        problems.append(f"{where}: max_age_days needs time_column (the age of a source is "
                        'its newest row\'s). Fix: add time_column = "<timestamp column>"')
        max_age = None
    if kind in _PATH_EXAMPLES and path is None:
        example = _PATH_EXAMPLES[kind]
        problems.append(
            f'{where}: a {kind} source needs path. Fix: path = "{example}" '
            "(relative to the config file's folder)"
        )
    if kind is SourceKind.SQL:
        if url is None:
            problems.append(
                f'{where}: a sql source needs url. Fix: url = "${{WAREHOUSE_URL}}" and export '
                "WAREHOUSE_URL=postgresql+psycopg://user:password@host/db"
            )
        if (table is None) == (query is None):
            problems.append(
                f'{where}: give exactly one of table or query. Fix: table = "events" '
                '(or "schema.events"), or query = "SELECT ..."'
            )
        if table is not None and not _TABLE_NAME.match(table):
            problems.append(
                f'{where}: table "{table}" is not a plain [schema.]table name. '
                'Fix: use query = "SELECT ..." for anything else'
            )
    if kind is SourceKind.SHEET:
        if tab is None:
            problems.append(f'{where}: a sheet source needs tab. Fix: tab = "NPS responses"')
        if spreadsheet is not None and path is not None:
            problems.append(
                f"{where}: give spreadsheet (another Google Sheet) or path (another workbook), "
                "not both. Fix: remove one"
            )
        if spreadsheet is not None and backend != "google":
            problems.append(
                f"{where}: spreadsheet only works with the google backend. "
                'Fix: on the xlsx backend write path = "other.xlsx" instead'
            )
    spec = SourceSpec(
        name=name,
        kind=kind,
        id_column=id_column,
        time_column=time_column,
        timezone=timezone,
        max_age_days=None if max_age is None else float(max_age),
        time_format=time_format,
        path=path,
        tab=tab,
        spreadsheet=spreadsheet,
        url=url,
        table=table,
        query=query,
        delimiter=delimiter,
        encoding=encoding,
        timeout=float(timeout),
    )
    return spec, problems


def _scalar(value: Any) -> bool:
    return isinstance(value, str | int | float | bool) and not isinstance(value, dt.date)


def parse_where(raw: Any, where: str) -> tuple[tuple[Condition, ...], list[str]]:
    """`{ col = v }` equality, `{ col = [a, b] }` IN, `{ col = { ">=" = 3 } }` operators."""
    fix = 'Fix: where = { event = "login" }, { event = ["a", "b"] } or { seats = { ">=" = 3 } }'
    if not isinstance(raw, Mapping):
        return (), [f"{where}: where must be a table of column = value. {fix}"]
    conditions: list[Condition] = []
    problems: list[str] = []
    for column, value in raw.items():
        at = f"{where}: where.{column}"
        if isinstance(value, list):
            if not value or not all(_scalar(v) for v in value):
                problems.append(f"{at} must be a non-empty list of text/numbers. {fix}")
                continue
            conditions.append(Condition(column, Op.IN, tuple(value)))
        elif isinstance(value, Mapping):
            if not value:
                problems.append(f"{at} has no operator. {fix}")
            for op_text, operand in value.items():
                key = str(op_text).strip().lower()
                op = _OP_ALIASES.get(key) or next((o for o in Op if o.value == key), None)
                if op is None:
                    problems.append(
                        f'{at} uses unknown operator "{op_text}". Fix: use one of '
                        f"{_quoted(o.value for o in Op)}"
                    )
                    continue
                if op in (Op.IN, Op.NOT_IN):
                    if not isinstance(operand, list) or not operand:
                        problems.append(f'{at}: "{op}" needs a non-empty list. {fix}')
                        continue
                    if not all(_scalar(v) for v in operand):
                        problems.append(f'{at}: "{op}" takes text, numbers or true/false. {fix}')
                        continue
                    conditions.append(Condition(column, op, tuple(operand)))
                    continue
                if op in ORDERING_OPS and (
                    isinstance(operand, bool) or not isinstance(operand, int | float)
                ):
                    problems.append(
                        f'{at}: "{op}" compares numbers only, got {operand!r}. '
                        f'Fix: write a number, e.g. {{ "{op}" = 3 }}'
                    )
                    continue
                if not _scalar(operand):
                    problems.append(f"{at}: {operand!r} is not text, a number or true/false")
                    continue
                conditions.append(Condition(column, op, operand))
        elif _scalar(value):
            conditions.append(Condition(column, Op.EQ, value))
        else:
            problems.append(f"{at} = {value!r} cannot be compared (dates are not supported). {fix}")
    return tuple(conditions), problems


def parse_metric(
    name: str, raw: Mapping[str, Any], sources: Mapping[str, SourceSpec]
) -> tuple[MetricSpec, list[str]]:
    where = f'[metrics."{name}"]'
    problems = _unknown_keys(where, raw, _METRIC_KEYS)
    source = _text(raw, "source", where, problems)
    if source is None:
        names = ", ".join(sorted(sources)) or "none defined yet"
        problems.append(f'{where}: source is missing. Fix: source = "<name>" (sources: {names})')
    elif source not in sources:
        close = difflib.get_close_matches(source, sorted(sources), n=1)
        hint = f'did you mean "{close[0]}"?' if close else f"add [sources.{source}]"
        problems.append(f'{where}: source "{source}" is not defined. Fix: {hint}')
    agg_raw = raw.get("agg", "column")
    try:
        agg = Agg(str(agg_raw).strip().lower())
    except ValueError:
        problems.append(f'{where}: agg "{agg_raw}" is not known. Fix: agg = {_quoted(Agg)}')
        agg = Agg.COLUMN
    column = _text(raw, "column", where, problems)
    if agg in NEEDS_COLUMN and column is None:
        problems.append(f'{where}: agg = "{agg}" needs column. Fix: column = "<column name>"')
    if agg in NO_COLUMN and column is not None:
        hint = 'agg = "distinct" counts distinct values' if agg is Agg.COUNT else "remove column"
        problems.append(f'{where}: agg = "{agg}" takes no column. Fix: {hint}')
    window_raw = raw.get("window_days")
    window_days: float | None = None
    if window_raw is not None:
        if isinstance(window_raw, bool) or not isinstance(window_raw, int | float):
            problems.append(f"{where}: window_days must be a number of days. Fix: window_days = 30")
        elif window_raw <= 0:
            problems.append(f"{where}: window_days must be positive. Fix: window_days = 30")
        else:
            window_days = float(window_raw)
    if agg is Agg.COLUMN and window_raw is not None:
        problems.append(
            f'{where}: agg = "column" reads one value per customer and takes no window. '
            'Fix: remove window_days, or use agg = "last" on an event source'
        )
    if agg is Agg.PCT_CHANGE and window_raw is None:
        problems.append(
            f'{where}: agg = "pct_change" compares two windows and needs window_days. '
            "Fix: window_days = 30"
        )
    default_raw = raw.get("default")
    default: float | None = None
    if default_raw is not None:
        if isinstance(default_raw, bool) or not isinstance(default_raw, int | float):
            problems.append(f"{where}: default must be a number. Fix: default = 0")
        else:
            default = float(default_raw)
    conditions: tuple[Condition, ...] = ()
    if "where" in raw:
        conditions, where_problems = parse_where(raw["where"], where)
        problems += where_problems
    spec = sources.get(source or "")
    needs_time = agg in NEEDS_TIME or window_raw is not None
    if spec is not None and spec.time_column is None and needs_time:
        what = "window_days" if agg not in NEEDS_TIME else f'agg = "{agg}"'
        problems.append(
            f"{where}: {what} needs a time column, but [sources.{source}] has no "
            'time_column. Fix: add time_column = "<timestamp column>" to the source'
        )
    metric = MetricSpec(
        name=name,
        source=source or "",
        agg=agg,
        column=column,
        window_days=window_days,
        where=conditions,
        default=default,
    )
    return metric, problems


def parse_specs(
    sources_raw: Mapping[str, Mapping[str, Any]],
    metrics_raw: Mapping[str, Mapping[str, Any]],
    base_dir: Path,
    backend: str,
) -> tuple[Specs, list[str]]:
    """Every source and metric as a spec, plus every problem found (empty when valid)."""
    problems: list[str] = []
    sources: dict[str, SourceSpec] = {}
    for name, raw in sources_raw.items():
        spec, found = parse_source(name, raw, base_dir, backend)
        sources[name] = spec
        problems += found
    metrics: dict[str, MetricSpec] = {}
    for name, raw in metrics_raw.items():
        if not name.strip():
            problems.append('[metrics.""]: a metric needs a name. Fix: [metrics."Logins 30d"]')
            continue
        metric, found = parse_metric(name, raw, sources)
        metrics[name] = metric
        problems += found
    return Specs(sources=sources, metrics=metrics), problems
