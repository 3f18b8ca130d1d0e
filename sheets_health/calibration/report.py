"""The calibration report: frozen dataclasses, and `as_dict()` for `--json`.

Every AUC is of the score predicting retention (renewed or expanded, not churned): 0.5 is
chance, 1.0 perfect. Every interval is a 95 % percentile bootstrap over customers.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum

from sheets_health.calibration.transforms import SuggestedScoring
from sheets_health.model import Rag


@dataclass(frozen=True)
class Estimate:
    """A statistic with its 95 % interval (None when it cannot be computed)."""

    value: float | None
    low: float | None = None
    high: float | None = None

    @classmethod
    def of(cls, value: float, low: float = math.nan, high: float = math.nan) -> Estimate:
        def clean(x: float) -> float | None:
            return float(x) if math.isfinite(x) else None

        return cls(clean(value), clean(low), clean(high))

    def above(self, x: float) -> bool:
        """The whole interval lies above ``x`` (clear evidence, not a lucky sample)."""
        return self.low is not None and self.low > x

    def below(self, x: float) -> bool:
        return self.high is not None and self.high < x

    def text(self, digits: int = 2) -> str:
        if self.value is None:
            return "n/a"
        if self.low is None or self.high is None:
            return f"{self.value:.{digits}f}"
        return f"{self.value:.{digits}f} (95 % interval {self.low:.{digits}f}–" \
               f"{self.high:.{digits}f})"


@dataclass(frozen=True)
class Disagreement:
    customer_id: str
    gut: Rag
    score_rag: Rag
    score: float | None
    ordinal_distance: int  # 1: neighbouring colours, 2: Red against Green
    score_distance: float  # points the score is from the gut colour's band
    reasons: str = ""


@dataclass(frozen=True)
class Agreement:
    """Score colour against `Gut RAG` for active customers that have both."""

    customers: int
    accuracy: float | None
    kappa: float | None  # Cohen's kappa, linear weights, Red < Yellow < Green
    confusion: tuple[tuple[int, ...], ...]  # rows: gut Red, Yellow, Green; columns: score
    disagreements: tuple[Disagreement, ...]
    without_gut: int = 0
    without_score: int = 0


@dataclass(frozen=True)
class BandRate:
    rag: Rag | None  # None: customers with no score at the lead date
    customers: int
    churned: int

    @property
    def churn_rate(self) -> float | None:
        return self.churned / self.customers if self.customers else None


@dataclass(frozen=True)
class Backtest:
    outcomes: int  # cases used
    churned: int
    retained: int
    without_score: int
    auc: Estimate  # the score as it was at the lead date
    missed_churn: tuple[str, ...]  # churned while Green or Yellow at the lead date
    false_alarms: tuple[str, ...]  # Red at the lead date, then renewed or expanded
    bands: tuple[BandRate, ...]
    provenance: Mapping[str, int] = field(default_factory=dict)
    left_out: int = 0  # cases with today's values, left out
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class MeasureFinding:
    measure: str
    customers: int  # cases with a value
    auc: Estimate  # in the Scorecard's direction: below 0.5 means the data says the opposite
    basis: str  # "raw value" or "sub-score"
    sub_score_auc: float | None  # what the scorecard gets from it after its thresholds
    scorecard_direction: str
    data_direction: str  # "higher is healthier", "lower is healthier" or "unclear"
    wrong_direction: bool  # the interval lies below 0.5: clear evidence against the Scorecard
    weight: float  # its current weight on this scorecard


@dataclass(frozen=True)
class DoubleCount:
    first: str
    second: str
    rho: float  # Spearman, over the customers where both are present
    customers: int


@dataclass(frozen=True)
class MeasureSuggestion:
    measure: str
    weight: int  # suggested; 0 drops the measure
    current_weight: float
    scoring: SuggestedScoring | None = None  # None: keep its scoring and thresholds
    red_at: float | None = None
    green_at: float | None = None


@dataclass(frozen=True)
class CrossValidation:
    """Current and fitted weights scored on the same held-out customers."""

    folds: int
    repeats: int
    current: Estimate
    weights_only: Estimate
    with_scorings: Estimate | None  # None when no measure could take another scoring
    chosen: str  # "weights" or "weights and scorings"
    suggested: Estimate
    gain: Estimate  # suggested − current, paired over the same resamples


@dataclass(frozen=True)
class Suggestion:
    measures: tuple[MeasureSuggestion, ...]
    cv_auc_current: Estimate
    cv_auc_suggested: Estimate
    cv_auc_gain: Estimate


@dataclass(frozen=True)
class GroupReport:
    """One scorecard (``scorecard`` is its key, "" the default `Weight`) or all customers
    (``scorecard`` None)."""

    scorecard: str | None
    label: str
    agreement: Agreement
    backtest: Backtest
    measures: tuple[MeasureFinding, ...]  # strongest evidence first
    double_counts: tuple[DoubleCount, ...]
    suggestion: Suggestion | None
    why: str  # why there is no suggestion (or what the suggestion rests on)
    cross_validation: CrossValidation | None = None


@dataclass(frozen=True)
class CalibrationReport:
    lead_days: int
    overall: GroupReport
    scorecards: tuple[GroupReport, ...]
    method: Mapping[str, object]
    notes: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, object]:
        """Plain JSON types; NaN becomes null; ``suggestion`` is always present."""
        plain = _plain(self)
        assert isinstance(plain, dict)
        return plain


def _plain(value: object) -> object:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
        if isinstance(value, BandRate):
            out["churn_rate"] = _plain(value.churn_rate)
        return out
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value
