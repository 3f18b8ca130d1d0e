"""Requests, payload sizes and wall time per sync on the Google backend (local emulator).

Writes the real demo (`sheets_health.demo.write_demo`) with N customers — customers.xlsx, the
source files (usage CSV, tickets CSV, NPS workbook, SQLite warehouse) and sheets-health.toml —
seeds every tab of the demo workbook into a spreadsheet of the local Sheets API emulator (same
tab names and values; date cells typed as dates, like `tests/contract/google_factory`), and
writes a config beside the demo's whose [sheet] points at that spreadsheet (backend google,
emulator URL, a generated service-account key) while its [sources.*]/[metrics.*] stay the
demo's. Then runs two real syncs (`sheets_health.sync.run_sync`, real gspread + google-auth +
requests): a first one, and a second with nothing changed (same sheet, same files, same
instant). Prints, per sync: customers, scored / not enough data, requests by kind (read / key
re-check / write), bytes sent and received, cells written, and the wall time split into
sources loading, time inside sheet requests, and the rest (scoring, planning). The time to
write the demo files is printed separately.

    python benchmarks/bench_google_requests.py               # N = 100 and 10,000
    python benchmarks/bench_google_requests.py --n 500
    python benchmarks/bench_google_requests.py --synthetic   # the older demo-like sheet, no sources

At N = 10,000 the demo's usage CSV is about 490 MB and writing the demo takes over a minute.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import random
import re
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import openpyxl

import tests.contract.factories  # noqa: F401  (loads google_factory without an import cycle)
from sheets_health import sources
from sheets_health.backends import open_backend
from sheets_health.config import Config, config_from_dict, load_config
from sheets_health.demo import WORKBOOK, write_demo
from sheets_health.sync import run_sync
from sheets_health.template import OUTPUT_COLUMNS, SYNC_LOG_HEADERS
from tests.contract.google_factory import seed_cell
from tests.emulator import SheetsEmulator, make_service_account_key

NOW = dt.datetime(2026, 3, 31, 9, 0, tzinfo=dt.UTC)  # the demo's "now" and both syncs'
Tabs = dict[str, list[list[Any]]]

# ----------------------------------------------------------------------------- the demo


def read_workbook(path: Path) -> Tabs:
    """Every tab's values (formulas as their cached results); a datetime in a cell formatted
    as a date only (no hours) becomes a date, as a person typing it into Sheets would leave it."""
    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        tabs: Tabs = {}
        for sheet in book.worksheets:
            rows = []
            for row in sheet.iter_rows():
                values = []
                for cell in row:
                    value = getattr(cell, "value", None)
                    fmt = str(getattr(cell, "number_format", "") or "").lower()
                    if isinstance(value, dt.datetime) and value.time() == dt.time() \
                            and "h" not in fmt:
                        value = value.date()
                    values.append(value)
                while values and values[-1] in (None, ""):
                    values.pop()
                rows.append(values)
            while rows and not rows[-1]:
                rows.pop()
            tabs[sheet.title] = rows
        return tabs
    finally:
        book.close()


def google_config(demo_config: Path, spreadsheet_id: str, key_path: Path, api_url: str) -> Path:
    """The demo's config with its [sheet] section swapped for the emulator spreadsheet; the
    [sources.*]/[metrics.*] text is kept byte for byte, in the same folder (relative paths)."""
    text = demo_config.read_text(encoding="utf-8")
    start = re.search(r"^\[sheet\][ \t]*$", text, re.M)
    assert start, f"no [sheet] section in {demo_config}"
    end = re.search(r"^\[", text[start.end():], re.M)
    rest = text[start.end() + end.start():] if end else ""
    sheet = (f'[sheet]\nbackend = "google"\nspreadsheet = "{spreadsheet_id}"\n'
             f'credentials = "{key_path.name}"\napi_url = "{api_url}"\ntimeout = 300\n\n')
    path = demo_config.with_name("sheets-health-google.toml")
    path.write_text(text[: start.start()] + sheet + rest, encoding="utf-8")
    return path


# ----------------------------------------------------------------------------- synthetic

SCORECARD = [
    ["Measure", "Dimension", "Scoring", "Red at", "Green at", "Weight", "Action when red"],
    ["CSM score", "CSM", "linear", 3, 8, 2, "Ask the CSM for a plan"],
    ["Exec sponsor", "Relationship",
     "category: none=0, single-threaded=30, multi-threaded=70, exec sponsor=100", None, None, 1,
     "Find an executive sponsor"],
    ["Tickets open", "Support", "linear", 9, 2, 1, "Review open tickets with support"],
]


def synthetic_tabs(n: int) -> Tabs:
    """A demo-like sheet with every measure on the sheet (no sources)."""
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


# ----------------------------------------------------------------------------- the runs


def seed(emulator: SheetsEmulator, tabs: Tabs) -> str:
    rows = max(1000, *(len(v) + 10 for v in tabs.values()))
    cols = max(26, *(len(r) for v in tabs.values() for r in v))
    spreadsheet_id = emulator.create_spreadsheet("Bench", {name: [] for name in tabs},
                                                 rows=rows, cols=cols)
    with emulator.lock:
        for name, values in tabs.items():
            sheet = emulator.sheet(spreadsheet_id, name)
            for r, row in enumerate(values):
                for c, value in enumerate(row):
                    cell = seed_cell(value)
                    if cell is not None:
                        sheet.put(r, c, cell)
    return spreadsheet_id


@contextlib.contextmanager
def timed(owner: Any, name: str, spent: list[float]) -> Iterator[None]:
    """Time every call of ``owner.name`` (looked up at call time: `sources.load_metrics` on
    its module, `read`/`apply` on the backend instance)."""
    original = getattr(owner, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            spent.append(time.perf_counter() - started)

    setattr(owner, name, wrapper)
    try:
        yield
    finally:
        if owner is sources:
            setattr(owner, name, original)
        else:
            delattr(owner, name)  # back to the class's method


def kb(records: list[Any], attr: str) -> dict[str, float]:
    kinds = dict.fromkeys(r.kind for r in records)
    return {k: round(sum(getattr(r, attr) for r in records if r.kind == k) / 1024, 1)
            for k in kinds}


def syncs(config: Config, emulator: SheetsEmulator, n: int) -> list[dict[str, Any]]:
    results = []
    for label in ("first sync", "nothing changed"):
        backend = open_backend(config.sheet)  # a fresh backend per run, like the CLI
        before = len(emulator.api_requests())
        loading: list[float] = []
        reading: list[float] = []
        applying: list[float] = []
        started = time.perf_counter()
        with timed(sources, "load_metrics", loading), timed(backend, "read", reading), \
                timed(backend, "apply", applying):
            report = run_sync(config, backend=backend, now=NOW)
        seconds = time.perf_counter() - started
        records = list(backend.records)  # type: ignore[attr-defined]
        emulated = len(emulator.api_requests()) - before
        parts = {"sources_s": sum(loading), "read_s": sum(reading), "apply_s": sum(applying)}
        results.append({
            "n": n,
            "sync": label,
            "customers": report.customers,
            "scored": report.scored,
            "not_enough_data": report.not_enough_data,
            "by_health": dict(report.by_health),
            "requests": dict(Counter(r.kind for r in records)),
            "total_requests": len(records),
            "emulator_requests": emulated,
            "sent_kb": kb(records, "sent_bytes"),
            "received_kb": kb(records, "received_bytes"),
            "cells_written": report.result.cells_written if report.result else 0,
            "rows_appended": report.result.rows_appended if report.result else 0,
            "repaired": len(report.result.repaired) if report.result else 0,
            "skipped": len(report.result.skipped) if report.result else 0,
            "write_kb_each": [round(r.sent_bytes / 1024, 1) for r in records
                              if r.kind == "write"],
            "seconds": round(seconds, 2),
            **{k: round(v, 2) for k, v in parts.items()},
            "other_s": round(seconds - sum(parts.values()), 2),
            "in_http_s": round(sum(r.seconds for r in records), 2),
        })
    return results


def bench_demo(n: int, workdir: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    directory = workdir / f"demo-{n}"
    started = time.perf_counter()
    demo_config = write_demo(directory, NOW, customers_count=n)
    setup: dict[str, Any] = {"n": n, "write_demo_s": round(time.perf_counter() - started, 2)}
    setup["files_mb"] = {p.name: round(p.stat().st_size / 2**20, 2)
                         for p in sorted(directory.iterdir()) if p.is_file()}
    started = time.perf_counter()
    tabs = read_workbook(directory / WORKBOOK)
    setup["read_xlsx_s"] = round(time.perf_counter() - started, 2)
    setup["tabs"] = {name: len(rows) for name, rows in tabs.items()}
    with SheetsEmulator() as emulator:
        key_path = directory / "service-account.json"
        key_path.write_text(json.dumps(make_service_account_key(emulator)), encoding="utf-8")
        started = time.perf_counter()
        spreadsheet_id = seed(emulator, tabs)
        setup["seed_s"] = round(time.perf_counter() - started, 2)
        path = google_config(demo_config, spreadsheet_id, key_path, emulator.url)
        config = load_config(path)
        demo = load_config(demo_config)
        assert (config.sources, config.metrics) == (demo.sources, demo.metrics)
        return setup, syncs(config, emulator, n)


def bench_synthetic(n: int, workdir: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    with SheetsEmulator() as emulator:
        key_path = workdir / f"key-{n}.json"
        key_path.write_text(json.dumps(make_service_account_key(emulator)), encoding="utf-8")
        started = time.perf_counter()
        spreadsheet_id = seed(emulator, synthetic_tabs(n))
        setup = {"n": n, "synthetic": True, "seed_s": round(time.perf_counter() - started, 2)}
        config = config_from_dict({"sheet": {
            "backend": "google", "spreadsheet": spreadsheet_id, "credentials": str(key_path),
            "api_url": emulator.url, "timeout": 300}}, workdir)
        return setup, syncs(config, emulator, n)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, action="append", help="customers (repeatable)")
    parser.add_argument("--synthetic", action="store_true",
                        help="a demo-like sheet with no sources instead of the real demo")
    parser.add_argument("--json", action="store_true", help="print JSON lines")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["XDG_CACHE_HOME"] = tmp  # the sync lock lives here
        for n in args.n or [100, 10_000]:
            bench = bench_synthetic if args.synthetic else bench_demo
            setup, rows = bench(n, Path(tmp))
            if args.json:
                for row in [setup, *rows]:
                    print(json.dumps(row), flush=True)
                continue
            if args.synthetic:
                print(f"N={n} synthetic sheet: seeding {setup['seed_s']} s")
            else:
                print(f"N={n} write_demo {setup['write_demo_s']} s (files MB "
                      f"{setup['files_mb']}); read xlsx {setup['read_xlsx_s']} s; seed emulator "
                      f"{setup['seed_s']} s; rows per tab {setup['tabs']}")
            for row in rows:
                print(f"  {row['sync']:<16} customers={row['customers']} scored={row['scored']} "
                      f"not enough data={row['not_enough_data']} {row['by_health']}  requests="
                      f"{row['total_requests']} {row['requests']} (emulator saw "
                      f"{row['emulator_requests']})  sent KB={row['sent_kb']}  received KB="
                      f"{row['received_kb']}  cells={row['cells_written']} appended="
                      f"{row['rows_appended']}  wall {row['seconds']} s = sources "
                      f"{row['sources_s']} + sheet read {row['read_s']} + sheet writes "
                      f"{row['apply_s']} + scoring/planning {row['other_s']} (in HTTP "
                      f"requests {row['in_http_s']})", flush=True)


if __name__ == "__main__":
    main()
