"""The pandas path and the SQL path give identical metrics on the same generated events.

The same events go into a CSV, a Parquet file (typed columns), an XLSX workbook, SQLite and
PostgreSQL (naive wall-clock
times in a zone with DST, and separately aware times into timestamptz); every aggregation,
with windows and filters, must agree.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from sheets_health.sources import load_metrics
from tests.pg import pg_schema, pg_url
from tests.sources_fixtures import (
    RUN_AT,
    Row,
    make_config,
    write_csv,
    write_parquet,
    write_postgres,
    write_sqlite,
    write_xlsx,
)

ZONE = "Europe/Paris"

METRICS: dict[str, dict[str, Any]] = {
    "count all": {"agg": "count"},
    "logins 30d": {"agg": "count", "window_days": 30, "where": {"event": "login"}},
    "not login 7d": {"agg": "count", "window_days": 7, "where": {"event": {"not in": ["login"]}}},
    "high values": {"agg": "count", "window_days": 45, "where": {"value": {">": 6}}},
    "sum 30d": {"agg": "sum", "column": "value", "window_days": 30},
    "sum reports": {"agg": "sum", "column": "value", "where": {"event": ["report", "export"]}},
    "mean 30d": {"agg": "mean", "column": "value", "window_days": 30},
    "min 14d": {"agg": "min", "column": "value", "window_days": 14},
    "max 14d": {"agg": "max", "column": "value", "window_days": 14},
    "last value": {"agg": "last", "column": "value"},
    "last value 3d": {"agg": "last", "column": "value", "window_days": 3},
    "last user": {"agg": "last", "column": "user", "where": {"event": "login"}},
    "users 30d": {"agg": "distinct", "column": "user", "window_days": 30},
    "users ever": {"agg": "distinct", "column": "user"},
    "days since": {"agg": "days_since"},
    "days since export": {"agg": "days_since", "where": {"event": "export"}},
    "nps 90d": {"agg": "nps", "column": "value", "window_days": 90},
    "usage change": {"agg": "pct_change", "window_days": 30},
    "value change": {"agg": "pct_change", "column": "value", "window_days": 14},
    "login change": {"agg": "pct_change", "window_days": 7, "where": {"event": "login"}},
}


def generate(seed: int, aware: bool) -> list[Row]:
    rng = random.Random(seed)
    customers = [f"{n:05d}" for n in range(1, 41)] + ["7", "007"]
    users = [f"user{n}@example.com" for n in range(12)]
    rows: list[Row] = []
    for _ in range(3000):
        moment = RUN_AT - dt.timedelta(seconds=rng.randint(-3 * 86400, 130 * 86400))
        if not aware:
            moment = moment.astimezone(dt.timezone(dt.timedelta(hours=1))).replace(tzinfo=None)
        value = None if rng.random() < 0.1 else rng.randint(0, 10)
        event = rng.choice(["login", "login", "report", "export", "workflow"])
        rows.append((rng.choice(customers), moment, event, value, rng.choice(users)))
    # a customer whose events are all long ago: zeros and missing values
    old = RUN_AT - dt.timedelta(days=400)
    rows.append(("OLD", old if aware else old.replace(tzinfo=None), "login", 5, "x"))
    return rows


@pytest.fixture(scope="module")
def pg() -> Iterator[tuple[str, str]]:
    url = pg_url()
    with pg_schema(url) as schema:
        yield url, schema


def frames(tmp_path: Path, sources: dict[str, dict[str, Any]]) -> dict[str, pd.DataFrame]:
    result = {}
    for name, source in sources.items():
        config = make_config(
            tmp_path, {"s": source}, {k: {**v, "source": "s"} for k, v in METRICS.items()}
        )
        result[name] = load_metrics(config, RUN_AT).frame
    return result


def same(a: object, b: object) -> bool:
    missing_a = a is None or (isinstance(a, float) and math.isnan(a))
    missing_b = b is None or (isinstance(b, float) and math.isnan(b))
    if missing_a or missing_b:
        return missing_a and missing_b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-9)
    return a == b


def assert_same(frames_by_source: dict[str, pd.DataFrame]) -> None:
    (ref_name, ref), *others = frames_by_source.items()
    assert len(ref) == 43
    assert ref.loc["OLD", "count all"] == 1 and ref.loc["OLD", "logins 30d"] == 0
    assert math.isnan(ref.loc["OLD", "mean 30d"])
    for name, frame in others:
        assert list(frame.index) == list(ref.index), name
        assert list(frame.columns) == list(ref.columns), name
        for metric in METRICS:
            for cid in ref.index:
                a, b = ref.loc[cid, metric], frame.loc[cid, metric]
                assert same(a, b), f"{metric} for {cid}: {ref_name} {a!r} != {name} {b!r}"


def test_every_aggregation_agrees_across_csv_parquet_xlsx_sqlite_and_postgres(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    rows = generate(seed=7, aware=False)
    sources = {
        "csv": write_csv(tmp_path, rows, ZONE),
        "parquet": write_parquet(tmp_path, rows, ZONE),
        "xlsx": write_xlsx(tmp_path, rows, ZONE),
        "sqlite": write_sqlite(tmp_path, rows, ZONE),
    }
    try:
        url, schema = request.getfixturevalue("pg")
    except pytest.skip.Exception:
        pass  # still compare the other four
    else:
        sources["postgres"] = write_postgres(url, schema, rows, ZONE)
    assert_same(frames(tmp_path, sources))


def test_aware_times_agree_between_csv_parquet_and_postgres_timestamptz(
    tmp_path: Path, pg: tuple[str, str]
) -> None:
    rows = generate(seed=11, aware=True)
    url, schema = pg
    sources = {
        "csv": write_csv(tmp_path, rows, "America/New_York"),
        "parquet": write_parquet(tmp_path, rows, "America/New_York"),
        "xlsx": write_xlsx(tmp_path, rows, "America/New_York"),
        "postgres": write_postgres(url, schema, rows, "America/New_York"),
    }
    assert_same(frames(tmp_path, sources))
