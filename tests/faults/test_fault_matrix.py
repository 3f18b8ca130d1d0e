"""Every scenario × several seeds against the emulator: after the run, no cell misplaced, none
lost, no row duplicated, compared with the same sync without the fault; a failed run leaves
the sheet as it was and exits with the documented code. Scenarios the request-flow rework
fixes are strict xfails, so they flip when it lands. `benchmarks/fault_matrix.py` prints the
whole matrix with each failure mode's exit code and message."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sheets_health.backends import google_http
from tests.emulator import SheetsEmulator

from .harness import Outcome, Scenario, Suite, iter_matrix, run
from .scenarios import scenarios

SEEDS = [11, 22, 33]
RESULTS: list[Outcome] = []


def _params() -> list[object]:
    out: list[object] = []
    for scenario, seed in iter_matrix(scenarios(), SEEDS):
        marks = [pytest.mark.xfail(strict=True, reason=scenario.xfail)] if scenario.xfail else []
        out.append(pytest.param(scenario, seed, marks=marks, id=f"{scenario.name}-{seed}"))
    return out


@pytest.fixture(scope="module")
def suite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Suite]:
    patch = pytest.MonkeyPatch()
    original = google_http.SheetsHTTPClient.__init__

    def no_backoff(self: google_http.SheetsHTTPClient, *args: object, **kwargs: object) -> None:
        original(self, *args, **kwargs)  # type: ignore[arg-type]
        self.sleep = lambda _seconds: None  # backoff and Retry-After; the emulator's stalls
        # stay real (patching time.sleep would make them instant)

    patch.setattr(google_http.SheetsHTTPClient, "__init__", no_backoff)
    try:
        with SheetsEmulator() as emulator:
            yield Suite(emulator, Path(tmp_path_factory.mktemp("faults")))
    finally:
        patch.undo()


@pytest.mark.parametrize(("scenario", "seed"), _params())
def test_scenario(suite: Suite, scenario: Scenario, seed: int) -> None:
    outcome = run(suite, scenario, seed)
    RESULTS.append(outcome)
    assert (outcome.misplaced, outcome.lost, outcome.duplicated) == (0, 0, 0), outcome.notes
    assert outcome.clean, outcome
    assert outcome.exit_code in scenario.exits, outcome.message
    if outcome.exit_code:
        assert outcome.message  # the user is told what happened
