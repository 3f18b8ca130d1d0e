"""What calibration is given: typed, validated once at the boundary (the DataFrame contract).

The caller (the `calibrate` command) gathers the data; nothing here reads a sheet or a store.

**Outcome cases** — one row per customer with an outcome (`Status` churned, renewed or
expanded, and its `Status date`), with everything *as it was `lead` days before the outcome*.
`OutcomeCases.from_frames(cases, raw, sub_scores, measures)` takes three frames on the same
index:

==============  =============================================================================
``cases``       ``customer_id`` (text), ``outcome`` (``churned`` / ``renewed`` /
                ``expanded``), ``outcome_date`` (date), ``scorecards`` (tuple of scorecard
                keys: outcome names, ``""`` for the default `Weight`), ``score`` (0–100, NaN
                when there was no score), ``rag`` (``Green`` / ``Yellow`` / ``Red`` / None),
                ``provenance`` (``snapshot`` / ``recomputed`` / ``current``: where the values
                came from, see `Provenance`)
``raw``         one float column per Scorecard measure: its raw value (NaN when missing or not
                a number, e.g. a category)
``sub_scores``  one float column per Scorecard measure: its 0–100 sub-score (NaN when missing
                or left out)
==============  =============================================================================

**Active customers** — `ActiveCustomers.from_frame(frame)`: ``customer_id``, ``scorecards``,
``score`` (NaN: none), ``rag`` (the computed colour, before any override), ``gut_rag`` (None
when blank) and optionally ``reasons`` (the Reasons text, shown beside a disagreement).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import pandas as pd

from sheets_health.calibration.stats import BoolArray, FloatArray
from sheets_health.model import CustomerStatus, Measure, Rag


class CalibrationInputError(ValueError):
    """The caller handed calibration data that breaks the contract above."""


class Provenance(StrEnum):
    """Where a customer's point-in-time measures came from, best first."""

    SNAPSHOT = "snapshot"  # the snapshot nearest before the lead date
    RECOMPUTED = "recomputed"  # event-source metrics recomputed as of the lead date
    CURRENT = "current"  # today's values: they may postdate the outcome


_CASE_COLUMNS = ("customer_id", "outcome", "outcome_date", "scorecards", "score", "rag",
                 "provenance")
_ACTIVE_COLUMNS = ("customer_id", "scorecards", "score", "rag", "gut_rag")


def _require(frame: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise CalibrationInputError(f"{what} lacks column(s) {', '.join(missing)}")


def _rag(value: object, what: str) -> Rag | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    try:
        return Rag(str(value))
    except ValueError:
        raise CalibrationInputError(f"{what}: {value!r} is not Green, Yellow or Red") from None


def _scorecards(value: object, what: str) -> tuple[str, ...]:
    if isinstance(value, tuple) and all(isinstance(v, str) for v in value):
        return value if value else ("",)
    raise CalibrationInputError(f"{what}: scorecards must be a tuple of text, got {value!r}")


def _matrix(frame: pd.DataFrame, index: pd.Index, names: Sequence[str], what: str
            ) -> FloatArray:
    if not frame.index.equals(index):
        raise CalibrationInputError(f"{what} must have the same index (rows) as the cases")
    unknown = [c for c in frame.columns if c not in names]
    if unknown:
        raise CalibrationInputError(f"{what} has columns that are not Scorecard measures: "
                                    f"{', '.join(map(str, unknown))}")
    try:
        values = frame.reindex(columns=list(names)).to_numpy(dtype=float, na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise CalibrationInputError(f"{what} must hold numbers (NaN when missing)") from exc
    return values


@dataclass(frozen=True, eq=False)
class OutcomeCases:
    """Customers with an outcome, parsed into arrays (row i of each is one case)."""

    customer_ids: tuple[str, ...]
    churned: BoolArray
    outcome_dates: tuple[dt.date, ...]
    scorecards: tuple[tuple[str, ...], ...]
    score: FloatArray
    rag: tuple[Rag | None, ...]
    provenance: tuple[Provenance, ...]
    measures: tuple[str, ...]
    raw: FloatArray  # cases × measures
    sub_scores: FloatArray  # cases × measures, 0–100

    @classmethod
    def from_frames(cls, cases: pd.DataFrame, raw: pd.DataFrame, sub_scores: pd.DataFrame,
                    measures: Sequence[Measure]) -> OutcomeCases:
        _require(cases, _CASE_COLUMNS, "the outcome cases")
        names = tuple(m.name for m in measures)
        outcomes = []
        for i, value in enumerate(cases["outcome"]):
            try:
                status = CustomerStatus(value)
            except ValueError:
                status = CustomerStatus.ACTIVE
            if status is CustomerStatus.ACTIVE:
                raise CalibrationInputError(
                    f"outcome case {cases['customer_id'].iat[i]}: outcome {value!r} must be "
                    "churned, renewed or expanded")
            outcomes.append(status)
        try:
            provenance = tuple(Provenance(v) for v in cases["provenance"])
        except ValueError as exc:
            raise CalibrationInputError(f"provenance must be snapshot, recomputed or current "
                                        f"({exc})") from None
        sub = _matrix(sub_scores, cases.index, names, "the sub-scores")
        if np.any((sub < 0) | (sub > 100)):
            raise CalibrationInputError("sub-scores must lie between 0 and 100")
        ids = tuple(str(v) for v in cases["customer_id"])
        return cls(
            customer_ids=ids,
            churned=np.array([o is CustomerStatus.CHURNED for o in outcomes], dtype=bool),
            outcome_dates=tuple(cases["outcome_date"]),
            scorecards=tuple(_scorecards(v, f"outcome case {c}")
                             for c, v in zip(ids, cases["scorecards"], strict=True)),
            score=cases["score"].to_numpy(dtype=float, na_value=np.nan),
            rag=tuple(_rag(v, f"outcome case {c}")
                      for c, v in zip(ids, cases["rag"], strict=True)),
            provenance=provenance,
            measures=names,
            raw=_matrix(raw, cases.index, names, "the raw values"),
            sub_scores=sub,
        )

    def __len__(self) -> int:
        return len(self.customer_ids)


@dataclass(frozen=True, eq=False)
class ActiveCustomers:
    """Active customers' current colour beside the team's gut colour."""

    customer_ids: tuple[str, ...]
    scorecards: tuple[tuple[str, ...], ...]
    score: FloatArray
    rag: tuple[Rag | None, ...]
    gut_rag: tuple[Rag | None, ...]
    reasons: tuple[str, ...]

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> ActiveCustomers:
        _require(frame, _ACTIVE_COLUMNS, "the active customers")
        ids = tuple(str(v) for v in frame["customer_id"])
        reasons = (tuple("" if not isinstance(v, str) else v for v in frame["reasons"])
                   if "reasons" in frame.columns else ("",) * len(ids))
        return cls(
            customer_ids=ids,
            scorecards=tuple(_scorecards(v, f"customer {c}")
                             for c, v in zip(ids, frame["scorecards"], strict=True)),
            score=frame["score"].to_numpy(dtype=float, na_value=np.nan),
            rag=tuple(_rag(v, f"customer {c}") for c, v in zip(ids, frame["rag"], strict=True)),
            gut_rag=tuple(_rag(v, f"customer {c} Gut RAG")
                          for c, v in zip(ids, frame["gut_rag"], strict=True)),
            reasons=reasons,
        )

    @classmethod
    def empty(cls) -> ActiveCustomers:
        return cls((), (), np.zeros(0), (), (), ())


@dataclass(frozen=True)
class CalibrationOptions:
    """The analyst's knobs, each with the default the report explains.

    ``min_per_class``: a suggestion needs at least this many churned and this many retained
    customers. ``use_current_values``: include cases whose measures are today's values (they
    may postdate the outcome, so by default they are left out of the backtest).
    """

    seed: int = 0
    n_boot: int = 1000
    folds: int = 5
    repeats: int = 3
    min_per_class: int = 10
    top_disagreements: int = 10
    double_count_rho: float = 0.7
    use_current_values: bool = False
    l2: float = 1.0  # ridge penalty on the weights (per unit of sub-score / 100)
    l1: float = 1.0  # lasso penalty: with weights ≥ 0 it is linear, and drops weak measures
