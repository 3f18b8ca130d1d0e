"""The pandas path: metrics from the rows of an XLSX or sheet source (and the reference CSV reader).

Cells arrive as text (CSV) or typed cell values (xlsx, sheet tabs) and are converted by one
policy (`sheets_health.cells`): ids through `key_text`, numbers through `parse_number`,
timestamps as ISO 8601 text (or ``time_format``), dates/datetimes, or serial numbers.
Every aggregate is grouped over *all* rows of the source, so an id that appears anywhere in
the source gets 0 for count/sum/distinct even when nothing matches the window or filter.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from sheets_health.cells import is_blank, key_text, parse_bool, parse_number
from sheets_health.errors import SourceError
from sheets_health.sources import common
from sheets_health.sources.common import Clock, Window
from sheets_health.sources.files import Cells
from sheets_health.sources.spec import Agg, Condition, MetricSpec, Op, SourceSpec

_AWARE = re.compile(
    r"\d{2}:\d{2}(?::\d{2}(?:\.\d*)?)?\s*(?:Z|[+-]\d{2}(?::?\d{2})?)$", re.IGNORECASE
)


class Columns:
    """Typed views of the cells, converted once and shared by every metric of a source."""

    def __init__(self, spec: SourceSpec, cells: Cells, clock: Clock) -> None:
        self.spec = spec
        self.cells = cells
        self.clock = clock
        self._cache: dict[tuple[str, str], pd.Series] = {}

    def _bad(self, column: str, position: int, value: object, why: str, fix: str) -> SourceError:
        return SourceError(
            f"source '{self.spec.name}' ({self.cells.where}), row {self.cells.line(position)}, "
            f"column '{column}': {why} (value {value!r})",
            fix,
        )

    def _cached(self, kind: str, column: str, make: Callable[[pd.Series], pd.Series]) -> pd.Series:
        key = (kind, column)
        if key not in self._cache:
            self._cache[key] = make(self.cells.frame[column])
        return self._cache[key]

    def blank(self, column: str) -> pd.Series:
        def make(raw: pd.Series) -> pd.Series:
            if self.cells.text:
                return raw.str.strip() == ""
            return raw.map(is_blank).astype(bool)

        return self._cached("blank", column, make)

    def text(self, column: str) -> pd.Series:
        """Cells as key text (``00123`` stays ``00123``; 5.0 → ``5``); blank → ""."""

        def make(raw: pd.Series) -> pd.Series:
            if self.cells.text:
                return raw.str.strip().astype(object)
            return raw.map(key_text).astype(object)

        return self._cached("text", column, make)

    def numbers(self, column: str, strict: bool) -> pd.Series:
        """Cells as floats (NaN for blanks); strict: a non-number is an error naming its row."""

        def make(raw: pd.Series) -> pd.Series:
            if self.cells.text:
                values = pd.to_numeric(raw.where(~self.blank(column)), errors="coerce")
            else:
                values = pd.Series(np.nan, index=raw.index, dtype=float)
                plain = raw.map(lambda v: isinstance(v, int | float) and not isinstance(v, bool))
                values[plain] = raw[plain].astype(float)
            failed = values.isna() & ~self.blank(column)
            for position in np.flatnonzero(failed.to_numpy()).tolist():
                try:
                    values.iloc[position] = parse_number(raw.iloc[position])
                except ValueError:
                    values.iloc[position] = np.nan
            return values.astype(float)

        values = self._cached("numbers", column, make)
        if strict:
            bad = values.isna() & ~self.blank(column)
            if bad.any():
                position = int(np.flatnonzero(bad.to_numpy())[0])
                raise self._bad(
                    column,
                    position,
                    self.cells.frame[column].iloc[position],
                    f"not a number ({int(bad.sum())} such rows)",
                    common.NUMBER_FIX,
                )
        return values

    def natural(self, column: str) -> pd.Series:
        """Cells as the sheet would hold them: numbers as numbers, text as text, blank None."""

        def make(raw: pd.Series) -> pd.Series:
            if self.cells.text:
                return raw.map(common.natural).astype(object)
            return raw.map(lambda v: None if is_blank(v) else common.cell_value(v)).astype(object)

        return self._cached("natural", column, make)

    def times(self) -> pd.Series:
        """The time column as UTC timestamps (NaT for blanks)."""
        column = self.spec.time_column
        assert column is not None
        return self._cached("times", column, lambda raw: self._parse_times(column, raw))

    def _parse_times(self, column: str, raw: pd.Series) -> pd.Series:
        zone = self.clock.zone
        blank = self.blank(column)
        result = pd.Series(pd.NaT, index=raw.index, dtype="datetime64[us, UTC]")
        is_text = raw.map(lambda v: isinstance(v, str)).astype(bool) & ~blank
        text = raw[is_text].astype(str).str.strip()
        if len(text):
            result[is_text] = _parse_text_times(text, zone, self.spec.time_format)
        others = ~is_text & ~blank
        for position in np.flatnonzero(others.to_numpy()).tolist():
            value = raw.iloc[position]
            try:
                moment = common.instant(value, zone)
            except (ValueError, OverflowError) as exc:
                raise self._bad(column, position, value, str(exc), common.TIME_FIX) from None
            result.iloc[position] = moment
        bad = result.isna() & ~blank
        if bad.any():
            position = int(np.flatnonzero(bad.to_numpy())[0])
            fmt = self.spec.time_format
            why = f"does not match time_format {fmt!r}" if fmt else "not an ISO 8601 timestamp"
            raise self._bad(
                column,
                position,
                raw.iloc[position],
                f"{why} ({int(bad.sum())} such rows)",
                common.TIME_FIX,
            )
        return result


def _localize(naive: pd.Series, zone: ZoneInfo) -> pd.Series:
    """Wall-clock times in ``zone`` → UTC (ambiguous: the earlier; non-existent: shifted on)."""
    index = pd.DatetimeIndex(naive)
    local = index.tz_localize(
        zone, ambiguous=np.ones(len(index), dtype=bool), nonexistent="shift_forward"
    )
    return pd.Series(local.tz_convert("UTC"), index=naive.index)


def _parse_text_times(text: pd.Series, zone: ZoneInfo, fmt: str | None) -> pd.Series:
    if fmt is not None:
        parsed = pd.to_datetime(text, format=fmt, errors="coerce")
        if getattr(parsed.dt, "tz", None) is not None:
            return parsed.dt.tz_convert("UTC")
        return _localize(parsed, zone)
    aware = text.str.contains(_AWARE)
    out = pd.Series(pd.NaT, index=text.index, dtype="datetime64[us, UTC]")
    if aware.any():
        out[aware] = pd.to_datetime(text[aware], format="ISO8601", utc=True, errors="coerce")
    if (~aware).any():
        naive = pd.to_datetime(text[~aware], format="ISO8601", errors="coerce")
        out[~aware] = _localize(naive, zone)
    return out


# ----------------------------------------------------------------------------- filters


def _equals(columns: Columns, column: str, value: object) -> pd.Series:
    if isinstance(value, bool):

        def truth(cell: object) -> bool | None:
            try:
                return parse_bool(cell)  # type: ignore[arg-type]
            except ValueError:
                return None

        raw = columns.cells.frame[column]
        return raw.map(lambda cell: not is_blank(cell) and truth(cell) is value).astype(bool)
    if isinstance(value, int | float):
        return (columns.numbers(column, strict=False) == float(value)).fillna(False).astype(bool)
    return (columns.text(column) == str(value)).astype(bool)


def condition_mask(columns: Columns, condition: Condition) -> pd.Series:
    """Rows matching one clause; a blank cell matches nothing (as NULL does in SQL)."""
    column, op, value = condition.column, condition.op, condition.value
    present = ~columns.blank(column)
    if op in (Op.EQ, Op.NE):
        equal = _equals(columns, column, value)
        return equal if op is Op.EQ else present & ~equal
    if op in (Op.IN, Op.NOT_IN):
        assert isinstance(value, tuple)
        inside = pd.Series(False, index=present.index)
        for item in value:
            inside |= _equals(columns, column, item)
        return inside if op is Op.IN else present & ~inside
    numbers = columns.numbers(column, strict=False)
    assert isinstance(value, int | float)
    compare = {Op.LT: numbers.lt, Op.LE: numbers.le, Op.GT: numbers.gt, Op.GE: numbers.ge}[op]
    return compare(float(value)).fillna(False).astype(bool)


def window_mask(columns: Columns, window: Window) -> pd.Series:
    times = columns.times()
    mask = times <= pd.Timestamp(window.end)
    if window.start is not None:
        mask &= times > pd.Timestamp(window.start)
    return mask.fillna(False).astype(bool)


# ----------------------------------------------------------------------------- metrics


def compute(columns: Columns, ids: pd.Series, metric: MetricSpec, end: dt.datetime) -> pd.Series:
    """One metric per customer id, indexed by every id present in the source."""
    base = pd.Series(True, index=ids.index)
    for condition in metric.where:
        base &= condition_mask(columns, condition)
    # `column` reads a per-customer value whatever its time (as the SQL path does)
    timed = columns.spec.time_column is not None and metric.agg is not Agg.COLUMN
    mask = base & window_mask(columns, Window.of(end, metric.window)) if timed else base
    agg, column = metric.agg, metric.column
    group = ids

    if agg is Agg.COUNT:
        return mask.astype(float).groupby(group).sum()
    if agg is Agg.PCT_CHANGE:
        previous = base & window_mask(columns, Window.of(end, metric.window, back=1))
        if column is None:
            now, before = mask.astype(float), previous.astype(float)
        else:
            values = columns.numbers(column, strict=True)
            now, before = values.where(mask), values.where(previous)
        current = now.groupby(group).sum()
        prior = before.groupby(group).sum()
        return pd.Series(
            [common.pct_change(c, p) for c, p in zip(current, prior, strict=True)],
            index=current.index,
            dtype=float,
        )
    if agg is Agg.DAYS_SINCE:
        last = columns.times().where(mask).groupby(group).max()
        return pd.Series(
            [common.days_since(None if pd.isna(t) else t.to_pydatetime(), end) for t in last],
            index=last.index,
            dtype=float,
        )
    assert column is not None
    if agg is Agg.DISTINCT:
        values = columns.text(column).where(mask & ~columns.blank(column))
        return values.groupby(group).nunique().astype(float)
    if agg in (Agg.COLUMN, Agg.LAST):
        return _raw_value(columns, ids, metric, mask)
    values = columns.numbers(column, strict=True)
    if agg is Agg.NPS:
        scores = values.where(mask)
        invalid = (scores < 0) | (scores > 10)
        if invalid.any():
            position = int(np.flatnonzero(invalid.to_numpy())[0])
            raise columns._bad(
                column,
                position,
                columns.cells.frame[column].iloc[position],
                "an NPS score must be 0–10",
                common.NPS_FIX,
            )
        responses = scores.notna().astype(float).groupby(group).sum()
        promoters = (scores >= 9).astype(float).groupby(group).sum()
        detractors = (scores <= 6).astype(float).groupby(group).sum()
        return pd.Series(
            [common.nps(p, d, r) for p, d, r in zip(promoters, detractors, responses, strict=True)],
            index=responses.index,
            dtype=float,
        )
    selected = values.where(mask).groupby(group)
    if agg is Agg.SUM:
        return selected.sum(min_count=0).astype(float)
    if agg is Agg.MEAN:
        return selected.mean().astype(float)
    if agg is Agg.MIN:
        return selected.min().astype(float)
    assert agg is Agg.MAX, agg
    return selected.max().astype(float)


def _raw_value(columns: Columns, ids: pd.Series, metric: MetricSpec, mask: pd.Series) -> pd.Series:
    column = metric.column
    assert column is not None
    everyone = pd.Series(None, index=pd.Index(ids.unique(), name="customer_id"), dtype=object)
    values = columns.natural(column)
    if metric.agg is Agg.COLUMN:
        chosen = ids[mask]
        duplicated = chosen[chosen.duplicated(keep=False)]
        if len(duplicated):
            shown = ", ".join(sorted(set(duplicated))[:5])
            raise SourceError(
                f"source '{columns.spec.name}' ({columns.cells.where}): metric '{metric.name}' "
                f"reads one value per customer, but ids appear on several rows: {shown}",
                'use agg = "last" with the source\'s time_column for event rows, or a where '
                "filter that keeps one row per customer",
            )
        picked = pd.Series(values[mask].to_numpy(), index=chosen.to_numpy(), dtype=object)
    else:
        keep = mask & ~columns.blank(column)
        frame = pd.DataFrame(
            {
                "id": ids[keep],
                "t": columns.times()[keep],
                "v": values[keep],
                "k": _order(columns, column)[keep],
            }
        )
        frame = frame.sort_values(["id", "t", "k"], kind="stable")
        last = frame.groupby("id", sort=False).tail(1)
        picked = pd.Series(last["v"].to_numpy(), index=last["id"].to_numpy(), dtype=object)
    everyone.update(picked)
    return everyone


def _order(columns: Columns, column: str) -> pd.Series:
    """Tie-break for events at the same instant: the larger value wins, as in SQL."""
    numbers = columns.numbers(column, strict=False)
    if numbers.notna().eq(~columns.blank(column)).all():
        return numbers
    return columns.text(column)


def source_ids(columns: Columns, id_column: str) -> tuple[pd.Series, int]:
    """Customer ids as text for rows that have one, and how many rows have none."""
    ids = columns.text(id_column)
    present = ids != ""
    return ids[present].rename("customer_id"), int((~present).sum())


def load_frame(
    spec: SourceSpec,
    metrics: list[MetricSpec],
    cells: Cells,
    clock: Clock,
    step: Callable[[], None],
) -> tuple[dict[str, pd.Series], frozenset[str], int, list[str]]:
    """Every metric of one file source: (values by metric, ids seen, rows with an id, notes)."""
    notes: list[str] = []
    all_ids = Columns(spec, cells, clock).text(spec.id_column)
    present = (all_ids != "").to_numpy(dtype=bool)
    if not present.all():
        notes.append(f"{int((~present).sum())} rows have a blank customer id")
    kept = Cells(
        cells.frame[present].reset_index(drop=True), cells.lines[present], cells.where, cells.text
    )
    columns = Columns(spec, kept, clock)
    ids = columns.text(spec.id_column).rename("customer_id")
    values: dict[str, pd.Series] = {}
    for metric in metrics:
        values[metric.name] = compute(columns, ids, metric, clock.end) if len(ids) else pd.Series()
        step()
    return values, frozenset(ids), len(ids), notes
