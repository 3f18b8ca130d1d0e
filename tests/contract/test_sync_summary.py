"""Contract: the Summary tab a sync writes, on every backend — its figures checked against the
Customers tab the way a lead would (a filter and a SUM), the renewals at risk, and a native
stacked-column chart of the colour mix that reads the tab's own day-by-day table."""

from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path

from sheets_health import template as T
from sheets_health.config import Config, config_from_dict
from sheets_health.model import CellValue
from sheets_health.sync import run_sync
from tests.sheets import valid_tabs

from .conftest import Make
from .factories import BackendUnderTest, Tabs

DAY1 = dt.datetime(2026, 11, 2, 9, 30)
CSM_SCORE = 7
Grid = list[list[CellValue]]


def _config(tmp_path: Path) -> Config:
    raw = tomllib.loads('[sheet]\nbackend = "xlsx"\npath = "sheet.xlsx"\n')
    return config_from_dict(raw, tmp_path)


def _tabs() -> Tabs:
    tabs = valid_tabs()
    tabs["Customers"][0] += ["CSM", "ARR", "Renewal date"]
    extra = [("Ana", 120_000, dt.date(2026, 12, 1)),  # Acme, Green
             ("Ben", 80_000, dt.date(2027, 1, 20)),  # Globex, Red, renews in 79 days
             ("Ana", 50_000, dt.date(2027, 6, 1))]  # Initech, Yellow, renews later
    for row, cells in zip(tabs["Customers"][1:], extra, strict=True):
        row += list(cells)
    tabs[T.SUMMARY] = []  # as `init` adds it, with the setting that turns it on
    tabs["Settings"].append(["Alert on", "worse"])
    return tabs


def section(grid: Grid, title: str) -> tuple[int, list[dict[str, CellValue]]]:
    """A section's 1-based header row and its rows as header → value (to the blank row),
    in whatever column it starts (the colour-mix table: column M)."""
    start, col = next((i, c) for i, r in enumerate(grid) for c, v in enumerate(r)
                      if str(v).startswith(title))
    headers = [str(h) for h in grid[start + 1][col:] if h is not None]
    rows = []
    for full in grid[start + 2:]:
        row = full[col:col + len(headers)]
        filled = sum(v is not None for v in row)
        if filled == 0 or (filled == 1 and len(headers) > 1):  # the blank row, or a note
            break
        rows.append(dict(zip(headers, row, strict=False)))
    return start + 2, rows


def _customers(sheet: BackendUnderTest) -> list[dict[str, CellValue]]:
    grid = sheet.cells("Customers")
    return [dict(zip(grid[0], r, strict=False)) for r in grid[1:]]  # type: ignore[arg-type]


def test_the_summary_figures_match_the_customers_tab_and_the_chart_reads_the_mix(
        backend_factory: Make, tmp_path: Path) -> None:
    sheet = backend_factory(_tabs())
    config = _config(tmp_path)
    run_sync(config, backend=sheet.backend, now=DAY1)
    grid = sheet.cells("Customers")
    grid[3][CSM_SCORE] = 3  # Initech: Yellow → Red the next day
    sheet.edit("Customers", grid)
    run_sync(config, backend=sheet.backend, now=DAY1 + dt.timedelta(days=1))
    run_sync(config, backend=sheet.backend, now=DAY1 + dt.timedelta(days=2))
    customers = _customers(sheet)
    summary = sheet.cells(T.SUMMARY)
    assert summary[0][:2] == ["Customer health summary", dt.date(2026, 11, 4)]

    _, by_colour = section(summary, "Health by colour")
    got = {r["Health"]: (r["Customers"], r["ARR"]) for r in by_colour}
    for label in ("Green", "Yellow", "Red"):  # a filter on Health and a SUM of ARR
        mine = [c for c in customers if c["Health"] == label]
        assert got[label] == (len(mine), sum(c["ARR"] for c in mine)), label  # type: ignore[misc]
    assert got["Total"] == (3, 250_000)
    assert got["ARR at risk (Red + Yellow)"] == (2, 130_000)

    _, renewals = section(summary, "Renewals in the next 90 days")
    assert [(r["Customer"], r["Health"], r["Days left"]) for r in renewals] == [
        ("Globex", "Red", 77)]
    assert str(renewals[0]["Reasons"]).startswith("Exec sponsor single-threaded")

    _, by_csm = section(summary, "By CSM")
    assert [(r["CSM"], r["Customers"], r["ARR at risk"]) for r in by_csm] == [
        ("Ben", 1, 80_000), ("Ana", 2, 50_000)]

    header_row, mix = section(summary, "Colour mix over time")
    assert summary[2][12] == "Colour mix over time"  # M3: beside the chart, right of the lists
    assert [(r["Date"], r["Green"], r["Yellow"], r["Red"]) for r in mix] == [
        (dt.date(2026, 11, 2), 1, 1, 1), (dt.date(2026, 11, 3), 1, 0, 2),
        (dt.date(2026, 11, 4), 1, 0, 2)]
    charts = sheet.charts(T.SUMMARY)
    assert len(charts) == 1  # rewritten, never piled up
    chart = charts[0]
    assert chart.kind == "stacked column" and chart.anchor_row == 3
    assert chart.categories == (12, header_row + 1, header_row + 3)
    names = [summary[top - 1][col] for top, col, _first, _last in chart.series]
    assert names == ["Green", "Yellow", "Red", "Not enough data"]
    assert {(first, last) for _t, _c, first, last in chart.series} == {
        (header_row + 1, header_row + 3)}
    assert sheet.fill(T.SUMMARY, header_row, 13) == "B7E1CD"  # the Green header, in green


def test_a_sheet_without_a_summary_tab_gets_none(backend_factory: Make, tmp_path: Path) -> None:
    tabs = _tabs()
    del tabs[T.SUMMARY]
    sheet = backend_factory(tabs)
    run_sync(_config(tmp_path), backend=sheet.backend, now=DAY1)
    assert T.SUMMARY not in sheet.tab_names()  # `sheets-health init` adds it
