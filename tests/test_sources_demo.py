"""The demo's source files: every metric loads, and the profiles spread the measures.

How long the demo takes is measured by benchmarks/bench_demo_sources.py; that the same seed
gives the same files in any process is in test_determinism.py.
"""

from __future__ import annotations

import datetime as dt
import math
import tomllib
from pathlib import Path

import pytest

from sheets_health.config import config_from_dict
from sheets_health.demo_sources import PROFILES, write_demo_sources
from sheets_health.sources import MetricsResult, check_config, load_metrics, unknown_ids

RUN_AT = dt.datetime(2026, 3, 31, 6, 0, tzinfo=dt.UTC)
CUSTOMERS = [(f"{n:05d}", PROFILES[n % 4]) for n in range(1, 61)]


def demo(directory: Path, seed: int = 1) -> tuple[str, MetricsResult]:
    text = write_demo_sources(directory, CUSTOMERS, RUN_AT, seed)
    raw = {"sheet": {"backend": "xlsx", "path": "customers.xlsx"}, **tomllib.loads(text)}
    config = config_from_dict(raw, directory, env={})
    assert check_config(config) == []
    return text, load_metrics(config, RUN_AT)


def test_every_metric_of_the_demo_loads(tmp_path: Path) -> None:
    _, result = demo(tmp_path)
    assert [s.name for s in result.sources] == ["usage", "tickets", "nps", "billing"]
    assert set(result.frame.columns) == {
        "Logins 30d",
        "Workflows run 30d",
        "Active users 30d",
        "Usage change 30d",
        "Days since last login",
        "Open tickets",
        "P1 tickets 90d",
        "NPS",
        "Seat utilisation",
        "Invoice overdue days",
    }


def test_another_seed_gives_other_data(tmp_path: Path) -> None:
    _, first = demo(tmp_path / "a", seed=3)
    _, other = demo(tmp_path / "c", seed=4)
    assert not first.frame.equals(other.frame)
    for name in ("usage_events.csv", "support_tickets.csv"):
        assert (tmp_path / "a" / name).read_bytes() != (tmp_path / "c" / name).read_bytes()


def test_profiles_spread_the_measures(tmp_path: Path) -> None:
    _, result = demo(tmp_path)
    frame = result.frame.copy()
    profiles = dict(CUSTOMERS)
    frame["profile"] = [profiles.get(cid, "stray") for cid in frame.index]
    median = frame.groupby("profile").median(numeric_only=True)
    logins = median["Logins 30d"]
    assert logins["healthy"] > logins["steady"] > logins["at_risk"]
    assert median.loc["healthy", "NPS"] > median.loc["steady", "NPS"] > median.loc["at_risk", "NPS"]
    assert (
        median.loc["at_risk", "Usage change 30d"] < -30 < median.loc["healthy", "Usage change 30d"]
    )
    assert median.loc["at_risk", "Days since last login"] >= 7
    assert median.loc["at_risk", "Open tickets"] > median.loc["healthy", "Open tickets"]
    new = frame[frame["profile"] == "new"]
    assert new["Usage change 30d"].isna().all()  # no previous window yet


def test_stray_ids_and_customers_without_data(tmp_path: Path) -> None:
    _, result = demo(tmp_path)
    ids = [cid for cid, _ in CUSTOMERS]
    assert unknown_ids(result, ids) == {"usage": ["1", "99999"], "billing": ["1", "99999"]}
    without_data = sorted(set(ids) - set(result.frame.index))
    assert without_data == ["00017", "00034", "00051"]
    assert not math.isnan(result.frame.loc["00001", "Usage change 30d"])  # steady


def test_unknown_profiles_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown demo profile"):
        write_demo_sources(tmp_path, [("1", "thriving")], RUN_AT, 1)
