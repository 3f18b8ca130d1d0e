"""Contract: what a sync records beside the scores, on every backend — the customers whose
colour changed, and an `error` row in the Sync log when a run fails (never on a dry run, never
when another run holds the lock), which the shrink check then ignores."""

from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path

import pytest

from sheets_health import sync
from sheets_health.config import Config, config_from_dict
from sheets_health.errors import (
    ContractError,
    LockedError,
    SourceUnavailableError,
    UnsafeInputError,
)
from sheets_health.lock import sheet_lock
from sheets_health.model import CellValue
from sheets_health.sync import run_sync
from tests.sheets import valid_tabs

from .conftest import Make
from .factories import BackendUnderTest, Tabs

NOW = dt.datetime(2026, 11, 22, 9, 30)
CSM_SCORE = 7  # the column of `CSM score` in tests.sheets' Customers


def _config(tmp_path: Path, extra: str = "") -> Config:
    """The backend is passed in; the config names the sheet for the lock only."""
    raw = tomllib.loads(f'[sheet]\nbackend = "xlsx"\npath = "sheet.xlsx"\n{extra}')
    return config_from_dict(raw, tmp_path)


def _log(sheet: BackendUnderTest) -> list[dict[str, CellValue]]:
    grid = sheet.cells("Sync log")
    return [dict(zip(grid[0], row, strict=False)) for row in grid[1:]]  # type: ignore[arg-type]


def _with_customers(count: int, bad: bool = False) -> Tabs:
    tabs = valid_tabs()
    for i in range(count - 3):
        tabs["Customers"].append([f"X{i:02}", "x", "", None, None, None, None, 5, "none"])
    if bad:
        tabs["Customers"][-1][CSM_SCORE] = "lots"  # not a number
    return tabs


def test_a_sync_lists_the_customers_whose_colour_changed(backend_factory: Make,
                                                          tmp_path: Path) -> None:
    sheet = backend_factory(valid_tabs())
    config = _config(tmp_path)
    assert run_sync(config, backend=sheet.backend, now=NOW).changes == ()  # first scores
    grid = sheet.cells("Customers")
    grid[2][CSM_SCORE] = 8  # Globex: Red 27 → Yellow 53
    grid[3][CSM_SCORE] = 10  # Initech: Yellow 65 → Green 85
    sheet.edit("Customers", grid)
    dry = run_sync(config, backend=sheet.backend, now=NOW, dry_run=True)
    report = run_sync(config, backend=sheet.backend, now=NOW)
    assert dry.changes == report.changes
    assert [str(c) for c in report.changes] == [
        "C002 Red → Yellow (27 → 53): Exec sponsor single-threaded (target exec sponsor) −47 pts",
        "00123 Yellow → Green (65 → 85): CSM score 10 (target ≥ 8) +50 pts",
    ]
    assert run_sync(config, backend=sheet.backend, now=NOW).changes == ()


def test_bad_input_leaves_an_error_row_and_nothing_else(backend_factory: Make,
                                                         tmp_path: Path) -> None:
    tabs = valid_tabs()
    tabs["Customers"][1][CSM_SCORE] = "lots"
    sheet = backend_factory(tabs)
    before = {tab: sheet.cells(tab) for tab in ("Customers", "History", "Scorecard")}
    with pytest.raises(ContractError) as raised:
        run_sync(_config(tmp_path), backend=sheet.backend, now=NOW)
    assert raised.value.problems[0].column == "CSM score"  # the original error, unchanged
    assert {tab: sheet.cells(tab) for tab in before} == before
    [row] = _log(sheet)
    assert (row["Run at"], row["Mode"], row["Result"], row["Exit code"]) == (
        NOW, "sync", "error", 2)
    assert str(row["Message"]).startswith("Found 1 problem in the input; no score was written:")
    assert "tab 'Customers', row 2, column 'CSM score'" in str(row["Message"])
    assert row["Customers"] is None  # an error row carries no counts


def test_a_failed_dry_run_writes_nothing(backend_factory: Make, tmp_path: Path) -> None:
    tabs = valid_tabs()
    tabs["Customers"][1][CSM_SCORE] = "lots"
    sheet = backend_factory(tabs)
    with pytest.raises(ContractError):
        run_sync(_config(tmp_path), backend=sheet.backend, now=NOW, dry_run=True)
    assert sheet.cells("Sync log") == [tabs["Sync log"][0]]


def test_a_held_lock_leaves_no_error_row(backend_factory: Make, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    sheet = backend_factory(valid_tabs())
    config = _config(tmp_path)
    with sheet_lock(config), pytest.raises(LockedError):
        run_sync(config, backend=sheet.backend, now=NOW)
    assert _log(sheet) == []


def test_an_error_row_after_an_ok_row_does_not_disable_the_shrink_check(
        backend_factory: Make, tmp_path: Path) -> None:
    sheet = backend_factory(_with_customers(8))
    config = _config(tmp_path)
    run_sync(config, backend=sheet.backend, now=NOW)
    grid = sheet.cells("Customers")
    grid[-1][CSM_SCORE] = "lots"
    sheet.edit("Customers", grid)
    with pytest.raises(ContractError):
        run_sync(config, backend=sheet.backend, now=NOW)
    sheet.edit("Customers", grid[:3])  # a filter-and-delete accident: 2 customers left
    with pytest.raises(UnsafeInputError, match="has 2 customers but the last sync saw 8"):
        run_sync(config, backend=sheet.backend, now=NOW)
    assert [(r["Result"], r["Exit code"], r["Customers"]) for r in _log(sheet)] == [
        ("ok", 0, 8), ("error", 2, None), ("error", 5, None)]


def test_an_error_row_does_not_trigger_the_shrink_check(backend_factory: Make,
                                                        tmp_path: Path) -> None:
    sheet = backend_factory(_with_customers(3))
    config = _config(tmp_path)
    run_sync(config, backend=sheet.backend, now=NOW)
    pasted = _with_customers(20, bad=True)["Customers"]  # 17 pasted rows, one of them bad
    grid = sheet.cells("Customers")
    sheet.edit("Customers", [*grid, *(row + [None] * 6 for row in pasted[4:])])
    with pytest.raises(ContractError):
        run_sync(config, backend=sheet.backend, now=NOW)
    sheet.edit("Customers", grid)  # the paste undone: 3 customers, as the last ok run saw
    report = run_sync(config, backend=sheet.backend, now=NOW)
    assert report.customers == 3
    assert [r["Result"] for r in _log(sheet)] == ["ok", "error", "ok"]


def test_an_internal_error_is_logged_as_exit_1_without_secrets(
        backend_factory: Make, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sheet = backend_factory(valid_tabs())

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("lost postgresql://cs:hunter22@db/warehouse?password=hunter33")

    monkeypatch.setattr(sync, "score_customers", broken)
    with pytest.raises(RuntimeError, match="hunter22"):  # the original, for --debug
        run_sync(_config(tmp_path), backend=sheet.backend, now=NOW)
    [row] = _log(sheet)
    assert (row["Result"], row["Exit code"]) == ("error", 1)
    assert row["Message"] == ("internal error: RuntimeError: lost postgresql://cs:***@db/"
                              "warehouse?password=*** (rerun with --debug)")


def test_a_source_outage_is_logged_as_exit_3_without_the_password(
        backend_factory: Make, tmp_path: Path) -> None:
    tabs = valid_tabs()
    tabs["Scorecard"].append(["Open tickets", "Support", "linear", 5, 0, 1, 1, "Triage"])
    sheet = backend_factory(tabs)
    config = _config(tmp_path, """
[sources.warehouse]
kind = "sql"
url = "postgresql+psycopg://cs:hunter22@127.0.0.1:9/warehouse?connect_timeout=2"
table = "tickets"
id_column = "customer_id"

[metrics."Open tickets"]
source = "warehouse"
column = "open"
""")
    with pytest.raises(SourceUnavailableError):
        run_sync(config, backend=sheet.backend, now=NOW)
    [row] = _log(sheet)
    assert (row["Result"], row["Exit code"]) == ("error", 3)
    assert str(row["Message"]).startswith(
        "source 'warehouse' (postgresql+psycopg://cs:***@127.0.0.1:9/warehouse?connect_timeout=2)"
        ": cannot connect: ")
    assert "hunter22" not in str(row["Message"])
