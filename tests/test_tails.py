"""The bounded History rule (`sheets_health.tails`), pure: baselines worked out from the rows a
bounded read returns equal `scoring.trend_baseline` over the whole History; the bookmarks;
retention; and what is read again when the bookmarks no longer fit."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import pytest

from sheets_health import tails
from sheets_health import template as T
from sheets_health.contract import history_points, read_model
from sheets_health.errors import ContractError
from sheets_health.model import CellValue, Mark, Table
from sheets_health.roster import Seen, baseline, by_customer
from tests.sheets import valid_tabs

HEADERS = tuple(T.HISTORY_HEADERS)
D0 = dt.date(2026, 3, 1)


def complete(rows: Sequence[Sequence[CellValue]]) -> Table:
    return Table(T.HISTORY, HEADERS, tuple(tuple(r) for r in rows),
                 tuple(range(2, len(rows) + 2)))


def bounded(rows: Sequence[Sequence[CellValue]], marks: Mapping[str, Mark],
            names: Sequence[str] = (tails.LATEST, tails.DAY, tails.TREND, tails.HEAD)) -> Table:
    """What the Google backend returns for a bounded read: only cells inside the marks."""
    spans = tuple(marks[n] for n in names if n in marks)
    kept_rows, numbers = [], []
    for number, row in enumerate(rows, start=2):
        cells = tuple(v if any(m.holds_row(number) and m.holds_col(c) for m in spans) else None
                      for c, v in enumerate(row))
        if any(v is not None for v in cells):
            kept_rows.append(cells)
            numbers.append(number)
    return Table(T.HISTORY, HEADERS, tuple(kept_rows), tuple(numbers), read_spans=spans,
                 marks=dict(marks))


def whole_rule(rows: Sequence[Sequence[CellValue]], ids: Sequence[str], today: dt.date,
               days: int) -> dict[str, float | None]:
    table = complete(rows)
    state = tails.resolve_history(table, history_points(table), ids, today, days)
    assert isinstance(state, tails.HistoryState)
    return dict(state.baselines)


def sync_day(rows: list[list[Any]], marks: dict[str, Mark], ids: Sequence[str],
             scores: Mapping[str, float | None], today: dt.date, days: int,
             ) -> tuple[tails.HistoryState | tails.ReadMore, dict[str, float | None]]:
    """One sync the way `sync.run_sync` does it, on an in-memory History: the bounded read
    (or a whole one without bookmarks), then the rows it writes and its new bookmarks."""
    view = bounded(rows, marks) if marks else complete(rows)
    state = tails.resolve_history(view, history_points(view), ids, today, days)
    expected = whole_rule(rows, ids, today, days)
    if isinstance(state, tails.ReadMore):
        view = complete(rows)
        resolved = tails.resolve_history(view, history_points(view), ids, today, days)
        assert isinstance(resolved, tails.HistoryState)
        state_used: tails.HistoryState = resolved
    else:
        state_used = state
    todays = (state_used.today_rows if state_used.today_rows is not None
              else tails.todays_rows(view, today))
    appends = 0
    for cid in ids:
        row = [today, cid, scores[cid], "", state_used.baselines[cid]]
        if cid in todays:
            rows[view.row_numbers[todays[cid]] - 2] = row
        else:
            rows.append(row)
            appends += 1
    new, _ = tails.place_history(view, history_points(view), state_used, today, days,
                                 len(ids), appends, None)
    marks.update(new)
    return state, expected


def random_syncs(rng: random.Random, ids: list[str], hours: Sequence[int],
                 new_customers: bool) -> Iterator[tuple[int, dt.date]]:
    """Thirty days of syncs: some days none, some several; (day offset, day) per sync, new
    customers joining ``ids`` now and then when ``new_customers``."""
    for offset in range(30):
        if offset and rng.random() < 0.25:
            continue  # no sync that day
        if new_customers and rng.random() < 0.15:
            ids.append(f"N{offset}")  # a new customer
        for _hour in range(rng.choice(hours)):
            yield offset, D0 + dt.timedelta(days=offset)


@pytest.mark.parametrize("seed", range(30))
def test_bounded_baselines_equal_the_whole_history_rule(seed: int) -> None:
    rng = random.Random(seed)
    days = rng.choice((1, 2, 3, 5))
    ids = [f"C{i}" for i in range(rng.randrange(1, 6))]
    rows: list[list[Any]] = []
    marks: dict[str, Mark] = {}
    reads_more = 0
    for offset, today in random_syncs(rng, ids, (1, 2), new_customers=True):
        scores = {c: None if rng.random() < 0.2 else float(rng.randrange(0, 101))
                  for c in ids}
        state, expected = sync_day(rows, marks, ids, scores, today, days)
        if isinstance(state, tails.ReadMore):
            reads_more += 1
            continue
        assert dict(state.baselines) == expected, (offset, state)
    assert reads_more <= 12  # the first sync and days after a gap, not every sync


def test_the_readme_example() -> None:
    """Window 30, daily syncs: the sync of 31 March reads 30 March's rows and the rows around
    1 March; Acme's baseline is its 1 March score, Globex's its first score (20 March)."""
    rows: list[list[Any]] = []
    marks: dict[str, Mark] = {}
    for day in range(31):  # 28 February to 30 March
        today = dt.date(2026, 2, 28) + dt.timedelta(days=day)
        ids = ["acme", "globex"] if today >= dt.date(2026, 3, 20) else ["acme"]
        scores = {"acme": 71.0 if today == dt.date(2026, 3, 1) else 65.0,
                  "globex": 62.0 if today == dt.date(2026, 3, 20) else 60.0}
        sync_day(rows, marks, ids, scores, today, 30)
    view = bounded(rows, marks)
    read_days = {r[0] for r in view.rows if r[0] is not None}
    # 30 March's two rows; from the row before 1 March: one per customer and a margin of 5
    # (only Acme has rows in early March, so the margin reaches 7 March)
    assert read_days == {dt.date(2026, 2, 28), *(dt.date(2026, 3, d) for d in range(1, 8)),
                         dt.date(2026, 3, 30)}
    assert len(view.rows) == 2 + 1 + 2 + 5
    state = tails.resolve_history(view, history_points(view), ["acme", "globex"],
                                  dt.date(2026, 3, 31), 30)
    assert isinstance(state, tails.HistoryState)
    assert state.baselines == {"acme": 71, "globex": 62}
    assert state.baselines == whole_rule(rows, ["acme", "globex"], dt.date(2026, 3, 31), 30)


def steady(days: int = 3) -> tuple[list[list[Any]], dict[str, Mark], list[str]]:
    rows: list[list[Any]] = []
    marks: dict[str, Mark] = {}
    ids = [f"c{i}" for i in range(20)]
    for offset in range(8):
        sync_day(rows, marks, ids, dict.fromkeys(ids, float(offset)), D0 + dt.timedelta(offset),
                 days)
    return rows, marks, ids


@pytest.mark.parametrize(("change", "reason", "from_trend"), [
    ("window", "the trend window changed", False),
    ("gap", "a day passed without a sync", True),
    ("day mark", "bookmarks or its Trend baseline column are missing", False),
    ("sorted", "out of date order", False),
    ("columns", "columns moved out of its bookmarks", False),
], ids=["window-changed", "days-without-sync", "bookmark-missing", "sorted", "columns"])
def test_what_the_bookmarks_cannot_answer_is_read_again(change: str, reason: str,
                                                        from_trend: bool) -> None:
    rows, marks, ids = steady()
    today, days = D0 + dt.timedelta(8), 3
    if change == "window":
        days = 5
    elif change == "gap":
        today += dt.timedelta(days=3)
    elif change == "day mark":
        marks.pop(tails.DAY)
    elif change == "columns":  # say a person inserted a column before Health score
        trend = marks[tails.TREND]
        marks[tails.TREND] = Mark(trend.start, trend.end, 0, 2)
    else:
        trend = marks[tails.TREND]  # its first row (the window start's day) and its last
        assert trend.end is not None
        first, last = trend.start - 2, trend.end - 3
        rows[first], rows[last] = rows[last], rows[first]
    view = bounded(rows, marks)
    more = tails.resolve_history(view, history_points(view), ids, today, days)
    assert isinstance(more, tails.ReadMore)
    assert reason in more.reason
    assert more.from_row == (marks[tails.TREND].start if from_trend else None)


def test_a_bounded_read_is_about_three_rows_per_customer() -> None:
    rows, marks, _ids = steady(days=3)
    view = bounded(rows, marks)
    assert len(rows) == 8 * 20
    # the latest day; the rows of the day the window starts on (a later sync the same day
    # compares with them), the next day's (tomorrow's window start) and a margin
    assert len(view.rows) == 20 + (20 + 20 + 5)


def test_sync_log_retention_keeps_the_last_rows_and_marks_the_new_one() -> None:
    log = Table(T.SYNC_LOG, tuple(T.SYNC_LOG_HEADERS), tuple(("x",) for _ in range(5)),
                (2, 3, 4, 5, 6))
    tail = Mark(7, None, 0, len(T.SYNC_LOG_HEADERS))  # every column of the log, open-ended
    assert tails.place_sync_log(log, 1, 3) == ({tails.LOG_TAIL: tail}, 3)
    assert tails.place_sync_log(log, 1, 1000) == ({tails.LOG_TAIL: tail}, 0)
    assert Mark(7).after_deleting(3) == Mark(4)
    # a failed run's row: the tail stays at the last ok run, which retention keeps
    runs = Table(T.SYNC_LOG, ("Run at", "Result"),
                 (("1", "ok"), ("2", "ok"), ("3", "ok"), ("4", "error"), ("5", "error")),
                 (2, 3, 4, 5, 6))
    whole_row = Mark(4, None, 0, len(T.SYNC_LOG_HEADERS))
    assert tails.place_sync_log(runs, 1, 2, ok=False) == ({tails.LOG_TAIL: whole_row}, 2)


def test_history_days_kept_deletes_only_rows_older_than_the_horizon() -> None:
    rows: list[list[Any]] = []
    marks: dict[str, Mark] = {}
    for offset in range(10):
        sync_day(rows, marks, ["a", "b"], {"a": 1.0, "b": 2.0}, D0 + dt.timedelta(offset), 2)
    view = bounded(rows, {**marks, tails.HEAD: Mark(1, 2 + 2 * 2 + 50, 0, 1)})
    state = tails.resolve_history(view, history_points(view), ["a", "b"],
                                  D0 + dt.timedelta(10), 2)
    assert isinstance(state, tails.HistoryState)
    new, delete = tails.place_history(view, history_points(view), state,
                                      D0 + dt.timedelta(10), 2, 2, 2, 4)
    assert delete == 6 * 2  # days 0-5 are older than 10 - 4 = day 6
    assert new[tails.HEAD] == Mark(1, len(rows) + 2, 0, 1)  # down to where today's rows go


def test_history_days_kept_must_be_longer_than_the_trend_window() -> None:
    tabs = valid_tabs()
    tabs["Settings"] += [["Trend window days", 30], ["History days kept", 30]]
    tables = {name: Table(name, tuple(rows[0]), tuple(tuple(r) for r in rows[1:]),
                          tuple(range(2, len(rows) + 1))) for name, rows in tabs.items()}
    with pytest.raises(ContractError) as info:
        read_model(tables)
    problem = info.value.problems[0]
    assert (problem.tab, problem.row, problem.column) == ("Settings", 5, "Value")
    assert problem.message == ("'History days kept' (30) is not more than 'Trend window days' "
                               "(30): trends would lose their baseline")


def _baseline_points(view: Table, ids: Sequence[str], today: dt.date, days: int
                     ) -> dict[str, tuple[dt.date, float | None] | None]:
    points = tails.dated_points(view, history_points(view))
    seen = by_customer(Seen(p.day, p.customer_id, p.score, None) for p in points)
    found = {cid: baseline(seen.get(cid, ()), today, days) for cid in ids}
    return {cid: None if p is None else (p.day, p.score) for cid, p in found.items()}


@pytest.mark.parametrize("seed", range(30))
def test_movers_and_alerts_find_the_baseline_a_whole_read_finds(seed: int) -> None:
    """The Summary's movers and the alerts compare each customer with `roster.baseline` over
    the History rows read: a bounded read — a later sync the same day included, which reads
    through the bookmarks the day's first sync placed — finds the point a whole read finds.
    Not yet for a customer whose History starts inside the window (no new customers here):
    a whole read finds its first row, a bounded one the latest day's."""
    rng = random.Random(seed)
    days = rng.choice((1, 2, 3, 5))
    ids = [f"C{i}" for i in range(rng.randrange(1, 6))]
    rows: list[list[Any]] = []
    marks: dict[str, Mark] = {}
    compared = 0
    for offset, today in random_syncs(rng, ids, (1, 2, 3), new_customers=False):
        as_read = [list(r) for r in rows]
        view = bounded(rows, marks) if marks else complete(rows)
        scores = {c: float(rng.randrange(0, 101)) for c in ids}
        state, _expected = sync_day(rows, marks, ids, scores, today, days)
        if view.complete or isinstance(state, tails.ReadMore):
            continue  # read whole
        compared += 1
        assert (_baseline_points(view, ids, today, days)
                == _baseline_points(complete(as_read), ids, today, days)), offset
    assert compared
