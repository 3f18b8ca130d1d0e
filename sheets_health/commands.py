"""One library function per CLI command, so the CLI stays a thin shell over them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sheets_health import template as T
from sheets_health.backends import Backend, open_backend
from sheets_health.cells import format_number, is_blank, key_text
from sheets_health.config import Backend as BackendKind
from sheets_health.config import Config, load_config
from sheets_health.errors import ConfigError, NotFoundError
from sheets_health.lock import sheet_lock
from sheets_health.model import CellValue
from sheets_health.starter import write_starter_config

if TYPE_CHECKING:  # the data stack (pandas, numpy) loads only for commands that score
    from sheets_health.sync import Scored, SyncReport


def run_sync(config: Config, **options: Any) -> SyncReport:
    """`sync.run_sync`, imported on first use: it loads pandas, which `--help` never needs."""
    from sheets_health import sync as sync_module

    return sync_module.run_sync(config, **options)


def score(config: Config, backend: Any, now: dt.datetime) -> Scored:
    """`sync.score`, imported on first use (see `run_sync`)."""
    from sheets_health import sync as sync_module

    return sync_module.score(config, backend, now)


def init(config_path: Path) -> list[str]:
    """Bring the sheet up to the template; with no config yet, write the starter one first (a
    workbook beside it), so `init --config NEW.toml` is a complete start. Says what it did."""
    done: list[str] = []
    if not config_path.exists():
        write_starter_config(config_path)
        done.append(f"wrote starter config {config_path} (edit it to use a Google Sheet or "
                    "sources)")
    config = load_config(config_path)
    backend = open_backend(config.sheet)
    workbook = config.sheet.path if config.sheet.backend is BackendKind.XLSX else None
    with sheet_lock(config):
        new = workbook is not None and not workbook.exists()
        changes = backend.init(T.TEMPLATE)
    if new:
        done.append(f"created workbook {workbook}")
    return done + changes


def sync(
    config_path: Path,
    *,
    dry_run: bool = False,
    force: bool = False,
    progress: Callable[[str, int, int], None] | None = None,
    now: dt.datetime | None = None,
) -> SyncReport:
    return run_sync(load_config(config_path), dry_run=dry_run, force=force, progress=progress,
                    now=now)


def check(config_path: Path) -> dict[str, Any]:
    """Everything a sync validates, without writing: config, sources' config, the sheet."""
    config = load_config(config_path)
    if config.metrics:  # load_config checked the keys; here the files and drivers
        from sheets_health import sources

        problems = sources.check_config(config)
        if problems:
            raise ConfigError("the config's sources have problems:\n" +
                              "\n".join(f"  - {p}" for p in problems))
    backend = open_backend(config.sheet)
    scored = score(config, backend, dt.datetime.now())
    model = scored.model
    return {
        "customers": len(model.customers),
        "measures": len(model.measures),
        "scorecards": list(model.scorecards),
        "unknown_ids": dict(scored.unknown_ids),
        "warnings": practice_warnings(scored, backend),
    }


def practice_warnings(scored: Scored, backend: Backend) -> list[str]:
    """Where the Scorecard goes against CS practice (`calibration.lint`): warnings only."""
    import pandas as pd

    from sheets_health.calibration import lint_scorecard
    from sheets_health.calibration_sheet import last_calibration

    model = scored.model
    active = [c.id for c in model.customers if not c.inactive]
    values = scored.raw.reindex(index=active).apply(pd.to_numeric, errors="coerce")
    calibration = backend.read([T.CALIBRATION]).get(T.CALIBRATION)
    assert scored.run_at is not None
    return [w.message for w in lint_scorecard(model.measures, model.scorecards,
                                              scored.run_at.date(), values,
                                              last_calibration(calibration))]


def calibrate(
    config_path: Path, *, dry_run: bool = False, suggest: bool = False,
    now: dt.datetime | None = None,
) -> tuple[dict[str, Any], str]:
    """Score against Gut RAG and against what happened; append the Calibration report."""
    from sheets_health.calibrate_run import run_calibrate
    from sheets_health.calibration_sheet import describe, payload

    result = run_calibrate(load_config(config_path), now=now, dry_run=dry_run, suggest=suggest)
    return payload(result), describe(result)


def explain(
    config_path: Path, customer_id: str, now: dt.datetime | None = None
) -> tuple[dict[str, Any], str]:
    config = load_config(config_path)
    scored = score(config, open_backend(config.sheet), now or dt.datetime.now())
    wanted = key_text(customer_id)
    result = scored.scores.get(wanted)
    if result is None:
        raise NotFoundError(
            f"no customer with Customer ID '{wanted}' in the Customers tab",
            "ids are text: check leading zeros and spelling",
        )
    customer = next(c for c in scored.model.customers if c.id == wanted)
    lines = [
        f"{customer.name} ({customer.id}): "
        + (f"{result.score} {result.rag}" if result.score is not None
           else f"{result.inactive}, not scored" if result.inactive else "not enough data")
        + (f" (overridden; computed {result.computed_rag})" if result.overridden else ""),
        f"Reasons: {result.reasons}",
    ]
    if result.next_step:
        lines.append(f"Next step: {result.next_step}")
    if result.trend:
        lines.append(f"Trend: {result.trend}")
    if result.stage:
        lines.append(f"Stage: {result.stage}")
    outcomes = []
    for outcome in result.outcomes:
        title = outcome.scorecard or "default scorecard"
        shown = "not enough data" if outcome.score is None else format_number(outcome.score)
        lines.append(f"\n{title}: {shown} (coverage {outcome.coverage:.0%})")
        lines.append(f"  {'Measure':<28} {'Value':>14} {'Sub-score':>9} {'Weight':>7} "
                     f"{'Points':>7} {'Lost':>6}  Note")
        rows = []
        for m in outcome.measures:
            raw = "" if is_blank(m.raw) else (
                format_number(m.raw) if isinstance(m.raw, int | float)
                and not isinstance(m.raw, bool) else key_text(m.raw))
            sub = "" if m.sub_score is None else f"{m.sub_score:.0f}"
            lines.append(f"  {m.measure:<28} {raw:>14} {sub:>9} {m.weight:>7.0%} "
                         f"{m.points:>7.1f} {m.points_lost:>6.1f}  {m.note}")
            rows.append({"measure": m.measure, "raw": raw, "sub_score": m.sub_score,
                         "weight": m.weight, "points": m.points, "points_lost": m.points_lost,
                         "note": m.note})
        for zero in scored.model.measures:  # weight 0 here: shown, but it does not count
            if zero.weight(outcome.scorecard) > 0:
                continue
            cell: CellValue = (scored.raw.at[customer.id, zero.name]  # type: ignore[assignment]
                               if zero.name in scored.raw.columns else None)
            shown = "" if is_blank(cell) else (
                format_number(cell) if isinstance(cell, int | float)
                and not isinstance(cell, bool) else key_text(cell))
            lines.append(f"  {zero.name:<28} {shown:>14} {'':>9} {0:>7.0%} {0:>7.1f} "
                         f"{0:>6.1f}  weight 0: does not count")
            rows.append({"measure": zero.name, "raw": shown, "sub_score": None, "weight": 0.0,
                         "points": 0.0, "points_lost": 0.0, "note": "weight 0: does not count"})
        outcomes.append({"scorecard": outcome.scorecard, "score": outcome.score,
                         "coverage": outcome.coverage, "measures": rows})
    payload = {
        "ok": True,
        "customer_id": customer.id,
        "customer": customer.name,
        "score": result.score,
        "health": result.rag.value if result.rag else (result.inactive or None),
        "computed_health": result.computed_rag.value if result.computed_rag else None,
        "overridden": result.overridden,
        "reasons": result.reasons,
        "next_step": result.next_step,
        "trend": result.trend,
        "stage": result.stage,
        "outcomes": outcomes,
    }
    return payload, "\n".join(lines)


def describe_sync(report: SyncReport) -> str:
    health = ", ".join(f"{n} {k}" for k, n in report.by_health.items())
    verb = "would change" if report.dry_run else "changed"
    lines = [
        f"{'Dry run on' if report.dry_run else 'Synced'} {report.sheet}",
        f"  {report.customers} customers: {report.scored} scored ({health}), "
        f"{report.not_enough_data} not enough data",
        f"  {verb} {report.cells_changed} cells in {report.rows_changed} customer rows; "
        f"{report.history_rows} new History rows",
    ]
    if report.changes:
        lines.append(f"  {len(report.changes)} colour "
                     f"{'change' if len(report.changes) == 1 else 'changes'}"
                     f"{' (not written)' if report.dry_run else ''}:")
        lines.extend(f"    {change}" for change in report.changes)
    else:
        lines.append("  no colour changes")
    if report.alerts:
        n = len(report.alerts)
        lines.append(f"  {n} new {'alert' if n == 1 else 'alerts'} in the Alerts tab"
                     f"{' (not written)' if report.dry_run else ''}")
    if report.result is not None:
        for line in (*report.result.repaired, *report.result.skipped):
            lines.append(f"  note: {line}")
    for source, ids in report.unknown_ids.items():
        shown = ", ".join(ids[:5]) + (" …" if len(ids) > 5 else "")
        lines.append(f"  warning: {source} has data for {len(ids)} ids not in Customers: {shown}")
    lines.extend(f"  warning: {w}" for w in report.warnings)
    return "\n".join(lines)


def demo(directory: Path, now: dt.datetime | None = None) -> tuple[SyncReport, Path]:
    from sheets_health.demo import write_demo

    config_path = write_demo(directory, now or dt.datetime.now())
    config: Config = load_config(config_path)
    report = run_sync(config, now=now)
    assert config.sheet.path is not None
    return report, config.sheet.path


def demo_example_id(report: SyncReport) -> str:
    """A red customer is the most instructive one to explain: the demo's own example (Red by
    construction), else the first red one (a demo too small to hold it)."""
    from sheets_health.demo import EXAMPLE_CUSTOMER

    updates = report.plan.tabs[0].updates
    if any(u.key[0] == EXAMPLE_CUSTOMER for u in updates):
        return EXAMPLE_CUSTOMER
    for update in updates:
        health = update.cells.get(T.HEALTH)
        if health is not None and health.value == "Red":
            return update.key[0]
    return report.plan.tabs[0].updates[0].key[0] if report.plan.tabs[0].updates else "C001"
