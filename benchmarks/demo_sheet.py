"""The demo's data as a Google Sheet on the local emulator, for the benchmarks.

`make_demo` writes the real demo (`sheets_health.demo.write_demo`) with N customers —
customers.xlsx, the source files (usage CSV, tickets CSV, NPS workbook, SQLite warehouse) and
sheets-health.toml — and reads every tab of the workbook back. `seed` copies those tabs into a
fresh spreadsheet of a running `SheetsEmulator` (same tab names and values, date cells typed
as dates, as in `tests/contract/google_factory`), and `google_config` writes a config beside
the demo's whose [sheet] points at that spreadsheet while its [sources.*]/[metrics.*] stay
the demo's, byte for byte.
"""

from __future__ import annotations

import datetime as dt
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import openpyxl

import tests.contract.factories  # noqa: F401  (loads google_factory without an import cycle)
from sheets_health.config import Config, load_config
from sheets_health.demo import WORKBOOK, write_demo
from tests.contract.google_factory import seed_cell
from tests.emulator import SheetsEmulator, make_service_account_key, write_key_file

NOW = dt.datetime(2026, 3, 31, 9, 0, tzinfo=dt.UTC)  # the demo's "now", and every sync's
Tabs = dict[str, list[list[Any]]]


@dataclass(frozen=True)
class Demo:
    customers: int
    directory: Path
    config: Path  # the demo's own config (the workbook backend)
    tabs: Tabs
    write_seconds: float


def make_demo(customers: int, workdir: Path, now: dt.datetime = NOW) -> Demo:
    directory = workdir / f"demo-{customers}"
    started = time.perf_counter()
    config = write_demo(directory, now, customers_count=customers, past=False)
    seconds = time.perf_counter() - started
    return Demo(customers, directory, config, read_workbook(directory / WORKBOOK), seconds)


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


def seed(emulator: SheetsEmulator, tabs: Tabs, title: str = "Bench") -> str:
    """A new spreadsheet holding ``tabs``, each tab its own size as in a real sheet: 1,000
    rows (a new tab's) or, for a longer one, its rows and room for the appends a sync makes
    (a single size for every tab made a 100-customer Customers tab as long as a year of
    History, and its whole-column formats made its read 70 times larger)."""
    cols = max(26, *(len(r) for v in tabs.values() for r in v))
    spreadsheet_id = emulator.create_spreadsheet(title, {name: [] for name in tabs},
                                                 rows=1000, cols=cols)
    with emulator.lock:
        for name, values in tabs.items():
            sheet = emulator.sheet(spreadsheet_id, name)
            if len(values) + 10 > sheet.row_count:
                sheet.resize(rows=len(values) + 10)
            for r, row in enumerate(values):
                for c, value in enumerate(row):
                    cell = seed_cell(value)
                    if cell is not None:
                        sheet.put(r, c, cell)
    return spreadsheet_id


def service_account(emulator: SheetsEmulator, directory: Path) -> Path:
    """A key the emulator trusts, written where a config can name it."""
    return write_key_file(directory / "service-account.json", make_service_account_key(emulator))


def google_config(demo_config: Path, spreadsheet_id: str, key_path: Path, api_url: str) -> Config:
    """The demo's config with its [sheet] section swapped for the emulator spreadsheet; the
    [sources.*]/[metrics.*] text is kept byte for byte, in the same folder (relative paths)."""
    path = google_config_file(demo_config, spreadsheet_id, key_path, api_url)
    config = load_config(path)
    demo = load_config(demo_config)
    assert (config.sources, config.metrics) == (demo.sources, demo.metrics)
    return config


def google_config_file(demo_config: Path, spreadsheet_id: str, key_path: Path, api_url: str,
                       name: str = "sheets-health-google.toml") -> Path:
    text = demo_config.read_text(encoding="utf-8")
    start = re.search(r"^\[sheet\][ \t]*$", text, re.M)
    assert start, f"no [sheet] section in {demo_config}"
    end = re.search(r"^\[", text[start.end():], re.M)
    rest = text[start.end() + end.start():] if end else ""
    sheet = (f'[sheet]\nbackend = "google"\nspreadsheet = "{spreadsheet_id}"\n'
             f'credentials = "{key_path.name}"\napi_url = "{api_url}"\ntimeout = 300\n\n')
    path = demo_config.with_name(name)
    path.write_text(text[: start.start()] + sheet + rest, encoding="utf-8")
    return path
