"""`sheets-health calibrate` end to end on workbooks whose truth is known: snapshots written
as a sync writes them, outcomes in Status / Status date, the report in the Calibration tab."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
from click.testing import CliRunner

from sheets_health.calibration.stats import auc
from sheets_health.calibration.transforms import linear_sub_scores
from sheets_health.cli import main
from sheets_health.snapshots import Snapshot
from sheets_health.template import SNAPSHOT_HEADERS
from tests.calibration_sim import DRIVERS, driven, random_churn
from tests.contract.factories import XlsxUnderTest, make_xlsx

TODAY = dt.date.today()
OUTCOME = TODAY - dt.timedelta(days=30)  # lead 90: the measures of 120 days ago count
SNAPSHOT_DAYS = [TODAY - dt.timedelta(days=d) for d in (300, 200, 125, 60, 10)]


def workbook(tmp_path: Path, measures: list[Any], raw: np.ndarray, churned: np.ndarray,
             leak: bool = True) -> Path:
    make_xlsx(tmp_path, sheet_tabs(measures, raw, churned, leak))
    config = tmp_path / "sheets-health.toml"
    config.write_text('[sheet]\nbackend = "xlsx"\npath = "sheet.xlsx"\n', encoding="utf-8")
    return config


def sheet_tabs(measures: list[Any], raw: np.ndarray, churned: np.ndarray,
               leak: bool = True) -> dict[str, list[list[Any]]]:
    """Customers whose snapshots hold ``raw`` (the values before the outcome); today's values
    of churned customers are zero usage (``leak``), as after a customer leaves."""
    names = [m.name for m in measures]
    n = len(churned)
    ids = [f"C{i:04d}" for i in range(n)]
    now = raw.copy()
    if leak:
        now[churned, :] = 0.0
    customers: list[list[Any]] = [["Customer ID", "Customer", "Start date", "Status",
                                   "Status date", "Gut RAG", *names]]
    for i, cid in enumerate(ids):
        customers.append([cid, f"Customer {i}", TODAY - dt.timedelta(days=700),
                          "churned" if churned[i] else "renewed", OUTCOME,
                          "Red" if churned[i] and i % 3 else "Green",
                          *[round(float(v), 1) for v in now[i]]])
    scorecard: list[list[Any]] = [["Measure", "Dimension", "Scoring", "Red at", "Green at",
                                   "Weight", "Value degree", "Proactive", "Action when red"]]
    for m in measures:
        scorecard.append([m.name, "Usage", "linear", m.red_at, m.green_at, 1, 2, "yes",
                          f"Review {m.name}"])
    sub = np.column_stack([linear_sub_scores(raw[:, j], m.red_at, m.green_at)
                           for j, m in enumerate(measures)])
    now_sub = np.column_stack([linear_sub_scores(now[:, j], m.red_at, m.green_at)
                               for j, m in enumerate(measures)])
    snapshots: list[list[Any]] = [list(SNAPSHOT_HEADERS)]
    for day in SNAPSHOT_DAYS:
        for i, cid in enumerate(ids):
            after = day > OUTCOME  # what a sync saw after the outcome: today's values
            values = now[i] if after else raw[i]
            subs = now_sub[i] if after else sub[i]
            snap = Snapshot(cid, {name: (round(float(v), 4), round(float(s), 2))
                                  for name, v, s in zip(names, values, subs, strict=True)})
            snapshots.append([day, cid, snap.fingerprint, snap.text])
    tabs = {"Customers": customers, "Scorecard": scorecard,
            "Settings": [["Setting", "Value"], ["Calibration lead days", 90]],
            "History": [["Date", "Customer ID", "Health score", "Health"]],
            "Sync log": [["Run at", "Result"]], "Snapshots": snapshots,
            "Calibration": [["Calibrated at", "Scorecard", "Section", "Item", "Value",
                             "Detail"]]}
    return tabs


def run(config: Path, *args: str) -> dict[str, Any]:
    result = CliRunner().invoke(main, ["--config", str(config), "--json", "calibrate", *args])
    assert result.exit_code == 0, result.output
    payload: dict[str, Any] = json.loads(result.stdout)
    return payload


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_calibrate_finds_the_drivers_and_suggests_weights_that_beat_equal_ones(
        tmp_path: Path) -> None:
    measures, raw, churned = driven(n=300)
    config = workbook(tmp_path, measures, raw, churned)
    book = tmp_path / "sheet.xlsx"
    before = digest(book)
    payload = run(config, "--dry-run")
    assert digest(book) == before  # --dry-run writes nothing
    group = payload["report"]["overall"]
    assert {m["measure"] for m in group["measures"][:2]} == set(DRIVERS)
    assert [m["measure"] for m in group["measures"] if m["wrong_direction"]] == ["Tickets open"]
    s = payload["suggestion"]
    assert s is not None and s["cv_auc_suggested"] > s["cv_auc_current"]
    assert set(s["weights"]) == {m.name for m in measures}
    assert payload["report"]["overall"]["backtest"]["provenance"]["snapshot"] == 300


def test_the_backtest_uses_snapshots_from_before_the_outcome_not_todays_values(
        tmp_path: Path) -> None:
    """Churned customers' usage is zero today; today's values would separate them perfectly.
    The backtest's AUC is the one the pre-churn values give, not ~1.0."""
    measures, raw, churned = driven(n=300)
    config = workbook(tmp_path, measures, raw, churned, leak=True)
    got = run(config, "--dry-run")["report"]["overall"]["backtest"]["auc"]["value"]
    sub = np.column_stack([linear_sub_scores(raw[:, j], m.red_at, m.green_at)
                           for j, m in enumerate(measures)])
    before = auc(sub.mean(axis=1), ~churned)
    leaked = raw.copy()
    leaked[churned] = 0.0
    after = auc(np.column_stack([linear_sub_scores(leaked[:, j], m.red_at, m.green_at)
                                 for j, m in enumerate(measures)]).mean(axis=1), ~churned)
    assert after > 0.95
    assert abs(got - before) < 1e-9 and got < 0.8


def test_suggest_writes_weight_suggested_and_the_dated_report(tmp_path: Path) -> None:
    measures, raw, churned = driven(n=300)
    config = workbook(tmp_path, measures, raw, churned)
    payload = run(config, "--suggest")
    assert payload["suggestion_written"] is True
    under = XlsxUnderTest(tmp_path / "sheet.xlsx")
    grid = under.cells("Scorecard")
    header = grid[0]
    weights = {r[0]: r[header.index("Weight")] for r in grid[1:]}
    suggested = {r[0]: r[header.index("Weight: suggested")] for r in grid[1:]}
    assert weights == {m.name: 1 for m in measures}  # the team's weights are untouched
    assert suggested == payload["suggestion"]["weights"]
    assert all(isinstance(v, int) for v in suggested.values()) and sum(suggested.values()) == 100
    report = under.cells("Calibration")
    assert len(report) - 1 == payload["calibration_rows"] > 10
    assert {str(r[0])[:10] for r in report[1:]} == {TODAY.isoformat()}
    sections = {r[2] for r in report[1:]}
    assert {"Gut RAG", "Backtest", "Measure", "Suggestion"} <= sections
    # the sheet stays valid with the suggestion beside the weights
    check = CliRunner().invoke(main, ["--config", str(config), "check"])
    assert check.exit_code == 0, check.output


def test_random_churn_gets_no_suggestion_and_says_why(tmp_path: Path) -> None:
    measures, raw, churned = random_churn(n=200)
    config = workbook(tmp_path, measures, raw, churned, leak=False)
    payload = run(config, "--suggest")
    assert payload["suggestion"] is None
    assert payload["why"] and "not" in payload["why"]
    assert payload["suggestion_written"] is False
    header = XlsxUnderTest(tmp_path / "sheet.xlsx").cells("Scorecard")[0]
    assert "Weight: suggested" not in header
    text = CliRunner().invoke(main, ["--config", str(config), "calibrate", "--dry-run"])
    assert text.exit_code == 0
    assert "no suggestion:" in text.stdout and "nothing written (dry run)" in text.stdout


def test_a_bad_lead_days_setting_is_named(tmp_path: Path) -> None:
    measures, raw, churned = random_churn(n=40)
    config = workbook(tmp_path, measures, raw, churned, leak=False)
    import openpyxl

    wb = openpyxl.load_workbook(tmp_path / "sheet.xlsx")
    wb["Settings"]["B2"] = "three months"
    wb.save(tmp_path / "sheet.xlsx")
    result = CliRunner().invoke(main, ["--config", str(config), "calibrate"])
    assert result.exit_code == 2
    assert "tab 'Settings', row 2, column 'Value': 'three months' is not a whole number of " \
           "days" in result.stderr


def test_check_warns_about_practice_until_the_score_is_calibrated(tmp_path: Path) -> None:
    measures, raw, churned = random_churn(n=40)
    config = workbook(tmp_path, measures, raw, churned, leak=False)
    first = CliRunner().invoke(main, ["--config", str(config), "--json", "check"])
    assert first.exit_code == 0, first.output
    warnings = json.loads(first.stdout)["warnings"]
    assert any("never been calibrated" in w for w in warnings)
    # five measures on Usage, each with an Action when red, value degree 2, proactive: no
    # practice warning other than calibration
    assert len(warnings) == 1
    run(config)
    again = CliRunner().invoke(main, ["--config", str(config), "check"])
    assert again.exit_code == 0 and "warning:" not in again.stdout


def test_calibrate_on_google_writes_the_report_and_the_suggestion(
        tmp_path: Path, monkeypatch: Any) -> None:
    """The same run through gspread + google-auth + requests against the emulator."""
    from sheets_health.backends.google import GoogleBackend
    from sheets_health.calibrate_run import run_calibrate
    from sheets_health.config import config_from_dict
    from tests.emulator import SheetsEmulator, make_service_account_key, write_key_file
    from tests.test_google_backend import seed

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    measures, raw, churned = driven(n=300)
    tabs = sheet_tabs(measures, raw, churned)
    with SheetsEmulator() as emulator:
        sid = seed(emulator, tabs)
        key = write_key_file(tmp_path / "key.json", make_service_account_key(emulator))
        config = config_from_dict({"sheet": {"backend": "google", "spreadsheet": sid,
                                             "credentials": str(key),
                                             "api_url": emulator.url}}, tmp_path)
        backend = GoogleBackend.from_config(config.sheet, sleep=lambda _s: None)
        result = run_calibrate(config, backend=backend, suggest=True)
        assert result.suggested_written
        scorecard = emulator.values(sid, "Scorecard", render="UNFORMATTED_VALUE")
        col = scorecard[0].index("Weight: suggested")
        got = {r[0]: r[col] for r in scorecard[1:]}
        assert got == {m.measure: m.weight for m in result.report.overall.suggestion.measures}
        report = emulator.values(sid, "Calibration", render="UNFORMATTED_VALUE")
        assert len(report) - 1 == sum(len(t.appends) for t in result.plan.tabs
                                      if t.tab == "Calibration")
        assert any(r[2] == "Backtest" and r[3] == "ROC AUC" for r in report[1:])


def test_each_outcome_scorecard_gets_its_own_suggestion_where_its_outcomes_support_one(
        tmp_path: Path) -> None:
    """285 customers pursue Grow (enough outcomes), 15 pursue Keep (too few for any
    suggestion): `--suggest` writes `Weight: suggested Grow` only, and says why not Keep."""
    measures, raw, churned = driven(n=300)
    tabs = sheet_tabs(measures, raw, churned)
    customers = tabs["Customers"]
    customers[0].append("Outcomes")
    for i, row in enumerate(customers[1:]):
        row.append("Grow" if i < 285 else "Keep")
    scorecard = tabs["Scorecard"]
    scorecard[0] += ["Weight: Grow", "Weight: Keep"]
    for row in scorecard[1:]:
        row += [1, 1]
    make_xlsx(tmp_path, tabs)
    config = tmp_path / "sheets-health.toml"
    config.write_text('[sheet]\nbackend = "xlsx"\npath = "sheet.xlsx"\n', encoding="utf-8")
    payload = run(config, "--suggest")
    by_card = {s["scorecard"]: s for s in payload["suggestions"]}
    assert set(by_card) == {"Grow", "Keep"}  # nobody is on the default scorecard
    grow, keep = by_card["Grow"], by_card["Keep"]
    assert grow["column"] == "Weight: suggested Grow" and grow["suggestion"] is not None
    assert grow["suggestion"]["cv_auc_suggested"] > grow["suggestion"]["cv_auc_current"]
    assert keep["suggestion"] is None and keep["why"].startswith("Not enough outcomes")
    assert payload["suggestion"] == grow["suggestion"]  # the first supported one
    grid = XlsxUnderTest(tmp_path / "sheet.xlsx").cells("Scorecard")
    header = grid[0]
    assert "Weight: suggested Grow" in header
    assert "Weight: suggested" not in header and "Weight: suggested Keep" not in header
    written = {r[0]: r[header.index("Weight: suggested Grow")] for r in grid[1:]}
    assert written == grow["suggestion"]["weights"] and sum(written.values()) == 100
    assert {r[0]: (r[header.index("Weight: Grow")], r[header.index("Weight: Keep")])
            for r in grid[1:]} == {m.name: (1, 1) for m in measures}  # the team's, untouched
    # the column is read as a suggestion, not as a third outcome scorecard
    check = CliRunner().invoke(main, ["--config", str(config), "--json", "check"])
    assert check.exit_code == 0, check.output
    assert json.loads(check.stdout)["scorecards"] == ["Grow", "Keep"]
    text = CliRunner().invoke(main, ["--config", str(config), "calibrate", "--dry-run"])
    assert "suggested weights (Grow):" in text.stdout
    assert "no suggestion for Keep" in text.stdout
