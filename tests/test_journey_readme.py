"""The README's "Journey stages" example, run as written: its tables become a workbook, a sync
on the day it names writes exactly the results it shows, and its bad-input line is what the
command line prints (exit code 2, nothing written)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from click.testing import CliRunner

from sheets_health import commands
from sheets_health import template as T
from sheets_health.cli import main
from sheets_health.model import CellValue
from tests.contract.factories import Tabs, XlsxUnderTest
from tests.sheets import rows_by_id, write_sheet

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
SECTION = README[README.index("\n### Journey stages\n"):README.index("\n## Is the score right?")]
NOW = dt.datetime(2026, 11, 22, 9, 30)
assert "a sync on 2026-11-22 writes" in SECTION


def _cell(text: str) -> CellValue:
    text = text.strip().strip("`")
    if not text:
        return None
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return dt.date.fromisoformat(text)
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    return text


def _tables() -> list[list[list[CellValue]]]:
    """Every markdown table of the section, in order, as rows of cells (header row first)."""
    found: list[list[list[CellValue]]] = []
    current: list[list[CellValue]] = []
    for line in [*SECTION.splitlines(), ""]:
        if line.startswith("|"):
            if not re.fullmatch(r"\|(\s*-+\s*\|)+", line):
                current.append([_cell(c) for c in line.strip().strip("|").split("|")])
        elif current:
            found.append(current)
            current = []
    return found


SETTING, SCORECARD, CUSTOMERS, RESULT = _tables()


def _tabs() -> Tabs:
    """The template's Settings with the README's `Stages` value, Scorecard and Customers."""
    [[_, stages]] = SETTING[1:]
    settings: list[list[CellValue]] = [[T.SETTING, T.VALUE, T.NOTES]]
    for row in T.tab_template(T.SETTINGS).rows:
        settings.append([row[0], stages if row[0] == T.SET_STAGES else row[1], row[2]])
    return {"Customers": CUSTOMERS, "Scorecard": SCORECARD, "Settings": settings,
            "History": [list(T.HISTORY_HEADERS)], "Sync log": [list(T.SYNC_LOG_HEADERS)]}


def test_the_readme_example_writes_what_the_readme_shows(tmp_path: Path) -> None:
    config = write_sheet(tmp_path, _tabs())
    commands.sync(config, now=NOW)
    rows = rows_by_id(XlsxUnderTest(tmp_path / "sheet.xlsx").cells("Customers"))
    headers = [str(h) for h in RESULT[0]]
    assert [[rows[str(r[0])].get(h) for h in headers] for r in RESULT[1:]] == RESULT[1:]
    # "On 2027-01-31, day 90, N1 and N2 move to Adoption and the default Weight scorecard"
    day_90 = dt.datetime(2027, 1, 31, 9, 30)
    assert "On 2027-01-31, day 90, N1 and N2 move to `Adoption`" in SECTION
    commands.sync(config, now=day_90 - dt.timedelta(days=1))
    assert rows_by_id(XlsxUnderTest(tmp_path / "sheet.xlsx").cells("Customers"))["N1"][
        "Stage"] == "Onboarding"
    commands.sync(config, now=day_90)
    rows = rows_by_id(XlsxUnderTest(tmp_path / "sheet.xlsx").cells("Customers"))
    assert [rows[c]["Stage"] for c in ("N1", "N2")] == ["Adoption", "Adoption"]
    explained = commands.explain(config, "N2", now=day_90)[1]
    assert "Stage: Adoption" in explained and "\ndefault scorecard: 20 " in explained


def test_the_readme_bad_stages_line_is_what_a_sync_prints(tmp_path: Path) -> None:
    quoted = re.search(r"e\.g\.\n  `(tab 'Settings'.*?)`\. So is", SECTION, flags=re.S)
    assert quoted is not None
    expected = " ".join(quoted.group(1).split())
    tabs = _tabs()
    row = next(i for i, r in enumerate(tabs["Settings"]) if r[0] == T.SET_STAGES)
    tabs["Settings"][row][1] = "Onboarding 90, Adoption, Mature"
    config = write_sheet(tmp_path, tabs)
    before = XlsxUnderTest(tmp_path / "sheet.xlsx")
    grids = {tab: before.cells(tab) for tab in ("Customers", "Scorecard", "Settings")}
    result = CliRunner().invoke(main, ["--config", str(config), "sync"])
    assert result.exit_code == 2
    assert result.stderr == ("Error: Found 1 problem in the input; no score was written:\n"
                             f"  - {expected}\n")
    after = XlsxUnderTest(tmp_path / "sheet.xlsx")
    assert {tab: after.cells(tab) for tab in grids} == grids
