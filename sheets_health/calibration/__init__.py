"""Calibration: does the score agree with the team's gut, and does it predict what happened?

Pure statistics over data the caller gathers (no IO, no sheet, no CLI):

- `point_in_time`: which values a backtest may use (snapshots before the outcome, never a
  churned customer's values after it left);
- `inputs`: the typed input contract; `report`: the report and its `as_dict()`;
- `calibrate.calibrate`: gut agreement, backtest, each measure's evidence, double counting and
  a suggestion — or a plain statement that the data cannot support one;
- `lint`: practice warnings for `check`.

SciPy and scikit-learn are imported only inside the functions that fit weights.
"""

from sheets_health.calibration.calibrate import calibrate
from sheets_health.calibration.inputs import (
    ActiveCustomers,
    CalibrationInputError,
    CalibrationOptions,
    OutcomeCases,
    Provenance,
)
from sheets_health.calibration.lint import LintWarning, lint_scorecard
from sheets_health.calibration.point_in_time import (
    PointInTime,
    SnapshotPicker,
    pick_point_in_time,
    pick_snapshots,
)
from sheets_health.calibration.report import CalibrationReport, GroupReport, Suggestion
from sheets_health.calibration.transforms import SuggestedScoring, log_sub_score

__all__ = [
    "ActiveCustomers",
    "CalibrationInputError",
    "CalibrationOptions",
    "CalibrationReport",
    "GroupReport",
    "LintWarning",
    "OutcomeCases",
    "PointInTime",
    "Provenance",
    "SnapshotPicker",
    "SuggestedScoring",
    "Suggestion",
    "calibrate",
    "lint_scorecard",
    "log_sub_score",
    "pick_point_in_time",
    "pick_snapshots",
]
