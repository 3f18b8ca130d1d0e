"""A CSV/Parquet file as a typed DuckDB view: the cell policy of `sheets_health.cells` in SQL.

`view_sql` builds the view over a ``read_csv``/``read_parquet`` call; `FileRelation` is how
the SQL compiler (`sources.sql`) reads it, so a file aggregates exactly like a warehouse table.
Per needed column ``j`` the view has:

- ``s{j}``: the value, blank → NULL (text trimmed like ``str.strip``; NaN → NULL);
- ``x{j}``: key text, as `cells.key_text` (``00123`` stays ``00123``; 5.0 → ``5``);
- ``n{j}``: the number, as `cells.parse_number` (``1,234`` → 1234, ``45%`` → 0.45; else NULL);
- ``b{j}``: true/false, as `cells.parse_bool` (else NULL);

plus ``id`` (key text, ``''`` when blank) and ``ts``: the time column as a naive UTC TIMESTAMP.
Text timestamps are ISO 8601: with an offset (``Z``, ``+02:00``) they are instants, without one
wall-clock time in the source's timezone (see `wallclock`); ``time_format`` is strptime.
A value that is not a number or a timestamp becomes NULL here and is counted by
`FileRelation.checks`, so the error can name its row (`sources.duck` finds it).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement, Label

from sheets_health.cells import _FALSE, _TRUE
from sheets_health.errors import SourceError
from sheets_health.model import CellValue
from sheets_health.sources import common, wallclock
from sheets_health.sources.common import Clock
from sheets_health.sources.spec import Agg, Condition, MetricSpec, Op, SourceSpec
from sheets_health.sources.sql import Compiler, count_if

UTC = dt.UTC
# what str.strip() removes; DuckDB's trim() alone keeps tabs and line breaks
_WHITESPACE = "".join(chr(c) for c in range(0x3001) if chr(c).isspace())
NUMBER_AGGS = frozenset({Agg.SUM, Agg.MEAN, Agg.MIN, Agg.MAX, Agg.NPS})  # need numbers


class Kind(Enum):
    TEXT = "text"
    INTEGER = "integer"
    FLOAT = "float"
    BOOLEAN = "boolean"
    DATE = "date"
    TIMESTAMP = "timestamp"
    INSTANT = "instant"  # TIMESTAMP WITH TIME ZONE


_INTEGERS = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT"}
_INTEGERS |= {"U" + name for name in _INTEGERS}


def kind_of(duck_type: str) -> Kind | None:
    """A DuckDB column type as one of the kinds a cell can hold (None: not supported)."""
    name = duck_type.upper()
    if name == "VARCHAR":
        return Kind.TEXT
    if name in _INTEGERS:
        return Kind.INTEGER
    if name in ("FLOAT", "DOUBLE") or name.startswith("DECIMAL"):
        return Kind.FLOAT
    if name == "BOOLEAN":
        return Kind.BOOLEAN
    if name == "DATE":
        return Kind.DATE
    if name in ("TIMESTAMP", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS"):
        return Kind.TIMESTAMP
    if name == "TIMESTAMP WITH TIME ZONE":
        return Kind.INSTANT
    return None


@dataclass(frozen=True)
class Column:
    name: str  # as the config names it
    ident: str  # quoted identifier in the read_csv/read_parquet result
    kind: Kind


def literal(text: str) -> str:
    """A DuckDB string literal (quotes doubled; backslashes are plain characters)."""
    return "'" + text.replace("'", "''") + "'"


def _stripped(q: str) -> str:
    """``q`` without surrounding whitespace, as ``str.strip``; blank → NULL.

    Trimming costs more per cell than reading it, so only a cell that starts with a space, a
    control or a non-ASCII character, or ends with a space, tab or non-breaking space is
    trimmed (of every whitespace character); any other cell is kept as read. (A cell ending
    in a rarer whitespace character, e.g. a form feed, keeps it.)"""
    ends = " OR ".join(f"ends_with({q}, chr({code}))" for code in (32, 9, 0xA0))
    edge = f"ascii({q}) < 33 OR ascii({q}) > 126 OR {ends}"
    return f"CASE WHEN {edge} THEN nullif(trim({q}, {literal(_WHITESPACE)}), '') ELSE {q} END"


_POLICY_NUMBER = r"[+-]?(\d{1,3}(,\d{3})+|\d+)?(\.\d+)?"  # cells._NUMBER


def _text_number(s: str, d: str) -> str:
    """parse_number in SQL, given ``d`` = try_cast(s AS DOUBLE): plain numbers, then
    thousands separators and percents (a fraction: 45% → 0.45)."""
    body = f"(CASE WHEN ends_with({s}, '%') THEN trim(left({s}, -1)) ELSE {s} END)"
    valid = f"regexp_full_match({body}, {literal(_POLICY_NUMBER)})"
    valid += f" AND {body} NOT IN ('+', '-', '.', '')"
    scale = f"(CASE WHEN ends_with({s}, '%') THEN 100.0 ELSE 1.0 END)"
    policy = f"CAST(replace({body}, ',', '') AS DOUBLE) / {scale}"
    # as pandas reads them: "inf" is a number (refused later, by the scoring), "nan" is not
    return f"CASE WHEN NOT isnan({d}) THEN {d} WHEN {s} IS NOT NULL AND {valid} THEN {policy} END"


def _key_text(s: str, kind: Kind) -> str:
    if kind is Kind.TEXT:
        return s
    if kind is Kind.INTEGER:
        return f"CAST({s} AS VARCHAR)"
    if kind is Kind.FLOAT:
        whole = f"CAST(CAST({s} AS HUGEINT) AS VARCHAR)"
        integral = f"{s} = trunc({s}) AND abs({s}) < 1e18"
        return f"CASE WHEN {integral} THEN {whole} ELSE CAST({s} AS VARCHAR) END"
    if kind is Kind.BOOLEAN:
        return f"CASE WHEN {s} THEN 'TRUE' ELSE 'FALSE' END"
    if kind is Kind.DATE:
        return f"strftime({s}, '%Y-%m-%d')"
    if kind is Kind.TIMESTAMP:
        midnight = f"CAST({s} AS TIMESTAMP) = date_trunc('day', CAST({s} AS TIMESTAMP))"
        day, moment = f"strftime({s}, '%Y-%m-%d')", f"strftime({s}, '%Y-%m-%dT%H:%M:%S')"
        return f"CASE WHEN {midnight} THEN {day} ELSE {moment} END"
    return f"CAST({s} AS VARCHAR)"


def _boolean(s: str, kind: Kind) -> str:
    if kind is Kind.TEXT:
        yes = ", ".join(literal(v) for v in sorted(_TRUE))
        no = ", ".join(literal(v) for v in sorted(_FALSE) if v)
        return f"CASE WHEN lower({s}) IN ({yes}) THEN true WHEN lower({s}) IN ({no}) THEN false END"
    if kind is Kind.BOOLEAN:
        return s
    if kind in (Kind.INTEGER, Kind.FLOAT):
        return f"({s} <> 0)"
    return "CAST(NULL AS BOOLEAN)"


def _aware(s: str) -> str:
    """Does ISO text end with an offset (Z, ±hh, ±hhmm, ±hh:mm)? As `frames._AWARE`."""
    sign = " OR ".join(f"{s}[-{k}] IN ('+', '-')" for k in (3, 5, 6))
    return f"(ends_with({s}, 'Z') OR ends_with({s}, 'z') OR (strlen({s}) > 10 AND ({sign})))"


def _retry_cast(s: str) -> str:
    """The second try for text DuckDB's cast refuses but ISO 8601 (and pandas) allow: a space
    before the offset, a lower-case z or t. Only evaluated for the cells the first try missed."""
    tidy = f"regexp_replace(upper({s}), '\\s+([+-]\\d\\d(:?\\d\\d)?|Z)$', '\\1')"
    return f"try_cast({tidy} AS TIMESTAMPTZ)"


def _time_parts(
    s: str, r: str, kind: Kind, fmt: str | None, utc: bool
) -> tuple[list[str], str, str]:
    """Expressions for the time column: helpers of one level, then (naive wall-clock
    TIMESTAMP, naive UTC TIMESTAMP of an instant) on the next."""
    null = "CAST(NULL AS TIMESTAMP)"
    if kind in (Kind.DATE, Kind.TIMESTAMP):
        return [], f"CAST({s} AS TIMESTAMP)", null
    if kind is Kind.INSTANT:
        return [], null, f"make_timestamp(epoch_us({s}))"
    assert kind is Kind.TEXT
    if fmt is not None:
        parsed = f"try_strptime({s}, {literal(fmt)})"
        if "%z" in fmt or "%Z" in fmt:
            return [f"make_timestamp(epoch_us({parsed})) AS p"], null, "p"
        return [f"{parsed} AS p"], "p", null
    # the session's TimeZone is UTC: naive text casts to its own wall-clock time, text with an
    # offset to its instant (DuckDB wants an upper-case Z)
    if utc:  # wall-clock time is UTC: the cast is the instant either way (kept as TIMESTAMPTZ);
        # the cast ignores surrounding spaces, so the raw cell spares a trim per row
        cast = f"coalesce(try_cast({r} AS TIMESTAMPTZ), {_retry_cast(f'trim({r})')})"
        return [f"{cast} AS p"], null, "p"
    cast = f"coalesce(try_cast({s} AS TIMESTAMPTZ), {_retry_cast(s)})"
    parsed = f"make_timestamp(epoch_us({cast}))"
    # elsewhere naive and aware text differ; a named zone ("… Europe/Paris") is refused
    plain_end = f"(ascii({s}[-1]) BETWEEN 48 AND 57 OR upper({s}[-1]) = 'Z')"
    helpers = [f"{parsed} AS p", f"{_aware(s)} AS aw", f"{plain_end} AS pe"]
    return helpers, "CASE WHEN pe AND NOT aw THEN p END", "CASE WHEN pe AND aw THEN p END"


def last_year(clock: Clock) -> int:
    """The last year whose time-zone rules matter: later events are in the future anyway."""
    return clock.end.year + 2


def ts_is_instant(spec: SourceSpec, columns: Sequence[Column], last_year: int) -> bool:
    """Is ``ts`` a TIMESTAMPTZ (text in a UTC source: no per-row conversion) rather than a
    naive UTC TIMESTAMP?"""
    kind = next((c.kind for c in columns if c.name == spec.time_column), None)
    return (
        kind is Kind.TEXT
        and spec.time_format is None
        and wallclock.is_utc(spec.timezone, last_year)
    )


def roles_for(spec: SourceSpec, metrics: Sequence[MetricSpec]) -> dict[str, set[str]]:
    """Which typed views (x, n, b; see above) each needed column must have: only those are
    computed, since DuckDB cannot always drop an unused one."""
    roles: dict[str, set[str]] = {spec.id_column: {"x"}}
    for metric in metrics:
        for condition in metric.where:
            needed = roles.setdefault(condition.column, set())
            values = condition.value if isinstance(condition.value, tuple) else (condition.value,)
            for value in values:
                needed.add(
                    "b" if isinstance(value, bool) else "x" if isinstance(value, str) else "n"
                )
        if metric.column is not None:
            needed = roles.setdefault(metric.column, set())
            if metric.agg is Agg.DISTINCT:
                needed.add("x")
            elif metric.agg is Agg.LAST:
                needed |= {"n", "x"}
            elif metric.agg is not Agg.COLUMN:
                needed.add("n")
    return roles


def view_sql(
    spec: SourceSpec,
    columns: Sequence[Column],
    roles: Mapping[str, set[str]],
    call: str,
    last_year: int,
    numbered: str = "",
) -> str:
    """SELECT … over ``call`` (a read_csv/read_parquet call); ``numbered``: an expression for
    each row's number in the file, kept as ``rn`` with the raw cells ``r{j}`` for messages."""
    raw = [f"{c.ident} AS r{j}" for j, c in enumerate(columns)]
    level0 = f"SELECT {', '.join(raw)}{f', {numbered} AS rn' if numbered else ''} FROM {call}"
    level1 = []
    for j, c in enumerate(columns):
        r = f"r{j}"
        if c.kind is Kind.TEXT:
            level1.append(f"{_stripped(r)} AS s{j}")
        elif c.kind is Kind.FLOAT:
            level1.append(f"CASE WHEN isnan(CAST({r} AS DOUBLE)) THEN NULL ELSE {r} END AS s{j}")
        else:
            level1.append(f"{r} AS s{j}")
    level2 = []
    level3 = []
    for j, c in enumerate(columns):
        s, needed = f"s{j}", roles.get(c.name, set())
        if "x" in needed:
            level2.append(f"{_key_text(s, c.kind)} AS x{j}")
        if "b" in needed:
            level2.append(f"{_boolean(s, c.kind)} AS b{j}")
        if "n" not in needed:
            continue
        if c.kind is Kind.TEXT:
            cast = f"CASE WHEN NOT contains({s}, '_') THEN try_cast({s} AS DOUBLE) END"
            level2.append(f"{cast} AS d{j}")
            level3.append(f"{_text_number(s, f'd{j}')} AS n{j}")
        elif c.kind in (Kind.INTEGER, Kind.FLOAT):
            level3.append(f"CAST({s} AS DOUBLE) AS n{j}")
        else:
            level3.append(f"CAST(NULL AS DOUBLE) AS n{j}")
    level3.append("coalesce(x0, '') AS id")
    if columns[0].kind is Kind.TEXT:
        level3.append("coalesce(r0, '') AS rid")  # ids as read, see FileRelation.raw_ids
    level4 = "NULL AS ts"
    if spec.time_column is not None:
        t = next(j for j, c in enumerate(columns) if c.name == spec.time_column)
        utc = ts_is_instant(spec, columns, last_year)
        helpers, wall, instant = _time_parts(
            f"s{t}", f"r{t}", columns[t].kind, spec.time_format, utc
        )
        level2 += helpers
        level3 += [f"{wall} AS wall", f"{instant} AS instant"]
        local = wallclock.to_utc_sql("wall", spec.timezone, last_year)
        level4 = (
            "instant AS ts"
            if ts_is_instant(spec, columns, last_year)
            else f"coalesce(instant, {local}) AS ts"
        )
    sql = level0
    for level in (level1, level2, level3, [level4]):
        sql = f"SELECT *, {', '.join(level)} FROM ({sql})"
    return sql


class FileRelation:
    """The typed view as the SQL compiler reads it (see `sources.sql.Relation`)."""

    def __init__(
        self,
        spec: SourceSpec,
        where: str,
        columns: Sequence[Column],
        view: str,
        clock: Clock,
        text_cells: bool,
        locate: Callable[[ColumnElement[bool], str], tuple[int, object]] | None = None,
        raw_ids: bool = False,
    ) -> None:
        self.spec = spec
        self.where = where
        self.label = f"source '{spec.name}' ({where})"
        self.columns = list(columns)
        self.position = {c.name: j for j, c in enumerate(columns)}
        names = ["id", "rid", "ts", "rn"]
        names += [f"{p}{j}" for j in range(len(columns)) for p in "sxnbr"]
        self.table = sa.table(view, *(sa.column(n) for n in names))
        self.clock = clock
        self.text_cells = text_cells  # CSV: cells are text to read as the sheet would
        # finds the first row where a condition holds: (row number, raw value of a column)
        self.locate = locate
        self.numeric_order: dict[str, bool] = {}
        self.aware_ts = ts_is_instant(spec, columns, last_year(clock))
        # group by the id text as read, which spares a trim per row: exact unless two ids
        # differ only by surrounding spaces (`sql.DuplicateIds`; then the ids are trimmed)
        self.raw_ids = raw_ids and self.columns[0].kind is Kind.TEXT

    def _c(self, prefix: str, name: str) -> ColumnElement[Any]:
        column: ColumnElement[Any] = self.table.c[f"{prefix}{self.position[name]}"]
        return column

    @property
    def id(self) -> ColumnElement[Any]:
        column: ColumnElement[Any] = self.table.c.rid if self.raw_ids else self.table.c.id
        return column

    def has_id(self) -> ColumnElement[bool]:
        if self.raw_ids:
            return sa.func.trim(self.id, _WHITESPACE) != ""
        return self.id != ""

    @property
    def time(self) -> ColumnElement[Any] | None:
        return None if self.spec.time_column is None else self.table.c.ts

    def param(self, moment: dt.datetime) -> ColumnElement[Any]:
        if self.aware_ts:
            return sa.literal(moment.astimezone(UTC), sa.DateTime(timezone=True))
        return sa.literal(moment.astimezone(UTC).replace(tzinfo=None), sa.DateTime())

    def time_value(self, raw: object) -> dt.datetime | None:
        if raw is None:
            return None
        assert isinstance(raw, dt.datetime), raw
        return raw.astimezone(UTC) if raw.tzinfo else raw.replace(tzinfo=UTC)

    def number(self, name: str) -> ColumnElement[Any]:
        return self._c("n", name)

    def text(self, name: str) -> ColumnElement[Any]:
        return self._c("x", name)

    def value(self, name: str) -> ColumnElement[Any]:
        return self._c("s", name)

    def order(self, name: str) -> ColumnElement[Any]:
        """Ties at one instant go to the larger value: by number when every value is one."""
        return self.number(name) if self.numeric_order.get(name) else self.text(name)

    def cell(self, value: object) -> CellValue:
        if isinstance(value, str):
            return common.natural(value) if self.text_cells else value
        return common.cell_value(value)

    def _equals(self, name: str, values: Sequence[object]) -> ColumnElement[bool]:
        """Like `frames._equals`: text compares as key text, numbers as numbers, true/false
        as yes/no cells; a blank matches nothing."""
        texts = [v for v in values if isinstance(v, str)]
        bools = [v for v in values if isinstance(v, bool)]
        numbers = [
            float(v) for v in values if isinstance(v, int | float) and not isinstance(v, bool)
        ]
        parts = []
        if texts:
            parts.append(self.text(name).in_(texts))
        if numbers:
            parts.append(self.number(name).in_(numbers))
        if bools:
            parts.append(self._c("b", name).in_(bools))
        return sa.func.coalesce(sa.or_(*parts), sa.false())

    def clause(self, condition: Condition) -> ColumnElement[bool]:
        name, op, value = condition.column, condition.op, condition.value
        present = self.value(name).is_not(None)
        if op in (Op.EQ, Op.NE, Op.IN, Op.NOT_IN):
            values = value if isinstance(value, tuple) else (value,)
            equal = self._equals(name, values)
            return equal if op in (Op.EQ, Op.IN) else sa.and_(present, sa.not_(equal))
        number, bound = self.number(name), sa.literal(float(value))  # type: ignore[arg-type]
        return {Op.LT: number < bound, Op.LE: number <= bound, Op.GT: number > bound}.get(
            op, number >= bound
        )

    # ----------------------------------------------------------------------- checks

    def _needs_numbers(self, metric: MetricSpec) -> bool:
        return metric.column is not None and (
            metric.agg in NUMBER_AGGS or metric.agg in (Agg.PCT_CHANGE, Agg.LAST)
        )

    def _bad_time(self) -> ColumnElement[bool]:
        """A time cell that is not blank but not a timestamp either."""
        assert self.spec.time_column is not None
        missing = self.table.c.ts.is_(None)
        if self.aware_ts:  # the fast path reads the raw cell (see `_time_parts`)
            raw = self._c("r", self.spec.time_column)
            return sa.and_(missing, raw.is_not(None), sa.func.trim(raw, _WHITESPACE) != "")
        return sa.and_(missing, self.value(self.spec.time_column).is_not(None))

    def _timed(self, metric: MetricSpec) -> bool:
        return self.spec.time_column is not None and metric.agg is not Agg.COLUMN

    def checks(self, compiler: Compiler, metrics: Sequence[MetricSpec]) -> list[Label[Any]]:
        """Counts of cells the metrics cannot read, in the same GROUP BY as the metrics."""
        found: list[Label[Any]] = []
        if any(self._timed(m) for m in metrics):
            assert self.spec.time_column is not None
            found.append(count_if(self._bad_time()).label("bad_t"))
        for name in dict.fromkeys(m.column for m in metrics if self._needs_numbers(m)):
            assert name is not None
            bad = sa.and_(self.value(name).is_not(None), self.number(name).is_(None))
            found.append(count_if(bad).label(f"bad_n{self.position[name]}"))
        for i, metric in enumerate(metrics):
            if metric.agg is Agg.NPS:
                assert metric.column is not None
                score = self.number(metric.column)
                found.append(
                    count_if(sa.and_(compiler.cond(metric), sa.or_(score < 0, score > 10))).label(
                        f"bad_nps{i}"
                    )
                )
        self._metrics = metrics
        self._compiler = compiler
        return found

    def verify(self, totals: Mapping[str, int], conn: Connection) -> None:
        """Raise, for the first metric that meets one, the error naming the first bad row."""
        for i, metric in enumerate(self._metrics):
            if self._timed(metric) and totals.get("bad_t"):
                assert self.spec.time_column is not None
                fmt = self.spec.time_format
                why = f"does not match time_format {fmt!r}" if fmt else "not an ISO 8601 timestamp"
                self._raise(
                    self.spec.time_column,
                    self._bad_time(),
                    f"{why} ({totals['bad_t']} such rows)",
                    common.TIME_FIX,
                )
            column = metric.column
            if column is not None and self._needs_numbers(metric) and metric.agg is not Agg.LAST:
                count = totals.get(f"bad_n{self.position[column]}", 0)
                if count:
                    bad = sa.and_(self.value(column).is_not(None), self.number(column).is_(None))
                    self._raise(column, bad, f"not a number ({count} such rows)", common.NUMBER_FIX)
            if metric.agg is Agg.NPS and totals.get(f"bad_nps{i}"):
                assert column is not None
                score = self.number(column)
                bad = sa.and_(self._compiler.cond(metric), sa.or_(score < 0, score > 10))
                self._raise(column, bad, "an NPS score must be 0–10", common.NPS_FIX)
        for metric in self._metrics:
            if metric.agg is Agg.LAST and metric.column is not None:
                count = totals.get(f"bad_n{self.position[metric.column]}", 0)
                self.numeric_order[metric.column] = count == 0

    def _raise(self, column: str, bad: ColumnElement[bool], why: str, fix: str) -> None:
        assert self.locate is not None
        row, raw = self.locate(bad, f"r{self.position[column]}")
        raise SourceError(f"{self.label}, row {row}, column '{column}': {why} (value {raw!r})", fix)
