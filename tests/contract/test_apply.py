"""Contract: `Backend.apply` writes only what the plan names, to the row that holds the key."""

from __future__ import annotations

import datetime as dt

import pytest

from sheets_health.errors import ContractError
from sheets_health.model import (
    ApplyResult,
    CellValue,
    CellWrite,
    Fill,
    RowUpdate,
    TabPlan,
    WritePlan,
)

from .conftest import Make
from .helpers import assert_grid, same

ID = ("Customer ID",)
# Backends that still write a new header over a column holding unlabelled user notes.
SHEET: list[list[CellValue]] = [
    ["Customer ID", "Customer", "Health score", "Health", "My notes"],
    ["C-001", "Acme", 40, "Red", "mine"],
    ["C-002", "Beta", None, None, "also mine"],
    ["C-003", "Gamma", 90, "Green", None],
]


def _plan(*tabs: TabPlan) -> WritePlan:
    return WritePlan(tabs)


def _update(row: int, cid: str, **cells: CellValue) -> RowUpdate:
    return RowUpdate(row, (cid,), {k.replace("_", " "): CellWrite(v) for k, v in cells.items()})


def _with(
    grid: list[list[CellValue]], row: int, col: int, value: CellValue
) -> list[list[CellValue]]:
    copy = [list(r) for r in grid]
    copy[row - 1][col] = value
    return copy


def test_apply_writes_only_the_named_cells(backend_factory: Make) -> None:
    sheet = backend_factory({"Customers": SHEET, "Other": [["Keep"], ["me"]]})
    update = RowUpdate(
        3, ("C-002",), {"Health score": CellWrite(55), "health": CellWrite("Yellow")}
    )
    result = sheet.backend.apply(_plan(TabPlan("Customers", ID, updates=(update,))))
    assert result == ApplyResult(cells_written=2)
    expected = _with(_with(SHEET, 3, 2, 55), 3, 3, "Yellow")
    assert_grid(sheet.cells("Customers"), expected)
    assert_grid(sheet.cells("Other"), [["Keep"], ["me"]])
    assert sheet.fill("Customers", 3, 2) is None  # no fill asked, none set


def test_apply_can_clear_a_cell(backend_factory: Make) -> None:
    sheet = backend_factory({"Customers": SHEET})
    update = _update(2, "C-001", Health_score=None)
    sheet.backend.apply(_plan(TabPlan("Customers", ID, updates=(update,))))
    assert_grid(sheet.cells("Customers"), _with(SHEET, 2, 2, None))


def test_apply_adds_headers_at_the_right_end(backend_factory: Make) -> None:
    grid: list[list[CellValue]] = [["Customer ID", None, "My column", None], ["C-001", "x", "y"]]
    sheet = backend_factory({"Customers": grid})
    plan = TabPlan(
        "Customers",
        ID,
        add_headers=("Trend", "my  COLUMN"),  # the second one exists already
        updates=(_update(2, "C-001", Trend="▼ -12"),),
    )
    result = sheet.backend.apply(_plan(plan))
    assert result.cells_written == 1
    assert_grid(
        sheet.cells("Customers"),
        [["Customer ID", None, "My column", "Trend"], ["C-001", "x", "y", "▼ -12"]],
    )


def test_apply_follows_a_row_that_moved(backend_factory: Make) -> None:
    sheet = backend_factory({"Customers": SHEET})
    sorted_grid = [SHEET[0], SHEET[3], SHEET[2], SHEET[1]]  # sorted between read and apply
    sheet.edit("Customers", sorted_grid)
    update = _update(2, "C-001", Health_score=45, Health="Red")
    result = sheet.backend.apply(_plan(TabPlan("Customers", ID, updates=(update,))))
    assert result.cells_written == 2
    assert len(result.repaired) == 1 and "C-001" in result.repaired[0]
    assert_grid(sheet.cells("Customers"), _with(sorted_grid, 4, 2, 45))


def test_apply_skips_a_key_that_vanished(backend_factory: Make) -> None:
    sheet = backend_factory({"Customers": SHEET})
    shrunk = [SHEET[0], SHEET[1], SHEET[3]]
    sheet.edit("Customers", shrunk)
    plan = TabPlan(
        "Customers",
        ID,
        updates=(_update(3, "C-002", Health_score=1), _update(4, "C-003", Health_score=91)),
    )
    result = sheet.backend.apply(_plan(plan))
    assert result.cells_written == 1
    assert len(result.skipped) == 1 and "C-002" in result.skipped[0]
    assert result.repaired and "C-003" in result.repaired[0]
    assert_grid(sheet.cells("Customers"), _with(shrunk, 3, 2, 91))


def test_apply_with_duplicate_keys_trusts_only_the_hinted_row(backend_factory: Make) -> None:
    grid: list[list[CellValue]] = [["Customer ID", "Health"], ["C-001", None], ["C-001", None]]
    sheet = backend_factory({"Customers": grid})
    hinted = _update(3, "C-001", Health="Green")
    result = sheet.backend.apply(_plan(TabPlan("Customers", ID, updates=(hinted,))))
    assert result.cells_written == 1
    assert_grid(sheet.cells("Customers"), _with(grid, 3, 1, "Green"))
    sheet.edit("Customers", [grid[0], ["C-002", None], ["C-001", None], ["C-001", None]])
    ambiguous = _update(2, "C-001", Health="Red")
    result = sheet.backend.apply(_plan(TabPlan("Customers", ID, updates=(ambiguous,))))
    assert result.cells_written == 0 and len(result.skipped) == 1


def test_apply_appends_below_the_last_used_row(backend_factory: Make) -> None:
    grid: list[list[CellValue]] = [
        ["Customer ID", "Health score", "My notes"],
        ["C-001", 40],
        [None, None],
        ["C-002", 50],
        [None, None, "a note further down"],
    ]
    sheet = backend_factory({"Customers": grid})
    appends = (
        {"Customer ID": CellWrite("C-003"), "Health score": CellWrite(60)},
        {"customer id": CellWrite("C-004")},
    )
    result = sheet.backend.apply(_plan(TabPlan("Customers", ID, appends=appends)))
    assert result.rows_appended == 2 and result.cells_written == 3
    assert_grid(sheet.cells("Customers"), [*grid, ["C-003", 60], ["C-004"]])


def test_apply_appends_under_a_header_only_tab(backend_factory: Make) -> None:
    sheet = backend_factory({"Sync log": [["Run at", "Result"]]})
    appends = ({"Run at": CellWrite(dt.datetime(2026, 3, 31, 9, 0)), "Result": CellWrite("ok")},)
    sheet.backend.apply(_plan(TabPlan("sync log", appends=appends)))
    assert_grid(
        sheet.cells("Sync log"), [["Run at", "Result"], [dt.datetime(2026, 3, 31, 9, 0), "ok"]]
    )


def test_apply_stores_text_as_text_never_as_a_formula(backend_factory: Make) -> None:
    grid: list[list[CellValue]] = [["Customer ID", "Reasons", "Next step", "Trend"], ["C-001"]]
    sheet = backend_factory({"Customers": grid})
    update = _update(2, "C-001", Reasons="=1+1", Next_step="00123", Trend="+5")
    sheet.backend.apply(_plan(TabPlan("Customers", ID, updates=(update,))))
    assert_grid(sheet.cells("Customers"), [grid[0], ["C-001", "=1+1", "00123", "+5"]])
    assert not sheet.is_formula("Customers", 2, 1)
    row = sheet.backend.read(["Customers"])["Customers"].rows[0]
    assert row == ("C-001", "=1+1", "00123", "+5")


def test_apply_keeps_numbers_and_dates_typed(backend_factory: Make) -> None:
    grid: list[list[CellValue]] = [["Customer ID", "Score", "Share", "Day", "At", "Flag"], ["C-1"]]
    sheet = backend_factory({"Customers": grid})
    values: list[CellValue] = [
        80,
        12.5,
        dt.date(2026, 3, 31),
        dt.datetime(2026, 3, 31, 9, 15),
        True,
    ]
    cells = {str(h): CellWrite(v) for h, v in zip(grid[0][1:], values, strict=True)}
    sheet.backend.apply(_plan(TabPlan("Customers", ID, updates=(RowUpdate(2, ("C-1",), cells),))))
    stored = sheet.cells("Customers")[1]
    read = sheet.backend.read(["Customers"])["Customers"].rows[0]
    for got in (stored, list(read)):
        assert_grid([got], [["C-1", *values]])


def test_apply_sets_fills_and_leaves_others_alone(backend_factory: Make) -> None:
    sheet = backend_factory({"Customers": SHEET})
    sheet.set_fill("Customers", 2, 3, "FF0000")  # the user's own colour on C-001's Health
    plan = TabPlan(
        "Customers",
        ID,
        updates=(
            RowUpdate(2, ("C-001",), {"Health": CellWrite("Red")}),  # fill None: leave it
            RowUpdate(4, ("C-003",), {"Health": CellWrite("Green", Fill.GREEN)}),
            RowUpdate(3, ("C-002",), {"Health": CellWrite(None, Fill.GREY)}),
        ),
    )
    sheet.backend.apply(_plan(plan))
    assert sheet.fill("Customers", 2, 3) == "FF0000"
    assert sheet.fill("Customers", 4, 3) == Fill.GREEN.value
    assert sheet.fill("Customers", 3, 3) == Fill.GREY.value
    assert sheet.fill("Customers", 4, 2) is None
    colors = sheet.backend.read(["Customers"])["Customers"].colors
    assert colors == {(2, 3): "FF0000", (4, 3): "B7E1CD", (3, 3): "D9D9D9"}


@pytest.mark.parametrize(
    "plan",
    [WritePlan(), WritePlan((TabPlan("Customers", ID), TabPlan("Missing tab")))],
    ids=["no-tabs", "empty-tabs"],
)
def test_apply_empty_plan_writes_nothing(backend_factory: Make, plan: WritePlan) -> None:
    sheet = backend_factory({"Customers": SHEET})
    assert sheet.backend.apply(plan) == ApplyResult()
    assert_grid(sheet.cells("Customers"), SHEET)


def test_apply_missing_column_raises_and_writes_nothing(backend_factory: Make) -> None:
    sheet = backend_factory({"Customers": SHEET})
    plan = TabPlan(
        "Customers",
        ID,
        updates=(_update(2, "C-001", Health_score=1), _update(3, "C-002", Reasons="x")),
    )
    with pytest.raises(ContractError) as info:
        sheet.backend.apply(_plan(plan))
    assert "Reasons" in str(info.value)
    assert_grid(sheet.cells("Customers"), SHEET)


def test_apply_missing_tab_raises_and_writes_nothing(backend_factory: Make) -> None:
    sheet = backend_factory({"Customers": SHEET})
    plan = _plan(
        TabPlan("Customers", ID, updates=(_update(2, "C-001", Health_score=1),)),
        TabPlan("History", appends=({"Date": CellWrite("2026-03-31")},)),
    )
    with pytest.raises(ContractError) as info:
        sheet.backend.apply(plan)
    assert "History" in str(info.value)
    assert_grid(sheet.cells("Customers"), SHEET)


def test_apply_history_composite_keys(backend_factory: Make) -> None:
    day1, day2 = dt.date(2026, 3, 30), dt.date(2026, 3, 31)
    grid: list[list[CellValue]] = [
        ["Date", "Customer ID", "Health score", "Health"],
        [day1, "C-001", 50, "Yellow"],
        [day2, "C-001", 60, "Yellow"],
        [day2, "00123", 70, "Green"],
    ]
    sheet = backend_factory({"History": grid})
    plan = TabPlan(
        "History",
        ("Date", "Customer ID"),
        updates=(
            RowUpdate(2, (day2.isoformat(), "C-001"), {"Health score": CellWrite(65)}),
            RowUpdate(4, (day2.isoformat(), "123"), {"Health score": CellWrite(0)}),  # not 00123
        ),
        appends=({"Date": CellWrite(day2), "Customer ID": CellWrite("C-002"),
                  "Health score": CellWrite(30), "Health": CellWrite("Red", Fill.RED)},),
    )  # fmt: skip
    result = sheet.backend.apply(_plan(plan))
    assert result.cells_written == 5 and result.rows_appended == 1
    assert len(result.repaired) == 1 and len(result.skipped) == 1
    expected: list[list[CellValue]] = [*_with(grid, 3, 2, 65), [day2, "C-002", 30, "Red"]]
    assert_grid(sheet.cells("History"), expected)
    assert sheet.fill("History", 5, 3) == Fill.RED.value
    table = sheet.backend.read(["History"])["History"]
    assert all(same(row[0], day) for row, day in zip(table.rows, [day1, day2, day2, day2],
                                                      strict=True))  # fmt: skip


def test_apply_new_header_skips_a_column_holding_unlabelled_notes(backend_factory: Make) -> None:
    grid: list[list[CellValue]] = [
        ["Customer ID", "Customer", None, None],
        ["C-001", "Acme", None, None],
        ["C-002", "Beta", "my scribble", None],
    ]
    sheet = backend_factory({"Customers": grid})
    plan = TabPlan(
        "Customers", ID, add_headers=("Health",), updates=(_update(2, "C-001", Health="Red"),)
    )
    sheet.backend.apply(_plan(plan))
    assert_grid(
        sheet.cells("Customers"),
        [
            ["Customer ID", "Customer", None, "Health"],
            ["C-001", "Acme", None, "Red"],
            ["C-002", "Beta", "my scribble"],
        ],
    )
