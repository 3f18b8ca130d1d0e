"""A sheet `init` made, synced on Google: one read and one write from the very first sync (the
tool's bookmarks exist from `init` on, the Summary goes inside the write)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from sheets_health import commands
from sheets_health.cli import main
from tests.emulator import SheetsEmulator, make_service_account_key, write_key_file

GET, WRITE = "sheets.spreadsheets.get", "sheets.spreadsheets.batchUpdate"


@pytest.fixture
def fresh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, str, Path]]:
    """An empty spreadsheet shared with the service account, and a config naming it."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    with SheetsEmulator() as emulator:
        write_key_file(tmp_path / "key.json", make_service_account_key(emulator))
        sid = emulator.create_spreadsheet("Health", {"Sheet1": []})
        config = tmp_path / "sheets-health.toml"
        config.write_text(f'[sheet]\nbackend = "google"\nspreadsheet = "{sid}"\n'
                          f'credentials = "key.json"\napi_url = "{emulator.url}"\n'
                          "timeout = 30\n", encoding="utf-8")
        yield emulator, sid, config


def _run(config: Path, *args: str) -> dict[str, Any]:
    result = CliRunner().invoke(main, ["--config", str(config), "--json", *args])
    assert result.exit_code == 0, result.output
    report: dict[str, Any] = json.loads(result.stdout)
    return report


def test_a_sheet_made_by_init_syncs_in_one_read_the_claim_and_one_write(
        fresh: tuple[Any, str, Path]) -> None:
    emulator, sid, config = fresh
    _run(config, "init")
    named = {n["name"] for n in emulator.spreadsheet(sid).named_ranges}
    assert named == {"sheets_health_history_latest", "sheets_health_history_day",
                     "sheets_health_history_trend", "sheets_health_history_head",
                     "sheets_health_sync_log_tail", "sheets_health_snapshots_latest",
                     "sheets_health_snapshots_day"}
    for row, (cid, name, csm) in enumerate([("C001", "Acme", 9), ("C002", "Globex", 2)], 2):
        emulator.set_value(sid, "Customers", f"A{row}", cid)
        emulator.set_value(sid, "Customers", f"B{row}", name)
        emulator.set_value(sid, "Customers", f"N{row}", csm)  # the template's CSM score
    days = [dt.datetime(2026, 6, 1, 9), dt.datetime(2026, 6, 1, 10), dt.datetime(2026, 6, 2, 9)]
    for when in days:
        emulator.reset()
        commands.sync(config, now=when)  # what `sheets-health sync` runs, at a fixed instant
        calls = [(str(r.method_id), r.status) for r in emulator.api_requests()]
        # the read, the Sync-log claim (one run at a time), the write: no 400, no re-check
        assert calls == [(GET, 200), (WRITE, 200), (WRITE, 200)], when
    history = emulator.values(sid, "History", render="UNFORMATTED_VALUE")[1:]
    assert sorted((r[0], r[1]) for r in history) == sorted(
        (day, cid) for day in {r[0] for r in history} for cid in ("C001", "C002"))
    assert len(history) == 4  # two days, two customers: the same-day sync replaced its rows
    summary = emulator.values(sid, "Summary", render="UNFORMATTED_VALUE")
    assert summary[0][0] == "Customer health summary"  # written inside the sync's one write
