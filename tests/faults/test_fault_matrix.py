"""Every scenario against the emulator: after the run, no cell misplaced, none lost, no row
duplicated, compared with the same sync without the fault; a failed run leaves the sheet as it
was and exits with the documented code. Scenarios the request-flow rework fixes are strict
xfails, so they flip when it lands.

By default each scenario runs once, the seeds taken in turn (every scenario and every seed's
day-1 sheet still run); ``SHEETS_HEALTH_FAULT_SEEDS=all`` runs every scenario × every seed, and
``SHEETS_HEALTH_FAULT_SEEDS=11,22`` those seeds for every scenario. `benchmarks/fault_matrix.py`
prints the whole matrix with each failure mode's exit code and message."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from sheets_health.backends import google_http
from tests.emulator import SheetsEmulator

from .harness import Scenario, Suite, iter_matrix, iter_rotating, run
from .scenarios import scenarios

SEEDS = [11, 22, 33]
SEEDS_ENV = "SHEETS_HEALTH_FAULT_SEEDS"


def _matrix() -> list[tuple[Scenario, int]]:
    """The default rotation, or every scenario × the seeds ``SHEETS_HEALTH_FAULT_SEEDS`` names."""
    wanted = os.environ.get(SEEDS_ENV, "").strip()
    if not wanted:
        return list(iter_rotating(scenarios(), SEEDS))
    try:
        seeds = SEEDS if wanted == "all" else [int(s) for s in wanted.split(",") if s.strip()]
    except ValueError:
        raise pytest.UsageError(f"{SEEDS_ENV}={wanted!r}: use 'all' or comma-separated "
                                f"integer seeds, e.g. {SEEDS_ENV}=11,22") from None
    return list(iter_matrix(scenarios(), seeds))


def _params() -> list[object]:
    out: list[object] = []
    for scenario, seed in _matrix():
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
def test_scenario(suite: Suite, scenario: Scenario, seed: int,
                  record_property: Callable[[str, object], None]) -> None:
    outcome = run(suite, scenario, seed)
    # for tests/conftest.py's summary; a property reaches it from an xdist worker too
    record_property("fault_outcome", (scenario.xfail is not None, outcome.misplaced,
                                      outcome.lost, outcome.duplicated))
    assert (outcome.misplaced, outcome.lost, outcome.duplicated) == (0, 0, 0), outcome.notes
    assert outcome.clean, outcome
    assert outcome.exit_code in scenario.exits, outcome.message
    if outcome.exit_code:
        assert outcome.message  # the user is told what happened
