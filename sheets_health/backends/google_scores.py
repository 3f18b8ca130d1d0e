"""Customers' outputs on Google: a tool-owned `Scores` tab, shown in Customers by lookup.

Each output column of Customers holds one array formula in its header cell that looks every
row's `Customer ID` up in `Scores` (compared as text on both sides: ``00123`` is not
``123``), and the Health colours come from conditional-format rules on the Health column. A
person sorting, inserting or deleting Customers rows therefore moves nothing the tool wrote:
every row shows its own customer's score, whatever happens to the network after the write.
`Scores` is rewritten whole (ID and outputs together, so each row is self-consistent) in the
same atomic write, only when something changed. Pure: builds requests, does no IO.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sheets_health import template as T
from sheets_health.backends import google_grid as gg
from sheets_health.backends.google_grid import JSON, Grid
from sheets_health.cells import column_letter, key_text
from sheets_health.errors import Problem
from sheets_health.model import CellValue, CellWrite, Fill, Mark, Table, TabPlan, norm_header

REF_MESSAGE = "Array result was not expanded"
CHUNK = 1_000  # Scores rows per updateCells request (a few hundred KB)
SCORES_MARK = "scores"  # named range sheets_health_scores: the Scores rows, header included
COLOURS: tuple[tuple[str | None, Fill], ...] = (
    ("Green", Fill.GREEN), ("Yellow", Fill.YELLOW), ("Red", Fill.RED), (None, Fill.GREY))


def formula(header: str, key_col: int, index: int, scores_title: str) -> str:
    """The header cell of one output column: its name, then every row's value from Scores."""
    key = column_letter(key_col)
    ids = f"{key}2:{key}"
    table = f"{gg.quote_title(scores_title)}!$A$2:${column_letter(len(T.SCORES_HEADERS) - 1)}"
    name = header.replace('"', '""')
    return (f'={{"{name}";ARRAYFORMULA(IF({ids}="",,IFERROR(VLOOKUP({ids}&"",{table},'
            f"{index + 1},FALSE),)))}}")


def broken(grid: Grid) -> list[Problem]:
    """Output header cells whose array cannot spill: someone typed into the column below."""
    problems = []
    header_cells = sorted(((col, cell) for (row, col), cell in grid.raw.items() if row == 0),
                          key=lambda item: item[0])
    for col, cell in header_cells:  # the header row only: the arrays are anchored there
        error = (cell.get("effectiveValue") or {}).get("errorValue") or {}
        message = str(error.get("message", "")).rstrip(".")
        if REF_MESSAGE in message:
            at = message.rsplit(" ", 1)[-1].rstrip(".")
            problems.append(Problem(
                grid.title, 1, f"{column_letter(col)} (the tool's lookup formula)",
                f"the column's lookup shows #REF!: {message}",
                f"clear {at} and whatever else was typed below row 1 in column "
                f"{column_letter(col)} (the tool fills that column from the {T.SCORES} tab; "
                "type notes in a column of your own), then sync again"))
    return problems


def cf_colours(grid: Grid, rules: Sequence[JSON]) -> dict[tuple[int, int], str]:
    """(1-based row, col) → the colour the tool's rules give each Health cell, as a person
    sees it (the read's own fills are a person's, or an older sync's)."""
    col = grid.column(T.HEALTH)
    if col is None or not has_rules(rules, grid.sheet_id, col):
        return {}
    out = {}
    for (row, c), value in grid.values.items():
        if c != col or row == 0 or value is None or key_text(value) == "":
            continue
        text = key_text(value).lower()
        fill = next(f for name, f in COLOURS if name is None or name.lower() == text)
        out[(row + 1, c)] = fill.value
    return out


def has_rules(rules: Sequence[JSON], sheet_id: int, col: int) -> bool:
    """Are the tool's colour rules on this column (a person's rules elsewhere stay)?"""
    wanted = {name for name, _fill in COLOURS if name is not None}
    found = set()
    for rule in rules:
        condition = (rule.get("booleanRule") or {}).get("condition") or {}
        covers = any(int(g.get("sheetId", 0)) == sheet_id
                     and int(g.get("startColumnIndex", 0)) <= col
                     < int(g.get("endColumnIndex", col + 1)) for g in rule.get("ranges") or [])
        if covers and condition.get("type") == "TEXT_EQ":
            found |= {str(v.get("userEnteredValue")) for v in condition.get("values") or []}
    return wanted <= found


def colour_rules(sheet_id: int, col: int) -> list[JSON]:
    """Green / Yellow / Red by the Health text, grey for anything else (no data, churned)."""
    rng = {"sheetId": sheet_id, "startRowIndex": 1, "startColumnIndex": col,
           "endColumnIndex": col + 1}
    out = []
    for index, (name, fill) in enumerate(COLOURS):
        condition: JSON = ({"type": "TEXT_EQ", "values": [{"userEnteredValue": name}]}
                           if name is not None else {"type": "NOT_BLANK"})
        out.append({"addConditionalFormatRule": {"index": index, "rule": {
            "ranges": [rng],
            "booleanRule": {"condition": condition,
                            "format": {"backgroundColor": gg.rgb(fill.value)}}}}})
    return out


@dataclass
class Outputs:
    """What the write sends for Customers' outputs, and how many values it changes."""

    requests: list[JSON]
    cells: int
    skipped: list[str]


def plan_requests(plan: TabPlan, table: Table, grid: Grid, rules: Sequence[JSON],
                  scores: gg.NamedRange | None, new_id: int, widths: int) -> Outputs:
    """Requests for the Scores rewrite, the output formulas and the colour rules.

    ``table``/``grid``: Customers as this sync read it (the outputs as the lookup shows them);
    ``scores``: the tool's named range over the Scores rows, which the read brings along with
    the tab's id at no cost (None: the tab is created in the same write, with ``new_id``);
    ``widths``: Customers' used width, where missing output columns go."""
    key_col = grid.column(T.CUSTOMER_ID)
    assert key_col is not None, "the contract checks the key column"
    requests: list[JSON] = []
    skipped: list[str] = []
    headers = grid.headers()
    cols = {norm_header(h): i for i, h in enumerate(headers) if h}
    shown = plan.shown or T.OUTPUT_COLUMNS  # Customers' output columns (Stage: with stages)
    new = [h for h in shown if norm_header(h) not in cols]
    start = max(len(headers), widths)
    if new and start + len(new) > grid.column_count:
        requests.append(gg.append_columns_request(grid.sheet_id,
                                                  start + len(new) - grid.column_count))
    cols.update({norm_header(h): start + i for i, h in enumerate(new)})
    # the outputs of every customer: what the sheet shows now, with this sync's changes
    by_id: dict[str, dict[str, CellValue]] = {}
    for i in range(len(table.rows)):
        cid = key_text(table.value(i, T.CUSTOMER_ID))
        if cid and cid not in by_id:
            by_id[cid] = {h: table.value(i, h) if table.column(h) is not None else None
                          for h in T.OUTPUT_COLUMNS}
    cells = 0
    for update in plan.updates:
        cid = key_text(update.key[0]) if update.key else ""
        if cid not in by_id:
            skipped.append(f"{grid.title}: {T.CUSTOMER_ID} '{cid}' (was row {update.row}) is "
                           "no longer there")
            continue
        for header, write in update.cells.items():
            by_id[cid][header] = write.value
            cells += 1
    formulas = {h: formula(h, key_col, i + 1, T.SCORES) for i, h in enumerate(T.OUTPUT_COLUMNS)
                if h in shown}
    stale = [h for h in shown
             if grid.formulas.get((0, cols[norm_header(h)])) != formulas[h]]
    if not cells and not stale and scores is not None and has_rules(
            rules, grid.sheet_id, cols[norm_header(T.HEALTH)]):
        return Outputs([], 0, skipped)
    scores_id = scores.sheet_id if scores is not None else new_id
    had = (scores.mark.end or 2) - 1 if scores is not None else 0  # rows, header included
    wanted = len(by_id) + 1
    if scores is None:
        requests.append({"addSheet": {"properties": {
            "sheetId": scores_id, "title": T.SCORES,
            "gridProperties": {"rowCount": max(1000, wanted),
                               "columnCount": len(T.SCORES_HEADERS), "frozenRowCount": 1}}}})
    elif wanted > had:  # the grid holds at least the rows the named range spans
        requests.append(gg.append_rows_request(scores_id, wanted - had))
    rows = [[gg.cell_data(CellWrite(h)) for h in T.SCORES_HEADERS]]
    for cid, values in by_id.items():
        rows.append([gg.cell_data(CellWrite(cid)),
                     *(gg.cell_data(CellWrite(values[h])) for h in T.OUTPUT_COLUMNS)])
    for start in range(0, len(rows), CHUNK):  # each request well under Google's body limit
        requests.append(gg.rows_request(scores_id, start, rows[start:start + CHUNK]))
    if had > len(rows):  # rows of customers no longer in Customers: cleared
        requests.append({"updateCells": {
            "range": {"sheetId": scores_id, "startRowIndex": len(rows), "endRowIndex": had,
                      "startColumnIndex": 0, "endColumnIndex": len(T.SCORES_HEADERS)},
            "fields": gg.VALUE}})
    if had != wanted:
        requests.append(gg.named_range_request(
            scores_id, SCORES_MARK, Mark(1, wanted + 1, 0, len(T.SCORES_HEADERS)),
            scores.range_id if scores is not None else None))
    for header in stale:
        requests += column_requests(grid, cols[norm_header(header)], formulas[header],
                                    header == T.SCORED_AT)
    health = cols[norm_header(T.HEALTH)]
    if not has_rules(rules, grid.sheet_id, health):
        requests += colour_rules(grid.sheet_id, health)
    return Outputs(requests, cells, skipped)


def column_requests(grid: Grid, col: int, text: str, dated: bool) -> list[JSON]:
    """The formula in the header cell; the cells below emptied (older syncs wrote values
    and fills there) so that its result can show; dates shown as dates."""
    below: JSON = {"sheetId": grid.sheet_id, "startRowIndex": 1,
                   "startColumnIndex": col, "endColumnIndex": col + 1}
    out: list[JSON] = [
        {"updateCells": {"range": below, "fields": f"{gg.VALUE},{gg.BACKGROUND}"}},
        {"updateCells": {"range": {**below, "startRowIndex": 0, "endRowIndex": 1},
                         "rows": [{"values": [{gg.VALUE: {"formulaValue": text}}]}],
                         "fields": gg.VALUE}},
    ]
    if dated:
        out.append({"repeatCell": {"range": below, "cell": {"userEnteredFormat": {
            "numberFormat": {"type": "DATE_TIME", "pattern": gg.DATE_TIME_PATTERN}}},
            "fields": gg.NUMBER_FORMAT}})
    return out


def rules_of(body: Mapping[str, Any], sheet_id: int) -> list[JSON]:
    for sheet in body.get("sheets") or []:
        if int((sheet.get("properties") or {}).get("sheetId", -1)) == sheet_id:
            return list(sheet.get("conditionalFormats") or [])
    return []
