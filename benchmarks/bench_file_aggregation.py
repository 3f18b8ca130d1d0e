"""A large usage-event CSV aggregated by the source layer: DuckDB against the pandas path.

    python benchmarks/bench_file_aggregation.py                      # 10M events; pandas at 1M
    python benchmarks/bench_file_aggregation.py --events 2000000 --pandas-events 2000000

Writes an N-event CSV shaped like the demo's ``usage_events.csv`` (account_id, timestamp as
ISO 8601 UTC text, event, user; 10,000 customers over 90 days) in a temporary folder, then
computes the demo's five usage metrics through `load_metrics` in a fresh child process per
path and size. Prints wall seconds of `load_metrics` and the child's peak memory (its own
``ru_maxrss`` from ``os.wait4``), and whether the two paths gave the same frame at the same
size. The pandas path is the one taken when DuckDB cannot read a file (see `sources.duck`).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

RUN_AT = dt.datetime(2026, 3, 31, 6, 0, tzinfo=dt.UTC)
CUSTOMERS = 10_000
SOURCE = {
    "kind": "csv",
    "path": "usage_events.csv",
    "id_column": "account_id",
    "time_column": "timestamp",
}
METRICS = {  # the demo's usage metrics (sheets_health/demo_sources.py)
    "Logins 30d": {"agg": "count", "window_days": 30, "where": {"event": "login"}},
    "Workflows run 30d": {"agg": "count", "window_days": 30, "where": {"event": "workflow_run"}},
    "Active users 30d": {"agg": "distinct", "column": "user", "window_days": 30},
    "Usage change 30d": {"agg": "pct_change", "window_days": 30},
    "Days since last login": {"agg": "days_since", "where": {"event": "login"}},
}


def write_events(path: Path, events: int) -> None:
    """Deterministic pseudo-random events, written by DuckDB (seconds, not minutes)."""
    import duckdb

    literal = str(path).replace("'", "''")
    with duckdb.connect() as conn:
        conn.execute(
            f"""COPY (
            SELECT 'C' || lpad(CAST(hash(i) % {CUSTOMERS} AS VARCHAR), 5, '0') AS account_id,
                   strftime(TIMESTAMP '2026-03-31 06:00:00'
                            - to_seconds(CAST(hash(i * 7 + 1) % (90 * 86400) AS BIGINT)),
                            '%Y-%m-%dT%H:%M:%SZ') AS timestamp,
                   CASE WHEN hash(i * 3 + 2) % 20 < 12 THEN 'login'
                        WHEN hash(i * 3 + 2) % 20 < 17 THEN 'workflow_run'
                        ELSE 'report_created' END AS event,
                   'user' || CAST(hash(i * 5 + 3) % 8 AS VARCHAR) || '@c'
                       || CAST(hash(i) % {CUSTOMERS} AS VARCHAR) || '.example' AS "user"
            FROM range({events}) t(i)
            ) TO '{literal}' (FORMAT csv, HEADER)"""
        )


def child(folder: Path, path_name: str) -> None:
    """Runs in the child: load the metrics, print seconds and a digest of the frame."""
    from sheets_health.config import config_from_dict
    from sheets_health.sources import duck, load_metrics

    if path_name == "pandas":
        duck.load_file = lambda *args, **kwargs: None  # type: ignore[assignment]
    raw = {
        "sheet": {"backend": "xlsx", "path": "customers.xlsx"},
        "sources": {"usage": SOURCE},
        "metrics": {name: {**m, "source": "usage"} for name, m in METRICS.items()},
    }
    config = config_from_dict(raw, folder, env={})
    start = time.perf_counter()
    frame = load_metrics(config, RUN_AT).frame
    seconds = time.perf_counter() - start
    digest = hashlib.sha256(frame.to_csv().encode()).hexdigest()[:12]
    print(f"{seconds:.2f} {digest} {len(frame)}")


def measure(folder: Path, path_name: str) -> tuple[float, float, str, int]:
    """(seconds, peak MB, digest, customers) of one child process."""
    command = [sys.executable, __file__, "--child", path_name, str(folder)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    assert process.stdout is not None
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)  # this child's own peak, not the maximum
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"{path_name} child failed with exit code {process.returncode}")
    seconds, digest, customers = output.split()
    peak_mb = usage.ru_maxrss / 1024 if sys.platform != "darwin" else usage.ru_maxrss / 2**20
    return float(seconds), peak_mb, digest, int(customers)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument(
        "--pandas-events", type=int, default=1_000_000, help="size for the pandas path"
    )
    parser.add_argument("--child", nargs=2, metavar=("PATH", "FOLDER"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(Path(args.child[1]), args.child[0])
        return
    sizes = sorted({args.events, args.pandas_events})
    rows: list[tuple[str, int, float, float, str, int, float]] = []
    for events in sizes:
        with tempfile.TemporaryDirectory() as name:
            folder = Path(name)
            start = time.perf_counter()
            write_events(folder / "usage_events.csv", events)
            written = time.perf_counter() - start
            size_mb = (folder / "usage_events.csv").stat().st_size / 2**20
            print(f"{events:,} events: {size_mb:,.0f} MB CSV in {written:.1f} s", flush=True)
            paths = ["duckdb"] + (["pandas"] if events == args.pandas_events else [])
            for path_name in paths:
                seconds, peak, digest, customers = measure(folder, path_name)
                rows.append((path_name, events, seconds, peak, digest, customers, size_mb))
    digests = {(r[1], r[0]): r[4] for r in rows}
    print()
    print(f"{'path':<8} {'events':>12} {'CSV MB':>8} {'seconds':>8} {'peak MB':>8} {'ids':>7}  "
          "same as pandas")  # fmt: skip
    for path_name, events, seconds, peak, digest, customers, size_mb in rows:
        pandas = digests.get((events, "pandas"))
        same = "yes" if pandas == digest else "NO"
        same = "-" if pandas is None or path_name == "pandas" else same
        print(f"{path_name:<8} {events:>12,} {size_mb:>8,.0f} {seconds:>8.2f} {peak:>8.0f} "
              f"{customers:>7,}  {same}")  # fmt: skip


if __name__ == "__main__":
    main()
