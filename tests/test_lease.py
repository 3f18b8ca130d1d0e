"""The lease on a Google Sheet: one sync at a time across machines, through the real CLI and
gspread stack against the emulator (`sheets_health.backends.google_lease`). The race between
two machines itself is in `tests/test_sync_flow.py` and the fault matrix."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from sheets_health.backends import google as google_backend
from sheets_health.backends import google_lease
from sheets_health.cli import main
from sheets_health.errors import EXIT_LOCKED
from sheets_health.template import SYNC_LOG_HEADERS
from tests.emulator import SheetsEmulator
from tests.test_bounded_history import DAY0, Sheet, make_sheet

HOLDER = "cs-sync@acme.iam.gserviceaccount.com on ci-runner (pid 77)"


@pytest.fixture
def emulator(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[SheetsEmulator]:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    with SheetsEmulator() as emu:
        yield emu


def claim_row(run_id: str, until: dt.datetime) -> list[Any]:
    row: dict[str, Any] = {"Run at": "", "Mode": "sync", "Result": f"running {run_id}",
                           "Message": google_lease.claim_message(HOLDER, until),
                           "Run id": run_id}
    return [row.get(h, "") for h in SYNC_LOG_HEADERS]


def put_claim(sheet: Sheet, run_id: str, until: dt.datetime) -> int:
    """Another machine's claim, as its sync left it, below the last row of the Sync log."""
    rows = sheet.values("Sync log")
    for col, value in enumerate(claim_row(run_id, until)):
        if value != "":
            sheet.emulator.set_value(sheet.sid, "Sync log", f"{chr(65 + col)}{len(rows) + 1}",
                                     value)
    return len(rows) + 1


def log_rows(sheet: Sheet) -> list[dict[str, Any]]:
    rows = sheet.values("Sync log")
    return [dict(zip(rows[0], r, strict=False)) for r in rows[1:] if any(r)]


def history_rows(sheet: Sheet) -> int:
    return sum(1 for r in sheet.values("History")[1:] if any(r))


def test_a_live_claim_from_another_machine_stops_the_cli_with_exit_6(
        emulator: SheetsEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sheet = make_sheet(emulator, tmp_path, 10)
    sheet.sync(DAY0)
    until = (dt.datetime.now(dt.UTC) + dt.timedelta(minutes=10)).replace(
        tzinfo=None, microsecond=0)
    put_claim(sheet, "0badc0de", until)
    before = {tab: sheet.values(tab) for tab in ("Customers", "History", "Sync log", "Scores")}
    config = tmp_path / "sheets-health.toml"
    config.write_text(f'[sheet]\nbackend = "google"\nspreadsheet = "{sheet.sid}"\n'
                      f'credentials = "{sheet.config.sheet.credentials}"\n', encoding="utf-8")
    monkeypatch.setenv("SHEETS_HEALTH_API_URL", emulator.url)
    emulator.reset()
    result = CliRunner().invoke(main, ["--config", str(config), "sync"])
    assert result.exit_code == EXIT_LOCKED, result.output
    assert (f"{HOLDER} (run 0badc0de) holds this sheet until {until:%Y-%m-%d %H:%M:%S} UTC; "
            "this run did nothing") in result.stderr
    assert "the next scheduled run catches up" in result.stderr
    # the sheet is as it was, and the claim was seen in the read: no claim of its own sent
    assert {tab: sheet.values(tab) for tab in before} == before
    assert [str(r.method_id) for r in emulator.api_requests()] == ["sheets.spreadsheets.get"]


def test_an_expired_claim_is_taken_over_and_marked(
        emulator: SheetsEmulator, tmp_path: Path) -> None:
    """A run that crashed after claiming blocks the sheet only until its lease runs out."""
    sheet = make_sheet(emulator, tmp_path, 10)
    sheet.sync(DAY0)
    when = DAY0 + dt.timedelta(days=1)
    stale = (when - dt.timedelta(days=1)).replace(microsecond=0)  # naive UTC, long past
    row = put_claim(sheet, "5ca1ab1e", stale)
    sheet.sync(when)
    logged = log_rows(sheet)
    crashed = logged[row - 2]
    assert crashed["Result"] == "expired"
    assert crashed["Message"].startswith("stopped without finishing; its lock ran out at ")
    assert [r["Result"] for r in logged] == ["ok", "expired", "ok"]
    assert logged[-1]["Run id"] and logged[-1]["Run id"] != "5ca1ab1e"
    assert history_rows(sheet) == 20


def test_a_claim_whose_run_finished_blocks_nothing(
        emulator: SheetsEmulator, tmp_path: Path) -> None:
    """A copy of a finished run's claim (its resend landed late) is not a lock."""
    sheet = make_sheet(emulator, tmp_path, 10)
    sheet.sync(DAY0)
    finished = log_rows(sheet)[-1]["Run id"]
    far = (DAY0 + dt.timedelta(days=30)).replace(microsecond=0)
    put_claim(sheet, finished, far)
    sheet.sync(DAY0 + dt.timedelta(days=1))
    assert [r["Result"] for r in log_rows(sheet)] == ["ok", "duplicate", "ok"]


def test_the_final_row_replaces_the_claim_and_a_long_write_renews_it(
        emulator: SheetsEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A write split into several batches renews the lease between them once half of it has
    gone (here: at once, the lease being made zero seconds long)."""
    sheet = make_sheet(emulator, tmp_path, 30)
    sheet.sync(DAY0)
    monkeypatch.setattr(google_backend, "MAX_PAYLOAD", 2_000)
    monkeypatch.setattr(google_lease, "LEASE", dt.timedelta(0))
    sheet.sync(DAY0 + dt.timedelta(days=1))
    kinds = [r.kind for r in sheet.runs[-1]]
    assert kinds.count("write") > 1 and "lease-renew" in kinds
    assert kinds.index("lease") < kinds.index("write")
    assert [r["Result"] for r in log_rows(sheet)] == ["ok", "ok"]
    assert history_rows(sheet) == 60


def test_a_run_that_lost_and_did_nothing_does_not_make_the_next_one_give_up(
        emulator: SheetsEmulator, tmp_path: Path) -> None:
    """A `locked` row (a run that lost its claim and wrote nothing else) landing between this
    run's read and its claim is no reason to stop: the data this run read is still current."""
    sheet = make_sheet(emulator, tmp_path, 10)
    sheet.sync(DAY0)
    loser = claim_row("0ddba11e", DAY0)
    loser[SYNC_LOG_HEADERS.index("Result")] = google_lease.LOCKED
    loser[SYNC_LOG_HEADERS.index("Message")] = f"did nothing: {HOLDER} (run 5eed5eed) holds …"

    def lost_meanwhile(emu: SheetsEmulator, _request: Any) -> None:
        rows = sheet.values("Sync log")
        for col, value in enumerate(loser):
            if value != "":
                emu.set_value(sheet.sid, "Sync log", f"{chr(65 + col)}{len(rows) + 1}", value)

    emulator.reset()
    emulator.on_request(2, lost_meanwhile)  # after this run's read, before its claim
    report = sheet.sync(DAY0 + dt.timedelta(days=1))
    assert report.result is not None and report.result.cells_written > 0
    assert [r["Result"] for r in log_rows(sheet)] == ["ok", "locked", "ok"]
    assert history_rows(sheet) == 20
