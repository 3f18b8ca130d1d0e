"""A source whose newest row is older than its `max_age_days`: a warning, and its metrics
count as missing (left out, the default not applied) instead of scoring old data."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from sheets_health import commands
from sheets_health.errors import ConfigError
from tests.contract.factories import XlsxUnderTest
from tests.sheets import rows_by_id
from tests.test_sync_sources import NOW, TICKETS, explain_open_tickets, setup

FRESH = NOW - dt.timedelta(days=3)  # TICKETS' newest row is 2026-11-03, 19 days before NOW


def with_max_age(config: Path, days: object) -> None:
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace('time_column = "opened_at"\n',
                                   f'time_column = "opened_at"\nmax_age_days = {days}\n'),
                      encoding="utf-8")


def test_a_stale_source_warns_and_its_metrics_count_as_missing(tmp_path: Path) -> None:
    config = setup(tmp_path, TICKETS)
    with_max_age(config, 14)
    report = commands.sync(config, now=NOW)
    assert report.warnings == (
        "source 'tickets' is stale: its newest row is 18 days old (max_age_days = 14), so "
        "Open tickets count as missing; check the export or job that feeds it",)
    # C001's 2 open tickets and 00123's default 0 are both left out, not scored
    for cid in ("C001", "00123"):
        assert explain_open_tickets(config, cid).endswith("no data, left out")
    workbook = XlsxUnderTest(tmp_path / "sheet.xlsx")
    acme = rows_by_id(workbook.cells("Customers"))["C001"]
    assert "Open tickets" not in str(acme["Reasons"])


def test_a_fresh_enough_source_is_scored_as_before(tmp_path: Path) -> None:
    config = setup(tmp_path, TICKETS)
    with_max_age(config, 30)
    report = commands.sync(config, now=NOW)
    assert not [w for w in report.warnings if "stale" in w]
    assert explain_open_tickets(config, "C001").split()[:4] == ["Open", "tickets", "2", "60"]


@pytest.mark.parametrize(("value", "message"), [
    ("0", "max_age_days must be a positive number of days. Fix: max_age_days = 7"),
    ('"a week"', "max_age_days must be a positive number of days"),
])
def test_a_bad_max_age_is_a_config_error(tmp_path: Path, value: str, message: str) -> None:
    config = setup(tmp_path, TICKETS)
    with_max_age(config, value)
    with pytest.raises(ConfigError, match=message):
        commands.sync(config, now=NOW)


def test_max_age_needs_a_time_column(tmp_path: Path) -> None:
    config = setup(tmp_path, TICKETS)
    text = config.read_text(encoding="utf-8").replace('time_column = "opened_at"\n',
                                                      "max_age_days = 7\n")
    text = text.replace('where = { status = "open" }\n', "")
    config.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match="max_age_days needs time_column"):
        commands.sync(config, now=NOW)
