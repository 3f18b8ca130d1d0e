"""The fault suite's matrix as a table: every scenario × seed against the emulator, with the
cells misplaced / lost, the rows duplicated, and the exit code and message a user sees.

    python benchmarks/fault_matrix.py [--seeds 11,22,33]

Scenarios marked "(known)" fail today for reasons the request-flow rework fixes; the suite
(`tests/faults/`) holds them as strict xfails. Totals are printed for the rest and for those.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sheets_health.backends import google_http  # noqa: E402
from tests.emulator import SheetsEmulator  # noqa: E402
from tests.faults.harness import Outcome, Suite, iter_matrix, run  # noqa: E402
from tests.faults.scenarios import scenarios  # noqa: E402


def _no_backoff() -> None:
    """Backoff and Retry-After waits cost nothing here; the emulator's stalls stay real."""
    original = google_http.SheetsHTTPClient.__init__

    def init(self: google_http.SheetsHTTPClient, *args: object, **kwargs: object) -> None:
        original(self, *args, **kwargs)  # type: ignore[arg-type]
        self.sleep = lambda _seconds: None

    google_http.SheetsHTTPClient.__init__ = init  # type: ignore[method-assign]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="11,22,33", help="comma-separated random seeds")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    _no_backoff()
    table = scenarios()
    totals: dict[bool, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    with SheetsEmulator() as emulator, tempfile.TemporaryDirectory() as workdir:
        suite = Suite(emulator, Path(workdir))
        print(f"{'scenario':<45} {'seed':>4} {'exit':>4} {'misplaced':>9} {'lost':>4} "
              f"{'dup':>3}  message")
        for scenario, seed in iter_matrix(table, seeds):
            outcome: Outcome = run(suite, scenario, seed)
            known = scenario.xfail is not None
            bucket = totals[known]
            bucket["runs"] += 1
            bucket["misplaced"] += outcome.misplaced
            bucket["lost"] += outcome.lost
            bucket["duplicated"] += outcome.duplicated
            bucket["unclean"] += 0 if outcome.clean else 1
            name = scenario.name + (" (known)" if known else "")
            message = outcome.message.splitlines()[0][:90] if outcome.message else ""
            print(f"{name:<45} {seed:>4} {outcome.exit_code:>4} {outcome.misplaced:>9} "
                  f"{outcome.lost:>4} {outcome.duplicated:>3}  {message}", flush=True)
    scenario_count = len(table)
    print(f"\n{scenario_count} scenarios × {len(seeds)} seeds = {scenario_count * len(seeds)} runs")
    for known, label in ((False, "holding today"), (True, "known failures (strict xfail)")):
        b = totals[known]
        print(f"  {label}: {b['runs']} runs, cells misplaced {b['misplaced']}, lost "
              f"{b['lost']}, duplicated rows {b['duplicated']}, runs not clean {b['unclean']}")


if __name__ == "__main__":
    main()
