"""Requests, payload sizes and wall time per sync on the Google backend (local emulator).

Seeds a demo-like sheet (Customers with N customers, a Scorecard, Settings, History, Sync log)
in the Sheets API emulator, then runs real syncs (`sheets_health.sync.run_sync`) through the
Google backend — real gspread + google-auth + requests — and prints, per sync, the requests by
kind (read / key re-check / write), bytes sent and received, and the wall time.

    python benchmarks/bench_google_requests.py            # N = 100 and 10,000
    python benchmarks/bench_google_requests.py --n 500
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import tests.contract.factories  # noqa: F401  (loads google_factory without an import cycle)
from sheets_health.backends.google import GoogleBackend
from sheets_health.config import config_from_dict
from sheets_health.sync import run_sync
from sheets_health.template import OUTPUT_COLUMNS, SYNC_LOG_HEADERS
from tests.contract.google_factory import seed_cell
from tests.emulator import SheetsEmulator, make_service_account_key

SCORECARD = [
    ["Measure", "Dimension", "Scoring", "Red at", "Green at", "Weight", "Action when red"],
    ["CSM score", "CSM", "linear", 3, 8, 2, "Ask the CSM for a plan"],
    ["Exec sponsor", "Relationship",
     "category: none=0, single-threaded=30, multi-threaded=70, exec sponsor=100", None, None, 1,
     "Find an executive sponsor"],
    ["Tickets open", "Support", "linear", 9, 2, 1, "Review open tickets with support"],
]


def demo_tabs(n: int) -> dict[str, list[list[Any]]]:
    rng = random.Random(7)
    headers = ["Customer ID", "Customer", "CSM", "Outcomes", "Start date", "ARR", "Gut RAG",
               "CSM score", "Exec sponsor", "Tickets open", *OUTPUT_COLUMNS]
    sponsors = ["none", "single-threaded", "multi-threaded", "exec sponsor"]
    customers: list[list[Any]] = [headers]
    for i in range(n):
        customers.append([
            f"C{i:05d}", f"Customer {i}", rng.choice(["Ana", "Ben", "Chloe"]), "",
            dt.date(2025, 1, 1) + dt.timedelta(days=rng.randrange(400)),
            rng.randrange(5, 200) * 1000, rng.choice(["Green", "Yellow", "Red"]),
            rng.randrange(1, 11), rng.choice(sponsors), rng.randrange(0, 12),
        ])
    return {
        "Customers": customers,
        "Scorecard": SCORECARD,
        "Settings": [["Setting", "Value"], ["Green at or above", 70], ["Red below", 40]],
        "History": [["Date", "Customer ID", "Health score", "Health"]],
        "Sync log": [list(SYNC_LOG_HEADERS)],
    }


def seed(emulator: SheetsEmulator, tabs: dict[str, list[list[Any]]]) -> str:
    rows = max(1000, *(len(v) + 10 for v in tabs.values()))
    spreadsheet_id = emulator.create_spreadsheet("Bench", {name: [] for name in tabs}, rows=rows)
    with emulator.lock:
        for name, values in tabs.items():
            sheet = emulator.sheet(spreadsheet_id, name)
            for r, row in enumerate(values):
                for c, value in enumerate(row):
                    cell = seed_cell(value)
                    if cell is not None:
                        sheet.put(r, c, cell)
    return spreadsheet_id


def bench(n: int, workdir: Path) -> list[dict[str, Any]]:
    results = []
    with SheetsEmulator() as emulator:
        key_path = workdir / f"key-{n}.json"
        key_path.write_text(json.dumps(make_service_account_key(emulator)), encoding="utf-8")
        spreadsheet_id = seed(emulator, demo_tabs(n))
        config = config_from_dict({"sheet": {
            "backend": "google", "spreadsheet": spreadsheet_id, "credentials": str(key_path),
            "api_url": emulator.url, "timeout": 120}}, workdir)
        backend = GoogleBackend.from_config(config.sheet)
        for label, now in (("first sync", dt.datetime(2026, 3, 31, 9, 0)),
                           ("same inputs again", dt.datetime(2026, 3, 31, 10, 0))):
            before = len(backend.records)
            started = time.perf_counter()
            report = run_sync(config, backend=backend, now=now)
            seconds = time.perf_counter() - started
            records = backend.records[before:]
            results.append({
                "n": n,
                "sync": label,
                "requests": dict(Counter(r.kind for r in records)),
                "total_requests": len(records),
                "sent_kb": {k: round(sum(r.sent_bytes for r in records if r.kind == k) / 1024, 1)
                            for k in dict.fromkeys(r.kind for r in records)},
                "received_kb": {k: round(sum(r.received_bytes for r in records
                                             if r.kind == k) / 1024, 1)
                                for k in dict.fromkeys(r.kind for r in records)},
                "cells_written": report.result.cells_written if report.result else 0,
                "rows_appended": report.result.rows_appended if report.result else 0,
                "seconds": round(seconds, 2),
            })
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, action="append", help="customers (repeatable)")
    parser.add_argument("--json", action="store_true", help="print JSON lines")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["XDG_CACHE_HOME"] = tmp  # the sync lock lives here
        for n in args.n or [100, 10_000]:
            for row in bench(n, Path(tmp)):
                if args.json:
                    print(json.dumps(row))
                    continue
                print(f"N={row['n']:>6} {row['sync']:<18} requests={row['total_requests']} "
                      f"{row['requests']}  sent KB={row['sent_kb']}  received KB="
                      f"{row['received_kb']}  cells={row['cells_written']} appended="
                      f"{row['rows_appended']}  {row['seconds']} s")


if __name__ == "__main__":
    main()
