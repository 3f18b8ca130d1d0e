"""`backend_factory`: each contract test runs once per registered backend."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from .factories import (
    BACKEND_FACTORIES,
    EXTRA_FIXTURES,
    BackendFactory,
    BackendUnderTest,
    Tabs,
)

Make = Callable[[Tabs], BackendUnderTest]

globals().update(EXTRA_FIXTURES)  # fixtures a registered factory needs (e.g. an emulator)


@pytest.fixture(params=BACKEND_FACTORIES, ids=[f.name for f in BACKEND_FACTORIES])
def backend_factory(request: pytest.FixtureRequest, tmp_path: Path) -> Make:
    """Seed a fresh sheet with tabs and get the backend under test for it."""
    factory: BackendFactory = request.param
    needs = {name: request.getfixturevalue(name) for name in factory.fixtures}

    def make(tabs: Tabs) -> BackendUnderTest:
        return factory.make(tmp_path, tabs, **needs)

    return make
