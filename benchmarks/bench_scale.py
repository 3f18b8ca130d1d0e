"""Scale: whole `sheets-health sync` commands on large sheets, and scoring alone.

Every figure is one whole process, started as a user starts it
(`python -m sheets_health.cli --config ... --json sync`, this checkout on PYTHONPATH): wall time
from start to exit, peak memory (the process's maximum resident set; POSIX only). The Sheets
API emulator, when used, runs in this process, not in the measured one.

- `sync`: N customers × M measures (default 10,000 × 20; every measure a Customers column, no
  sources, see `wide_sheet.py`) on the workbook backend and on the Google backend (emulator,
  latency 0): the first sync (writes every output, one History row per customer) and a second
  with nothing changed.
- `scoring`: `bench_scoring.py` (the pure scoring engine, default 100,000 × 20) in its own
  process: its own timing of the scoring call, and the process's peak memory.
- `history`: the demo (`sheets_health.demo`, with its sources) at 100 and 1,000 customers with
  an empty History and with a year of daily History, after `init` and a first sync of the
  day (untimed: they place the bookmarks a sync reads History through): the next sync's
  requests and bytes on Google (the read, any re-read after it, the write; emulator at
  `--latency-ms`, default 250) and wall time and peak memory on both backends.

    python benchmarks/bench_scale.py                 # all three
    python benchmarks/bench_scale.py sync --customers 2000
    python benchmarks/bench_scale.py history --latency-ms 0 --history-customers 100
    python benchmarks/bench_scale.py --quick         # 1/10 of the sizes
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the project, with its tests
sys.path.insert(0, str(Path(__file__).resolve().parent))  # these helpers

import openpyxl
from demo_sheet import google_config_file, make_demo, seed, service_account
from wide_sheet import Tabs, history_rows, wide_tabs, write_workbook

from sheets_health import template as T
from sheets_health.demo import WORKBOOK
from tests.emulator import SheetsEmulator

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Process:
    seconds: float
    peak_mb: float | None
    output: str


# Linux carries a process's peak resident set across exec: a child forked from this process
# (which holds the emulator's copy of a 365,000-row History) starts with this process's peak
# as its own. So the command is started by a small launcher, and its peak read there.
_LAUNCHER = """import os, sys, time
started = time.perf_counter()
pid = os.posix_spawn(sys.argv[2], sys.argv[2:], os.environ)
_pid, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as out:
    out.write(f"{usage.ru_maxrss} {time.perf_counter() - started}")
sys.exit(os.waitstatus_to_exitcode(status))
"""


def run_process(argv: Sequence[str], cwd: Path) -> Process:
    """Run a command to its end: wall time, peak RSS (where the OS reports it) and stdout."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [
        str(ROOT), os.environ.get("PYTHONPATH")])), "XDG_CACHE_HOME": str(cwd)}
    launch = hasattr(os, "wait4") and hasattr(os, "posix_spawn")  # POSIX
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err, \
            tempfile.TemporaryDirectory() as scratch:
        usage_file = Path(scratch) / "usage"
        command = ([sys.executable, "-c", _LAUNCHER, str(usage_file), *argv] if launch
                   else list(argv))
        started = time.perf_counter()
        child = subprocess.run(command, cwd=cwd, env=env, stdout=out, stderr=err, text=True,
                               check=False)
        seconds = time.perf_counter() - started
        peak = None
        if launch and usage_file.exists():  # the command's own figures, from the launcher
            maxrss, own_seconds = usage_file.read_text().split()
            peak = int(maxrss) / (1024 if sys.platform != "darwin" else 2**20)
            seconds = float(own_seconds)
        out.seek(0)
        err.seek(0)
        if child.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} exited {child.returncode}: "
                               f"{err.read().strip()[-2000:]}")
        return Process(seconds, peak, out.read())


def sync_command(config: Path, cwd: Path) -> Process:
    return run_process([sys.executable, "-m", "sheets_health.cli", "--config", str(config),
                        "--json", "sync"], cwd)


def init_command(config: Path, cwd: Path) -> None:
    """`sheets-health init` on the sheet, as a team runs it once before its first sync (it
    adds the tabs the sheet lacks and, on Google, the tool's bookmarks); not timed."""
    run_process([sys.executable, "-m", "sheets_health.cli", "--config", str(config), "init"],
                cwd)  # a failure raises, with its message


def cli_report(process: Process) -> dict[str, Any]:
    """The sync's --json payload (one JSON document; the last line if there are several)."""
    text = process.output.strip()
    try:
        payload: dict[str, Any] = json.loads(text)
    except ValueError:
        payload = json.loads(text.splitlines()[-1])
    return payload


def requests_seen(emulator: SheetsEmulator) -> dict[str, Any]:
    """The sync's requests by role: its one read, the key re-checks after it, the writes."""
    calls = emulator.api_requests()
    gets = [r for r in calls if r.method == "GET"]
    posts = [r for r in calls if r.method != "GET"]
    return {"requests": len(calls), "read_kb": sum(r.response_bytes for r in gets[:1]) / 1024,
            "recheck_kb": sum(r.response_bytes for r in gets[1:]) / 1024,
            "sent_kb": sum(r.sent_bytes for r in calls) / 1024,
            "received_kb": sum(r.response_bytes for r in calls) / 1024,
            "write_kb": sum(r.sent_bytes for r in posts) / 1024}


def google_toml(directory: Path, name: str, spreadsheet_id: str, key: Path, url: str) -> Path:
    path = directory / name
    path.write_text(f'[sheet]\nbackend = "google"\nspreadsheet = "{spreadsheet_id}"\n'
                    f'credentials = "{key.name}"\napi_url = "{url}"\ntimeout = 600\n',
                    encoding="utf-8")
    return path


# ----------------------------------------------------------------------------- sync


def bench_sync(customers: int, measures: int, workdir: Path) -> list[dict[str, Any]]:
    directory = workdir / f"wide-{customers}x{measures}"
    directory.mkdir(parents=True, exist_ok=True)
    # the three tabs a team fills in; `init` adds the tool's own (History, Sync log, ...)
    tabs = {name: rows for name, rows in wide_tabs(customers, measures,
                                                    dt.datetime.now().date()).items()
            if name in (T.CUSTOMERS, T.SCORECARD, T.SETTINGS)}
    write_workbook(directory / "customers.xlsx", tabs)
    config = directory / "workbook.toml"
    config.write_text('[sheet]\nbackend = "xlsx"\npath = "customers.xlsx"\n', encoding="utf-8")
    rows = []
    init_command(config, directory)
    for label in ("first sync", "nothing changed"):
        process = sync_command(config, directory)
        rows.append(sync_row("workbook", label, customers, measures, process))
    with SheetsEmulator() as emulator:
        spreadsheet_id = seed(emulator, tabs)
        config = google_toml(directory, "google.toml", spreadsheet_id,
                             service_account(emulator, directory), emulator.url)
        init_command(config, directory)
        for label in ("first sync", "nothing changed"):
            emulator.reset()
            process = sync_command(config, directory)
            rows.append(sync_row("google (emulator, latency 0)", label, customers, measures,
                                 process, requests_seen(emulator)))
    return rows


def sync_row(backend: str, label: str, customers: int, measures: int, process: Process,
             traffic: dict[str, Any] | None = None) -> dict[str, Any]:
    report = cli_report(process)
    return {"bench": "sync", "backend": backend, "sync": label, "customers": customers,
            "measures": measures, "cells_changed": report.get("cells_changed"),
            "seconds": round(process.seconds, 2), "peak_mb": _mb(process.peak_mb),
            **(traffic or {})}


def _mb(value: float | None) -> float | None:
    return round(value) if value is not None else None


# ----------------------------------------------------------------------------- scoring


def bench_scoring(customers: int, measures: int, workdir: Path) -> dict[str, Any]:
    process = run_process([sys.executable, str(ROOT / "benchmarks" / "bench_scoring.py"),
                           "--n", str(customers), "--measures", str(measures), "--json"],
                          workdir)
    result = json.loads(process.output.strip().splitlines()[-1])
    return {"bench": "scoring", "customers": customers, "measures": measures,
            "scoring_seconds": round(result["seconds"], 2),
            "process_seconds": round(process.seconds, 2), "peak_mb": _mb(process.peak_mb)}


# ----------------------------------------------------------------------------- History


def with_history(source: Path, target: Path, rows: list[list[Any]]) -> None:
    book = openpyxl.load_workbook(source)
    sheet = book[T.HISTORY]
    first = sheet.max_row + 1
    for row in rows:
        sheet.append(row)
    for number in range(first, first + len(rows)):
        sheet.cell(row=number, column=1).number_format = "yyyy-mm-dd"
    book.save(target)


def bench_history(sizes: Sequence[int], days: int, latency: float, workdir: Path
                  ) -> list[dict[str, Any]]:
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    today = dt.datetime.now().date()  # the CLI's day: the machine's local date
    out = []
    for customers in sizes:
        demo = make_demo(customers, workdir / "history", now)
        ids = [str(r[0]) for r in demo.tabs[T.CUSTOMERS][1:]]
        empty: dict[str, dict[str, Any]] = {}
        for length in (0, days):
            rows = history_rows(ids, today, length)
            book = demo.directory / f"customers-history-{length}.xlsx"
            with_history(demo.directory / WORKBOOK, book, rows)
            text = demo.config.read_text(encoding="utf-8").replace(
                f'path = "{WORKBOOK}"', f'path = "{book.name}"')
            assert book.name in text, "the demo's config names its workbook"
            config = demo.directory / f"workbook-history-{length}.toml"
            config.write_text(text, encoding="utf-8")
            # a team that has been syncing: `init` and today's first sync (untimed) leave the
            # bookmarks a sync reads History through; the timed sync is the next one
            init_command(config, demo.directory)
            sync_command(config, demo.directory)
            results: dict[str, tuple[Process, dict[str, Any]]] = {
                "workbook": (sync_command(config, demo.directory), {})}
            tabs: Tabs = {**demo.tabs, T.HISTORY: demo.tabs[T.HISTORY] + rows}
            with SheetsEmulator(latency=latency) as emulator:
                spreadsheet_id = seed(emulator, tabs)
                config = google_config_file(demo.config, spreadsheet_id,
                                            service_account(emulator, demo.directory),
                                            emulator.url, f"google-history-{length}.toml")
                init_command(config, demo.directory)
                sync_command(config, demo.directory)
                emulator.reset()
                process = sync_command(config, demo.directory)
                results[f"google (latency {latency * 1000:.0f} ms)"] = (
                    process, requests_seen(emulator))
            for backend, (process, traffic) in results.items():
                row = {"bench": "history", "customers": customers, "history_rows": len(rows),
                       "backend": backend, "seconds": round(process.seconds, 2),
                       "peak_mb": _mb(process.peak_mb), **traffic}
                base = empty.setdefault(backend, row)
                row["time_vs_empty"] = round(row["seconds"] / base["seconds"], 2)
                if "read_kb" in row:
                    row["read_vs_empty"] = round(row["read_kb"] / base["read_kb"], 1)
                out.append(row)
    return out


# ----------------------------------------------------------------------------- output


def kb(value: float) -> str:
    return f"{value / 1024:.1f} MB" if value >= 1024 else f"{value:.1f} KB"


def print_sync(rows: list[dict[str, Any]]) -> None:
    print("| backend | sync | customers × measures | cells changed | requests | sent | "
          "received | wall (whole command) | peak memory |\n|---|---|---|---:|---:|---:|---:|"
          "---:|---:|")
    for r in rows:
        google = "requests" in r
        print(f"| {r['backend']} | {r['sync']} | {r['customers']:,} × {r['measures']} | "
              f"{r['cells_changed']:,} | {r['requests'] if google else '–'} | "
              f"{kb(r['sent_kb']) if google else '–'} | {kb(r['received_kb']) if google else '–'}"
              f" | {r['seconds']:.1f} s | {_peak(r)} |")


def print_scoring(row: dict[str, Any]) -> None:
    print(f"Scoring alone, {row['customers']:,} customers × {row['measures']} measures: "
          f"{row['scoring_seconds']:.2f} s (whole process {row['process_seconds']:.1f} s, peak "
          f"memory {_peak(row)}, building the input frame included).")


def print_history(rows: list[dict[str, Any]]) -> None:
    print("| customers | History rows | backend | requests | sync's read | key re-check | "
          "write sent | read × empty | wall (whole command) | wall × empty | peak memory |\n"
          "|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        google = "requests" in r
        dash = "–"
        print(f"| {r['customers']:,} | {r['history_rows']:,} | {r['backend']} | "
              f"{r['requests'] if google else dash} | {kb(r['read_kb']) if google else dash} | "
              f"{kb(r['recheck_kb']) if google else dash} | "
              f"{kb(r['write_kb']) if google else dash} | "
              f"{str(r['read_vs_empty']) + '×' if google else dash} | {r['seconds']:.1f} s | "
              f"{r['time_vs_empty']:.1f}× | {_peak(r)} |")


def _peak(row: dict[str, Any]) -> str:
    return f"{row['peak_mb']:,} MB" if row.get("peak_mb") is not None else "n/a"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("bench", nargs="*", metavar="sync|scoring|history",
                        help="which benchmarks (default: all three)")
    parser.add_argument("--customers", type=int, help="sync: customers (default 10,000)")
    parser.add_argument("--measures", type=int, default=20, help="sync and scoring (default 20)")
    parser.add_argument("--scoring-customers", type=int, help="scoring (default 100,000)")
    parser.add_argument("--history-customers", type=lambda s: [int(x) for x in s.split(",")],
                        help="history: demo sizes (default 100,1000)")
    parser.add_argument("--history-days", type=int, default=365)
    parser.add_argument("--latency-ms", type=int, default=250, help="history on Google")
    parser.add_argument("--quick", action="store_true", help="a tenth of the sizes")
    parser.add_argument("--json", action="store_true", help="JSON lines instead of tables")
    args = parser.parse_args()
    chosen = args.bench or ["sync", "scoring", "history"]
    unknown = set(chosen) - {"sync", "scoring", "history"}
    if unknown:
        parser.error(f"unknown benchmark {', '.join(sorted(unknown))}: "
                     "choose from sync, scoring, history")
    tenth = 10 if args.quick else 1

    def show(rows: list[dict[str, Any]], table: Any) -> None:
        if args.json:
            for row in rows:
                print(json.dumps(row), flush=True)
        else:
            table(rows)
            print(flush=True)

    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        if "sync" in chosen:
            show(bench_sync(args.customers or 10_000 // tenth, args.measures, workdir),
                 print_sync)
        if "scoring" in chosen:
            show([bench_scoring(args.scoring_customers or 100_000 // tenth, args.measures,
                                workdir)], lambda rows: print_scoring(rows[0]))
        if "history" in chosen:
            sizes = args.history_customers or ([100] if args.quick else [100, 1000])
            show(bench_history(sizes, args.history_days, args.latency_ms / 1000, workdir),
                 print_history)

if __name__ == "__main__":
    main()
