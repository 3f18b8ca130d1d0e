"""Scores → the write plan: only the tool-owned cells whose value or colour would change.

Comparing with what the sheet already holds is what makes a second sync with nothing changed
write nothing to Customers or History (no churn for people watching the sheet).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from sheets_health import tails
from sheets_health import template as T
from sheets_health.cells import is_blank, key_text, same_value
from sheets_health.model import (
    CellValue,
    CellWrite,
    CustomerScore,
    Fill,
    RowUpdate,
    SheetModel,
    Table,
    TabPlan,
)

NOT_ENOUGH_DATA = "Not enough data"


MAX_TEXT = 5000  # far below both backends' cell limits (32,767 in xlsx, 50,000 in Sheets)


def fit(text: str) -> str:
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


def health_text(score: CustomerScore) -> str:
    """What `Health` says: the colour, the Status of an inactive customer, or no data."""
    if score.inactive:
        return score.inactive
    return score.rag.value if score.rag is not None else NOT_ENOUGH_DATA


def output_cells(score: CustomerScore) -> dict[str, CellWrite]:
    """The Customers output cells for one customer (Scored at is added only on change)."""
    health = health_text(score)
    cells = {
        T.HEALTH_SCORE: CellWrite(score.score),
        T.HEALTH: CellWrite(health, Fill.for_rag(score.rag)),
        T.TREND: CellWrite(score.trend),
        T.REASONS: CellWrite(fit(score.reasons)),
        T.NEXT_STEP: CellWrite(fit(score.next_step)),
    }
    if score.stage is not None:  # only with a `Stages` setting is the Stage column ours
        cells[T.STAGE] = CellWrite(score.stage)
    return cells


def _changed(table: Table, index: int, row: int, header: str, cell: CellWrite) -> bool:
    if table.column(header) is None:
        return not is_blank(cell.value) or cell.fill is not None
    if not same_value(table.value(index, header), cell.value):
        return True
    if cell.fill is not None:
        col = table.column(header)
        assert col is not None
        return table.colors.get((row, col), "").upper() != cell.fill.value
    return False


def _missing_headers(table: Table, headers: Sequence[str]) -> tuple[str, ...]:
    return tuple(h for h in headers if table.column(h) is None)


def plan_customers(
    table: Table, model: SheetModel, scores: Mapping[str, CustomerScore], now: dt.datetime
) -> TabPlan:
    by_id = {key_text(table.value(i, T.CUSTOMER_ID)): i for i in range(len(table.rows))}
    updates = []
    for customer in model.customers:
        index = by_id[customer.id]
        row = table.row_numbers[index]
        wanted = output_cells(scores[customer.id])
        changed = {h: c for h, c in wanted.items() if _changed(table, index, row, h, c)}
        if changed:
            changed[T.SCORED_AT] = CellWrite(now.replace(second=0, microsecond=0))
            updates.append(RowUpdate(row, (customer.id,), changed))
    shown = [h for h in T.OUTPUT_COLUMNS if h != T.STAGE or model.settings.stages]
    return TabPlan(
        tab=table.tab,
        key_columns=(table.header_of(T.CUSTOMER_ID),),
        add_headers=_missing_headers(table, shown),
        updates=tuple(updates),
        outputs=True,
        shown=tuple(shown),
    )


def plan_history(
    table: Table, model: SheetModel, scores: Mapping[str, CustomerScore], today: dt.date,
    state: tails.HistoryState | None = None,
) -> TabPlan:
    """One row per customer per day: today's row is updated in place, never duplicated.

    Each row keeps the baseline its Trend used, and the bookmarks move on so that the next
    sync reads only the rows it needs (`sheets_health.tails`)."""
    state = state or tails.HistoryState(model.baselines or {})
    day = today.isoformat()
    todays = (state.today_rows if state.today_rows is not None
              else tails.todays_rows(table, today))
    updates = []
    appends = []
    for customer in model.customers:
        score = scores[customer.id]
        health = health_text(score)
        cells = {
            T.HEALTH_SCORE: CellWrite(score.score),
            T.HEALTH: CellWrite(health),
            T.TREND_BASELINE: CellWrite(state.baselines.get(customer.id)),
        }
        if customer.id in todays:
            index = todays[customer.id]
            row = table.row_numbers[index]
            changed = {h: c for h, c in cells.items() if _changed(table, index, row, h, c)}
            if changed:
                updates.append(RowUpdate(row, (day, customer.id), changed))
        else:
            appends.append({T.DATE: CellWrite(today), T.CUSTOMER_ID: CellWrite(customer.id),
                            **cells})
    settings = model.settings
    marks, delete = tails.place_history(table, model.history, state, today,
                                        settings.trend_days, len(model.customers),
                                        len(appends), settings.history_days)
    return TabPlan(
        tab=table.tab,
        key_columns=(table.header_of(T.DATE), table.header_of(T.CUSTOMER_ID)),
        add_headers=_missing_headers(table, T.HISTORY_HEADERS),
        updates=tuple(updates),
        appends=tuple(appends),
        marks=marks,
        delete_rows=delete,
        recheck_from=min((u.row for u in updates), default=None),
    )


def plan_sync_log(table: Table, row: Mapping[str, CellValue], keep: int = 1000) -> TabPlan:
    """The run's row; rows beyond the last ``keep`` go, and the tail bookmark moves to it."""
    marks, delete = tails.place_sync_log(table, 1, keep, key_text(row.get("Result")) == "ok")
    return TabPlan(
        tab=table.tab,
        add_headers=_missing_headers(table, T.SYNC_LOG_HEADERS),
        appends=({h: CellWrite(v) for h, v in row.items()},),
        marks=marks,
        delete_rows=delete,
    )
