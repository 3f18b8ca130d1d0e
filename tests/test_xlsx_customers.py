"""The Customers tab written in place (`xlsx_tails.Detached.hold_cells`).

A sync reads Customers whole but writes only its output cells (about 5 of 42 a row at
10,000 customers), so the workbook backend leaves the tab out of openpyxl's load, reads its
rows with `xlsx_scan`, holds only the cells it writes and puts them back into their rows on
save. What a user relies on: the workbook is the one a whole load leaves — every cell's
value, format, fill, font and wrapping, the row heights a person set and the ones the tool
sets for wrapped Reasons — through syncs that change scores, with a person's formatting on
the tool's cells; rows the sync did not touch stay byte for byte as they were; and a row
the merge cannot take apart is written the old way.
"""

from __future__ import annotations

import datetime as dt
import random
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from openpyxl.styles import Alignment, Font, PatternFill

import tests.contract.factories  # noqa: F401  (loads the factories without an import cycle)
from sheets_health import sync
from sheets_health.backends import xlsx_tails
from sheets_health.config import load_config
from sheets_health.sync import run_sync
from tests.sheets import CUSTOMER_HEADERS, valid_tabs, write_sheet

DAY = dt.datetime(2026, 3, 2, 9, 0)
CUSTOMERS = 40


def _tabs(seed: int) -> dict[str, list[list[Any]]]:
    rng = random.Random(seed)
    tabs = valid_tabs()
    tabs["Customers"] = [[*CUSTOMER_HEADERS, "Notes"]] + [
        [f"C{i:03d}", f"Customer {i}", rng.choice(["", "Grow"]), dt.date(2025, 1, 1),
         None, None, None, rng.randrange(0, 11),
         rng.choice(["none", "single-threaded", "multi-threaded", "exec sponsor"]),
         rng.choice([None, "short", "a long note a person typed " * 4])]
        for i in range(CUSTOMERS)]
    return tabs


def _make(tmp_path: Path, seed: int) -> Path:
    tmp_path.mkdir(exist_ok=True)
    config = write_sheet(tmp_path, _tabs(seed))
    run_sync(load_config(config), now=DAY - dt.timedelta(days=1))  # the output columns exist
    path = tmp_path / "sheet.xlsx"
    wb = load_workbook(path)
    ws = wb["Customers"]
    headers = {c.value: c.column for c in ws[1]}
    ws.cell(row=3, column=headers["Health score"]).font = Font(bold=True, color="FF0000FF")
    ws.cell(row=4, column=headers["Reasons"]).fill = PatternFill("solid", fgColor="FFFFFF00")
    ws.cell(row=5, column=headers["Notes"]).alignment = Alignment(wrap_text=True)
    ws.row_dimensions[6].height = 40  # a row a person made taller
    ws.row_dimensions[7].hidden = True
    wb.save(path)
    return config


def _edit(config: Path, seed: int) -> None:
    """A person's edits between syncs: other CSM scores and sponsors."""
    rng = random.Random(seed)
    path = config.parent / "sheet.xlsx"
    wb = load_workbook(path)
    ws = wb["Customers"]
    headers = {c.value: c.column for c in ws[1]}
    for row in rng.sample(range(2, CUSTOMERS + 2), 8):
        ws.cell(row=row, column=headers["CSM score"]).value = rng.randrange(0, 11)
    wb.save(path)


def _rgb(color: Any) -> str | None:
    return color.rgb if color is not None and color.type == "rgb" else None


def _looks(path: Path) -> dict[str, Any]:
    wb = load_workbook(path)
    out: dict[str, Any] = {}
    for ws in wb.worksheets:
        out[ws.title] = {c.coordinate: (c.value, c.number_format, c.fill.fgColor.rgb,
                                        c.font.b, _rgb(c.font.color),
                                        c.alignment.wrap_text)
                         for row in ws.iter_rows() for c in row
                         if c.value is not None or c.has_style}
        out[ws.title + " rows"] = {n: (d.height, d.hidden) for n, d in
                                   ws.row_dimensions.items() if d.height or d.hidden}
        out[ws.title + " columns"] = {k: (d.width, d.alignment.wrap_text) for k, d in
                                      ws.column_dimensions.items()}
    return out


def _sync_both(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int,
               rounds: int = 3) -> tuple[Path, Path]:
    monkeypatch.setattr(sync, "new_run_id", lambda: "a run")  # the Sync log's Run id
    part = _make(tmp_path / "part", seed)
    whole = _make(tmp_path / "whole", seed)
    held: list[bool] = []
    real = xlsx_tails.Detached.hold_cells

    def holding(self: xlsx_tails.Detached, ws: Any, wanted: Any) -> bool:
        held.append(real(self, ws, wanted))
        return held[-1]

    monkeypatch.setattr(xlsx_tails.Detached, "hold_cells", holding)
    for day in range(rounds):
        for config in (part, whole):
            _edit(config, seed * 100 + day)
        run_sync(load_config(part), now=DAY + dt.timedelta(days=day))
        with monkeypatch.context() as patch:
            patch.setattr(xlsx_tails, "available", lambda: False)  # every tab loaded whole
            run_sync(load_config(whole), now=DAY + dt.timedelta(days=day))
        assert _looks(part.parent / "sheet.xlsx") == _looks(whole.parent / "sheet.xlsx")
    assert held and all(held)  # the Customers rows were written in part every time
    return part.parent / "sheet.xlsx", whole.parent / "sheet.xlsx"


@pytest.mark.parametrize("seed", range(3))
def test_customers_written_in_place_leave_the_workbook_a_whole_load_leaves(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int) -> None:
    part, _whole = _sync_both(tmp_path, monkeypatch, seed)
    with zipfile.ZipFile(part) as archive:
        assert archive.testzip() is None


def _rows_xml(path: Path) -> dict[int, bytes]:
    with zipfile.ZipFile(path) as archive:
        xml = archive.read(xlsx_tails.sheet_parts(archive)["Customers"])
    return {int(m[1]): m[0] for m in re.finditer(rb'<row r="(\d+)".*?</row>', xml, re.S)}


def test_rows_the_sync_does_not_write_stay_byte_for_byte(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = _make(tmp_path, 7)
    run_sync(load_config(config), now=DAY)
    before = _rows_xml(tmp_path / "sheet.xlsx")
    _edit(config, 1)  # eight CSM scores change: at most those rows' scores
    report = run_sync(load_config(config), now=DAY + dt.timedelta(hours=1))
    after = _rows_xml(tmp_path / "sheet.xlsx")
    changed = {n for n in after if after[n] != before.get(n)}
    assert 0 < len(changed) <= 8
    assert report.rows_changed == len(changed)


def test_a_row_the_merge_cannot_take_apart_is_written_whole(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A cell whose coordinate is not its first attribute (valid XML a program may write):
    the rows are held whole, as before, and the workbook is the same."""
    real = xlsx_tails.detach

    def reordered(title: str, xml: bytes, cold: Any = None) -> Any:
        if title == "Customers":
            xml = re.sub(rb'<c r="(B5)" s="(\d+)"', rb'<c s="\2" r="\1"', xml)
            xml = re.sub(rb'<c r="(B5)"', rb'<c  r="\1"', xml)
        return real(title, xml, cold)

    monkeypatch.setattr(xlsx_tails, "detach", reordered)
    monkeypatch.setattr(sync, "new_run_id", lambda: "a run")
    held: list[bool] = []
    real_hold = xlsx_tails.Detached.hold_cells
    monkeypatch.setattr(xlsx_tails.Detached, "hold_cells",
                        lambda self, ws, wanted: held.append(real_hold(self, ws, wanted))
                        or held[-1])
    part = _make(tmp_path / "part", 3)
    whole = _make(tmp_path / "whole", 3)
    for config in (part, whole):
        _edit(config, 5)
    run_sync(load_config(part), now=DAY)
    with monkeypatch.context() as patch:
        patch.setattr(xlsx_tails, "available", lambda: False)
        run_sync(load_config(whole), now=DAY)
    assert held and not any(held)
    assert _looks(part.parent / "sheet.xlsx") == _looks(whole.parent / "sheet.xlsx")


def test_the_merge_refuses_a_written_row_the_file_lacks() -> None:
    tab = xlsx_tails.Detached("Customers", b'<worksheet xmlns="x"><sheetData><row r="1"/>'
                              b'<row r="2"><c r="A2"><v>1</v></c></row></sheetData></worksheet>')
    tab.partial = {3: {}}  # row 3 held, as if the file had it
    saved = (b'<worksheet xmlns="x"><sheetData><row r="1"/><row r="3"><c r="B3"><v>2</v></c>'
             b'</row></sheetData></worksheet>')
    with pytest.raises(ValueError, match="where the file has no row"):
        tab.splice(saved, 0)



def test_customers_read_from_the_file_are_the_table_a_whole_load_reads(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every kind of cell a team types (dates, percents, text of spaces, fills, a row with
    only a fill, a blank row) reads the same either way."""
    from openpyxl import Workbook

    from sheets_health.backends.xlsx import XlsxBackend

    wb = Workbook()
    ws = wb.active
    ws.title = "Customers"
    ws.append(["Customer ID", "Start date", "Share", "Note", "Score", None, "Beyond"])
    ws.append(["C1", dt.date(2026, 1, 5), 0.25, "  ", 7, None, "x"])
    ws.append(["C2", dt.datetime(2026, 1, 6, 9, 30), 1, "text", 7.5])
    ws.append([None, None, None, "   "])  # only spaces: dropped, as a whole load drops it
    ws.append([])
    ws.append(["C3", None, None, None, True])
    ws["C2"].number_format = ws["C3"].number_format = "0%"
    ws["B3"].number_format = "yyyy-mm-dd hh:mm"
    ws["E2"].fill = PatternFill("solid", fgColor="FFC7CE")
    ws["D6"].fill = PatternFill("solid", fgColor="00FF00")  # a filled blank cell
    ws["A7"].fill = PatternFill("solid", fgColor="0000FF")  # a row with only a fill
    path = tmp_path / "book.xlsx"
    wb.save(path)
    part = XlsxBackend(path)
    table = part.read(["Customers"])["Customers"]
    assert part._book is not None and set(part._book.detached) == {"Customers"}
    with monkeypatch.context() as patch:
        patch.setattr(xlsx_tails, "available", lambda: False)
        whole = XlsxBackend(path).read(["Customers"])["Customers"]
    assert (table.headers, table.rows, table.row_numbers, dict(table.colors)) == \
        (whole.headers, whole.rows, whole.row_numbers, dict(whole.colors))
    assert table.row_numbers == (2, 3, 6)


def test_a_damaged_customers_cell_is_the_error_a_whole_load_gives(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A cell no reader can take (a boolean holding "x"): the same clear error either way
    (not an internal error), and the file is left as it was."""
    from sheets_health.backends.xlsx import XlsxBackend
    from sheets_health.errors import ConfigError

    _make(tmp_path, 1)
    path = tmp_path / "sheet.xlsx"
    with zipfile.ZipFile(path) as archive:
        parts = {i.filename: archive.read(i) for i in archive.infolist()}
        part = xlsx_tails.sheet_parts(archive)["Customers"]
    parts[part] = re.sub(rb'<c r="H3" t="n"><v>[^<]*</v></c>', b'<c r="H3" t="b"><v>x</v></c>',
                         parts[part], count=1)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    before = path.read_bytes()
    messages = []
    for available in (True, False):
        with monkeypatch.context() as patch:
            patch.setattr(xlsx_tails, "available", lambda a=available: a)
            with pytest.raises(ConfigError) as caught:
                XlsxBackend(path).read(["Customers"])
            messages.append(str(caught.value))
    for message in messages:  # the detail is each reader's own
        assert f"{path} is not a valid .xlsx workbook (ValueError: " in message
    assert path.read_bytes() == before


@pytest.mark.parametrize("available", [True, False])
def test_a_score_the_sync_clears_is_cleared(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            available: bool) -> None:
    """A customer whose measures were all emptied has no score: the unstyled score cell the
    sync empties leaves its row (it came back from the file, and every later sync failed
    its read-back). Found by review; both ways of writing are checked."""
    monkeypatch.setattr(sync, "new_run_id", lambda: "a run")
    config = _make(tmp_path, 0)
    run_sync(load_config(config), now=DAY)
    path = tmp_path / "sheet.xlsx"
    wb = load_workbook(path)
    ws = wb["Customers"]
    headers = {c.value: c.column for c in ws[1]}
    assert ws.cell(row=2, column=headers["Health score"]).value is not None
    ws.cell(row=2, column=headers["CSM score"]).value = None
    ws.cell(row=2, column=headers["Exec sponsor"]).value = None
    wb.save(path)
    monkeypatch.setattr(xlsx_tails, "available", lambda: available)
    run_sync(load_config(config), now=DAY + dt.timedelta(hours=1))
    ws = load_workbook(path)["Customers"]
    assert ws.cell(row=2, column=headers["Health score"]).value is None
    assert ws.cell(row=3, column=headers["Health score"]).value is not None
    run_sync(load_config(config), now=DAY + dt.timedelta(hours=2))  # and the next sync runs
