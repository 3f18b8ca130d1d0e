"""A random sheet model that exercises every scoring kind, scorecard and override path.

Why: the Reasons and Next step text is built from arrays for speed; a seeded random sheet
with every kind of measure, blanks, percents, several outcomes, stages, overrides and
inactive customers lets a test compare it with the rule written out per customer."""

from __future__ import annotations

import datetime as dt
import random

import pandas as pd

from sheets_health.cells import CellValue, Percent
from sheets_health.model import (
    Customer,
    Measure,
    MissingPolicy,
    Override,
    Rag,
    RollUp,
    ScoringKind,
    Settings,
    SheetModel,
    Stage,
)

TODAY = dt.date(2026, 11, 22)
OUTCOMES = ("Grow", "Renew")


def _measures(rng: random.Random, stages: bool) -> list[Measure]:
    keys = ["", *OUTCOMES] + (["Onboarding", "Grow @ Adopt"] if stages else [])

    def weights() -> dict[str, float]:
        return {k: rng.choice([0, 1, 1, 2, 3, 0.5]) for k in keys}

    def action(word: str) -> str:
        return rng.choice(["", f"{word} the account", f"Call about {word}"])

    measures = []
    for j in range(14):
        kind = list(ScoringKind)[j % len(ScoringKind)]
        common = {"weights": weights(), "action_when_red": action("fix"),
                  "action_when_green": action("grow"), "row": j + 2,
                  "missing": rng.choice([None, None, *MissingPolicy])}
        name = f"{kind.value.title()} {j}"
        if kind in (ScoringKind.LINEAR, ScoringKind.LOG):
            low = rng.random() < 0.4
            red, green = (10.0, 2.0) if low else (0.0, rng.choice([100.0, 20.0, 5.5]))
            if kind is ScoringKind.LOG:
                red, green, low = 0.0, 50.0, False
            measures.append(Measure(name, "Usage", kind, red_at=red, green_at=green,
                                    lower_is_better=low, **common))
        elif kind is ScoringKind.BANDS:
            measures.append(Measure(name, "Value", kind,
                                    points=((0.0, 0.0), (10.0, 60.0), (20.0, 100.0),
                                            (50.0, rng.choice([100.0, 80.0]))), **common))
        elif kind is ScoringKind.BOOLEAN:
            measures.append(Measure(name, "Sentiment", kind, good_value=rng.random() < 0.7,
                                    **common))
        elif kind is ScoringKind.CATEGORY:
            measures.append(Measure(name, "Sentiment", kind,
                                    points=(("low", 0.0), ("mid", 50.0), ("high", 100.0)),
                                    **common))
        elif kind is ScoringKind.PERCENTILE:
            measures.append(Measure(name, "Usage", kind, lower_is_better=rng.random() < 0.5,
                                    **common))
        else:
            measures.append(Measure(name, "Journey", kind, green_at=30.0,
                                    red_at=rng.choice([None, 90.0]), **common))
    return measures


def _value(rng: random.Random, measure: Measure) -> CellValue:
    if rng.random() < 0.15:
        return None
    kind = measure.kind
    if kind in (ScoringKind.LINEAR, ScoringKind.PERCENTILE, ScoringKind.BANDS,
                ScoringKind.LOG):
        top = 120.0 if measure.green_at is None else max(measure.green_at, 10.0) * 1.4
        choice = rng.random()
        if choice < 0.3:
            return rng.randint(0, int(top))
        if choice < 0.4 and kind is not ScoringKind.LOG:
            return Percent(round(rng.random(), 2))
        if choice < 0.45:
            return rng.choice([1234.0, 0.004, 99.96, 100.0])
        return rng.random() * top
    if kind is ScoringKind.BOOLEAN:
        return rng.choice([True, False, "yes", "no"])
    if kind is ScoringKind.CATEGORY:
        return rng.choice(["low", "mid", "high", "High "])
    return rng.choice([TODAY - dt.timedelta(days=rng.randint(0, 90)), None, "yes", "no",
                       TODAY + dt.timedelta(days=3)])


def random_sheet(seed: int, n: int = 400) -> tuple[SheetModel, pd.DataFrame]:
    """A model and its raw frame (customer id × measure), different for each seed."""
    rng = random.Random(seed)
    stages = seed % 2 == 1
    measures = _measures(rng, stages)
    settings = Settings(
        missing=rng.choice(list(MissingPolicy)), min_coverage=rng.choice([0.3, 0.5, 0.8]),
        rollup=rng.choice(list(RollUp)), max_reasons=rng.choice([1, 2, 3, 5]),
        stages=(Stage("Onboarding", 30), Stage("Adopt", 120), Stage("Mature")) if stages
        else ())
    customers = []
    for i in range(n):
        override = None
        if rng.random() < 0.08:
            until = rng.choice([None, TODAY - dt.timedelta(days=2), TODAY + dt.timedelta(days=9)])
            override = Override(rng.choice(list(Rag)), "Champion left", until)
        inactive = rng.random() < 0.03
        customers.append(Customer(
            f"C{i:05d}", f"Customer {i}", i + 2,
            outcomes=tuple(rng.sample(OUTCOMES, rng.choice([0, 0, 1, 2]))),
            start_date=rng.choice([None, TODAY - dt.timedelta(days=rng.randint(0, 400))]),
            override=override, status="churned" if inactive else None, inactive=inactive))
    raw = pd.DataFrame({m.name: [_value(rng, m) for _ in customers] for m in measures},
                       index=[c.id for c in customers], dtype=object)
    model = SheetModel(tuple(customers), tuple(measures), OUTCOMES, settings, {})
    return model, raw
