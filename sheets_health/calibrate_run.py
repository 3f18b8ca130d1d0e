"""The `calibrate` command's work: gather what calibration needs, run it, plan the writes.

Reads the sheet (and the `[history]` database when configured) in full — calibration is an
occasional, deliberate run, unlike the sync, whose reads stay bounded. The statistics are the
pure `sheets_health.calibration` library; the Calibration tab and the terminal text come from
`sheets_health.calibration_sheet`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sheets_health import as_of, snapshots
from sheets_health import template as T
from sheets_health.backends import Backend, open_backend
from sheets_health.calibration import (
    ActiveCustomers,
    CalibrationReport,
    OutcomeCases,
    SnapshotPicker,
    calibrate,
)
from sheets_health.calibration.point_in_time import DEFAULT_LEAD_DAYS
from sheets_health.calibration.transforms import scorecard_scores
from sheets_health.cells import is_blank, key_text, parse_number
from sheets_health.config import Config
from sheets_health.errors import ContractError, Problem
from sheets_health.lock import sheet_lock
from sheets_health.model import (
    DEFAULT_SCORECARD,
    ApplyResult,
    Customer,
    CustomerStatus,
    MissingPolicy,
    Rag,
    RollUp,
    SheetModel,
    Table,
    WritePlan,
)
from sheets_health.sync import score

SET_LEAD_DAYS = T.SET_CALIBRATION_LEAD_DAYS
GUT_RAG = "Gut RAG"
OUTCOMES = (CustomerStatus.CHURNED.value, CustomerStatus.RENEWED.value,
            CustomerStatus.EXPANDED.value)
_FILL = {MissingPolicy.NEUTRAL: 50.0, MissingPolicy.ZERO: 0.0}


@dataclass(frozen=True)
class CalibrateResult:
    report: CalibrationReport
    run_at: dt.datetime
    sheet: str
    plan: WritePlan
    applied: ApplyResult | None
    dry_run: bool
    suggested_written: bool
    without_date: tuple[str, ...]  # customers with an outcome but no Status date


def lead_days(settings: Table | None) -> int:
    """`Calibration lead days` from Settings (default 90): a whole number of days ≥ 0."""
    if settings is None:
        return DEFAULT_LEAD_DAYS
    for i, row in enumerate(settings.row_numbers):
        if key_text(settings.value(i, T.SETTING)).casefold() != SET_LEAD_DAYS.casefold():
            continue
        value = settings.value(i, T.VALUE)
        if is_blank(value):
            return DEFAULT_LEAD_DAYS
        try:
            n = parse_number(value)
        except (TypeError, ValueError):
            n = -1.0
        if n < 0 or n != int(n):
            raise ContractError([Problem(
                settings.tab, row, settings.header_of(T.VALUE),
                f"'{key_text(value)}' is not a whole number of days",
                f"write how many days before the outcome calibration looks, e.g. "
                f"{DEFAULT_LEAD_DAYS}")])
        return int(n)
    return DEFAULT_LEAD_DAYS


def gut_rags(customers: Table, model: SheetModel) -> dict[str, Rag | None]:
    """`Gut RAG` per customer id; a value that is not a colour is bad input, named."""
    col = customers.column(GUT_RAG)
    out: dict[str, Rag | None] = {c.id: None for c in model.customers}
    if col is None:
        return out
    problems = []
    rows = {key_text(customers.value(i, T.CUSTOMER_ID)): i for i in range(len(customers.rows))}
    for c in model.customers:
        cell = customers.value(rows[c.id], GUT_RAG)
        if is_blank(cell):
            continue
        try:
            out[c.id] = Rag(key_text(cell).strip().capitalize())
        except ValueError:
            problems.append(Problem(customers.tab, c.row, customers.header_of(GUT_RAG),
                                    f"'{key_text(cell)}' is not Green, Yellow or Red",
                                    "pick Green, Yellow or Red from the list, or leave it blank"))
    if problems:
        raise ContractError(problems)
    return out


def scorecards_of(customer: Customer) -> tuple[str, ...]:
    return customer.outcomes or (DEFAULT_SCORECARD,)


# ----------------------------------------------------------------------------- snapshots


def _tab_chunks(table: Table | None, names: Sequence[str], rows: int = 20_000
                ) -> Iterator[pd.DataFrame]:
    """The Snapshots tab as frames of customer_id, day, raw:<m>, sub:<m>."""
    if table is None or not table.rows:
        return
    columns = ["customer_id", "day", *(f"raw:{m}" for m in names), *(f"sub:{m}" for m in names)]
    for start in range(0, len(table.rows), rows):
        records = []
        for i in range(start, min(start + rows, len(table.rows))):
            day = table.value(i, T.DATE)
            cid = key_text(table.value(i, T.CUSTOMER_ID))
            if not cid or not isinstance(day, dt.date):
                continue
            measures = snapshots.parse_measures(table.value(i, T.MEASURES))
            raw = [measures.get(m, (None, None))[0] for m in names]
            sub = [measures.get(m, (None, None))[1] for m in names]
            records.append([cid, day, *[_number(v) for v in raw],
                            *[np.nan if v is None else v for v in sub]])
        yield pd.DataFrame(records, columns=columns)


def _number(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return float("nan")
    return float(value)


def _lead_date(customer: Customer, lead: int) -> dt.date:
    assert customer.status_date is not None
    return customer.status_date - dt.timedelta(days=lead)


# ----------------------------------------------------------------------------- inputs


def gather(config: Config, backend: Backend, now: dt.datetime
           ) -> tuple[SheetModel, OutcomeCases, ActiveCustomers, int, tuple[str, ...],
                      dict[str, Table], dt.datetime]:
    scored = score(config, backend, now)
    model = scored.model
    assert scored.run_at is not None
    today = scored.run_at.date()
    tables = dict(scored.tables)
    tables.update(backend.read([T.SNAPSHOTS, T.CALIBRATION]))  # whole: calibrate reads all
    lead = lead_days(tables.get(T.SETTINGS))
    guts = gut_rags(tables[T.CUSTOMERS], model)
    names = [m.name for m in model.measures]

    active_customers = [c for c in model.customers if not c.inactive]
    active = ActiveCustomers.from_frame(pd.DataFrame({
        "customer_id": [c.id for c in active_customers],
        "scorecards": [scorecards_of(c) for c in active_customers],
        "score": [np.nan if scored.scores[c.id].score is None else scored.scores[c.id].score
                  for c in active_customers],
        "rag": [None if (r := scored.scores[c.id].computed_rag) is None else r.value
                for c in active_customers],
        "gut_rag": [None if guts[c.id] is None else guts[c.id].value  # type: ignore[union-attr]
                    for c in active_customers],
        "reasons": [scored.scores[c.id].reasons for c in active_customers],
    }))

    with_outcome = [c for c in model.customers if (c.status or "") in OUTCOMES]
    without_date = tuple(c.id for c in with_outcome if c.status_date is None)
    cases_of = [c for c in with_outcome if c.status_date is not None]
    assert all(c.status_date is not None for c in cases_of)
    lead_dates = pd.Series([_lead_date(c, lead) for c in cases_of],
                           index=[c.id for c in cases_of], dtype=object)
    picker = SnapshotPicker(lead_dates)
    if config.history_url is not None:
        from sheets_health.snapshot_store import SnapshotStore

        chunks: Iterator[pd.DataFrame] = SnapshotStore(config.history_url).chunks(names)
    else:
        chunks = _tab_chunks(tables.get(T.SNAPSHOTS), names)
    for chunk in chunks:
        picker.add(chunk)
    picked, day = picker.result()
    missing = {c.id: _lead_date(c, lead) for c in cases_of if pd.isna(day[c.id])}
    measures = as_of.recomputable(config, model, tables[T.CUSTOMERS])
    rec = as_of.recompute(config, backend, tables, model, scored.raw, missing,
                          scored.run_at.tzinfo, measures)
    provenance = picker.provenance(pd.Series(
        {c.id: as_of.fully_recomputable(model, c, scorecards_of(c), measures)
         for c in cases_of if c.id in missing}, dtype=bool))
    current = {s.customer_id: s for s in snapshots.take(model, scored.raw, today, cases_of)}
    ids = [c.id for c in cases_of]
    raw_values = np.full((len(ids), len(names)), np.nan)
    sub_values = np.full((len(ids), len(names)), np.nan)
    for i, cid in enumerate(ids):
        for j, m in enumerate(names):
            if provenance[cid] == "snapshot":
                for target, prefix in ((raw_values, "raw:"), (sub_values, "sub:")):
                    if prefix + m in picked.columns:
                        target[i, j] = _number(picked.at[cid, prefix + m])
            else:  # recomputed as of the lead date where it can be, else today's
                now_raw, now_sub = rec.values.get(cid, {}).get(m) or \
                    current[cid].measures.get(m, (None, None))
                raw_values[i, j] = _number(now_raw)
                sub_values[i, j] = np.nan if now_sub is None else now_sub
    index = pd.RangeIndex(len(ids))
    raw = pd.DataFrame(raw_values, index=index, columns=names)
    sub = pd.DataFrame(sub_values, index=index, columns=names)
    scores = _scores(model, cases_of, sub_values)
    cases = OutcomeCases.from_frames(pd.DataFrame({
        "customer_id": ids,
        "outcome": [c.status for c in cases_of],
        "outcome_date": [c.status_date for c in cases_of],
        "scorecards": [scorecards_of(c) for c in cases_of],
        "score": scores,
        "rag": [None if np.isnan(s) else model.settings.rag(float(round(s))).value
                for s in scores],
        "provenance": [provenance[c] for c in ids],
    }, index=pd.RangeIndex(len(ids))), raw, sub, model.measures)
    return model, cases, active, lead, without_date, tables, scored.run_at


def _scores(model: SheetModel, customers: Sequence[Customer], sub: np.ndarray) -> np.ndarray:
    """Each case's score from its point-in-time sub-scores under today's Scorecard (the
    weights being calibrated), rolled up over its outcomes as Settings says."""
    settings = model.settings
    fills = np.array([_FILL.get(m.missing or settings.missing, np.nan) for m in model.measures])
    keys = [DEFAULT_SCORECARD, *model.scorecards]
    per_key = {k: scorecard_scores(sub, np.array([m.weight(k) for m in model.measures]), fills)
               for k in keys}
    out = np.full(len(customers), np.nan)
    for i, c in enumerate(customers):
        values = [per_key[k][i] for k in scorecards_of(c) if k in per_key]
        if values and not any(np.isnan(values)):
            out[i] = min(values) if settings.rollup is RollUp.MIN else float(np.mean(values))
    return out


# ----------------------------------------------------------------------------- the run


def run_calibrate(config: Config, *, backend: Backend | None = None,
                  now: dt.datetime | None = None, dry_run: bool = False,
                  suggest: bool = False) -> CalibrateResult:
    from sheets_health.calibration_sheet import plan_calibration

    backend = backend or open_backend(config.sheet)
    with sheet_lock(config):
        model, cases, active, lead, without_date, tables, run_at = gather(
            config, backend, now or dt.datetime.now())
        report = calibrate(model.measures, model.scorecards, model.settings, cases, active,
                           lead)
        stamp = run_at.replace(tzinfo=None, microsecond=0)
        plan, wrote_suggestion = plan_calibration(report, model, tables, stamp, suggest,
                                                  without_date)
        applied = None if dry_run else backend.apply(plan)
    return CalibrateResult(report, run_at, backend.description, plan, applied, dry_run,
                           wrote_suggestion and not dry_run, without_date)
