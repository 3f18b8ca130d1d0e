"""Orchestration: read the sheet → load sources → score → plan the writes → apply.

Knows backends and sources only through their protocols. A dry run returns the plan and
writes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

import pandas as pd

from sheets_health import action, collector, journey, snapshots, tails
from sheets_health import template as T
from sheets_health.backends import Backend, open_backend
from sheets_health.cells import key_text, unitless
from sheets_health.changes import ColourChange, colour_changes
from sheets_health.config import Backend as BackendKind
from sheets_health.config import Config
from sheets_health.contract import check_values, history_points, read_model
from sheets_health.errors import ContractError, Problem, SourceError, UnsafeInputError
from sheets_health.guards import check_colour_changes
from sheets_health.lock import lock_path, run_lock, sheet_lock
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
from sheets_health.preflight import CELL_LIMIT, check_before_write
from sheets_health.runlog import RESULT_OK, failures_logged, new_run_id
from sheets_health.scoring import cell_values, score_customers, sheet_frame
from sheets_health.summary_sheet import MIX_RANGE, read_whole
from sheets_health.zones import local_run_time, sheet_zone, zone_conflict

__all__ = ["Scored", "SyncReport", "lock_path", "run_lock", "run_sync", "score"]

READ_TABS = (T.CUSTOMERS, T.SCORECARD, T.SETTINGS, T.HISTORY, T.SYNC_LOG, T.SNAPSHOTS,
             *action.ACTION_TABS)
Progress = Callable[[str, int, int], None]
CELL_WARNING = 0.8


@dataclass(frozen=True)
class Scored:
    """Everything scoring produced, before any write is planned."""

    model: SheetModel
    scores: Mapping[str, CustomerScore]
    raw: pd.DataFrame
    tables: Mapping[str, Table]
    unknown_ids: Mapping[str, list[str]] = field(default_factory=dict)
    run_at: dt.datetime | None = None  # the run's instant in the sheet's zone (aware)
    warnings: tuple[str, ...] = ()
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
    changes: tuple[ColourChange, ...] = ()  # customers whose colour changes, in sheet order
    alerts: tuple[str, ...] = ()  # the Alerts tab rows this sync adds, as keys
    snapshots: int = 0  # customers whose measure snapshot for the day is written

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
            "changes": [c.as_dict() for c in self.changes],
            "alerts": list(self.alerts),
            "repaired": list(self.result.repaired) if self.result else [],
            "skipped": list(self.result.skipped) if self.result else [],
            "unknown_ids": {k: list(v) for k, v in self.unknown_ids.items()},
            "warnings": list(self.warnings),
            "snapshots": self.snapshots,
        }


def wall_clock(now: dt.datetime, zone: dt.tzinfo | None = None) -> dt.datetime:
    """Naive wall time in the sheet's zone (None: the machine's): what `Scored at`, History
    dates and the Sync log show, as cells hold no zone. A naive ``now`` is the machine's."""
    return local_run_time(now, zone).replace(tzinfo=None)


def _run_time(now: dt.datetime, model: SheetModel, backend: Backend
              ) -> tuple[dt.datetime, list[str]]:
    """The run's instant in the zone the sheet's days follow (`sheets_health.zones`)."""
    setting, own = model.settings.time_zone, backend.time_zone
    try:
        zone = sheet_zone(setting, own)
    except ValueError:
        raise ContractError([Problem(
            T.SETTINGS, None, None,
            f"the spreadsheet's own time zone '{own}' (File → Settings) is not known",
            f"add a '{T.SET_TIME_ZONE}' row to Settings with a zone such as Europe/Berlin, "
            "or pick a zone in File → Settings → Time zone",
        )]) from None
    conflict = zone_conflict(setting, own)
    return local_run_time(now, zone), [conflict] if conflict else []


# ----------------------------------------------------------------------------- scoring


def _sheet_source_tabs(config: Config) -> list[str]:
    """Tabs of this sheet that sources read, fetched with the sync's own single read."""
    return [tab for spec in config.sources.values() if (tab := spec.tab_of_this_sheet)]


def source_tab_reader(config: Config, backend: Backend, tables: Mapping[str, Table]
                      ) -> Callable[[str | None, str], Table]:
    """How sources read a sheet tab: this sheet's from the sync's own read when it has it,
    another spreadsheet's (a Google Sheet named by the source) in a read of its own."""

    def read_tab(spreadsheet: str | None, tab: str) -> Table:
        if spreadsheet is None and tab in tables:
            return tables[tab]
        other = backend if spreadsheet is None else open_backend(
            replace(config.sheet, backend=BackendKind.GOOGLE, spreadsheet=spreadsheet))
        found = other.read([tab])
        if tab not in found:
            raise SourceError(f"the tab '{tab}' does not exist in {other.description}",
                              "fix the tab name in the source's config")
        return found[tab]

    return read_tab


def _source_values(
    config: Config, backend: Backend, tables: Mapping[str, Table], model: SheetModel,
    now: dt.datetime, force: bool, progress: Progress | None,
) -> tuple[pd.DataFrame, dict[str, list[str]], list[str]]:
    """Metrics from the config's sources, one column per metric, keyed by customer id.

    Customers a source knows nothing about get the metric's `default` when it has one (no
    tickets in the export means 0 tickets), else no value: the missing-data policy decides.
    """
    if not config.metrics:
        return pd.DataFrame(), {}, []
    from sheets_health import sources, staleness

    run_at = now  # aware, in the sheet's zone: windows end at this instant
    read_tab = source_tab_reader(config, backend, tables)
    # An empty source raises EmptySourceError (exit 5) unless --force lets it through.
    result = sources.load_metrics(staleness.with_age_metrics(config), run_at,
                                  read_tab=read_tab, progress=progress, allow_empty=force)
    ids = [c.id for c in model.customers]
    unknown = sources.unknown_ids(result, ids)
    frame, stale = staleness.drop_stale(config, result.frame)
    frame = frame.reindex(index=frame.index.union(pd.Index(ids)))
    missing = {m for s in stale for m in s.metrics}
    for name, default in result.defaults.items():
        if name not in missing:  # a stale source's customers are not "no rows, so 0"
            frame[name] = frame[name].where(frame[name].notna(), default)
    return frame, unknown, [s.warning() for s in stale]


def score(
    config: Config,
    backend: Backend,
    now: dt.datetime,
    *,
    force: bool = False,
    progress: Progress | None = None,
) -> Scored:
    # the Snapshots tab only through its bookmarks (today's keys and fingerprints), and not
    # at all when snapshots go to the [history] database; Alerts and the Summary in the same
    # one read, the Summary as its row 1 and its colour-mix table (`summary_sheet`)
    tabs = [t for t in READ_TABS if t != T.SNAPSHOTS or config.history_url is None]
    tables = dict(backend.read([*tabs, *_sheet_source_tabs(config)],
                               marks={**tails.MARKS, **snapshots.MARKS,
                                      T.SUMMARY: (MIX_RANGE,)}))
    if T.SUMMARY in action.tables_for_action(tables) and read_whole(tables.get(T.SUMMARY)):
        tables.update(backend.read([T.SUMMARY]))  # drawn before its table's place: once
    model = read_model(tables, list(config.metrics))
    run_at, warnings = _run_time(now, model, backend)
    history, model = _read_enough(backend, tables, model, run_at.date())
    model = replace(model, baselines=history.baselines)
    metrics, unknown, stale = _source_values(config, backend, tables, model, run_at, force,
                                             progress)
    warnings += stale
    ids = [c.id for c in model.customers]
    names = [m.name for m in model.measures]
    sheet = sheet_frame(model)  # object dtype: cells keep their own types (no NaT, Percent)
    raw = pd.DataFrame(index=ids, columns=names, dtype=object)
    for name in names:
        if name in sheet.columns:
            raw[name] = sheet[name].astype(object)
        elif name in metrics.columns:
            raw[name] = metrics[name].reindex(ids).map(unitless).astype(object)
        elif name == T.TENURE_DAYS:
            raw[name] = tenure_days(model, run_at.date())
    customers = tables[T.CUSTOMERS]
    rows = {c.id: c.row for c in model.customers}

    def locate(cid: str, measure: str) -> tuple[str, int | None, str | None]:
        if customers.column(measure) is not None:
            return customers.tab, rows[cid], customers.header_of(measure)
        if measure == T.TENURE_DAYS and measure not in config.metrics:
            return customers.tab, rows[cid], customers.header_of(T.START_DATE)
        metric = config.metrics.get(measure)
        source = metric.source if metric is not None else measure
        return f"[sources.{source}]", None, f"metric '{measure}' of customer {cid}"

    values = cell_values(raw)
    check_values(model.measures, values, locate)
    scores = score_customers(model, raw, run_at.date())
    warnings.extend(journey.start_date_warnings(model.customers, model.settings.stages))
    return Scored(model, scores, raw, tables, unknown, run_at, tuple(warnings), history)


def tenure_days(model: SheetModel, today: dt.date) -> pd.Series:
    """`Tenure days`: days since each customer's Start date (None without one)."""
    return pd.Series([None if c.start_date is None else (today - c.start_date).days
                      for c in model.customers], index=[c.id for c in model.customers],
                     dtype=object)


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
        if key_text(log.value(index, "Result")) == RESULT_OK:  # error rows carry no counts
            value = log.value(index, "Customers")
            return int(value) if isinstance(value, int | float) else None
    return None


def _active(model: SheetModel) -> int:
    """Customers that are scored: inactive ones (churned…) count nowhere, the Sync log's
    `Customers` and the shrink check included."""
    return sum(1 for c in model.customers if not c.inactive)


def _safety_check(scored: Scored, force: bool) -> None:
    previous = _previous_customer_count(scored.tables.get(T.SYNC_LOG))
    now = _active(scored.model)
    active = "active " if now < len(scored.model.customers) else ""
    if not force and previous and previous >= 4 and now < previous / 2:
        raise UnsafeInputError(
            f"the Customers tab has {now} {active}customers but the last sync saw {previous}; "
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
    """One sync. A failure that leaves the sheet reachable also gets an `error` row in the Sync
    log (never on a dry run); the original error is raised unchanged."""
    backend = backend or open_backend(config.sheet)
    started = now or dt.datetime.now()
    # a run that fails before the read knows only this machine's zone for its error row
    run_id = new_run_id()
    with collector.paused(), sheet_lock(config), failures_logged(
            backend, wall_clock(started), _mode(force), dry_run=dry_run, run_id=run_id):
        scored = score(config, backend, started, force=force, progress=progress)
        _safety_check(scored, force)
        tables, model, scores = scored.tables, scored.model, scored.scores
        assert scored.run_at is not None
        run_at = scored.run_at  # aware, in the sheet's zone
        now = run_at.replace(tzinfo=None)  # its wall time: what the cells show
        warnings: list[str] = list(scored.warnings)
        customers_plan = plan_customers(tables[T.CUSTOMERS], model, scores, now)
        changes = colour_changes(tables[T.CUSTOMERS], model, scores)
        check_colour_changes(tables[T.CUSTOMERS], model, changes, force)
        tab_plans = [customers_plan]
        history = tables.get(T.HISTORY)
        history_plan = None
        if history is not None:
            history_plan = plan_history(history, model, scores, now.date(), scored.history)
            tab_plans.append(history_plan)
        else:
            warnings.append("no History tab: run `sheets-health init` to keep trends")
        warnings.extend(_growth_warnings(scored))
        acting = action.tables_for_action(tables)
        action_plan, action_warnings = action.plan_action(config, acting, model, scores,
                                                          now.date())
        warnings.extend(action_warnings)
        if action_plan.alerts is not None:
            tab_plans.append(action_plan.alerts.plan)
        cells = WritePlan(tuple(tab_plans)).cell_count()  # what changes, before the log row
        counts = _counts(scores)
        snaps = snapshots.take(model, scored.raw, now.date())
        add_snapshots = False  # an older sheet: the tab is added after the write, once
        missing = [t for t in action.ACTION_TABS if t not in tables]
        if missing and getattr(backend, "missing_tabs_cost_requests", False):
            warnings.append(
                f"no {' and no '.join(missing)} tab: run `sheets-health init` to add "
                f"{'them' if len(missing) > 1 else 'it'} (until then each sync's read costs "
                "two more requests, as the sheet has no tab of that name)")
        if config.history_url is None:
            if (snapshot_table := tables.get(T.SNAPSHOTS)) is not None:
                tab_plans.append(snapshots.plan_snapshots(snapshot_table, snaps, now.date()))
            elif not dry_run:
                add_snapshots = True
        log = tables.get(T.SYNC_LOG)
        if log is not None:
            tab_plans.append(plan_sync_log(log, _log_row(now, force, counts, cells, scored, run_id),
                                           model.settings.sync_log_rows))
        plan = WritePlan(tuple(tab_plans))
        check_before_write(plan, tables)
        summary = action.summary_sheet(config, acting, model, scores, action_plan, now.date())
        staged = not dry_run and action.stage_summary(backend, acting, summary)
        if not dry_run:  # one run at a time on this sheet, on any machine
            backend.hold_lease(_mode(force), run_at, run_id)
        result = None if dry_run else backend.apply(plan)
        if config.history_url is not None and not dry_run:
            from sheets_health.snapshot_store import SnapshotStore

            SnapshotStore(config.history_url).write(now.date(), snaps)
        if add_snapshots:  # empty: the next syncs fill it
            backend.init([t for t in T.TEMPLATE if t.name == T.SNAPSHOTS])
            warnings.append("added the Snapshots tab: from the next sync on, each sync keeps "
                            "the day's measures there for `sheets-health calibrate`")
        if not dry_run:  # after the sheet is written: never delays or loses it
            if not staged:
                action.write_summary(backend, acting, summary)
            warnings.extend(action.notify(config, backend, action_plan, now.date()))
    return SyncReport(
        run_at=run_at,
        dry_run=dry_run,
        sheet=backend.description,
        customers=_active(model),
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
        changes=changes,
        alerts=tuple(a.key for a in action_plan.new_alerts),
        snapshots=_snapshot_count(plan, len(snaps), config.history_url is not None),
    )


def _snapshot_count(plan: WritePlan, taken: int, to_sql: bool) -> int:
    if to_sql:
        return taken
    tab = next((t for t in plan.tabs if t.tab == T.SNAPSHOTS), None)
    return 0 if tab is None else len(tab.updates) + len(tab.appends)


def _mode(force: bool) -> str:
    return "sync --force" if force else "sync"
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
        if s.inactive:
            continue
        counts["scored" if s.score is not None else "not_enough"] += 1
        if s.rag is not None:
            counts[s.rag.value] += 1
    return counts


def _log_row(
    now: dt.datetime, force: bool, counts: Mapping[str, int], cells: int, scored: Scored,
    run_id: str,
) -> dict[str, CellValue]:
    unknown = sum(len(v) for v in scored.unknown_ids.values())
    message = f"{unknown} ids in sources are not customers" if unknown else ""
    return {
        "Run at": now.replace(microsecond=0),
        "Mode": _mode(force),
        "Customers": _active(scored.model),
        "Scored": counts["scored"],
        "Not enough data": counts["not_enough"],
        "Cells changed": cells,
        "Result": RESULT_OK,
        "Message": message,
        "Exit code": 0,
        "Run id": run_id,
    }
