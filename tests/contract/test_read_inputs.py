"""Contract: what a person types reads the same on both backends — percents, and headers the
sheet contract refuses (duplicates, a blank header over data)."""

from __future__ import annotations

import pytest

from sheets_health.cells import Percent
from sheets_health.contract import read_model
from sheets_health.errors import ContractError
from sheets_health.headers import header_problems
from sheets_health.model import CellValue
from sheets_health.template import SET_MIN_COVERAGE, SETTINGS, TEMPLATE

from .conftest import Make
from .helpers import EDGE_CASES

CUSTOMERS: list[list[CellValue]] = [
    ["Customer ID", "Adoption", "Share as text", "Plain"],
    ["C-001", Percent(0.55), "55%", 0.55],
    ["C-002", Percent(1.25), "12.5 %", 0],
]


def test_a_percent_formatted_number_reads_as_a_percent(backend_factory: Make) -> None:
    table = backend_factory({"Customers": CUSTOMERS}).backend.read(["Customers"])["Customers"]
    adoption, text, plain = (table.value(0, h) for h in ("Adoption", "Share as text", "Plain"))
    assert isinstance(adoption, Percent) and adoption == pytest.approx(0.55)
    assert isinstance(table.value(1, "Adoption"), Percent)
    assert table.value(1, "Adoption") == pytest.approx(1.25)
    assert text == "55%"  # text stays text; the cell policy reads it as a percent
    assert isinstance(plain, float) and not isinstance(plain, Percent)


@pytest.mark.parametrize("case", ["duplicate_headers", "gap_in_header", "whitespace_headers"])
def test_header_problems_are_the_same_on_every_backend(backend_factory: Make,
                                                        case: str) -> None:
    table = backend_factory(EDGE_CASES[case]).backend.read(["Customers"])["Customers"]
    expected = {
        "duplicate_headers": ["tab 'Customers', row 1, column 'QBR held': columns B and D are "
                              "both headed 'QBR held'"],
        "gap_in_header": ["tab 'Customers', row 1, column 'B': column B has no header but "
                          "holds data (row 2)"],
        "whitespace_headers": ["tab 'Customers', row 1, column 'B': column B has no header "
                               "but holds data (row 2)"],  # D is right of the last header
    }[case]
    assert [str(p).split(". Fix: ")[0] for p in header_problems(table)] == expected
    with pytest.raises(ContractError) as caught:
        read_model({"Customers": table})
    assert {str(p) for p in header_problems(table)} <= {str(p) for p in caught.value.problems}


def test_init_writes_minimum_coverage_as_a_percent(backend_factory: Make) -> None:
    sheet = backend_factory({})
    sheet.backend.init(TEMPLATE)
    table = sheet.backend.read([SETTINGS])[SETTINGS]
    values = {table.value(i, "Setting"): table.value(i, "Value") for i in range(len(table.rows))}
    coverage = values[SET_MIN_COVERAGE]
    assert isinstance(coverage, Percent) and coverage == pytest.approx(0.5)
