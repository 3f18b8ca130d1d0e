"""Large sheets for the scale benchmarks: N customers × M measures, and a long History.

`wide_tabs` builds a sheet whose measures all live on the Customers tab (no sources), so a
sync's cost is the core's alone: reading the sheet, scoring, planning, writing. The measures
cycle through every scoring kind (mostly `linear`, as real scorecards are), on three outcome
scorecards. `history_rows` makes a daily History of plausible scores. `write_workbook` saves
tabs as a workbook laid out like the template (`sheets-health init`).
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import openpyxl

from sheets_health import template as T
from sheets_health.backends.xlsx import XlsxBackend

Tabs = dict[str, list[list[Any]]]
OUTCOMES = ("Automate workflows", "Executive reporting", "Team collaboration")
SPONSORS = ("none", "single-threaded", "multi-threaded", "exec sponsor")
# (scoring, red at, green at, raw value maker); linear first: most scorecards are mostly linear
KINDS: tuple[tuple[str, Any, Any], ...] = (
    ("linear", 0, 100), ("linear", 10, 1), ("linear", 20, 80), ("linear", 5, 50),
    ("linear", -40, 0), ("linear", 30, 0), ("bands: 0=0, 5=50, 10=100", "", ""),
    ("boolean", "", "yes"), ("category: none=0, single-threaded=30, multi-threaded=70, "
                             "exec sponsor=100", "", ""),
    ("percentile", "", ""), ("milestone", 90, 45), ("linear", 1, 9),
)


def _raw(kind: str, rng: random.Random, start: dt.date, today: dt.date) -> Any:
    if rng.random() < 0.08:
        return None  # some data is always missing
    if kind.startswith("bands"):
        return rng.randint(0, 12)
    if kind == "boolean":
        return rng.choice(("yes", "no"))
    if kind.startswith("category"):
        return rng.choice(SPONSORS)
    if kind == "milestone":
        reached = start + dt.timedelta(days=rng.randint(20, 80))
        return reached if reached <= today and rng.random() < 0.7 else None
    return round(rng.uniform(-50, 110), 1)


def wide_tabs(customers: int, measures: int, today: dt.date, seed: int = 7) -> Tabs:
    rng = random.Random(seed)
    names = [f"Measure {j + 1:02d}" for j in range(measures)]
    kinds = [KINDS[j % len(KINDS)] for j in range(measures)]
    headers = [*T.CUSTOMER_INPUTS, *names, *T.OUTPUT_COLUMNS]
    rows: list[list[Any]] = [headers]
    for i in range(customers):
        start = today - dt.timedelta(days=rng.randint(10, 900))
        values = {
            T.CUSTOMER_ID: f"C{i + 1:06d}", T.CUSTOMER_NAME: f"Customer {i + 1}",
            "CSM": ("Ana", "Ben", "Chloe")[i % 3],
            T.OUTCOMES: ", ".join(rng.sample(OUTCOMES, 2 if rng.random() < 0.25 else 1)),
            T.START_DATE: start, "Renewal date": start + dt.timedelta(days=365),
            "ARR": rng.choice((12, 24, 48, 90)) * 1000,
            "Gut RAG": rng.choice(("Green", "Yellow", "Red")), T.STATUS: "active",
        }
        for name, (kind, _red, _green) in zip(names, kinds, strict=True):
            values[name] = _raw(kind, rng, start, today)
        rows.append([values.get(h) for h in headers])
    scorecard = list(T.tab_template(T.SCORECARD).headers)
    card: list[list[Any]] = [[*scorecard, *(f"{T.WEIGHT_PREFIX} {o}" for o in OUTCOMES)]]
    for j, (name, (kind, red, green)) in enumerate(zip(names, kinds, strict=True)):
        card.append([name, "Usage", kind, red, green, 1 + j % 3, "", 1 + j % 3,
                     "yes" if j % 2 else "no", f"Act on {name.lower()}", "", "",
                     1 + j % 2, 2 - j % 2, 1])  # Action when green and Notes blank
    settings: list[list[Any]] = [list(T.tab_template(T.SETTINGS).headers),
                *(list(r) for r in T.tab_template(T.SETTINGS).rows)]
    return {
        T.CUSTOMERS: rows,
        T.SCORECARD: card,
        T.SETTINGS: settings,
        T.HISTORY: [list(T.HISTORY_HEADERS)],
        T.SYNC_LOG: [list(T.SYNC_LOG_HEADERS)],
    }


def history_rows(ids: Sequence[str], today: dt.date, days: int, seed: int = 11
                 ) -> list[list[Any]]:
    """One row per customer per day for the ``days`` days before today, oldest first."""
    rng = random.Random(seed)
    score = {cid: rng.uniform(20, 95) for cid in ids}
    out: list[list[Any]] = []
    for back in range(days, 0, -1):
        day = today - dt.timedelta(days=back)
        for cid in ids:
            value = min(100.0, max(0.0, score[cid] + rng.uniform(-2, 2)))
            score[cid] = value
            rounded = round(value)
            health = "Green" if rounded >= 70 else "Red" if rounded < 40 else "Yellow"
            out.append([day, cid, rounded, health])
    return out


def write_workbook(path: Path, tabs: Tabs) -> None:
    """A template workbook (`init`) with these tabs' rows; dates as date cells."""
    if path.exists():
        path.unlink()
    XlsxBackend(path).init(T.TEMPLATE)
    book = openpyxl.load_workbook(path)
    for name, rows in tabs.items():
        sheet = book[name]
        sheet.delete_rows(1, sheet.max_row)
        for row in rows:
            sheet.append(row)
        for cells in _date_cells(sheet.iter_rows()):
            cells.number_format = "yyyy-mm-dd"
    book.save(path)


def _date_cells(rows: Iterable[Any]) -> Iterable[Any]:
    for row in rows:
        for cell in row:
            if isinstance(cell.value, dt.date) and not isinstance(cell.value, dt.datetime):
                yield cell
