"""`calibrate`: the whole report, per scorecard and overall, from validated inputs."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sheets_health.calibration.analysis import (
    agreement,
    backtest_and_measures,
    customer_codes,
    double_counts,
)
from sheets_health.calibration.inputs import (
    ActiveCustomers,
    CalibrationInputError,
    CalibrationOptions,
    OutcomeCases,
    Provenance,
)
from sheets_health.calibration.report import CalibrationReport, GroupReport
from sheets_health.calibration.stats import FloatArray, IntArray, Resampler
from sheets_health.calibration.suggest import Data, suggest
from sheets_health.model import DEFAULT_SCORECARD, Measure, MissingPolicy, Settings

_FILL = {MissingPolicy.NEUTRAL: 50.0, MissingPolicy.ZERO: 0.0}


def label(scorecard: str) -> str:
    return "Default (Weight)" if scorecard == DEFAULT_SCORECARD else scorecard


def method(options: CalibrationOptions, lead_days: int) -> dict[str, object]:
    """The conventions, stated once in the report so a reader can check them."""
    return {
        "auc": "ROC AUC of the score predicting retention (renewed or expanded, not churned):"
               " 0.5 is chance, 1.0 perfect, below 0.5 the wrong way round",
        "kappa": "Cohen's kappa with linear weights over Red < Yellow < Green",
        "interval": f"95 % percentile bootstrap over customers, {options.n_boot} resamples, "
                    f"seed {options.seed}",
        "lead_days": lead_days,
        "cross_validation": f"{options.folds} folds stratified by outcome and grouped by "
                            f"customer, {options.repeats} repeats",
        "suggestion_needs": f"at least {options.min_per_class} churned and "
                            f"{options.min_per_class} retained customers; a cross-validated "
                            "AUC interval above 0.5 and a gain over the current weights "
                            "whose interval is above 0",
        "fit": f"logistic regression on the sub-scores, weights ≥ 0, penalty "
               f"l1 {options.l1}, l2 {options.l2} (SciPy L-BFGS-B)",
        "double_count": f"|Spearman ρ| ≥ {options.double_count_rho} over the customers where "
                        "both measures are present",
    }


def calibrate(
    measures: Sequence[Measure],
    scorecards: Sequence[str],
    settings: Settings,
    cases: OutcomeCases,
    active: ActiveCustomers,
    lead_days: int,
    options: CalibrationOptions | None = None,
) -> CalibrationReport:
    """Compare the score with the gut colours and with what happened, per scorecard
    (``scorecards``: the outcome names; the default `Weight` scorecard is always included)
    and overall, and suggest weights where the data supports it. Pure: no IO."""
    options = options or CalibrationOptions()
    names = tuple(m.name for m in measures)
    if cases.measures != names:
        raise CalibrationInputError("the outcome cases' measures must be the Scorecard "
                                    f"measures in order: {', '.join(names)}")
    usable = np.array([options.use_current_values or p is not Provenance.CURRENT
                       for p in cases.provenance], dtype=bool)
    fills = np.array([_FILL.get(m.missing or settings.missing, np.nan) for m in measures])
    keys = [DEFAULT_SCORECARD, *[s for s in scorecards if s != DEFAULT_SCORECARD]]

    def group(key: str | None) -> GroupReport | None:
        member = np.array([key is None or key in sc for sc in cases.scorecards], dtype=bool)
        rows = np.flatnonzero(member & usable)
        left_out = int((member & ~usable).sum())
        active_rows = [i for i, sc in enumerate(active.scorecards) if key is None or key in sc]
        if key is not None and not len(rows) and not left_out and not active_rows:
            return None
        in_use = sorted({s for i in rows for s in cases.scorecards[i]})
        if key is not None:
            weights_key: str | None = key
        elif len(in_use) <= 1:  # one scorecard in use (or no outcome yet): overall is it
            weights_key = in_use[0] if in_use else DEFAULT_SCORECARD
        else:
            weights_key = None
        current = np.array([m.weight(weights_key) if weights_key is not None else 0.0
                            for m in measures])
        return _group(key, measures, settings, cases, active, rows, active_rows, left_out,
                      current, weights_key is not None, fills, options, len(in_use))

    overall = group(None)
    assert overall is not None
    reports = tuple(g for g in (group(k) for k in keys) if g is not None)
    notes = overall.backtest.notes
    return CalibrationReport(lead_days, overall, reports, method(options, lead_days), notes)


def _group(key: str | None, measures: Sequence[Measure], settings: Settings,
           cases: OutcomeCases, active: ActiveCustomers, rows: IntArray,
           active_rows: Sequence[int], left_out: int, current: FloatArray,
           one_scorecard: bool, fills: FloatArray, options: CalibrationOptions,
           in_use: int) -> GroupReport:
    customers = customer_codes([cases.customer_ids[i] for i in rows])
    resampler = Resampler(customers, options.n_boot, options.seed)
    backtest, findings, evidence = backtest_and_measures(
        cases, rows, measures, current, resampler, left_out)
    if one_scorecard:
        data = Data(cases.sub_scores[rows], cases.raw[rows], ~cases.churned[rows], customers,
                    fills)
        suggestion, why, cv = suggest(measures, data, current, options, resampler)
    else:
        suggestion, why, cv = None, (
            f"Customers are on {in_use} scorecards: each scorecard has its own suggestion "
            "(one set of weights for everybody would undo the outcome scorecards)."), None
    return GroupReport(
        scorecard=key,
        label="All customers" if key is None else label(key),
        agreement=agreement(active, active_rows, settings, options.top_disagreements),
        backtest=backtest,
        measures=findings,
        double_counts=double_counts(evidence, measures, options.double_count_rho),
        suggestion=suggestion,
        why=why,
        cross_validation=cv,
    )
