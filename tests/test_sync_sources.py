"""Syncs whose measures come from sources: defaults, unknown ids, empty and failing sources."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from click.testing import CliRunner

from sheets_health import commands
from sheets_health.cli import main
from sheets_health.errors import EXIT_BAD_INPUT, EXIT_REFUSED
from tests.contract.factories import XlsxUnderTest
from tests.sheets import valid_tabs, write_sheet

NOW = dt.datetime(2026, 11, 22, 9, 30, tzinfo=dt.UTC)

SOURCES = """
[sources.tickets]
kind = "csv"
path = "tickets.csv"
id_column = "account"
time_column = "opened_at"

[metrics."Open tickets"]
source = "tickets"
agg = "count"
where = { status = "open" }
{default}
"""


def setup(tmp_path: Path, tickets: str, default: str = "default = 0") -> Path:
    tabs = valid_tabs()
    tabs["Scorecard"].append(["Open tickets", "Support", "linear", 5, 0, 1, 1, "Triage tickets"])
    (tmp_path / "tickets.csv").write_text(tickets, encoding="utf-8")
    return write_sheet(tmp_path, tabs, SOURCES.replace("{default}", default))


TICKETS = (
    "account,opened_at,status\n"
    "C001,2026-11-01T10:00:00Z,open\n"
    "C001,2026-11-02T10:00:00Z,open\n"
    "C002,2026-11-03T10:00:00Z,closed\n"
    "C0O2,2026-11-03T10:00:00Z,open\n"  # a typo in the export: letter O for zero
)


def explain_open_tickets(config: Path, cid: str) -> str:
    _, text = commands.explain(config, cid, now=NOW)
    return next(line.strip() for line in text.splitlines() if line.strip().startswith("Open"))


def test_default_fills_customers_the_source_does_not_know(tmp_path: Path) -> None:
    config = setup(tmp_path, TICKETS)
    report = commands.sync(config, now=NOW)
    # C002 has only a closed ticket (0 open); 00123 has no row at all: the default 0 applies
    assert explain_open_tickets(config, "00123").split()[:4] == ["Open", "tickets", "0", "100"]
    assert explain_open_tickets(config, "C001").split()[:4] == ["Open", "tickets", "2", "60"]
    assert report.unknown_ids == {"tickets": ["C0O2"]}


def test_without_default_an_unknown_customer_has_no_data(tmp_path: Path) -> None:
    config = setup(tmp_path, TICKETS, default="")
    commands.sync(config, now=NOW)
    line = explain_open_tickets(config, "00123")
    assert line.endswith("no data, left out")


def test_unknown_ids_are_reported_on_the_command_line(tmp_path: Path) -> None:
    config = setup(tmp_path, TICKETS)
    result = CliRunner().invoke(main, ["--config", str(config), "sync"])
    assert result.exit_code == 0, result.output
    assert "warning: tickets has data for 1 ids not in Customers: C0O2" in result.stdout


def user_tabs(tmp_path: Path) -> dict[str, list[list[object]]]:
    """Every tab but the Sync log, where a failed run records its `error` row."""
    under = XlsxUnderTest(tmp_path / "sheet.xlsx")
    return {tab: under.cells(tab) for tab in under.tab_names() if tab != "Sync log"}


def last_log_row(tmp_path: Path) -> tuple[object, ...]:
    grid = XlsxUnderTest(tmp_path / "sheet.xlsx").cells("Sync log")
    return (grid[-1][grid[0].index("Result")], grid[-1][grid[0].index("Exit code")])


def test_an_empty_source_is_refused_unless_forced(tmp_path: Path) -> None:
    config = setup(tmp_path, "account,opened_at,status\n")
    before = user_tabs(tmp_path)
    result = CliRunner().invoke(main, ["--config", str(config), "sync"])
    assert result.exit_code == EXIT_REFUSED
    assert "source(s) tickets returned no rows" in result.stderr
    assert "--force" in result.stderr
    assert user_tabs(tmp_path) == before
    assert last_log_row(tmp_path) == ("error", EXIT_REFUSED)
    forced = CliRunner().invoke(main, ["--config", str(config), "sync", "--force"])
    assert forced.exit_code == 0, forced.output


def test_a_broken_source_names_itself_and_writes_only_its_error_row(tmp_path: Path) -> None:
    config = setup(tmp_path, "account,opened_at,status\nC001,not a time,open\n")
    before = user_tabs(tmp_path)
    result = CliRunner().invoke(main, ["--config", str(config), "sync"])
    assert result.exit_code == EXIT_BAD_INPUT
    assert "tickets" in result.stderr and "not a time" in result.stderr
    assert user_tabs(tmp_path) == before
    assert last_log_row(tmp_path) == ("error", EXIT_BAD_INPUT)
