"""The fault suite's harness: one sync under one fault, compared cell by cell with the same
sync without it.

A sheet of customers is synced once cleanly (day 1, which sets the bookmarks), some inputs
change, and day 2's sync runs through the real CLI, gspread, google-auth and requests against
the emulator while a scenario fails requests, slows them past the client's timeout, or edits
the sheet the way a person would between two requests. The final grid (Customers' outputs and
Health colours, History, Sync log) is compared with day 2 run without the scenario:

- misplaced: a cell holds what belongs to another customer (or a row a person inserted got
  outputs);
- lost: a cell holds neither its expected value nor what it held before the run;
- duplicated: History or Sync-log rows present more often than in the fault-free run;
- stale: a cell still holds what it held before the run (fine only when the run failed).
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import os
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from sheets_health import commands
from sheets_health.cli import _error_payload
from sheets_health.template import ALERT_HEADERS, SNAPSHOT_HEADERS
from tests.emulator import SheetsEmulator, make_service_account_key, write_key_file
from tests.test_google_backend import seed

CUSTOMERS = 12
DAY1 = dt.datetime(2026, 11, 21, 9, 30)
DAY2 = dt.datetime(2026, 11, 22, 9, 30)
TIMEOUT = 2.0  # the client's per-request timeout in the suite (seconds)
OUTPUTS = ("Health score", "Health", "Trend", "Reasons", "Next step", "Scored at")
HEADERS = ["Customer ID", "Customer", "CSM score", "Exec sponsor"]
SPONSORS = ("none", "single-threaded", "multi-threaded", "exec sponsor")
Hook = Callable[[SheetsEmulator, str], None]  # (emulator, spreadsheet id)


@dataclass
class Grid:
    """What a person sees after the run, keyed so that a sort does not count as a change."""

    outputs: dict[str, tuple[Any, ...]]  # customer id -> outputs by the day-1 columns + colour
    history: list[tuple[Any, ...]]
    sync_log: list[tuple[Any, ...]]


@dataclass
class Outcome:
    scenario: str
    seed: int
    exit_code: int
    message: str
    misplaced: int = 0
    lost: int = 0
    duplicated: int = 0
    stale: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        """Nothing wrong a person could see: no misplaced, lost or duplicated cells, and a
        successful run left nothing stale."""
        wrong = self.misplaced or self.lost or self.duplicated
        return not wrong and (self.exit_code != 0 or not self.stale)


def tabs(rng: random.Random) -> dict[str, list[list[Any]]]:
    customers: list[list[Any]] = [list(HEADERS)]
    for i in range(CUSTOMERS):
        customers.append([f"C{i:03d}", f"Customer {i}", rng.randrange(1, 11),
                          rng.choice(SPONSORS)])
    return {
        "Customers": customers,
        "Scorecard": [["Measure", "Dimension", "Scoring", "Red at", "Green at", "Weight",
                       "Action when red"],
                      ["CSM score", "CSM", "linear", 3, 8, 1, "Ask the CSM for a plan"],
                      ["Exec sponsor", "Relationship", "category: none=0, single-threaded=30, "
                       "multi-threaded=70, exec sponsor=100", None, None, 1,
                       "Find an executive sponsor"]],
        "Settings": [["Setting", "Value"], ["Green at or above", 70], ["Red below", 40]],
        "History": [["Date", "Customer ID", "Health score", "Health", "Trend baseline"]],
        "Sync log": [["Run at", "Mode", "Customers", "Scored", "Not enough data",
                      "Cells changed", "Result", "Message", "Exit code"]],
        "Snapshots": [list(SNAPSHOT_HEADERS)],  # as `init` makes it
        "Alerts": [list(ALERT_HEADERS)],  # as `init` makes them
        "Summary": [],
    }


class Suite:
    """One emulator, one day-1 sheet per seed (cloned for every run), and fault-free results."""

    def __init__(self, emulator: SheetsEmulator, workdir: Path) -> None:
        self.emulator = emulator
        self.workdir = workdir
        self.key = make_service_account_key(emulator)
        self.key_path = write_key_file(workdir / "key.json", self.key)
        self._day1: dict[int, str] = {}
        self._expected: dict[int, Grid] = {}
        self._runs = 0
        self.second_codes: list[int] = []  # exit codes of syncs started during another one
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ sheets
    def config(self, sid: str, machine: str = "a") -> tuple[Path, dict[str, str]]:
        path = self.workdir / f"{sid[:10]}.toml"
        path.write_text(f'[sheet]\nbackend = "google"\nspreadsheet = "{sid}"\n'
                        f'credentials = "{self.key_path}"\napi_url = "{self.emulator.url}"\n'
                        f"timeout = {TIMEOUT}\n", encoding="utf-8")
        return path, {"XDG_CACHE_HOME": str(self.workdir / f"cache-{machine}")}

    def day1(self, seed_: int) -> str:
        if seed_ not in self._day1:
            rng = random.Random(seed_)
            sid = seed(self.emulator, tabs(rng))
            code, _message = self.sync(sid, DAY1)
            assert code == 0, "the fault-free day-1 sync must pass"
            changed = rng.sample(range(CUSTOMERS), 4)  # under the colour-change guard's 5
            for i in changed:
                self.emulator.set_value(sid, "Customers", f"C{i + 2}", rng.randrange(1, 11))
            self._day1[seed_] = sid
        return self._day1[seed_]

    def clone(self, sid: str) -> str:
        """A copy of a spreadsheet under a new id (day 1 done, inputs changed)."""
        with self.emulator.lock:
            self._runs += 1
            original = self.emulator.spreadsheets[sid]
            new = f"{sid[:30]}{self._runs:014d}"
            self.emulator.spreadsheets[new] = replace(
                original, spreadsheet_id=new, sheets=[s.snapshot() for s in original.sheets],
                properties=copy.deepcopy(original.properties),
                named_ranges=copy.deepcopy(original.named_ranges),
                lock=threading.RLock())
        return new

    def expected(self, seed_: int) -> Grid:
        if seed_ not in self._expected:
            sid = self.clone(self.day1(seed_))
            code, message = self.sync(sid, DAY2)
            assert code == 0, message
            self._expected[seed_] = self.grid(sid)
        return self._expected[seed_]

    # ------------------------------------------------------------------ runs
    def sync(self, sid: str, when: dt.datetime, machine: str = "a") -> tuple[int, str]:
        """The library call `sheets-health sync` makes, at a fixed instant, on this machine's
        cache folder; (exit code, the message the user sees), as the CLI turns errors into."""
        config, env = self.config(sid, machine)
        saved = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        try:
            commands.sync(config, now=when)
        except Exception as exc:
            payload = _error_payload(exc)
            return int(payload["exit_code"]), str(payload["error"])
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
        return 0, ""

    def grid(self, sid: str) -> Grid:
        rows = self.emulator.values(sid, "Customers", render="UNFORMATTED_VALUE")
        header = rows[0]
        cols = [header.index(h) if h in header else None for h in OUTPUTS]
        health = header.index("Health") if "Health" in header else None
        sheet = self.emulator.sheet(sid, "Customers")
        outputs: dict[str, tuple[Any, ...]] = {}
        for r, row in enumerate(rows[1:], start=1):
            if not row or not row[0]:
                continue
            cells = tuple(row[c] if c is not None and c < len(row) else "" for c in cols)
            colour = None
            if health is not None:
                cell = sheet.get(r, health) or {}
                colour = json.dumps((cell.get("userEnteredFormat") or {}).get("backgroundColor"),
                                    sort_keys=True)
            outputs[str(row[0])] = (*cells, colour)
        history = [tuple(r) for r in self.emulator.values(sid, "History",
                                                          render="UNFORMATTED_VALUE")[1:]]
        log = [tuple(r) for r in self.emulator.values(sid, "Sync log",
                                                      render="UNFORMATTED_VALUE")[1:]]
        return Grid(outputs, history, log)


def compare(final: Grid, expected: Grid, before: Grid, outcome: Outcome) -> Outcome:
    """Count misplaced, lost, stale and duplicated cells and rows (see the module doc)."""
    for cid, want in expected.outputs.items():
        got = final.outputs.get(cid)
        if got is None:  # a person deleted the customer's row during the run
            continue
        old = before.outputs.get(cid, ())
        for j, value in enumerate(got):
            if value == want[j]:
                continue
            if j < len(old) and value == old[j]:
                outcome.stale += 1
            elif any(value in (other[j], before.outputs.get(o, (None,) * len(other))[j])
                     for o, other in expected.outputs.items() if o != cid):
                outcome.misplaced += 1
                outcome.notes.append(f"{cid} column {j}: {value!r}")
            else:
                outcome.lost += 1
                outcome.notes.append(f"{cid} column {j}: {value!r}, expected {want[j]!r}")
    for cid, got in final.outputs.items():  # a row a person inserted must stay blank
        if cid not in expected.outputs and any(v not in ("", None, "null") for v in got):
            outcome.misplaced += sum(1 for v in got if v not in ("", None, "null"))
            outcome.notes.append(f"inserted row {cid} got outputs {got!r}")
    outcome.duplicated += _extra_rows(final.history, expected.history)
    keys = Counter((r[0], r[1]) for r in final.history if len(r) > 1)
    outcome.duplicated += sum(n - 1 for n in keys.values() if n > 1)
    ok_rows = [r for r in final.sync_log if "ok" in r]
    outcome.duplicated += _extra_rows(ok_rows, [r for r in expected.sync_log if "ok" in r])
    want_history = Counter(expected.history)
    have_history = Counter(final.history)
    for row, n in want_history.items():
        missing = n - have_history.get(row, 0)
        if missing > 0:
            if row in before.history or outcome.exit_code != 0:
                outcome.stale += missing
            else:
                outcome.lost += missing
    return outcome


def _extra_rows(final: list[tuple[Any, ...]], expected: list[tuple[Any, ...]]) -> int:
    want = Counter(expected)
    return sum(max(0, n - want.get(row, 0)) for row, n in Counter(final).items()
               if row in want)


@dataclass(frozen=True)
class Scenario:
    name: str
    arm: Callable[[Suite, str, random.Random], None]  # sets faults / hooks for one run
    exits: frozenset[int] = frozenset({0})  # exit codes a user may see
    xfail: str | None = None  # why it fails until the request-flow rework lands
    second_exit: int | None = None  # a second sync runs meanwhile and must exit with this
    settle: float = 0.0  # seconds a stalled request may still take to land after the run


def run(suite: Suite, scenario: Scenario, seed_: int) -> Outcome:
    """Day 2 under the scenario, on a fresh clone of the seed's day-1 sheet."""
    emulator = suite.emulator
    expected = suite.expected(seed_)
    sid = suite.clone(suite.day1(seed_))
    before = suite.grid(sid)
    emulator.reset()
    scenario.arm(suite, sid, random.Random(seed_))
    try:
        code, message = suite.sync(sid, DAY2)
    finally:
        emulator.reset()
        with emulator.lock:
            emulator.spreadsheet(sid).shared_with = None
    if scenario.settle:
        time.sleep(scenario.settle)  # the stalled request lands (or not) before we look
    outcome = Outcome(scenario.name, seed_, code, message)
    compare(suite.grid(sid), expected, before, outcome)
    if scenario.second_exit is not None:
        second = suite.second_codes.pop() if suite.second_codes else None
        outcome.notes.append(f"the second sync exited {second}")
        if second != scenario.second_exit:
            outcome.lost += 1
    if code not in scenario.exits:
        outcome.notes.append(f"exit {code} not in {sorted(scenario.exits)}: {message}")
        outcome.lost += 1  # an unexpected outcome counts against the run
    return outcome


def iter_matrix(scenarios: list[Scenario], seeds: list[int]) -> Iterator[tuple[Scenario, int]]:
    for scenario in scenarios:
        for seed_ in seeds:
            yield scenario, seed_


def iter_rotating(scenarios: list[Scenario],
                  seeds: list[int]) -> Iterator[tuple[Scenario, int]]:
    """Every scenario once, the seeds taken in turn: each scenario and each seed's day-1 sheet
    still run, at a third of the full matrix's cost."""
    for i, scenario in enumerate(scenarios):
        yield scenario, seeds[i % len(seeds)]
