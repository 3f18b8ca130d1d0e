"""Benchmark: metrics over 10 million PostgreSQL events, aggregated in the database.

    python benchmarks/bench_postgres_metrics.py [--rows 10000000] [--customers 5000]

Uses ``SHEETS_HEALTH_PG_URL`` or starts a throwaway server (tests/pg.py). The events are
generated server-side (``INSERT … SELECT … FROM generate_series``, into an UNLOGGED table in
a scratch schema that is dropped afterwards), then `load_metrics` computes a realistic set of
metrics. Prints the load time, the `load_metrics` time, the client's peak RSS
(``ru_maxrss``, whole process including pandas) and the peak of Python allocations during
`load_metrics` (tracemalloc). The goal is a client well under 300 MB: raw events must never
reach this process.
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import sys
import time
import tracemalloc
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sheets_health.config import config_from_dict  # noqa: E402
from sheets_health.sources import load_metrics  # noqa: E402
from tests.pg import pg_schema, server  # noqa: E402

RUN_AT = dt.datetime(2026, 3, 31, 12, 0, tzinfo=dt.UTC)
CHUNK = 2_000_000

METRICS = {
    "Logins 30d": {"agg": "count", "window_days": 30, "where": {"event": "login"}},
    "Workflows run 30d": {"agg": "count", "window_days": 30, "where": {"event": "workflow_run"}},
    "Active users 30d": {"agg": "distinct", "column": "user_id", "window_days": 30},
    "Days since last login": {"agg": "days_since", "where": {"event": "login"}},
    "Usage change 30d": {"agg": "pct_change", "window_days": 30},
    "NPS": {"agg": "nps", "column": "score", "window_days": 180},
    "Mean score 90d": {"agg": "mean", "column": "score", "window_days": 90},
    "Last score": {"agg": "last", "column": "score"},
}


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def load_events(url: str, schema: str, rows: int, customers: int) -> float:
    started = time.perf_counter()
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.begin() as conn:
        conn.execute(sa.text(
            f"CREATE UNLOGGED TABLE {schema}.events (customer_id text, occurred_at timestamptz, "
            "event text, user_id text, score int)"
        ))  # fmt: skip
        conn.execute(sa.text("SELECT setseed(0.42)"))
        for first in range(1, rows + 1, CHUNK):
            last = min(first + CHUNK - 1, rows)
            conn.execute(
                sa.text(
                    f"INSERT INTO {schema}.events "
                    "SELECT lpad((g % :customers)::text, 6, '0'), "
                    "  :run_at - random() * interval '180 days', "
                    "  (ARRAY['login','login','report_created','workflow_run'])[1 + (g / 7) % 4], "
                    "  'user' || ((g / :customers) % 40)::text, "
                    "  CASE WHEN (g / :customers) % 25 = 0 "
                    "    THEN ((g * 7 + g / :customers) % 11)::int END "
                    "FROM generate_series(:first, :last) AS g"
                ),
                {"customers": customers, "run_at": RUN_AT, "first": first, "last": last},
            )
            print(f"  loaded {last:,} rows", flush=True)
        conn.execute(sa.text(f"ANALYZE {schema}.events"))
    engine.dispose()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--customers", type=int, default=5_000)
    args = parser.parse_args()
    found = server()
    if found.url is None:
        sys.exit(f"no PostgreSQL server: {found.reason}")
    with pg_schema(found.url) as schema:
        print(f"loading {args.rows:,} events for {args.customers:,} customers …", flush=True)
        load_seconds = load_events(found.url, schema, args.rows, args.customers)
        raw = {
            "sheet": {"backend": "xlsx", "path": "unused.xlsx"},
            "sources": {
                "events": {
                    "kind": "sql",
                    "url": found.url,
                    "table": f"{schema}.events",
                    "id_column": "customer_id",
                    "time_column": "occurred_at",
                    "timeout": 1800,
                }
            },
            "metrics": {name: {**m, "source": "events"} for name, m in METRICS.items()},
        }
        config = config_from_dict(raw, ROOT, env={})
        rss_before = rss_mb()
        tracemalloc.start()
        started = time.perf_counter()
        result = load_metrics(config, RUN_AT)
        seconds = time.perf_counter() - started
        _, traced_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    (report,) = result.sources
    print(f"events loaded in {load_seconds:.1f} s")
    print(
        f"load_metrics: {len(METRICS)} metrics, {report.rows:,} rows, {report.ids:,} customers "
        f"in {seconds:.1f} s"
    )
    print(f"client peak RSS {rss_mb():.0f} MB (before load_metrics {rss_before:.0f} MB)")
    print(f"Python allocations peak during load_metrics {traced_peak / 2**20:.1f} MB")
    print(result.frame.describe().T[["count", "mean", "min", "max"]].to_string())


if __name__ == "__main__":
    main()
