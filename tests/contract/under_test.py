"""What a backend factory of the contract suite provides: the shared types, and nothing else.

A factory seeds a fresh sheet with ``tabs`` (tab name -> rows, header row first, ``None`` for
blank) by its own means — never through the backend under test — and returns a
`BackendUnderTest` whose inspection methods read the stored state independently too. Each
factory module (``xlsx_factory``, ``google_factory``) imports this module only, never another
factory; ``factories`` gathers them into the registry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from sheets_health.backends.base import Backend
from sheets_health.model import CellValue

Tabs = dict[str, list[list[CellValue]]]


@dataclass(frozen=True)
class Dropdown:
    values: tuple[str, ...]
    strict: bool  # False: other text is accepted (the Scoring column)


@dataclass(frozen=True)
class Chart:
    """An embedded chart: its kind, and per series the (1-based row, 0-based column) of the
    header cell naming it and the rows its values span; the categories' column and rows."""

    kind: str  # "stacked column", "column", …
    series: tuple[tuple[int, int, int, int], ...]  # (header row, column, first row, last row)
    categories: tuple[int, int, int]  # (column, first row, last row)
    anchor_row: int  # 1-based row of the top-left corner


class BackendUnderTest(Protocol):
    """A seeded sheet: the backend, plus ways to look at and edit it behind the backend's back.

    Rows are 1-based sheet rows and columns 0-based (as in `Table.colors`).
    """

    @property
    def backend(self) -> Backend: ...

    def cells(self, tab: str) -> list[list[CellValue]]:
        """The stored grid from row 1, trailing blank rows and columns trimmed, blanks None;
        text as str, numbers as int/float, dates as date (datetime when there is a time)."""
        ...

    def fill(self, tab: str, row: int, col: int) -> str | None:
        """A cell's solid background as upper-case RRGGBB; None when none or white."""
        ...

    def is_formula(self, tab: str, row: int, col: int) -> bool: ...

    def dropdown(self, tab: str, row: int, col: int) -> Dropdown | None: ...

    def frozen_rows(self, tab: str) -> int: ...

    def tab_names(self) -> list[str]: ...

    def edit(self, tab: str, rows: list[list[CellValue]]) -> None:
        """Replace a tab's values the way a person would (e.g. after sorting the rows)."""
        ...

    def set_fill(self, tab: str, row: int, col: int, rgb: str) -> None: ...

    def charts(self, tab: str) -> list[Chart]:
        """The tab's embedded charts as stored, read independently of the backend."""
        ...


@dataclass(frozen=True)
class BackendFactory:
    """``make(tmp_path, tabs, **fixtures)``: ``fixtures`` names pytest fixtures (e.g. a running
    emulator) whose values are passed to ``make`` as keyword arguments."""

    name: str
    make: Callable[..., BackendUnderTest]
    fixtures: tuple[str, ...] = ()
