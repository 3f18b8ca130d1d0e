"""Bounded reads of History and the Sync log on the Google backend, end to end: real syncs
(gspread + google-auth + requests) against the Sheets API emulator, checked against the Trend
rule applied to the whole History (`scoring.trend_baseline`), request by request."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

import tests.contract.factories  # noqa: F401  (loads google_factory without an import cycle)
from sheets_health.backends.google import GoogleBackend
from sheets_health.backends.google_http import RequestRecord
from sheets_health.cells import SERIAL_EPOCH, Percent
from sheets_health.config import Config, config_from_dict
from sheets_health.errors import UnsafeInputError
from sheets_health.model import HistoryPoint
from sheets_health.scoring import trend_baseline, trend_text
from sheets_health.sync import SyncReport, run_sync
from sheets_health.template import ALERT_HEADERS, SNAPSHOT_HEADERS, SYNC_LOG_HEADERS
from sheets_health.template import HISTORY_HEADERS as T_HISTORY
from tests.emulator import Fault, SheetsEmulator, make_service_account_key, write_key_file
from tests.test_google_backend import seed

DAY0 = dt.datetime(2026, 3, 1, 9, 0)
SCORECARD = [["Measure", "Dimension", "Scoring", "Red at", "Green at", "Weight"],
             ["CSM score", "CSM", "linear", 0, 10, 1]]
HISTORY_HEADERS = ["Date", "Customer ID", "Health score", "Health"]


@dataclass
class Sheet:
    """One spreadsheet on the emulator, synced like cron does (a fresh backend per run)."""

    emulator: SheetsEmulator
    sid: str
    config: Config
    runs: list[list[RequestRecord]] = field(default_factory=list)

    def sync(self, when: dt.datetime, force: bool = False) -> SyncReport:
        backend = GoogleBackend.from_config(self.config.sheet, sleep=lambda _s: None)
        report = run_sync(self.config, backend=backend, now=when, force=force)
        self.runs.append(list(backend.records))
        return report

    def requests(self) -> list[str]:
        return [f"{r.kind} {r.status}" for r in self.runs[-1]]

    def received(self) -> int:
        return sum(r.received_bytes for r in self.runs[-1])

    def values(self, tab: str) -> list[list[Any]]:
        return self.emulator.values(self.sid, tab, render="UNFORMATTED_VALUE")

    def customers(self) -> dict[str, dict[str, Any]]:
        rows = self.values("Customers")
        return {str(r[0]): dict(zip(rows[0], r, strict=False)) for r in rows[1:] if r}

    def set_score(self, cid: str, value: float | None) -> None:
        rows = self.values("Customers")
        row = next(i for i, r in enumerate(rows) if r and str(r[0]) == cid) + 1
        col = chr(65 + rows[0].index("CSM score"))
        self.emulator.set_value(self.sid, "Customers", f"{col}{row}",
                                "" if value is None else value)

    def set_window(self, days: int) -> None:
        rows = self.values("Settings")
        row = next(i for i, r in enumerate(rows) if r and r[0] == "Trend window days") + 1
        self.emulator.set_value(self.sid, "Settings", f"B{row}", days)

    def history(self) -> list[HistoryPoint]:
        rows = self.values("History")
        cols = {h: i for i, h in enumerate(rows[0])}
        points = []
        for n, r in enumerate(rows[1:], start=2):
            r = r + [""] * (len(rows[0]) - len(r))
            score = r[cols["Health score"]]
            points.append(HistoryPoint(SERIAL_EPOCH + dt.timedelta(days=int(r[cols["Date"]])),
                                       str(r[cols["Customer ID"]]),
                                       None if score == "" else float(score), row=n))
        return points

    def expected_trends(self, today: dt.date, days: int) -> dict[str, str]:
        """The Trend rule over the whole History, as if every row had been read."""
        by: dict[str, list[HistoryPoint]] = {}
        for p in sorted(self.history(), key=lambda p: (p.day, p.row)):
            by.setdefault(p.customer_id, []).append(p)
        out = {}
        for cid, row in self.customers().items():
            score = row.get("Health score")
            score = int(score) if isinstance(score, int | float) else None
            out[cid] = trend_text(score, by.get(cid, []), today, days)
        return out

    def expected_baselines(self, today: dt.date, days: int) -> dict[str, float | None]:
        by: dict[str, list[HistoryPoint]] = {}
        for p in sorted(self.history(), key=lambda p: (p.day, p.row)):
            by.setdefault(p.customer_id, []).append(p)
        return {cid: trend_baseline(by.get(cid, []), today, days) for cid in self.customers()}

    def trends(self) -> dict[str, str]:
        return {cid: str(row.get("Trend") or "") for cid, row in self.customers().items()}


@pytest.fixture
def emulator(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[SheetsEmulator]:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    with SheetsEmulator() as emu:
        yield emu


def make_sheet(emulator: SheetsEmulator, tmp_path: Path, customers: int, window: int = 30,
               history: list[list[Any]] | None = None, settings: list[list[Any]] = ()
               ) -> Sheet:
    rng = random.Random(customers)
    tabs: dict[str, list[list[Any]]] = {
        "Customers": [["Customer ID", "Customer", "CSM score"]] + [
            [f"C{i:04d}", f"Customer {i}", rng.randrange(0, 11)] for i in range(customers)],
        "Scorecard": [list(r) for r in SCORECARD],
        # scores are set at random each day: no colour-change guard (tests/contract covers it)
        "Settings": [["Setting", "Value"], ["Trend window days", window],
                     ["Max colour changes", Percent(1)], *settings],
        "History": history or [list(HISTORY_HEADERS)],
        "Sync log": [list(SYNC_LOG_HEADERS)],
        "Snapshots": [list(SNAPSHOT_HEADERS)],  # as `init` makes it
        "Alerts": [list(ALERT_HEADERS)],
        "Summary": [],
    }
    sid = seed(emulator, tabs)
    key = tmp_path / f"key-{sid[:6]}.json"
    write_key_file(key, make_service_account_key(emulator))
    config = config_from_dict({"sheet": {"backend": "google", "spreadsheet": sid,
                                         "credentials": str(key), "api_url": emulator.url,
                                         "timeout": 60}}, tmp_path)
    return Sheet(emulator, sid, config)


def year_of_history(customers: int, end: dt.date, days: int = 365) -> list[list[Any]]:
    rng = random.Random(3)
    rows: list[list[Any]] = [list(HISTORY_HEADERS)]
    for back in range(days, 0, -1):
        day = end - dt.timedelta(days=back)
        for i in range(customers):
            score = rng.randrange(0, 101)
            rows.append([day, f"C{i:04d}", score,
                         "Green" if score >= 70 else "Red" if score < 40 else "Yellow"])
    return rows


STEADY = ["read 200", "lease 200", "write 200"]


# ----------------------------------------------------------------------------- budget


@pytest.mark.timeout(600)  # a hang guard: 36,600 History rows through the emulator, twice
def test_a_year_of_history_costs_a_sync_what_one_day_does(emulator: SheetsEmulator,
                                                          tmp_path: Path) -> None:
    """100 customers: a year of daily History against a History holding only the previous
    day (what an empty History becomes after one sync). Same requests; read bytes within
    1.5×; the Trend what the rule gives on the whole History."""
    today = DAY0 + dt.timedelta(days=400)
    empty = make_sheet(emulator, tmp_path, 100)
    year = make_sheet(emulator, tmp_path, 100, history=year_of_history(100, today.date()))
    sizes = {}
    for name, sheet in (("empty", empty), ("year", year)):
        sheet.sync(today - dt.timedelta(days=1))  # the first sync: bookmarks set
        assert sheet.requests()[0] == "read 400"  # none yet: read whole, once
        for when in (today, today + dt.timedelta(hours=1)):  # a new day, then the same day
            sheet.sync(when)
            assert sheet.requests() == STEADY
            sizes.setdefault(name, []).append(sheet.received())
        assert sheet.trends() == sheet.expected_trends(today.date(), 30)
    assert len(year.history()) == 366 * 100
    for year_bytes, empty_bytes in zip(sizes["year"], sizes["empty"], strict=True):
        assert year_bytes <= 1.5 * empty_bytes, (sizes, "bytes")
    assert max(sizes["year"]) < 400_000  # a whole read of this History is 11 MB


def test_a_sync_writes_where_its_read_found_the_rows_with_no_key_recheck(
        emulator: SheetsEmulator, tmp_path: Path) -> None:
    """New rows of the day and updates of today's rows both go where the sync's one read
    found them: no request between the read and the write but the claim on the sheet."""
    sheet = make_sheet(emulator, tmp_path, 20)
    sheet.sync(DAY0)
    sheet.sync(DAY0 + dt.timedelta(days=1))  # the Trend column fills in
    sheet.sync(DAY0 + dt.timedelta(days=2))  # appends only
    assert [r.kind for r in sheet.runs[-1]] == ["read", "lease", "write"]
    sheet.set_score("C0003", 1)
    sheet.sync(DAY0 + dt.timedelta(days=2, hours=2))  # updates C0003 and its row of today
    assert [r.kind for r in sheet.runs[-1]] == ["read", "lease", "write"]
    today = [p for p in sheet.history() if p.day == (DAY0 + dt.timedelta(days=2)).date()]
    assert len(today) == 20 and len({p.customer_id for p in today}) == 20  # replaced in place
    assert sheet.trends() == sheet.expected_trends((DAY0 + dt.timedelta(days=2)).date(), 30)


# ----------------------------------------------------------------------------- correctness


def test_trends_match_the_whole_history_rule_day_after_day(emulator: SheetsEmulator,
                                                           tmp_path: Path) -> None:
    """Random scores, days without a score, hourly re-syncs, days without a sync, a customer
    added and one removed: after every sync the Trend and the Trend baseline written equal
    the rule over the whole History, and a sync the day after the last one needs exactly one
    read and one write."""
    rng = random.Random(11)
    window = 4
    sheet = make_sheet(emulator, tmp_path, 8, window=window)
    last: dt.date | None = None
    for day in range(24):
        if day and rng.random() < 0.2:
            continue  # no sync that day
        when = DAY0 + dt.timedelta(days=day)
        for cid in sheet.customers():
            roll = rng.random()
            if roll < 0.3:
                sheet.set_score(cid, rng.randrange(0, 11))
            elif roll < 0.4:
                sheet.set_score(cid, None)  # not enough data today
        if day == 9:
            sheet.emulator.insert_rows(sheet.sid, "Customers", 3, [["C0100", "New", 5]])
        if day == 15:
            sheet.emulator.delete_rows(sheet.sid, "Customers", 5)
        for hour in range(rng.choice((1, 1, 2))):
            sheet.sync(when + dt.timedelta(hours=hour))
            assert sheet.trends() == sheet.expected_trends(when.date(), window), (day, hour)
            if last is not None and (when.date() - last).days <= 1:
                assert sheet.requests() == STEADY, (day, hour)
            else:  # a first sync, or days without one: the trend rows may go further
                assert sheet.requests()[-3:] == STEADY and len(sheet.requests()) <= 4
            last = when.date()
    rows = sheet.values("History")
    baselines = {str(r[1]): (r[4] if len(r) > 4 and r[4] != "" else None)
                 for r in rows[1:] if sheet_day(r[0]) == last}
    assert last is not None
    assert baselines == sheet.expected_baselines(last, window)


def sheet_day(serial: Any) -> dt.date:
    return SERIAL_EPOCH + dt.timedelta(days=int(serial))


def test_first_sync_on_an_old_sheet_reads_it_whole_once(emulator: SheetsEmulator,
                                                        tmp_path: Path) -> None:
    today = DAY0 + dt.timedelta(days=100)
    sheet = make_sheet(emulator, tmp_path, 10, history=year_of_history(10, today.date(), 60))
    sheet.sync(today)
    assert sheet.requests() == ["read 400", "read 200", "lease 200", "write 200"]
    named = {n["name"] for n in emulator.spreadsheet(sheet.sid).named_ranges}
    assert named == {"sheets_health_history_latest", "sheets_health_history_day",
                     "sheets_health_history_trend", "sheets_health_history_head",
                     "sheets_health_sync_log_tail", "sheets_health_scores",
                     "sheets_health_snapshots_latest", "sheets_health_snapshots_day"}
    assert sheet.values("History")[0][-1] == "Trend baseline"
    assert sheet.trends() == sheet.expected_trends(today.date(), 30)
    sheet.sync(today + dt.timedelta(days=1))
    assert sheet.requests() == STEADY
    assert sheet.trends() == sheet.expected_trends((today + dt.timedelta(days=1)).date(), 30)


def test_a_deleted_bookmark_means_one_whole_read(emulator: SheetsEmulator,
                                                 tmp_path: Path) -> None:
    sheet = make_sheet(emulator, tmp_path, 5)
    for day in range(3):
        sheet.sync(DAY0 + dt.timedelta(days=day))
    book = emulator.spreadsheet(sheet.sid)
    book.named_ranges = [n for n in book.named_ranges
                         if n["name"] != "sheets_health_history_trend"]
    sheet.sync(DAY0 + dt.timedelta(days=3))
    assert sheet.requests() == ["read 400", "read 200", "lease 200", "write 200"]
    assert sheet.trends() == sheet.expected_trends((DAY0 + dt.timedelta(days=3)).date(), 30)
    sheet.sync(DAY0 + dt.timedelta(days=4))
    assert sheet.requests() == STEADY


def test_a_longer_trend_window_reads_the_missing_rows_once(emulator: SheetsEmulator,
                                                           tmp_path: Path) -> None:
    sheet = make_sheet(emulator, tmp_path, 6, window=3)
    rng = random.Random(5)
    for day in range(12):
        for cid in sheet.customers():
            sheet.set_score(cid, rng.randrange(0, 11))
        sheet.sync(DAY0 + dt.timedelta(days=day))
    sheet.set_window(7)
    when = DAY0 + dt.timedelta(days=12)
    sheet.sync(when)
    assert len(sheet.requests()) == 4  # the bookmarks were set for 3 days: read once more
    assert sheet.trends() == sheet.expected_trends(when.date(), 7)
    sheet.sync(when + dt.timedelta(days=1))
    assert sheet.requests() == STEADY
    assert sheet.trends() == sheet.expected_trends((when + dt.timedelta(days=1)).date(), 7)


def test_a_person_deleting_history_rows_above_the_bookmarks(emulator: SheetsEmulator,
                                                            tmp_path: Path) -> None:
    """Google moves named ranges up with their rows: the next sync reads the right rows."""
    sheet = make_sheet(emulator, tmp_path, 6, window=3)
    rng = random.Random(8)
    for day in range(10):
        for cid in sheet.customers():
            sheet.set_score(cid, rng.randrange(0, 11))
        sheet.sync(DAY0 + dt.timedelta(days=day))
    emulator.delete_rows(sheet.sid, "History", 2, 12)  # the two oldest days
    when = DAY0 + dt.timedelta(days=10)
    sheet.sync(when)
    assert sheet.requests() == STEADY
    assert sheet.trends() == sheet.expected_trends(when.date(), 3)


def test_history_sorted_by_a_person_is_read_whole_with_a_warning(emulator: SheetsEmulator,
                                                                 tmp_path: Path) -> None:
    sheet = make_sheet(emulator, tmp_path, 4, window=2)
    for day in range(5):
        sheet.set_score("C0001", day)
        sheet.sync(DAY0 + dt.timedelta(days=day))
    emulator.sort_rows(sheet.sid, "History", "Customer ID")
    when = DAY0 + dt.timedelta(days=5)
    report = sheet.sync(when)
    assert len(sheet.requests()) == 4
    assert any("History is not in date order" in w for w in report.warnings)
    assert sheet.trends() == sheet.expected_trends(when.date(), 2)
    assert len([r for r in sheet.history() if r.day == when.date()]) == 4  # no duplicates
    report = sheet.sync(when + dt.timedelta(hours=1))
    assert len([r for r in sheet.history() if r.day == when.date()]) == 4


# ----------------------------------------------------------------------------- growth


def test_the_sync_log_keeps_its_last_rows(emulator: SheetsEmulator, tmp_path: Path) -> None:
    sheet = make_sheet(emulator, tmp_path, 6, settings=[["Sync log rows kept", 3]])
    runs = [DAY0 + dt.timedelta(hours=h) for h in range(5)]
    for when in runs:
        sheet.sync(when)
    log = sheet.values("Sync log")
    assert len(log) == 4  # the header and the last three runs
    run_at = [dt.datetime(1899, 12, 30) + dt.timedelta(days=float(r[0])) for r in log[1:]]
    assert [t.replace(microsecond=0) + dt.timedelta(seconds=round(t.microsecond / 1e6))
            for t in run_at] == runs[2:]
    assert sheet.requests() == STEADY
    # the shrink check still sees the last ok run
    for _ in range(4):
        emulator.delete_rows(sheet.sid, "Customers", 2)
    with pytest.raises(UnsafeInputError):
        sheet.sync(DAY0 + dt.timedelta(hours=6))


def test_retention_is_not_applied_twice_when_a_write_is_retried(emulator: SheetsEmulator,
                                                                tmp_path: Path) -> None:
    """The write lands but its answer is lost (503): the retry sees it landed; no row is
    deleted twice and none is appended twice."""
    sheet = make_sheet(emulator, tmp_path, 4, settings=[["Sync log rows kept", 2]])
    for hour in range(3):
        sheet.sync(DAY0 + dt.timedelta(hours=hour))
    before = sheet.values("Sync log")
    emulator.faults.add(Fault("apply_then_503", method="POST", path=":batchUpdate", times=1))
    sheet.sync(DAY0 + dt.timedelta(days=1))
    log = sheet.values("Sync log")
    assert len(log) == 3 and log[1] == before[-1]
    assert len([p for p in sheet.history() if p.day == (DAY0 + dt.timedelta(days=1)).date()]) == 4


def test_history_days_kept_deletes_the_oldest_days(emulator: SheetsEmulator,
                                                   tmp_path: Path) -> None:
    sheet = make_sheet(emulator, tmp_path, 5, window=3, settings=[["History days kept", 6]])
    rng = random.Random(2)
    for day in range(14):
        for cid in sheet.customers():
            sheet.set_score(cid, rng.randrange(0, 11))
        sheet.sync(DAY0 + dt.timedelta(days=day))
        today = (DAY0 + dt.timedelta(days=day)).date()
        assert min(p.day for p in sheet.history()) >= today - dt.timedelta(days=6)
        assert sheet.trends() == sheet.expected_trends(today, 3)
        if day:
            assert sheet.requests() == STEADY
    assert len(sheet.history()) == 7 * 5


def test_a_spreadsheet_near_googles_cell_limit_is_warned_about(emulator: SheetsEmulator,
                                                               tmp_path: Path) -> None:
    sheet = make_sheet(emulator, tmp_path, 3)
    with emulator.lock:
        emulator.sheet(sheet.sid, "History").resize(rows=330_000)  # × 26 columns
    report = sheet.sync(DAY0)
    warning = next(w for w in report.warnings if "cell limit" in w)
    assert "8,7" in warning and "History days kept" in warning  # History + the other tabs
    sheet.runs.clear()
    with emulator.lock:
        emulator.sheet(sheet.sid, "History").resize(rows=1000)
    assert not any("cell limit" in w for w in sheet.sync(DAY0).warnings)


# ----------------------------------------------------------------------------- workbook


def test_the_workbook_keeps_the_same_rows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                          ) -> None:
    """A workbook is read whole, but retention and the Trend baseline work the same way."""
    from sheets_health import commands
    from tests.contract.factories import XlsxUnderTest
    from tests.sheets import valid_tabs, write_sheet

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    tabs = valid_tabs()
    tabs["Settings"] += [["Trend window days", 2], ["Sync log rows kept", 2],
                         ["History days kept", 3]]
    config = write_sheet(tmp_path, tabs)
    for day in range(6):
        commands.sync(config, now=DAY0 + dt.timedelta(days=day))
    book = XlsxUnderTest(tmp_path / "sheet.xlsx")
    log = book.cells("Sync log")
    assert [r[0] for r in log[1:]] == [DAY0 + dt.timedelta(days=4), DAY0 + dt.timedelta(days=5)]
    history = book.cells("History")
    assert history[0] == list(T_HISTORY)
    days = sorted({r[0] for r in history[1:]})
    assert days == [(DAY0 + dt.timedelta(days=d)).date() for d in range(2, 6)]
    assert [r[4] for r in history[1:4]] == [100, 27, 65]  # baselines: the first scores


# ----------------------------------------------------------------------------- Summary

ALERTS_ON = [["Alert on", "worse"]]  # what turns the Alerts and Summary tabs on
MIX_RANGE = "'Summary'!M3:Q95"


def summary_ranges(sheet: Sheet) -> list[str]:
    read = [r for r in sheet.emulator.api_requests() if r.query.get("includeGridData")][-1]
    return [r for r in read.query["ranges"] if r.startswith("'Summary'")]


def summary_written(sheet: Sheet) -> bool:
    """The last sync's write replaced the Summary tab."""
    posts = [r for r in sheet.emulator.api_requests() if r.method == "POST"]
    return any("deleteSheet" in req or "addChart" in req
               for r in posts for req in (r.body or {}).get("requests", []))


def mix_days(sheet: Sheet) -> list[int]:
    """The colour-mix table's days (serial numbers), as the tab shows them."""
    rows = sheet.values("Summary")
    top = next(i for i, r in enumerate(rows) if "Colour mix over time" in r)
    col = rows[top].index("Colour mix over time")
    return [r[col] for r in rows[top + 2:] if len(r) > col and r[col] != ""]


def test_the_summary_is_read_as_its_first_row_and_its_colour_mix_table(
        emulator: SheetsEmulator, tmp_path: Path) -> None:
    """However long its lists (movers, renewals), a sync reads the Summary as row 1 (title,
    day, and the fingerprint of what it shows) and the colour-mix table at M3:Q95; it
    rewrites the tab when what it shows changed, even where the table did not, and only
    then."""
    sheet = make_sheet(emulator, tmp_path, 60, window=3, settings=ALERTS_ON)
    rng = random.Random(5)
    for day in range(6):
        for i in rng.sample(range(60), 20):
            sheet.set_score(f"C{i:04d}", rng.randrange(0, 11))
        sheet.sync(DAY0 + dt.timedelta(days=day))
    assert summary_ranges(sheet) == ["'Summary'!1:1", MIX_RANGE]
    assert len(sheet.values("Summary")) > 40  # the lists run far below the table's rectangle
    assert len(mix_days(sheet)) == 6

    today = DAY0 + dt.timedelta(days=5, hours=1)
    emulator.reset()
    sheet.sync(today)  # the same day, nothing changed
    assert sheet.requests() == STEADY and not summary_written(sheet)

    rows = sheet.values("Summary")
    movers = next(i for i, r in enumerate(rows) if r and str(r[0]).startswith("Movers"))
    headers = rows[movers + 1]
    green = next(r for r in rows[movers + 2:] if r and r[headers.index("To")] == "Green"
                 and r[headers.index("Score now")] in (70, 80))
    sheet.set_score(str(green[headers.index("Customer ID")]), 9)  # still Green: 90
    emulator.reset()
    sheet.sync(today + dt.timedelta(hours=1))
    assert sheet.requests() == STEADY and summary_written(sheet)
    rows = sheet.values("Summary")
    mover = next(r for r in rows if len(r) > 1 and r[0] in ("Worsened", "Improved")
                 and r[1] == green[headers.index("Customer ID")])
    assert mover[headers.index("Score now")] == 90
    assert len(mix_days(sheet)) == 6  # the colour counts did not change: the table is as was


def test_a_summary_drawn_before_the_table_had_its_place_is_read_whole_once(
        emulator: SheetsEmulator, tmp_path: Path) -> None:
    """A Summary drawn by an earlier version (the colour-mix table as the last section, in
    column A, and no fingerprint): the next sync reads it whole once, in a second request,
    and the chart keeps its past days; the sync after that is back to three requests."""
    sheet = make_sheet(emulator, tmp_path, 20, settings=ALERTS_ON)
    for day in range(3):
        sheet.sync(DAY0 + dt.timedelta(days=day))
    tab = emulator.sheet(sheet.sid, "Summary")
    width = max(c for _r, c in tab.cells) + 1
    valued = [k for k, cell in tab.cells.items() if cell.get("userEnteredValue")]
    last = max(r for r, c in valued if c < 12)
    block = sorted((r, c) for r, c in tab.cells if c >= 12 and r > 0)
    top = min(r for r, c in valued if c >= 12 and r > 0)  # the table's title row
    tab.resize(rows=max(tab.row_count, last + 2 + max(r for r, _c in block) - top + 1))
    for r, c in block:  # the table moves below the lists, to column A
        if r >= top:
            tab.put(last + 2 + r - top, c - 12, tab.get(r, c))
        tab.put(r, c, None)
    tab.put(0, width - 1, {"userEnteredValue": {
        "stringValue": "Rewritten by every sync: edits here are lost"}})
    for (r, c), cell in list(tab.cells.items()):  # that version's tab: 12 columns, A to L
        if c >= 12:
            tab.put(r, c, None)
            if r == 0:
                tab.put(0, 11, cell)
    tab.resize(cols=12)
    assert mix_days(sheet) and emulator.values(sheet.sid, "Summary")[last + 2][0] == \
        "Colour mix over time"

    sheet.sync(DAY0 + dt.timedelta(days=3))
    # its 12 columns stop short of M3:Q95: Google answers 400, and the Summary is read whole
    assert sheet.requests() == ["read 400", "read 200", "lease 200", "write 200"]
    assert len(mix_days(sheet)) == 4  # the three past days, and today
    assert emulator.values(sheet.sid, "Summary")[2][12] == "Colour mix over time"
    sheet.sync(DAY0 + dt.timedelta(days=4))
    assert sheet.requests() == STEADY and len(mix_days(sheet)) == 5
