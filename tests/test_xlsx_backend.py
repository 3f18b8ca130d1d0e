"""What only the xlsx backend does: files, atomic saves, formulas, merged cells, formats.

What every backend does is in tests/contract/.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.utils import get_column_letter

from sheets_health.backends import xlsx
from sheets_health.backends.xlsx import XlsxBackend
from sheets_health.errors import (
    AccessDeniedError,
    ConfigError,
    ContractError,
    NotFoundError,
    WriteConflictError,
)
from sheets_health.model import CellValue, CellWrite, Fill, RowUpdate, TabPlan, WritePlan
from sheets_health.template import TEMPLATE, tab_template

try:
    from .contract.factories import make_xlsx
    from .edge_cases import EDGE_CASES, MERGED_RANGES
except ImportError:
    from contract.factories import make_xlsx
    from edge_cases import EDGE_CASES, MERGED_RANGES

GRID: list[list[CellValue]] = [
    ["Customer ID", "ARR", "Seats", "Total", "Health score", "Health"],
    ["C-001", 1000, 2, None, None, None],
    ["C-002", 500, 3, None, None, None],
]
PLAN = WritePlan(
    (
        TabPlan(
            "Customers",
            ("Customer ID",),
            updates=(
                RowUpdate(2, ("C-001",), {"Health score": CellWrite(80)}),
                RowUpdate(3, ("C-002",), {"Health": CellWrite("Red", Fill.RED)}),
            ),
        ),
    )
)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def with_cached_formulas(path: Path, cached: dict[str, str | tuple[str, str]]) -> None:
    """Give formula cells the results Excel would have saved (openpyxl cannot compute them).

    A value is the ``<v>`` text, or (text, cell type) for a non-number: "str", "b", "e".
    """
    with zipfile.ZipFile(path) as src:
        parts = {name: src.read(name) for name in src.namelist()}
    sheet = parts["xl/worksheets/sheet1.xml"].decode()
    for coordinate, spec in cached.items():
        value, kind = (spec, "") if isinstance(spec, str) else spec
        kind_attr = f' t="{kind}"' if kind else ""
        # an empty <v/>: `<v />` without lxml, `<v></v>` with it
        pattern = rf'<c r="{coordinate}"([^>]*)><f>([^<]*)</f>(?:<v\s*/>|<v></v>)'
        replacement = rf'<c r="{coordinate}"\g<1>{kind_attr}><f>\g<2></f><v>{value}</v>'
        sheet, count = re.subn(pattern, replacement, sheet)
        assert count == 1, coordinate
    parts["xl/worksheets/sheet1.xml"] = sheet.encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as dst:
        for name, data in parts.items():
            dst.writestr(name, data)
    path.write_bytes(buffer.getvalue())


@pytest.fixture
def book(tmp_path: Path) -> Path:
    """Customers with a formula column (Total = ARR * Seats) computed by "Excel"."""
    path = make_xlsx(tmp_path, {"Customers": GRID}).path
    wb = load_workbook(path)
    wb["Customers"]["D2"] = "=B2*C2"
    wb["Customers"]["D3"] = "=B3*C3"
    wb.save(path)
    with_cached_formulas(path, {"D2": "2000"})  # D3 never computed
    return path


def leftovers(path: Path) -> list[str]:
    return sorted(p.name for p in path.parent.iterdir() if p.name != path.name)


# ----------------------------------------------------------------------------- opening


def test_description_names_the_workbook() -> None:
    assert XlsxBackend(Path("demo/customers.xlsx")).description == "workbook demo/customers.xlsx"


def test_missing_workbook_says_how_to_create_it(tmp_path: Path) -> None:
    backend = XlsxBackend(tmp_path / "nope.xlsx")
    with pytest.raises(NotFoundError, match="does not exist") as info:
        backend.read(["Customers"])
    assert "sheets-health init" in str(info.value)
    with pytest.raises(NotFoundError):
        backend.apply(PLAN)


@pytest.mark.parametrize("content", [b"", b"name,arr\nAcme,1\n", b"PK\x03\x04broken"])
def test_a_file_that_is_not_a_workbook_is_refused_and_left_alone(
    tmp_path: Path, content: bytes
) -> None:
    path = tmp_path / "customers.xlsx"
    path.write_bytes(content)
    backend = XlsxBackend(path)
    with pytest.raises(ConfigError, match=r"not a valid \.xlsx workbook"):
        backend.read(["Customers"])
    with pytest.raises(ConfigError):
        backend.init(TEMPLATE)
    assert path.read_bytes() == content


def test_a_folder_is_not_a_workbook(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="folder"):
        XlsxBackend(tmp_path).read(["Customers"])


# ----------------------------------------------------------------------------- reading


def test_formula_cells_read_as_their_cached_value(book: Path) -> None:
    table = XlsxBackend(book).read(["Customers"])["Customers"]
    assert table.value(0, "Total") == 2000
    assert table.value(1, "Total") is None  # never computed: blank, not the formula text


def test_dates_follow_the_number_format(tmp_path: Path) -> None:
    path = tmp_path / "d.xlsx"
    wb = Workbook()
    ws = wb.active
    ws.title = "Customers"
    ws.append(["Day", "Midnight stamp", "Stamp"])
    ws.append([dt.datetime(2026, 3, 31), dt.datetime(2026, 3, 31), dt.datetime(2026, 3, 31, 9)])
    ws["A2"].number_format = "dd/mm/yyyy"
    ws["B2"].number_format = "yyyy-mm-dd hh:mm"
    ws["C2"].number_format = "yyyy-mm-dd hh:mm"
    wb.save(path)
    row = XlsxBackend(path).read(["customers"])["customers"].rows[0]
    assert row == (dt.date(2026, 3, 31), dt.datetime(2026, 3, 31), dt.datetime(2026, 3, 31, 9))
    assert type(row[0]) is dt.date and type(row[1]) is dt.datetime


def test_merged_cells_read_as_the_top_left_value(tmp_path: Path) -> None:
    case = "merged_cells"
    path = make_xlsx(tmp_path, EDGE_CASES[case]).path
    wb = load_workbook(path)
    for tab, ranges in MERGED_RANGES[case].items():
        for cells in ranges:
            wb[tab].merge_cells(cells)
    wb.save(path)
    backend = XlsxBackend(path)
    table = backend.read(["Customers"])["Customers"]
    assert table.rows[1] == ("C-002", "Beta spans two cells", None)
    plan = TabPlan("Customers", ("Customer ID",), updates=(
        RowUpdate(3, ("C-002",), {"Notes": CellWrite("x")}),))  # fmt: skip
    before = digest(path)
    with pytest.raises(ContractError, match="merged"):
        backend.apply(WritePlan((plan,)))
    assert digest(path) == before


def test_indexed_colours_are_read_as_rgb(tmp_path: Path) -> None:
    from openpyxl.styles import Color, PatternFill

    path = make_xlsx(tmp_path, {"Customers": GRID}).path
    wb = load_workbook(path)
    wb["Customers"]["B2"].fill = PatternFill("solid", fgColor="FF00FF00")
    wb["Customers"]["C2"].fill = PatternFill("solid", fgColor="FFFFFF00")
    red = Color(indexed=2)  # red in the legacy palette
    wb["Customers"]["D2"].fill = PatternFill(fill_type="solid", fgColor=red)
    wb.save(path)
    colors = XlsxBackend(path).read(["Customers"])["Customers"].colors
    assert colors[(2, 1)] == "00FF00" and colors[(2, 2)] == "FFFF00"
    assert colors.get((2, 3)) == "FF0000"


# ----------------------------------------------------------------------------- writing


def test_apply_keeps_formulas_and_their_cached_values(book: Path) -> None:
    result = XlsxBackend(book).apply(PLAN)
    assert result.cells_written == 2
    wb = load_workbook(book)
    assert wb["Customers"]["D2"].value == "=B2*C2" and wb["Customers"]["D2"].data_type == "f"
    assert wb["Customers"]["D3"].value == "=B3*C3"
    assert load_workbook(book, data_only=True)["Customers"]["D2"].value == 2000
    table = XlsxBackend(book).read(["Customers"])["Customers"]
    assert table.value(0, "Total") == 2000 and table.value(0, "Health score") == 80
    assert table.colors == {(3, 5): Fill.RED.value}
    assert wb.calculation.fullCalcOnLoad  # Excel recomputes on open


def test_cached_formula_results_of_every_type_survive_a_save(tmp_path: Path) -> None:
    path = make_xlsx(tmp_path, {"Customers": [["Customer ID", "A", "B", "C", "D"], ["C-1"]]}).path
    wb = load_workbook(path)
    ws = wb["Customers"]
    formulas = {"B2": '="x"&"y"', "C2": "=1=1", "D2": "=1/0", "E2": "=TODAY()"}
    for coordinate, formula in formulas.items():
        ws[coordinate] = formula
    ws["E2"].number_format = "yyyy-mm-dd"
    wb.save(path)
    cached: dict[str, str | tuple[str, str]] = {
        "B2": ("xy", "str"),
        "C2": ("1", "b"),
        "D2": ("#DIV/0!", "e"),
        "E2": "46112",
    }
    with_cached_formulas(path, cached)
    backend = XlsxBackend(path)
    before = backend.read(["Customers"])["Customers"].rows
    assert before == (("C-1", "xy", True, "#DIV/0!", dt.date(2026, 3, 31)),)
    appends = ({"Customer ID": CellWrite("C-2")},)
    backend.apply(WritePlan((TabPlan("Customers", appends=appends),)))
    assert backend.read(["Customers"])["Customers"].rows[0] == before[0]
    assert load_workbook(path)["Customers"]["B2"].value == '="x"&"y"'


def test_text_starting_with_equals_is_saved_as_a_string(tmp_path: Path) -> None:
    path = make_xlsx(tmp_path, {"Customers": GRID}).path
    plan = TabPlan("Customers", ("Customer ID",), updates=(
        RowUpdate(2, ("C-001",), {"Health": CellWrite("=HYPERLINK(\"x\")")}),))  # fmt: skip
    XlsxBackend(path).apply(WritePlan((plan,)))
    xml = zipfile.ZipFile(path).read("xl/worksheets/sheet1.xml").decode()
    cell = re.search(r'<c r="F2"[^>]*>.*?</c>', xml)
    assert cell is not None and "<f>" not in cell.group(0) and "inlineStr" in cell.group(0)
    reloaded = load_workbook(path)["Customers"]["F2"]
    assert reloaded.data_type == "s" and reloaded.value == '=HYPERLINK("x")'


def test_dates_get_date_formats_and_numbers_lose_a_stale_date_format(tmp_path: Path) -> None:
    grid: list[list[CellValue]] = [["Customer ID", "Day", "At", "Score"],
                                   ["C-1", None, None, dt.date(2020, 1, 1)]]  # fmt: skip
    path = make_xlsx(tmp_path, {"Customers": grid}).path
    cells = {
        "Day": CellWrite(dt.date(2026, 3, 31)),
        "At": CellWrite(dt.datetime(2026, 3, 31, 9, 5)),
        "Score": CellWrite(72),
    }
    plan = TabPlan("Customers", ("Customer ID",), updates=(RowUpdate(2, ("C-1",), cells),))
    XlsxBackend(path).apply(WritePlan((plan,)))
    ws = load_workbook(path)["Customers"]
    assert ws["B2"].number_format == "yyyy-mm-dd"
    assert ws["C2"].number_format == "yyyy-mm-dd hh:mm"
    assert ws["D2"].number_format == "General" and ws["D2"].value == 72


def test_control_characters_are_dropped_not_fatal(tmp_path: Path) -> None:
    path = make_xlsx(tmp_path, {"Customers": GRID}).path
    plan = TabPlan("Customers", ("Customer ID",), updates=(
        RowUpdate(2, ("C-001",), {"Health": CellWrite("ok\x01 then")}),))  # fmt: skip
    XlsxBackend(path).apply(WritePlan((plan,)))
    assert load_workbook(path)["Customers"]["F2"].value == "ok then"


def test_empty_plan_leaves_the_file_byte_identical(book: Path) -> None:
    before, mtime = digest(book), book.stat().st_mtime_ns
    backend = XlsxBackend(book)
    backend.apply(WritePlan())
    backend.apply(WritePlan((TabPlan("Customers", ("Customer ID",)),)))
    assert digest(book) == before and book.stat().st_mtime_ns == mtime
    assert leftovers(book) == []


def test_failure_midway_leaves_the_file_untouched(
    book: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = digest(book)
    real = xlsx._set_value
    calls = []

    def failing(cell: object, value: CellValue) -> CellValue:
        calls.append(value)
        if len(calls) == 2:
            raise RuntimeError("injected failure")
        return real(cell, value)

    monkeypatch.setattr(xlsx, "_set_value", failing)
    with pytest.raises(RuntimeError, match="injected"):
        XlsxBackend(book).apply(PLAN)
    assert digest(book) == before and leftovers(book) == []


def test_failure_while_saving_leaves_the_file_untouched(
    book: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = digest(book)

    def half_save(self: Workbook, target: object) -> None:
        assert hasattr(target, "write")
        target.write(b"PK\x03\x04 half a zip")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Workbook, "save", half_save)
    with pytest.raises(Exception, match="No space left"):
        XlsxBackend(book).apply(PLAN)
    assert digest(book) == before and leftovers(book) == []


def test_a_locked_workbook_gives_a_clear_error(book: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = digest(book)

    def locked(src: object, dst: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(xlsx.os, "replace", locked)
    with pytest.raises(AccessDeniedError, match="Permission denied") as info:
        XlsxBackend(book).apply(PLAN)
    assert "close the workbook" in str(info.value)
    assert digest(book) == before and leftovers(book) == []


def test_a_workbook_changed_during_the_write_is_not_overwritten(
    book: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = xlsx._verify

    def someone_saves_meanwhile(path: Path, written: list[Any], *starts: Any) -> None:
        real(path, written, *starts)
        book.write_bytes(book.read_bytes() + b"")
        os.utime(book, ns=(book.stat().st_atime_ns, book.stat().st_mtime_ns + 10**9))

    monkeypatch.setattr(xlsx, "_verify", someone_saves_meanwhile)
    with pytest.raises(WriteConflictError):
        XlsxBackend(book).apply(PLAN)
    assert leftovers(book) == []


def test_the_file_keeps_its_permissions(book: Path) -> None:
    book.chmod(0o640)
    XlsxBackend(book).apply(PLAN)
    assert book.stat().st_mode & 0o777 == 0o640


# ----------------------------------------------------------------------------- init


def test_init_creates_a_workbook_without_the_default_sheet(tmp_path: Path) -> None:
    path = tmp_path / "customers.xlsx"
    changes = XlsxBackend(path).init(TEMPLATE)
    assert changes == [f"added tab {t.name}" for t in TEMPLATE]
    wb = load_workbook(path)
    assert wb.sheetnames == [t.name for t in TEMPLATE]
    ws = wb["Customers"]
    assert ws.freeze_panes == "A2"
    assert all(cell.font.b for cell in ws[1])
    assert ws.column_dimensions["A"].width >= 12
    reasons = get_column_letter(tab_template("Customers").headers.index("Reasons") + 1)
    assert ws.column_dimensions[reasons].width >= 40
    assert path.stat().st_mode & 0o777 == 0o666 & ~_umask()
    assert leftovers(path) == []


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_init_twice_leaves_the_file_byte_identical(tmp_path: Path) -> None:
    path = tmp_path / "customers.xlsx"
    backend = XlsxBackend(path)
    backend.init(TEMPLATE)
    before = digest(path)
    assert backend.init(TEMPLATE) == []
    assert digest(path) == before


def test_init_upgrades_without_touching_user_data(book: Path) -> None:
    changes = XlsxBackend(book).init([tab_template("Customers")])
    assert "added column Trend to Customers" in changes
    assert "added dropdown Gut RAG to Customers" not in changes  # new columns get one anyway
    wb = load_workbook(book)
    assert wb["Customers"]["D2"].value == "=B2*C2"
    assert load_workbook(book, data_only=True)["Customers"]["D2"].value == 2000
    headers = [c.value for c in wb["Customers"][1]]
    assert headers[:6] == GRID[0] and "Trend" in headers


def test_init_adds_a_dropdown_missing_from_an_existing_column(tmp_path: Path) -> None:
    path = make_xlsx(tmp_path, {"Customers": [list(tab_template("Customers").headers)]}).path
    changes = XlsxBackend(path).init([tab_template("Customers")])
    assert changes == [
        "added dropdown Gut RAG to Customers",
        "added dropdown Override to Customers",
        "added dropdown Status to Customers",
    ]
    assert XlsxBackend(path).init([tab_template("Customers")]) == []


def test_init_refuses_a_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="does not exist"):
        XlsxBackend(tmp_path / "nope" / "customers.xlsx").init(TEMPLATE)


def test_the_saved_file_opens_again(book: Path) -> None:
    backend = XlsxBackend(book)
    backend.init(TEMPLATE)
    backend.apply(PLAN)
    wb = load_workbook(book)
    assert set(wb.sheetnames) >= {t.name for t in TEMPLATE}
    assert wb["Customers"]["E2"].value == 80
    with zipfile.ZipFile(book) as archive:
        assert archive.testzip() is None
