"""Scorecard words a data-minded team needs: `log` scoring, weight 0, `Tenure days`, and the
`Weight: suggested` column that `calibrate --suggest` writes (never read as a scorecard)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from click.testing import CliRunner

from sheets_health.cli import main
from tests.contract.factories import XlsxUnderTest
from tests.sheets import column, rows_by_id, valid_tabs, write_sheet


def _sync(config: Path) -> dict[str, object]:
    result = CliRunner().invoke(main, ["--config", str(config), "--json", "sync"])
    assert result.exit_code == 0, result.output
    payload: dict[str, object] = json.loads(result.stdout)
    return payload


def _explain(config: Path, customer: str) -> dict[str, object]:
    result = CliRunner().invoke(main, ["--config", str(config), "--json", "explain", customer])
    assert result.exit_code == 0, result.output
    payload: dict[str, object] = json.loads(result.stdout)
    return payload


def _measure(payload: dict[str, object], name: str) -> dict[str, object]:
    outcomes = payload["outcomes"]
    assert isinstance(outcomes, list)
    return next(m for m in outcomes[0]["measures"] if m["measure"] == name)


def test_log_scoring_is_linear_on_a_log_scale(tmp_path: Path) -> None:
    """Red at 0, Green at 99: a count of 9 is halfway (log 10 is half of log 100), where a
    straight line would give 9."""
    tabs = valid_tabs()
    sc = tabs["Scorecard"]
    sc[1][column(tabs, "Scorecard", "Scoring")] = "log"
    sc[1][column(tabs, "Scorecard", "Red at")] = 0
    sc[1][column(tabs, "Scorecard", "Green at")] = 99
    tabs["Customers"][1][column(tabs, "Customers", "CSM score")] = 9
    config = write_sheet(tmp_path, tabs)
    detail = _measure(_explain(config, "C001"), "CSM score")
    assert detail["sub_score"] == 50.0


def test_a_measure_with_weight_zero_everywhere_is_valid_and_does_not_count(
        tmp_path: Path) -> None:
    tabs = valid_tabs()
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    before = write_sheet(tmp_path / "a", tabs)
    _sync(before)
    scores_before = rows_by_id(XlsxUnderTest(tmp_path / "a" / "sheet.xlsx").cells("Customers"))
    sc = tabs["Scorecard"]
    sc.append(["Tenure days", "Fit", "linear", 30, 365, 0, 0, ""])
    after = write_sheet(tmp_path / "b", tabs)
    check = CliRunner().invoke(main, ["--config", str(after), "check"])
    assert check.exit_code == 0, check.output
    assert "3 measures" in check.stdout
    shown = _measure(_explain(after, "C001"), "Tenure days")
    assert shown["weight"] == 0.0 and shown["note"] == "weight 0: does not count"
    _sync(after)
    scores_after = rows_by_id(XlsxUnderTest(tmp_path / "b" / "sheet.xlsx").cells("Customers"))
    assert {c: r["Health score"] for c, r in scores_after.items()} == \
        {c: r["Health score"] for c, r in scores_before.items()}


def test_tenure_days_is_days_since_start_date(tmp_path: Path) -> None:
    """Start date 2026-01-15, scored 2026-06-15: 151 days; linear 0 → 302 gives 50."""
    tabs = valid_tabs()
    tabs["Scorecard"].append(["Tenure days", "Fit", "linear", 0, 302, 1, 1, "Onboard well"])
    config = write_sheet(tmp_path, tabs)
    result = CliRunner().invoke(main, ["--config", str(config), "--json", "explain", "C001"])
    assert result.exit_code == 0, result.output
    # explain runs at the machine's now; the start date fixes the expected tenure
    payload = json.loads(result.stdout)
    detail = _measure(payload, "Tenure days")
    import datetime as dt

    days = (dt.date.today() - dt.date(2026, 1, 15)).days
    assert detail["raw"] == str(days)
    assert math.isclose(float(detail["sub_score"]), min(100.0, max(0.0, days / 302 * 100)))


@pytest.mark.parametrize("header", ["Weight: suggested", "Weight: suggested Grow",
                                    "weight:Suggested grow"])
def test_weight_suggested_is_not_an_outcome_scorecard(tmp_path: Path, header: str) -> None:
    tabs = valid_tabs()
    for i, row in enumerate(tabs["Scorecard"]):
        row.append(header if i == 0 else 50)
    config = write_sheet(tmp_path, tabs)
    result = CliRunner().invoke(main, ["--config", str(config), "--json", "check"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["scorecards"] == ["Grow"]
