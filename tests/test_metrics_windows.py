"""Window, empty-result and time-zone semantics, table-driven, on every kind of source.

Each case writes the same rows into a CSV, a Parquet file, an XLSX workbook, SQLite and
PostgreSQL and expects the same values from all five. `expected` lists *every* id of the
source: ids in the source but with nothing matching get 0 (count/sum/distinct) or None.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from sheets_health.sources import load_metrics
from tests.pg import pg_schema, pg_url
from tests.sources_fixtures import (
    BACKENDS,
    RUN_AT,
    Row,
    make_config,
    write_csv,
    write_parquet,
    write_postgres,
    write_sqlite,
    write_xlsx,
)

D = dt.timedelta(days=1)
H = dt.timedelta(hours=1)
S = dt.timedelta(seconds=1)
Writer = Callable[[list[Row], str], dict[str, Any]]


def ago(delta: dt.timedelta) -> dt.datetime:
    """A naive wall-clock time `delta` before the run (the source's timezone is UTC)."""
    return (RUN_AT - delta).replace(tzinfo=None)


def ev(cid: str, delta: dt.timedelta, event: str = "login", value: float | None = None,
       user: str = "u1") -> Row:  # fmt: skip
    return (cid, ago(delta), event, value, user)


@pytest.fixture(scope="module")
def pg_schema_name() -> Iterator[tuple[str, str]]:
    url = pg_url()
    with pg_schema(url) as schema:
        yield url, schema


@pytest.fixture(params=BACKENDS)
def write(request: pytest.FixtureRequest, tmp_path: Path) -> Writer:
    kind = request.param
    if kind == "postgres":
        url, schema = request.getfixturevalue("pg_schema_name")
        return lambda rows, tz: write_postgres(url, schema, rows, tz)
    writer = {
        "csv": write_csv,
        "parquet": write_parquet,
        "xlsx": write_xlsx,
        "sqlite": write_sqlite,
    }[kind]
    return lambda rows, tz: writer(tmp_path, rows, tz)


def run(
    tmp_path: Path,
    source: dict[str, Any],
    metrics: Mapping[str, Mapping[str, Any]],
    run_at: dt.datetime = RUN_AT,
) -> pd.DataFrame:
    config = make_config(
        tmp_path, {"s": source}, {name: {**m, "source": "s"} for name, m in metrics.items()}
    )
    return load_metrics(config, run_at).frame


def assert_values(frame: pd.DataFrame, metric: str, expected: Mapping[str, object]) -> None:
    column = frame[metric]
    assert sorted(column.index) == sorted(expected), f"{metric}: ids {sorted(column.index)}"
    for cid, want in expected.items():
        got = column[cid]
        if want is None:
            assert got is None or (isinstance(got, float) and math.isnan(got)), (metric, cid, got)
        else:
            assert got == pytest.approx(want), (metric, cid, got, want)


CASES: list[tuple[str, list[Row], dict[str, Any], dict[str, object]]] = [
    (
        "window is (run_at - 30d, run_at]: the start is out, run_at is in, the future is out",
        [ev("A", 0 * D), ev("A", 30 * D), ev("A", 30 * D - S), ev("A", -S), ev("A", 29 * D)],
        {"agg": "count", "window_days": 30},
        {"A": 3},
    ),
    (
        "no window: everything up to run_at",
        [ev("A", 0 * D), ev("A", 300 * D), ev("A", -S)],
        {"agg": "count"},
        {"A": 2},
    ),
    (
        "count is 0 for an id in the source with nothing in the window",
        [ev("A", 40 * D), ev("B", D)],
        {"agg": "count", "window_days": 30},
        {"A": 0, "B": 1},
    ),
    (
        "filter: equality, and 0 for ids whose rows all fail it",
        [ev("A", D, "login"), ev("A", D, "report"), ev("B", D, "report")],
        {"agg": "count", "where": {"event": "login"}},
        {"A": 1, "B": 0},
    ),
    (
        "filter: IN list",
        [ev("A", D, "login"), ev("A", D, "report"), ev("A", D, "export")],
        {"agg": "count", "where": {"event": ["login", "report"]}},
        {"A": 2},
    ),
    (
        "filter: != and not in skip blank cells, as NULL does in SQL",
        [ev("A", D, "login"), ev("A", D, "report"), ev("A", D, "")],
        {"agg": "count", "where": {"event": {"!=": "login"}}},
        {"A": 1},
    ),
    (
        "filter: numeric operators are ANDed",
        [ev("A", D, value=v) for v in (1, 3, 5, 9)],
        {"agg": "count", "where": {"value": {">=": 3, "<": 9}}},
        {"A": 2},
    ),
    (
        "sum is 0 for an id with nothing in the window; blanks are skipped",
        [ev("A", 40 * D, value=5), ev("B", D, value=2), ev("B", 2 * D, value=3.5), ev("B", D)],
        {"agg": "sum", "column": "value", "window_days": 30},
        {"A": 0, "B": 5.5},
    ),
    (
        "mean has no value for an empty window",
        [ev("A", 40 * D, value=5), ev("B", D, value=2), ev("B", 2 * D, value=3)],
        {"agg": "mean", "column": "value", "window_days": 30},
        {"A": None, "B": 2.5},
    ),
    (
        "min",
        [ev("A", 40 * D, value=-7), ev("A", D, value=2), ev("A", 2 * D, value=3), ev("B", 99 * D)],
        {"agg": "min", "column": "value", "window_days": 30},
        {"A": 2, "B": None},
    ),
    (
        "max",
        [ev("A", 40 * D, value=70), ev("A", D, value=2), ev("A", 2 * D, value=3)],
        {"agg": "max", "column": "value", "window_days": 30},
        {"A": 3},
    ),
    (
        "distinct counts values in the window; 0 for ids with none",
        [
            ev("A", D, user="u1"),
            ev("A", 2 * D, user="u2"),
            ev("A", 3 * D, user="u1"),
            ev("A", 40 * D, user="u3"),
            ev("B", 40 * D, user="u9"),
        ],
        {"agg": "distinct", "column": "user", "window_days": 30},
        {"A": 2, "B": 0},
    ),
    (
        "days_since counts whole 24 h periods; future events do not count",
        [
            ev("A", 23 * H + 59 * 60 * S),
            ev("B", D),
            ev("C", D + H),
            ev("C", 5 * D),
            ev("D", 2 * D + 12 * H),
            ev("E", -H),
        ],
        {"agg": "days_since"},
        {"A": 0, "B": 1, "C": 1, "D": 2, "E": None},
    ),
    (
        "days_since with a filter",
        [ev("A", 10 * D, "login"), ev("A", D, "report"), ev("B", D, "report")],
        {"agg": "days_since", "where": {"event": "login"}},
        {"A": 10, "B": None},
    ),
    (
        "nps: share of 9-10 minus share of 0-6, x 100; no value without answers",
        [ev("A", D, value=v) for v in (10, 9, 8, 7, 6, 0)]
        + [ev("B", D, value=v) for v in (10, 10, 9)]
        + [ev("C", D, value=v) for v in (0, 5)]
        + [ev("D", 100 * D, value=10), ev("D", D)],
        {"agg": "nps", "column": "value", "window_days": 90},
        {"A": 0, "B": 100, "C": -100, "D": None},
    ),
    (
        "pct_change: current window against the previous one; previous 0 gives no value",
        [ev("A", d * D) for d in (1, 2, 3)]
        + [ev("A", d * D) for d in (30, 45)]  # exactly 30 days back is in the previous window
        + [ev("A", 60 * D)]  # exactly 60 days back is in neither
        + [ev("B", D)]
        + [ev("C", d * D) for d in (31, 32, 33, 34)],
        {"agg": "pct_change", "window_days": 30},
        {"A": 50, "B": None, "C": -100},
    ),
    (
        "pct_change of a column's sum",
        [ev("A", D, value=30), ev("A", 40 * D, value=40), ev("B", 40 * D, value=10)],
        {"agg": "pct_change", "column": "value", "window_days": 30},
        {"A": -25, "B": -100},
    ),
    (
        "last: the latest non-blank value; a tie goes to the larger value",
        [
            ev("A", 5 * D, value=1),
            ev("A", 2 * D, value=7),
            ev("A", -D, value=3),
            ev("B", D, value=4),
            ev("B", D, value=9),
            ev("B", D + S, value=10),
            ev("C", D),
            ev("C", 3 * D, value=2),
            ev("D", D),
        ],
        {"agg": "last", "column": "value"},
        {"A": 7, "B": 9, "C": 2, "D": None},
    ),
]


@pytest.mark.parametrize(("rows", "metric", "expected"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])  # fmt: skip
def test_window_semantics(
    write: Writer,
    tmp_path: Path,
    rows: list[Row],
    metric: dict[str, Any],
    expected: dict[str, object],
) -> None:
    frame = run(tmp_path, write(rows, "UTC"), {"m": metric})
    assert_values(frame, "m", expected)


def test_ids_are_text_and_leading_zeros_matter(write: Writer, tmp_path: Path) -> None:
    rows = [ev("00123", D), ev("00123", D), ev("123", D)]
    frame = run(tmp_path, write(rows, "UTC"), {"m": {"agg": "count"}})
    assert_values(frame, "m", {"00123": 2, "123": 1})


def test_naive_times_are_in_the_source_timezone_across_dst(write: Writer, tmp_path: Path) -> None:
    """New York switched to summer time on 2026-03-08; 30 days before 2026-03-31 12:00Z is
    2026-03-01 12:00Z, which is 07:00 New York winter time."""
    rows: list[Row] = [
        ("A", dt.datetime(2026, 3, 1, 7, 0, 0), "login", None, "u"),  # exactly the start: out
        ("A", dt.datetime(2026, 3, 1, 7, 0, 1), "login", None, "u"),  # in
        ("A", dt.datetime(2026, 3, 31, 8, 0, 0), "login", None, "u"),  # = run_at (08:00 EDT): in
        ("A", dt.datetime(2026, 3, 31, 8, 0, 1), "login", None, "u"),  # future: out
    ]
    frame = run(
        tmp_path, write(rows, "America/New_York"), {"m": {"agg": "count", "window_days": 30}}
    )
    assert_values(frame, "m", {"A": 2})


def test_a_naive_run_time_is_in_the_source_timezone(write: Writer, tmp_path: Path) -> None:
    rows: list[Row] = [
        ("A", dt.datetime(2026, 3, 30, 23, 30), "login", None, "u"),
        ("A", dt.datetime(2026, 3, 31, 0, 30), "login", None, "u"),
    ]
    source = write(rows, "Europe/Paris")
    frame = run(tmp_path, source, {"m": {"agg": "count"}}, run_at=dt.datetime(2026, 3, 31, 0, 0))
    assert_values(frame, "m", {"A": 1})


def test_times_with_offsets_are_instants(
    write: Writer, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Aware timestamps (CSV offsets, timestamptz) compare as instants, whatever the zone."""
    if "sqlite" in request.node.callspec.id:
        pytest.skip("SQLite compares text: offsets are only supported with timezone = UTC")
    paris = dt.timezone(dt.timedelta(hours=2))
    rows: list[Row] = [
        ("A", dt.datetime(2026, 3, 31, 14, 0, tzinfo=paris), "login", None, "u"),  # = run_at
        ("A", dt.datetime(2026, 3, 31, 14, 0, 1, tzinfo=paris), "login", None, "u"),  # future
        ("A", dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC), "login", None, "u"),  # start: out
        ("A", dt.datetime(2026, 3, 1, 7, 0, 1, tzinfo=dt.timezone(-5 * H)), "login", None, "u"),
    ]
    frame = run(tmp_path, write(rows, "Asia/Tokyo"), {"m": {"agg": "count", "window_days": 30}})
    assert_values(frame, "m", {"A": 2})


def test_rows_without_a_time_count_for_nothing(write: Writer, tmp_path: Path) -> None:
    rows: list[Row] = [("A", None, "login", 1, "u"), ("A", ago(D), "login", 2, "u")]
    frame = run(
        tmp_path,
        write(rows, "UTC"),
        {"n": {"agg": "count"}, "s": {"agg": "sum", "column": "value"}},
    )
    assert_values(frame, "n", {"A": 1})
    assert_values(frame, "s", {"A": 2})


def test_a_column_metric_reads_its_row_whatever_its_time(write: Writer, tmp_path: Path) -> None:
    rows: list[Row] = [("A", ago(-D), "x", 5, "u"), ("B", None, "x", 3, "u")]
    frame = run(tmp_path, write(rows, "UTC"), {"v": {"column": "value"}})
    assert_values(frame, "v", {"A": 5, "B": 3})
