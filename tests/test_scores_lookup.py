"""Customers' outputs on Google come from the tool-owned Scores tab by lookup on Customer ID:
real syncs against the emulator, which computes the lookup formulas and the colours of the
conditional-format rules the way Google shows them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from sheets_health.backends.google_scores import formula
from sheets_health.errors import ContractError
from sheets_health.template import OUTPUT_COLUMNS, SCORES_HEADERS
from tests.emulator import SheetsEmulator
from tests.emulator.formulas import evaluate
from tests.test_bounded_history import DAY0, make_sheet
from tests.test_sync_flow import shown


@pytest.fixture
def emulator(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[SheetsEmulator]:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    with SheetsEmulator() as emu:
        yield emu


def test_a_sort_after_the_sync_keeps_every_score_on_its_customer(
        emulator: SheetsEmulator, tmp_path: Path) -> None:
    sheet = make_sheet(emulator, tmp_path, 12)
    sheet.sync(DAY0)
    before = shown(sheet)
    assert {health for _score, health, _colour in before.values()} <= {"Green", "Yellow", "Red"}
    assert all(colour is not None for _s, _h, colour in before.values())  # from the rules
    header = sheet.values("Customers")[0]
    col = header.index("Health score")
    cell = emulator.cell(sheet.sid, "Customers", f"{chr(65 + col)}1")
    assert cell["userEnteredValue"]["formulaValue"] == formula(
        "Health score", 0, SCORES_HEADERS.index("Health score"), "Scores")
    scores = sheet.values("Scores")
    assert scores[0] == list(SCORES_HEADERS) and len(scores) == 13
    emulator.sort_rows(sheet.sid, "Customers", "CSM score", descending=True)
    emulator.insert_rows(sheet.sid, "Customers", 4, [["C9999", "Someone new", 5]])
    after = shown(sheet)
    assert [r[0] for r in sheet.values("Customers")[1:]] != sorted(before)  # it did move
    assert {cid: after[cid] for cid in before} == before
    assert after["C9999"] == ("", "", None)  # not scored yet: nothing borrowed from a neighbour


def test_keys_are_compared_as_text(emulator: SheetsEmulator, tmp_path: Path) -> None:
    sheet = make_sheet(emulator, tmp_path, 4)
    emulator.set_value(sheet.sid, "Customers", "A2", "'00123")  # text
    emulator.set_value(sheet.sid, "Customers", "A3", 123)  # a number
    emulator.set_value(sheet.sid, "Customers", "C2", 10)
    emulator.set_value(sheet.sid, "Customers", "C3", 0)
    sheet.sync(DAY0)
    seen = shown(sheet)
    assert seen["00123"][:2] == (100, "Green") and seen["123"][:2] == (0, "Red")


def test_a_value_typed_into_an_output_column_stops_the_sync_naming_the_cell(
        emulator: SheetsEmulator, tmp_path: Path) -> None:
    sheet = make_sheet(emulator, tmp_path, 5)
    sheet.sync(DAY0)
    col = chr(65 + sheet.values("Customers")[0].index("Reasons"))
    emulator.set_value(sheet.sid, "Customers", f"{col}4", "my note")
    before = {tab: sheet.values(tab) for tab in ("Customers", "Scores", "History")}
    with pytest.raises(ContractError) as caught:
        sheet.sync(DAY0 + dt.timedelta(days=1))
    message = str(caught.value)
    assert f"column '{col} (the tool's lookup formula)'" in message and f"clear {col}4" in message
    assert caught.value.exit_code == 2
    assert {tab: sheet.values(tab) for tab in before} == before


@pytest.mark.parametrize(("text", "want"), [
    ('={"H";ARRAYFORMULA(IF(A2:A="",,IFERROR(VLOOKUP(A2:A&"",\'S\'!$A$2:$B,2,FALSE),)))}',
     [["H"], [5.0], [None], [None]]),
    ("=NOSUCH(A1)", "NAME"),
    ('={"H";VLOOKUP("x",A2:A,2,FALSE)}', "VALUE"),
])
def test_the_emulator_evaluates_exactly_the_lookup_family(text: str, want: object) -> None:
    cells = {("S", 1, 0): {"stringValue": "00123"}, ("S", 1, 1): {"numberValue": 5},
             (None, 1, 0): {"stringValue": "00123"}, (None, 2, 0): {"numberValue": 123}}

    def read(tab: str | None, r0: int, r1: int, c0: int, c1: int) -> list[list[object]]:
        return [[cells.get((tab, r, c)) for c in range(c0, c1)]
                for r in range(r0, 4 if r1 < 0 else r1)]

    result = evaluate(text, read)  # type: ignore[arg-type]
    if isinstance(want, str):
        errors = [v["errorValue"]["type"] for row in result for v in row
                  if v is not None and "errorValue" in v]
        assert errors == [want]
    else:
        plain = [[None if v is None else next(iter(v.values())) for v in row] for row in result]
        assert plain == want


def test_every_output_has_a_column_in_scores() -> None:
    assert SCORES_HEADERS[1:] == OUTPUT_COLUMNS
