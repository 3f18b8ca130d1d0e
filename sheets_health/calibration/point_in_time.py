"""Which values a backtest may use: the measures as they were `lead` days before the outcome.

A churned customer's usage is zero after it left; today's values would "predict" its churn
perfectly and mean nothing. So each customer's values are taken, in this order, from:

1. the snapshot nearest before (or on) the lead date, ``outcome date − lead days``;
2. for metrics from event sources with a time column, the metric recomputed as of that date
   (the caller recomputes; here it only says that this fallback applies);
3. today's values — which the report names plainly, since they may postdate the outcome.

`pick_point_in_time` decides for one customer; `SnapshotPicker` does the same for many
customers over a snapshot store read in chunks (memory bounded by the chunk, not the store).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sheets_health.calibration.inputs import CalibrationInputError, Provenance

DEFAULT_LEAD_DAYS = 90


@dataclass(frozen=True)
class PointInTime:
    provenance: Provenance
    as_of: dt.date  # outcome date − lead days
    snapshot_day: dt.date | None = None

    @property
    def note(self) -> str:
        if self.snapshot_day is not None:
            age = (self.as_of - self.snapshot_day).days
            when = "on the lead date" if age == 0 else f"{age} days before the lead date"
            return f"snapshot of {self.snapshot_day.isoformat()} ({when})"
        if self.provenance is Provenance.RECOMPUTED:
            return (f"no snapshot on or before {self.as_of.isoformat()}: measures recomputed "
                    "from event sources as of that date")
        return (f"no snapshot on or before {self.as_of.isoformat()}: today's values, which "
                "may postdate the outcome")


def lead_date(outcome_date: dt.date, lead_days: int) -> dt.date:
    if lead_days < 0:
        raise CalibrationInputError(f"lead days must be 0 or more, got {lead_days}")
    return outcome_date - dt.timedelta(days=lead_days)


def pick_point_in_time(snapshot_days: Iterable[dt.date], outcome_date: dt.date,
                       lead_days: int = DEFAULT_LEAD_DAYS, recomputable: bool = False
                       ) -> PointInTime:
    """The snapshot day to use for one customer, else which fallback applies.

    ``recomputable``: every measure of the customer's scorecards comes from an event source
    that can be recomputed as of a past date (one that cannot makes the fallback today's
    values). A snapshot after the lead date is never used, however close to it.
    """
    as_of = lead_date(outcome_date, lead_days)
    before = [d for d in snapshot_days if d <= as_of]
    if before:
        return PointInTime(Provenance.SNAPSHOT, as_of, max(before))
    fallback = Provenance.RECOMPUTED if recomputable else Provenance.CURRENT
    return PointInTime(fallback, as_of)


_EPOCH = np.datetime64("1970-01-01", "D")


def _days(values: pd.Series | pd.Index) -> np.ndarray:
    """Dates as whole days since 1970 (int64), whatever the caller's date type."""
    return (pd.to_datetime(values).to_numpy(dtype="datetime64[D]") - _EPOCH).astype(np.int64)


class SnapshotPicker:
    """Accumulates, per customer, the latest snapshot on or before its lead date.

    ``as_of``: customer id → lead date (one outcome per customer). Each chunk passed to `add`
    is a frame with ``customer_id``, ``day`` and value columns (the same columns in every
    chunk); rows of other customers or after the lead date are ignored. A later row for the
    same customer and day replaces an earlier one, as a later sync the same day does.
    """

    def __init__(self, as_of: pd.Series) -> None:
        if not as_of.index.is_unique:
            raise CalibrationInputError("one lead date per customer: duplicate customer ids")
        self._ids = pd.Index(as_of.index.astype(str))
        self._as_of = _days(pd.Series(as_of.to_numpy()))
        self._best = np.full(len(self._ids), np.iinfo(np.int64).min, dtype=np.int64)
        self._columns: dict[str, np.ndarray] = {}

    def add(self, chunk: pd.DataFrame) -> None:
        if "customer_id" not in chunk.columns or "day" not in chunk.columns:
            raise CalibrationInputError("a snapshot chunk needs customer_id and day columns")
        codes = self._ids.get_indexer(chunk["customer_id"].astype(str))
        days = _days(chunk["day"])
        keep = codes >= 0
        keep[keep] = days[keep] <= self._as_of[codes[keep]]
        rows = np.flatnonzero(keep)
        if len(rows) == 0:
            return
        codes, days = codes[rows], days[rows]
        order = np.lexsort((np.arange(len(rows)), days, codes))  # last of equal days wins
        codes, days, rows = codes[order], days[order], rows[order]
        last = np.r_[codes[1:] != codes[:-1], True]
        codes, days, rows = codes[last], days[last], rows[last]
        newer = days >= self._best[codes]
        codes, days, rows = codes[newer], days[newer], rows[newer]
        self._best[codes] = days
        for name in chunk.columns.drop(["customer_id", "day"]):
            values = chunk[name].to_numpy()[rows]
            target = self._columns.get(name)
            if target is None:
                kind = float if values.dtype.kind in "fiub" else object
                target = np.full(len(self._ids), np.nan, dtype=kind)
                self._columns[name] = target
            elif target.dtype != object and values.dtype.kind not in "fiub":
                target = target.astype(object)
                self._columns[name] = target
            target[codes] = values

    def result(self) -> tuple[pd.DataFrame, pd.Series]:
        """(values, snapshot day): values indexed by customer id, NaN rows for customers with
        no snapshot on or before their lead date (whose day is NaT)."""
        found = self._best != np.iinfo(np.int64).min
        days = np.where(found, self._best, 0).astype("datetime64[D]")
        day = pd.Series(pd.to_datetime(days), index=self._ids, name="day").where(found)
        values = pd.DataFrame(self._columns, index=self._ids)
        return values, day.dt.date.where(found, None)

    def provenance(self, recomputable: pd.Series | None = None) -> pd.Series:
        """Per customer: snapshot when one was found, else recomputed where ``recomputable``
        (customer id → bool) says so, else current."""
        found = pd.Series(self._best != np.iinfo(np.int64).min, index=self._ids)
        can = (recomputable.reindex(self._ids).fillna(False).astype(bool)
               if recomputable is not None else pd.Series(False, index=self._ids))
        return pd.Series(np.where(found, Provenance.SNAPSHOT.value,
                                  np.where(can, Provenance.RECOMPUTED.value,
                                           Provenance.CURRENT.value)),
                         index=self._ids, name="provenance")


def pick_snapshots(chunks: Iterable[pd.DataFrame], as_of: pd.Series
                   ) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    """`SnapshotPicker` over every chunk: (values, snapshot day, provenance without
    recomputation)."""
    picker = SnapshotPicker(as_of)
    for chunk in chunks:
        picker.add(chunk)
    values, day = picker.result()
    return values, day, picker.provenance()
