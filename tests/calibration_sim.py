"""Seeded simulated customers for the calibration tests: churn driven by known measures."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
import pandas as pd

from sheets_health.calibration import ActiveCustomers, OutcomeCases
from sheets_health.calibration.transforms import linear_sub_scores
from sheets_health.model import Measure, Rag, ScoringKind, Settings

OUTCOME_DAY = dt.date(2026, 6, 30)


def linear(name: str, red: float, green: float, weight: float = 1.0, **kw: object) -> Measure:
    return Measure(name, "Usage", ScoringKind.LINEAR, red_at=red, green_at=green,
                   lower_is_better=green < red, weights={"": weight},
                   **kw)  # type: ignore[arg-type]


def cases_from(measures: Sequence[Measure], raw: np.ndarray, churned: np.ndarray,
               settings: Settings | None = None, provenance: str = "snapshot",
               ids: Sequence[str] | None = None) -> OutcomeCases:
    """Outcome cases scored by the equal-weight (or given) default scorecard."""
    settings = settings or Settings()
    n = len(churned)
    ids = list(ids) if ids is not None else [f"C{i:04d}" for i in range(n)]
    names = [m.name for m in measures]
    sub = np.column_stack([linear_sub_scores(raw[:, j], m.red_at or 0.0, m.green_at or 0.0)
                           for j, m in enumerate(measures)])
    w = np.array([m.weight("") for m in measures])
    present = ~np.isnan(sub)
    score = np.where(present, sub, 0.0) @ w / (present @ w)
    index = pd.RangeIndex(n)
    cases = pd.DataFrame({
        "customer_id": ids,
        "outcome": np.where(churned, "churned", "renewed"),
        "outcome_date": [OUTCOME_DAY] * n,
        "scorecards": [("",)] * n,
        "score": score,
        "rag": [settings.rag(s).value for s in score],
        "provenance": [provenance] * n,
    }, index=index)
    return OutcomeCases.from_frames(cases, pd.DataFrame(raw, columns=names, index=index),
                                    pd.DataFrame(sub, columns=names, index=index), measures)


def no_active() -> ActiveCustomers:
    return ActiveCustomers.empty()


DRIVERS = ("Core actions", "Tickets open")
NOISE = ("Logins 30d", "NPS", "Seats used", "Training hours")


def driven(n: int = 400, seed: int = 7) -> tuple[list[Measure], np.ndarray, np.ndarray]:
    """Renewal driven by Core actions (more is better) and Tickets open (fewer is better; the
    Scorecard gets it the wrong way round: higher is better), plus four noise measures, all at
    equal weight."""
    rng = np.random.default_rng(seed)
    core = rng.normal(50, 15, n).clip(0, None)
    tickets = rng.poisson(4, n).astype(float)
    noise = [rng.normal(50, 15, n).clip(0, None) for _ in NOISE]
    logit = 0.8 + 0.09 * (core - 50) - 0.55 * (tickets - 4)
    churned = rng.random(n) > 1 / (1 + np.exp(-logit))
    measures = [linear("Core actions", 20, 80), linear("Tickets open", 0, 10)]
    measures += [linear(name, 20, 80) for name in NOISE]
    raw = np.column_stack([core, tickets, *noise])
    return measures, raw, churned


def random_churn(n: int = 300, seed: int = 11) -> tuple[list[Measure], np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    measures = [linear(f"M{j}", 20, 80) for j in range(5)]
    raw = rng.normal(50, 15, (n, 5))
    churned = rng.random(n) < 0.3
    return measures, raw, churned


def gut_frame(ids: Sequence[str], rags: Sequence[Rag | None], guts: Sequence[Rag | None],
              scores: Sequence[float]) -> pd.DataFrame:
    return pd.DataFrame({"customer_id": list(ids), "scorecards": [("",)] * len(ids),
                         "score": list(scores), "rag": [r.value if r else None for r in rags],
                         "gut_rag": [g.value if g else None for g in guts]})


def saturating(n: int = 400, seed: int = 5) -> tuple[list[Measure], np.ndarray, np.ndarray]:
    """Renewal driven by log(Logins 30d), a long-tailed count whose Scorecard ramp (0 → 5)
    saturates: nearly every customer logs in more than 5 times, so its sub-score is 100 for
    almost all of them. Core actions is a weaker second driver, NPS noise."""
    rng = np.random.default_rng(seed)
    logins = np.floor(rng.lognormal(np.log(60), 1.0, n))
    core = rng.normal(50, 15, n).clip(0, None)
    nps = rng.normal(50, 15, n)
    logit = 0.8 + 1.6 * (np.log1p(logins) - np.log1p(60)) + 0.03 * (core - 50)
    churned = rng.random(n) > 1 / (1 + np.exp(-logit))
    measures = [linear("Logins 30d", 0, 5), linear("Core actions", 20, 80), linear("NPS", 20, 80)]
    return measures, np.column_stack([logins, core, nps]), churned
