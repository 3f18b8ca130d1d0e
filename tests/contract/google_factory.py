"""The Google backend in the contract suite: real gspread + google-auth + requests against the
local Sheets API emulator (one emulator per test session, one spreadsheet per test).

Seeding and inspection go straight to the emulator's stored cells, never through the backend.
"""

from __future__ import annotations

import copy
import datetime as dt
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sheets_health.backends.base import Backend
from sheets_health.backends.google import GoogleBackend
from sheets_health.cells import Percent
from sheets_health.config import SheetConfig
from sheets_health.model import CellValue

from .under_test import BackendFactory, Chart, Dropdown, Tabs

try:
    from ..emulator import SheetsEmulator, make_service_account_key, write_key_file
except ImportError:  # tests/ on sys.path rather than a package
    from emulator import (  # type: ignore[no-redef]
        SheetsEmulator,
        make_service_account_key,
        write_key_file,
    )

EPOCH = dt.datetime(1899, 12, 30)


@pytest.fixture(scope="session")
def google_sheets_emulator() -> Iterator[SheetsEmulator]:
    """One emulator for the whole run; each test gets its own spreadsheet and key."""
    with SheetsEmulator() as emulator:
        yield emulator


def seed_cell(value: CellValue) -> dict[str, Any] | None:
    """CellData for a seeded value, as a person typing it would leave it (text stays text)."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return {"userEnteredValue": {"boolValue": value}}
    if isinstance(value, Percent):  # typed as 55%: Google stores 0.55 with a percent format
        return {"userEnteredValue": {"numberValue": float(value)},
                "userEnteredFormat": {"numberFormat": {"type": "PERCENT", "pattern": "0%"}}}
    if isinstance(value, int | float):
        return {"userEnteredValue": {"numberValue": value}}
    if isinstance(value, dt.datetime):
        delta = value - EPOCH
        return {
            "userEnteredValue": {"numberValue": delta.days + delta.seconds / 86400},
            "userEnteredFormat": {
                "numberFormat": {"type": "DATE_TIME", "pattern": "yyyy-mm-dd hh:mm"}
            },
        }
    if isinstance(value, dt.date):
        return {
            "userEnteredValue": {"numberValue": (value - EPOCH.date()).days},
            "userEnteredFormat": {"numberFormat": {"type": "DATE", "pattern": "yyyy-mm-dd"}},
        }
    return {"userEnteredValue": {"stringValue": str(value)}}


def _plain(cell: dict[str, Any] | None) -> CellValue:
    user = (cell or {}).get("userEnteredValue") or {}
    if "stringValue" in user:
        return str(user["stringValue"]) or None
    if "boolValue" in user:
        return bool(user["boolValue"])
    if "formulaValue" in user:
        return str(user["formulaValue"])
    if "numberValue" in user:
        number = float(user["numberValue"])
        kind = (((cell or {}).get("userEnteredFormat") or {}).get("numberFormat") or {}).get("type")
        if kind == "DATE":
            return (EPOCH + dt.timedelta(days=math.floor(number))).date()
        if kind == "DATE_TIME":
            moment = EPOCH + dt.timedelta(days=number)
            moment = (moment + dt.timedelta(microseconds=500_000)).replace(microsecond=0)
            return moment.date() if moment.time() == dt.time() else moment
        return int(number) if number.is_integer() else number
    return None


class GoogleUnderTest:
    def __init__(self, emulator: SheetsEmulator, spreadsheet_id: str, key_path: Path) -> None:
        self.emulator = emulator
        self.spreadsheet_id = spreadsheet_id
        sheet = SheetConfig(
            backend="google",
            spreadsheet=spreadsheet_id,
            credentials=key_path,
            api_url=emulator.url,
            timeout=10,
        )
        self._backend = GoogleBackend.from_config(sheet, sleep=lambda _s: None)

    @property
    def backend(self) -> Backend:
        return self._backend

    def _sheet(self, tab: str) -> Any:
        return self.emulator.sheet(self.spreadsheet_id, tab)

    def _shown(self, tab: str) -> dict[tuple[int, int], CellValue]:
        """What array formulas show (Customers' outputs, by lookup), cell by cell."""
        ss = self.emulator.spreadsheet(self.spreadsheet_id)
        with self.emulator.lock:
            ss.fresh_read()
            sheet = self._sheet(tab)
            spilled = dict(ss.spills(sheet))
        out = {}
        for at, effective in spilled.items():
            effective = dict(effective)
            number_format = effective.pop("_numberFormat", None)
            cell = {"userEnteredValue": effective} if "errorValue" not in effective else {}
            if number_format or (sheet.get(*at) or {}).get("userEnteredFormat"):
                fmt = ((sheet.get(*at) or {}).get("userEnteredFormat") or {}).get(
                    "numberFormat") or number_format
                cell["userEnteredFormat"] = {"numberFormat": fmt}
            out[at] = _plain(cell)
        return out

    def cells(self, tab: str) -> list[list[CellValue]]:
        """What a person sees: typed values, and what the tool's lookups show."""
        with self.emulator.lock:
            stored = dict(self._sheet(tab).cells)
        values = {at: _plain(cell) for at, cell in stored.items()}
        values.update(self._shown(tab))
        values = {at: v for at, v in values.items() if v is not None}
        height = max((r for r, _ in values), default=-1) + 1
        width = max((c for _, c in values), default=-1) + 1
        return [[values.get((r, c)) for c in range(width)] for r in range(height)]

    def charts(self, tab: str) -> list[Chart]:
        with self.emulator.lock:
            stored = list(self._sheet(tab).extra.get("charts", []))
        found = []
        for chart in stored:
            basic = chart["spec"]["basicChart"]
            header = basic.get("headerCount", 0)

            def span(source: dict[str, Any]) -> tuple[int, int, int]:
                gr = source["sourceRange"]["sources"][0]
                return gr["startColumnIndex"], gr["startRowIndex"] + 1, gr["endRowIndex"]

            series = []
            for s in basic["series"]:
                col, top, last = span(s["series"])
                series.append((top, col, top + header, last))
            col, top, last = span(basic["domains"][0]["domain"])
            stacked = "stacked " if basic.get("stackedType") == "STACKED" else ""
            anchor = chart["position"]["overlayPosition"]["anchorCell"]
            found.append(Chart(f"{stacked}{basic['chartType'].lower()}", tuple(series),
                               (col, top + header, last), anchor.get("rowIndex", 0) + 1))
        return found

    def _cell(self, tab: str, row: int, col: int) -> dict[str, Any]:
        with self.emulator.lock:
            return copy.deepcopy(self._sheet(tab).get(row - 1, col) or {})

    def fill(self, tab: str, row: int, col: int) -> str | None:
        """The background a person sees: the cell's own, else a conditional-format rule's
        (the tool colours Health through rules on Google)."""
        fmt = self._cell(tab, row, col).get("userEnteredFormat") or {}
        if not (fmt.get("backgroundColor") or fmt.get("backgroundColorStyle")):
            ss = self.emulator.spreadsheet(self.spreadsheet_id)
            with self.emulator.lock:
                ss.fresh_read()
                fmt = ss.cell_data_at(self._sheet(tab), row - 1, col).get(
                    "effectiveFormat") or {}
        color = fmt.get("backgroundColor") or (fmt.get("backgroundColorStyle") or {}).get(
            "rgbColor"
        )
        if not color:
            return None
        text = "".join(
            f"{round(float(color.get(k, 0)) * 255):02X}" for k in ("red", "green", "blue")
        )
        return None if text == "FFFFFF" else text

    def is_formula(self, tab: str, row: int, col: int) -> bool:
        return "formulaValue" in (self._cell(tab, row, col).get("userEnteredValue") or {})

    def dropdown(self, tab: str, row: int, col: int) -> Dropdown | None:
        rule = self._cell(tab, row, col).get("dataValidation")
        if not rule or (rule.get("condition") or {}).get("type") != "ONE_OF_LIST":
            return None
        values = tuple(str(v.get("userEnteredValue")) for v in rule["condition"].get("values", []))
        return Dropdown(values, bool(rule.get("strict")))

    def frozen_rows(self, tab: str) -> int:
        with self.emulator.lock:
            grid = self._sheet(tab).properties.get("gridProperties") or {}
        return int(grid.get("frozenRowCount", 0))

    def tab_names(self) -> list[str]:
        return list(self.emulator.spreadsheet(self.spreadsheet_id).titles())

    def edit(self, tab: str, rows: list[list[CellValue]]) -> None:
        """Type ``rows`` over the tab; what the tool's lookups show stays theirs where the
        new value is the same (a person edits inputs, not the formulas' results)."""
        shown = self._shown(tab)
        same = {at for at, v in shown.items()
                if at[0] < len(rows) and at[1] < len(rows[at[0]]) and rows[at[0]][at[1]] == v}
        rows = [[None if (r, c) in same else v for c, v in enumerate(row)]
                for r, row in enumerate(rows)]
        with self.emulator.lock:
            sheet = self._sheet(tab)
            for at, cell in list(sheet.cells.items()):
                if at in same:
                    continue
                kept = {k: v for k, v in cell.items() if k != "userEnteredValue"}
                fmt = dict(kept.get("userEnteredFormat") or {})
                fmt.pop("numberFormat", None)
                kept["userEnteredFormat"] = fmt
                sheet.put(*at, kept)
            _seed(sheet, rows)

    def set_fill(self, tab: str, row: int, col: int, rgb: str) -> None:
        with self.emulator.lock:
            sheet = self._sheet(tab)
            cell = copy.deepcopy(sheet.get(row - 1, col) or {})
            fmt = cell.setdefault("userEnteredFormat", {})
            fmt.pop("backgroundColorStyle", None)
            fmt["backgroundColor"] = {
                name: int(rgb[i : i + 2], 16) / 255
                for name, i in (("red", 0), ("green", 2), ("blue", 4))
            }
            sheet.put(row - 1, col, cell)


def _seed(sheet: Any, rows: list[list[CellValue]]) -> None:
    need_rows = len(rows)
    need_cols = max((len(r) for r in rows), default=0)
    if need_rows > sheet.row_count or need_cols > sheet.col_count:
        sheet.resize(rows=max(need_rows, sheet.row_count), cols=max(need_cols, sheet.col_count))
    for r, values in enumerate(rows):
        for c, value in enumerate(values):
            data = seed_cell(value)
            if data is None:
                continue
            cell = copy.deepcopy(sheet.get(r, c) or {})
            cell["userEnteredValue"] = data["userEnteredValue"]
            if "userEnteredFormat" in data:
                cell.setdefault("userEnteredFormat", {}).update(data["userEnteredFormat"])
            sheet.put(r, c, cell)


def make_google(tmp_path: Path, tabs: Tabs, google_sheets_emulator: SheetsEmulator
                ) -> GoogleUnderTest:
    emulator = google_sheets_emulator
    key = make_service_account_key(emulator)
    key_path = tmp_path / "service-account.json"
    write_key_file(key_path, key)
    names = list(tabs) or ["Other"]
    spreadsheet_id = emulator.create_spreadsheet("Contract", {name: [] for name in names})
    with emulator.lock:
        for name, rows in tabs.items():
            _seed(emulator.sheet(spreadsheet_id, name), rows)
    return GoogleUnderTest(emulator, spreadsheet_id, key_path)


FACTORIES: list[BackendFactory] = [
    BackendFactory("google", make_google, fixtures=("google_sheets_emulator",))
]
FIXTURES = {"google_sheets_emulator": google_sheets_emulator}
