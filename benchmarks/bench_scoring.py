"""Time to score N customers on M measures with the pure scoring engine (no IO).

    python benchmarks/bench_scoring.py              # 100, 10,000 and 100,000 customers, 20 measures
    python benchmarks/bench_scoring.py --n 50000 --measures 14 --json
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sheets_health.model import Customer, Measure, ScoringKind, Settings, SheetModel
from sheets_health.scoring import score_customers


def run(n: int, m: int) -> float:
    rng = random.Random(1)
    measures = [Measure(f"M{j}", "Usage", ScoringKind.LINEAR, red_at=0, green_at=100,
                        weights={"": 1, "Grow": 1 + j % 3}) for j in range(m)]
    customers = [Customer(f"C{i:05d}", "x", i + 2, outcomes=("Grow",) if i % 3 == 0 else ())
                 for i in range(n)]
    raw = pd.DataFrame(
        {ms.name: [rng.random() * 100 if rng.random() > 0.1 else None for _ in customers]
         for ms in measures},
        index=[c.id for c in customers],
    ).astype(object)
    model = SheetModel(tuple(customers), tuple(measures), ("Grow",), Settings(), {})
    start = time.perf_counter()
    score_customers(model, raw, dt.date(2026, 11, 22))
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, action="append", help="customers (repeatable)")
    parser.add_argument("--measures", type=int, default=20)
    parser.add_argument("--json", action="store_true", help="one JSON line per size")
    args = parser.parse_args()
    for n in args.n or [100, 10_000, 100_000]:
        seconds = run(n, args.measures)
        if args.json:
            print(json.dumps({"customers": n, "measures": args.measures, "seconds": seconds}),
                  flush=True)
        else:
            print(f"score {n:>6} customers x {args.measures} measures: {seconds:.2f} s", flush=True)


if __name__ == "__main__":
    main()
