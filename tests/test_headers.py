"""Row 1 names each column once: duplicates and blank headers over data are bad input in every
tab the tool reads (sheet-source tabs too); unlabelled notes right of the headers stay yours."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from click.testing import CliRunner

from sheets_health import commands
from sheets_health.cli import main
from sheets_health.errors import EXIT_BAD_INPUT
from tests.contract.factories import XlsxUnderTest
from tests.sheets import valid_tabs, write_sheet

NOW = dt.datetime(2026, 11, 22, 9, 30)

NPS_SOURCE = """
[sources.nps]
kind = "sheet"
tab = "NPS responses"
id_column = "Customer ID"

[metrics."NPS"]
source = "nps"
agg = "mean"
column = "Score"
"""


def user_tabs(path: Path) -> dict[str, list[list[object]]]:
    """Every tab but the Sync log, where a failed run records its `error` row."""
    under = XlsxUnderTest(path)
    return {tab: under.cells(tab) for tab in under.tab_names() if tab != "Sync log"}


def test_unlabelled_notes_right_of_the_headers_are_left_alone(tmp_path: Path) -> None:
    tabs = valid_tabs()
    width = len(tabs["Customers"][0])
    for row, note in zip(tabs["Customers"][1:], ["call Tue", None, "champion left"],
                         strict=True):
        row.append(note)  # a column with no header, right of the last one
    config = write_sheet(tmp_path, tabs)
    report = commands.sync(config, now=NOW)
    assert report.scored == 3
    grid = XlsxUnderTest(tmp_path / "sheet.xlsx").cells("Customers")
    assert [row[width] for row in grid] == [None, "call Tue", None, "champion left"]
    assert grid[0][width + 1] == "Health score"  # new output columns go past the notes


def nps_sheet(tmp_path: Path, header: list[object]) -> Path:
    tabs = valid_tabs()
    tabs["Scorecard"].append(["NPS", "Sentiment", "linear", 0, 9, 1, 1, "Call the customer"])
    tabs["NPS responses"] = [header, ["C001", 9, "great"], ["C002", 4, "slow support"],
                             ["00123", 8, None]]  # type: ignore[list-item]
    return write_sheet(tmp_path, tabs, NPS_SOURCE)


def test_a_sheet_source_tab_is_read_when_its_headers_are_sound(tmp_path: Path) -> None:
    config = nps_sheet(tmp_path, ["Customer ID", "Score", "Comment"])
    assert commands.sync(config, now=NOW).scored == 3


def test_duplicate_or_blank_headers_in_a_sheet_source_tab_are_bad_input(tmp_path: Path) -> None:
    for name, header, words in (
        ("blank", ["Customer ID", None, "Score"],
         "source 'nps' (tab 'NPS responses'): column B has no header but holds data "
         "(rows 2, 3, 4)"),
        ("duplicate", ["Customer ID", "Score", "score"],
         "source 'nps' (tab 'NPS responses'): columns B and C are both headed 'Score'"),
    ):
        folder = tmp_path / name
        folder.mkdir()
        tabs = valid_tabs()
        tabs["Scorecard"].append(["NPS", "Sentiment", "linear", 0, 9, 1, 1, "Call"])
        tabs["NPS responses"] = [header, ["C001", 9, 10], ["C002", 4, 5], ["00123", 8, 9]]
        config = write_sheet(folder, tabs, NPS_SOURCE)
        before = user_tabs(folder / "sheet.xlsx")
        result = CliRunner().invoke(main, ["--config", str(config), "sync"])
        assert result.exit_code == EXIT_BAD_INPUT, result.output
        assert words in result.stderr
        assert "Fix: " in result.stderr
        assert user_tabs(folder / "sheet.xlsx") == before  # only the Sync log's error row
