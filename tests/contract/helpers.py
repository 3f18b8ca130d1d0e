"""Small helpers shared by the contract tests."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence

from sheets_health.model import CellValue

try:  # tests/ is a package
    from ..edge_cases import EDGE_CASES, EXPECTED_READ, MERGED_RANGES, Expected
except ImportError:  # tests/ is on sys.path (pytest's default rootdir-relative imports)
    from edge_cases import (
        EDGE_CASES,
        EXPECTED_READ,
        MERGED_RANGES,
        Expected,
    )

__all__ = ["EDGE_CASES", "EXPECTED_READ", "MERGED_RANGES", "Expected", "assert_grid", "same"]


def same(a: CellValue, b: CellValue) -> bool:
    """Equal values of the same kind: text never equals a number, a date never a datetime."""
    if a in (None, "") and b in (None, ""):
        return True
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12)
    if isinstance(a, dt.datetime) or isinstance(b, dt.datetime):
        return type(a) is type(b) and a == b
    return type(a) is type(b) and a == b


def _at(grid: Sequence[Sequence[CellValue]], row: int, col: int) -> CellValue:
    return grid[row][col] if row < len(grid) and col < len(grid[row]) else None


def assert_grid(
    got: Sequence[Sequence[CellValue]], expected: Sequence[Sequence[CellValue]]
) -> None:
    """Compare two grids cell by cell (trailing blanks ignored), naming the first difference."""
    height = max(len(got), len(expected))
    width = max([len(r) for r in (*got, *expected)], default=0)
    for row in range(height):
        for col in range(width):
            x, y = _at(got, row, col), _at(expected, row, col)
            assert same(x, y), f"row {row + 1}, column {col}: got {x!r}, expected {y!r}"
