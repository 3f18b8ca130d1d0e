"""The SQL path: metrics compiled to SQLAlchemy Core and aggregated inside the database.

One GROUP BY pass per source computes every aggregate metric with conditional aggregation
(``SUM(CASE WHEN <window and filter> THEN 1 ELSE 0 END)`` …), so the database returns one
row per customer and raw events never reach this process. ``last`` uses a window function
(``ROW_NUMBER() OVER (PARTITION BY id ORDER BY time DESC, value DESC)``) and ``column``
reads one row per customer, each in its own query. Values are always bound parameters.

Time columns: on PostgreSQL the session ``TimeZone`` is set to the source's timezone, so
``timestamp`` (naive) columns are read in that zone and ``timestamptz`` columns compare as
instants. SQLite has no timestamp type: text timestamps are normalised with ``strftime`` and
compared as wall-clock text in the source's timezone at millisecond precision (SQLite turns
text with an offset into UTC, so mix the two only when the timezone is UTC). Other dialects
compare the column with a naive wall-clock value, or a UTC instant when the reflected
column type is timezone-aware.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL, Connection
from sqlalchemy.pool import NullPool
from sqlalchemy.sql.elements import ColumnElement

from sheets_health.cells import key_text
from sheets_health.errors import SheetsHealthError, SourceError, SourceUnavailableError
from sheets_health.model import norm_header
from sheets_health.sources import common
from sheets_health.sources.common import Clock, Progress, Window
from sheets_health.sources.spec import Agg, Condition, MetricSpec, Op, SourceSpec

_SQLITE_TIME = "%Y-%m-%d %H:%M:%f"
_CONFIG_HINTS = ("password authentication failed", "does not exist", "access denied")


@dataclass
class SqlLoad:
    values: dict[str, pd.Series] = field(default_factory=dict)
    ids: frozenset[str] = frozenset()
    rows: int = 0
    notes: list[str] = field(default_factory=list)
    # the caller's extra aggregate columns, one value per customer id (see `aggregate`)
    extra: dict[str, list[object]] = field(default_factory=dict)


def prepare_url(spec: SourceSpec, base_dir: Path) -> URL:
    """The source's URL; a relative SQLite path starts at the config file's folder."""
    assert spec.url is not None
    try:
        url = sa.engine.make_url(spec.url)
    except (sa_exc.ArgumentError, ValueError) as exc:
        raise SourceError(
            f"source '{spec.name}': url {common.mask_url(spec.url)} is not a SQLAlchemy URL",
            "write dialect+driver://user:password@host/db, e.g. "
            "postgresql+psycopg://... or sqlite:///warehouse.sqlite",
        ) from exc
    if url.get_backend_name() == "sqlite":
        database = url.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            path = Path(database).expanduser()
            if not path.is_absolute():
                path = base_dir / path
            if not path.exists():
                raise SourceError(
                    f"source '{spec.name}': SQLite database {path} does not exist",
                    "check the path in url (relative paths start at the config file's folder)",
                )
            url = url.set(database=str(path))
    return url


def _translate(spec: SourceSpec, exc: Exception, connecting: bool) -> SheetsHealthError:
    secrets = common.secrets_of(spec.url or "")
    where = f"source '{spec.name}' ({common.mask_url(spec.url or '')})"
    orig = getattr(exc, "orig", None)
    cause = str(orig if orig is not None else exc).strip().split("\n")[0]
    cause = common.scrub(cause, secrets)[:500]
    if isinstance(exc, sa_exc.NoSuchModuleError | ModuleNotFoundError | ImportError):
        return SourceError(
            f"{where}: the database driver is not installed ({cause})",
            "install the driver for this URL, e.g. pip install 'sheets-health[postgres]'",
        )
    if isinstance(exc, sa_exc.ArgumentError):
        return SourceError(f"{where}: {cause}", "check the url")
    lowered = cause.lower()
    if connecting:
        if any(hint in lowered for hint in _CONFIG_HINTS):
            return SourceError(
                f"{where}: the database refused the login: {cause}",
                "check the user, password and database name in the URL's environment variable",
            )
        return SourceUnavailableError(
            f"{where}: cannot connect: {cause}", "check that the database is up, then retry"
        )
    outage = isinstance(exc, sa_exc.TimeoutError | sa_exc.InterfaceError) or (
        isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated
    )
    if isinstance(exc, sa_exc.OperationalError):
        if spec.url and spec.url.startswith("sqlite"):
            outage = any(w in lowered for w in ("locked", "unable to open", "disk i/o"))
        else:
            outage = True
    if outage:
        return SourceUnavailableError(
            f"{where}: the database failed during the query: {cause}", "retry later"
        )
    return SourceError(
        f"{where}: the query failed: {cause}",
        "check table/query, id_column, time_column, column and where against the database",
    )


class _Times:
    """How this dialect compares, aggregates and returns the source's time column."""

    def __init__(self, dialect: str, clock: Clock, aware_column: bool) -> None:
        self.dialect = dialect
        self.clock = clock
        self.aware_column = aware_column

    def expr(self, col: ColumnElement[Any]) -> ColumnElement[Any]:
        if self.dialect == "sqlite":
            return sa.func.strftime(_SQLITE_TIME, col)
        return col

    def param(self, moment: dt.datetime) -> ColumnElement[Any]:
        if self.dialect == "sqlite":
            text = self.clock.local(moment).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
            return sa.literal(text, sa.String())
        if self.dialect == "postgresql" or self.aware_column:
            return sa.literal(moment, sa.DateTime(timezone=True))
        return sa.literal(self.clock.local(moment), sa.DateTime())

    def value(self, raw: object) -> dt.datetime | None:
        return common.instant(raw, self.clock.zone)


class _Compiler:
    def __init__(
        self,
        spec: SourceSpec,
        src: Any,
        names: dict[str, str],
        times: _Times | None,
        end: dt.datetime,
    ) -> None:
        self.spec = spec
        self.src = src
        self.names = names
        self.times = times
        self.end = end

    def col(self, name: str) -> ColumnElement[Any]:
        column: ColumnElement[Any] = self.src.c[self.names[name]]
        return column

    def number(self, name: str) -> ColumnElement[Any]:
        """The column as numbers (file sources hold text; a database column is typed)."""
        return self.col(name)

    def operand(self, name: str, value: object) -> ColumnElement[Any]:
        """The column a where clause compares with ``value``."""
        return self.col(name)

    def cell(self, value: object) -> object:
        """A returned value as the sheet holds it."""
        return common.cell_value(value)

    @property
    def id(self) -> ColumnElement[Any]:
        return self.col(self.spec.id_column)

    def clause(self, condition: Condition) -> ColumnElement[bool]:
        col, value = self.operand(condition.column, condition.value), condition.value
        # as in files, a blank text cell matches no != / not in (NULL already does not)
        values = value if isinstance(value, tuple) else (value,)
        blank_text = sa.func.trim(col) != "" if all(isinstance(v, str) for v in values) else None
        if condition.op in (Op.IN, Op.NOT_IN):
            assert isinstance(value, tuple)
            if condition.op is Op.IN:
                return col.in_(value)
            return sa.and_(col.not_in(value), sa.true() if blank_text is None else blank_text)
        bound = sa.literal(value)
        if condition.op is Op.NE and blank_text is not None:
            return sa.and_(col != bound, blank_text)
        return {
            Op.EQ: col == bound,
            Op.NE: col != bound,
            Op.LT: col < bound,
            Op.LE: col <= bound,
            Op.GT: col > bound,
            Op.GE: col >= bound,
        }[condition.op]

    def filter(self, metric: MetricSpec) -> ColumnElement[bool]:
        return sa.and_(sa.true(), *(self.clause(c) for c in metric.where))

    def within(self, window: Window) -> ColumnElement[bool]:
        if self.times is None:
            return sa.true()
        assert self.spec.time_column is not None
        t = self.times.expr(self.col(self.spec.time_column))
        clauses = [t <= self.times.param(window.end)]
        if window.start is not None:
            clauses.append(t > self.times.param(window.start))
        return sa.and_(*clauses)

    def cond(self, metric: MetricSpec, back: int = 0) -> ColumnElement[bool]:
        return sa.and_(self.filter(metric), self.within(Window.of(self.end, metric.window, back)))

    def aggregates(self, metric: MetricSpec, prefix: str) -> list[ColumnElement[Any]]:
        """Labelled aggregate columns for one metric (finished in `finish`)."""
        agg, cond = metric.agg, self.cond(metric)

        def count(when: ColumnElement[bool]) -> ColumnElement[Any]:
            return sa.func.sum(sa.case((when, 1), else_=0))

        if agg is Agg.COUNT:
            return [count(cond).label(f"{prefix}_n")]
        if agg is Agg.DAYS_SINCE:
            assert self.times is not None and self.spec.time_column is not None
            t = self.times.expr(self.col(self.spec.time_column))
            return [sa.func.max(sa.case((cond, t))).label(f"{prefix}_t")]
        if agg is Agg.PCT_CHANGE:
            previous = self.cond(metric, back=1)
            if metric.column is None:
                return [count(cond).label(f"{prefix}_c"), count(previous).label(f"{prefix}_p")]
            value = self.number(metric.column)
            return [
                sa.func.sum(sa.case((cond, value))).label(f"{prefix}_c"),
                sa.func.sum(sa.case((previous, value))).label(f"{prefix}_p"),
            ]
        assert metric.column is not None
        if agg is Agg.DISTINCT:
            value = self.col(metric.column)
            return [sa.func.count(sa.distinct(sa.case((cond, value)))).label(f"{prefix}_v")]
        value = self.number(metric.column)
        if agg is Agg.NPS:
            return [
                count(sa.and_(cond, value.is_not(None))).label(f"{prefix}_r"),
                count(sa.and_(cond, value >= 9, value <= 10)).label(f"{prefix}_p"),
                count(sa.and_(cond, value <= 6, value >= 0)).label(f"{prefix}_d"),
                count(sa.and_(cond, sa.or_(value < 0, value > 10))).label(f"{prefix}_x"),
            ]
        picked = sa.case((cond, value))
        if agg is Agg.SUM:
            total: ColumnElement[Any] = sa.func.coalesce(sa.func.sum(picked), 0)
        elif agg is Agg.MEAN:
            total = sa.func.avg(picked)
        elif agg is Agg.MIN:
            total = sa.func.min(picked)
        else:
            assert agg is Agg.MAX, agg
            total = sa.func.max(picked)
        return [total.label(f"{prefix}_v")]

    def last_query(self, metric: MetricSpec) -> sa.Select[Any]:
        assert metric.column is not None and self.times is not None
        assert self.spec.time_column is not None
        value = self.col(metric.column)
        t = self.times.expr(self.col(self.spec.time_column))
        ranked = (
            sa.select(
                self.id.label("cid"),
                value.label("v"),
                sa.func.row_number()
                .over(partition_by=self.id, order_by=(t.desc(), value.desc()))
                .label("rn"),
            )
            .where(self.cond(metric), value.is_not(None), self.id.is_not(None))
            .subquery("ranked")
        )
        return sa.select(ranked.c.cid, ranked.c.v).where(ranked.c.rn == 1)


def _number(spec: SourceSpec, metric: MetricSpec, raw: object) -> float:
    try:
        return common.to_float(raw)
    except (TypeError, ValueError):
        raise SourceError(
            f"source '{spec.name}': metric '{metric.name}' got {raw!r}, not a number",
            f"column '{metric.column}' must hold numbers for agg = \"{metric.agg}\"",
        ) from None


def finish(
    spec: SourceSpec,
    metric: MetricSpec,
    row: Any,
    prefix: str,
    times: _Times | None,
    end: dt.datetime,
) -> object:
    agg = metric.agg

    def get(suffix: str) -> object:
        return row._mapping[f"{prefix}_{suffix}"]

    if agg is Agg.COUNT:
        return _number(spec, metric, get("n"))
    if agg is Agg.DAYS_SINCE:
        assert times is not None
        return common.days_since(times.value(get("t")), end)
    if agg is Agg.PCT_CHANGE:
        current, previous = _number(spec, metric, get("c")), _number(spec, metric, get("p"))
        return common.pct_change(0.0 if math.isnan(current) else current, previous)
    if agg is Agg.NPS:
        if _number(spec, metric, get("x")):
            raise SourceError(
                f"source '{spec.name}': metric '{metric.name}': column '{metric.column}' holds "
                "NPS scores outside 0–10",
                "check that column is the 0–10 'how likely to recommend' answer",
            )
        return common.nps(
            _number(spec, metric, get("p")),
            _number(spec, metric, get("d")),
            _number(spec, metric, get("r")),
        )
    return _number(spec, metric, get("v"))


def _source_selectable(spec: SourceSpec, conn: Connection) -> tuple[Any, list[str]]:
    if spec.table is not None:
        schema, _, name = spec.table.rpartition(".")
        bare = sa.table(name, schema=schema or None)
        keys = list(
            conn.execute(sa.select(sa.literal_column("*")).select_from(bare).limit(0)).keys()
        )
        return sa.table(name, *(sa.column(k) for k in keys), schema=schema or None), keys
    assert spec.query is not None
    query = spec.query.strip().rstrip(";")
    # a colon in the user's SQL ('10:30', ::casts) must never become a bind parameter
    query = query.replace(":", "\\:")
    probe = sa.text(query).columns().subquery("src")
    keys = list(conn.execute(sa.select(sa.literal_column("*")).select_from(probe).limit(0)).keys())
    return sa.text(query).columns(*(sa.column(k) for k in keys)).subquery("src"), keys


def _resolve(spec: SourceSpec, keys: Sequence[str], wanted: Sequence[str]) -> dict[str, str]:
    by_norm = {norm_header(k): k for k in keys}
    names = {}
    for name in wanted:
        if name in keys:
            names[name] = name
        elif norm_header(name) in by_norm:
            names[name] = by_norm[norm_header(name)]
        else:
            what = f"table {spec.table}" if spec.table else "the query"
            raise SourceError(
                f"source '{spec.name}': {what} has no column '{name}'",
                f"the columns are {', '.join(keys)}; set id_column, time_column, column or the "
                "where keys to one of them",
            )
    return names


def _aware_column(conn: Connection, spec: SourceSpec, column: str) -> bool:
    if spec.table is None:
        return False
    schema, _, name = spec.table.rpartition(".")
    try:
        for info in sa.inspect(conn).get_columns(name, schema=schema or None):
            if info["name"] == column:
                return bool(getattr(info["type"], "timezone", False))
    except (sa_exc.SQLAlchemyError, NotImplementedError):
        return False
    return False


def load_sql(
    spec: SourceSpec,
    metrics: Sequence[MetricSpec],
    wanted: Sequence[str],
    clock: Clock,
    base_dir: Path,
    progress: Progress,
) -> SqlLoad:
    url = prepare_url(spec, base_dir)
    dialect = url.get_backend_name()
    connect_args: dict[str, Any] = {}
    if dialect == "postgresql" and url.get_driver_name() in ("psycopg", "psycopg2"):
        connect_args["connect_timeout"] = max(1, int(min(spec.timeout, 30)))
    if dialect == "sqlite":
        connect_args["timeout"] = spec.timeout
    try:
        engine = sa.create_engine(url, poolclass=NullPool, connect_args=connect_args)
    except Exception as exc:  # bad driver or arguments: worded by _translate
        raise _translate(spec, exc, connecting=False) from None
    try:
        try:
            conn = engine.connect()
        except (sa_exc.SQLAlchemyError, ImportError) as exc:
            raise _translate(spec, exc, connecting=True) from None
        with conn:
            try:
                return _run(spec, metrics, wanted, clock, conn, dialect, progress)
            except sa_exc.SQLAlchemyError as exc:
                raise _translate(spec, exc, connecting=False) from None
    finally:
        engine.dispose()


def _run(
    spec: SourceSpec,
    metrics: Sequence[MetricSpec],
    wanted: Sequence[str],
    clock: Clock,
    conn: Connection,
    dialect: str,
    progress: Progress,
) -> SqlLoad:
    if dialect == "postgresql":
        conn.execute(sa.select(sa.func.set_config("TimeZone", spec.timezone, False)))
        timeout_ms = str(int(spec.timeout * 1000))
        conn.execute(sa.select(sa.func.set_config("statement_timeout", timeout_ms, False)))
    src, keys = _source_selectable(spec, conn)
    names = _resolve(spec, keys, wanted)
    times = None
    if spec.time_column is not None:
        aware = dialect not in ("postgresql", "sqlite") and _aware_column(
            conn, spec, names[spec.time_column]
        )
        times = _Times(dialect, clock, aware)
    compiler = _Compiler(spec, src, names, times, clock.end)
    progress.step()
    return aggregate(spec, metrics, compiler, conn, clock, progress)


def aggregate(
    spec: SourceSpec,
    metrics: Sequence[MetricSpec],
    compiler: _Compiler,
    conn: Connection,
    clock: Clock,
    progress: Progress,
    extra: Sequence[ColumnElement[Any]] = (),
) -> SqlLoad:
    """Every metric of one source, from a compiler bound to its selectable (also used by
    `sources.duck` for CSV and Parquet files, whose checks of the cells ride along as
    labelled ``extra`` aggregates in the same GROUP BY pass)."""
    times = compiler.times

    grouped = [m for m in metrics if m.agg not in (Agg.COLUMN, Agg.LAST)]
    columns: list[ColumnElement[Any]] = [compiler.id.label("cid"), sa.func.count().label("rows")]
    prefixes = {m.name: f"m{i}" for i, m in enumerate(grouped)}
    for metric in grouped:
        columns += compiler.aggregates(metric, prefixes[metric.name])
    columns += extra
    query = sa.select(*columns).where(compiler.id.is_not(None)).group_by(compiler.id)
    result = conn.execute(query).all()
    progress.step()

    load = SqlLoad(extra={str(column.key): [] for column in extra})
    ids: list[str] = []
    values: dict[str, list[object]] = {m.name: [] for m in grouped}
    blank_rows = 0
    for row in result:
        cid = key_text(common.cell_value(row.cid))
        if not cid:
            blank_rows += int(row.rows)
            continue
        ids.append(cid)
        load.rows += int(row.rows)
        for key, got in load.extra.items():
            got.append(row._mapping[key])
        for metric in grouped:
            values[metric.name].append(
                finish(spec, metric, row, prefixes[metric.name], times, clock.end)
            )
    if len(set(ids)) != len(ids):
        dupes = sorted({i for i in ids if ids.count(i) > 1})[:5]
        raise SourceError(
            f"source '{spec.name}': ids differ only by spaces or type: {', '.join(dupes)}",
            'trim/cast the id column in a query (query = "SELECT TRIM(id) AS id, ...")',
        )
    if blank_rows:
        load.notes.append(f"{blank_rows} rows have a blank customer id")
    index = pd.Index(ids, name="customer_id", dtype=object)
    load.ids = frozenset(ids)
    for metric in grouped:
        load.values[metric.name] = pd.Series(values[metric.name], index=index, dtype=float)
    for metric in metrics:
        if metric.agg in (Agg.COLUMN, Agg.LAST):
            load.values[metric.name] = _raw_metric(spec, metric, compiler, conn, index)
            progress.step()
    return load


def _raw_metric(
    spec: SourceSpec, metric: MetricSpec, compiler: _Compiler, conn: Connection, index: pd.Index
) -> pd.Series:
    assert metric.column is not None
    if metric.agg is Agg.LAST:
        query = compiler.last_query(metric)
    else:
        ident = compiler.id
        where = sa.and_(compiler.filter(metric), ident.is_not(None))
        dupes = conn.execute(
            sa.select(ident).where(where).group_by(ident).having(sa.func.count() > 1).limit(5)
        ).all()
        if dupes:
            shown = ", ".join(key_text(common.cell_value(d[0])) for d in dupes)
            raise SourceError(
                f"source '{spec.name}': metric '{metric.name}' reads one value per customer, "
                f"but ids appear on several rows: {shown}",
                'use agg = "last" with the source\'s time_column for event rows, or a where '
                "filter that keeps one row per customer",
            )
        query = sa.select(ident.label("cid"), compiler.col(metric.column).label("v")).where(where)
    series = pd.Series(None, index=index, dtype=object)
    for cid, value in conn.execute(query).all():
        key = key_text(common.cell_value(cid))
        if key in series.index:
            series[key] = compiler.cell(value)
    return series
