"""Calibration's middle step: customers without a snapshot from before their lead date get
their event-source metrics recomputed as of that date, not today's values (which are zero
for a customer whose events stopped when it churned)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from sheets_health import sources
from sheets_health.backends import open_backend
from sheets_health.calibrate_run import gather
from sheets_health.calibration.stats import auc
from sheets_health.calibration.transforms import linear_sub_scores
from sheets_health.cli import main
from sheets_health.config import load_config
from tests.contract.xlsx_factory import make_xlsx

TODAY = dt.date.today()
START = TODAY - dt.timedelta(days=400)
RENEWED_ON = TODAY - dt.timedelta(days=30)
CHURN_DAYS = (TODAY - dt.timedelta(days=30), TODAY - dt.timedelta(days=40))
N = 40
CONFIG = """\
[sheet]
backend = "xlsx"
path = "sheet.xlsx"

[sources.usage]
kind = "csv"
path = "usage_events.csv"
id_column = "account_id"
time_column = "timestamp"

[metrics."Workflows run 30d"]
source = "usage"
agg = "count"
window_days = 30
where = { event = "workflow_run" }
"""


def build(tmp_path: Path, csm_weight: int = 0) -> tuple[Path, dict[str, int], np.ndarray]:
    """Forty customers, half churned, no snapshots; each runs a steady number of workflows a
    day from its Start date until it churned (renewed ones until today). Returns the config,
    each customer's daily workflows and who churned."""
    rng = np.random.default_rng(7)
    churned = np.arange(N) % 2 == 0
    per_day = {f"C{i:03d}": int(rng.integers(0, 4) if churned[i] else rng.integers(1, 5))
               for i in range(N)}
    customers: list[list[Any]] = [["Customer ID", "Customer", "Start date", "Status",
                                   "Status date", "Gut RAG", "CSM score"]]
    lines = ["account_id,timestamp,event"]
    for i, (cid, k) in enumerate(per_day.items()):
        until = CHURN_DAYS[i // 2 % 2] if churned[i] else TODAY
        customers.append([cid, f"Customer {i}", START, "churned" if churned[i] else "renewed",
                          until if churned[i] else RENEWED_ON, "Green", 7])
        day = START
        while day <= until:
            lines += [f"{cid},{day.isoformat()}T12:00:00,workflow_run"] * k
            lines.append(f"{cid},{day.isoformat()}T12:00:00,login")
            day += dt.timedelta(days=1)
    (tmp_path / "usage_events.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    head = ["Measure", "Dimension", "Scoring", "Red at", "Green at", "Weight", "Value degree",
            "Proactive", "Action when red"]
    make_xlsx(tmp_path, {
        "Customers": customers,
        "Scorecard": [head,
                      ["Workflows run 30d", "Usage", "linear", 0, 120, 1, 2, "yes", "Train"],
                      ["Tenure days", "Fit", "linear", 0, 365, 0, 2, "no", "Onboard"],
                      ["CSM score", "CSM", "linear", 1, 10, csm_weight, 2, "yes", "Call"]],
        "Settings": [["Setting", "Value"], ["Calibration lead days", 90]],
        "History": [["Date", "Customer ID", "Health score", "Health"]],
        "Sync log": [["Run at", "Result"]],
        "Snapshots": [["Date", "Customer ID", "Fingerprint", "Measures"]],
        "Calibration": [["Calibrated at", "Scorecard", "Section", "Item", "Value", "Detail"]],
    })
    config = tmp_path / "sheets-health.toml"
    config.write_text(CONFIG, encoding="utf-8")
    return config, per_day, churned


def run(config: Path) -> dict[str, Any]:
    result = CliRunner().invoke(main, ["--config", str(config), "--json", "calibrate",
                                       "--dry-run"])
    assert result.exit_code == 0, result.output
    payload: dict[str, Any] = json.loads(result.stdout)
    return payload


def test_a_churned_customer_gets_its_metric_as_of_the_lead_date_not_zero(tmp_path: Path
                                                                          ) -> None:
    config_path, per_day, _ = build(tmp_path)
    config = load_config(config_path)
    now = dt.datetime.combine(TODAY, dt.time(9))
    _model, cases, *_ = gather(config, open_backend(config.sheet), now)
    workflows = cases.raw[:, cases.measures.index("Workflows run 30d")]
    tenure = cases.raw[:, cases.measures.index("Tenure days")]
    expected = [30 * per_day[cid] for cid in cases.customer_ids]
    assert workflows.tolist() == expected  # 30 days of steady use before the lead date
    assert (workflows[cases.churned] > 0).sum() >= 5  # churned, yet not the zero of today
    leads = [d - dt.timedelta(days=90) for d in cases.outcome_dates]
    assert tenure.tolist() == [(d - START).days for d in leads]
    assert {p.value for p in cases.provenance} == {"recomputed"}


def test_the_backtest_is_the_pre_churn_one_and_says_where_the_values_came_from(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config, per_day, churned = build(tmp_path)
    loads: list[dt.datetime] = []
    real = sources.load_metrics

    def counting(*args: Any, **kwargs: Any) -> sources.MetricsResult:
        loads.append(args[1])
        return real(*args, **kwargs)

    monkeypatch.setattr(sources, "load_metrics", counting)
    backtest = run(config)["report"]["overall"]["backtest"]
    as_of = np.array([30.0 * k for k in per_day.values()])
    expected = auc(linear_sub_scores(as_of, 0, 120), ~churned)
    today = np.where(churned, 0.0, as_of)  # events stopped at churn: zero today
    assert auc(linear_sub_scores(today, 0, 120), ~churned) > 0.95
    assert backtest["outcomes"] == N and backtest["provenance"]["recomputed"] == N
    assert backtest["auc"]["value"] == pytest.approx(expected) and expected < 0.9
    assert any("recomputed from event sources" in n for n in backtest["notes"])
    # the sync's own load, then one per distinct lead date (two), not one per customer
    assert len(loads) == 1 + len({*CHURN_DAYS, RENEWED_ON})
    text = CliRunner().invoke(main, ["--config", str(config), "calibrate", "--dry-run"])
    assert "recomputed from event sources as of the lead date" in text.stdout


def test_a_weighted_measure_typed_in_the_sheet_keeps_the_case_on_todays_values(
        tmp_path: Path) -> None:
    """A CSM score typed today may postdate the outcome: such cases are not called
    recomputed, are left out of the backtest, and the report says so."""
    config, _, _ = build(tmp_path, csm_weight=1)
    backtest = run(config)["report"]["overall"]["backtest"]
    assert backtest["outcomes"] == 0 and backtest["left_out"] == N
    assert any(f"measures for {N} customers are today's values and may postdate the outcome"
               in n for n in backtest["notes"])
