"""The descriptive part of a report: gut agreement, the backtest, each measure's own evidence,
and double-counting pairs — for one group of customers (a scorecard, or everybody)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from sheets_health.calibration.inputs import ActiveCustomers, OutcomeCases, Provenance
from sheets_health.calibration.report import (
    Agreement,
    Backtest,
    BandRate,
    Disagreement,
    DoubleCount,
    Estimate,
    MeasureFinding,
)
from sheets_health.calibration.stats import (
    FloatArray,
    IntArray,
    Resampler,
    SortedScores,
    auc,
    confusion,
    linear_weighted_kappa,
    ordinal,
    percentile_interval,
    spearman_pairs,
)
from sheets_health.model import Measure, Rag, ScoringKind, Settings

# raw values whose order the Scorecard fixes (higher or lower is better); other kinds map a
# value to points, so their own evidence is read from the sub-score
_RAW_KINDS = (ScoringKind.LINEAR, ScoringKind.LOG, ScoringKind.PERCENTILE)


# ----------------------------------------------------------------------------- agreement


def score_distance(score: float, gut: Rag, settings: Settings) -> float:
    """Points the score would have to move to land in the gut colour's band."""
    if math.isnan(score):
        return 0.0
    if gut is Rag.GREEN:
        return max(0.0, settings.green_at - score)
    if gut is Rag.RED:
        return max(0.0, score - settings.red_below)
    if score >= settings.green_at:
        return score - settings.green_at
    return max(0.0, settings.red_below - score)


def agreement(active: ActiveCustomers, rows: Sequence[int], settings: Settings, top: int
              ) -> Agreement:
    pairs = [(i, active.gut_rag[i], active.rag[i]) for i in rows]
    both = [(i, g, s) for i, g, s in pairs if g is not None and s is not None]
    without_gut = sum(1 for _, g, _ in pairs if g is None)
    without_score = sum(1 for _, g, s in pairs if g is not None and s is None)
    table = confusion([g for _, g, _ in both], [s for _, _, s in both])
    n = len(both)
    accuracy = sum(table[k][k] for k in range(3)) / n if n else None
    found = []
    for i, g, s in both:
        assert g is not None and s is not None
        distance = abs(ordinal(g) - ordinal(s))
        if distance:
            score = float(active.score[i])
            found.append(Disagreement(active.customer_ids[i], g, s,
                                      None if math.isnan(score) else score, distance,
                                      score_distance(score, g, settings), active.reasons[i]))
    found.sort(key=lambda d: (-d.ordinal_distance, -d.score_distance, d.customer_id))
    return Agreement(n, accuracy, linear_weighted_kappa(table) if n else None, table,
                     tuple(found[:top]), without_gut, without_score)


# ----------------------------------------------------------------------------- backtest


def _direction_words(measure: Measure, basis_raw: bool, reverse: bool) -> str:
    if not basis_raw:
        return "fewer points are healthier" if reverse else "more points are healthier"
    lower = measure.lower_is_better != reverse
    return "lower is healthier" if lower else "higher is healthier"


def backtest_and_measures(
    cases: OutcomeCases,
    rows: IntArray,
    measures: Sequence[Measure],
    weights: FloatArray,
    resampler: Resampler,
    left_out: int,
) -> tuple[Backtest, tuple[MeasureFinding, ...], FloatArray]:
    """The backtest of the score the team saw, and each measure's own AUC, sharing one set of
    bootstrap resamples. Also returns the per-measure evidence columns (for double counting)."""
    retained = ~cases.churned[rows]
    score = cases.score[rows]
    evidence = np.empty((len(rows), len(measures)))
    raw_basis = []
    for j, m in enumerate(measures):
        raw = cases.raw[rows, j]
        use_raw = m.kind in _RAW_KINDS and bool(np.isfinite(raw).any())
        raw_basis.append(use_raw)
        evidence[:, j] = (-raw if m.lower_is_better else raw) if use_raw else \
            cases.sub_scores[rows, j]
    prepared = [SortedScores.of(score, retained)] + [
        SortedScores.of(evidence[:, j], retained) for j in range(len(measures))]
    replicates = resampler.run([p.auc for p in prepared]) if len(rows) else \
        np.full((0, len(prepared)), np.nan)

    def estimate(values: FloatArray, column: int) -> Estimate:
        return Estimate.of(auc(values, retained), *percentile_interval(replicates[:, column]))

    findings = []
    for j, m in enumerate(measures):
        present = int(np.isfinite(evidence[:, j]).sum())
        est = estimate(evidence[:, j], j + 1)
        sub_auc = auc(cases.sub_scores[rows, j], retained)
        wrong, right = est.below(0.5), est.above(0.5)
        findings.append(MeasureFinding(
            measure=m.name, customers=present, auc=est,
            basis="raw value" if raw_basis[j] else "sub-score",
            sub_score_auc=None if math.isnan(sub_auc) else sub_auc,
            scorecard_direction=_direction_words(m, raw_basis[j], reverse=False),
            data_direction=("unclear" if not (wrong or right)
                            else _direction_words(m, raw_basis[j], reverse=wrong)),
            wrong_direction=wrong, weight=float(weights[j])))
    order = {m.name: j for j, m in enumerate(measures)}
    findings.sort(key=lambda f: (-abs((f.auc.value if f.auc.value is not None else 0.5) - 0.5),
                                 order[f.measure]))
    return _backtest(cases, rows, estimate(score, 0), left_out), tuple(findings), evidence


def _backtest(cases: OutcomeCases, rows: IntArray, score_auc: Estimate, left_out: int
              ) -> Backtest:
    churned = cases.churned[rows]
    rags = [cases.rag[i] for i in rows]
    scores = cases.score[rows]
    ids = [cases.customer_ids[i] for i in rows]
    order = np.argsort(-np.nan_to_num(scores, nan=-1.0), kind="stable")
    missed = tuple(ids[k] for k in order if churned[k] and rags[k] in (Rag.GREEN, Rag.YELLOW))
    alarms = tuple(ids[k] for k in order[::-1] if not churned[k] and rags[k] is Rag.RED)
    bands = tuple(
        BandRate(rag, sum(1 for k, r in enumerate(rags) if r is rag),
                 sum(1 for k, r in enumerate(rags) if r is rag and churned[k]))
        for rag in (Rag.GREEN, Rag.YELLOW, Rag.RED, None))
    provenance = {p.value: sum(1 for i in rows if cases.provenance[i] is p) for p in Provenance}
    notes = []
    if provenance[Provenance.CURRENT.value]:
        notes.append(f"measures for {provenance[Provenance.CURRENT.value]} customers are "
                     "today's values and may postdate the outcome")
    if left_out:
        notes.append(f"measures for {left_out} customers are today's values and may "
                     "postdate the outcome: they are left out of the backtest")
    if provenance[Provenance.RECOMPUTED.value]:
        notes.append(f"measures for {provenance[Provenance.RECOMPUTED.value]} customers were "
                     "recomputed from event sources as of the lead date (no snapshot)")
    return Backtest(
        outcomes=len(rows), churned=int(churned.sum()), retained=int((~churned).sum()),
        without_score=int(np.isnan(scores).sum()), auc=score_auc, missed_churn=missed,
        false_alarms=alarms, bands=bands, provenance=provenance, left_out=left_out,
        notes=tuple(notes))


def double_counts(evidence: FloatArray, measures: Sequence[Measure], threshold: float
                  ) -> tuple[DoubleCount, ...]:
    """Measure pairs that say the same thing, |Spearman ρ| ≥ threshold (rank-based, so a
    lower-is-better measure counts the same whichever way round it is stored)."""
    frame = pd.DataFrame(evidence, columns=[m.name for m in measures])
    return tuple(DoubleCount(a, b, rho, n)
                 for a, b, rho, n in spearman_pairs(frame, threshold))


def customer_codes(ids: Sequence[str]) -> IntArray:
    """0..k-1 per distinct customer id, for grouping rows by customer."""
    codes, _ = pd.factorize(pd.Series(list(ids), dtype=object))
    return np.asarray(codes, dtype=np.int64)

