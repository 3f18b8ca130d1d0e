"""`sheets-health` on a Google Sheet, as cron runs it: the real CLI, gspread, google-auth and
requests against the local Sheets API emulator, pointed there by SHEETS_HEALTH_API_URL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from sheets_health.backends import google_http
from sheets_health.cli import main
from sheets_health.errors import EXIT_ACCESS, EXIT_OK, EXIT_OUTAGE
from tests.emulator import (
    Fault,
    FaultKind,
    SheetsEmulator,
    make_service_account_key,
    write_key_file,
)
from tests.sheets import valid_tabs
from tests.test_google_backend import seed


@pytest.fixture
def google(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, str, Path]]:
    """A seeded spreadsheet, a key file, and a config that names neither URL nor secret."""
    monkeypatch.setattr(google_http.time, "sleep", lambda _seconds: None)  # fast backoff
    with SheetsEmulator() as emulator:
        key = make_service_account_key(emulator)
        write_key_file(tmp_path / "key.json", key)
        spreadsheet_id = seed(emulator, valid_tabs())
        config = tmp_path / "sheets-health.toml"
        config.write_text(
            "[sheet]\nbackend = \"google\"\n"
            f"spreadsheet = \"https://docs.google.com/spreadsheets/d/{spreadsheet_id}/edit\"\n"
            "credentials = \"key.json\"\ntimeout = 5\n",
            encoding="utf-8",
        )
        monkeypatch.setenv("SHEETS_HEALTH_API_URL", emulator.url)
        yield emulator, spreadsheet_id, config


def scores(emulator: Any, spreadsheet_id: str) -> dict[str, Any]:
    rows = emulator.values(spreadsheet_id, "Customers", render="UNFORMATTED_VALUE")
    col = rows[0].index("Health score")
    return {r[0]: r[col] for r in rows[1:]}


def test_sync_on_a_google_sheet_in_three_requests(google: tuple[Any, str, Path]) -> None:
    emulator, spreadsheet_id, config = google
    result = CliRunner().invoke(main, ["--config", str(config), "--json", "sync"])
    assert result.exit_code == EXIT_OK, result.output
    report = json.loads(result.stdout)
    assert report["by_health"] == {"Green": 1, "Yellow": 1, "Red": 1}
    assert scores(emulator, spreadsheet_id) == {"C001": 100, "C002": 27, "00123": 65}
    calls = [(str(r.method_id), r.status) for r in emulator.api_requests()]
    # a sheet from before bookmarks, Alerts and the Summary: no bookmarks yet (400, once),
    # no Alerts tab (400), the tab titles, the read, the Sync-log claim, the write
    get, write = "sheets.spreadsheets.get", "sheets.spreadsheets.batchUpdate"
    assert calls == [(get, 400), (get, 400), (get, 200), (get, 200), (write, 200), (write, 200)]
    assert [w for w in report["warnings"] if w.startswith("no Alerts")] == [
        "no Alerts and no Summary tab: run `sheets-health init` to add them (until then each "
        "sync's read costs two more requests, as the sheet has no tab of that name)"]
    assert CliRunner().invoke(main, ["--config", str(config), "init"]).exit_code == EXIT_OK
    for _run in range(2):  # from then on: the read, the claim, one write (Summary inside it)
        emulator.reset()
        again = CliRunner().invoke(main, ["--config", str(config), "--json", "sync"])
        assert again.exit_code == EXIT_OK, again.output
        assert [str(r.method_id) for r in emulator.api_requests()] == [get, write, write]


# requests 1-3 are the first sync's 400s and titles, request 4 the whole read, 5 the Sync-log
# claim, 6 the write
@pytest.mark.parametrize("before_request", [4, 5, 6],
                         ids=["before-read", "before-claim", "before-write"])
def test_a_person_sorting_during_the_sync_gets_no_wrong_score(
        google: tuple[Any, str, Path], before_request: int) -> None:
    emulator, spreadsheet_id, config = google
    # someone sorts Customers by name, descending, after the read or even after the re-check
    emulator.on_request(before_request, lambda emu, _r: emu.sort_rows(
        spreadsheet_id, "Customers", "Customer", descending=True))
    result = CliRunner().invoke(main, ["--config", str(config), "sync"])
    assert result.exit_code == EXIT_OK, result.output
    rows = emulator.values(spreadsheet_id, "Customers", render="UNFORMATTED_VALUE")
    assert [r[0] for r in rows[1:]] == ["00123", "C002", "C001"]  # the sort stuck
    # nothing to repair: Customers shows the outputs by lookup on the Customer ID
    assert "note: " not in result.stdout
    assert scores(emulator, spreadsheet_id) == {"C001": 100, "C002": 27, "00123": 65}


def test_a_sheet_not_shared_exits_4_naming_the_account(google: tuple[Any, str, Path]) -> None:
    emulator, spreadsheet_id, config = google
    emulator.unshare_all(spreadsheet_id)
    result = CliRunner().invoke(main, ["--config", str(config), "sync"])
    assert result.exit_code == EXIT_ACCESS
    email = json.loads((config.parent / "key.json").read_text())["client_email"]
    assert email in result.stderr
    # the sync's read is denied and never retried; so is the one read of the error-row attempt
    calls = [str(r.method_id) for r in emulator.api_requests()]
    assert calls == ["sheets.spreadsheets.get", "sheets.spreadsheets.get"]


def test_an_outage_exits_3_and_writes_nothing(google: tuple[Any, str, Path]) -> None:
    emulator, spreadsheet_id, config = google
    before = emulator.values(spreadsheet_id, "Customers", render="UNFORMATTED_VALUE")
    emulator.faults.add(Fault(FaultKind.UNAVAILABLE, times=100))
    result = CliRunner().invoke(main, ["--config", str(config), "sync"])
    assert result.exit_code == EXIT_OUTAGE
    assert result.stderr.startswith("Error: ")
    assert len(emulator.api_requests()) == 5  # bounded retries, then give up
    emulator.faults.clear()
    assert emulator.values(spreadsheet_id, "Customers", render="UNFORMATTED_VALUE") == before
