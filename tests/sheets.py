"""Small valid sheets and config files the CLI and sync tests start from."""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path

from sheets_health.model import CellValue
from sheets_health.template import SNAPSHOT_HEADERS
from tests.contract.factories import Tabs, make_xlsx

CUSTOMER_HEADERS = ["Customer ID", "Customer", "Outcomes", "Start date", "Override",
                    "Override reason", "Override until", "CSM score", "Exec sponsor"]
SCORECARD_HEADERS = ["Measure", "Dimension", "Scoring", "Red at", "Green at", "Weight",
                     "Weight: Grow", "Action when red"]


def valid_tabs() -> Tabs:
    """Three customers, two measures, two scorecards: everything a sync needs, nothing more."""
    start = dt.date(2026, 1, 15)
    customers: list[list[CellValue]] = [
        list(CUSTOMER_HEADERS),
        ["C001", "Acme", "", start, None, None, None, 9, "exec sponsor"],
        ["C002", "Globex", "Grow", start, None, None, None, 4, "single-threaded"],
        ["00123", "Initech", "", start, None, None, None, 6, "multi-threaded"],
    ]
    scorecard: list[list[CellValue]] = [
        list(SCORECARD_HEADERS),
        ["CSM score", "CSM", "linear", 3, 8, 1, 1, "Ask the CSM for a plan"],
        ["Exec sponsor", "Relationship",
         "category: none=0, single-threaded=30, multi-threaded=70, exec sponsor=100",
         None, None, 1, 2, "Find an executive sponsor"],
    ]
    return {
        "Customers": customers,
        "Scorecard": scorecard,
        "Settings": [["Setting", "Value"], ["Green at or above", 70], ["Red below", 40]],
        "History": [["Date", "Customer ID", "Health score", "Health"]],
        "Sync log": [["Run at", "Mode", "Customers", "Scored", "Not enough data",
                      "Cells changed", "Result", "Message"]],
        "Snapshots": [list(SNAPSHOT_HEADERS)],
    }


def write_sheet(tmp_path: Path, tabs: Tabs | None = None, extra_config: str = "") -> Path:
    """Write the workbook and a config next to it; returns the config path."""
    under_test = make_xlsx(tmp_path, copy.deepcopy(tabs if tabs is not None else valid_tabs()))
    config = tmp_path / "sheets-health.toml"
    config.write_text(
        f'[sheet]\nbackend = "xlsx"\npath = "{under_test.path.name}"\n{extra_config}',
        encoding="utf-8",
    )
    return config


def column(tabs: Tabs, tab: str, header: str) -> int:
    return tabs[tab][0].index(header)


def rows_by_id(grid: list[list[CellValue]]) -> dict[str, dict[str, CellValue]]:
    """A tab's rows keyed by the first column (the customer id), each as header -> value."""
    headers = [str(h) for h in grid[0]]
    return {str(r[0]): dict(zip(headers, r, strict=False)) for r in grid[1:] if r and r[0]}


def with_action_tabs(tabs: Tabs) -> Tabs:
    """``tabs`` plus the Alerts and Summary tabs as `init` makes them (a Google read that names
    a tab the sheet lacks costs two more requests)."""
    from sheets_health import template as T

    return {**tabs, T.ALERTS: [list(T.ALERT_HEADERS)], T.SUMMARY: []}
