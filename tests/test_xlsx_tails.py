"""A workbook's growing tabs kept out of openpyxl's load (`xlsx_tails`).

What a user relies on: the workbook a sync leaves is the one a whole load would have left
(every cell, format and fill, the rows put back renumbered after retention, the bookmarks),
a read through the bookmarks gets the same cells as a whole read of those rows and parses
no others, a tab the module cannot carry safely is loaded whole, and a failure while putting
the rows back leaves the workbook as it was.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import random
import re
import zipfile
import zlib
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font, PatternFill

from sheets_health.backends import xlsx_scan, xlsx_tails
from sheets_health.backends.xlsx import XlsxBackend
from sheets_health.model import CellWrite, Mark, RowUpdate, TabPlan, WritePlan

DAY0 = dt.date(2026, 1, 1)
IDS = ["C1", "C2", "C3"]
DAYS = 40  # 120 History rows
HISTORY = ["Date", "Customer ID", "Health score", "Health", "Trend baseline"]
TALL_ROW = 50  # a row a person made taller


def make_book(path: Path) -> Path:
    wb = Workbook()
    customers = wb.active
    customers.title = "Customers"
    customers.append(["Customer ID", "Name"])
    for cid in IDS:
        customers.append([cid, f"Customer {cid}"])
    history = wb.create_sheet("History")
    history.append(HISTORY)
    for day in range(DAYS):
        for i, cid in enumerate(IDS):
            history.append([DAY0 + dt.timedelta(days=day), cid, 50 + (day * 7 + i) % 40,
                            "Yellow", None if day == 0 else 55.0])
    for row in range(2, history.max_row + 1):
        history.cell(row=row, column=1).number_format = "yyyy-mm-dd"
    history.cell(row=7, column=4).fill = PatternFill("solid", fgColor="FFC7CE")
    history.cell(row=8, column=2).font = Font(bold=True)
    history.cell(row=9, column=6, value="a note typed beside the tool's columns")
    history.row_dimensions[TALL_ROW].height = 30
    log = wb.create_sheet("Sync log")
    log.append(["Run at", "Result", "Customers"])
    for day in range(5):
        log.append([dt.datetime(2026, 2, day + 1, 9), "ok", 3])
    wb.save(path)
    return path


def last_day() -> dt.date:
    return DAY0 + dt.timedelta(days=DAYS - 1)


def plan() -> WritePlan:
    """Today's rows updated (the last three), tomorrow's appended, bookmarks placed, the
    three oldest History rows and the oldest Sync-log row deleted."""
    last = 1 + DAYS * len(IDS)
    updates = tuple(RowUpdate(last - 2 + i, (last_day().isoformat(), cid),
                              {"Health score": CellWrite(90 + i), "Health": CellWrite("Green")})
                    for i, cid in enumerate(IDS))
    tomorrow = last_day() + dt.timedelta(days=1)
    appends = tuple({"Date": CellWrite(tomorrow), "Customer ID": CellWrite(cid),
                     "Health score": CellWrite(70), "Health": CellWrite("Green"),
                     "Trend baseline": CellWrite(61.5)} for cid in IDS)
    history = TabPlan("History", ("Date", "Customer ID"), updates=updates, appends=appends,
                      marks={"history_latest": Mark(last + 1, None, 1, 5),
                             "history_trend": Mark(last - 30, last - 20, 0, 3)},
                      delete_rows=3, recheck_from=last - 2)
    log = TabPlan("Sync log", appends=({"Run at": CellWrite(dt.datetime(2026, 2, 9, 9)),
                                        "Result": CellWrite("ok"), "Customers": CellWrite(3)},),
                  marks={"sync_log_tail": Mark(7, None, 0, 3)}, delete_rows=1)
    return WritePlan((history, log))


MARKS = {"History": ("history_latest", "history_trend"), "Sync log": ("sync_log_tail",)}


def looks(path: Path) -> dict[str, Any]:
    """Every cell of every tab (value, number format, fill, bold) and the tabs' names."""
    wb = load_workbook(path)
    out: dict[str, Any] = {}
    for ws in wb.worksheets:
        out[ws.title] = {c.coordinate: (c.value, c.number_format, c.fill.fgColor.rgb,
                                        c.font.b)
                         for row in ws.iter_rows() for c in row if c.value is not None
                         or c.has_style}
        out[ws.title + " names"] = {n: d.attr_text for n, d in ws.defined_names.items()}
    return out


def apply_both(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """The plan applied after a bookmarked read: once with the growing tabs detached, once
    with every tab loaded whole (as with an openpyxl this module was not checked with)."""
    detached, whole = make_book(tmp_path / "a.xlsx"), make_book(tmp_path / "b.xlsx")
    backend = XlsxBackend(detached)
    backend.read(["Customers", "History", "Sync log"], marks=MARKS)
    assert backend._book is not None and set(backend._book.detached) == {"Customers", "History",
                                                                         "Sync log"}
    backend.apply(plan())
    with monkeypatch.context() as patch:
        patch.setattr(xlsx_tails, "available", lambda: False)
        backend = XlsxBackend(whole)
        backend.read(["Customers", "History", "Sync log"], marks=MARKS)
        assert backend._book is not None and not backend._book.detached
        backend.apply(plan())
    return detached, whole


def test_a_detached_write_leaves_the_workbook_a_whole_load_leaves(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    detached, whole = apply_both(tmp_path, monkeypatch)
    assert looks(detached) == looks(whole)
    ws = load_workbook(detached)["History"]
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    assert len(rows) == DAYS * len(IDS) - 3 + 3  # three deleted, three appended
    assert rows[0][:2] == (dt.datetime(2026, 1, 2), "C1")  # the first day went
    assert [r[2] for r in rows[-6:-3]] == [90, 91, 92]  # today's rows, updated in place
    assert rows[-1][:3] == (dt.datetime(2026, 2, 10), "C3", 70)
    assert ws["F6"].value == "a note typed beside the tool's columns"  # row 9, 3 rows up
    # the row a person made taller moved up with its row (openpyxl's own delete does not
    # move row heights: the whole load leaves the height on row 50)
    assert ws.row_dimensions[TALL_ROW - 3].height == 30
    names = {n: d.attr_text for n, d in ws.defined_names.items()}
    last = 1 + DAYS * len(IDS)
    assert names["sheets_health_history_latest"] == f"'History'!$B${last + 1 - 3}:$E$1048576"
    log = load_workbook(detached)["Sync log"]
    assert [r[0].day for r in log.iter_rows(min_row=2, values_only=True)] == [2, 3, 4, 5, 9]


def test_the_saved_tab_says_how_far_it_reaches(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    detached, _whole = apply_both(tmp_path, monkeypatch)
    with zipfile.ZipFile(detached) as archive:
        parts = xlsx_tails.sheet_parts(archive)
        xml = archive.read(parts["History"])
    numbers = [int(n) for n in re.findall(rb'<row r="(\d+)"', xml)]
    assert numbers == list(range(1, DAYS * len(IDS) + 2))  # every row once, in order
    assert re.search(rb'<dimension ref="A1:F(\d+)"', xml)[1] == str(numbers[-1]).encode()  # type: ignore[index]


def test_a_bookmarked_read_gets_the_rows_of_its_bookmarks_and_parses_no_others(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = make_book(tmp_path / "a.xlsx")
    XlsxBackend(path).apply(WritePlan((TabPlan("History", marks={
        "history_latest": Mark(110, None, 1, 5), "history_trend": Mark(20, 26, 0, 3)}),)))
    parsed: list[int] = []
    real = xlsx_scan.Scanner.rows

    def counting(self: Any, *args: Any, **kwargs: Any) -> Any:
        for number, cells in real(self, *args, **kwargs):
            parsed.append(number)
            yield number, cells

    monkeypatch.setattr(xlsx_scan.Scanner, "rows", counting)
    table = XlsxBackend(path).read(["History"], marks=MARKS)["History"]
    whole = XlsxBackend(path).read(["History"])["History"]
    assert sorted(parsed) == [*range(20, 26), *range(110, 122)]
    assert table.row_numbers == (*range(20, 26), *range(110, 122))
    assert table.read_spans == (Mark(110, None, 1, 5), Mark(20, 26, 0, 3))
    for number, row in zip(table.row_numbers, table.rows, strict=True):
        full = whole.rows[whole.row_numbers.index(number)]
        span = table.read_spans[0] if number >= 110 else table.read_spans[1]
        assert row == tuple(v if span.holds_col(i) else None for i, v in enumerate(full))
    assert table.marks["history_trend"] == Mark(20, 26, 0, 3)


def test_a_missing_bookmark_reads_the_tab_whole(tmp_path: Path) -> None:
    path = make_book(tmp_path / "a.xlsx")
    backend = XlsxBackend(path)
    table = backend.read(["History"], marks=MARKS)["History"]
    assert backend._book is not None and "History" in backend._book.detached
    assert table.complete
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(xlsx_tails, "available", lambda: False)
        whole = XlsxBackend(path).read(["History"], marks=MARKS)["History"]
    assert (table.row_numbers, table.rows) == (whole.row_numbers, whole.rows)
    assert table.rows[0][0] == DAY0 and table.rows[7][4] == 55.0


def test_a_tab_with_a_formula_is_loaded_whole(tmp_path: Path) -> None:
    path = make_book(tmp_path / "a.xlsx")
    wb = load_workbook(path)
    wb["History"]["G5"] = "=C5*2"
    wb.save(path)
    backend = XlsxBackend(path)
    backend.read(["History", "Sync log"], marks=MARKS)
    assert backend._book is not None and set(backend._book.detached) == {"Sync log"}
    backend.apply(plan())
    assert load_workbook(path)["History"]["G2"].value == "=C5*2"  # three rows up


HEAD = ('<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>Date</t></is></c></row>')
ROW2 = '<row r="2"><c r="A2"><v>1</v></c></row>'


@pytest.mark.parametrize(("xml", "why"), [
    (HEAD + '<row r="2"><c r="A2" t="s"><v>0</v></c></row></sheetData></worksheet>',
     "a shared string"),
    (HEAD + '<row r="2"><c r="A2"><f>1+1</f><v>2</v></c></row></sheetData></worksheet>',
     "a formula"),
    (HEAD + ROW2 + '</sheetData><mergeCells count="1"><mergeCell ref="A2:B2"/></mergeCells>'
     "</worksheet>", "merged cells"),
    (HEAD + ROW2 + '</sheetData><sheetProtection sheet="1"/></worksheet>', "protection"),
    (HEAD + ROW2 + '</sheetData><hyperlinks><hyperlink ref="A2" r:id="rId1"/></hyperlinks>'
     "</worksheet>", "a hyperlink"),
    (HEAD + '<row spans="1:1" r="2"><c r="A2"><v>1</v></c></row></sheetData></worksheet>',
     "a row whose number is not its first attribute"),
    (HEAD.replace("<worksheet xmlns=", "<x:worksheet xmlns:x=").replace("<sheetData>",
     "<x:sheetData>") + "</x:sheetData></x:worksheet>", "a prefixed namespace"),
    (HEAD + "</sheetData></worksheet>", "nothing below the header"),
])
def test_what_cannot_be_carried_safely_is_not_detached(xml: str, why: str) -> None:
    assert xlsx_tails.detach("History", xml.encode()) is None, why


def test_a_plain_tab_is_detached() -> None:
    tab = xlsx_tails.detach("History", (HEAD + ROW2 + "</sheetData></worksheet>").encode())
    assert tab is not None and tab.last_row == 2


def test_a_failure_putting_the_rows_back_leaves_the_workbook_as_it_was(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = make_book(tmp_path / "a.xlsx")
    before = path.read_bytes()
    backend = XlsxBackend(path)
    backend.read(["History", "Sync log"], marks=MARKS)

    def broken(self: Any, saved: bytes, deleted: int, keep_from: int) -> Any:
        raise ValueError("History: row 2 of the rows written would land among the rows")

    monkeypatch.setattr(xlsx_tails.Detached, "splice", broken)
    with pytest.raises(ValueError, match="would land among"):
        backend.apply(plan())
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]


# ----------------------------------------------------------------------------- rows kept compressed


def test_crc32_combine_is_the_crc_of_the_bytes_joined() -> None:
    rng = random.Random(8)
    for size_a, size_b in [(0, 0), (0, 5), (7, 0), (1, 1), (1000, 33), (65_536, 70_001)]:
        a, b = rng.randbytes(size_a), rng.randbytes(size_b)
        assert xlsx_tails.crc32_combine(zlib.crc32(a), zlib.crc32(b), len(b)) == zlib.crc32(a + b)


def day_plan(path: Path, deleting: int) -> WritePlan:
    """The next day as a sync writes it: the last day's rows updated, a day appended, the
    bookmarks moved on, ``deleting`` oldest History rows removed."""
    wb = load_workbook(path)
    history, log = wb["History"], wb["Sync log"]
    last, log_last = history.max_row, log.max_row
    day = history.cell(last, 1).value.date() + dt.timedelta(days=1)
    updates = tuple(RowUpdate(last - 2 + i, ((day - dt.timedelta(days=1)).isoformat(), cid),
                              {"Health score": CellWrite(80 + i)}) for i, cid in enumerate(IDS))
    appends = tuple({"Date": CellWrite(day), "Customer ID": CellWrite(cid),
                     "Health score": CellWrite(60 + i), "Health": CellWrite("Green")}
                    for i, cid in enumerate(IDS))
    return WritePlan((
        TabPlan("History", ("Date", "Customer ID"), updates=updates, appends=appends,
                marks={"history_latest": Mark(last + 1, None, 1, 5),
                       "history_trend": Mark(last - 30, last - 20, 0, 3)},
                delete_rows=deleting, recheck_from=last - 2),
        TabPlan("Sync log", appends=({"Run at": CellWrite(dt.datetime(2026, 3, 1, 9)),
                                      "Result": CellWrite("ok"), "Customers": CellWrite(3)},),
                marks={"sync_log_tail": Mark(log_last + 1, None, 0, 3)}),
    ))


def history_entry(path: Path) -> tuple[zipfile.ZipInfo, bytes]:
    """The History part's zip entry and its compressed bytes."""
    data = path.read_bytes()
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(xlsx_tails.sheet_parts(archive)["History"])
    return info, bytes(xlsx_tails._entry_data(data, info))


def test_the_rows_above_the_bookmarks_stay_compressed_from_one_sync_to_the_next(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    detached, whole = make_book(tmp_path / "a.xlsx"), make_book(tmp_path / "b.xlsx")
    inflated: list[int] = []
    real_inflate = xlsx_tails.Cold.inflate

    def counting(self: xlsx_tails.Cold) -> bytes:
        inflated.append(self.upto)
        return real_inflate(self)

    monkeypatch.setattr(xlsx_tails.Cold, "inflate", counting)
    for deleting in (0, 0, 3, 0):
        inflated.clear()
        before = history_entry(detached)
        backend = XlsxBackend(detached)
        backend.read(["Customers", "History", "Sync log"], marks=MARKS)
        backend.apply(day_plan(detached, deleting))
        with monkeypatch.context() as patch:
            patch.setattr(xlsx_tails, "available", lambda: False)
            backend = XlsxBackend(whole)
            backend.read(["Customers", "History", "Sync log"], marks=MARKS)
            backend.apply(day_plan(whole, deleting))
        assert looks(detached) == looks(whole)
        with zipfile.ZipFile(detached) as archive:
            assert archive.testzip() is None  # every part's CRC-32 holds
        info, raw = history_entry(detached)
        record = json.loads(info.comment.removeprefix(b"sheets-health rows "))
        last = load_workbook(detached)["History"].max_row
        assert record["upto"] == last - 3 - 30  # the trend bookmark's first row
        if before[0].comment and not deleting:  # the compressed rows were copied as they were
            old = json.loads(before[0].comment.removeprefix(b"sheets-health rows "))
            old_cold = before[1][old["head"]:old["head"] + old["cold"]]
            assert raw[record["head"]:record["head"] + len(old_cold)] == old_cold
            assert inflated == []  # and never inflated
        if deleting:
            assert inflated  # renumbering every row needs them


def test_a_read_above_the_compressed_rows_inflates_them(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = make_book(tmp_path / "a.xlsx")
    backend = XlsxBackend(path)
    backend.read(["History", "Sync log"], marks=MARKS)
    backend.apply(day_plan(path, 0))
    backend = XlsxBackend(path)
    table = backend.read(["History"], marks={"History": ("no_such_bookmark",)})["History"]
    assert backend._book is not None and backend._book.detached["History"].cold is None
    monkeypatch.setattr(xlsx_tails, "available", lambda: False)
    whole = XlsxBackend(path).read(["History"])["History"]
    assert len(table.rows) == DAYS * len(IDS) + len(IDS)
    assert (table.row_numbers, table.rows) == (whole.row_numbers, whole.rows)


def test_a_part_changed_behind_its_record_is_read_whole(tmp_path: Path) -> None:
    path = make_book(tmp_path / "a.xlsx")
    backend = XlsxBackend(path)
    backend.read(["History", "Sync log"], marks=MARKS)
    backend.apply(day_plan(path, 0))
    changed = tmp_path / "changed.xlsx"
    with zipfile.ZipFile(path) as archive, zipfile.ZipFile(changed, "w",
                                                           zipfile.ZIP_DEFLATED) as out:
        part = xlsx_tails.sheet_parts(archive)["History"]
        for info in archive.infolist():
            data = archive.read(info)
            if info.filename == part:  # another program's edit, the comment kept
                assert info.comment.startswith(b"sheets-health rows ")
                data = data.replace(b'<c r="C5" t="n"><v>', b'<c r="C5" t="n"><v>1')
            out.writestr(info, data)
    backend = XlsxBackend(changed)
    table = backend.read(["History"], marks=MARKS | {"History": ("history_trend", 5)})["History"]
    assert backend._book is not None and backend._book.detached["History"].cold is None
    expected = load_workbook(changed)["History"]["C5"].value
    assert str(expected).startswith("1")
    assert table.rows[table.row_numbers.index(5)][2] == expected


def test_rows_going_cold_with_a_formula_leave_no_record() -> None:
    head = HEAD.encode()
    middle = b'<row r="2"><c r="A2"><f>1+1</f><v>2</v></c></row>' + ROW2.replace("2", "3").encode()
    saved = xlsx_tails._segment(head, None, middle, b"</sheetData></worksheet>", 3, None)
    assert saved.cold is not None and saved.cold.upto == 3
    assert saved.compressed()[3] == b""  # the next load reads the part whole and checks it
    plain = xlsx_tails._segment(head, None, ROW2.encode() + ROW2.replace("2", "3").encode(),
                                b"</sheetData></worksheet>", 3, None)
    assert plain.compressed()[3].startswith(b"sheets-health rows ")


def test_a_record_that_does_not_add_up_to_its_entry_is_not_trusted(tmp_path: Path) -> None:
    path = make_book(tmp_path / "a.xlsx")
    backend = XlsxBackend(path)
    backend.read(["History", "Sync log"], marks=MARKS)
    backend.apply(day_plan(path, 0))
    data = path.read_bytes()
    info, _raw = history_entry(path)
    assert xlsx_tails._segmented(data, info) is not None
    record = json.loads(info.comment.removeprefix(b"sheets-health rows "))
    for key in ("crc", "size", "head", "cold"):
        wrong = copy.copy(info)
        wrong.comment = b"sheets-health rows " + json.dumps({**record, key: record[key] + 1}
                                                            ).encode()
        assert xlsx_tails._segmented(data, wrong) is None, key
