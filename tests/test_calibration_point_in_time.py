"""Point-in-time values: the backtest sees the measures from before the outcome, never after."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from sheets_health.calibration import (
    CalibrationInputError,
    CalibrationOptions,
    Provenance,
    SnapshotPicker,
    calibrate,
    pick_point_in_time,
    pick_snapshots,
)
from sheets_health.calibration.stats import auc
from sheets_health.model import Settings
from tests.calibration_sim import cases_from, linear, no_active

D = dt.date
SNAPSHOTS = [D(2026, 1, 1), D(2026, 2, 1), D(2026, 3, 15), D(2026, 4, 2), D(2026, 6, 1)]


@pytest.mark.parametrize(("days", "outcome", "lead", "recomputable", "expected"), [
    # outcome 30 June, 90 days lead → 1 April: the nearest snapshot before is 15 March
    (SNAPSHOTS, D(2026, 6, 30), 90, False, (Provenance.SNAPSHOT, D(2026, 4, 1), D(2026, 3, 15))),
    # a snapshot on the lead date itself counts
    (SNAPSHOTS, D(2026, 7, 1), 90, False, (Provenance.SNAPSHOT, D(2026, 4, 2), D(2026, 4, 2))),
    # the order snapshots arrive in does not matter
    (SNAPSHOTS[::-1], D(2026, 6, 30), 90, False,
     (Provenance.SNAPSHOT, D(2026, 4, 1), D(2026, 3, 15))),
    # lead 0: the last snapshot on or before the outcome
    (SNAPSHOTS, D(2026, 6, 30), 0, False, (Provenance.SNAPSHOT, D(2026, 6, 30), D(2026, 6, 1))),
    # snapshots only after the lead date: none is used, however close
    ([D(2026, 4, 2), D(2026, 6, 1)], D(2026, 6, 30), 90, True,
     (Provenance.RECOMPUTED, D(2026, 4, 1), None)),
    ([D(2026, 4, 2)], D(2026, 6, 30), 90, False, (Provenance.CURRENT, D(2026, 4, 1), None)),
    ([], D(2026, 6, 30), 90, False, (Provenance.CURRENT, D(2026, 4, 1), None)),
])
def test_pick_point_in_time(days: list[dt.date], outcome: dt.date, lead: int,
                            recomputable: bool,
                            expected: tuple[Provenance, dt.date, dt.date | None]) -> None:
    picked = pick_point_in_time(days, outcome, lead, recomputable)
    assert (picked.provenance, picked.as_of, picked.snapshot_day) == expected


@pytest.mark.parametrize(("days", "recomputable", "note"), [
    (SNAPSHOTS, False, "snapshot of 2026-03-15 (17 days before the lead date)"),
    ([], True, "no snapshot on or before 2026-04-01: measures recomputed from event sources "
               "as of that date"),
    ([], False, "no snapshot on or before 2026-04-01: today's values, which may postdate the "
                "outcome"),
])
def test_the_pick_says_which_fallback_applies(days: list[dt.date], recomputable: bool,
                                              note: str) -> None:
    assert pick_point_in_time(days, D(2026, 6, 30), 90, recomputable).note == note


def test_negative_lead_is_refused() -> None:
    with pytest.raises(CalibrationInputError, match="lead days"):
        pick_point_in_time(SNAPSHOTS, D(2026, 6, 30), -1)


def _store(n_customers: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for c in range(n_customers):
        for day in sorted(rng.choice(200, size=rng.integers(0, 12), replace=False)):
            rows.append((f"C{c:03d}", D(2026, 1, 1) + dt.timedelta(days=int(day)),
                         float(rng.normal()), f"text-{c}-{day}"))
    return pd.DataFrame(rows, columns=["customer_id", "day", "Logins", "Sponsor"])


def test_snapshot_picker_over_shuffled_chunks_matches_the_one_customer_rule() -> None:
    store = _store(60, seed=8)
    rng = np.random.default_rng(9)
    as_of = pd.Series({f"C{c:03d}": D(2026, 1, 1) + dt.timedelta(days=int(d))
                       for c, d in enumerate(rng.integers(0, 220, 60))})
    shuffled = store.sample(frac=1.0, random_state=1)
    chunks = [shuffled.iloc[i:i + 37] for i in range(0, len(shuffled), 37)]
    values, day, provenance = pick_snapshots(chunks, as_of)
    for cid, lead_day in as_of.items():
        own = store[store["customer_id"] == cid]
        expected = pick_point_in_time(own["day"], lead_day + dt.timedelta(days=90), 90)
        assert day[cid] == expected.snapshot_day
        assert provenance[cid] == expected.provenance.value
        if expected.snapshot_day is None:
            assert np.isnan(values.at[cid, "Logins"])
        else:
            row = own[own["day"] == expected.snapshot_day].iloc[0]
            assert values.at[cid, "Logins"] == row["Logins"]
            assert values.at[cid, "Sponsor"] == row["Sponsor"]


def test_a_later_row_for_the_same_day_replaces_the_earlier() -> None:
    picker = SnapshotPicker(pd.Series({"A": D(2026, 3, 1)}))
    picker.add(pd.DataFrame({"customer_id": ["A", "A"], "day": [D(2026, 2, 1)] * 2,
                             "Logins": [1.0, 2.0]}))
    picker.add(pd.DataFrame({"customer_id": ["A"], "day": [D(2026, 2, 1)], "Logins": [3.0]}))
    values, day = picker.result()
    assert values.at["A", "Logins"] == 3.0 and day["A"] == D(2026, 2, 1)


def test_recomputable_customers_without_a_snapshot_are_marked_recomputed() -> None:
    picker = SnapshotPicker(pd.Series({"A": D(2026, 3, 1), "B": D(2026, 3, 1),
                                       "C": D(2026, 3, 1)}))
    picker.add(pd.DataFrame({"customer_id": ["A"], "day": [D(2026, 2, 1)], "Logins": [1.0]}))
    got = picker.provenance(pd.Series({"A": True, "B": True, "C": False}))
    assert got.to_dict() == {"A": "snapshot", "B": "recomputed", "C": "current"}


# ----------------------------------------------------------------------------- leakage

TODAY = D(2026, 11, 30)
LEAD = 90


def _usage_history(n: int = 240, seed: int = 21
                   ) -> tuple[pd.DataFrame, pd.Series, np.ndarray, np.ndarray]:
    """Daily usage snapshots; usage only weakly predicts renewal, and a churned customer's
    usage is 0 from its churn date on (it left). Returns the store, outcome dates, churned, and
    each customer's true usage on its lead date."""
    rng = np.random.default_rng(seed)
    level = rng.normal(50, 15, n)
    churned = rng.random(n) > 1 / (1 + np.exp(-(0.4 + 0.03 * (level - 50))))
    outcome = [D(2026, 4, 1) + dt.timedelta(days=int(d)) for d in rng.integers(0, 180, n)]
    days = [D(2025, 10, 1) + dt.timedelta(days=i) for i in range((TODAY - D(2025, 10, 1)).days + 1)]
    ids = [f"C{i:03d}" for i in range(n)]
    noise = rng.normal(0, 5, (n, len(days)))
    usage = level[:, None] + noise
    for i in np.flatnonzero(churned):
        usage[i, [k for k, d in enumerate(days) if d >= outcome[i]]] = 0.0
    at_lead = np.array([usage[i, days.index(outcome[i] - dt.timedelta(days=LEAD))]
                        for i in range(n)])
    store = pd.DataFrame({"customer_id": np.repeat(ids, len(days)),
                          "day": np.tile(np.array(days, dtype=object), n),
                          "Usage": usage.ravel()})
    return store, pd.Series(outcome, index=ids), churned, at_lead


def test_backtest_uses_pre_churn_snapshots_not_the_zeros_after_churn() -> None:
    store, outcome, churned, at_lead = _usage_history()
    today_values = store[store["day"] == TODAY]["Usage"].to_numpy()
    # the trap: today's values "predict" churn perfectly, because churned customers left
    assert auc(today_values, ~churned) > 0.99
    as_of = outcome.map(lambda d: d - dt.timedelta(days=LEAD))
    chunks = [store.iloc[i:i + 20_000] for i in range(0, len(store), 20_000)]
    values, _, provenance = pick_snapshots(chunks, as_of)
    assert (provenance == "snapshot").all()
    assert values["Usage"].to_numpy() == pytest.approx(at_lead)
    measures = [linear("Usage", 20, 80)]
    cases = cases_from(measures, values[["Usage"]].to_numpy(), churned,
                       ids=list(values.index))
    report = calibrate(measures, (), Settings(), cases, no_active(), LEAD)
    found = report.overall.measures[0]
    assert found.auc.value == pytest.approx(auc(at_lead, ~churned))
    assert found.auc.value < 0.8  # what the pre-churn values give, not ~1.0
    assert report.overall.backtest.provenance["snapshot"] == len(churned)


def test_cases_with_only_todays_values_are_left_out_by_default() -> None:
    store, _, churned, _ = _usage_history(n=60)
    today_values = store[store["day"] == TODAY][["Usage"]].to_numpy()
    measures = [linear("Usage", 20, 80)]
    cases = cases_from(measures, today_values, churned, provenance="current")
    report = calibrate(measures, (), Settings(), cases, no_active(), LEAD)
    backtest = report.overall.backtest
    assert backtest.outcomes == 0 and backtest.left_out == 60
    assert report.notes == ("measures for 60 customers are today's values and may postdate "
                            "the outcome: they are left out of the backtest",)
    # asked to, it uses them — and says so plainly
    report = calibrate(measures, (), Settings(), cases, no_active(), LEAD,
                       CalibrationOptions(use_current_values=True, n_boot=100))
    assert report.overall.backtest.outcomes == 60
    assert report.notes == ("measures for 60 customers are today's values and may postdate the "
                            "outcome",)
