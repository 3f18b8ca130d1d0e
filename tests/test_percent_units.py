"""Percent units: a value or weight typed with `%` meets thresholds and weights in the same unit.

`55%` is stored as 0.55 by both spreadsheets; read beside `Red at` 30 / `Green at` 80 it used
to score 0 without a word. Now units that disagree are bad input naming the cells (exit 2), and
percents that agree are compared as percents — never a silent rescale.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from click.testing import CliRunner

from sheets_health import commands
from sheets_health.cells import Percent
from sheets_health.cli import main
from sheets_health.errors import EXIT_BAD_INPUT, ContractError
from tests.contract.factories import Tabs, XlsxUnderTest
from tests.sheets import valid_tabs, write_sheet

NOW = dt.datetime(2026, 11, 22, 9, 30)


def with_adoption(values: list[object], red: object, green: object, weight: object = 1) -> Tabs:
    """valid_tabs plus an `Adoption` measure (a Customers column) scored linear red → green."""
    tabs = valid_tabs()
    tabs["Customers"][0].append("Adoption")
    for row, value in zip(tabs["Customers"][1:], values, strict=True):
        row.append(value)  # type: ignore[arg-type]
    tabs["Scorecard"].append(["Adoption", "Usage", "linear", red, green, weight, 1,
                              "Run an adoption workshop"])  # type: ignore[list-item]
    return tabs


def problems(config: Path) -> list[str]:
    with pytest.raises(ContractError) as caught:
        commands.sync(config, now=NOW)
    return [str(p) for p in caught.value.problems]


def adoption(config: Path, cid: str) -> dict[str, object]:
    payload, _ = commands.explain(config, cid, now=NOW)
    for outcome in payload["outcomes"]:
        for measure in outcome["measures"]:
            if measure["measure"] == "Adoption":
                return measure
    raise AssertionError(payload)


def customers(tmp_path: Path) -> dict[str, dict[str, object]]:
    grid = XlsxUnderTest(tmp_path / "sheet.xlsx").cells("Customers")
    headers = [str(h) for h in grid[0]]
    return {str(r[0]): dict(zip(headers, r, strict=False)) for r in grid[1:] if r and r[0]}


# ----------------------------------------------------------------------------- disagreeing


def test_percent_values_against_plain_thresholds_are_refused_naming_the_cells(
    tmp_path: Path,
) -> None:
    """The finding: `55%` (0.55) against Red at 30 / Green at 80 scored 0 and `check` said OK."""
    config = write_sheet(tmp_path, with_adoption(["55%", Percent(0.4), 70], 30, 80))
    assert problems(config) == [
        "tab 'Customers', column 'Adoption': 2 values are percents (row 2: 55%, row 3: 40%) but "
        "its 'Red at' 30 and 'Green at' 80 (Scorecard row 4) are plain numbers. Fix: type the "
        "values as plain numbers (55 for 55%), or 'Red at' and 'Green at' as percents "
        "(30%, 80%) — all in one unit"]
    result = CliRunner().invoke(main, ["--config", str(config), "check"])
    assert result.exit_code == EXIT_BAD_INPUT
    assert "tab 'Customers', column 'Adoption': 2 values are percents" in result.stderr


def test_plain_values_against_percent_thresholds_are_refused(tmp_path: Path) -> None:
    config = write_sheet(tmp_path, with_adoption([55, Percent(0.4), None], "30%", Percent(0.8)))
    assert problems(config) == [
        "tab 'Customers', row 2, column 'Adoption': 1 value is a plain number (row 2: 55) but "
        "its 'Red at' 30% and 'Green at' 80% (Scorecard row 4) are percents. Fix: type the "
        "values as percents (55% for 55), or 'Red at' and 'Green at' as plain numbers (30, 80) — "
        "all in one unit"]


def test_red_at_and_green_at_in_different_units_are_refused(tmp_path: Path) -> None:
    config = write_sheet(tmp_path, with_adoption([None, None, None], 30, "80%"))
    assert problems(config) == [
        "tab 'Scorecard', row 4, column 'Green at': 'Red at' 30 is a plain number but "
        "'Green at' 80% is a percent. Fix: type both the same way: 30% and 80%, or 30 and 80"]


def test_a_weight_column_mixing_percents_and_plain_numbers_is_refused(tmp_path: Path) -> None:
    """The finding: `30%` beside 30 was read as 0.3, a weight a hundred times too small."""
    tabs = with_adoption([0.5, 0.6, 0.7], 0.3, 0.8, weight=30)
    tabs["Scorecard"][1][5] = "30%"
    tabs["Scorecard"][2][5] = Percent(0.2)
    config = write_sheet(tmp_path, tabs)
    assert problems(config) == [
        "tab 'Scorecard', column 'Weight': the weights mix percents (row 2: 30%, row 3: 20%) "
        "with plain numbers (row 4: 30). Fix: write every weight in this column the same way: "
        "all as percents (30%) or all as plain numbers (30)"]


def test_percent_thresholds_on_a_metric_from_a_source_are_refused(tmp_path: Path) -> None:
    """A source's numbers carry no unit: a percent threshold would be a guess about them."""
    tabs = valid_tabs()
    tabs["Scorecard"].append(["Seats used", "Usage", "linear", "30%", "80%", 1, 1, None])
    (tmp_path / "seats.csv").write_text("account,used\nC001,0.9\nC002,0.5\n", encoding="utf-8")
    config = write_sheet(tmp_path, tabs, """
[sources.seats]
kind = "csv"
path = "seats.csv"
id_column = "account"

[metrics."Seats used"]
source = "seats"
column = "used"
""")
    assert problems(config) == [
        "tab 'Scorecard', row 4, column 'Red at': 'Seats used' comes from a source, whose "
        "numbers carry no unit, but its 'Red at' 30% and 'Green at' 80% are typed as percents. "
        "Fix: type them as plain numbers in the unit the source gives (0.3 and 0.8 for shares "
        "given as fractions, 30 and 80 for shares given as 0–100)"]


def test_a_metric_is_a_plain_number_even_when_the_source_writes_a_percent(
    tmp_path: Path,
) -> None:
    """A CSV cell `55%` is its fraction (0.55): scored against plain 0.3 / 0.8, not rescaled."""
    tabs = valid_tabs()
    tabs["Scorecard"].append(["Seats used", "Usage", "linear", 0.3, 0.8, 1, 1, None])
    (tmp_path / "seats.csv").write_text("account,used\nC001,55%\nC002,0.8\n",
                                        encoding="utf-8")
    config = write_sheet(tmp_path, tabs, """
[sources.seats]
kind = "csv"
path = "seats.csv"
id_column = "account"

[metrics."Seats used"]
source = "seats"
column = "used"
""")
    commands.sync(config, now=NOW)
    payload, _ = commands.explain(config, "C001", now=NOW)
    seats = next(m for m in payload["outcomes"][0]["measures"] if m["measure"] == "Seats used")
    assert seats["sub_score"] == pytest.approx(50)


def test_a_percentile_measure_mixing_units_is_refused(tmp_path: Path) -> None:
    tabs = with_adoption(["55%", 40, 70], None, None)
    tabs["Scorecard"][3][2] = "percentile"
    config = write_sheet(tmp_path, tabs)
    assert problems(config) == [
        "tab 'Customers', column 'Adoption': the values mix percents (row 2: 55%) with plain "
        "numbers (row 3: 40, row 4: 70). Fix: type every value of the column the same way: "
        "all as percents or all as plain numbers"]


def test_band_thresholds_in_two_units_are_refused(tmp_path: Path) -> None:
    tabs = with_adoption([None, None, None], None, None)
    tabs["Scorecard"][3][2] = "bands: 0=0, 50%=50, 80=100"
    config = write_sheet(tmp_path, tabs)
    assert problems(config) == [
        "tab 'Scorecard', row 4, column 'Scoring': the band thresholds mix percents (50%) with "
        "plain numbers (80). Fix: write them all as percents (80%) or all as plain numbers"]


# ----------------------------------------------------------------------------- agreeing


@pytest.mark.parametrize(
    ("values", "red", "green"),
    [
        (["55%", Percent(0.55), Percent(1.0)], "30%", "80%"),  # text and formatted percents
        ([Percent(0.55), "55%", "100%"], Percent(0.3), Percent(0.8)),
        ([55, 55, 100], 30, 80),  # plain numbers everywhere: the same scores
    ],
)
def test_values_and_thresholds_in_one_unit_score_alike(
    tmp_path: Path, values: list[object], red: object, green: object
) -> None:
    config = write_sheet(tmp_path, with_adoption(values, red, green))
    commands.sync(config, now=NOW)
    assert [adoption(config, cid)["sub_score"] for cid in ("C001", "C002", "00123")] == [
        pytest.approx(50), pytest.approx(50), pytest.approx(100)]


def test_reasons_show_percents_as_typed(tmp_path: Path) -> None:
    tabs = with_adoption([Percent(0.9), "35%", Percent(0.5)], "30%", "80%")
    config = write_sheet(tmp_path, tabs)
    commands.sync(config, now=NOW)
    assert "Adoption 35% (target ≥ 80%) −23 pts" in str(customers(tmp_path)["C002"]["Reasons"])
    for cid, typed in (("C001", "90%"), ("C002", "35%")):  # formatted and text percents
        _, text = commands.explain(config, cid, now=NOW)
        assert any(line.split()[:2] == ["Adoption", typed] for line in
                   (raw.strip() for raw in text.splitlines())), text


def test_zero_is_zero_in_either_unit(tmp_path: Path) -> None:
    """0 and 0% are the same number: a plain 0 beside percents is no unit clash."""
    config = write_sheet(tmp_path, with_adoption([Percent(0.55), 0, "80%"], 0, "80%"))
    commands.sync(config, now=NOW)
    assert adoption(config, "C002")["sub_score"] == 0
    assert adoption(config, "C001")["sub_score"] == pytest.approx(68.75)


def test_weights_all_typed_as_percents_are_normalised_like_plain_ones(tmp_path: Path) -> None:
    plain = valid_tabs()
    plain["Scorecard"][1][5], plain["Scorecard"][2][5] = 30, 70
    percents = valid_tabs()
    percents["Scorecard"][1][5], percents["Scorecard"][2][5] = "30%", Percent(0.7)
    scores = []
    for name, tabs in (("plain", plain), ("percents", percents)):
        folder = tmp_path / name
        folder.mkdir()
        commands.sync(write_sheet(folder, tabs), now=NOW)
        scores.append({cid: row["Health score"] for cid, row in customers(folder).items()})
    assert scores[0] == scores[1]
    assert scores[0]["00123"] == 67  # 0.3 × 60 + 0.7 × 70, not 0.3/0.7 of anything else


# ----------------------------------------------------------------------------- Settings


@pytest.mark.parametrize("green", ["70%", Percent(0.7), 70])
def test_a_score_threshold_typed_as_percent_means_that_score(tmp_path: Path,
                                                            green: object) -> None:
    tabs = valid_tabs()
    tabs["Settings"][1][1] = green
    config = write_sheet(tmp_path, tabs)
    commands.sync(config, now=NOW)
    assert customers(tmp_path)["00123"]["Health"] == "Yellow"  # 65 < 70


def test_a_score_threshold_written_as_a_plain_fraction_is_refused(tmp_path: Path) -> None:
    """0.7 was silently taken as 70: a plain number is a score, and scores run 0–100."""
    tabs = valid_tabs()
    tabs["Settings"][1][1] = 0.7
    config = write_sheet(tmp_path, tabs)
    assert problems(config) == [
        "tab 'Settings', row 2, column 'Value': 0.7 is a fraction, but scores run from 0 to "
        "100. Fix: write the score, e.g. 70 (or 70%)"]


@pytest.mark.parametrize("coverage", ["80%", Percent(0.8), 0.8, 80])
def test_minimum_coverage_as_percent_or_share(tmp_path: Path, coverage: object) -> None:
    tabs = valid_tabs()
    tabs["Customers"][1][7] = None  # C001: only Exec sponsor (half of the weight) has data
    tabs["Settings"].append(["Minimum coverage", coverage])
    config = write_sheet(tmp_path, tabs)
    commands.sync(config, now=NOW)
    row = customers(tmp_path)["C001"]
    assert row["Health"] == "Not enough data"
    assert str(row["Reasons"]) == "Not enough data: 50% of the weight has data (minimum 80%); " \
                                  "missing CSM score"
