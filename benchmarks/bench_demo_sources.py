"""How long the demo takes: writing its source files, loading every metric, the whole demo.

    python benchmarks/bench_demo_sources.py            # 3 runs each, 100 customers
    python benchmarks/bench_demo_sources.py --runs 5 --customers 60

Prints the median and the slowest run in seconds. (The demo should feel instant; this used
to be a test asserting "under 2 s", which failed on a busy machine and proved nothing.)
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import tempfile
import time
import tomllib
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sheets_health import commands
from sheets_health.config import config_from_dict
from sheets_health.demo_sources import PROFILES, write_demo_sources
from sheets_health.sources import load_metrics

RUN_AT = dt.datetime(2026, 3, 31, 6, 0, tzinfo=dt.UTC)


def timed(step: Callable[[Path], object], runs: int) -> list[float]:
    seconds = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as folder:
            start = time.perf_counter()
            step(Path(folder))
            seconds.append(time.perf_counter() - start)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--customers", type=int, default=100)
    args = parser.parse_args()
    customers = [(f"{n:05d}", PROFILES[n % 4]) for n in range(1, args.customers + 1)]

    def write(folder: Path) -> str:
        return write_demo_sources(folder, customers, RUN_AT, 1)

    def write_and_load(folder: Path) -> object:
        raw = {"sheet": {"backend": "xlsx", "path": "customers.xlsx"},
               **tomllib.loads(write(folder))}
        return load_metrics(config_from_dict(raw, folder, env={}), RUN_AT)

    def whole_demo(folder: Path) -> object:
        return commands.demo(folder, now=RUN_AT.replace(tzinfo=None))

    steps = [(f"write the sources ({args.customers} customers)", write),
             ("write + load every metric", write_and_load),
             ("the whole demo (sources, workbook, sync)", whole_demo)]
    for label, step in steps:
        seconds = timed(step, args.runs)
        print(f"{label:<44} median {statistics.median(seconds):6.2f} s   "
              f"slowest {max(seconds):6.2f} s   ({args.runs} runs)")


if __name__ == "__main__":
    main()
