"""A named catalogue of sheet edge cases, as plain data both backends can be seeded with.

``EDGE_CASES[name]`` is a tabs dict: tab name -> rows, row 1 (the header) first, ``None`` for a
blank cell. ``EXPECTED_READ[name][tab]`` is what `Backend.read` must return for it, and
``MERGED_RANGES`` names the cells to merge where a backend supports merging (xlsx) — the
merged-away cells are ``None`` in the data, as both Excel and Google report them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sheets_health.model import CellValue

Tabs = dict[str, list[list[CellValue]]]

C = "Customers"


@dataclass(frozen=True)
class Expected:
    headers: tuple[str, ...]
    rows: tuple[tuple[CellValue, ...], ...] = ()
    row_numbers: tuple[int, ...] = ()


EDGE_CASES: dict[str, Tabs] = {
    "empty_tab": {C: []},
    "headers_only": {C: [["Customer ID", "Customer", "Health score"]]},
    "gap_in_the_middle": {
        C: [
            ["Customer ID", "Customer"],
            ["C-001", "Acme"],
            [None, None],
            [None, None],
            ["C-002", "Beta"],
        ]
    },
    "blank_row_under_header": {C: [["Customer ID", "Customer"], [None, None], ["C-001", "Acme"]]},
    "whitespace_only_row": {C: [["Customer ID", "Customer"], ["C-001", "Acme"], ["  ", None]]},
    "trailing_empty_columns": {
        C: [
            ["Customer ID", "Customer", None, None],
            ["C-001", "Acme", None, None],
            ["C-002", None, None, None],
        ]
    },
    "gap_in_header": {
        C: [
            ["Customer ID", None, "Customer"],
            ["C-001", "note", "Acme"],
        ]
    },
    "cells_beyond_the_header": {C: [["Customer ID", "Customer"], ["C-001", "Acme", "stray"]]},
    "whitespace_headers": {
        C: [
            [" Customer ID ", "   ", "Customer", "  "],
            ["C-001", "note", "Acme", "stray"],
        ]
    },
    "duplicate_headers": {
        C: [
            ["Customer ID", "QBR held", "Customer", "qbr  held"],
            ["C-001", "yes", "Acme", "no"],
        ]
    },
    "mixed_types": {
        C: [
            ["Customer ID", "ARR"],
            ["C-001", 1200],
            ["C-002", "n/a"],
            ["C-003", None],
            ["C-004", 3.5],
            ["C-005", True],
            ["C-006", dt.date(2026, 3, 31)],
        ]
    },
    "duplicate_ids": {C: [["Customer ID", "Customer"], ["C-001", "Acme"], ["C-001", "Acme 2"]]},
    "renamed_headers": {
        C: [
            ["customer id", "HEALTH SCORE", "Next  step", "scoredat"],
            ["C-001", 72, "Call", None],
        ]
    },
    "reordered_columns": {
        C: [
            ["Health", "Customer", "Customer ID"],
            ["Green", "Acme", "C-001"],
        ]
    },
    "merged_cells": {
        C: [
            ["Customer ID", "Customer", "Notes"],
            ["C-001", "Acme", "fine"],
            ["C-002", "Beta spans two cells", None],
        ]
    },
    "leading_zero_ids": {C: [["Customer ID"], ["00123"], ["123"], ["0042"]]},
    "numbers_stored_as_text": {
        C: [["Customer ID", "ARR", "Share"], ["C-001", "1,234", "45%"], ["C-002", "12", "0.5"]]
    },
    "dates_and_times": {
        C: [
            ["Customer ID", "Start date", "Scored at"],
            ["C-001", dt.date(2025, 1, 31), dt.datetime(2026, 3, 31, 14, 30)],
        ]
    },
    "text_that_looks_like_a_formula": {C: [["Customer ID", "Reasons"], ["C-001", "=1+1"]]},
}

MERGED_RANGES: dict[str, dict[str, tuple[str, ...]]] = {"merged_cells": {C: ("B3:C3",)}}


def _expected(tabs: Tabs) -> dict[str, Expected]:
    """The read result by the documented policy (kept simple so a reviewer can check it)."""
    result: dict[str, Expected] = {}
    for tab, grid in tabs.items():
        header: list[CellValue] = list(grid[0]) if grid else []
        while header and (header[-1] is None or not str(header[-1]).strip()):
            header.pop()  # a header of spaces is blank: trailing ones are trimmed too
        width = len(header)
        rows: list[tuple[CellValue, ...]] = []
        numbers: list[int] = []
        for index, raw in enumerate(grid[1:], start=2):
            row = (list(raw) + [None] * width)[:width]
            if all(v is None or (isinstance(v, str) and not v.strip()) for v in row):
                continue
            rows.append(tuple(row))
            numbers.append(index)
        headers = tuple("" if h is None else str(h).strip() for h in header)
        result[tab] = Expected(headers, tuple(rows), tuple(numbers))
    return result


EXPECTED_READ: dict[str, dict[str, Expected]] = {
    name: _expected(tabs) for name, tabs in EDGE_CASES.items()
}
