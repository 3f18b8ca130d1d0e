"""Benchmark: the demo's usage metrics over a 10-million-event export, pandas vs DuckDB.

    python benchmarks/bench_file_aggregation.py [--rows 10000000] [--customers 10000] [--runs 3]

Writes a usage export shaped like the demo's ``usage_events.csv`` (account_id, ISO 8601
timestamp with Z, event, user; 90 days of logins, workflow runs and reports; see
`sheets_health.demo_sources`) into a temporary folder, as CSV and as Parquet, then computes the
demo's usage metrics (its ``[metrics]`` with ``source = "usage"``) through the source layer:

- ``pandas csv``: the previous path, `files.read_csv` + `frames.load_frame` (the whole file
  in a DataFrame);
- ``duckdb csv`` / ``duckdb parquet``: `load_metrics`, which aggregates inside DuckDB.

Each run is a fresh child process, so its peak memory (``ru_maxrss``, the whole process:
Python, pandas, DuckDB) belongs to that run alone; time is the child's wall time from start
to result, imports included, and CPU its user + system time (on a shared machine the wall
time grows with the other load; CPU time much less). Prints each engine's median over the
runs, side by side, and checks that all engines computed the same values. The goal: 10M
events in a CSV under 15 s and 1 GB on a 2-core machine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUN_AT = dt.datetime(2026, 3, 31, 12, 0, tzinfo=dt.UTC)
ENGINES = ("pandas csv", "duckdb csv", "duckdb parquet")
CSV_NAME, PARQUET_NAME = "usage_events.csv", "usage_events.parquet"


def usage_metrics() -> dict[str, dict[str, object]]:
    """The demo's metrics on its usage export, exactly as the demo configures them."""
    sys.path.insert(0, str(ROOT))
    from sheets_health.demo_sources import DEMO_CONFIG

    metrics = tomllib.loads(DEMO_CONFIG)["metrics"]
    return {name: spec for name, spec in metrics.items() if spec["source"] == "usage"}


def generate(folder: Path, rows: int, customers: int) -> tuple[Path, Path]:
    """The export, written by DuckDB from a deterministic pseudo-random sequence."""
    import duckdb

    csv_path, parquet_path = folder / CSV_NAME, folder / PARQUET_NAME
    end = RUN_AT.strftime("%Y-%m-%d %H:%M:%S")
    select = f"""
        SELECT printf('C%05d', (hash(i) % {customers})::INT + 1) AS account_id,
               strftime(TIMESTAMP '{end}' - to_seconds((hash(i * 7 + 1) % (90 * 86400))::BIGINT),
                        '%Y-%m-%dT%H:%M:%SZ') AS timestamp,
               CASE hash(i * 3 + 2) % 10 WHEN 0 THEN 'report_created'
                    WHEN 1 THEN 'workflow_run' WHEN 2 THEN 'workflow_run' ELSE 'login' END AS event,
               printf('user%d@c%05d.example', (hash(i * 5 + 3) % 20)::INT,
                      (hash(i) % {customers})::INT + 1) AS "user"
        FROM range({rows}) AS t(i)"""
    with duckdb.connect() as conn:
        conn.execute("SET enable_progress_bar = false")
        conn.execute(f"COPY ({select}) TO '{csv_path}' (HEADER, DELIMITER ',')")
        conn.execute(f"COPY (SELECT * FROM read_csv('{csv_path}', all_varchar = true)) "
                     f"TO '{parquet_path}' (FORMAT parquet)")  # fmt: skip
    return csv_path, parquet_path


def child(engine: str, path: Path) -> None:
    """One run, in its own process: aggregate, then print time, peak memory and a digest."""
    started = time.perf_counter()
    sys.path.insert(0, str(ROOT))
    from sheets_health.config import config_from_dict
    from sheets_health.sources import _wanted, files, frames, load_metrics
    from sheets_health.sources.common import Clock

    kind = "parquet" if path.suffix == ".parquet" else "csv"
    source = {"kind": kind, "path": path.name, "id_column": "account_id",
              "time_column": "timestamp"}  # fmt: skip
    metrics = {name: {**spec, "source": "usage"} for name, spec in usage_metrics().items()}
    raw = {"sheet": {"backend": "xlsx", "path": "customers.xlsx"},
           "sources": {"usage": source}, "metrics": metrics}  # fmt: skip
    config = config_from_dict(raw, path.parent, env={})
    if engine == "pandas csv":
        spec, specs_list = config.sources["usage"], list(config.metrics.values())
        cells = files.read_csv(spec, _wanted(spec, specs_list))
        clock = Clock.of(RUN_AT, spec.timezone)
        values, *_ = frames.load_frame(spec, specs_list, cells, clock, lambda: None)
    else:
        frame = load_metrics(config, RUN_AT).frame
        values = {name: frame[name] for name in frame.columns}
    seconds = time.perf_counter() - started
    digest = hashlib.sha256()
    for name in sorted(values):
        series = values[name].sort_index()
        digest.update(json.dumps([name, list(series.index), [
            None if v != v else round(float(v), 9) for v in series]]).encode())  # fmt: skip
    peak_mb: float | None = None
    cpu: float | None = None
    try:
        import resource  # POSIX only: peak memory and CPU time are not reported elsewhere

        usage = resource.getrusage(resource.RUSAGE_SELF)
        peak_mb, cpu = usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime
    except ImportError:
        pass
    print(json.dumps({"seconds": seconds, "cpu": cpu, "peak_mb": peak_mb,
                      "digest": digest.hexdigest()}))  # fmt: skip


def run(engine: str, path: Path) -> dict[str, object] | None:
    """One child run; None (and its error on stderr) if it failed."""
    out = subprocess.run(
        [sys.executable, __file__, "--child", engine, str(path)], capture_output=True, text=True
    )
    if out.returncode != 0:
        print(f"  {engine} failed (exit {out.returncode}): {out.stderr.strip()[-500:]}",
              file=sys.stderr)  # fmt: skip
        return None
    result: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def median(runs: list[dict[str, object]], key: str) -> float | None:
    values = [float(str(r[key])) for r in runs if r[key] is not None]
    return statistics.median(values) if values else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3, help="runs per engine (median shown)")
    parser.add_argument("--engines", default=",".join(ENGINES), help="comma-separated subset")
    parser.add_argument("--child", nargs=2, metavar=("ENGINE", "PATH"), help=argparse.SUPPRESS)
    parser.add_argument("--generate", metavar="FOLDER", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]))
        return
    if args.generate:
        generate(Path(args.generate), args.rows, args.customers)
        return
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    with tempfile.TemporaryDirectory(prefix="bench-files-") as tmp:
        started = time.perf_counter()
        # in a child too: a child's peak memory counts its parent's at the fork, so this
        # process stays small
        subprocess.run(
            [sys.executable, __file__, "--generate", tmp, "--rows", str(args.rows),
             "--customers", str(args.customers)],
            check=True,
        )  # fmt: skip
        csv_path, parquet_path = Path(tmp) / CSV_NAME, Path(tmp) / PARQUET_NAME
        size = csv_path.stat().st_size / 1e6
        print(f"{args.rows:,} events, {args.customers:,} customers: CSV {size:,.0f} MB, "
              f"Parquet {parquet_path.stat().st_size / 1e6:,.0f} MB "
              f"(written in {time.perf_counter() - started:.1f} s)")  # fmt: skip
        print(f"metrics: {', '.join(usage_metrics())}; {args.runs} runs each, medians\n")
        results: dict[str, list[dict[str, object]]] = {}
        for number in range(args.runs):  # engines take turns, so a busy spell hits all of them
            for engine in engines:
                path = parquet_path if engine.endswith("parquet") else csv_path
                result = run(engine, path)
                results.setdefault(engine, [])
                if result is not None:
                    results[engine].append(result)
                    took, cpu = float(str(result["seconds"])), float(str(result["cpu"] or 0))
                    print(f"  run {number + 1}: {engine:<15} {took:6.1f} s (CPU {cpu:.1f} s)",
                          flush=True)  # fmt: skip
    print(f"\n{'engine':<16}{'time (s)':>10}{'CPU (s)':>10}{'peak memory (MB)':>19}{'runs':>6}")
    for engine, runs in results.items():
        cells = [median(runs, "seconds"), median(runs, "cpu"), median(runs, "peak_mb")]
        shown = [("n/a" if v is None else f"{v:,.1f}" if i < 2 else f"{v:,.0f}")
                 for i, v in enumerate(cells)]  # fmt: skip
        print(f"{engine:<16}{shown[0]:>10}{shown[1]:>10}{shown[2]:>19}{len(runs):>6}")
    digests = {r["digest"] for runs in results.values() for r in runs}
    print(f"\nsame values from every engine: {'yes' if len(digests) == 1 else 'NO'}")


if __name__ == "__main__":
    main()
