"""Orchestration: read the sheet → load sources → score → plan the writes → apply.

Knows backends and sources only through their protocols. A dry run returns the plan and
writes nothing.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd

from sheets_health import tails
from sheets_health import template as T
from sheets_health.backends import Backend, open_backend
from sheets_health.cells import is_blank, key_text
from sheets_health.config import Config
from sheets_health.contract import check_values, history_points, read_model
from sheets_health.errors import LockedError, SourceError, UnsafeInputError
from sheets_health.model import (
    ApplyResult,
    CellValue,
    CustomerScore,
    Rag,
    SheetModel,
    Table,
    WritePlan,
)
from sheets_health.plan import plan_customers, plan_history, plan_sync_log
from sheets_health.scoring import score_customers

READ_TABS = (T.CUSTOMERS, T.SCORECARD, T.SETTINGS, T.HISTORY, T.SYNC_LOG)
Progress = Callable[[str, int, int], None]
CELL_LIMIT = 10_000_000  # Google's cells per spreadsheet
CELL_WARNING = 0.8


@dataclass(frozen=True)
class Scored:
    """Everything scoring produced, before any write is planned."""

    model: SheetModel
    scores: Mapping[str, CustomerScore]
    raw: pd.DataFrame
    tables: Mapping[str, Table]
    unknown_ids: Mapping[str, list[str]] = field(default_factory=dict)
    history: tails.HistoryState = field(default_factory=tails.HistoryState)


@dataclass(frozen=True)
class SyncReport:
    run_at: dt.datetime
    dry_run: bool
    sheet: str
    customers: int
    scored: int
    not_enough_data: int
    by_health: Mapping[str, int]
    cells_changed: int
    rows_changed: int
    history_rows: int
    plan: WritePlan
    result: ApplyResult | None
    unknown_ids: Mapping[str, list[str]] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, object]:
        return {
            "run_at": self.run_at.isoformat(timespec="seconds"),
            "dry_run": self.dry_run,
            "sheet": self.sheet,
            "customers": self.customers,
            "scored": self.scored,
            "not_enough_data": self.not_enough_data,
            "by_health": dict(self.by_health),
            "cells_changed": self.cells_changed,
            "rows_changed": self.rows_changed,
            "history_rows": self.history_rows,
            "repaired": list(self.result.repaired) if self.result else [],
            "skipped": list(self.result.skipped) if self.result else [],
            "unknown_ids": {k: list(v) for k, v in self.unknown_ids.items()},
            "warnings": list(self.warnings),
        }


def wall_clock(now: dt.datetime) -> dt.datetime:
    """The machine's local wall time, naive: what `Scored at`, History dates and the Sync
    log show (spreadsheets have no time zones). An aware time is converted first."""
    return now.astimezone().replace(tzinfo=None) if now.tzinfo is not None else now


# ----------------------------------------------------------------------------- lock


def lock_path(config: Config) -> Path:
    """Beside the workbook; for a Google Sheet, in the user's cache, one per spreadsheet."""
    sheet = config.sheet
    if sheet.backend == "xlsx" and sheet.path is not None:
        return sheet.path.with_name(f".{sheet.path.name}.lock")  # hidden beside the workbook
    digest = hashlib.sha256(str(sheet.spreadsheet).encode()).hexdigest()[:16]
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "sheets-health" / f"{digest}.lock"


@contextlib.contextmanager
def run_lock(path: Path) -> Iterator[None]:
    """An OS lock released even when the process dies, so a stale lock never blocks cron."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LockedError(
                "another sheets-health run is working on this sheet",
                f"wait for it to finish (lock file {path})",
            ) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# ----------------------------------------------------------------------------- scoring


def _sheet_source_tabs(config: Config) -> list[str]:
    """Tabs of this sheet that sources read, fetched with the sync's own single read."""
    return [
        str(src["tab"]) for src in config.sources.values()
        if src.get("kind") == "sheet" and src.get("tab")
        and not src.get("spreadsheet") and not src.get("path")
    ]


def _source_values(
    config: Config, backend: Backend, tables: Mapping[str, Table], model: SheetModel,
    now: dt.datetime, force: bool, progress: Progress | None,
) -> tuple[pd.DataFrame, dict[str, list[str]]]:
    """Metrics from the config's sources, one column per metric, keyed by customer id.

    Customers a source knows nothing about get the metric's `default` when it has one (no
    tickets in the export means 0 tickets), else no value: the missing-data policy decides.
    """
    if not config.metrics:
        return pd.DataFrame(), {}
    from sheets_health import sources

    run_at = now if now.tzinfo is not None else now.astimezone()  # the machine's local zone

    def read_tab(spreadsheet: str | None, tab: str) -> Table:
        if spreadsheet is None and tab in tables:
            return tables[tab]
        other = backend if spreadsheet is None else open_backend(
            replace(config.sheet, backend="google", spreadsheet=spreadsheet))
        found = other.read([tab])
        if tab not in found:
            raise SourceError(f"the tab '{tab}' does not exist in {other.description}",
                              "fix the tab name in the source's config")
        return found[tab]

    # An empty source raises EmptySourceError (exit 5) unless --force lets it through.
    result = sources.load_metrics(config, run_at, read_tab=read_tab, progress=progress,
                                  allow_empty=force)
    ids = [c.id for c in model.customers]
    unknown = sources.unknown_ids(result, ids)
    frame = result.frame.reindex(index=result.frame.index.union(pd.Index(ids)))
    for name, default in result.defaults.items():
        frame[name] = frame[name].where(frame[name].notna(), default)
    return frame, unknown


def score(
    config: Config,
    backend: Backend,
    now: dt.datetime,
    *,
    force: bool = False,
    progress: Progress | None = None,
) -> Scored:
    now = wall_clock(now)
    tables = dict(backend.read([*READ_TABS, *_sheet_source_tabs(config)], marks=tails.MARKS))
    model = read_model(tables, list(config.metrics))
    history, model = _read_enough(backend, tables, model, now.date())
    model = replace(model, baselines=history.baselines)
    metrics, unknown = _source_values(config, backend, tables, model, now, force, progress)
    ids = [c.id for c in model.customers]
    names = [m.name for m in model.measures]
    sheet = pd.DataFrame.from_dict(  # object dtype: cells keep their own types (no NaT)
        {cid: dict(model.sheet_values.get(cid, {})) for cid in ids}, orient="index",
        dtype=object,
    ).reindex(index=ids)
    raw = pd.DataFrame(index=ids, columns=names, dtype=object)
    for name in names:
        if name in sheet.columns:
            raw[name] = sheet[name].astype(object)
        elif name in metrics.columns:
            raw[name] = metrics[name].reindex(ids).astype(object)
    customers = tables[T.CUSTOMERS]

    def locate(cid: str, measure: str) -> tuple[str, int | None, str | None]:
        if customers.column(measure) is not None:
            row = next(c.row for c in model.customers if c.id == cid)
            return customers.tab, row, customers.header_of(measure)
        source = str(config.metrics.get(measure, {}).get("source", measure))
        return f"[sources.{source}]", None, f"metric '{measure}' of customer {cid}"

    values: dict[str, dict[str, CellValue]] = {
        str(cid): {str(n): v for n, v in row.items() if not is_blank(v)}
        for cid, row in raw.to_dict(orient="index").items()
    }
    check_values(model.measures, values, locate)
    scores = score_customers(model, raw, now.date())
    return Scored(model, scores, raw, tables, unknown, history)


def _read_enough(backend: Backend, tables: dict[str, Table], model: SheetModel,
                 today: dt.date) -> tuple[tails.HistoryState, SheetModel]:
    """The bounded read of History and the Sync log, completed where it fell short: once
    from the trend bookmark on, or the whole tab (updates ``tables`` in place)."""
    ids = [c.id for c in model.customers]
    for attempt in range(3):
        state = tails.resolve_history(tables.get(T.HISTORY), model.history, ids, today,
                                      model.settings.trend_days)
        more = {T.HISTORY: state} if isinstance(state, tails.ReadMore) else {}
        log_more = tails.last_ok_missing(tables.get(T.SYNC_LOG))
        if log_more is not None:
            more[T.SYNC_LOG] = log_more
        if not more:
            assert isinstance(state, tails.HistoryState)
            return state, model
        starts = {tab: (m.from_row,) for tab, m in more.items()
                  if m.from_row is not None and attempt < 2}
        tables.update(backend.read(list(more), marks=starts))
        model = replace(model, history=history_points(tables.get(T.HISTORY)))
    raise AssertionError("a complete read always resolves")  # pragma: no cover


def _previous_customer_count(log: Table | None) -> int | None:
    if log is None or not log.rows or log.column("Customers") is None:
        return None
    for index in range(len(log.rows) - 1, -1, -1):
        if key_text(log.value(index, "Result")) == "ok":
            value = log.value(index, "Customers")
            return int(value) if isinstance(value, int | float) else None
    return None


def _safety_check(scored: Scored, force: bool) -> None:
    previous = _previous_customer_count(scored.tables.get(T.SYNC_LOG))
    now = len(scored.model.customers)
    if not force and previous and previous >= 4 and now < previous / 2:
        raise UnsafeInputError(
            f"the Customers tab has {now} customers but the last sync saw {previous}; "
            "refusing to write in case rows were deleted or filtered by mistake",
            "check the Customers tab; if the list really shrank, rerun with --force",
        )


# ----------------------------------------------------------------------------- sync


def run_sync(
    config: Config,
    *,
    backend: Backend | None = None,
    now: dt.datetime | None = None,
    dry_run: bool = False,
    force: bool = False,
    progress: Progress | None = None,
) -> SyncReport:
    backend = backend or open_backend(config.sheet)
    now = wall_clock(now or dt.datetime.now())
    with run_lock(lock_path(config)):
        scored = score(config, backend, now, force=force, progress=progress)
        _safety_check(scored, force)
        tables, model, scores = scored.tables, scored.model, scored.scores
        warnings: list[str] = []
        customers_plan = plan_customers(tables[T.CUSTOMERS], model, scores, now)
        tab_plans = [customers_plan]
        history = tables.get(T.HISTORY)
        history_plan = None
        if history is not None:
            history_plan = plan_history(history, model, scores, now.date(), scored.history)
            tab_plans.append(history_plan)
        else:
            warnings.append("no History tab: run `sheets-health init` to keep trends")
        warnings.extend(_growth_warnings(scored))
        cells = WritePlan(tuple(tab_plans)).cell_count()  # what changes, before the log row
        counts = _counts(scores)
        log = tables.get(T.SYNC_LOG)
        if log is not None:
            tab_plans.append(plan_sync_log(log, _log_row(now, force, counts, cells, scored),
                                           model.settings.sync_log_rows))
        plan = WritePlan(tuple(tab_plans))
        result = None if dry_run else backend.apply(plan)
    return SyncReport(
        run_at=now,
        dry_run=dry_run,
        sheet=backend.description,
        customers=len(model.customers),
        scored=counts["scored"],
        not_enough_data=counts["not_enough"],
        by_health={r.value: counts[r.value] for r in Rag},
        cells_changed=cells,
        rows_changed=len(customers_plan.updates),
        history_rows=len(history_plan.appends) if history_plan is not None else 0,
        plan=plan,
        result=result,
        unknown_ids=scored.unknown_ids,
        warnings=tuple(warnings),
    )


def _growth_warnings(scored: Scored) -> list[str]:
    """Warn before the spreadsheet runs into Google's cell limit, and when History's order
    makes every sync read all of it."""
    warnings = []
    if not scored.history.ordered:
        warnings.append(
            "History is not in date order (was it sorted?), so every sync reads all of it: "
            "sort History by Date, oldest first, to keep syncs small")
    cells = tails.cells_used(scored.tables.values())
    if cells >= CELL_WARNING * CELL_LIMIT:
        warnings.append(
            f"the spreadsheet holds {cells:,} cells, {cells / CELL_LIMIT:.0%} of Google's "
            f"{CELL_LIMIT:,}-cell limit: set '{T.SET_HISTORY_DAYS}' in Settings to delete old "
            "History rows, or move old History rows to another spreadsheet")
    return warnings


def _counts(scores: Mapping[str, CustomerScore]) -> dict[str, int]:
    counts = {r.value: 0 for r in Rag} | {"scored": 0, "not_enough": 0}
    for s in scores.values():
        counts["scored" if s.score is not None else "not_enough"] += 1
        if s.rag is not None:
            counts[s.rag.value] += 1
    return counts


def _log_row(
    now: dt.datetime, force: bool, counts: Mapping[str, int], cells: int, scored: Scored
) -> dict[str, CellValue]:
    unknown = sum(len(v) for v in scored.unknown_ids.values())
    message = f"{unknown} ids in sources are not customers" if unknown else ""
    return {
        "Run at": now.replace(microsecond=0),
        "Mode": "sync --force" if force else "sync",
        "Customers": len(scored.model.customers),
        "Scored": counts["scored"],
        "Not enough data": counts["not_enough"],
        "Cells changed": cells,
        "Result": "ok",
        "Message": message,
    }
