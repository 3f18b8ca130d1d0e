"""The day boundary follows the spreadsheet's time zone, not the clock of the cron machine.

A run at 23:30 UTC is still the afternoon of the same day in Los Angeles but already the next
morning in Tokyo: History days, `Scored at` and the Sync log `Run at` must say so, on both
backends (Google: the spreadsheet's own `timeZone`; a workbook: the `Time zone` setting).
`now` is always injected; the real clock is never read.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from sheets_health import commands
from sheets_health.cli import main
from sheets_health.errors import EXIT_BAD_INPUT, ContractError
from sheets_health.model import CellValue
from sheets_health.zones import parse_zone
from tests.contract.factories import Tabs, XlsxUnderTest
from tests.contract.google_factory import GoogleUnderTest, make_google
from tests.emulator import SheetsEmulator
from tests.sheets import valid_tabs, with_action_tabs, write_sheet

NOW = dt.datetime(2026, 11, 22, 23, 30, tzinfo=dt.UTC)
LA, TOKYO = "America/Los_Angeles", "Asia/Tokyo"
# zone -> (History day, Scored at, Sync log Run at) for a run at NOW
EXPECTED = {
    LA: (dt.date(2026, 11, 22), dt.datetime(2026, 11, 22, 15, 30)),
    TOKYO: (dt.date(2026, 11, 23), dt.datetime(2026, 11, 23, 8, 30)),
}


@dataclass
class Sheet:
    config: Path
    under_test: XlsxUnderTest | GoogleUnderTest
    emulator: SheetsEmulator | None = None

    def cells(self, tab: str) -> list[list[CellValue]]:
        return self.under_test.cells(tab)

    def column(self, tab: str, header: str) -> list[CellValue]:
        grid = self.cells(tab)
        col = grid[0].index(header)
        return [row[col] if col < len(row) else None for row in grid[1:]]


MakeSheet = Callable[..., Sheet]


@pytest.fixture(scope="module")
def emulator() -> Iterator[SheetsEmulator]:
    with SheetsEmulator() as emu:
        yield emu


def _with_setting(tabs: Tabs, zone: str | None) -> Tabs:
    if zone is not None:
        tabs["Settings"].append(["Time zone", zone])
    return tabs


@pytest.fixture(params=["xlsx", "google"])
def make_sheet(request: pytest.FixtureRequest, tmp_path: Path) -> MakeSheet:
    """A valid sheet whose zone is ``zone``: the Settings row on a workbook, the spreadsheet's
    own time zone on Google. ``setting`` adds a `Time zone` Settings row on either."""

    def make(zone: str, setting: str | None = None) -> Sheet:
        if request.param == "xlsx":
            tabs = _with_setting(valid_tabs(), setting or zone)
            config = write_sheet(tmp_path, tabs)
            return Sheet(config, XlsxUnderTest(tmp_path / "sheet.xlsx"))
        emu: SheetsEmulator = request.getfixturevalue("emulator")
        under_test = make_google(tmp_path, with_action_tabs(_with_setting(valid_tabs(), setting)),
                                 emu)
        emu.set_time_zone(under_test.spreadsheet_id, zone)
        config = tmp_path / "sheets-health.toml"
        config.write_text(
            f'[sheet]\nbackend = "google"\nspreadsheet = "{under_test.spreadsheet_id}"\n'
            f'credentials = "service-account.json"\napi_url = "{emu.url}"\ntimeout = 10\n',
            encoding="utf-8",
        )
        emu.reset()
        return Sheet(config, under_test, emu)

    return make


@pytest.mark.parametrize("zone", [LA, TOKYO])
def test_a_run_at_2330_utc_lands_on_the_sheets_day(make_sheet: MakeSheet, zone: str) -> None:
    sheet = make_sheet(zone)
    report = commands.sync(sheet.config, now=NOW)
    day, wall = EXPECTED[zone]
    assert sheet.column("History", "Date") == [day, day, day]
    assert sheet.column("Customers", "Scored at") == [wall, wall, wall]
    assert sheet.column("Sync log", "Run at") == [wall]
    # the JSON line says the same instant, with the sheet's offset
    assert report.run_at == NOW
    assert report.as_dict()["run_at"] == wall.isoformat() + (
        "-08:00" if zone == LA else "+09:00")


def test_google_reads_the_time_zone_in_the_syncs_own_read(make_sheet: MakeSheet,
                                                          request: pytest.FixtureRequest) -> None:
    if "google" not in request.node.callspec.id:
        pytest.skip("request counts are a Google matter")
    sheet = make_sheet(TOKYO)
    commands.sync(sheet.config, now=NOW - dt.timedelta(days=1))  # sets the History bookmarks
    assert sheet.emulator is not None
    before = len(sheet.emulator.api_requests())
    commands.sync(sheet.config, now=NOW)
    calls = [str(r.method_id) for r in sheet.emulator.api_requests()[before:]]
    # no extra request for the zone: the read, the Sync-log claim, the write
    assert calls == ["sheets.spreadsheets.get", "sheets.spreadsheets.batchUpdate",
                     "sheets.spreadsheets.batchUpdate"]
    assert sheet.column("History", "Date")[-1] == dt.date(2026, 11, 23)


def test_a_later_run_the_same_sheet_day_replaces_that_days_history_row(
        make_sheet: MakeSheet) -> None:
    sheet = make_sheet(TOKYO)
    commands.sync(sheet.config, now=NOW)
    # 14:00 UTC the next day is 23:00 in Tokyo: still 2026-11-23 there, though a new UTC day
    commands.sync(sheet.config, now=NOW + dt.timedelta(hours=14, minutes=30))
    assert sheet.column("History", "Date") == [dt.date(2026, 11, 23)] * 3


def test_the_settings_row_wins_over_googles_zone_and_says_so(make_sheet: MakeSheet) -> None:
    sheet = make_sheet(LA, setting=TOKYO)
    report = commands.sync(sheet.config, now=NOW)
    assert sheet.column("History", "Date")[-1] == dt.date(2026, 11, 23)  # Tokyo's day
    if sheet.emulator is not None:
        assert any("Time zone" in w and TOKYO in w and LA in w for w in report.warnings), (
            report.warnings)


def test_an_unknown_zone_is_bad_input_naming_the_cell(tmp_path: Path) -> None:
    config = write_sheet(tmp_path, _with_setting(valid_tabs(), "Europe/Springfield"))
    workbook = XlsxUnderTest(tmp_path / "sheet.xlsx")

    def user_tabs() -> dict[str, list[list[object]]]:  # a failed run adds its Sync-log row
        return {t: workbook.cells(t) for t in workbook.tab_names() if t != "Sync log"}

    before = user_tabs()
    with pytest.raises(ContractError) as caught:
        commands.sync(config, now=NOW)
    (problem,) = caught.value.problems
    assert (problem.tab, problem.row, problem.column) == ("Settings", 4, "Value")
    assert "Europe/Springfield" in problem.message
    assert "Europe/Berlin" in problem.fix
    result = CliRunner().invoke(main, ["--config", str(config), "sync"])
    assert result.exit_code == EXIT_BAD_INPUT
    assert ("tab 'Settings', row 4, column 'Value': 'Europe/Springfield' is not a known "
            "time zone") in result.output
    assert user_tabs() == before


def test_without_a_setting_a_workbook_follows_the_machines_zone(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if not hasattr(time, "tzset"):
        pytest.skip("changing the process's zone needs time.tzset (POSIX)")
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    try:
        config = write_sheet(tmp_path)
        commands.sync(config, now=NOW)
    finally:
        monkeypatch.undo()
        time.tzset()
    grid = XlsxUnderTest(tmp_path / "sheet.xlsx").cells("History")
    assert grid[1][0] == dt.date(2026, 11, 23)


def test_source_windows_are_the_same_instant_whatever_the_zone(tmp_path: Path) -> None:
    """A 1-day window ends at the run's instant: an event 23 hours before counts in any zone."""
    events = ("account,at\n"
              f"C001,{(NOW - dt.timedelta(hours=23)).strftime('%Y-%m-%dT%H:%M:%SZ')}\n"
              f"C001,{(NOW - dt.timedelta(hours=25)).strftime('%Y-%m-%dT%H:%M:%SZ')}\n")
    counts = {}
    for zone in (LA, TOKYO):
        folder = tmp_path / zone.replace("/", "-")
        folder.mkdir()
        (folder / "events.csv").write_text(events, encoding="utf-8")
        tabs = _with_setting(valid_tabs(), zone)
        tabs["Scorecard"].append(["Events 1d", "Usage", "linear", 0, 1, 1, 1, "Look"])
        config = write_sheet(folder, tabs, (
            '[sources.events]\nkind = "csv"\npath = "events.csv"\nid_column = "account"\n'
            'time_column = "at"\n[metrics."Events 1d"]\nsource = "events"\nagg = "count"\n'
            "window_days = 1\ndefault = 0\n"))
        payload, _ = commands.explain(config, "C001", now=NOW)
        counts[zone] = [m["raw"] for o in payload["outcomes"] for m in o["measures"]
                        if m["measure"] == "Events 1d"]
    assert counts == {LA: ["1"], TOKYO: ["1"]}


@pytest.mark.parametrize(("text", "offset"), [
    ("Europe/Berlin", dt.timedelta(hours=1)),  # 2026-11-22: winter time
    ("Etc/GMT", dt.timedelta(0)),
    ("GMT-07:00", dt.timedelta(hours=-7)),  # Google's custom zones
    ("GMT+5:30", dt.timedelta(hours=5, minutes=30)),
])
def test_zone_names_google_uses(text: str, offset: dt.timedelta) -> None:
    assert NOW.astimezone(parse_zone(text)).utcoffset() == offset


@pytest.mark.parametrize("text", ["Mars/Olympus", "Berlin", "GMT+15:00", "", "../etc/passwd"])
def test_unknown_zone_names_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="time zone"):
        parse_zone(text)


def test_an_unknown_google_zone_is_bad_input_and_writes_nothing(make_sheet: MakeSheet,
                                                                request: pytest.FixtureRequest
                                                                ) -> None:
    if "google" not in request.node.callspec.id:
        pytest.skip("only a Google sheet has a zone of its own")
    sheet = make_sheet("Mars/Olympus")
    before = sheet.cells("Customers")
    result = CliRunner().invoke(main, ["--config", str(sheet.config), "sync"])
    assert result.exit_code == EXIT_BAD_INPUT
    assert "time zone 'Mars/Olympus' (File → Settings) is not known" in result.output
    assert "'Time zone' row to Settings" in result.output
    assert sheet.cells("Customers") == before
    # the Settings row is the way out: with it the same sheet syncs
    sheet = make_sheet("Mars/Olympus", setting=TOKYO)
    commands.sync(sheet.config, now=NOW)
    assert sheet.column("History", "Date")[-1] == dt.date(2026, 11, 23)
