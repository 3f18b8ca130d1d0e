"""What alerts, notifications and the Summary read beyond scoring: the Customers columns a
person reads an alert by (name, CSM, renewal, ARR, outcomes, the Health shown before the sync)
and the colours History recorded day by day.

Pure and lenient: these tabs are validated by the sheet contract; a cell it let through that
still does not parse (a note typed into `ARR`) reads as unknown here, never as a made-up value.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sheets_health import template as T
from sheets_health.cells import is_blank, key_text, parse_date, parse_number
from sheets_health.model import CellValue, HistoryPoint, Rag, Settings, Table

CSM = "CSM"
RENEWAL_DATE = "Renewal date"
ARR = "ARR"

RANK = {Rag.RED: 0, Rag.YELLOW: 1, Rag.GREEN: 2}  # higher is healthier


def rag_of(value: CellValue) -> Rag | None:
    """A Health cell as a colour; "Not enough data", blanks and typos have none."""
    text = key_text(value).casefold()
    return next((r for r in Rag if r.value.casefold() == text), None)


def number_or_none(value: CellValue) -> float | None:
    if is_blank(value):
        return None
    try:
        return parse_number(value)
    except ValueError:
        return None


def date_or_none(value: CellValue) -> dt.date | None:
    if is_blank(value):
        return None
    try:
        return parse_date(value)
    except ValueError:
        return None


@dataclass(frozen=True)
class CustomerRow:
    """One Customers row as the team sees it before this sync writes."""

    id: str
    name: str
    row: int  # 1-based sheet row, for links
    csm: str = ""
    renewal: dt.date | None = None
    arr: float | None = None
    outcomes: tuple[str, ...] = ()
    health: Rag | None = None  # the Health cell as read
    health_score: float | None = None  # the Health score cell as read


def read_roster(table: Table) -> dict[str, CustomerRow]:
    """Customers by id (rows without an id are the contract's business, skipped here)."""
    roster: dict[str, CustomerRow] = {}
    for index, row in enumerate(table.row_numbers):
        cid = key_text(table.value(index, T.CUSTOMER_ID))
        if not cid or cid in roster:
            continue
        outcomes = tuple(p.strip() for p in key_text(table.value(index, T.OUTCOMES)).split(",")
                         if p.strip())
        roster[cid] = CustomerRow(
            id=cid,
            name=key_text(table.value(index, T.CUSTOMER_NAME)) or cid,
            row=row,
            csm=key_text(table.value(index, CSM)),
            renewal=date_or_none(table.value(index, RENEWAL_DATE)),
            arr=number_or_none(table.value(index, ARR)),
            outcomes=outcomes,
            health=rag_of(table.value(index, T.HEALTH)),
            health_score=number_or_none(table.value(index, T.HEALTH_SCORE)),
        )
    return roster


@dataclass(frozen=True)
class Seen:
    """A customer's colour and score on one day, as History recorded it."""

    day: dt.date
    customer_id: str
    score: float | None
    rag: Rag | None


def seen_from_history(table: Table) -> tuple[Seen, ...]:
    """History rows with their `Health` colour (an override shows there, not in the score)."""
    seen = []
    for index in range(len(table.rows)):
        day = date_or_none(table.value(index, T.DATE))
        cid = key_text(table.value(index, T.CUSTOMER_ID))
        if day is None or not cid:
            continue
        seen.append(Seen(day, cid, number_or_none(table.value(index, T.HEALTH_SCORE)),
                         rag_of(table.value(index, T.HEALTH))))
    return tuple(seen)


def seen_from_points(points: Iterable[HistoryPoint], settings: Settings) -> tuple[Seen, ...]:
    """For History read without its Health column: the colour the score alone gives."""
    return tuple(Seen(p.day, p.customer_id, p.score,
                      None if p.score is None else settings.rag(p.score)) for p in points)


def by_customer(seen: Iterable[Seen]) -> Mapping[str, tuple[Seen, ...]]:
    """Each customer's days in date order (one row per day; the last read wins a tie)."""
    days: dict[str, dict[dt.date, Seen]] = {}
    for point in seen:
        days.setdefault(point.customer_id, {})[point.day] = point
    return {cid: tuple(d[k] for k in sorted(d)) for cid, d in days.items()}


def baseline(points: tuple[Seen, ...], today: dt.date, window_days: int) -> Seen | None:
    """The point the trend window compares with, as `Trend` does: the last one on or before
    the window's start, else the earliest inside the window (never today's own row)."""
    start = today - dt.timedelta(days=window_days)
    earlier = [p for p in points if p.day < today]
    before = [p for p in earlier if p.day <= start]
    return before[-1] if before else (earlier[0] if earlier else None)
