"""Lifecycle: a customer whose Status is churned (or another inactive status Settings lists) is
not scored, gets no next step, is left out of peers and counts, and stays in History as such."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from click.testing import CliRunner

from sheets_health import commands
from sheets_health.cli import main
from sheets_health.errors import EXIT_REFUSED, ContractError
from sheets_health.model import Fill
from tests.contract.factories import Tabs, XlsxUnderTest
from tests.sheets import valid_tabs, write_sheet

NOW = dt.datetime(2026, 11, 22, 9, 30)


def with_status(statuses: list[object], dates: list[object] | None = None) -> Tabs:
    tabs = valid_tabs()
    tabs["Customers"][0] += ["Status", "Status date"]
    for row, status, day in zip(tabs["Customers"][1:], statuses, dates or [None] * 3,
                                strict=True):
        row += [status, day]  # type: ignore[list-item]
    return tabs


def grid(tmp_path: Path, tab: str) -> list[dict[str, object]]:
    rows = XlsxUnderTest(tmp_path / "sheet.xlsx").cells(tab)
    return [dict(zip([str(h) for h in rows[0]], r, strict=False)) for r in rows[1:]]


def customer(tmp_path: Path, cid: str) -> dict[str, object]:
    return next(r for r in grid(tmp_path, "Customers") if r["Customer ID"] == cid)


def test_a_churned_customer_is_not_scored_and_says_why(tmp_path: Path) -> None:
    """The finding: a churned customer was scored, coloured Red and given a playbook step."""
    config = write_sheet(tmp_path, with_status(["active", "Churned", None],
                                               [None, dt.date(2026, 10, 1), None]))
    report = commands.sync(config, now=NOW)
    row = customer(tmp_path, "C002")
    assert row["Health"] == "Churned"
    assert row["Health score"] is None and row["Next step"] is None and row["Trend"] is None
    assert row["Reasons"] == "Not scored: Status is churned (since 2026-10-01)"
    sheet = XlsxUnderTest(tmp_path / "sheet.xlsx")
    health_col = list(sheet.cells("Customers")[0]).index("Health")
    assert sheet.fill("Customers", 3, health_col) == Fill.GREY.value
    # left out of the counts: 2 customers, both scored
    assert (report.customers, report.scored, report.not_enough_data) == (2, 2, 0)
    assert dict(report.by_health) == {"Green": 1, "Yellow": 1, "Red": 0}
    assert grid(tmp_path, "Sync log")[-1]["Customers"] == 2
    # kept in History as such: a row with the status word and no score
    history = {r["Customer ID"]: r for r in grid(tmp_path, "History")}
    assert history["C002"]["Health"] == "Churned" and history["C002"]["Health score"] is None
    payload, text = commands.explain(config, "C002", now=NOW)
    assert text.splitlines()[0] == "Globex (C002): Churned, not scored"
    assert (payload["health"], payload["score"], payload["next_step"]) == ("Churned", None, "")
    again = commands.sync(config, now=NOW + dt.timedelta(hours=1))
    assert (again.cells_changed, again.history_rows) == (0, 0)


def test_without_a_status_date_the_reasons_still_say_so(tmp_path: Path) -> None:
    tabs = with_status([None, "churned", None])
    tabs["Customers"][2][4:6] = ["Green", "Renewal signed"]  # an override does not apply
    config = write_sheet(tmp_path, tabs)
    commands.sync(config, now=NOW)
    row = customer(tmp_path, "C002")
    assert (row["Health"], row["Reasons"]) == ("Churned", "Not scored: Status is churned")


def test_churned_customers_are_not_percentile_peers(tmp_path: Path) -> None:
    tabs = with_status([None, "churned", None])
    tabs["Customers"][2][2] = ""  # all three on the default scorecard
    tabs["Customers"][0].append("Logins")
    for row, logins in zip(tabs["Customers"][1:], [5, 1, 3], strict=True):
        row.append(logins)
    tabs["Scorecard"].append(["Logins", "Usage", "percentile", None, None, 1, 1, "Train"])
    config = write_sheet(tmp_path, tabs)
    commands.sync(config, now=NOW)
    payload, _ = commands.explain(config, "00123", now=NOW)
    logins = next(m for m in payload["outcomes"][0]["measures"] if m["measure"] == "Logins")
    assert logins["sub_score"] == 0  # the weakest of the two active peers, not the median


def test_inactive_statuses_setting_lists_more_statuses(tmp_path: Path) -> None:
    tabs = with_status(["paused", "churned", "active"])
    tabs["Settings"].append(["Inactive statuses", "churned, Paused"])
    config = write_sheet(tmp_path, tabs)
    report = commands.sync(config, now=NOW)
    assert customer(tmp_path, "C001")["Health"] == "Paused"
    assert customer(tmp_path, "C002")["Health"] == "Churned"
    assert report.customers == 1


def test_inactive_statuses_none_scores_everyone(tmp_path: Path) -> None:
    tabs = with_status([None, "churned", None])
    tabs["Settings"].append(["Inactive statuses", "none"])
    config = write_sheet(tmp_path, tabs)
    assert commands.sync(config, now=NOW).scored == 3
    assert customer(tmp_path, "C002")["Health"] == "Red"


def test_a_status_nobody_listed_is_refused_naming_the_setting(tmp_path: Path) -> None:
    config = write_sheet(tmp_path, with_status(["paused", None, None]))
    with pytest.raises(ContractError) as caught:
        commands.sync(config, now=NOW)
    assert [str(p) for p in caught.value.problems] == [
        "tab 'Customers', row 2, column 'Status': 'paused' is not one of active, churned, "
        "renewed, expanded. Fix: use one of those, or list 'paused' in the Settings row "
        "'Inactive statuses' (customers with it are not scored)"]


def test_active_cannot_be_an_inactive_status(tmp_path: Path) -> None:
    tabs = with_status([None, None, None])
    tabs["Settings"].append(["Inactive statuses", "churned, active"])
    config = write_sheet(tmp_path, tabs)
    with pytest.raises(ContractError) as caught:
        commands.sync(config, now=NOW)
    assert [str(p) for p in caught.value.problems] == [
        "tab 'Settings', row 4, column 'Value': 'active' cannot be an inactive status. "
        "Fix: list the statuses that are not scored, e.g. churned"]


def test_the_shrink_check_counts_active_customers(tmp_path: Path) -> None:
    """The Sync log's `Customers` is the active ones, so churning customers is not mistaken
    for rows deleted by accident, while a real shrink of the active list still is."""
    tabs = with_status([None, None, None])
    for i in range(4):  # four customers who left, still listed
        tabs["Customers"].append([f"X{i}", "Gone", "", None, None, None, None, 5,
                                  "none", "churned", None])
    tabs["Sync log"].append([NOW - dt.timedelta(days=1), "sync", 4, 4, 0, 0, "ok", ""])
    config = write_sheet(tmp_path, tabs)
    assert commands.sync(config, now=NOW).customers == 3  # 7 rows, 3 active: not a shrink
    assert grid(tmp_path, "Sync log")[-1]["Customers"] == 3

    tabs["Customers"][1][9] = tabs["Customers"][3][9] = "churned"  # 1 active left of 4
    shrunk = tmp_path / "shrunk"
    shrunk.mkdir()
    result = CliRunner().invoke(main, ["--config", str(write_sheet(shrunk, tabs)), "sync"])
    assert result.exit_code == EXIT_REFUSED, result.output
    assert "the Customers tab has 1 active customers but the last sync saw 4" in result.stderr
