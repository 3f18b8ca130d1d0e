"""The other ways of writing a sync's results to a Google Sheet, for bench_sheets.py.

Each gets the cells a first sync writes (`Writes`, taken from sheets-health's own write plan,
so every method writes the same data) and does, through the real gspread + google-auth +
requests stack, what its user would write:

- `floor`: one values.batchGet of the tabs a sync reads, and one batchUpdate of the cells in
  sheets-health's own encoding (more only if the body passes Google's ~2 MB request limit).
- `dataframe`: gspread-dataframe to read each tab and write each block of values, then
  gspread-formatting for the Health colours (one batchUpdate of repeatCell ranges).
- `naive`: gspread cell by cell: `update_cell` for every value, `format` for every colour,
  `append_row` for every new row.

None of them scores anything: the scores are computed beforehand, untimed.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import gspread
import pandas as pd
from gspread.utils import ValueInputOption, rowcol_to_a1
from gspread_dataframe import get_as_dataframe, set_with_dataframe
from gspread_formatting import CellFormat, Color, format_cell_ranges

from sheets_health.backends import google_grid as gg
from sheets_health.backends.google import MAX_PAYLOAD
from sheets_health.model import CellValue, CellWrite, Fill, WritePlan, norm_header
from tests.emulator import gspread_client

JSON = dict[str, Any]


@dataclass(frozen=True)
class Cell:
    tab: str
    row: int  # 1-based, as gspread counts
    col: int
    value: CellValue
    fill: str | None = None  # RRGGBB


@dataclass(frozen=True)
class Writes:
    """What one sync writes, position by position, and where it reads from."""

    read_tabs: tuple[str, ...]
    sheet_ids: Mapping[str, int]
    updates: tuple[Cell, ...]  # row by row, in the plan's order
    appends: Mapping[str, tuple[tuple[CellValue, ...], ...]]  # tab -> rows from column A
    plan: WritePlan
    customers_updated: int

    @property
    def fills(self) -> int:
        return sum(1 for c in self.updates if c.fill)

    @property
    def appended_rows(self) -> int:
        return sum(len(rows) for rows in self.appends.values())


def writes_from_plan(plan: WritePlan, headers: Mapping[str, Sequence[CellValue]],
                     sheet_ids: Mapping[str, int], read_tabs: Sequence[str]) -> Writes:
    """The plan's cells at their positions, given each tab's row 1 as the sync saw it."""
    updates: list[Cell] = []
    appends: dict[str, tuple[tuple[CellValue, ...], ...]] = {}
    customers = 0
    for tab in plan.tabs:
        if tab.add_headers:
            raise ValueError(f"{tab.tab}: the benchmark expects the template's headers")
        cols = {norm_header(h): i + 1 for i, h in enumerate(headers[tab.tab]) if h}
        for update in tab.updates:
            customers += 1
            for header, write in update.cells.items():
                fill = str(write.fill.value) if write.fill is not None else None
                updates.append(Cell(tab.tab, update.row, cols[norm_header(header)],
                                    write.value, fill))
        rows = []
        for values in tab.appends:
            by_col = {cols[norm_header(h)]: w.value for h, w in values.items()}
            rows.append(tuple(by_col.get(c) for c in range(1, max(by_col) + 1)))
        if rows:
            appends[tab.tab] = tuple(rows)
    return Writes(tuple(read_tabs), dict(sheet_ids), tuple(updates), appends, plan, customers)


def typed(value: CellValue) -> str | int | float:
    """A value as a person would type it (USER_ENTERED): dates as ISO text, blank as ""."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return value
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


# ----------------------------------------------------------------------------- the floor


def floor(url: str, key: Mapping[str, Any], spreadsheet_id: str, read_tabs: Sequence[str],
          bodies: Sequence[JSON]) -> None:
    """The bodies are built beforehand (`floor_bodies`): the floor is the traffic alone."""
    client = gspread_client(url, key, timeout=300)
    http = client.http_client
    http.values_batch_get(spreadsheet_id, [gg.quote_title(t) for t in read_tabs], params={
        "valueRenderOption": "UNFORMATTED_VALUE", "dateTimeRenderOption": "SERIAL_NUMBER",
        "prettyPrint": "false"})
    for body in bodies:
        http.request("post", gspread.urls.SPREADSHEET_BATCH_UPDATE_URL % spreadsheet_id,
                     params={"fields": "spreadsheetId", "prettyPrint": "false"}, json=body)


def floor_bodies(writes: Writes) -> list[JSON]:
    """The cells as updateCells (one per run of rows in a column) and appendCells requests,
    in as few batchUpdate bodies as the payload limit allows."""
    cells = []
    for cell in writes.updates:
        write = CellWrite(cell.value, Fill(cell.fill) if cell.fill else None)
        data, mask = gg.cell_data(write)
        cells.append(gg.CellAt(writes.sheet_ids[cell.tab], cell.row - 1, cell.col - 1, data, mask))
    requests = gg.update_requests(cells)
    for tab, rows in writes.appends.items():
        encoded = [[gg.cell_data(CellWrite(v)) if v is not None else ({}, frozenset())
                    for v in row] for row in rows]
        for start in range(0, len(encoded), 1000):
            requests.append(gg.append_request(writes.sheet_ids[tab], encoded[start:start + 1000]))
    bodies: list[JSON] = []
    size = 0
    for request in requests:
        length = len(json.dumps(request, separators=(",", ":")))
        if not bodies or size + length > MAX_PAYLOAD:
            bodies.append({"requests": []})
            size = 0
        bodies[-1]["requests"].append(request)
        size += length
    return bodies


# ----------------------------------------------------------------- gspread-dataframe


def _blocks(cells: Sequence[Cell]) -> list[tuple[str, int, int, pd.DataFrame]]:
    """(tab, first row, first column, values) rectangles: one per tab and run of rows."""
    out = []
    by_tab: dict[str, dict[tuple[int, int], CellValue]] = {}
    for cell in cells:
        by_tab.setdefault(cell.tab, {})[(cell.row, cell.col)] = cell.value
    for tab, grid in by_tab.items():
        rows = sorted({r for r, _c in grid})
        c0 = min(c for _r, c in grid)
        c1 = max(c for _r, c in grid)
        runs: list[list[int]] = []
        for r in rows:
            if runs and r == runs[-1][-1] + 1:
                runs[-1].append(r)
            else:
                runs.append([r])
        for run in runs:
            frame = pd.DataFrame([[grid.get((r, c)) for c in range(c0, c1 + 1)] for r in run],
                                 dtype=object)
            out.append((tab, run[0], c0, frame))
    return out


def _colour_runs(cells: Sequence[Cell]) -> dict[str, list[tuple[str, CellFormat]]]:
    """Consecutive rows of one column with the same colour, as gspread-formatting ranges."""
    out: dict[str, list[tuple[str, CellFormat]]] = {}
    coloured = sorted((c for c in cells if c.fill), key=lambda c: (c.tab, c.col, c.row))
    run: list[Cell] = []

    def close() -> None:
        if run:
            a1 = f"{rowcol_to_a1(run[0].row, run[0].col)}:{rowcol_to_a1(run[-1].row, run[-1].col)}"
            fmt = CellFormat(backgroundColor=Color.fromHex("#" + str(run[0].fill)))
            out.setdefault(run[0].tab, []).append((a1, fmt))

    for cell in coloured:
        last = run[-1] if run else None
        if last and (last.tab, last.col, last.fill, last.row + 1) == \
                (cell.tab, cell.col, cell.fill, cell.row):
            run.append(cell)
            continue
        close()
        run = [cell]
    close()
    return out


@dataclass
class DataframeWrites:
    blocks: list[tuple[str, int, int, pd.DataFrame]]
    appends: dict[str, pd.DataFrame]
    colours: dict[str, list[tuple[str, CellFormat]]]


def prepare_dataframe(writes: Writes) -> DataframeWrites:
    appends = {tab: pd.DataFrame([list(r) for r in rows], dtype=object)
               for tab, rows in writes.appends.items()}
    return DataframeWrites(_blocks(writes.updates), appends, _colour_runs(writes.updates))


def dataframe(url: str, key: Mapping[str, Any], spreadsheet_id: str,
              prepared: DataframeWrites, read_tabs: Sequence[str]) -> None:
    client = gspread_client(url, key, timeout=300)
    sheet = client.open_by_key(spreadsheet_id)
    tabs = {ws.title: ws for ws in sheet.worksheets()}
    frames = {t: get_as_dataframe(tabs[t], evaluate_formulas=True) for t in read_tabs}
    for tab, row, col, frame in prepared.blocks:
        set_with_dataframe(tabs[tab], frame, row=row, col=col, include_column_header=False)
    for tab, frame in prepared.appends.items():
        below = len(frames[tab].index) + 2  # the header row, then the rows read
        set_with_dataframe(tabs[tab], frame, row=below, col=1, include_column_header=False)
    for tab, ranges in prepared.colours.items():
        format_cell_ranges(tabs[tab], ranges)


# ----------------------------------------------------------------------------- naive


@dataclass
class NaiveOps:
    """The cell-by-cell calls, in order, with which customer each belongs to (for sampling)."""

    calls: list[tuple[str, int, Callable[[dict[str, gspread.Worksheet]], Any]]] = \
        field(default_factory=list)  # (kind, customer index, call)

    def add(self, kind: str, customer: int,
            call: Callable[[dict[str, gspread.Worksheet]], Any]) -> None:
        self.calls.append((kind, customer, call))

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for kind, _customer, _call in self.calls:
            out[kind] = out.get(kind, 0) + 1
        return out


def _update_cell(cell: Cell, value: str | int | float, ws: dict[str, gspread.Worksheet]) -> Any:
    return ws[cell.tab].update_cell(cell.row, cell.col, value)


def _format(cell: Cell, a1: str, colour: JSON, ws: dict[str, gspread.Worksheet]) -> Any:
    return ws[cell.tab].format(a1, colour)


def _append_row(tab: str, values: list[str | int | float],
                ws: dict[str, gspread.Worksheet]) -> Any:
    return ws[tab].append_row(values, value_input_option=ValueInputOption.user_entered)


def naive_ops(writes: Writes) -> NaiveOps:
    ops = NaiveOps()
    rows: dict[tuple[str, int], int] = {}
    for cell in writes.updates:
        customer = rows.setdefault((cell.tab, cell.row), len(rows))
        ops.add("update_cell", customer, functools.partial(_update_cell, cell, typed(cell.value)))
        if cell.fill:
            colour = {"backgroundColor": gg.rgb(cell.fill)}
            a1 = rowcol_to_a1(cell.row, cell.col)
            ops.add("format", customer, functools.partial(_format, cell, a1, colour))
    for tab, new_rows in writes.appends.items():
        for index, row in enumerate(new_rows):
            values = [typed(v) for v in row]
            ops.add("append_row", index if len(new_rows) > 1 else -1,
                    functools.partial(_append_row, tab, values))
    return ops


def naive(url: str, key: Mapping[str, Any], spreadsheet_id: str, ops: NaiveOps,
          read_tabs: Sequence[str], sample: int) -> list[tuple[str, float]]:
    """Open and read every tab, then make the calls of the first ``sample`` customers (and
    of the single Sync-log row); the rest are left for the caller to project."""
    client = gspread_client(url, key, timeout=300)
    sheet = client.open_by_key(spreadsheet_id)
    tabs = {t: sheet.worksheet(t) for t in read_tabs}
    for ws in tabs.values():
        ws.get_all_values()
    made = []  # (kind, seconds) of each call made, in order; each is one request
    for kind, customer, call in ops.calls:
        if customer >= sample:
            continue
        started = time.perf_counter()
        call(tabs)
        made.append((kind, time.perf_counter() - started))
    return made
