"""Bounded reads of the tabs that grow (History, Sync log): which rows a sync reads, what it
works out from them, and where it leaves its bookmarks (`Mark`) for the next sync.

History grows by one row per customer per day, so a sync must not read it all. Per customer it
needs the Trend baseline for today and, on a second sync the same day, today's row. Each
History row carries the baseline its day's Trend used (`Trend baseline`), so the latest day's
rows and the rows of the day that becomes the window's start are enough. With W the trend
window and B(d) the baseline on day d (`scoring.trend_baseline` over the whole History):

    B(d) = the customer's score on day d − W, if it has one;
           else B(d − 1), if there is one;
           else its score on day d − 1 (its first score), if it has one.

A sync reads the header row and four bookmarks: ``history_latest`` (the latest day's rows and
everything below, without the Date column when it comes first), ``history_day`` (the Date cell
of that day's first row), ``history_trend`` (the last row before the day tomorrow's window
starts, that day's rows and a margin) and ``history_head`` (from the header row down the Date
column: the oldest rows, for `History days kept`). Anything that does not add up — a bookmark
missing, a window changed in Settings, rows sorted out of date order, days without a sync —
makes the sync read more, once: the rows from the trend bookmark on, or the whole tab. The
Sync log is read from its last `ok` row on.

Pure functions: no IO. The rule for a whole History lives in `scoring.trend_baseline`; the
tests check that both give the same baselines.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from sheets_health import template as T
from sheets_health.cells import key_text, parse_date
from sheets_health.model import HistoryPoint, Mark, Table
from sheets_health.scoring import trend_baseline

LATEST = "history_latest"
DAY = "history_day"
TREND = "history_trend"
HEAD = "history_head"
LOG_TAIL = "sync_log_tail"
MARKS: Mapping[str, tuple[str, ...]] = {T.HISTORY: (LATEST, DAY, TREND, HEAD),
                                        T.SYNC_LOG: (LOG_TAIL,)}
FIRST_ROW = 2  # the first data row, below the header


@dataclass(frozen=True)
class ReadMore:
    """The bounded read was not enough: read the tab again, from ``from_row`` on (None: all)."""

    tab: str
    from_row: int | None
    reason: str


@dataclass(frozen=True)
class HistoryState:
    """What a sync knows from History once it has read enough of it."""

    baselines: Mapping[str, float | None] = field(default_factory=dict)
    today_rows: Mapping[str, int] | None = None  # customer -> index in the table; None: by Date
    keep_trend: bool = False  # the trend bookmark already points at tomorrow's rows
    ordered: bool = True  # rows in date order (else bookmarks cannot be placed)


@dataclass(frozen=True)
class _Row:
    index: int  # in the table
    score: float | None
    baseline: float | None


# ----------------------------------------------------------------------------- reading


def _by_customer(points: Iterable[HistoryPoint]) -> dict[str, list[HistoryPoint]]:
    by: dict[str, list[HistoryPoint]] = {}
    for point in sorted(points, key=lambda p: (p.day, p.row)):
        by.setdefault(point.customer_id, []).append(point)
    return by


def _ordered(points: Sequence[HistoryPoint]) -> bool:
    """Dates never go down from one row to the next (how the sync appends them)."""
    rows = sorted(points, key=lambda p: p.row)
    return all(a.day <= b.day for a, b in itertools.pairwise(rows))


def _covered_from(table: Table, start: int) -> int | None:
    """The first row at or after ``start`` that the read did not cover (None: to the bottom)."""
    reach = start
    for span in sorted(table.read_spans, key=lambda m: m.start):
        if span.start > reach:
            break
        if span.end is None:
            return None
        reach = max(reach, span.end)
    return reach


def whole(table: Table) -> bool:
    """Every data row was read, dates included (a full read, or bookmarks that start at the
    first row and hold the Date column)."""
    if table.complete:
        return True
    latest = table.marks.get(LATEST)
    dated = latest is None or latest.holds_col(table.column(T.DATE) or 0)
    return dated and _covered_from(table, FIRST_ROW) is None


def todays_rows(table: Table, today: dt.date) -> dict[str, int]:
    """Customer -> index of its row dated today, in a table that has the Date column."""
    day = today.isoformat()
    return {key_text(table.value(i, T.CUSTOMER_ID)): i for i in range(len(table.rows))
            if key_text(table.value(i, T.DATE)) == day}


def resolve_history(table: Table | None, points: Sequence[HistoryPoint],
                    customers: Sequence[str], today: dt.date, days: int
                    ) -> HistoryState | ReadMore:
    """Each customer's Trend baseline for ``today``, or what else must be read first."""
    if table is None:
        return HistoryState({c: None for c in customers}, {})
    if whole(table):
        by = _by_customer(points)
        return HistoryState({c: trend_baseline(by.get(c, []), today, days) for c in customers},
                            todays_rows(table, today), ordered=_ordered(points))
    return _resolve_bounded(table, points, customers, today, days)


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) \
        else None


def _holds(mark: Mark, table: Table, headers: Iterable[str]) -> bool:
    return all((col := table.column(h)) is not None and mark.holds_col(col) for h in headers)


def _newest(table: Table, latest: Mark, day_mark: Mark) -> tuple[dt.date | None, dict[str, _Row]]:
    """The latest day's rows (their Date cells are not read: the day mark dates them)."""
    day: dt.date | None = None
    rows: dict[str, _Row] = {}
    for i, row in enumerate(table.row_numbers):
        if row == day_mark.start:
            try:
                day = parse_date(table.value(i, T.DATE))
            except (TypeError, ValueError):
                day = None
        if row >= latest.start:
            cid = key_text(table.value(i, T.CUSTOMER_ID))
            if cid:
                rows[cid] = _Row(i, _number(table.value(i, T.HEALTH_SCORE)),
                                 _number(table.value(i, T.TREND_BASELINE)))
    return day, rows


def _resolve_bounded(table: Table, points: Sequence[HistoryPoint], customers: Sequence[str],
                     today: dt.date, days: int) -> HistoryState | ReadMore:
    def again(reason: str, from_row: int | None = None) -> ReadMore:
        return ReadMore(table.tab, from_row, reason)

    latest, day_mark, trend = (table.marks.get(n) for n in (LATEST, DAY, TREND))
    if latest is None or day_mark is None or trend is None or day_mark.start != latest.start \
            or table.column(T.TREND_BASELINE) is None:
        return again("History's bookmarks or its Trend baseline column are missing")
    if not (_holds(latest, table, T.HISTORY_HEADERS[1:]) and _holds(day_mark, table, [T.DATE])
            and _holds(trend, table, (T.DATE, T.CUSTOMER_ID, T.HEALTH_SCORE))):
        return again("History's columns moved out of its bookmarks")
    last, newest = _newest(table, latest, day_mark)
    if last is None or not newest:
        return again("the latest History rows are missing")
    if last > today:
        return again("History has rows dated after today")
    end = _covered_from(table, trend.start)
    region = sorted((p for p in points
                     if p.row >= trend.start and (end is None or p.row < end)),
                    key=lambda p: p.row)
    if not region or not _ordered(region):
        return again("the History rows at the trend bookmark are missing or out of date order")
    first = region[0].day
    after = next((p.day for p in region if p.day > first), None)
    start_day = last + dt.timedelta(days=1 - days)  # the window start the bookmark was set for
    if after is None and end is not None:
        return again("the trend bookmark does not reach the next day", trend.start)
    if (after is not None and start_day > after) or (trend.start > FIRST_ROW
                                                     and first >= start_day):
        return again("the trend window changed since the last sync")
    if last == today:
        return HistoryState({c: newest[c].baseline if c in newest else None for c in customers},
                            {c: r.index for c, r in newest.items()}, keep_trend=True)
    cutoff = today - dt.timedelta(days=days)
    if not any(p.day > cutoff for p in region) and end is not None:
        return again("a day passed without a sync: the trend rows go further", trend.start)
    on_day: dict[tuple[str, dt.date], float] = {}
    for p in region:  # later rows win, as in scoring.trend_baseline
        if p.score is not None:
            on_day[(p.customer_id, p.day)] = p.score
    for cid, r in newest.items():
        if r.score is not None:
            on_day[(cid, last)] = r.score
    baselines: dict[str, float | None] = {}
    for cid in customers:
        row = newest.get(cid)
        baseline = row.baseline if row is not None else None
        day = last + dt.timedelta(days=1)
        while day <= today:
            score = on_day.get((cid, day - dt.timedelta(days=days)))
            if score is not None:
                baseline = score
            elif baseline is None and day == last + dt.timedelta(days=1) and row is not None:
                baseline = row.score
            day += dt.timedelta(days=1)
        baselines[cid] = baseline
    return HistoryState(baselines, {})


def dated_points(table: Table | None, points: Sequence[HistoryPoint]
                 ) -> tuple[HistoryPoint, ...]:
    """History's points with the latest day's rows, which a bounded read takes without their
    Date cells (the day bookmark dates them): the movers and alerts compare with them."""
    if table is None or whole(table):
        return tuple(points)
    latest, day_mark = table.marks.get(LATEST), table.marks.get(DAY)
    if latest is None or day_mark is None:
        return tuple(points)
    day, newest = _newest(table, latest, day_mark)
    if day is None:
        return tuple(points)
    have = {p.row for p in points}
    extra = [HistoryPoint(day, cid, row.score, row.baseline, table.row_numbers[row.index])
             for cid, row in newest.items() if table.row_numbers[row.index] not in have]
    return tuple(sorted((*points, *extra), key=lambda p: p.row))


def last_ok_missing(table: Table | None) -> ReadMore | None:
    """The Sync-log tail must hold the last `ok` run (the shrink check compares with it)."""
    if table is None or whole(table):
        return None
    tail = table.marks.get(LOG_TAIL)
    if tail is not None and any(key_text(table.value(i, "Result")) == "ok"
                                for i in range(len(table.rows))):
        return None
    return ReadMore(table.tab, None, "the Sync log tail has no ok row")


# ----------------------------------------------------------------------------- bookmarks


def _columns(table: Table, headers: Sequence[str]) -> tuple[int, int]:
    cols = [c for c in (table.column(h) for h in headers) if c is not None]
    return (min(cols), max(cols) + 1) if cols else (0, 1)


def place_history(table: Table, points: Sequence[HistoryPoint], state: HistoryState,
                  today: dt.date, days: int, customers: int, appends: int,
                  history_days: int | None) -> tuple[dict[str, Mark], int]:
    """Bookmarks for the next sync and the oldest rows to delete (`History days kept`).

    Rows are the sheet's rows as read (before the deletion). Nothing is placed when History
    is not in date order: every sync then reads all of it (the sync warns).
    """
    today_rows = state.today_rows if state.today_rows is not None else todays_rows(table, today)
    last_row = max(table.row_numbers, default=FIRST_ROW - 1)
    if not state.ordered or (not today_rows and not appends):
        return {}, 0
    rows = sorted(table.row_numbers[i] for i in today_rows.values())
    latest_start = rows[0] if rows else last_row + 1
    date_col = table.column(T.DATE) or 0
    width = len(table.headers) + sum(table.column(h) is None for h in T.HISTORY_HEADERS)
    marks: dict[str, Mark] = {
        # the Date column is left out when it comes first: the day mark dates these rows
        LATEST: Mark(latest_start, None, 1 if date_col == 0 else 0, width),
        DAY: Mark(latest_start, latest_start + 1, date_col, date_col + 1),
    }
    old_trend = table.marks.get(TREND)
    if state.keep_trend and old_trend is not None:
        anchor = old_trend.start
    else:
        # from the first row of the last day on or before the window's start: a later sync
        # today reads that day's rows (each customer's baseline, `roster.baseline`), and the
        # rows below reach tomorrow's window start
        cutoff = today - dt.timedelta(days=days)
        dated = [p for p in points if p.day <= cutoff]
        start_day = max((p.day for p in dated), default=None)
        rows_then = [p.row for p in dated if p.day == start_day]
        anchor = min(rows_then, default=FIRST_ROW)
        margin = max(5, customers // 50)
        end = min(max(rows_then, default=anchor) + 1 + customers + margin, latest_start)
        first, stop = _columns(table, (T.DATE, T.CUSTOMER_ID, T.HEALTH_SCORE))
        marks[TREND] = Mark(anchor, max(end, anchor + 1), first, stop)
    # from the header row, so deleting old rows never deletes the mark itself
    head_rows = 0 if history_days is None else 2 * customers + 50
    marks[HEAD] = Mark(1, min(FIRST_ROW + head_rows, latest_start), date_col, date_col + 1)
    delete = 0
    if history_days is not None and appends:
        delete = _expired(table, today - dt.timedelta(days=history_days),
                          min(anchor, latest_start))
    changed = {name: mark for name, mark in marks.items() if table.marks.get(name) != mark}
    return changed, delete


def _expired(table: Table, horizon: dt.date, stop: int) -> int:
    """How many rows from the first data row on are dated before ``horizon``: read (in full
    or through the head bookmark), each with such a date, none at or after ``stop``."""
    head = table.marks.get(HEAD)
    if not whole(table):
        if head is None or head.start > FIRST_ROW or head.end is None:
            return 0
        stop = min(stop, head.end)
    dates = {row: table.value(i, T.DATE) for i, row in enumerate(table.row_numbers)
             if row < stop}
    row = FIRST_ROW
    while row < stop:
        try:
            if parse_date(dates.get(row)) >= horizon:
                break
        except (TypeError, ValueError):
            break
        row += 1
    return row - FIRST_ROW


def place_sync_log(table: Table, appends: int, keep: int, ok: bool = True
                   ) -> tuple[dict[str, Mark], int]:
    """The Sync-log tail starts at the last `ok` run: the row this sync appends when it is
    one. Rows beyond the last ``keep`` are deleted, never that `ok` row."""
    if not appends:
        return {}, 0
    last_row = max(table.row_numbers, default=FIRST_ROW - 1)
    excess = max(0, last_row - 1 + appends - keep)
    width = len(table.headers) + sum(table.column(h) is None for h in T.SYNC_LOG_HEADERS)
    if ok:
        return {LOG_TAIL: Mark(last_row + 1, None, 0, width)}, excess
    oks = [row for i, row in enumerate(table.row_numbers)
           if key_text(table.value(i, "Result")) == "ok"]
    if not oks:
        return {}, excess if whole(table) else 0
    tail = Mark(oks[-1], None, 0, width)
    marks = {} if table.marks.get(LOG_TAIL) == tail else {LOG_TAIL: tail}
    return marks, min(excess, oks[-1] - FIRST_ROW)


def cells_used(tables: Iterable[Table]) -> int:
    """Cells of the tabs read (rows × columns of each grid): what Google's limit counts."""
    return sum(t.grid[0] * t.grid[1] for t in tables)
