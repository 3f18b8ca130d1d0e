"""After the fault suite: the scenario × seed count and the totals, for the run's summary."""

from __future__ import annotations

import sys

import pytest


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    module = next((m for name, m in list(sys.modules.items())
                   if name.endswith("test_fault_matrix")), None)
    results = getattr(module, "RESULTS", None)
    if not results:
        return
    known = {s.name for s in module.scenarios() if s.xfail}  # type: ignore[union-attr]
    for label, picked in (("holding today", [r for r in results if r.scenario not in known]),
                          ("known failures (strict xfail)",
                           [r for r in results if r.scenario in known])):
        if not picked:
            continue
        terminalreporter.write_line(
            f"fault matrix, {label}: {len(picked)} runs, cells misplaced "
            f"{sum(r.misplaced for r in picked)}, lost {sum(r.lost for r in picked)}, "
            f"duplicated rows {sum(r.duplicated for r in picked)}")
