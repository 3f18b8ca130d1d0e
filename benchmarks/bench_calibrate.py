"""Time and peak memory of calibration at scale: picking point-in-time values from a year of
daily snapshots, then the full report (gut agreement, backtest, measures, suggestions).

    python benchmarks/bench_calibrate.py                    # 50,000 customers x 15 measures
    python benchmarks/bench_calibrate.py --customers 5000 --days 90

Synthetic data: each customer has a level per measure that the daily snapshots scatter
around; renewal is driven by three of the measures. A share of customers has an outcome in the
year (on one of four scorecards), the rest are active with a gut colour. Snapshots are made a
week at a time and handed to the picker chunk by chunk, as a store would be read; making them
is timed apart from the picking. Peak memory is the process's peak resident set size.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sheets_health.calibration import (
    ActiveCustomers,
    CalibrationOptions,
    OutcomeCases,
    SnapshotPicker,
    calibrate,
)
from sheets_health.calibration.transforms import linear_sub_scores
from sheets_health.model import Measure, Rag, ScoringKind, Settings

SCORECARDS = ("Adopt", "Grow", "Retain")
START = dt.date(2025, 12, 1)
LEAD = 90


def peak_rss_mb() -> float | None:
    """Peak resident set size of this process (None where the OS cannot say)."""
    try:
        import resource  # POSIX only: imported here, never by the package
    except ImportError:
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def measures(m: int) -> list[Measure]:
    rng = np.random.default_rng(0)
    out = []
    for j in range(m):
        weights = {"": 1.0, **{s: float(rng.integers(0, 4)) for s in SCORECARDS}}
        out.append(Measure(f"M{j:02d}", "Usage", ScoringKind.LINEAR, red_at=20, green_at=80,
                           weights=weights, row=j + 2))
    return out


def snapshot_chunks(ids: np.ndarray, levels: np.ndarray, days: int, ms: list[Measure],
                    seed: int, clock: list[float]) -> Iterator[pd.DataFrame]:
    """A week of daily snapshots at a time: raw values and sub-scores per measure. The wall
    and CPU time spent making them is added to ``clock`` so the caller can leave it out."""
    rng = np.random.default_rng(seed)
    n, m = levels.shape
    for first in range(0, days, 7):
        began, cpu = time.perf_counter(), time.process_time()
        week = min(7, days - first)
        raw = (levels[None, :, :] + rng.normal(0, 4, (week, n, m))).reshape(week * n, m)
        frame = {"customer_id": np.tile(ids, week),
                 "day": np.repeat(np.array([START + dt.timedelta(days=first + k)
                                            for k in range(week)], dtype="datetime64[D]"), n)}
        for j, ms_j in enumerate(ms):
            frame[ms_j.name] = raw[:, j]
            frame[f"sub:{ms_j.name}"] = linear_sub_scores(raw[:, j], 20, 80)
        chunk = pd.DataFrame(frame)
        clock[0] += time.perf_counter() - began
        clock[1] += time.process_time() - cpu
        yield chunk


def run(n: int, m: int, days: int, outcome_share: float, n_boot: int) -> None:
    rng = np.random.default_rng(1)
    ms = measures(m)
    names = [x.name for x in ms]
    ids = np.array([f"C{i:06d}" for i in range(n)], dtype=object)
    levels = rng.normal(50, 15, (n, m))
    has_outcome = rng.random(n) < outcome_share
    outcome_day = np.array([START + dt.timedelta(days=int(d))
                            for d in rng.integers(60, days + LEAD, n)])
    logit = 0.9 + 0.05 * (levels[:, 0] - 50) + 0.04 * (levels[:, 1] - 50) \
        - 0.03 * (levels[:, 2] - 50)
    churned = rng.random(n) > 1 / (1 + np.exp(-logit))
    scorecard_of = rng.integers(0, len(SCORECARDS) + 1, n)
    cards = [("",)] + [(s,) for s in SCORECARDS]

    cases_ids = ids[has_outcome]
    as_of = pd.Series([d - dt.timedelta(days=LEAD) for d in outcome_day[has_outcome]],
                      index=cases_ids)
    making = [0.0, 0.0]
    cpu = time.process_time()
    began = time.perf_counter()
    picker = SnapshotPicker(as_of)
    for chunk in snapshot_chunks(ids, levels, days, ms, seed=2, clock=making):
        picker.add(chunk)
    values, _ = picker.result()
    provenance = picker.provenance()
    picking = time.perf_counter() - began - making[0]

    began = time.perf_counter()
    raw = values[names].to_numpy(float)
    sub = values[[f"sub:{x}" for x in names]].to_numpy(float)
    settings = Settings()
    with warnings.catch_warnings():  # a customer without a snapshot has no score
        warnings.simplefilter("ignore", RuntimeWarning)
        score = np.nanmean(sub, axis=1)
    k = len(cases_ids)
    index = pd.RangeIndex(k)
    case_frame = pd.DataFrame({
        "customer_id": cases_ids, "outcome": np.where(churned[has_outcome], "churned", "renewed"),
        "outcome_date": outcome_day[has_outcome],
        "scorecards": [cards[c] for c in scorecard_of[has_outcome]],
        "score": score, "rag": [None if np.isnan(s) else settings.rag(s).value for s in score],
        "provenance": provenance.to_numpy()}, index=index)
    cases = OutcomeCases.from_frames(case_frame, pd.DataFrame(raw, columns=names, index=index),
                                     pd.DataFrame(sub, columns=names, index=index), ms)
    active_score = np.nanmean(linear_sub_scores(levels[~has_outcome], 20, 80), axis=1)
    gut = np.where(rng.random(len(active_score)) < 0.7,
                   [settings.rag(s).value for s in active_score],
                   rng.choice([r.value for r in Rag], len(active_score)))
    active = ActiveCustomers.from_frame(pd.DataFrame({
        "customer_id": ids[~has_outcome],
        "scorecards": [cards[c] for c in scorecard_of[~has_outcome]],
        "score": active_score, "rag": [settings.rag(s).value for s in active_score],
        "gut_rag": gut}))
    building = time.perf_counter() - began

    began = time.perf_counter()
    report = calibrate(ms, SCORECARDS, settings, cases, active, LEAD,
                       CalibrationOptions(n_boot=n_boot))
    reporting = time.perf_counter() - began
    cpu = time.process_time() - cpu - making[1]

    peak = peak_rss_mb()
    print(f"{n:,} customers x {m} measures, {days} days of snapshots "
          f"({n * days:,} rows, {2 * m} value columns), {k:,} outcomes, "
          f"{n_boot} bootstrap resamples")
    print(f"  making snapshots (not counted)  {making[0]:6.1f} s")
    print(f"  picking point-in-time values    {picking:6.1f} s")
    print(f"  building the typed inputs       {building:6.1f} s")
    print(f"  calibration report              {reporting:6.1f} s")
    print(f"  total (picking + inputs + report) {picking + building + reporting:4.1f} s wall")
    print(f"  total CPU time of the same        {cpu:4.1f} s (the machine may be shared)")
    print(f"  peak memory (resident)          {peak:6.0f} MB" if peak is not None else
          "  peak memory: not available on this platform")
    for group in (report.overall, *report.scorecards):
        cv = group.cross_validation
        print(f"  {group.label:18} outcomes {group.backtest.outcomes:6,}  "
              f"AUC {group.backtest.auc.text()}  "
              f"suggestion {'yes' if group.suggestion else 'no'}"
              + (f" (CV {cv.suggested.text()})" if cv else ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--measures", type=int, default=15)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--outcome-share", type=float, default=0.4,
                        help="share of customers with an outcome in the year")
    parser.add_argument("--n-boot", type=int, default=1000)
    args = parser.parse_args()
    run(args.customers, args.measures, args.days, args.outcome_share, args.n_boot)


if __name__ == "__main__":
    main()
