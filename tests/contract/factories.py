"""The registry of backends the contract suite runs against.

A backend joins the suite with a factory module whose ``FACTORIES: list[BackendFactory]`` (and
the pytest fixtures its factories need, in ``FIXTURES``) are listed here. Factory modules share
only `tests.contract.under_test`; they never import each other or this module.

The names other tests use (`Tabs`, `XlsxUnderTest`, `make_xlsx` …) are re-exported here.
"""

from __future__ import annotations

from typing import Any

from . import google_factory, xlsx_factory
from .under_test import BackendFactory, BackendUnderTest, Dropdown, Tabs
from .xlsx_factory import XlsxUnderTest, make_xlsx, write_xlsx_cell

__all__ = [
    "BACKEND_FACTORIES",
    "EXTRA_FIXTURES",
    "BackendFactory",
    "BackendUnderTest",
    "Dropdown",
    "Tabs",
    "XlsxUnderTest",
    "make_xlsx",
    "write_xlsx_cell",
]

BACKEND_FACTORIES: list[BackendFactory] = [*xlsx_factory.FACTORIES, *google_factory.FACTORIES]
EXTRA_FIXTURES: dict[str, Any] = {**google_factory.FIXTURES}  # conftest makes these visible
