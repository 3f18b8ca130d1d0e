"""`xlsx_cells.read_cells` reads a cell exactly as openpyxl's read-only load reads it.

The workbook is written by hand, as other programs write one: shared and inline strings (rich
runs too), integers, floats and exponents, booleans, errors, formulas with and without cached
results (shared ones too), dates, times and durations by number format, percents, cells and
rows without a coordinate, the 1904 calendar. Every cell, and random subsets of them, are
compared with openpyxl's public read-only rows, with formulas and with cached values, on the
fast path and on the public fallback an unchecked openpyxl gets.
"""

from __future__ import annotations

import io
import random
import re
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.cell.read_only import ReadOnlyCell

from sheets_health.backends.xlsx_cells import read_cells

FORMATS = {"date": "yyyy-mm-dd", "datetime": "yyyy-mm-dd hh:mm", "time": "hh:mm",
           "duration": "[h]:mm", "percent": "0%", "number": "0.00", "text": "@"}

ROWS = """
<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c>
  <c r="C1" t="inlineStr"><is><t>inline</t></is></c>
  <c r="D1" t="inlineStr"><is><r><t>rich </t></r><r><rPr><b/></rPr><t>runs</t></r></is></c>
  <c r="F1" t="s"><v>2</v></c><c r="G1" t="inlineStr"><is><t/></is></c>
  <c r="H1" t="inlineStr" s="{text}"><is><t xml:space="preserve"> a </t>
  <r><t>b</t></r><r><t/></r></is></c>
  <c r="I1" t="inlineStr"/></row>
<row r="2"><c r="A2"><v>42</v></c><c r="B2"><v>4.25</v></c><c r="C2"><v>1E-3</v></c>
  <c r="D2" t="b"><v>1</v></c><c r="E2" t="b"><v>0</v></c><c r="F2" t="e"><v>#N/A</v></c>
  <c r="G2" t="n"><v>-7</v></c></row>
<row r="3"><c r="A3" s="{date}"><v>46348</v></c><c r="B3" s="{datetime}"><v>46348.5</v></c>
  <c r="C3" s="{time}"><v>0.75</v></c><c r="D3" s="{duration}"><v>1.5</v></c>
  <c r="E3" s="{percent}"><v>0.25</v></c><c r="F3" s="{number}"><v>3</v></c>
  <c r="G3" s="{text}" t="s"><v>3</v></c></row>
<row r="4"><c r="A4"><f>1+1</f><v>2</v></c><c r="B4" t="str"><f>"a"&amp;"b"</f><v>ab</v></c>
  <c r="C4" t="b"><f>TRUE()</f><v>1</v></c><c r="D4" t="e"><f>1/0</f><v>#DIV/0!</v></c>
  <c r="E4"><f>NOW()</f></c><c r="F4"><f t="shared" ref="F4:F5" si="0">A4*2</f><v>4</v></c>
  </row>
<row r="5"><c r="F5"><f t="shared" si="0"/><v>6</v></c></row>
<row><c t="s"><v>4</v></c><c><v>6</v></c><c r="D6"><v>8</v></c><c><v>9</v></c></row>
<row r="9" spans="1:3"><c r="A9" s="{date}"/><c r="B9" t="s"><v>0</v></c>
  <c r="C9" s="{percent}"><v>1</v></c></row>
"""
STRINGS = ["Customer ID", "ACME Corp", "  spaced  ", "007", "no coordinate"]


def _shared_strings() -> bytes:
    items = "".join(f'<si><t xml:space="preserve">{s}</t></si>' for s in STRINGS)
    return ('<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.'
            f'org/spreadsheetml/2006/main" count="{len(STRINGS)}" uniqueCount='
            f'"{len(STRINGS)}">{items}</sst>').encode()


def handmade(tmp_path: Path, *, epoch_1904: bool = False, name: str = "book.xlsx") -> Path:
    """A workbook whose first tab holds ROWS, its styles those of FORMATS."""
    wb = Workbook()
    ws = wb.active
    ws.title = "Customers"
    wb.create_sheet("Other")["A1"] = "x"
    for col, fmt in enumerate(FORMATS.values(), start=1):
        ws.cell(row=1, column=col, value=1).number_format = fmt
    path = tmp_path / name
    wb.save(path)
    with zipfile.ZipFile(path) as src:
        parts = {n: src.read(n) for n in src.namelist()}
    sheet = parts["xl/worksheets/sheet1.xml"].decode()
    styles = {kind: re.search(rf'<c r="{chr(64 + col)}1" s="(\d+)"', sheet).group(1)
              for col, kind in enumerate(FORMATS, start=1)}
    data = ROWS.format(**styles).replace("\n", "")
    sheet = re.sub(r"<sheetData>.*</sheetData>", f"<sheetData>{data}</sheetData>", sheet)
    sheet = re.sub(r'<dimension ref="[^"]*"\s*/>', '<dimension ref="A1:I9"/>', sheet)
    parts["xl/worksheets/sheet1.xml"] = sheet.encode()
    parts["xl/sharedStrings.xml"] = _shared_strings()  # openpyxl writes inline strings only
    rels = parts["xl/_rels/workbook.xml.rels"].decode()
    parts["xl/_rels/workbook.xml.rels"] = rels.replace("</Relationships>", (
        '<Relationship Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/sharedStrings" Target="sharedStrings.xml" Id="rId99"/>'
        "</Relationships>")).encode()
    types = parts["[Content_Types].xml"].decode()
    parts["[Content_Types].xml"] = types.replace("</Types>", (
        '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.'
        'openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>')).encode()
    if epoch_1904:
        book = parts["xl/workbook.xml"].decode()
        book = re.sub(r"<workbookPr(\s[^>]*)?/>", r'<workbookPr\1 date1904="1"/>', book)
        assert "date1904" in book
        parts["xl/workbook.xml"] = book.encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as dst:
        for part, blob in parts.items():
            dst.writestr(part, blob)
    path.write_bytes(buffer.getvalue())
    return path


def public(path: Path, title: str, data_only: bool) -> dict[str, tuple[Any, ...]]:
    """Every cell as openpyxl's public read-only rows give it: value, type, number format."""
    wb = load_workbook(path, read_only=True, data_only=data_only, rich_text=False)
    try:
        return {cell.coordinate: look(cell) for row in wb[title].iter_rows() for cell in row
                if isinstance(cell, ReadOnlyCell)}
    finally:
        wb.close()


def look(cell: ReadOnlyCell) -> tuple[Any, ...]:
    value = cell.value
    return (type(value).__name__, str(value), cell.data_type, cell.number_format)


@pytest.mark.parametrize("epoch_1904", [False, True])
@pytest.mark.parametrize("data_only", [False, True])
@pytest.mark.parametrize("checked", [True, False], ids=["fast", "public fallback"])
def test_every_cell_reads_as_openpyxl_reads_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, epoch_1904: bool, data_only: bool,
    checked: bool,
) -> None:
    path = handmade(tmp_path, epoch_1904=epoch_1904)
    expected = public(path, "Customers", data_only)
    assert len(expected) == 36  # every handmade cell; A6, B6 and E6 counted from neighbours
    assert {"C1", "D1", "A6", "B6", "E6", "F5", "A9"} <= set(expected)
    if not checked:
        monkeypatch.setattr(openpyxl, "__version__", "3.2.0")
    rng = random.Random(5)
    coordinates = sorted(expected)
    for wanted in [coordinates] + [rng.sample(coordinates, k) for k in (1, 3, 9, 20)]:
        found = read_cells(path, {"Customers": set(wanted)}, data_only=data_only)
        assert {c: look(cell) for c, cell in found["Customers"].items()} == \
            {c: expected[c] for c in wanted}


def test_the_values_are_the_ones_the_handmade_file_holds(tmp_path: Path) -> None:
    """Guards the comparison above against both readers being wrong the same way."""
    path = handmade(tmp_path)
    cells = read_cells(path, {"Customers": {"B1", "C1", "D1", "A2", "C2", "D2", "F2", "A3",
                                            "E3", "G3", "A4", "F5", "B6", "E6"}})["Customers"]
    assert {c: cell.value for c, cell in cells.items()} == {
        "B1": "ACME Corp", "C1": "inline", "D1": "rich runs", "A2": 42, "C2": 0.001,
        "D2": True, "F2": "#N/A", "A3": openpyxl.utils.datetime.from_excel(46348),
        "E3": 0.25, "G3": "007", "A4": "=1+1", "F5": "=A5*2", "B6": 6, "E6": 9}
    cached = read_cells(path, {"Customers": {"A4", "B4", "E4", "F5"}}, data_only=True)
    assert {c: cell.value for c, cell in cached["Customers"].items()} == {
        "A4": 2, "B4": "ab", "E4": None, "F5": 6}  # E4 was never computed


def test_cells_the_file_does_not_hold_are_left_out(tmp_path: Path) -> None:
    path = handmade(tmp_path)
    found = read_cells(path, {"Customers": {"A1", "J1", "A7", "Z9", "B30"}, "Other": {"A1"}})
    assert set(found["Customers"]) == {"A1"}
    assert found["Other"]["A1"].value == "x"
    with pytest.raises(KeyError):
        read_cells(path, {"Nope": {"A1"}})


def test_formula_results_of_a_tab_with_prefixed_elements_are_read(tmp_path: Path) -> None:
    """A worksheet whose XML names its elements ``<x:row>``/``<x:c>`` (the .NET Open XML SDK
    writes that): the cached result still reads, as openpyxl reads it (found by review)."""
    from sheets_health.backends.xlsx import XlsxBackend

    wb = Workbook()
    ws = wb.active
    ws.title = "Customers"
    ws.append(["Customer ID", "Name", "CSM score"])
    ws.append(["C1", "Acme", "=40+2"])
    path = tmp_path / "prefixed.xlsx"
    wb.save(path)
    with zipfile.ZipFile(path) as archive:
        parts = {i.filename: archive.read(i) for i in archive.infolist()}
    xml = parts["xl/worksheets/sheet1.xml"].replace(b"<f>40+2</f><v></v>",
                                                    b"<f>40+2</f><v>42</v>")
    xml = re.sub(rb"<(/?)([a-zA-Z]+)([ >/])", rb"<\1x:\2\3", xml)
    xml = xml.replace(b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"',
                      b'xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"')
    parts["xl/worksheets/sheet1.xml"] = xml
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    assert load_workbook(path, data_only=True)["Customers"]["C2"].value == 42
    found = read_cells(path, {"Customers": {"C2", "A2"}}, data_only=True)["Customers"]
    assert {c: cell.value for c, cell in found.items()} == {"C2": 42, "A2": "C1"}
    assert XlsxBackend(path).read(["Customers"])["Customers"].rows == (("C1", "Acme", 42),)
