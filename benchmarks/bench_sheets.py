"""sheets-health's sync side by side with the usual gspread ways and the floor, on the local
Sheets API emulator with a round-trip latency per request and Google's per-user quota.

For N customers of the demo (`sheets_health.demo`: the same customer mix at every size, with
its source files), every method starts from a fresh copy of the demo's tabs in the emulator and
writes what a first sync writes: the Customers outputs of every customer (Health score, Health
and its colour, Trend, Reasons, Next step, Scored at), one History row per customer and one
Sync-log row.

- sheets-health: `run_sync` through the Google backend, everything included: reading the
  demo's sources (CSV, XLSX, SQLite), scoring, planning, the sheet read, the Sync-log claim
  (one run at a time), and the write (Customers' outputs go to the tool's Scores tab,
  shown by lookup formulas: one atomic batchUpdate all the same).
- gspread-dataframe + gspread-formatting, naive gspread (cell by cell) and the floor (one read,
  one write): see `peers.py`. They write the cells of sheets-health's own plan; computing the
  scores is not part of their time.

Columns: Sheets API requests (reads/writes; the one OAuth token exchange each method makes is
left out and not delayed), bytes sent (URL path and query plus body) and received (response
bodies), as the emulator saw them; wall time; the wait Google's quota of 60 read and 60 write
requests per minute per user would add, replayed from the request log (`quota.py`; the
emulator does not enforce it); the total; and the total as a multiple of the floor's.

The naive way makes 7 requests per customer plus one per new row: it is measured for the first
`--naive-sample` customers (all of them when N is not larger) and the rest is projected from
the mean time and size of each kind of call; projected figures are marked with `~`.

    python benchmarks/bench_sheets.py                      # 100, 1,000 and 10,000 customers
    python benchmarks/bench_sheets.py --quick              # 100 and 1,000; naive sample 20
    python benchmarks/bench_sheets.py --sizes 500 --latency-ms 100 --json
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the project, with its tests
sys.path.insert(0, str(Path(__file__).resolve().parent))  # these helpers

import peers
from demo_sheet import NOW, Demo, google_config, make_demo, seed, service_account
from quota import kind_of, quota_wait

from sheets_health import sources
from sheets_health.backends import open_backend
from sheets_health.sync import READ_TABS, run_sync
from tests.emulator import RecordedRequest, SheetsEmulator


@dataclass
class Row:
    customers: int
    method: str
    reads: int
    writes: int
    sent: int
    received: int
    wall: float
    quota_wait: float
    emulator: float  # seconds of the emulator's own work, inside the wall time
    projected: bool = False
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def total(self) -> float:
        return self.wall + self.quota_wait


def traffic(requests: list[RecordedRequest]) -> dict[str, int]:
    return {"reads": sum(kind_of(r.method) == "read" for r in requests),
            "writes": sum(kind_of(r.method) == "write" for r in requests),
            "sent": sum(r.sent_bytes for r in requests),
            "received": sum(r.response_bytes for r in requests)}


def emulator_seconds(requests: list[RecordedRequest]) -> float:
    return sum(r.server_seconds for r in requests)


def quota_log(requests: list[RecordedRequest], started: float) -> list[tuple[float, str]]:
    return [(r.started - started, kind_of(r.method)) for r in requests]


@contextlib.contextmanager
def timed(owner: Any, name: str, spent: list[float]) -> Iterator[None]:
    """Add the time of every call of ``owner.name`` to ``spent``."""
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
        setattr(owner, name, original)


class Bench:
    """One emulator and one demo size; each method gets its own fresh spreadsheet."""

    def __init__(self, emulator: SheetsEmulator, demo: Demo, key_path: Path) -> None:
        self.emulator = emulator
        self.demo = demo
        self.key_path = key_path
        self.key = json.loads(key_path.read_text(encoding="utf-8"))

    def fresh(self) -> str:
        for old in list(self.emulator.spreadsheets):  # keep memory flat across methods
            del self.emulator.spreadsheets[old]
        return seed(self.emulator, self.demo.tabs)

    def sheet_ids(self, spreadsheet_id: str) -> dict[str, int]:
        return {s.title: s.sheet_id for s in self.emulator.spreadsheet(spreadsheet_id).sheets}

    def measure(self, method: str, prepare: Callable[[str], Callable[[], Any]]
                ) -> tuple[Row, Any]:
        """``prepare(spreadsheet id)`` runs untimed and returns the call to time."""
        spreadsheet_id = self.fresh()
        run = prepare(spreadsheet_id)
        self.emulator.reset()
        started_at = time.time()
        started = time.perf_counter()
        result = run()
        wall = time.perf_counter() - started
        requests = self.emulator.api_requests()
        seen = traffic(requests)
        row = Row(self.demo.customers, method, seen["reads"], seen["writes"], seen["sent"],
                  seen["received"], wall=wall,
                  quota_wait=quota_wait(quota_log(requests, started_at)),
                  emulator=emulator_seconds(requests))
        return row, result

    # ------------------------------------------------------------------ methods

    def sheets_health(self) -> tuple[Row, peers.Writes]:
        parts: dict[str, list[float]] = {"sources": [], "read": [], "claim": [], "apply": []}
        reports = []
        configs = []

        def prepare(spreadsheet_id: str) -> Callable[[], None]:
            config = google_config(self.demo.config, spreadsheet_id, self.key_path,
                                   self.emulator.url)
            configs.append(config)

            def sync() -> None:
                backend = open_backend(config.sheet)  # a fresh one, as the CLI makes
                with timed(sources, "load_metrics", parts["sources"]), \
                        timed(backend, "read", parts["read"]), \
                        timed(backend, "hold_lease", parts["claim"]), \
                        timed(backend, "apply", parts["apply"]):
                    reports.append(run_sync(config, backend=backend, now=NOW))
            return sync

        row, _ = self.measure("sheets-health sync", prepare)
        report = reports[0]
        in_parts = {k: round(sum(v), 2) for k, v in parts.items()}
        row.detail = {"seconds": in_parts,
                      "scoring_planning_setup": round(row.wall - sum(in_parts.values()), 2),
                      "cells_written": report.result.cells_written if report.result else 0}
        headers = {name: rows[0] for name, rows in self.demo.tabs.items() if rows}
        writes = peers.writes_from_plan(report.plan, headers, {}, READ_TABS)
        # the hourly cron's case: the same sheet again, nothing changed
        self.emulator.reset()
        started = time.perf_counter()
        again = run_sync(configs[0], now=NOW)
        row.detail["unchanged"] = {
            **traffic(self.emulator.api_requests()), "wall": time.perf_counter() - started,
            "cells_written": again.result.cells_written if again.result else 0}
        return row, writes

    def floor(self, writes: peers.Writes) -> Row:
        def prepare(spreadsheet_id: str) -> Callable[[], None]:
            bodies = peers.floor_bodies(replace(writes, sheet_ids=self.sheet_ids(spreadsheet_id)))
            return lambda: peers.floor(self.emulator.url, self.key, spreadsheet_id,
                                       writes.read_tabs, bodies)

        row, _ = self.measure("floor (1 read + 1 write)", prepare)
        return row

    def dataframe(self, writes: peers.Writes) -> Row:
        prepared = peers.prepare_dataframe(writes)
        row, _ = self.measure("gspread-dataframe + gspread-formatting",
                              lambda sid: lambda: peers.dataframe(
                                  self.emulator.url, self.key, sid, prepared, writes.read_tabs))
        return row

    def naive(self, writes: peers.Writes, sample: int) -> Row:
        ops = peers.naive_ops(writes)
        row, made = self.measure("naive gspread (cell by cell)", lambda sid: lambda: peers.naive(
            self.emulator.url, self.key, sid, ops, writes.read_tabs, sample))
        requests = self.emulator.api_requests()
        calls = requests[len(requests) - len(made):]
        assert len(calls) + 2 * len(writes.read_tabs) + 1 == len(requests), \
            "every naive call is one request"
        left = ops.counts()
        for kind, _seconds in made:
            left[kind] -= 1
        if not any(left.values()):
            return row
        # project the calls not made from the mean of each kind that was made
        mean: dict[str, dict[str, float]] = {}
        for (kind, seconds), request in zip(made, calls, strict=True):
            m = mean.setdefault(kind, {"n": 0, "seconds": 0.0, "sent": 0.0, "received": 0.0,
                                       "emulator": 0.0})
            m["n"] += 1
            m["seconds"] += seconds
            m["emulator"] += request.server_seconds
            m["sent"] += request.sent_bytes
            m["received"] += request.response_bytes
        log = quota_log(requests, requests[0].started)
        offset = requests[-1].started - requests[0].started
        for kind, count in left.items():
            m = mean[kind]
            each = m["seconds"] / m["n"]
            row.wall += each * count
            row.emulator += m["emulator"] / m["n"] * count
            row.sent += round(m["sent"] / m["n"] * count)
            row.received += round(m["received"] / m["n"] * count)
            row.writes += count
            for _ in range(count):
                offset += each
                log.append((offset, "write"))
        row.quota_wait = quota_wait(log)
        row.projected = True
        row.detail = {"measured_calls": len(made), "projected_calls": sum(left.values())}
        return row


def run_size(customers: int, workdir: Path, latency: float, sample: int,
             emit: Callable[[Row], None]) -> list[Row]:
    demo = make_demo(customers, workdir)
    print(f"# {customers} customers: demo written in {demo.write_seconds:.1f} s", file=sys.stderr,
          flush=True)
    with SheetsEmulator(latency=latency) as emulator:
        bench = Bench(emulator, demo, service_account(emulator, demo.directory))
        ours, writes = bench.sheets_health()
        rows = [bench.floor(writes), ours, bench.dataframe(writes), bench.naive(writes, sample)]
    for row in rows:
        emit(row)
    return rows


def size(n: float) -> str:
    for unit, scale in (("MB", 2**20), ("KB", 2**10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n:.0f} B"


def duration(seconds: float) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    if seconds >= 120:
        return f"{seconds / 60:.1f} min"
    return f"{seconds:.1f} s"


def table(rows: list[Row], latency_ms: int) -> str:
    head = ("| customers | method | requests (read + write) | sent | received | wall (emulator's "
            "share) | quota wait | total | × floor |\n"
            "|---:|---|---:|---:|---:|---:|---:|---:|---:|")
    lines = [head]
    floors = {r.customers: r.total for r in rows if r.method.startswith("floor")}
    for r in rows:
        mark = "~" if r.projected else ""
        ratio = r.total / floors[r.customers] if floors.get(r.customers) else float("nan")
        lines.append(
            f"| {r.customers:,} | {r.method} | {mark}{r.reads + r.writes:,} ({r.reads} + "
            f"{mark}{r.writes:,}) | {mark}{size(r.sent)} | {mark}{size(r.received)} | "
            f"{mark}{duration(r.wall)} ({mark}{duration(r.emulator)}) | "
            f"{mark}{duration(r.quota_wait)} | "
            f"{mark}{duration(r.total)} | {mark}{ratio:.1f}× |")
    lines.append(f"\nLatency {latency_ms} ms per request; `~`: projected from a measured sample.")
    ours = [r for r in rows if r.method.startswith("sheets-health")]
    for r in ours:
        s = r.detail["seconds"]
        u = r.detail["unchanged"]
        lines.append(f"sheets-health at {r.customers:,}: sources {s['sources']} s, sheet read "
                     f"{s['read']} s, claim {s['claim']} s, write {s['apply']} s, scoring, "
                     f"planning and "
                     f"start-up {r.detail['scoring_planning_setup']} s. A second sync with "
                     f"nothing changed: {u['reads']} + {u['writes']} requests, {size(u['sent'])} "
                     f"sent, {size(u['received'])} received, {u['cells_written']} cells written "
                     f"(the Sync-log row), {duration(u['wall'])}.")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--latency-ms", type=int, default=250,
                        help="server-side delay per Sheets API request (default 250)")
    parser.add_argument("--sizes", type=lambda s: [int(x) for x in s.split(",")],
                        help="customers, comma-separated (default 100,1000,10000)")
    parser.add_argument("--quick", action="store_true",
                        help="100 and 1,000 customers, naive sample of 20 customers")
    parser.add_argument("--naive-sample", type=int,
                        help="customers the naive way writes for real (default 100; 20 quick)")
    parser.add_argument("--json", action="store_true", help="also print one JSON line per row")
    args = parser.parse_args()
    sizes = args.sizes or ([100, 1000] if args.quick else [100, 1000, 10_000])
    sample = args.naive_sample or (20 if args.quick else 100)

    def emit(row: Row) -> None:
        if args.json:
            print(json.dumps({**asdict(row), "total": round(row.total, 3)}), flush=True)

    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["XDG_CACHE_HOME"] = tmp  # the sync's lock file lives here
        for n in sizes:
            rows += run_size(n, Path(tmp), args.latency_ms / 1000, sample, emit)
    print(table(rows, args.latency_ms))


if __name__ == "__main__":
    main()
