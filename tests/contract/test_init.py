"""Contract: `Backend.init` creates the template's tabs, never clobbers, and is idempotent."""

from __future__ import annotations

from sheets_health.model import CellValue, Rag, ScoringKind
from sheets_health.template import CUSTOMERS, SCORECARD, TEMPLATE, tab_template

from .conftest import Make
from .helpers import assert_grid

USER_TAB: list[list[CellValue]] = [["My own tab"], ["keep me", 1]]


def test_init_creates_tabs_headers_rows_dropdowns_and_frozen_rows(backend_factory: Make) -> None:
    sheet = backend_factory({"Notes": USER_TAB})
    changes = sheet.backend.init(TEMPLATE)
    assert [f"added tab {t.name}" for t in TEMPLATE] == changes
    assert set(sheet.tab_names()) >= {t.name for t in TEMPLATE} | {"Notes"}
    for tab in TEMPLATE:
        assert_grid(sheet.cells(tab.name), [list(tab.headers), *map(list, tab.rows)])
        assert sheet.frozen_rows(tab.name) == tab.frozen_rows
    assert_grid(sheet.cells("Notes"), USER_TAB)

    customers = tab_template(CUSTOMERS)
    gut = sheet.dropdown(CUSTOMERS, 2, customers.headers.index("Gut RAG"))
    assert gut is not None and gut.values == tuple(r.value for r in Rag) and gut.strict
    assert sheet.dropdown(CUSTOMERS, 50, customers.headers.index("Gut RAG")) is not None
    assert sheet.dropdown(CUSTOMERS, 2, customers.headers.index("Customer ID")) is None
    scoring = sheet.dropdown(SCORECARD, 2, tab_template(SCORECARD).headers.index("Scoring"))
    assert scoring is not None and not scoring.strict  # "bands: 0=0, 5=50" must be allowed
    assert scoring.values == tuple(k.value for k in ScoringKind)


def test_init_twice_changes_nothing(backend_factory: Make) -> None:
    sheet = backend_factory({"Notes": USER_TAB})
    sheet.backend.init(TEMPLATE)
    before = {name: sheet.cells(name) for name in sheet.tab_names()}
    assert sheet.backend.init(TEMPLATE) == []
    assert {name: sheet.cells(name) for name in sheet.tab_names()} == before


def test_init_adds_missing_columns_at_the_right_end_without_clobbering(
    backend_factory: Make,
) -> None:
    grid: list[list[CellValue]] = [
        ["customer id", "My column", "CUSTOMER", None],
        ["C-001", "mine", "Acme", None],
    ]
    sheet = backend_factory({"customers": grid})
    changes = sheet.backend.init([tab_template(CUSTOMERS)])
    headers = tab_template(CUSTOMERS).headers
    missing = [h for h in headers if h not in ("Customer ID", "Customer")]
    assert [f"added column {h} to customers" for h in missing] == [
        c for c in changes if c.startswith("added column")
    ]
    assert not any(c.startswith("added tab") for c in changes)
    assert_grid(
        sheet.cells("customers"),
        [["customer id", "My column", "CUSTOMER", *missing], ["C-001", "mine", "Acme"]],
    )
    gut = sheet.dropdown("customers", 2, 3 + missing.index("Gut RAG"))
    assert gut is not None and gut.strict
    assert sheet.backend.init([tab_template(CUSTOMERS)]) == []
