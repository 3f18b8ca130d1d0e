"""What a sync does beyond the scores, so a score leads to action: the Alerts tab rows (planned
with the other writes, applied in the same atomic write), the Summary tab (in that same write
where the backend can, else right after it) and — only after the sheet is written — the chat
webhook.

The webhook comes last on purpose: a slow or failing chat service can never delay or lose the
sheet writes; its alerts stay `pending` / `failed <date>` in the Alerts tab and the next sync
sends them again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from sheets_health import alerts as A
from sheets_health import tails
from sheets_health import template as T
from sheets_health.backends import Backend
from sheets_health.config import Config
from sheets_health.model import CustomerScore, SheetModel, Table, WritePlan, norm_header
from sheets_health.roster import CustomerRow, Seen, read_roster, seen_from_points
from sheets_health.summary import build_summary
from sheets_health.summary_sheet import SummarySheet, layout, read_mix, unchanged


@dataclass(frozen=True)
class ActionPlan:
    """The action part of one sync's plan; ``alerts`` None: no Alerts tab yet."""

    roster: Mapping[str, CustomerRow]
    seen: tuple[Seen, ...]
    alerts: A.AlertPlan | None = None

    @property
    def new_alerts(self) -> tuple[A.Alert, ...]:
        return self.alerts.new if self.alerts is not None else ()


ACTION_TABS = (T.ALERTS, T.SUMMARY)


def tables_for_action(tables: Mapping[str, Table]) -> Mapping[str, Table]:
    """The tabs as read, without Alerts and the Summary on a sheet whose Settings has no
    `Alert on` row (as `init` writes it): such a sheet gets neither, as before it had them.
    The sync's one read takes both tabs either way (it cannot know Settings beforehand)."""
    if _has_setting(tables.get(T.SETTINGS), T.SET_ALERT_ON):
        return tables
    return {name: table for name, table in tables.items() if name not in ACTION_TABS}


def plan_action(config: Config, tables: Mapping[str, Table], model: SheetModel,
                scores: Mapping[str, CustomerScore], today: dt.date
                ) -> tuple[ActionPlan, list[str]]:
    """Alerts from the sheet as read (before this sync writes) and the new scores."""
    roster = read_roster(tables[T.CUSTOMERS])
    seen = seen_from_points(tails.dated_points(tables.get(T.HISTORY), model.history),
                            model.settings)
    active = {cid: s for cid, s in scores.items() if not s.inactive}
    table = tables.get(T.ALERTS)
    settings, _problems = A.alert_settings(tables.get(T.SETTINGS))  # the contract checked them
    if table is None:  # a sheet from before alerts: warn only once someone asks for them
        asked = _has_setting(tables.get(T.SETTINGS), T.SET_ALERT_ON) and settings.rules
        warnings = [] if not asked else [
            "no Alerts tab: run `sheets-health init` to list colour changes as alerts"]
        return ActionPlan(roster, seen), warnings
    plan = A.plan_alerts(table=table, roster=roster, scores=active, seen=seen, today=today,
                         window_days=model.settings.trend_days, settings=settings,
                         notify=config.notify is not None)
    return ActionPlan(roster, seen, plan), []


def _has_setting(table: Table | None, key: str) -> bool:
    if table is None:
        return False
    return any(norm_header(table.value(i, T.SETTING)) == norm_header(key)
               for i in range(len(table.rows)))


def row_link(backend: Backend, tab: str, row: int) -> str | None:
    """A link to a row where the backend has one (a Google Sheet; a workbook has none)."""
    link = getattr(backend, "row_link", None)
    return link(tab, row) if callable(link) else None


def notify(config: Config, backend: Backend, plan: ActionPlan, today: dt.date) -> list[str]:
    """Tell the webhook of the pending alerts (after the sheet write) and mark them in the
    Alerts tab; returns warnings (a failed delivery), never raises for the chat service."""
    if config.notify is None or plan.alerts is None or not plan.alerts.pending:
        return []
    from sheets_health import notify as N

    rows = {cid: info.row for cid, info in plan.roster.items()}

    def link_for(cid: str) -> str | None:
        return row_link(backend, T.CUSTOMERS, rows[cid]) if cid in rows else None

    delivery = N.send(config.notify, plan.alerts.pending, link_for, sheet=backend.description)
    table = backend.read([T.ALERTS]).get(T.ALERTS)
    if table is not None:
        marks = A.plan_notified(table, delivery.outcome(), today)
        if not marks.is_empty:
            backend.apply(WritePlan((marks,)))
    if delivery.error:
        n = len(delivery.failed)
        return [f"{n} {'alert was' if n == 1 else 'alerts were'} not sent: {delivery.error}"]
    return []


def summary_sheet(config: Config, tables: Mapping[str, Table], model: SheetModel,
                  scores: Mapping[str, CustomerScore], plan: ActionPlan, today: dt.date
                  ) -> SummarySheet:
    """The Summary tab this sync shows: figures from the new scores and the Customers cells
    as read; the colour mix from History's rows read and the series the last Summary held."""
    active = {cid: s for cid, s in scores.items() if not s.inactive}
    sources = {name: spec.source for name, spec in config.metrics.items()}
    summary = build_summary(roster=plan.roster, scores=active, seen=plan.seen, today=today,
                            window_days=model.settings.trend_days, sources=sources,
                            earlier_mix=read_mix(tables.get(T.SUMMARY)))
    return layout(summary)


def stage_summary(backend: Backend, tables: Mapping[str, Table], sheet: SummarySheet) -> bool:
    """Hand a changed Summary to a backend that writes it inside the sync's own write (a
    Google Sheet: the same atomic batchUpdate; a workbook: the same save); True when it took
    it, so `write_summary` has nothing left to do."""
    stage = getattr(backend, "stage_summary", None)
    if T.SUMMARY not in tables or not callable(stage) or unchanged(tables.get(T.SUMMARY), sheet):
        return False
    return bool(stage(T.SUMMARY, sheet))


def write_summary(backend: Backend, tables: Mapping[str, Table], sheet: SummarySheet) -> bool:
    """Rewrite the Summary tab unless it already shows exactly this; True when written."""
    writer = getattr(backend, "write_summary", None)
    if T.SUMMARY not in tables:  # a sheet from before the Summary: `init` adds the tab
        return False
    if not callable(writer) or unchanged(tables.get(T.SUMMARY), sheet):
        return False
    writer(T.SUMMARY, sheet)
    return True
