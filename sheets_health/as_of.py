"""Measures recomputed from event sources as of a past date: calibration's middle step.

A customer with an outcome but no snapshot from before its lead date would otherwise be judged
on today's values, which may postdate the outcome (a churned customer's usage is zero after it
left). Metrics from event sources that have a time column only count rows up to the run time
the sources are given (see `sheets_health.sources`), so loading them with the lead date as the
run time gives the value as it was then. `Tenure days` is the days from `Start date` to that
date. Sources are loaded once per distinct lead date (with every customer of that date at
once), not once per customer.

Not recomputable: a Customers column (a person typed today's value), an `agg = "column"` metric
(it reads a row whatever its time), a metric of a source without a time column, and a
`percentile` measure (its rank depends on who else was a customer that day).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import pandas as pd

from sheets_health import snapshots
from sheets_health import template as T
from sheets_health.backends import Backend
from sheets_health.cells import unitless
from sheets_health.config import Config
from sheets_health.model import Customer, ScoringKind, SheetModel, Table
from sheets_health.sources.spec import Agg

Entry = tuple[object, float | None]  # (raw value, sub-score), as a snapshot holds them


@dataclass(frozen=True)
class Recomputed:
    """Per customer id, the recomputed measures' (raw, sub-score) as of its lead date."""

    measures: frozenset[str]
    values: Mapping[str, Mapping[str, Entry]]
    loads: int  # source loads: one per distinct lead date


def recomputable(config: Config, model: SheetModel, customers: Table) -> frozenset[str]:
    """The Scorecard measures whose value as of a past date can be recomputed."""
    found = set()
    for m in model.measures:
        if m.kind is ScoringKind.PERCENTILE or customers.column(m.name) is not None:
            continue
        metric = config.metrics.get(m.name)
        if metric is None:
            if m.name == T.TENURE_DAYS:
                found.add(m.name)
            continue
        spec = config.sources.get(metric.source)
        if spec is not None and spec.time_column is not None and metric.agg is not Agg.COLUMN:
            found.add(m.name)
    return frozenset(found)


def fully_recomputable(model: SheetModel, customer: Customer, scorecards: Sequence[str],
                       measures: frozenset[str]) -> bool:
    """Every measure that counts on the customer's scorecards can be recomputed (a measure a
    person typed today could postdate the outcome, so the case stays "today's values")."""
    counting = [m.name for m in model.measures if any(m.weight(k) > 0 for k in scorecards)]
    return bool(counting) and all(name in measures for name in counting)


def recompute(config: Config, backend: Backend, tables: Mapping[str, Table],
              model: SheetModel, today_raw: pd.DataFrame, lead_dates: Mapping[str, dt.date],
              zone: dt.tzinfo | None, measures: frozenset[str]) -> Recomputed:
    """The ``measures`` of each customer in ``lead_dates`` (id → lead date) as of the end of
    that day in the sheet's zone; other measures keep today's raw value."""
    if not measures or not lead_dates:
        return Recomputed(measures, {}, 0)
    by_id = {c.id: c for c in model.customers}
    metrics = {n: s for n, s in config.metrics.items() if n in measures}
    sub_config = replace(config, metrics=metrics)
    by_date: dict[dt.date, list[Customer]] = {}
    for cid, day in lead_dates.items():
        by_date.setdefault(day, []).append(by_id[cid])
    out: dict[str, dict[str, Entry]] = {}
    loads = 0
    for day in sorted(by_date):
        group = by_date[day]
        ids = [c.id for c in group]
        raw = today_raw.reindex(ids).astype(object)
        if metrics:
            frame = _metrics_as_of(sub_config, backend, tables,
                                   dt.datetime.combine(day, dt.time.max, tzinfo=zone), ids)
            loads += 1
            for name in metrics:
                raw[name] = frame[name].reindex(ids).map(unitless).astype(object)
        if T.TENURE_DAYS in measures and T.TENURE_DAYS not in metrics:
            raw[T.TENURE_DAYS] = [None if c.start_date is None or c.start_date > day
                                  else (day - c.start_date).days for c in group]
        for snap in snapshots.take(model, raw, day, group):
            out[snap.customer_id] = {n: e for n, e in snap.measures.items() if n in measures}
    return Recomputed(measures, out, loads)


def _metrics_as_of(config: Config, backend: Backend, tables: Mapping[str, Table],
                   run_at: dt.datetime, ids: Sequence[str]) -> pd.DataFrame:
    """Every metric of ``config`` at ``run_at``; customers the source has no rows for get the
    metric's `default` (as the sync gives them). Staleness does not apply to a past date."""
    from sheets_health import sources
    from sheets_health.sync import source_tab_reader

    read_tab = source_tab_reader(config, backend, tables)
    result = sources.load_metrics(config, run_at, read_tab=read_tab, allow_empty=True)
    frame = result.frame.reindex(index=result.frame.index.union(pd.Index(ids)))
    for name, default in result.defaults.items():
        frame[name] = frame[name].where(frame[name].notna(), default)
    return frame
