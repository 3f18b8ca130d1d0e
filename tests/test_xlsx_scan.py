"""The plain-cell scanner reads every row exactly as openpyxl's own parser does."""

from __future__ import annotations

import datetime as dt
import random
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font

from sheets_health.backends import xlsx_scan
from sheets_health.backends.xlsx_tails import root_tag

ROOT = b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'


def _reference(xml: bytes, wb) -> list:
    """openpyxl's parser over the whole XML."""
    return [cell for cells in _scan_rows(xml, wb, fast=False) for cell in cells]


def _scan_rows(xml: bytes, wb, fast: bool = True):
    scanner = xlsx_scan.scanner(wb, root_tag(xml))
    if not fast:
        scanner._cells = _always_slow  # type: ignore[method-assign]
    start = xml.find(b"<sheetData>") + len(b"<sheetData>")
    end = xml.rfind(b"</sheetData>")
    return [cells for _number, cells in scanner.rows(xml, start, end)]


def _always_slow(body, number):
    raise xlsx_scan._Slow


def _scanned(xml: bytes, wb) -> list:
    return [cell for cells in _scan_rows(xml, wb) for cell in cells]


def _sheet_xml(path: Path) -> bytes:
    with zipfile.ZipFile(path) as archive:
        return archive.read("xl/worksheets/sheet1.xml")


def _random_value(rng: random.Random):
    kind = rng.randrange(9)
    if kind == 0:
        return rng.randint(-10**12, 10**12)
    if kind == 1:
        return rng.choice([0.1, 1e-12, 3.5e20, -2.25, rng.random() * 1000])
    if kind == 2:
        return dt.date(2020, 1, 1) + dt.timedelta(days=rng.randrange(3000))
    if kind == 3:
        return dt.datetime(2024, 5, 6, rng.randrange(24), rng.randrange(60))
    if kind == 4:
        return rng.choice([True, False])
    if kind == 5:
        return rng.choice(["plain", " leading", "trailing ", "a & b < c > d \"q\" 'a'",
                           "line\nbreak", "café ☕ 日本", "=not a formula", "", "  ",
                           "&amp; literally", "tab\there"])
    if kind == 6:
        return None
    if kind == 7:
        return "x" * rng.randrange(1, 40)
    return rng.randint(0, 5)


@pytest.mark.filterwarnings("ignore:Cell .* is marked as a date")  # read as errors, both ways
@pytest.mark.parametrize("seed", range(6))
def test_scanner_reads_a_workbook_openpyxl_saved_as_openpyxl_does(tmp_path, seed):
    rng = random.Random(seed)
    wb = Workbook()
    ws = wb.active
    for row in range(1, 120):
        for col in range(1, 12):
            value = _random_value(rng)
            cell = ws.cell(row=row, column=col)
            if isinstance(value, str) and value:
                cell.value = value
                cell.data_type = "s"
            else:
                cell.value = value
            if rng.random() < 0.2:
                cell.number_format = rng.choice(["0%", "yyyy-mm-dd", "0.00", "[h]:mm"])
            if value is None and rng.random() < 0.5:
                cell.font = Font(bold=True)  # styled, empty
    path = tmp_path / "book.xlsx"
    wb.save(path)
    loaded = load_workbook(path)
    xml = _sheet_xml(path)
    assert _scanned(xml, loaded) == _reference(xml, loaded)


SHAPES = [
    b'<row r="2"><c r="A2" s="0"/><c r="B2"><v>12</v></c><c r="C2" t="n"><v>1.5E3</v></c></row>',
    b'<row r="3" spans="1:3"><c r="A3" t="b"><v>0</v></c><c r="B3" t="e"><v>#N/A</v></c>'
    b'<c r="C3" t="inlineStr"><is><t xml:space="preserve"> x </t></is></c></row>',
    b'<row r="4"><c r="A4" t="inlineStr"><is><t/></is></c><c r="B4" t="inlineStr"/>'
    b'<c r="C4"><v></v></c></row>',
    b'<row r="5"/>',
    # rows openpyxl's parser reads: a formula, shared strings, rich text, no coordinates,
    # an attribute the scanner does not know, ISO dates, a literal carriage return
    b'<row r="6"><c r="A6"><f>1+1</f><v>2</v></c><c r="B6"><v>3</v></c></row>',
    b'<row r="7"><c r="A7" t="s"><v>0</v></c></row>',
    b'<row r="8"><c r="A8" t="inlineStr"><is><r><t>rich</t></r><r><t> text</t></r></is></c></row>',
    b'<row r="9"><c><v>1</v></c><c><v>2</v></c></row>',
    b'<row r="10"><c r="A10" cm="1"><v>1</v></c></row>',
    b'<row r="11"><c r="A11" t="d"><v>2024-01-02T00:00:00</v></c></row>',
    b'<row r="12"><c r="A12" t="inlineStr"><is><t>a\r\nb</t></is></c></row>',
    b'<row r="13"><c r="A13" t="str"><v>text result</v></c></row>',
    b'<row r="14"><c s="0" r="B14"><v>7</v></c><c r="C14"><v>&#56;</v></c></row>',
    b'<row><c r="A15"><v>1</v></c></row>',
    # character references as XML reads them (not HTML's rules: &#128; is U+0080)
    b'<row r="17"><c r="A17" t="inlineStr"><is><t>&#128;&#x9F;&#127;&#xFDD0;&amp;&#13;</t>'
    b'</is></c></row>',
    b'<row r="18"><c r="a18"><v>5</v></c></row>',  # a lower-case coordinate
    b'<row r="16"><c r="A17"><v>1</v></c></row>',
]


def test_scanner_reads_every_shape_as_openpyxl_does_and_hands_the_rest_over():
    wb = Workbook()
    wb.shared_strings.add("shared")
    xml = ROOT + b"<sheetData>" + b"".join(SHAPES) + b"</sheetData></worksheet>"
    scanner = xlsx_scan.scanner(wb, ROOT, wb.shared_strings)
    start = xml.find(b"<sheetData>") + len(b"<sheetData>")
    got = [c for _n, cells in scanner.rows(xml, start, xml.rfind(b"</sheetData>"))
           for c in cells]
    reference = xlsx_scan.openpyxl_rows(ROOT, wb, wb.shared_strings)
    want = [c for n, row in enumerate(SHAPES, 2) for c in reference(row, n)]
    assert got == want
    assert scanner.slow_rows == 11  # rows 6 to 13, 15, 16, 18 (14 and 17 are plain)
    assert (12, 1, "a\nb", "s", 0) in got  # as an XML parser reads the carriage return
    assert (17, 1, "\x80\x9f\x7f\ufdd0&\r", "s", 0) in got


def test_scanner_reads_only_the_rows_asked_for():
    wb = Workbook()
    xml = b"".join(b'<row r="%d"><c r="A%d"><v>%d</v></c></row>' % (n, n, n) for n in range(2, 50))
    rows = xlsx_scan.scanner(wb, ROOT).rows(xml, wanted=lambda n: n % 10 == 0)
    assert [(n, cells[0][2]) for n, cells in rows] == [(n, n) for n in (10, 20, 30, 40)]


def test_dates_follow_the_workbooks_calendar(tmp_path):
    wb = Workbook()
    wb.epoch = dt.datetime(1904, 1, 1)  # a Mac workbook's calendar
    wb.active["A1"] = dt.date(2026, 3, 4)
    path = tmp_path / "mac.xlsx"
    wb.save(path)
    loaded = load_workbook(path)
    xml = _sheet_xml(path)
    assert _scanned(xml, loaded) == _reference(xml, loaded)
    assert _scanned(xml, loaded)[0][2] == dt.datetime(2026, 3, 4)


@pytest.mark.filterwarnings("ignore:Cell .* is marked as a date")
@pytest.mark.parametrize("seed", range(4))
def test_picking_cells_by_coordinate_reads_them_as_openpyxl_does(tmp_path, seed):
    """What the read-back of a save uses: only the cells asked for, present or not."""
    rng = random.Random(100 + seed)
    wb = Workbook()
    ws = wb.active
    for row in range(1, 60):
        for col in range(1, 9):
            if rng.random() < 0.7:
                value = _random_value(rng)
                ws.cell(row=row, column=col).value = value
    path = tmp_path / "book.xlsx"
    wb.save(path)
    loaded = load_workbook(path)
    xml = _sheet_xml(path)
    if seed % 2:  # some rows in shapes only openpyxl's parser reads
        xml = xml.replace(b'<c r="C7"', b'<c  r="C7"').replace(b'<row r="9"', b"<row")
    wanted: dict[int, set[int]] = {}
    for _ in range(150):  # columns 9 and 10 and rows 60 to 64 hold nothing
        wanted.setdefault(rng.randrange(1, 65), set()).add(rng.randrange(1, 11))
    scanner = xlsx_scan.scanner(loaded, root_tag(xml))
    got = sorted(scanner.pick(xml, wanted))
    want = sorted(c for c in _reference(xml, loaded) if c[1] in wanted.get(c[0], ()))
    assert got == want
    assert want  # the sheet had some of them
