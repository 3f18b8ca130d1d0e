"""`init` for the Google backend: requests that add tabs, headers, frozen rows and dropdowns.

Pure: the backend reads the sheet, these functions say what to send.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence

from sheets_health.backends import google_grid as gg
from sheets_health.backends.google_grid import JSON, Grid
from sheets_health.model import CellWrite, Mark, norm_header
from sheets_health.template import SCORING, TabTemplate


def first_bookmarks(tab: TabTemplate) -> dict[str, Mark]:
    """The bookmarks of a new, empty growing tab, as the sync's read asks for them by name:
    a sheet `init` made never costs its first sync the 400 of a missing named range. Each
    reaches from the first data row to the bottom, so the first read sees the whole (empty)
    tab; that sync's write moves them where `tails` and `snapshots` say."""
    from sheets_health import snapshots, tails
    from sheets_health import template as T

    headers = list(tab.headers)

    def col(name: str) -> int:
        return headers.index(name)

    width = len(headers)
    if tab.name == T.HISTORY:
        date = col(T.DATE)
        keys = [col(T.DATE), col(T.CUSTOMER_ID), col(T.HEALTH_SCORE)]
        return {tails.LATEST: Mark(tails.FIRST_ROW, None, 0, width),
                tails.DAY: Mark(tails.FIRST_ROW, tails.FIRST_ROW + 1, date, date + 1),
                tails.TREND: Mark(tails.FIRST_ROW, tails.FIRST_ROW + 1, min(keys), max(keys) + 1),
                tails.HEAD: Mark(1, tails.FIRST_ROW, date, date + 1)}
    if tab.name == T.SYNC_LOG:
        return {tails.LOG_TAIL: Mark(tails.FIRST_ROW, None, 0, width)}
    if tab.name == T.SNAPSHOTS:
        date = col(T.DATE)
        return {snapshots.LATEST: Mark(tails.FIRST_ROW, None, col(T.CUSTOMER_ID),
                                       col(T.FINGERPRINT) + 1),
                snapshots.DAY: Mark(tails.FIRST_ROW, tails.FIRST_ROW + 1, date, date + 1)}
    return {}


def init_requests(template: Sequence[TabTemplate], grids: Mapping[str, Grid],
                  widths: Mapping[str, int], used_ids: set[int],
                  named: frozenset[str] = frozenset()) -> tuple[list[JSON], list[str]]:
    """The batchUpdate requests that bring the sheet up to the template, and what they do."""
    requests: list[JSON] = []
    changes: list[str] = []
    used_ids = set(used_ids)
    rng = random.Random()
    for tab in template:
        grid = grids.get(tab.name)
        if grid is None:
            sheet_id = rng.randrange(1, 2**31 - 1)
            while sheet_id in used_ids:
                sheet_id = rng.randrange(1, 2**31 - 1)
            used_ids.add(sheet_id)
            rows = max(1000, len(tab.rows) + 1)
            requests.append({"addSheet": {"properties": {
                "sheetId": sheet_id, "title": tab.name,
                "gridProperties": {"rowCount": rows, "columnCount": max(26, len(tab.headers)),
                                   "frozenRowCount": tab.frozen_rows}}}})
            cells = [[gg.cell_data(CellWrite(h)) for h in tab.headers]]
            cells += [[gg.cell_data(CellWrite(v)) for v in row] for row in tab.rows]
            requests.append(_rows_request(sheet_id, cells))
            for header, choices in tab.dropdowns.items():
                col = tab.headers.index(header)
                requests.append(_validation(sheet_id, col, rows, choices, header != SCORING))
            requests += [gg.named_range_request(sheet_id, name, mark, None)
                         for name, mark in first_bookmarks(tab).items()
                         if gg.NAMED_PREFIX + name not in named]
            changes.append(f"added tab {tab.name}")
            continue
        headers = grid.headers()
        cols = {norm_header(h): i for i, h in enumerate(headers) if h}
        new = [h for h in tab.headers if norm_header(h) not in cols]
        if new:
            start = max(len(headers), widths.get(tab.name, 0))
            if start + len(new) > grid.column_count:
                extra = start + len(new) - grid.column_count
                requests.append(gg.append_columns_request(grid.sheet_id, extra))
            requests.append(gg.header_request(grid.sheet_id, start, new))
            cols.update({norm_header(h): start + i for i, h in enumerate(new)})
            changes += [f"added column {h} to {grid.title}" for h in new]
        if grid.frozen_rows < tab.frozen_rows:
            requests.append({"updateSheetProperties": {
                "properties": {"sheetId": grid.sheet_id,
                               "gridProperties": {"frozenRowCount": tab.frozen_rows}},
                "fields": "gridProperties.frozenRowCount"}})
            changes.append(f"froze the header row of {grid.title}")
        if grid.row_count < 2:
            continue
        for header, choices in tab.dropdowns.items():
            col = cols[norm_header(header)]
            if (grid.raw.get((1, col)) or {}).get("dataValidation"):
                continue
            requests.append(_validation(grid.sheet_id, col, grid.row_count, choices,
                                        header != SCORING))
            if header not in new:  # a new column gets its dropdown without a word
                changes.append(f"added dropdown {header} to {grid.title}")
    return requests, changes


def _rows_request(sheet_id: int, rows: Sequence[Sequence[tuple[JSON, frozenset[str]]]]) -> JSON:
    mask: set[str] = {gg.VALUE}
    for row in rows:
        for _data, parts in row:
            mask |= parts
    return {"updateCells": {
        "start": {"sheetId": sheet_id, "rowIndex": 0, "columnIndex": 0},
        "rows": [{"values": [data for data, _ in row]} for row in rows],
        "fields": gg.fields_of(mask),
    }}


def _validation(sheet_id: int, col: int, rows: int, choices: Sequence[str], strict: bool
                ) -> JSON:
    return {"setDataValidation": {
        "range": {"sheetId": sheet_id, "startRowIndex": 1, "endRowIndex": rows,
                  "startColumnIndex": col, "endColumnIndex": col + 1},
        "rule": {"condition": {"type": "ONE_OF_LIST",
                               "values": [{"userEnteredValue": c} for c in choices]},
                 "strict": strict, "showCustomUi": True},
    }}
