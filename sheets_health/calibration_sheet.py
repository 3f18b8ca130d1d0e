"""The calibration report as a CS lead reads it: Calibration-tab rows, the `--suggest`
Scorecard columns, the terminal summary and the `--json` object.

Each run appends its own dated block to the Calibration tab (older runs stay below one
another, so the team sees how the score's skill moved); `check` reads the latest date to say
when calibration is due again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from sheets_health import template as T
from sheets_health.calibration import CalibrationReport, GroupReport, Suggestion
from sheets_health.cells import key_text, parse_date
from sheets_health.errors import ContractError, Problem
from sheets_health.model import (
    CellValue,
    CellWrite,
    RowUpdate,
    SheetModel,
    Table,
    TabPlan,
    WritePlan,
)

if TYPE_CHECKING:
    from sheets_health.calibrate_run import CalibrateResult

Row = tuple[str, str, str, CellValue, str]  # scorecard, section, item, value, detail


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.0%}"


def group_rows(g: GroupReport) -> list[Row]:
    label = g.label
    a, b = g.agreement, g.backtest
    rows: list[Row] = [
        (label, "Gut RAG", "Customers compared", a.customers,
         f"{a.without_gut} without a Gut RAG, {a.without_score} without a score"),
        (label, "Gut RAG", "Accuracy", a.accuracy,
         "share of customers whose score colour is their Gut RAG"),
        (label, "Gut RAG", "Weighted kappa", a.kappa,
         "agreement beyond chance: 0 chance, 1 perfect (Red–Green counts double)"),
    ]
    for d in a.disagreements[:5]:
        rows.append((label, "Gut RAG", f"Disagrees: {d.customer_id}",
                     f"gut {d.gut.value}, score {d.score_rag.value}", d.reasons))
    rows += [
        (label, "Backtest", "Outcomes used", b.outcomes,
         f"{b.churned} churned, {b.retained} renewed or expanded; {b.left_out} left out "
         "(today's values only)"),
        (label, "Backtest", "ROC AUC", b.auc.value,
         f"{b.auc.text()}: chance the score ranked a renewing customer above a churning one "
         "(0.5 coin toss, 1.0 perfect)"),
        (label, "Backtest", "Missed churn", len(b.missed_churn),
         "churned while Green or Yellow: " + (", ".join(b.missed_churn[:10]) or "none")),
        (label, "Backtest", "False alarms", len(b.false_alarms),
         "Red, then renewed: " + (", ".join(b.false_alarms[:10]) or "none")),
    ]
    for band in b.bands:
        name = band.rag.value if band.rag is not None else "No score"
        rows.append((label, "Backtest", f"Churn rate {name}", band.churn_rate,
                     f"{band.churned} of {band.customers} churned"))
    for m in g.measures:
        flag = "; THE DATA SAYS THE OPPOSITE of its Scorecard direction" \
            if m.wrong_direction else ""
        rows.append((label, "Measure", m.measure, m.auc.value,
                     f"AUC {m.auc.text()} on its {m.basis}, over {m.customers} customers; "
                     f"Scorecard: {m.scorecard_direction}, data: {m.data_direction}{flag}"))
    for pair in g.double_counts:
        rows.append((label, "Double count", f"{pair.first} + {pair.second}", pair.rho,
                     f"Spearman ρ over {pair.customers} customers: they count the same "
                     "signal"))
    rows += suggestion_rows(label, g.suggestion, g.why)
    return rows


def suggestion_rows(label: str, s: Suggestion | None, why: str) -> list[Row]:
    if s is None:
        return [(label, "Suggestion", "None", "", why)]
    rows: list[Row] = [
        (label, "Suggestion", "Cross-validated AUC, current", s.cv_auc_current.value,
         s.cv_auc_current.text()),
        (label, "Suggestion", "Cross-validated AUC, suggested", s.cv_auc_suggested.value,
         s.cv_auc_suggested.text()),
    ]
    for m in s.measures:
        scoring = "" if m.scoring is None else \
            f"; scoring {m.scoring.value}, Red at {m.red_at:g}, Green at {m.green_at:g}"
        rows.append((label, "Suggestion", f"Weight: {m.measure}", m.weight,
                     f"now {m.current_weight:g}{scoring}"))
    rows.append((label, "Suggestion", "Why", "", why))
    return rows


def report_rows(report: CalibrationReport, without_date: Sequence[str]) -> list[Row]:
    rows: list[Row] = [("All customers", "Method", "Lead days", report.lead_days,
                        "measures are taken this many days before each Status date")]
    rows += [("All customers", "Note", "", "", n) for n in report.notes]
    if without_date:
        rows.append(("All customers", "Note", "No Status date", len(without_date),
                     "left out (add their Status date): " + ", ".join(without_date[:10])))
    groups = [report.overall, *(g for g in report.scorecards
                                if len(report.scorecards) > 1 or (g.suggestion is not None
                                and report.overall.suggestion is None))]
    for g in groups:
        rows += group_rows(g)
    return rows


def chosen(report: CalibrationReport) -> GroupReport | None:
    """The `--json` object's ``suggestion``: the default scorecard's, else the first outcome
    scorecard's (``suggestions`` has every scorecard's)."""
    groups = suggested(report)
    return groups[0] if groups else None


def suggested(report: CalibrationReport) -> list[GroupReport]:
    """The scorecards `--suggest` writes, the default first: each scorecard whose own
    customers support a suggestion (an outcome scorecard gets `Weight: suggested <outcome>`)."""
    return [g for g in report.scorecards if g.scorecard is not None and g.suggestion is not None]


def columns_of(g: GroupReport) -> tuple[str, str, str, str]:
    assert g.scorecard is not None
    return T.suggested_columns(g.scorecard)


def _suggest_plan(table: Table, model: SheetModel, groups: Sequence[GroupReport]) -> TabPlan:
    """One Scorecard update: per suggested scorecard, its weight column and, where its
    suggestion changes a scoring (or the columns are there from an earlier run), the
    scoring and threshold columns. The team's own columns are never written."""
    rows = {m.row: m.name for m in model.measures}
    cells: dict[int, dict[str, CellWrite]] = {}
    headers: list[str] = []
    for g in groups:
        assert g.suggestion is not None
        weight_col, scoring_col, red_col, green_col = columns_of(g)
        by_name = {m.measure: m for m in g.suggestion.measures}
        scorings = any(m.scoring is not None for m in g.suggestion.measures)
        with_scorings = scorings or table.column(scoring_col) is not None
        headers += [weight_col, *((scoring_col, red_col, green_col) if scorings else ())]
        for row, name in rows.items():
            found = by_name.get(name)
            if found is None:
                continue
            out = cells.setdefault(row, {})
            out[weight_col] = CellWrite(found.weight)
            if with_scorings:
                out[scoring_col] = CellWrite(None if found.scoring is None
                                             else found.scoring.value)
                out[red_col] = CellWrite(found.red_at)
                out[green_col] = CellWrite(found.green_at)
    updates = []
    for i, row in enumerate(table.row_numbers):
        if row in cells:
            updates.append(RowUpdate(row, (key_text(table.value(i, T.MEASURE)),), cells[row]))
    return TabPlan(tab=table.tab, key_columns=(table.header_of(T.MEASURE),),
                   add_headers=tuple(h for h in headers if table.column(h) is None),
                   updates=tuple(updates))


def plan_calibration(report: CalibrationReport, model: SheetModel, tables: Mapping[str, Table],
                     stamp: dt.datetime, suggest: bool, without_date: Sequence[str]
                     ) -> tuple[WritePlan, bool]:
    tab = tables.get(T.CALIBRATION)
    if tab is None:
        raise ContractError([Problem(T.CALIBRATION, None, None, "the tab does not exist",
                                     "run `sheets-health init` to add it")])
    block = [{"Calibrated at": CellWrite(stamp), "Scorecard": CellWrite(s),
              "Section": CellWrite(sec), "Item": CellWrite(item), "Value": CellWrite(value),
              "Detail": CellWrite(detail)}
             for s, sec, item, value, detail in report_rows(report, without_date)]
    plans = [TabPlan(tab=tab.tab, add_headers=tuple(h for h in T.CALIBRATION_HEADERS
                                                     if tab.column(h) is None),
                     appends=tuple(block))]
    groups = suggested(report)
    if suggest and groups:
        plans.append(_suggest_plan(tables[T.SCORECARD], model, groups))
    return WritePlan(tuple(plans)), suggest and bool(groups)


def last_calibration(table: Table | None) -> dt.date | None:
    """The latest `Calibrated at` date in the Calibration tab (None: never)."""
    if table is None:
        return None
    found: dt.date | None = None
    for i in range(len(table.rows)):
        try:
            day = parse_date(table.value(i, "Calibrated at"))
        except (TypeError, ValueError):
            continue
        found = day if found is None or day > found else found
    return found


# ----------------------------------------------------------------------------- output


def payload(result: CalibrateResult) -> dict[str, Any]:
    """The `--json` object: the whole report, and ``suggestion`` always present."""
    report = result.report
    g = chosen(report)
    suggestion = None if g is None else _suggestion(g)
    return {
        "ok": True,
        "run_at": result.run_at.isoformat(timespec="seconds"),
        "dry_run": result.dry_run,
        "sheet": result.sheet,
        "suggestion": suggestion,
        "why": None if suggestion is not None else report.overall.why,
        # per scorecard (the default and each outcome): its own suggestion, or null and why
        "suggestions": [{"scorecard": s.label, "column": T.suggested_columns(s.scorecard)[0],
                         "suggestion": _suggestion(s), "why": s.why}
                        for s in report.scorecards if s.scorecard is not None],
        "suggestion_written": result.suggested_written,
        "calibration_rows": sum(len(t.appends) for t in result.plan.tabs
                                if t.tab == T.CALIBRATION),
        "customers_without_status_date": list(result.without_date),
        "report": report.as_dict(),
    }


def short_why(g: GroupReport) -> str:
    """Why a scorecard has no suggestion, in one terminal line (the tab has the sentence)."""
    b, cv = g.backtest, g.cross_validation
    if cv is None:
        return f"too few outcomes ({b.churned} churned, {b.retained} renewed or expanded)"
    if not cv.suggested.above(0.5):
        return f"fitted weights no better than chance (cross-validated AUC {cv.suggested.text()})"
    if cv.current.value is not None and not cv.gain.above(0.0):
        return (f"fitted weights not clearly better: cross-validated AUC "
                f"{cv.suggested.text()} against {cv.current.text()} now")
    return g.why


def _suggestion(g: GroupReport) -> dict[str, Any] | None:
    if g.suggestion is None:
        return None
    s = g.suggestion
    return {
        "scorecard": g.label,
        "weights": {m.measure: m.weight for m in s.measures},
        "scorings": {m.measure: {"scoring": m.scoring.value, "red_at": m.red_at,
                                 "green_at": m.green_at}
                     for m in s.measures if m.scoring is not None},
        "cv_auc_current": s.cv_auc_current.value,
        "cv_auc_suggested": s.cv_auc_suggested.value,
        "cv_auc_gain": s.cv_auc_gain.value,
        "why": g.why,
    }


def describe(result: CalibrateResult) -> str:
    report = result.report
    o = report.overall
    b, a = o.backtest, o.agreement
    lines = [f"{'Dry run: calibration of' if result.dry_run else 'Calibrated'} {result.sheet}",
             f"  lead: measures {report.lead_days} days before each outcome"]
    lines.append(f"  Gut RAG: {a.customers} customers, accuracy {_pct(a.accuracy)}, weighted "
                 f"kappa {'n/a' if a.kappa is None else f'{a.kappa:.2f}'}")
    lines.append(f"  backtest: {b.outcomes} outcomes ({b.churned} churned, {b.retained} "
                 f"renewed or expanded), ROC AUC {b.auc.text()}")
    lines.append(f"  missed churn {len(b.missed_churn)}, false alarms {len(b.false_alarms)}; "
                 "churn rate " + ", ".join(
                     f"{band.rag.value if band.rag else 'no score'} {_pct(band.churn_rate)}"
                     for band in b.bands))
    wrong = [m.measure for m in o.measures if m.wrong_direction]
    if o.measures:
        lines.append("  strongest measures: " + ", ".join(
            f"{m.measure} {m.auc.text()}" for m in o.measures[:3]))
    if wrong:
        lines.append(f"  the data says the opposite of the Scorecard for: {', '.join(wrong)}")
    for d in o.double_counts:
        lines.append(f"  double count: {d.first} and {d.second} (ρ {d.rho:.2f})")
    groups = suggested(report)
    if not groups:
        lines.append(f"  no suggestion: {o.why}")
    for g in groups:
        assert g.suggestion is not None
        s = g.suggestion
        weights = ", ".join(f"{m.measure} {m.weight}" for m in s.measures)
        lines.append(f"  suggested weights ({g.label}): {weights}")
        lines.append(f"  cross-validated AUC: current {s.cv_auc_current.text()}, suggested "
                     f"{s.cv_auc_suggested.text()}")
    if groups:
        outcomes = [g for g in report.scorecards if g.scorecard and g.suggestion is None]
        if outcomes and len(report.scorecards) > 1:
            lines.append("  no suggestion for " + ", ".join(g.label for g in outcomes)
                         + " (see the Calibration tab for why)")
        written = ", ".join(f"'{columns_of(g)[0]}'" for g in groups)
        lines.append(f"  written to Scorecard {written} (your weights are unchanged)"
                     if result.suggested_written else
                     "  run `calibrate --suggest` to write it beside your weights")
    elif len(report.scorecards) > 1:
        lines += [f"  {g.label}: no suggestion, {short_why(g)}" for g in report.scorecards]
    lines.extend(f"  note: {n}" for n in report.notes)
    if result.without_date:
        lines.append(f"  note: {len(result.without_date)} customers with an outcome have no "
                     "Status date and are left out")
    lines.append("  nothing written (dry run)" if result.dry_run
                 else "  report appended to the Calibration tab")
    return "\n".join(lines)
