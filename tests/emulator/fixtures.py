"""Pytest fixtures for the emulator: ``from tests.emulator.fixtures import sheets_emulator``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .server import SheetsEmulator


@pytest.fixture
def sheets_emulator() -> Iterator[SheetsEmulator]:
    """A running emulator, stopped after the test."""
    with SheetsEmulator() as emulator:
        yield emulator
