"""Contract: `Backend.read` returns the same tables from every backend."""

from __future__ import annotations

import datetime as dt

import pytest

from sheets_health.model import CellValue, Table, norm_header

from .conftest import Make
from .factories import Tabs
from .helpers import EDGE_CASES, EXPECTED_READ, assert_grid, same

CUSTOMERS: list[list[CellValue]] = [
    ["Customer ID", "Customer", "ARR", "CSM score", "Start date", "Scored at", "Notes", "Active"],
    ["00123", "Acme", 1200, 7.5, dt.date(2025, 1, 31), dt.datetime(2026, 3, 31, 14, 30), None,
     True],
    ["123", "Beta", 0, None, None, None, "call soon", False],
]  # fmt: skip


def _table(make: Make, tabs: Tabs, name: str = "Customers") -> Table:
    sheet = make(tabs)
    return sheet.backend.read([name])[name]


def test_read_keeps_seeded_values_and_types(backend_factory: Make) -> None:
    table = _table(backend_factory, {"Customers": CUSTOMERS})
    assert norm_header(table.tab) == "customers"
    assert table.headers == tuple(CUSTOMERS[0])
    assert table.row_numbers == (2, 3)
    assert_grid(table.rows, CUSTOMERS[1:])
    assert table.rows[0][0] == "00123" and table.rows[1][0] == "123"  # ids stay text
    assert isinstance(table.rows[0][2], int | float) and not isinstance(table.rows[0][2], bool)
    assert type(table.rows[0][4]) is dt.date
    assert type(table.rows[0][5]) is dt.datetime


def test_read_matches_tab_and_headers_ignoring_case_space_and_order(
    backend_factory: Make,
) -> None:
    sheet = backend_factory(
        {"CUSTOMERS": [["health  score", "customer id", "Customer"], [72, "C-001", "Acme"]]}
    )
    tables = sheet.backend.read(["Customers", " customers"])
    assert set(tables) == {"Customers", " customers"}  # keyed by the names asked for
    table = tables["Customers"]
    assert table.headers == ("health  score", "customer id", "Customer")  # as spelled
    assert table.value(0, "Customer ID") == "C-001"
    assert same(table.value(0, "Health Score"), 72)
    assert table.column("HealthScore") == 0


def test_read_missing_tab_is_absent(backend_factory: Make) -> None:
    sheet = backend_factory({"Customers": CUSTOMERS})
    assert set(sheet.backend.read(["Customers", "History", "Nope"])) == {"Customers"}


def test_read_gap_row_keeps_sheet_row_numbers(backend_factory: Make) -> None:
    table = _table(backend_factory, EDGE_CASES["gap_in_the_middle"])
    assert table.row_numbers == (2, 5)
    assert [r[0] for r in table.rows] == ["C-001", "C-002"]


def test_read_trims_trailing_empty_columns_and_pads_rows(backend_factory: Make) -> None:
    table = _table(backend_factory, EDGE_CASES["trailing_empty_columns"])
    assert table.headers == ("Customer ID", "Customer")
    assert table.rows == (("C-001", "Acme"), ("C-002", None))


def test_read_keeps_an_empty_header_cell_in_the_middle(backend_factory: Make) -> None:
    table = _table(backend_factory, EDGE_CASES["gap_in_header"])
    assert table.headers == ("Customer ID", "", "Customer")
    assert table.value(0, "Customer") == "Acme"


def test_read_reads_user_fills_as_colors(backend_factory: Make) -> None:
    sheet = backend_factory({"Customers": CUSTOMERS})
    sheet.set_fill("Customers", 3, 1, "FF0000")
    sheet.set_fill("Customers", 2, 1, "FFFFFF")  # white counts as no colour
    table = sheet.backend.read(["Customers"])["Customers"]
    assert table.colors == {(3, 1): "FF0000"}


@pytest.mark.parametrize("case", sorted(EDGE_CASES))
def test_read_edge_case(backend_factory: Make, case: str) -> None:
    sheet = backend_factory(EDGE_CASES[case])
    tables = sheet.backend.read(list(EDGE_CASES[case]))
    for tab, expected in EXPECTED_READ[case].items():
        table = tables[tab]
        assert table.headers == expected.headers
        assert table.row_numbers == expected.row_numbers
        assert all(len(row) == len(expected.headers) for row in table.rows)
        assert_grid(table.rows, expected.rows)
