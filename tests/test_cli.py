"""The command line as a cron job and a person see it: output, exact errors, exit codes."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from sheets_health import commands
from sheets_health.cli import main
from sheets_health.model import Fill
from tests.contract.factories import XlsxUnderTest
from tests.sheets import write_sheet

COMMANDS = sorted(main.commands)


def test_the_commands_are_the_documented_ones() -> None:
    assert COMMANDS == ["check", "demo", "explain", "init", "sync"]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command: str) -> None:
    result = CliRunner().invoke(main, [command, "--help"])
    assert result.exit_code == 0
    first_sentence = (main.commands[command].help or "").split(".")[0]
    assert len(first_sentence) > 20
    assert " ".join(first_sentence.split()) in " ".join(result.output.split())


def test_main_help_documents_exit_codes() -> None:
    result = CliRunner().invoke(main, ["--help"])
    for code in ("0  success", "2  bad input", "3  outage", "4  access denied",
                 "5  refused for safety", "6  another sync"):
        assert code in result.output


def test_missing_config_is_bad_input(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["--config", str(tmp_path / "nope.toml"), "sync"])
    assert result.exit_code == 2
    assert result.stderr == (
        f"Error: config file {tmp_path / 'nope.toml'} does not exist\n"
        "  Fix: pass --config PATH, or run `sheets-health demo` for a worked example\n"
    )


def test_missing_environment_variable_is_named(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SH_TEST_WORKBOOK", raising=False)
    config = tmp_path / "c.toml"
    config.write_text('[sheet]\nbackend = "xlsx"\npath = "${SH_TEST_WORKBOOK}"\n')
    result = CliRunner().invoke(main, ["--config", str(config), "check"])
    assert result.exit_code == 2
    assert "uses ${SH_TEST_WORKBOOK} but the environment variable SH_TEST_WORKBOOK is not set" \
        in result.stderr


def test_missing_workbook_is_bad_input_with_hint(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text('[sheet]\nbackend = "xlsx"\npath = "missing.xlsx"\n')
    result = CliRunner().invoke(main, ["--config", str(config), "sync"])
    assert result.exit_code == 2
    assert "missing.xlsx" in result.stderr and "sheets-health init" in result.stderr


def test_init_creates_the_template_and_is_idempotent(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text('[sheet]\nbackend = "xlsx"\npath = "new.xlsx"\n')
    first = CliRunner().invoke(main, ["--config", str(config), "init"])
    assert first.exit_code == 0, first.output
    assert "added tab Customers" in first.stdout
    before = (tmp_path / "new.xlsx").read_bytes()
    second = CliRunner().invoke(main, ["--config", str(config), "init"])
    assert second.stdout == "init:\n  nothing to change\n"
    assert (tmp_path / "new.xlsx").read_bytes() == before
    check = CliRunner().invoke(main, ["--config", str(config), "check"])
    assert check.exit_code == 0, check.output


def test_sync_json_is_machine_readable(tmp_path: Path) -> None:
    config = write_sheet(tmp_path)
    result = CliRunner().invoke(main, ["--config", str(config), "--json", "sync", "--dry-run"])
    assert result.exit_code == 0
    payload = json.loads(result.stdout)
    assert payload["ok"] is True and payload["dry_run"] is True
    assert payload["by_health"] == {"Green": 1, "Yellow": 1, "Red": 1}


def test_explain_shows_every_measure(tmp_path: Path) -> None:
    config = write_sheet(tmp_path)
    result = CliRunner().invoke(main, ["--config", str(config), "explain", "C002"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "Globex (C002): 27 Red"
    assert "Grow: 26.7 (coverage 100%)" in lines
    csm = next(line for line in lines if line.strip().startswith("CSM score"))
    assert csm.split() == ["CSM", "score", "4", "20", "33%", "6.7", "26.7"]


def test_explain_unknown_customer(tmp_path: Path) -> None:
    config = write_sheet(tmp_path)
    result = CliRunner().invoke(main, ["--config", str(config), "explain", "123"])
    assert result.exit_code == 2
    assert "no customer with Customer ID '123'" in result.stderr


def test_unexpected_errors_exit_1_and_keep_traceback_with_debug(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = write_sheet(tmp_path)

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("kaboom")

    monkeypatch.setattr(commands, "run_sync", boom)
    quiet = CliRunner().invoke(main, ["--config", str(config), "sync"])
    assert quiet.exit_code == 1
    assert "internal error: RuntimeError: kaboom" in quiet.stderr
    assert "Traceback" not in quiet.stderr
    loud = CliRunner().invoke(main, ["--config", str(config), "--debug", "sync"])
    assert loud.exit_code == 1 and "Traceback" in loud.stderr


def test_demo_scores_every_customer_with_colours(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    result = CliRunner().invoke(main, ["demo", str(out)])
    assert result.exit_code == 0, result.output
    assert f"The demo workbook is {out / 'customers.xlsx'}" in result.stdout
    under = XlsxUnderTest(out / "customers.xlsx")
    grid = under.cells("Customers")
    headers = grid[0]
    health, reasons, step = (headers.index(h) for h in ("Health", "Reasons", "Next step"))
    rows = grid[1:]
    assert 90 <= len(rows) <= 110
    assert {r[health] for r in rows} == {"Green", "Yellow", "Red", "Not enough data"}
    fills = {under.fill("Customers", i, health) for i in range(2, len(rows) + 2)}
    assert fills == {f.value for f in Fill}
    assert all(r[reasons] for r in rows)
    assert all(r[step] for r in rows if r[health] in ("Red", "Yellow"))
    outcomes = {o.strip() for r in rows for o in str(r[headers.index("Outcomes")]).split(",")}
    assert len(outcomes) == 3


def test_a_second_demo_sync_with_nothing_changed_changes_no_cell(tmp_path: Path) -> None:
    """At a fixed time: an hour-later run of the clock-based CLI demo could cross midnight
    (a new History day) or move an event out of a 30-day window."""
    now = dt.datetime(2026, 11, 22, 9, 0)
    report, _ = commands.demo(tmp_path / "demo", now=now)
    assert report.cells_changed > 0
    again = commands.sync(tmp_path / "demo" / "sheets-health.toml",
                          now=now + dt.timedelta(minutes=1))
    assert again.cells_changed == 0 and again.history_rows == 0
