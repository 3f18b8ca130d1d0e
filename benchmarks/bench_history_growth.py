"""Read size and sync time against History length, on the Google backend (local emulator).

For each customer count and History length (empty; a year of daily rows) the sheet is put in
the state a daily cron leaves it in: History holds that many days up to the day before
yesterday, each row with its Trend baseline, and the tool's bookmarks (named ranges) sit where
that day's sync put them (`sheets_health.tails.place_history`, the sync's own code). Then three
real syncs run (gspread + google-auth + requests, a fresh backend each, like cron):
yesterday's (it fills the Customers outputs; with an empty History it is the first sync, which
finds no bookmarks and reads the whole, empty tab once, as on any new sheet), today's first
sync, and a second one an hour later.

Printed per sync: requests by kind, KB received (read / key re-check / write) and sent,
wall time, and the client's own time (wall minus time inside HTTP requests, which on the
emulator includes its in-memory copying of the whole spreadsheet for atomic writes), and
the received bytes of read + re-check against the same sync with an empty History.

    python benchmarks/bench_history_growth.py                 # 100 and 1,000 customers
    python benchmarks/bench_history_growth.py --n 100 --days 0 --days 365 --days 730

A year at 1,000 customers is 365,000 History rows: seeding the emulator takes a minute or two.
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
sys.path.insert(0, str(Path(__file__).resolve().parent))

import tests.contract.factories  # noqa: F401  (loads google_factory without an import cycle)
from sheets_health import tails
from sheets_health import template as T
from sheets_health.backends import google_grid as gg
from sheets_health.backends.google import GoogleBackend
from sheets_health.config import Config, config_from_dict
from sheets_health.contract import history_points
from sheets_health.model import Mark, Table
from sheets_health.sync import run_sync
from tests.contract.google_factory import seed_cell
from tests.emulator import SheetsEmulator, make_service_account_key, write_key_file

TODAY = dt.datetime(2026, 3, 31, 9, 0)
WINDOW = 30  # the default trend window

SCORECARD = [
    ["Measure", "Dimension", "Scoring", "Red at", "Green at", "Weight", "Action when red"],
    ["CSM score", "CSM", "linear", 3, 8, 2, "Ask the CSM for a plan"],
    ["Exec sponsor", "Relationship",
     "category: none=0, single-threaded=30, multi-threaded=70, exec sponsor=100", None, None, 1,
     "Find an executive sponsor"],
    ["Tickets open", "Support", "linear", 9, 2, 1, "Review open tickets with support"],
]


def synthetic_tabs(n: int) -> dict[str, list[list[Any]]]:
    """A demo-like sheet with every measure on the sheet (no sources)."""
    rng = random.Random(7)
    headers = ["Customer ID", "Customer", "CSM", "Outcomes", "Start date", "ARR", "Gut RAG",
               "CSM score", "Exec sponsor", "Tickets open", *T.OUTPUT_COLUMNS]
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
        "Settings": [["Setting", "Value"], ["Green at or above", 70], ["Red below", 40],
                     [T.SET_ALERT_ON, "worse"]],
        "History": [["Date", "Customer ID", "Health score", "Health"]],
        "Sync log": [list(T.SYNC_LOG_HEADERS)],
        T.ALERTS: [list(T.ALERT_HEADERS)],  # as `init` makes them
        T.SUMMARY: [],
    }


def history_rows(ids: list[str], days: int, last: dt.date) -> list[list[Any]]:
    """Daily rows with random scores; each carries its Trend baseline (the rule, day by day)."""
    rng = random.Random(5)
    rows: list[list[Any]] = [list(T.HISTORY_HEADERS)]
    scores: dict[tuple[str, dt.date], int] = {}
    baseline: dict[str, float | None] = dict.fromkeys(ids)
    for back in range(days - 1, -1, -1):
        day = last - dt.timedelta(days=back)
        for cid in ids:
            start = scores.get((cid, day - dt.timedelta(days=WINDOW)))
            previous = scores.get((cid, day - dt.timedelta(days=1)))
            if start is not None:
                baseline[cid] = start
            elif baseline[cid] is None:
                baseline[cid] = previous
            score = rng.randrange(0, 101)
            scores[(cid, day)] = score
            rag = "Green" if score >= 70 else "Red" if score < 40 else "Yellow"
            rows.append([day, cid, score, rag, baseline[cid]])
    return rows


def seed(emulator: SheetsEmulator, tabs: dict[str, list[list[Any]]], last: dt.date) -> str:
    """The tabs, and the bookmarks a sync on ``last`` would have left."""
    sid = emulator.create_spreadsheet("Growth", {name: [] for name in tabs})
    book = emulator.spreadsheet(sid)
    with emulator.lock:
        for name, rows in tabs.items():
            sheet = emulator.sheet(sid, name)
            sheet.resize(rows=max(1000, len(rows) + 10), cols=max(26, len(rows[0]) if rows else 0))
            for r, values in enumerate(rows):
                for c, value in enumerate(values):
                    cell = seed_cell(value)
                    if cell is not None:
                        sheet.put(r, c, cell)
        history = tabs[T.HISTORY]
        if len(history) > 1:
            table = Table(T.HISTORY, tuple(history[0]), tuple(tuple(r) for r in history[1:]),
                          tuple(range(2, len(history) + 1)))
            points = history_points(table)
            state = tails.HistoryState(today_rows=tails.todays_rows(table, last))
            customers = len(tabs[T.CUSTOMERS]) - 1
            marks, _ = tails.place_history(table, points, state, last, WINDOW, customers, 0, None)
            marks[tails.LOG_TAIL] = Mark(2)  # the one ok run in the Sync log
            for name, mark in marks.items():
                tab = T.SYNC_LOG if name == tails.LOG_TAIL else T.HISTORY
                rng = gg.grid_range(emulator.sheet(sid, tab).sheet_id, mark)
                rng = {k: v for k, v in rng.items() if v or k == "sheetId"}
                book.named_ranges.append({"namedRangeId": str(book.new_sheet_id()),
                                          "name": gg.NAMED_PREFIX + name, "range": rng})
    return sid


def sync(config: Config, when: dt.datetime) -> dict[str, Any]:
    backend = GoogleBackend.from_config(config.sheet)
    started = time.perf_counter()
    report = run_sync(config, backend=backend, now=when)
    seconds = time.perf_counter() - started
    records = backend.records

    def kb(attr: str, kind: str | None = None) -> float:
        return round(sum(getattr(r, attr) for r in records
                         if kind is None or r.kind == kind) / 1024, 1)

    return {
        "requests": dict(Counter(f"{r.kind}" + ("" if r.status == 200 else f" {r.status}")
                                 for r in records)),
        "received_kb": {k: kb("received_bytes", k) for k in ("read", "recheck", "write")},
        "read_recheck_bytes": sum(r.received_bytes for r in records
                                  if r.kind in ("read", "recheck")),
        "sent_kb": kb("sent_bytes"),
        "seconds": round(seconds, 2),
        "client_s": round(seconds - sum(r.seconds for r in records), 2),
        "rows_appended": report.history_rows,
        "warnings": list(report.warnings),
    }


def bench(n: int, days: int, workdir: Path) -> list[dict[str, Any]]:
    tabs = synthetic_tabs(n)
    tabs[T.SETTINGS].append(["Trend window days", WINDOW])
    ids = [str(r[0]) for r in tabs[T.CUSTOMERS][1:]]
    last = (TODAY - dt.timedelta(days=2)).date()
    tabs[T.HISTORY] = history_rows(ids, days, last)
    if days:
        tabs[T.SYNC_LOG].append([dt.datetime.combine(last, TODAY.time()), "sync", n, n, 0, 0,
                                 "ok", ""])
    with SheetsEmulator() as emulator:
        key = workdir / f"key-{n}-{days}.json"
        write_key_file(key, make_service_account_key(emulator))
        started = time.perf_counter()
        sid = seed(emulator, tabs, last)
        seeded = round(time.perf_counter() - started, 1)
        config = config_from_dict({"sheet": {
            "backend": "google", "spreadsheet": sid, "credentials": str(key),
            "api_url": emulator.url, "timeout": 600}}, workdir)
        rows = []
        for label, when in (("yesterday's sync", TODAY - dt.timedelta(days=1)),
                            ("first sync of the day", TODAY),
                            ("an hour later", TODAY + dt.timedelta(hours=1))):
            rows.append({"n": n, "days": days, "history_rows": len(tabs[T.HISTORY]) - 1,
                         "sync": label, "seed_s": seeded, **sync(config, when)})
        return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, action="append", help="customers (repeatable)")
    parser.add_argument("--days", type=int, action="append",
                        help="days of History (repeatable; default 0 and 365)")
    parser.add_argument("--json", action="store_true", help="print JSON lines")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["XDG_CACHE_HOME"] = tmp  # the sync lock lives here
        for n in args.n or [100, 1000]:
            empty: dict[str, int] = {}
            for days in sorted(args.days or [0, 365]):
                for row in bench(n, days, Path(tmp)):
                    if days == 0:
                        empty[row["sync"]] = row["read_recheck_bytes"]
                    base = empty.get(row["sync"])
                    row["vs_empty"] = (round(row["read_recheck_bytes"] / base, 2)
                                       if base and row["sync"] != "yesterday's sync" else "-")
                    if args.json:
                        print(json.dumps(row), flush=True)
                        continue
                    print(f"n={n:<5} History {days:>3} days ({row['history_rows']:>7} rows)  "
                          f"{row['sync']:<22} requests {row['requests']}  received KB "
                          f"{row['received_kb']}  sent KB {row['sent_kb']}  "
                          f"read+re-check ×{row['vs_empty']} of empty  wall {row['seconds']} s "
                          f"(client {row['client_s']} s)", flush=True)


if __name__ == "__main__":
    main()
