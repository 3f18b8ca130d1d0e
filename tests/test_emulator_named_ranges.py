"""Named ranges in the Sheets API emulator, through gspread + google-auth + requests: read by
name in ``ranges``, moved with ``updateNamedRange``, an unknown name refused with Google's 400,
and ranges that follow their rows when rows are inserted or deleted above or inside them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import gspread
import pytest

from tests.emulator import SheetsEmulator, gspread_client, make_service_account_key

ROWS = [["Date", "Customer ID", "Health score"]] + [
    [f"2026-03-{d:02d}", f"C{d}", d] for d in range(1, 11)]


@pytest.fixture(scope="module")
def emu() -> Iterator[SheetsEmulator]:
    with SheetsEmulator() as emulator:
        yield emulator


@pytest.fixture
def gc(emu: SheetsEmulator) -> gspread.Client:
    emu.reset()
    return gspread_client(emu.url, make_service_account_key(emu))


@pytest.fixture
def sid(emu: SheetsEmulator) -> str:
    return emu.create_spreadsheet("Health", {"History": [list(r) for r in ROWS]}, rows=20)


def add(gc: gspread.Client, sid: str, name: str, rng: dict[str, Any]) -> str:
    reply = gc.open_by_key(sid).batch_update({"requests": [
        {"addNamedRange": {"namedRange": {"name": name, "range": rng}}}]})
    return str(reply["replies"][0]["addNamedRange"]["namedRange"]["namedRangeId"])


def named(gc: gspread.Client, sid: str) -> dict[str, dict[str, Any]]:
    meta = gc.open_by_key(sid).fetch_sheet_metadata({"fields": "namedRanges"})
    return {n["name"]: n["range"] for n in meta.get("namedRanges", [])}


def read(gc: gspread.Client, sid: str, *ranges: str) -> list[dict[str, Any]]:
    meta = gc.open_by_key(sid).fetch_sheet_metadata({
        "ranges": list(ranges), "includeGridData": "true",
        "fields": "sheets(data(startRow,rowData(values(effectiveValue))))"})
    return list(meta["sheets"][0]["data"])


def first_ids(block: dict[str, Any]) -> list[Any]:
    return [r["values"][1]["effectiveValue"]["stringValue"] for r in block.get("rowData", [])]


def test_an_open_ended_named_range_reads_the_tail_with_its_start_row(
        gc: gspread.Client, sid: str) -> None:
    add(gc, sid, "tail", {"startRowIndex": 8, "startColumnIndex": 0})
    header, tail = read(gc, sid, "'History'!1:1", "tail")
    assert "startRow" not in header and tail["startRow"] == 8
    assert first_ids(tail) == ["C8", "C9", "C10"]
    assert gc.open_by_key(sid).values_get("tail")["values"][0][:2] == ["2026-03-08", "C8"]
    # the reply leaves out the open end, and zero indexes, as Google does
    assert named(gc, sid)["tail"] == {"startRowIndex": 8}


def test_an_unknown_name_is_googles_400(gc: gspread.Client, sid: str) -> None:
    with pytest.raises(gspread.exceptions.APIError) as info:
        read(gc, sid, "'History'!1:1", "sheets_health_nope")
    assert info.value.response.status_code == 400
    assert info.value.response.json()["error"]["message"] == \
        "Unable to parse range: sheets_health_nope"


def test_update_named_range_moves_it_and_can_open_its_end(gc: gspread.Client, sid: str) -> None:
    rid = add(gc, sid, "tail", {"startRowIndex": 1, "endRowIndex": 3})
    gc.open_by_key(sid).batch_update({"requests": [{"updateNamedRange": {
        "namedRange": {"namedRangeId": rid, "range": {"sheetId": 0, "startRowIndex": 9}},
        "fields": "range"}}]})
    assert named(gc, sid)["tail"] == {"startRowIndex": 9}
    assert first_ids(read(gc, sid, "tail")[0]) == ["C9", "C10"]


@pytest.mark.parametrize(("body", "message"), [
    ({"namedRange": {"namedRangeId": "404", "name": "x"}, "fields": "name"},
     "No named range with id: 404"),
    ({"namedRange": {"namedRangeId": "RID", "name": "x"}}, "At least one field"),
    ({"namedRange": {"namedRangeId": "RID", "range": {"startRowIndex": 50}}, "fields": "range"},
     "exceeds grid limits"),
], ids=["unknown-id", "no-fields", "beyond-grid"])
def test_update_named_range_is_checked(gc: gspread.Client, sid: str, body: dict[str, Any],
                                       message: str) -> None:
    rid = add(gc, sid, "tail", {"startRowIndex": 1})
    body["namedRange"]["namedRangeId"] = body["namedRange"]["namedRangeId"].replace("RID", rid)
    with pytest.raises(gspread.exceptions.APIError) as info:
        gc.open_by_key(sid).batch_update({"requests": [{"updateNamedRange": body}]})
    assert message in info.value.response.json()["error"]["message"]
    assert named(gc, sid)["tail"] == {"startRowIndex": 1}  # the batch changed nothing


def test_an_unknown_field_in_update_named_range_is_rejected_by_discovery(
        gc: gspread.Client, sid: str) -> None:
    rid = add(gc, sid, "tail", {"startRowIndex": 1})
    with pytest.raises(gspread.exceptions.APIError) as info:
        gc.open_by_key(sid).batch_update({"requests": [{"updateNamedRange": {
            "namedRange": {"namedRangeId": rid, "rows": 3}, "fields": "range"}}]})
    assert info.value.response.status_code == 400
    assert 'Unknown name "rows"' in info.value.response.json()["error"]["message"]


@pytest.mark.parametrize(("request_body", "expected"), [
    # inserting above moves both ends down; inserting inside grows the range
    ({"insertDimension": {"range": {"dimension": "ROWS", "startIndex": 2, "endIndex": 4}}},
     {"block": (6, 9), "tail": 10}),
    ({"insertDimension": {"range": {"dimension": "ROWS", "startIndex": 5, "endIndex": 6}}},
     {"block": (4, 8), "tail": 9}),
    # at a bounded range's end: the range stays as it is
    ({"insertDimension": {"range": {"dimension": "ROWS", "startIndex": 7, "endIndex": 8}}},
     {"block": (4, 7), "tail": 9}),
    # deleting above moves it up; deleting across its start shrinks it from the top
    ({"deleteDimension": {"range": {"dimension": "ROWS", "startIndex": 1, "endIndex": 3}}},
     {"block": (2, 5), "tail": 6}),
    ({"deleteDimension": {"range": {"dimension": "ROWS", "startIndex": 3, "endIndex": 5}}},
     {"block": (3, 5), "tail": 6}),
    # every row of the bounded range deleted: it is gone; the open tail keeps its place
    ({"deleteDimension": {"range": {"dimension": "ROWS", "startIndex": 4, "endIndex": 8}}},
     {"tail": 4}),
], ids=["insert-above", "insert-inside", "insert-at-end", "delete-above", "delete-across",
        "delete-all-of-it"])
def test_named_ranges_follow_their_rows(gc: gspread.Client, sid: str,
                                        request_body: dict[str, Any],
                                        expected: dict[str, Any]) -> None:
    add(gc, sid, "block", {"startRowIndex": 4, "endRowIndex": 7})
    add(gc, sid, "tail", {"startRowIndex": 8})
    gc.open_by_key(sid).batch_update({"requests": [request_body]})
    found = named(gc, sid)
    want = {name: ({"startRowIndex": v[0], "endRowIndex": v[1]} if isinstance(v, tuple)
                   else {"startRowIndex": v}) for name, v in expected.items()}
    assert found == want


def test_a_person_deleting_rows_above_moves_the_tail_with_its_rows(
        emu: SheetsEmulator, gc: gspread.Client, sid: str) -> None:
    add(gc, sid, "tail", {"startRowIndex": 8})
    emu.delete_rows(sid, "History", 2, 3)  # rows 2-4, as a person would in the UI
    tail = read(gc, sid, "tail")[0]
    assert tail["startRow"] == 5 and first_ids(tail) == ["C8", "C9", "C10"]
    emu.insert_rows(sid, "History", 2, [["2026-02-01", "C0", 0]])
    assert first_ids(read(gc, sid, "tail")[0]) == ["C8", "C9", "C10"]


def test_appended_rows_join_an_open_ended_range(gc: gspread.Client, sid: str) -> None:
    add(gc, sid, "tail", {"startRowIndex": 9})
    sheet = gc.open_by_key(sid).sheet1
    sheet.append_row(["2026-03-11", "C11", 11], value_input_option="USER_ENTERED")
    assert first_ids(read(gc, sid, "tail")[0]) == ["C9", "C10", "C11"]


def test_deleting_the_sheet_drops_its_named_ranges(gc: gspread.Client, sid: str) -> None:
    book = gc.open_by_key(sid)
    other = book.add_worksheet("Other", 5, 5)
    add(gc, sid, "tail", {"sheetId": other.id, "startRowIndex": 1})
    book.del_worksheet(other)
    assert named(gc, sid) == {}
