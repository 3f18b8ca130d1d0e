"""Where a large Google sync's time goes: the client and the emulator in one process.

`bench_scale.py` times whole commands; this script runs `run_sync` in this process against
the emulator (latency 0) on `wide_sheet.py`'s sheet (Customers, Scorecard and Settings,
then `sheets-health init`, untimed), twice: a first sync and one with nothing changed. Per
sync it prints the wall time, the emulator's own share (`RecordedRequest.server_seconds`,
its work on each request), the backend's read, claim and write as the client saw them, each
request's size, and the size of each tab in the read.

    python benchmarks/profile_google_sync.py                  # 10,000 customers x 20 measures
    python benchmarks/profile_google_sync.py --customers 5000 --collector on
    python benchmarks/profile_google_sync.py --customers 2000 --profile /tmp/prof

``--collector on`` keeps Python's cycle collector running through the sync and the emulator's
answers (both pause it: `sheets_health/collector.py`), to measure what the pause is worth.
``--profile DIR`` writes a cProfile of the client side of each sync (`syncN.prof`).
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import datetime as dt
import json
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the project, with its tests
sys.path.insert(0, str(Path(__file__).resolve().parent))  # these helpers

from bench_scale import google_toml, init_command
from demo_sheet import seed, service_account
from wide_sheet import wide_tabs

from sheets_health import collector
from sheets_health import template as T
from sheets_health.backends import open_backend
from sheets_health.config import load_config
from sheets_health.sync import run_sync
from tests.emulator import SheetsEmulator


@contextlib.contextmanager
def _collector_running() -> Iterator[None]:
    yield


def tab_sizes(response: Any) -> dict[str, dict[str, int]]:
    """Compact-JSON bytes and cells of each tab in a spreadsheets.get answer."""
    out = {}
    for sheet in (response or {}).get("sheets", []) if isinstance(response, dict) else []:
        title = sheet.get("properties", {}).get("title", "?")
        cells = sum(len(row.get("values", [])) for data in sheet.get("data", [])
                    for row in data.get("rowData", []))
        out[title] = {"bytes": len(json.dumps(sheet, separators=(",", ":"))), "cells": cells}
    return out


def profile(customers: int, measures: int, workdir: Path, profile_dir: Path | None
            ) -> list[dict[str, Any]]:
    tabs = {name: rows for name, rows in wide_tabs(customers, measures,
                                                    dt.datetime.now().date()).items()
            if name in (T.CUSTOMERS, T.SCORECARD, T.SETTINGS)}
    rows = []
    with SheetsEmulator() as emulator:
        spreadsheet_id = seed(emulator, tabs)
        config_path = google_toml(workdir, "google.toml", spreadsheet_id,
                                  service_account(emulator, workdir), emulator.url)
        init_command(config_path, workdir)
        for n, label in enumerate(("first sync", "nothing changed"), start=1):
            emulator.reset()
            config = load_config(config_path)
            backend = open_backend(config.sheet)
            parts: dict[str, float] = {}
            for name in ("read", "hold_lease", "apply"):
                original = getattr(backend, name)

                def timed(*args: Any, _original: Any = original, _name: str = name,
                          _parts: dict[str, float] = parts, **kwargs: Any) -> Any:
                    started = time.perf_counter()
                    try:
                        return _original(*args, **kwargs)
                    finally:
                        _parts[_name] = _parts.get(_name, 0.0) + time.perf_counter() - started
                setattr(backend, name, timed)
            profiler = cProfile.Profile() if profile_dir else None
            started = time.perf_counter()
            if profiler:
                profiler.enable()
            run_sync(config, backend=backend)
            if profiler:
                profiler.disable()
            wall = time.perf_counter() - started
            if profiler and profile_dir:
                profiler.dump_stats(str(profile_dir / f"sync{n}.prof"))
            calls = emulator.api_requests()
            read = next((c for c in calls if c.method == "GET" and c.status == 200
                         and isinstance(c.response, dict) and "sheets" in c.response
                         and any("data" in s for s in c.response["sheets"])), None)
            rows.append({
                "sync": label, "customers": customers, "measures": measures,
                "wall": round(wall, 2),
                "emulator": round(sum(c.server_seconds for c in calls), 2),
                "client_parts": {k: round(v, 2) for k, v in parts.items()},
                "requests": [{"method": c.method, "status": c.status, "sent": len(c.raw_body),
                              "received": c.response_bytes,
                              "emulator": round(c.server_seconds, 2)} for c in calls],
                "read_tabs": tab_sizes(read.response if read else None),
            })
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--measures", type=int, default=20)
    parser.add_argument("--collector", choices=("paused", "on"), default="paused")
    parser.add_argument("--profile", type=Path, metavar="DIR")
    parser.add_argument("--json", action="store_true", help="one JSON line per sync")
    args = parser.parse_args()
    if args.collector == "on":
        collector.paused = _collector_running  # type: ignore[assignment]
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for row in profile(args.customers, args.measures, Path(tmp), args.profile):
            if args.json:
                print(json.dumps(row), flush=True)
                continue
            parts = ", ".join(f"{k} {v:.2f} s" for k, v in row["client_parts"].items())
            print(f"{row['sync']}: {row['wall']:.1f} s wall, emulator {row['emulator']:.1f} s "
                  f"(collector {args.collector}); backend calls: {parts}")
            for call in row["requests"]:
                print(f"  {call['method']} {call['status']}: sent {call['sent']:,} B, "
                      f"received {call['received']:,} B, emulator {call['emulator']:.2f} s")
            for tab, size in row["read_tabs"].items():
                print(f"  read {tab}: {size['bytes']:,} B, {size['cells']:,} cells")


if __name__ == "__main__":
    main()
