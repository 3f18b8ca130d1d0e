"""The colour-change guard as a cron job sees it: exit 5 with the message, then `--force`."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from sheets_health.cli import main
from sheets_health.model import CellValue
from tests.contract.factories import XlsxUnderTest
from tests.sheets import valid_tabs, write_sheet

CSM_SCORE = 7


def _sheet(tmp_path: Path) -> Path:
    tabs = valid_tabs()
    for i in range(10):
        tabs["Customers"].append([f"X{i:02}", "x", "", None, None, None, None, 5, "none"])
    config = write_sheet(tmp_path, tabs)
    assert CliRunner().invoke(main, ["--config", str(config), "sync"]).exit_code == 0
    sheet = XlsxUnderTest(tmp_path / "sheet.xlsx")
    grid: list[list[CellValue]] = sheet.cells("Customers")
    for row in grid[4:11]:  # 7 of 13 customers: Red → Yellow
        row[CSM_SCORE] = 10
    sheet.edit("Customers", grid)
    return config


def test_too_many_colour_changes_exit_5_and_force_writes(tmp_path: Path) -> None:
    config = _sheet(tmp_path)
    sheet = XlsxUnderTest(tmp_path / "sheet.xlsx")
    before = sheet.cells("Customers"), sheet.cells("History")
    refused = CliRunner().invoke(main, ["--config", str(config), "sync"])
    assert refused.exit_code == 5
    first, fix = refused.stderr.splitlines()
    assert first.startswith("Error: 7 of 13 customers (54%) would change colour in this run, "
                            "more than 'Max colour changes' (50%) allows; nothing was written. "
                            "For example: X00 Red → Yellow (20 → 50): ")
    assert fix.startswith("  Fix: a broken source looks like this: check the sources'")
    assert "run `sheets-health sync --force` once" in fix
    assert (sheet.cells("Customers"), sheet.cells("History")) == before
    line = CliRunner().invoke(main, ["--config", str(config), "sync", "--json"])
    record = json.loads(line.stdout)
    assert (record["ok"], record["exit_code"]) == (False, 5)
    forced = CliRunner().invoke(main, ["--config", str(config), "sync", "--force"])
    assert forced.exit_code == 0, forced.output
    assert "7 colour changes:" in forced.stdout
