"""Contract: a run that would recolour more than `Max colour changes` of the customers is
refused on every backend (a broken source looks like that), and `--force` lets it through."""

from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path

import pytest

from sheets_health.cells import Percent
from sheets_health.config import Config, config_from_dict
from sheets_health.errors import ContractError, UnsafeInputError
from sheets_health.sync import run_sync
from tests.sheets import valid_tabs

from .conftest import Make
from .factories import BackendUnderTest, Tabs

NOW = dt.datetime(2026, 11, 22, 9, 30)
CSM_SCORE = 7  # the column of `CSM score` in tests.sheets' Customers
EXTRA = 10  # customers X00…X09, all Red (CSM score 5, no sponsor: 20 points)


def _config(tmp_path: Path) -> Config:
    raw = tomllib.loads('[sheet]\nbackend = "xlsx"\npath = "sheet.xlsx"\n')
    return config_from_dict(raw, tmp_path)


def _tabs(limit: object = None) -> Tabs:
    tabs = valid_tabs()
    for i in range(EXTRA):
        tabs["Customers"].append([f"X{i:02}", "x", "", None, None, None, None, 5, "none"])
    if limit is not None:
        tabs["Settings"].append(["Max colour changes", limit])
    return tabs


def _scored(backend_factory: Make, tmp_path: Path, limit: object = None) -> BackendUnderTest:
    sheet = backend_factory(_tabs(limit))
    run_sync(_config(tmp_path), backend=sheet.backend, now=NOW)  # 13 customers get a colour
    return sheet


def _recolour(sheet: BackendUnderTest, count: int) -> None:
    """A CSM score of 10 turns X00… from Red (20) to Yellow (50)."""
    grid = sheet.cells("Customers")
    for row in grid[4:4 + count]:
        row[CSM_SCORE] = 10
    sheet.edit("Customers", grid)


def _state(sheet: BackendUnderTest) -> dict[str, object]:
    return {"customers": sheet.cells("Customers"), "history": sheet.cells("History"),
            "fill": sheet.fill("Customers", 5, sheet.cells("Customers")[0].index("Health"))}


def test_more_than_half_changing_colour_is_refused_and_nothing_is_written(
        backend_factory: Make, tmp_path: Path) -> None:
    sheet = _scored(backend_factory, tmp_path)
    _recolour(sheet, 7)  # 7 of 13 coloured customers: 54 %
    before = _state(sheet)
    with pytest.raises(UnsafeInputError) as raised:
        run_sync(_config(tmp_path), backend=sheet.backend, now=NOW)
    assert raised.value.exit_code == 5
    assert raised.value.message.startswith(
        "7 of 13 customers (54%) would change colour in this run, more than 'Max colour "
        "changes' (50%) allows; nothing was written. For example: X00 Red → Yellow (20 → 50)")
    assert raised.value.message.endswith(" and 4 more")
    assert raised.value.hint is not None and "a broken source looks like this" in \
        raised.value.hint and "--force" in raised.value.hint
    assert _state(sheet) == before
    log = sheet.cells("Sync log")
    assert [row[6] for row in log[1:]] == ["ok", "error"]  # the refusal is recorded


def test_force_writes_the_changes(backend_factory: Make, tmp_path: Path) -> None:
    sheet = _scored(backend_factory, tmp_path)
    _recolour(sheet, 7)
    report = run_sync(_config(tmp_path), backend=sheet.backend, now=NOW, force=True)
    assert len(report.changes) == 7
    health = sheet.cells("Customers")[0].index("Health")
    assert [row[health] for row in sheet.cells("Customers")[4:]] == ["Yellow"] * 7 + ["Red"] * 3


def test_exactly_half_or_less_goes_through(backend_factory: Make, tmp_path: Path) -> None:
    sheet = _scored(backend_factory, tmp_path)
    _recolour(sheet, 6)  # 6 of 13: 46 %
    assert len(run_sync(_config(tmp_path), backend=sheet.backend, now=NOW).changes) == 6


def test_the_share_is_a_setting(backend_factory: Make, tmp_path: Path) -> None:
    sheet = _scored(backend_factory, tmp_path, Percent(0.8))
    _recolour(sheet, 10)  # 10 of 13: 77 %, under 80 %
    assert len(run_sync(_config(tmp_path), backend=sheet.backend, now=NOW).changes) == 10


def test_a_stricter_share_refuses_fewer_changes(backend_factory: Make, tmp_path: Path) -> None:
    sheet = _scored(backend_factory, tmp_path, Percent(0.3))
    _recolour(sheet, 5)  # 5 of 13: 38 %
    with pytest.raises(UnsafeInputError, match=r"5 of 13 customers \(38%\).*\(30%\) allows"):
        run_sync(_config(tmp_path), backend=sheet.backend, now=NOW)


def test_small_changes_never_trip_it(backend_factory: Make, tmp_path: Path) -> None:
    """Under five changes is a plausible week even when it is most of a small sheet."""
    sheet = _scored(backend_factory, tmp_path, Percent(0.1))
    _recolour(sheet, 4)
    assert len(run_sync(_config(tmp_path), backend=sheet.backend, now=NOW).changes) == 4


def test_first_scores_are_not_colour_changes(backend_factory: Make, tmp_path: Path) -> None:
    """A first sync colours every customer; only customers that had a colour count."""
    sheet = backend_factory(_tabs(Percent(0.1)))
    report = run_sync(_config(tmp_path), backend=sheet.backend, now=NOW)
    assert report.changes == () and report.scored == 13


def test_a_share_out_of_range_is_bad_input(backend_factory: Make, tmp_path: Path) -> None:
    sheet = backend_factory(_tabs(Percent(1.5)))
    with pytest.raises(ContractError) as raised:
        run_sync(_config(tmp_path), backend=sheet.backend, now=NOW)
    [problem] = raised.value.problems
    assert (problem.tab, problem.row, problem.column) == ("Settings", 4, "Value")
    assert problem.message == "150% is outside 0%–100%" and problem.fix == "a share such as 50%"
