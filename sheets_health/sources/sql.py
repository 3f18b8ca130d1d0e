"""The SQL path: metrics compiled to SQLAlchemy Core and aggregated inside the database.

One GROUP BY pass per source computes every aggregate metric with conditional aggregation
(``COUNT(CASE WHEN <window and filter> THEN 1 END)`` …), so the database returns one
row per customer and raw events never reach this process. The compiler reads the source
through a `Relation`: a database table here, a CSV/Parquet file in DuckDB in `sources.duck`,
so files and warehouses share one aggregation path. ``last`` uses a window function
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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import pandas as pd
import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL, Connection
from sqlalchemy.pool import NullPool
from sqlalchemy.sql.elements import ColumnElement, Label

from sheets_health.cells import key_text
from sheets_health.errors import SheetsHealthError, SourceError, SourceUnavailableError
from sheets_health.model import CellValue, norm_header
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


class DuplicateIds(SourceError):
    """Two group keys are one customer id once trimmed (``'A'`` and ``'A '``)."""


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


class Relation(Protocol):
    """The source as `Compiler` sees it: which expression reads a config column in each role.

    A database table gives the same column for every role; a file read by DuckDB
    (`sources.duck`) gives typed views of its text cells, so both share one compiler.
    """

    label: str  # how messages name the source, e.g. "source 'usage' (usage.csv)"

    @property
    def id(self) -> ColumnElement[Any]: ...
    def has_id(self) -> ColumnElement[bool]: ...
    @property
    def time(self) -> ColumnElement[Any] | None: ...
    def param(self, moment: dt.datetime) -> ColumnElement[Any]: ...
    def time_value(self, raw: object) -> dt.datetime | None: ...
    def number(self, name: str) -> ColumnElement[Any]: ...
    def text(self, name: str) -> ColumnElement[Any]: ...
    def value(self, name: str) -> ColumnElement[Any]: ...
    def order(self, name: str) -> ColumnElement[Any]: ...
    def cell(self, value: object) -> CellValue: ...
    def clause(self, condition: Condition) -> ColumnElement[bool]: ...
    def checks(self, compiler: Compiler, metrics: Sequence[MetricSpec]) -> list[Label[Any]]: ...
    def verify(self, totals: Mapping[str, int], conn: Connection) -> None: ...


class TableRelation:
    """A table or query of a database: every role is the column itself.

    Time columns: see the module docstring for how each dialect compares them.
    """

    def __init__(
        self,
        spec: SourceSpec,
        src: Any,
        names: dict[str, str],
        dialect: str,
        clock: Clock,
        aware_column: bool,
    ) -> None:
        self.spec = spec
        self.src = src
        self.names = names
        self.dialect = dialect
        self.clock = clock
        self.aware_column = aware_column
        self.label = f"source '{spec.name}'"

    def col(self, name: str) -> ColumnElement[Any]:
        column: ColumnElement[Any] = self.src.c[self.names[name]]
        return column

    @property
    def id(self) -> ColumnElement[Any]:
        return self.col(self.spec.id_column)

    def has_id(self) -> ColumnElement[bool]:
        return self.id.is_not(None)

    @property
    def time(self) -> ColumnElement[Any] | None:
        if self.spec.time_column is None:
            return None
        col = self.col(self.spec.time_column)
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

    def time_value(self, raw: object) -> dt.datetime | None:
        return common.instant(raw, self.clock.zone)

    number = text = value = order = col

    def cell(self, value: object) -> CellValue:
        return common.cell_value(value)

    def clause(self, condition: Condition) -> ColumnElement[bool]:
        col, value = self.col(condition.column), condition.value
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

    def checks(self, compiler: Compiler, metrics: Sequence[MetricSpec]) -> list[Label[Any]]:
        return []  # the database's types already say what a column holds

    def verify(self, totals: Mapping[str, int], conn: Connection) -> None:
        return None


def count_if(when: ColumnElement[bool]) -> ColumnElement[Any]:
    """The number of rows where ``when`` holds (0, never NULL, for a group without any)."""
    return sa.func.count(sa.case((when, 1)))


class Compiler:
    """Metrics → labelled aggregate columns (and the `last` query) over one `Relation`."""

    def __init__(self, spec: SourceSpec, rel: Relation, end: dt.datetime) -> None:
        self.spec = spec
        self.rel = rel
        self.end = end

    def filter(self, metric: MetricSpec) -> ColumnElement[bool]:
        return sa.and_(sa.true(), *(self.rel.clause(c) for c in metric.where))

    def within(self, window: Window) -> ColumnElement[bool]:
        t = self.rel.time
        if t is None:
            return sa.true()
        clauses = [t <= self.rel.param(window.end)]
        if window.start is not None:
            clauses.append(t > self.rel.param(window.start))
        return sa.and_(*clauses)

    def cond(self, metric: MetricSpec, back: int = 0) -> ColumnElement[bool]:
        return sa.and_(self.filter(metric), self.within(Window.of(self.end, metric.window, back)))

    def aggregates(self, metric: MetricSpec, prefix: str) -> list[Label[Any]]:
        """Labelled aggregate columns for one metric (finished in `finish`)."""
        agg, cond, rel = metric.agg, self.cond(metric), self.rel

        if agg is Agg.COUNT:
            return [count_if(cond).label(f"{prefix}_n")]
        if agg is Agg.DAYS_SINCE:
            assert rel.time is not None
            return [sa.func.max(sa.case((cond, rel.time))).label(f"{prefix}_t")]
        if agg is Agg.PCT_CHANGE:
            previous = self.cond(metric, back=1)
            if metric.column is None:
                return [
                    count_if(cond).label(f"{prefix}_c"),
                    count_if(previous).label(f"{prefix}_p"),
                ]
            value = rel.number(metric.column)
            return [
                sa.func.sum(sa.case((cond, value))).label(f"{prefix}_c"),
                sa.func.sum(sa.case((previous, value))).label(f"{prefix}_p"),
            ]
        assert metric.column is not None
        if agg is Agg.DISTINCT:
            picked_text = sa.case((cond, rel.text(metric.column)))
            return [sa.func.count(sa.distinct(picked_text)).label(f"{prefix}_v")]
        value = rel.number(metric.column)
        if agg is Agg.NPS:
            return [
                count_if(sa.and_(cond, value.is_not(None))).label(f"{prefix}_r"),
                count_if(sa.and_(cond, value >= 9, value <= 10)).label(f"{prefix}_p"),
                count_if(sa.and_(cond, value <= 6, value >= 0)).label(f"{prefix}_d"),
                count_if(sa.and_(cond, sa.or_(value < 0, value > 10))).label(f"{prefix}_x"),
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
        rel = self.rel
        assert metric.column is not None and rel.time is not None
        value = rel.value(metric.column)
        ranked = (
            sa.select(
                rel.id.label("cid"),
                value.label("v"),
                sa.func.row_number()
                .over(
                    partition_by=rel.id, order_by=(rel.time.desc(), rel.order(metric.column).desc())
                )
                .label("rn"),
            )
            .where(self.cond(metric), value.is_not(None), rel.has_id())
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
    spec: SourceSpec, metric: MetricSpec, row: Any, prefix: str, rel: Relation, end: dt.datetime
) -> object:
    agg = metric.agg

    def get(suffix: str) -> object:
        return row._mapping[f"{prefix}_{suffix}"]

    if agg is Agg.COUNT:
        return _number(spec, metric, get("n"))
    if agg is Agg.DAYS_SINCE:
        return common.days_since(rel.time_value(get("t")), end)
    if agg is Agg.PCT_CHANGE:
        current, previous = _number(spec, metric, get("c")), _number(spec, metric, get("p"))
        return common.pct_change(0.0 if math.isnan(current) else current, previous)
    if agg is Agg.NPS:
        if _number(spec, metric, get("x")):
            raise SourceError(
                f"source '{spec.name}': metric '{metric.name}': column '{metric.column}' holds "
                "NPS scores outside 0–10",
                common.NPS_FIX,
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
    aware = (
        spec.time_column is not None
        and dialect not in ("postgresql", "sqlite")
        and _aware_column(conn, spec, names[spec.time_column])
    )
    relation = TableRelation(spec, src, names, dialect, clock, aware)
    progress.step()
    return aggregate(spec, metrics, relation, conn, clock.end, progress)


def aggregate(
    spec: SourceSpec,
    metrics: Sequence[MetricSpec],
    rel: Relation,
    conn: Connection,
    end: dt.datetime,
    progress: Progress,
) -> SqlLoad:
    """Every metric of one source: one GROUP BY for the aggregates, one query per
    ``column``/``last`` metric; one progress step per metric."""
    compiler = Compiler(spec, rel, end)
    grouped = [m for m in metrics if m.agg not in (Agg.COLUMN, Agg.LAST)]
    columns: list[ColumnElement[Any]] = [rel.id.label("cid"), sa.func.count().label("rows")]
    prefixes = {m.name: f"m{i}" for i, m in enumerate(grouped)}
    for metric in grouped:
        columns += compiler.aggregates(metric, prefixes[metric.name])
    checks = rel.checks(compiler, metrics)
    columns += checks
    # rows without an id (NULL or blank) form one group, reported in the notes
    query = sa.select(*columns).group_by(rel.id)
    result = conn.execute(query).all()

    load = SqlLoad()
    ids: list[str] = []
    kept = []
    blank_rows = 0
    for row in result:
        cid = key_text(common.cell_value(row.cid))
        if not cid:
            blank_rows += int(row.rows)
            continue
        ids.append(cid)
        kept.append(row)
        load.rows += int(row.rows)
    rel.verify({c.name: sum(int(r._mapping[c.name]) for r in kept) for c in checks}, conn)
    if len(set(ids)) != len(ids):
        dupes = sorted({i for i in ids if ids.count(i) > 1})[:5]
        raise DuplicateIds(
            f"{rel.label}: ids differ only by spaces or type: {', '.join(dupes)}",
            'trim/cast the id column in a query (query = "SELECT TRIM(id) AS id, ...")',
        )
    if blank_rows:
        load.notes.append(f"{blank_rows} rows have a blank customer id")
    index = pd.Index(ids, name="customer_id", dtype=object)
    load.ids = frozenset(ids)
    for metric in grouped:
        prefix = prefixes[metric.name]
        values = [finish(spec, metric, row, prefix, rel, end) for row in kept]
        load.values[metric.name] = pd.Series(values, index=index, dtype=float)
        progress.step()
    for metric in metrics:
        if metric.agg in (Agg.COLUMN, Agg.LAST):
            load.values[metric.name] = _raw_metric(metric, compiler, conn, index)
            progress.step()
    return load


def _raw_metric(
    metric: MetricSpec, compiler: Compiler, conn: Connection, index: pd.Index
) -> pd.Series:
    assert metric.column is not None
    rel = compiler.rel
    if metric.agg is Agg.LAST:
        query = compiler.last_query(metric)
    else:
        ident = rel.id
        where = sa.and_(compiler.filter(metric), rel.has_id())
        dupes = conn.execute(
            sa.select(ident)
            .where(where)
            .group_by(ident)
            .having(sa.func.count() > 1)
            .order_by(ident)
            .limit(5)
        ).all()
        if dupes:
            shown = ", ".join(key_text(common.cell_value(d[0])) for d in dupes)
            raise SourceError(
                f"{rel.label}: metric '{metric.name}' reads one value per customer, "
                f"but ids appear on several rows: {shown}",
                'use agg = "last" with the source\'s time_column for event rows, or a where '
                "filter that keeps one row per customer",
            )
        query = sa.select(ident.label("cid"), rel.value(metric.column).label("v")).where(where)
    found = {
        key_text(common.cell_value(cid)): rel.cell(value) for cid, value in conn.execute(query)
    }
    return pd.Series([found.get(i) for i in index], index=index, dtype=object)
