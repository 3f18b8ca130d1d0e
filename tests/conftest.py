"""Suite-wide fixtures and hooks.

Each test gets its own per-user cache folder, where a run keeps its lock: two tests that name
the same sheet never meet on one lock file, whether they run at once under pytest-xdist or in
two checkouts' suites on one machine. The fault suite's totals live here, not in tests/faults/:
under pytest-xdist only this top-level conftest is loaded by the process that prints them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

Counts = tuple[bool, int, int, int]  # known failure?, cells misplaced, lost, rows duplicated
_FAULT_RUNS: list[Counts] = []


@pytest.fixture(autouse=True)
def own_user_cache(tmp_path_factory: pytest.TempPathFactory,
                   monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A fresh cache folder (the lock's home) per test; a test that sets its own wins."""
    cache = tmp_path_factory.mktemp("user-cache")
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    monkeypatch.setenv("LOCALAPPDATA", str(cache))
    yield


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Collects each fault run's counts, which a worker sends as the ``fault_outcome`` property."""
    if report.when != "call":
        return
    for name, value in report.user_properties:
        if name == "fault_outcome":
            known, misplaced, lost, duplicated = value
            _FAULT_RUNS.append((bool(known), int(misplaced), int(lost), int(duplicated)))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """After the fault suite: the run count and the totals, holding and known failures apart."""
    for known, label in ((False, "holding today"), (True, "known failures (strict xfail)")):
        picked = [run for run in _FAULT_RUNS if run[0] is known]
        if picked:
            terminalreporter.write_line(
                f"fault matrix, {label}: {len(picked)} runs, cells misplaced "
                f"{sum(r[1] for r in picked)}, lost {sum(r[2] for r in picked)}, "
                f"duplicated rows {sum(r[3] for r in picked)}")
