"""Sources and metrics: per-customer values from files, databases and sheet tabs.

Config schema (`sheets-health.toml`; ``${VAR}`` is filled from the environment)::

    [sources.<name>]
    kind = "csv" | "parquet" | "xlsx" | "sql" | "sheet"
    id_column = "Customer ID"   # the source's customer-id column (default "Customer ID")
    time_column = "timestamp"   # needed for window_days, last, days_since, pct_change
    timezone = "UTC"            # naive timestamps (and a naive run time) are in this zone
    # csv:   path = "usage.csv"  delimiter = ","  encoding = "utf-8-sig"
    #        time_format = "%d/%m/%Y %H:%M"  (strptime; default: ISO 8601 text)
    # parquet: path = "events.parquet"  time_format (for a text time column)
    # xlsx:  path = "export.xlsx" tab = "Sheet1" (default: the first tab)   time_format
    # sql:   url = "${WAREHOUSE_URL}"  and  table = "[schema.]name"  or  query = "SELECT ..."
    #        timeout = 300  (seconds per statement; connecting waits at most 30)
    # sheet: tab = "NPS responses"  (a tab of this sheet/workbook)
    #        spreadsheet = "<id or URL>"  (another Google Sheet; google backend only)
    #        path = "other.xlsx"          (a tab of another workbook)

    [metrics."<Measure name>"]  # the name a Scorecard `Measure` uses
    source = "<name>"
    agg = "column" | "count" | "sum" | "mean" | "min" | "max" | "last" | "distinct"
        | "days_since" | "nps" | "pct_change"          (default "column")
    column = "seats"            # needed by column/sum/mean/min/max/last/distinct/nps;
                                # optional for pct_change (sum of it; default: row count)
    window_days = 30            # only rows with run_at - 30 days < time <= run_at
    where = { event = "login", plan = ["pro", "team"], seats = { ">=" = 3 } }
                                # ANDed; operators = != < <= > >= in "not in"; a blank
                                # cell / NULL matches nothing

Paths (and SQLite database paths) are relative to the config file's folder. Headers of files
and tabs, and column names of tables/queries, are matched case- and space-insensitively.

Semantics:

- Time: each timestamp is an instant; naive ones are wall-clock time in the source's
  ``timezone``, and so is a naive ``run_at``. Whenever a source has a ``time_column``, only
  rows with a time ``<= run_at`` count (a rerun for a past date is reproducible; rows with no
  time count for nothing) — except for ``column``, which reads a row whatever its time.
  A window of N days is ``(run_at - N×24 h, run_at]``: an event exactly N days before is
  out, one exactly at ``run_at`` is in. ``pct_change`` compares that window with
  ``(run_at - 2N, run_at - N]``. Windows are exact 24-hour days, also across DST changes.
- Ids are text (`cells.key_text`): ``00123`` ≠ ``123``. An id "is in the source" when any row
  of the source carries it, whatever the window or filter.
- Empty results: for ids in the source, count/sum/distinct give 0; mean/min/max/last/
  days_since/nps give no value (NaN/None); pct_change gives no value when the previous window
  is 0. Ids not in the source have no value at all (the scoring's missing-data policy decides).
- days_since: whole 24-hour periods from the last matching event to ``run_at`` (floor).
- nps: share of 9–10 minus share of 0–6 among 0–10 answers, × 100; a score outside 0–10 is an
  error. pct_change is in percent points (−25.0 = a 25 % drop).
- last: the value of the latest matching event with a non-blank value; ties at the same
  instant go to the larger value.
- SQL sources aggregate inside the database (GROUP BY there; see `sources.sql`); CSV and
  Parquet files run the same SQL in an embedded DuckDB (`sources.duck`); XLSX and sheet
  sources aggregate with pandas (`sources.frames`). All give identical metrics.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sheets_health.errors import SourceError
from sheets_health.model import Table
from sheets_health.sources.common import (
    Clock,
    EmptySourceError,
    Progress,
    SourceReport,
    mask_url,
)
from sheets_health.sources.spec import RAW_VALUE_AGGS, MetricSpec, SourceKind, SourceSpec

if TYPE_CHECKING:  # pandas loads with the data, not with the config (which imports .spec)
    import pandas as pd

    from sheets_health.config import Config

__all__ = [
    "EmptySourceError",
    "MetricsResult",
    "SourceReport",
    "check_config",
    "load_metrics",
    "unknown_ids",
]

UNKNOWN_IDS_SHOWN = 20
ProgressHook = Callable[[str, int, int], None]
ReadTab = Callable[[str | None, str], Table]


@dataclass(frozen=True)
class MetricsResult:
    """Metric values per customer and what each source contributed.

    ``frame``: index ``customer_id`` (text), one column per metric in config order; floats for
    aggregations (NaN: no value), raw cell values for ``column``/``last`` (None: no value).
    """

    frame: pd.DataFrame
    sources: tuple[SourceReport, ...]
    source_ids: Mapping[str, frozenset[str]] = field(default_factory=dict)
    # metric -> the value for customers the source has no rows for (`default` in the config)
    defaults: Mapping[str, float] = field(default_factory=dict)


def _wanted(spec: SourceSpec, metrics: Iterable[MetricSpec]) -> list[str]:
    names = [spec.id_column] + ([spec.time_column] if spec.time_column else [])
    for metric in metrics:
        names += [metric.column] if metric.column else []
        names += [c.column for c in metric.where]
    return list(dict.fromkeys(names))


def load_metrics(
    config: Config,
    run_at: dt.datetime,
    *,
    read_tab: ReadTab | None = None,
    progress: ProgressHook | None = None,
    allow_empty: bool = False,
) -> MetricsResult:
    """Load every source that a metric uses and compute every metric per customer.

    Raises `SourceError` (bad config/data, naming the source and the cause),
    `SourceUnavailableError` (a database or file share could not be reached) and, after
    loading everything, `EmptySourceError` for sources with no rows unless ``allow_empty``
    (``--force``). Database URLs in messages have their passwords masked.
    """
    import pandas as pd

    from sheets_health.sources import files, frames, sql

    by_source: dict[str, list[MetricSpec]] = {}
    for metric in config.metrics.values():
        by_source.setdefault(metric.source, []).append(metric)
    series: dict[str, pd.Series] = {}
    reports: list[SourceReport] = []
    source_ids: dict[str, frozenset[str]] = {}
    empties: list[tuple[str, str]] = []
    for name, spec in config.sources.items():
        metrics = by_source.get(name)
        if not metrics:
            continue
        started = time.perf_counter()
        clock = Clock.of(run_at, spec.timezone)
        wanted = _wanted(spec, metrics)
        if spec.kind is SourceKind.SQL:
            meter = Progress(name, 1 + len(metrics), progress)
            meter.start()
            load = sql.load_sql(spec, metrics, wanted, clock, config.base_dir, meter)
            values, ids, rows, notes = load.values, load.ids, load.rows, load.notes
            where = mask_url(spec.url or "")
        elif spec.kind in (SourceKind.CSV, SourceKind.PARQUET):
            from sheets_health.sources import duck  # imports DuckDB: only when a file is loaded

            meter = Progress(name, 1 + len(metrics), progress)
            meter.start()
            load, where = duck.load_file(spec, metrics, wanted, clock, meter)
            values, ids, rows, notes = load.values, load.ids, load.rows, load.notes
        else:
            meter = Progress(name, 1 + len(metrics), progress)
            meter.start()
            cells = files.read_cells(spec, wanted, config, read_tab)
            meter.step()
            values, ids, rows, notes = frames.load_frame(spec, metrics, cells, clock, meter.step)
            where = cells.where
        if rows == 0:
            empties.append((name, where))
        series.update(values)
        source_ids[name] = ids
        reports.append(
            SourceReport(
                name=name,
                kind=str(spec.kind),
                rows=rows,
                ids=len(ids),
                seconds=round(time.perf_counter() - started, 3),
                empty=rows == 0,
                notes=tuple(notes),
            )
        )
    if empties and not allow_empty:
        raise EmptySourceError(
            [name for name, _ in empties], [f"{name} ({where})" for name, where in empties]
        )
    everyone = sorted(set().union(*source_ids.values())) if source_ids else []
    index = pd.Index(everyone, name="customer_id", dtype=object)
    columns: dict[str, pd.Series] = {}
    for name, metric in config.metrics.items():
        values_of = series.get(name, pd.Series(dtype=float))
        if metric.agg in RAW_VALUE_AGGS:
            column = values_of.astype(object).reindex(index)
            columns[name] = column.where(column.notna(), None).astype(object)
        else:
            columns[name] = values_of.astype(float).reindex(index)
    frame = pd.DataFrame(columns, index=index)
    return MetricsResult(
        frame=frame,
        sources=tuple(reports),
        source_ids=source_ids,
        defaults={n: m.default for n, m in config.metrics.items() if m.default is not None},
    )


def unknown_ids(result: MetricsResult, customer_ids: Iterable[str]) -> dict[str, list[str]]:
    """Per source: ids it has data for that are not in the Customers tab (often a mismatch
    such as ``123`` vs ``00123``). Sorted; past 20, the last entry says ``… and N more``."""
    known = set(customer_ids)
    found: dict[str, list[str]] = {}
    for source, ids in result.source_ids.items():
        unknown = sorted(ids - known)
        if not unknown:
            continue
        shown = unknown[:UNKNOWN_IDS_SHOWN]
        if len(unknown) > UNKNOWN_IDS_SHOWN:
            shown.append(f"… and {len(unknown) - UNKNOWN_IDS_SHOWN} more")
        found[source] = shown
    return found


def check_config(config: Config) -> list[str]:
    """What loading the config cannot tell, without loading data: files are only looked
    for, database drivers only imported; each problem names the key and the fix."""
    problems: list[str] = []
    for name, spec in config.sources.items():
        where = f"[sources.{name}]"
        if spec.path is not None and spec.kind is not SourceKind.SQL and not spec.path.exists():
            problems.append(
                f"{where}: file {spec.path} does not exist. Fix: check path (relative paths "
                "start at the config file's folder)"
            )
        if spec.kind is SourceKind.SQL and spec.url:
            problems += _check_url(spec, config)
    return problems


def _check_url(spec: SourceSpec, config: Config) -> list[str]:
    from sheets_health.sources import sql

    where = f"[sources.{spec.name}]"
    try:
        url = sql.prepare_url(spec, config.base_dir)
    except SourceError as exc:
        return [f"{where}: {exc.message.split(': ', 1)[-1]}. Fix: {exc.hint}"]
    try:
        dialect = url.get_dialect()
        dialect.import_dbapi()
    except Exception as exc:  # NoSuchModuleError, ImportError: the driver is missing
        cause = str(exc).split("\n")[0]
        return [
            f"{where}: the database driver for {url.drivername} is not installed ({cause}). "
            "Fix: install it, e.g. pip install 'sheets-health[postgres]' for PostgreSQL"
        ]
    return []
