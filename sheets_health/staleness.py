"""Stale sources: a source whose newest row is older than its `max_age_days` has stopped
updating (an export job that died, a warehouse table nobody refreshes). Its metrics count as
missing — the missing-data policy and the coverage floor decide — rather than scoring
customers on old data, and the sync says so in a warning.

The age is measured where the data lives: one hidden `days_since` metric per such source rides
along the source's own aggregation (inside the database for SQL, in DuckDB for files), and the
source's age is the smallest value over its customers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

import pandas as pd

from sheets_health.cells import format_number
from sheets_health.config import Config
from sheets_health.sources.spec import Agg, MetricSpec

AGE_PREFIX = "\x00age:"  # hidden metric names: no Scorecard measure can be called this


def age_metric(source: str) -> str:
    return AGE_PREFIX + source


def with_age_metrics(config: Config) -> Config:
    """The config with one hidden age metric per used source that has `max_age_days`."""
    used = {m.source for m in config.metrics.values()}
    extra = {age_metric(name): MetricSpec(age_metric(name), name, Agg.DAYS_SINCE)
             for name, spec in config.sources.items()
             if spec.max_age_days is not None and name in used}
    return replace(config, metrics={**config.metrics, **extra}) if extra else config


@dataclass(frozen=True)
class Stale:
    source: str
    age_days: float | None  # None: no row has a time
    max_age_days: float
    metrics: tuple[str, ...]

    def warning(self) -> str:
        age = "has no dated rows" if self.age_days is None else \
            f"is {format_number(round(self.age_days, 1))} days old"
        names = ", ".join(self.metrics)
        return (f"source '{self.source}' is stale: its newest row {age} (max_age_days = "
                f"{format_number(self.max_age_days)}), so {names} count as missing; "
                "check the export or job that feeds it")


def stale_sources(config: Config, ages: Mapping[str, float | None]) -> tuple[Stale, ...]:
    """``ages``: source → the age of its newest row in days (None: unknown)."""
    found = []
    for name, spec in config.sources.items():
        if spec.max_age_days is None or name not in ages:
            continue
        age = ages[name]
        if age is None or age > spec.max_age_days:
            metrics = tuple(m.name for m in config.metrics.values()
                            if m.source == name and not m.name.startswith(AGE_PREFIX))
            found.append(Stale(name, age, spec.max_age_days, metrics))
    return tuple(found)


def drop_stale(config: Config, frame: pd.DataFrame) -> tuple[pd.DataFrame, tuple[Stale, ...]]:
    """The metrics frame without the hidden age columns, a stale source's metrics blanked."""
    hidden = [c for c in frame.columns if str(c).startswith(AGE_PREFIX)]
    ages: dict[str, float | None] = {}
    for column in hidden:
        values = frame[column].dropna()
        ages[str(column)[len(AGE_PREFIX):]] = float(values.min()) if len(values) else None
    out = frame.drop(columns=hidden)
    stale = stale_sources(config, ages)
    for found in stale:
        for name in found.metrics:
            if name in out.columns:
                out[name] = pd.Series([None] * len(out), index=out.index, dtype=object) \
                    if out[name].dtype == object else float("nan")
    return out, stale
