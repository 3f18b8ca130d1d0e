"""Measure snapshots: every sync records each active customer's raw values and sub-scores,
one row per customer per day (a later sync the same day replaces it), in the Snapshots tab or
a `[history]` SQL database — and the sync never reads them back."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

import tests.contract.factories  # noqa: F401  (loads google_factory without an import cycle)
from sheets_health.config import load_config
from sheets_health.snapshot_store import TABLE, SnapshotStore
from sheets_health.snapshots import parse_measures
from sheets_health.sync import run_sync
from sheets_health.template import SNAPSHOT_HEADERS
from tests.contract.factories import XlsxUnderTest
from tests.emulator import SheetsEmulator
from tests.pg import pg_schema, pg_url
from tests.sheets import column, valid_tabs, write_sheet
from tests.test_bounded_history import STEADY, make_sheet

DAY = dt.datetime(2026, 6, 15, 9, 0)


def _tabs_with_snapshots() -> dict[str, list[list[Any]]]:
    tabs: dict[str, list[list[Any]]] = valid_tabs()  # type: ignore[assignment]
    tabs["Snapshots"] = [list(SNAPSHOT_HEADERS)]
    tabs["Customers"][0].append("Status")
    for row, status in zip(tabs["Customers"][1:], ["active", "active", "churned"],
                           strict=True):
        row.append(status)
    return tabs


def _rows(workbook: Path) -> list[dict[str, Any]]:
    grid = XlsxUnderTest(workbook).cells("Snapshots")
    return [dict(zip(grid[0], r, strict=False)) for r in grid[1:] if any(r)]


def _set(workbook: Path, tab: str, cid: str, header: str, value: object) -> None:
    import openpyxl

    wb = openpyxl.load_workbook(workbook)
    ws = wb[tab]
    headers = [c.value for c in ws[1]]
    for row in ws.iter_rows(min_row=2):
        if row[0].value == cid:
            row[headers.index(header)].value = value
    wb.save(workbook)


def test_a_sync_records_raw_values_and_sub_scores_of_active_customers(tmp_path: Path) -> None:
    config = write_sheet(tmp_path, _tabs_with_snapshots())
    report = run_sync(load_config(config), now=DAY)
    rows = _rows(tmp_path / "sheet.xlsx")
    assert [(r["Customer ID"]) for r in rows] == ["C001", "C002"]  # 00123 churned: none
    assert report.snapshots == 2
    first = parse_measures(rows[0]["Measures"])
    # CSM score 9 on linear 3 → 8 is 100; Exec sponsor "exec sponsor" is 100 points
    assert first == {"CSM score": (9, 100.0), "Exec sponsor": ("exec sponsor", 100.0)}
    second = parse_measures(rows[1]["Measures"])
    assert second["CSM score"] == (4, 20.0)


def test_same_day_sync_rewrites_only_changed_rows_and_a_new_day_appends(tmp_path: Path) -> None:
    config = load_config(write_sheet(tmp_path, _tabs_with_snapshots()))
    workbook = tmp_path / "sheet.xlsx"
    run_sync(config, now=DAY)
    again = run_sync(config, now=DAY + dt.timedelta(hours=1))  # nothing changed
    assert again.snapshots == 0
    assert len(_rows(workbook)) == 2
    _set(workbook, "Customers", "C002", "CSM score", 6)
    later = run_sync(config, now=DAY + dt.timedelta(hours=2))
    assert later.snapshots == 1
    rows = _rows(workbook)
    assert len(rows) == 2  # replaced, not duplicated
    assert parse_measures(rows[1]["Measures"])["CSM score"] == (6, 60.0)
    run_sync(config, now=DAY + dt.timedelta(days=1))
    rows = _rows(workbook)
    assert [(str(r["Date"])[:10], r["Customer ID"]) for r in rows] == [
        ("2026-06-15", "C001"), ("2026-06-15", "C002"),
        ("2026-06-16", "C001"), ("2026-06-16", "C002")]


def test_an_older_sheet_gets_its_snapshots_tab_from_the_first_sync(tmp_path: Path) -> None:
    tabs = valid_tabs()
    del tabs["Snapshots"]  # a sheet made before snapshots existed
    config = load_config(write_sheet(tmp_path, tabs))
    report = run_sync(config, now=DAY)
    assert any("added the Snapshots tab" in w for w in report.warnings)
    assert report.snapshots == 0
    workbook = tmp_path / "sheet.xlsx"
    assert _rows(workbook) == []
    later = run_sync(config, now=DAY + dt.timedelta(hours=1))
    assert later.snapshots == 3 and len(_rows(workbook)) == 3
    assert not any("Snapshots" in w for w in later.warnings)


# ----------------------------------------------------------------------------- Google


@pytest.fixture
def emulator(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    with SheetsEmulator() as emu:
        yield emu


DAYS = 35


def test_on_google_the_sync_never_reads_the_measures_it_wrote(emulator: SheetsEmulator,
                                                               tmp_path: Path) -> None:
    """Thirty-five days of snapshots (past the 30-day trend window, so History's bookmarks
    read what they read every day from now on): each sync asks for Snapshots only by its
    header row and bookmarks (today's keys and fingerprints), never the Measures cells, in
    the same one read and write as before."""
    sheet = make_sheet(emulator, tmp_path, 40)
    for day in range(DAYS):
        sheet.sync(DAY + dt.timedelta(days=day))
    sheet.sync(DAY + dt.timedelta(days=DAYS))
    assert sheet.requests() == STEADY
    ranges = [r.query.get("ranges", []) for r in emulator.api_requests()
              if r.query.get("includeGridData")]
    last_read = ranges[-2]
    assert "'Snapshots'!1:1" in last_read
    assert not [r for r in last_read if r.startswith("'Snapshots'!") and r != "'Snapshots'!1:1"]
    assert {"sheets_health_snapshots_latest", "sheets_health_snapshots_day"} <= set(last_read)
    values = sheet.values("Snapshots")
    assert len(values) == 1 + (DAYS + 1) * 40
    again = sheet.received()
    sheet.sync(DAY + dt.timedelta(days=DAYS, hours=1))  # the same day, nothing changed
    assert sheet.requests() == STEADY  # only the Sync-log row is written, with no re-check
    # no more than the first sync of the day read, but for the day's row the Summary's
    # colour-mix table gained (that table keeps 90 days at most)
    assert sheet.received() <= again + 1_000
    assert len(sheet.values("Snapshots")) == 1 + (DAYS + 1) * 40


# ----------------------------------------------------------------------------- SQL


def _sql_sync(tmp_path: Path, url: str) -> Path:
    tabs = _tabs_with_snapshots()
    del tabs["Snapshots"]
    return write_sheet(tmp_path, tabs, f'[history]\nurl = "{url}"\n')


def _stored(url: str) -> list[tuple[Any, ...]]:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(sa.text(
            f"SELECT day, customer_id, measure, raw_number, raw_text, sub_score FROM {TABLE} "
            "ORDER BY day, customer_id, measure")).all()
    engine.dispose()
    # SQLite hands a raw-text SELECT's dates back as text
    return [(str(r[0])[:10], *r[1:]) for r in rows]


def _check_sql_store(tmp_path: Path, url: str) -> None:
    config = load_config(_sql_sync(tmp_path, url))
    workbook = tmp_path / "sheet.xlsx"
    report = run_sync(config, now=DAY)
    assert report.snapshots == 2 and not report.warnings
    assert _stored(url) == [
        ("2026-06-15", "C001", "CSM score", 9.0, None, 100.0),
        ("2026-06-15", "C001", "Exec sponsor", None, "exec sponsor", 100.0),
        ("2026-06-15", "C002", "CSM score", 4.0, None, 20.0),
        ("2026-06-15", "C002", "Exec sponsor", None, "single-threaded", 30.0)]
    _set(workbook, "Customers", "C002", "CSM score", 6)
    run_sync(config, now=DAY + dt.timedelta(hours=3))  # same day: replaced
    rows = _stored(url)
    assert len(rows) == 4 and rows[2][3:] == (6.0, None, 60.0)
    run_sync(config, now=DAY + dt.timedelta(days=1))
    assert len(_stored(url)) == 8
    chunks = list(SnapshotStore(url).chunks(["CSM score", "Exec sponsor"], customers=1))
    assert [len(c) for c in chunks] == [2, 2]  # one customer per chunk, two days each
    assert chunks[1]["raw:CSM score"].tolist() == [6.0, 6.0]
    assert chunks[1]["sub:Exec sponsor"].tolist() == [30.0, 30.0]


def test_snapshots_go_to_a_sqlite_history_database(tmp_path: Path) -> None:
    _check_sql_store(tmp_path, f"sqlite:///{tmp_path / 'history.db'}")


@pytest.mark.postgres
def test_snapshots_go_to_a_postgresql_history_database(tmp_path: Path) -> None:
    url = pg_url()
    with pg_schema(url) as schema:
        glue = "&" if "?" in url else "?"
        _check_sql_store(tmp_path, f"{url}{glue}options=-csearch_path%3D{schema}")


def test_a_history_database_that_is_down_is_an_outage(tmp_path: Path) -> None:
    from sheets_health.errors import EXIT_OUTAGE, SheetsHealthError

    missing = tmp_path / "no-such-folder" / "history.db"
    config = load_config(_sql_sync(tmp_path, f"sqlite:///{missing}"))
    with pytest.raises(SheetsHealthError) as caught:
        run_sync(config, now=DAY)
    assert caught.value.exit_code == EXIT_OUTAGE
    assert "[history] database" in str(caught.value)


def test_measures_json_survives_a_renamed_measure(tmp_path: Path) -> None:
    """The layout does not depend on the Scorecard: a new measure only adds a key."""
    tabs = _tabs_with_snapshots()
    config = load_config(write_sheet(tmp_path, tabs))
    run_sync(config, now=DAY)
    tabs2 = _tabs_with_snapshots()
    tabs2["Scorecard"].append(["Tenure days", "Fit", "log", 0, 364, 0, 0, ""])
    del tabs2["Snapshots"]
    workbook = tmp_path / "sheet.xlsx"
    import openpyxl

    wb = openpyxl.load_workbook(workbook)
    ws = wb["Scorecard"]
    ws.append(tabs2["Scorecard"][-1])
    wb.save(workbook)
    run_sync(config, now=DAY + dt.timedelta(days=1))
    rows = _rows(workbook)
    assert list(json.loads(rows[0]["Measures"])) == ["CSM score", "Exec sponsor"]
    assert list(json.loads(rows[-1]["Measures"])) == ["CSM score", "Exec sponsor", "Tenure days"]
    assert column(tabs, "Customers", "Status") >= 0
