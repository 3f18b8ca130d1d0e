"""Measure snapshots: what each sync saw, kept so `calibrate` can look back before an outcome.

Per customer per day (a later sync the same day replaces the row), the raw value and the
sub-score of every Scorecard measure. By default in the `Snapshots` tab, one row per customer
per day: `Date`, `Customer ID`, `Fingerprint`, `Measures` — one JSON cell
``{"Logins 30d": [12, 60.0], …}`` ([raw, sub-score]) rather than two columns per measure, so
adding, renaming or dropping a Scorecard measure never moves a column, and a year at 100
customers is 146,000 cells whatever the number of measures. With ``[history] url`` in the
config the rows go to that SQL database instead (`sheets_health.snapshot_store`).

A sync never reads the snapshots. Like History (`sheets_health.tails`), two bookmarks say
where the latest day's rows are: ``snapshots_latest`` (their `Customer ID` and `Fingerprint`
cells, to the bottom) and ``snapshots_day`` (the first one's Date). A later sync the same day
compares fingerprints and rewrites only the rows whose measures changed; on a new day it
appends. Pure functions: no IO.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sheets_health import template as T
from sheets_health.cells import is_blank, key_text, parse_date, unitless
from sheets_health.model import (
    CellValue,
    CellWrite,
    Customer,
    Mark,
    Measure,
    RowUpdate,
    ScoringKind,
    SheetModel,
    Table,
    TabPlan,
)
from sheets_health.scoring import sub_score, sub_scores

LATEST = "snapshots_latest"
DAY = "snapshots_day"
MARKS: Mapping[str, tuple[str, ...]] = {T.SNAPSHOTS: (LATEST, DAY)}
FIRST_ROW = 2

Entry = tuple[CellValue, float | None]  # (raw value, sub-score)


@dataclass(frozen=True)
class Snapshot:
    """One day's measures of one customer, as the sync saw them."""

    customer_id: str
    measures: Mapping[str, Entry]

    @functools.cached_property
    def text(self) -> str:
        """The `Measures` cell: compact JSON, Scorecard order, dates as ISO text (worked out
        once: the fingerprint and the write both read it)."""
        return json.dumps({k: [_plain(r), s] for k, (r, s) in self.measures.items()},
                          ensure_ascii=False, separators=(",", ":"))

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()[:16]


def _plain(value: CellValue) -> str | int | float | bool | None:
    if is_blank(value):
        return None
    value = unitless(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, bool | int | float | str):
        return value
    return str(value)  # pragma: no cover - cells hold only the types above


def take(model: SheetModel, raw: pd.DataFrame, today: dt.date,
         customers: Sequence[Customer] | None = None) -> list[Snapshot]:
    """Today's snapshot of every active customer (inactive ones have left: their values
    after the outcome are exactly what a backtest must not see). Every measure is kept,
    weight 0 included, so a suggestion can weigh it; sub-scores before any missing-data
    fill (missing stays missing)."""
    active = ([c for c in model.customers if not c.inactive] if customers is None
              else list(customers))
    ids = [c.id for c in active]
    columns: dict[str, list[Entry]] = {}
    for m in model.measures:
        values = (raw[m.name].reindex(ids).to_numpy(object) if m.name in raw.columns
                  else [None] * len(ids))
        subs = _sub_scores_of(m, values, [c.start_date for c in active], today)
        if m.kind is ScoringKind.PERCENTILE:
            subs = _ranks(subs, m.lower_is_better)
        columns[m.name] = list(zip(values, subs, strict=True))
    return [Snapshot(cid, {name: entries[i] for name, entries in columns.items()})
            for i, cid in enumerate(ids)]


def _sub_scores_of(measure: Measure, values: Sequence[CellValue] | np.ndarray,
                   starts: Sequence[dt.date | None],
                   today: dt.date) -> list[float | None]:
    """Each value's sub-score, rounded (None where missing or not due): a column at a time as
    scoring works them out, value by value when a value cannot be scored (None for it)."""
    try:
        column, _due = sub_scores(measure, np.asarray(values, dtype=object), starts, today)
        return [None if math.isnan(v) else round(float(v), 2) for v in column.tolist()]
    except (TypeError, ValueError):
        pass
    subs: list[float | None] = []
    for value, start in zip(values, starts, strict=True):
        try:
            s = sub_score(measure, value, start, today)
        except (TypeError, ValueError):
            s = None
        subs.append(None if s is None or math.isnan(s) else round(float(s), 2))
    return subs


def _ranks(values: list[float | None], lower_is_better: bool) -> list[float | None]:
    """Percentile sub-scores among the active customers, as the scorecard ranks them."""
    series = pd.Series([math.nan if v is None else v for v in values], dtype=float)
    n = int(series.notna().sum())
    if n == 0:
        return [None] * len(values)
    ranks = series.rank(method="average", ascending=not lower_is_better)
    scaled = (ranks - 1) / (n - 1) * 100.0 if n > 1 else ranks.where(ranks.isna(), 100.0)
    return [None if math.isnan(v) else round(float(v), 2) for v in scaled]


# ----------------------------------------------------------------------------- today's rows


def todays_rows(table: Table, today: dt.date) -> dict[str, int]:
    """Customer → index in ``table`` of its row dated today: from the Date column of a whole
    read, else from the bookmarks (the latest day's rows, dated by the day mark)."""
    if table.complete:
        day = today.isoformat()
        return {key_text(table.value(i, T.CUSTOMER_ID)): i for i in range(len(table.rows))
                if key_text(table.value(i, T.DATE)) == day}
    latest, day_mark = table.marks.get(LATEST), table.marks.get(DAY)
    if latest is None or day_mark is None:
        return {}
    found: dt.date | None = None
    rows: dict[str, int] = {}
    for i, row in enumerate(table.row_numbers):
        if row == day_mark.start:
            try:
                found = parse_date(table.value(i, T.DATE))
            except (TypeError, ValueError):
                found = None
        if row >= latest.start and (cid := key_text(table.value(i, T.CUSTOMER_ID))):
            rows[cid] = i
    return rows if found == today else {}


def _columns(table: Table, headers: tuple[str, ...]) -> tuple[int, int]:
    width = len(table.headers)
    cols = []
    for h in headers:
        col = table.column(h)
        if col is None:  # a header the plan adds, at the right end
            col = width
            width += 1
        cols.append(col)
    return min(cols), max(cols) + 1


def plan_snapshots(table: Table, snapshots: list[Snapshot], today: dt.date) -> TabPlan:
    """Today's rows: rewritten where the fingerprint changed, appended where missing; the
    bookmarks move to the latest day's rows. The `Measures` cells are never read."""
    todays = todays_rows(table, today)
    updates, appends = [], []
    for snap in snapshots:
        cells = {T.FINGERPRINT: CellWrite(snap.fingerprint), T.MEASURES: CellWrite(snap.text)}
        index = todays.get(snap.customer_id)
        if index is None:
            appends.append({T.DATE: CellWrite(today), T.CUSTOMER_ID: CellWrite(snap.customer_id),
                            **cells})
        elif key_text(table.value(index, T.FINGERPRINT)) != snap.fingerprint:
            updates.append(RowUpdate(table.row_numbers[index], (today.isoformat(),
                                                                 snap.customer_id), cells))
    marks: dict[str, Mark] = {}
    if todays or appends:
        rows = [table.row_numbers[i] for i in todays.values()]
        start = min(rows) if rows else max(table.row_numbers, default=FIRST_ROW - 1) + 1
        first, stop = _columns(table, (T.CUSTOMER_ID, T.FINGERPRINT))
        date_col = table.column(T.DATE)
        date_col = 0 if date_col is None else date_col
        marks = {LATEST: Mark(start, None, first, stop),
                 DAY: Mark(start, start + 1, date_col, date_col + 1)}
        marks = {name: mark for name, mark in marks.items() if table.marks.get(name) != mark}
    return TabPlan(
        tab=table.tab,
        key_columns=(table.header_of(T.DATE), table.header_of(T.CUSTOMER_ID)),
        add_headers=tuple(h for h in T.SNAPSHOT_HEADERS if table.column(h) is None),
        updates=tuple(updates),
        appends=tuple(appends),
        marks=marks,
        recheck_from=min((u.row for u in updates), default=None),
    )


# ----------------------------------------------------------------------------- reading back


def parse_measures(text: CellValue) -> dict[str, Entry]:
    """A `Measures` cell back into {measure: (raw, sub-score)}; {} when it is not ours."""
    if not isinstance(text, str):
        return {}
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return {}
    if not isinstance(data, dict):
        return {}
    out: dict[str, Entry] = {}
    for name, pair in data.items():
        if isinstance(pair, list) and len(pair) == 2:
            s = pair[1]
            out[str(name)] = (pair[0], float(s) if isinstance(s, int | float) else None)
    return out
