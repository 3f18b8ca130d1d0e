"""Before any write: what would make the write fail half-way, or land where no one sees it.

Merged cells or a protected range over tool-owned cells (Google refuses a write into a range
protected against the account with a 400, after earlier batches may have landed; a value
written into a merged cell is hidden), and a spreadsheet that would pass Google's cell limit.
Pure: the backends report what they found in their one read (`Table.blocked`, `Table.grid`);
one rule here decides, for both backends.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sheets_health import template as T
from sheets_health.cells import column_letter
from sheets_health.errors import ContractError, Problem
from sheets_health.model import Blocked, Table, TabPlan, WritePlan, norm_header

CELL_LIMIT = 10_000_000  # Google's cells per spreadsheet (every tab's rows × columns)


def _owned_columns(plan: TabPlan, table: Table) -> list[int] | None:
    """Columns the sync writes below the header; None: the whole tab is the tool's (History,
    Sync log: rows are appended and the oldest deleted)."""
    if plan.appends or plan.delete_rows:
        return None
    headers = {h for update in plan.updates for h in update.cells}
    if norm_header(table.tab) == norm_header(T.CUSTOMERS):
        headers |= set(T.OUTPUT_COLUMNS)
    return sorted(c for h in headers if (c := table.column(h)) is not None)


def _a1(block: Blocked) -> str:
    first = f"{column_letter(block.first_col)}{block.first_row}"
    last_col = "" if block.last_col is None else column_letter(block.last_col)
    last_row = "" if block.last_row is None else str(block.last_row)
    if block.last_col is None and block.last_row is None and block.first_row == 1 \
            and block.first_col == 0:
        return "the whole tab"
    if not last_col:  # rows only: 3:5
        return f"rows {block.first_row}:{last_row}" if last_row else f"rows {block.first_row}:"
    return first if f"{last_col}{last_row}" == first else f"{first}:{last_col}{last_row}"


def _verb(block: Blocked) -> str:
    return "cover" if block.kind.startswith("merged") else "covers"


def blocked_problems(plan: WritePlan, tables: Iterable[Table]) -> list[Problem]:
    by_title = {norm_header(t.tab): t for t in tables}
    problems = []
    for tab in plan.tabs:
        table = by_title.get(norm_header(tab.tab))
        if tab.is_empty or table is None or not table.blocked:
            continue
        owned = _owned_columns(tab, table)
        seen: set[str] = set()
        for block in table.blocked:
            if owned is None:  # any row below the header; one problem of each kind is enough
                if (block.last_row is not None and block.last_row < 2) or block.kind in seen:
                    continue
                seen.add(block.kind)
                hit = block.first_col
            else:
                if not block.overlaps((2, None), owned):
                    continue
                hit = next(c for c in owned if block.overlaps((2, None), [c]))
            header = table.headers[hit] if hit < len(table.headers) else None
            whose = ("the tool's own tab" if owned is None
                     else f"the tool-owned column '{header}'")
            problems.append(Problem(
                table.tab, block.first_row, header,
                f"{block.kind} at {_a1(block)} {_verb(block)} {whose}, so the sync's write "
                "would fail or be hidden; nothing was written",
                block.fix,
            ))
    return problems


def cells_after(plan: WritePlan, tables: Mapping[str, Table]) -> int:
    """The spreadsheet's cells (as far as the sync read it) once the plan's rows are added."""
    by_title = {norm_header(t.tab): t for t in tables.values()}
    total = sum(t.grid[0] * t.grid[1] for t in by_title.values())
    for tab in plan.tabs:
        table = by_title.get(norm_header(tab.tab))
        if table is None or not table.grid[1] or not tab.appends:
            continue
        rows, cols = table.grid
        last = max(table.row_numbers, default=1)
        grown = max(0, last + len(tab.appends) - tab.delete_rows - rows)
        total += grown * max(cols, len(table.headers) + len(tab.add_headers))
    return total


def check_before_write(plan: WritePlan, tables: Mapping[str, Table]) -> None:
    """Raise `ContractError` (exit 2, nothing written) for anything found."""
    problems = blocked_problems(plan, tables.values())
    cells = cells_after(plan, tables)
    if cells > CELL_LIMIT:
        history = next((t for t in tables.values()
                        if norm_header(t.tab) == norm_header(T.HISTORY)), None)
        size = (f" (History alone is {history.grid[0]:,} rows × {history.grid[1]} columns)"
                if history is not None and history.grid[1] else "")
        problems.append(Problem(
            history.tab if history is not None else T.HISTORY, None, None,
            f"the spreadsheet would hold {cells:,} cells after this sync, more than Google's "
            f"{CELL_LIMIT:,}-cell limit{size}; nothing was written",
            f"set '{T.SET_HISTORY_DAYS}' in Settings to delete old History rows, delete empty "
            "rows and columns at the bottom and right of the tabs, or move old History rows "
            "to another spreadsheet",
        ))
    if problems:
        raise ContractError(problems)
