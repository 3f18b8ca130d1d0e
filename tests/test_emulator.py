"""The Sheets API emulator, exercised through the real gspread + google-auth + requests stack."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import gspread
import pytest
import requests
from google.auth.exceptions import RefreshError

try:
    from tests.emulator import (
        Fault,
        FaultKind,
        SheetsEmulator,
        gspread_client,
        make_service_account_key,
    )
    from tests.emulator.fixtures import sheets_emulator
except ImportError:  # tests/ itself on sys.path
    from emulator import (  # type: ignore[no-redef]
        Fault,
        FaultKind,
        SheetsEmulator,
        gspread_client,
        make_service_account_key,
    )
    from emulator.fixtures import sheets_emulator  # type: ignore[no-redef]  # noqa: F401

CUSTOMERS = [
    ["Customer ID", "Customer", "ARR", "Start date", ""],
    ["00123", "Acme", "1200", "2026-11-22"],
    ["7", "Globex", "300", "", ""],
    ["42", "Initech", "900"],
]


@pytest.fixture(scope="module")
def emu() -> Iterator[SheetsEmulator]:
    with SheetsEmulator() as emulator:
        yield emulator


@pytest.fixture(scope="module")
def key(emu: SheetsEmulator) -> dict[str, str]:
    return make_service_account_key(emu)


@pytest.fixture
def gc(emu: SheetsEmulator, key: dict[str, str]) -> gspread.Client:
    emu.reset()
    return gspread_client(emu.url, key)


@pytest.fixture
def sid(emu: SheetsEmulator) -> str:
    return emu.create_spreadsheet("Health", {"Customers": [list(r) for r in CUSTOMERS],
                                             "Sync log": []})


def api_error(exc: pytest.ExceptionInfo[gspread.exceptions.APIError]) -> dict[str, Any]:
    body: dict[str, Any] = exc.value.response.json()["error"]
    return body


# --------------------------------------------------------------------------- auth
def test_token_exchange_and_bearer(emu: SheetsEmulator, gc: gspread.Client, sid: str) -> None:
    gc.open_by_key(sid)
    token_calls = [r for r in emu.requests if r.path == "/token"]
    assert token_calls[0].status == 200
    assert token_calls[0].body["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer"
    assert emu.api_requests()[0].headers["Authorization"].startswith("Bearer ya29.emulator-")


def test_bad_signature_is_refused(emu: SheetsEmulator, sid: str) -> None:
    forged = make_service_account_key(emu)
    other = make_service_account_key(emu, register=False)
    forged["private_key"] = other["private_key"]  # signs with a key Google never saw
    with pytest.raises(RefreshError, match="Invalid JWT Signature"):
        gspread_client(emu.url, forged).open_by_key(sid)
    assert emu.requests[-1].status == 400  # Google's token endpoint answers invalid_grant


def test_missing_or_unknown_token_is_401(emu: SheetsEmulator, sid: str) -> None:
    url = f"{emu.url}/v4/spreadsheets/{sid}"
    bare = requests.get(url, timeout=5)
    forged = requests.get(url, headers={"Authorization": "Bearer ya29.forged"}, timeout=5)
    assert bare.status_code == forged.status_code == 401
    assert bare.json()["error"]["status"] == "UNAUTHENTICATED"
    assert "invalid authentication credentials" in forged.json()["error"]["message"]


def test_scope_is_checked(emu: SheetsEmulator, key: dict[str, str], sid: str) -> None:
    client = gspread_client(emu.url, key, scopes=["https://www.googleapis.com/auth/drive"])
    with pytest.raises(RefreshError, match="invalid_scope"):
        client.open_by_key(sid)


def test_unknown_and_private_spreadsheets(emu: SheetsEmulator, gc: gspread.Client,
                                          sid: str) -> None:
    with pytest.raises(gspread.exceptions.SpreadsheetNotFound):
        gc.open_by_key("nope")
    emu.unshare_all(sid)
    with pytest.raises(gspread.exceptions.APIError) as exc:
        gc.http_client.fetch_sheet_metadata(sid)
    assert api_error(exc) == {"code": 403, "message": "The caller does not have permission",
                              "status": "PERMISSION_DENIED"}


# ------------------------------------------------------------------------ values
def test_values_match_the_seed_and_are_trimmed(gc: gspread.Client, sid: str) -> None:
    ws = gc.open_by_key(sid).worksheet("Customers")
    got = gc.http_client.values_get(sid, "Customers")
    assert got["range"] == "Customers!A1:Z1000"
    assert got["values"] == [
        ["Customer ID", "Customer", "ARR", "Start date"],  # trailing "" trimmed
        ["123", "Acme", "1200", "2026-11-22"],  # USER_ENTERED: 00123 became a number
        ["7", "Globex", "300"],
        ["42", "Initech", "900"],
    ]
    raw = ws.get("A2:D2", value_render_option="UNFORMATTED_VALUE")
    assert raw == [[123, "Acme", 1200, 46348]]  # dates are serial numbers


def test_empty_range_has_no_values_key(gc: gspread.Client, sid: str) -> None:
    got = gc.http_client.values_get(sid, "'Sync log'!A1:F")
    assert got == {"range": "'Sync log'!A1:F1000", "majorDimension": "ROWS"}


def test_batch_get_columns_and_render_options(gc: gspread.Client, sid: str) -> None:
    got = gc.http_client.values_batch_get(sid, ["Customers!A:B", "Customers!C2:C3"], params={
        "majorDimension": "COLUMNS", "valueRenderOption": "UNFORMATTED_VALUE"})
    first, second = got["valueRanges"]
    assert first["range"] == "Customers!A1:B1000"
    assert first["values"][0] == ["Customer ID", 123, 7, 42]
    assert second["values"] == [[1200, 300]]


def test_formulas_text_and_dates(emu: SheetsEmulator, gc: gspread.Client, sid: str) -> None:
    gc.http_client.values_update(sid, "Customers!F1:H1", params={
        "valueInputOption": "USER_ENTERED"}, body={"values": [["=4/2", "2026-11-22", "'00123"]]})
    gc.http_client.values_update(sid, "Customers!F2", params={"valueInputOption": "RAW"},
                                 body={"values": [["=1+1"]]})
    assert emu.cell(sid, "Customers", "F1")["userEnteredValue"] == {"formulaValue": "=4/2"}
    assert emu.cell(sid, "Customers", "F2")["userEnteredValue"] == {"stringValue": "=1+1"}
    date = emu.cell(sid, "Customers", "G1")
    assert date["formattedValue"] == "2026-11-22"
    assert date["effectiveFormat"]["numberFormat"] == {"type": "DATE", "pattern": "yyyy-mm-dd"}
    assert emu.cell(sid, "Customers", "H1")["userEnteredValue"] == {"stringValue": "00123"}
    got = gc.http_client.values_get(sid, "Customers!F1:H2", params={"valueRenderOption": "FORMULA"})
    assert got["values"] == [["=4/2", 46348, "00123"], ["=1+1"]]
    got = gc.http_client.values_get(sid, "Customers!F1:G1", params={
        "valueRenderOption": "UNFORMATTED_VALUE", "dateTimeRenderOption": "FORMATTED_STRING"})
    assert got["values"] == [[2, "2026-11-22"]]


def test_append_writes_below_the_table(emu: SheetsEmulator, gc: gspread.Client, sid: str) -> None:
    answer = gc.http_client.values_append(sid, "Customers", params={
        "valueInputOption": "RAW", "insertDataOption": "INSERT_ROWS"},
        body={"values": [["99", "Umbrella"]]})
    assert answer["tableRange"] == "Customers!A1:D4"
    assert answer["updates"]["updatedRange"] == "Customers!A5:B5"
    assert emu.values(sid, "Customers")[4] == ["99", "Umbrella"]


def test_writes_beyond_the_grid_are_refused(gc: gspread.Client, sid: str) -> None:
    sh = gc.open_by_key(sid)
    with pytest.raises(gspread.exceptions.APIError) as exc:
        sh.batch_update({"requests": [{"updateCells": {
            "start": {"sheetId": 0, "rowIndex": 1000, "columnIndex": 0},
            "rows": [{"values": [{"userEnteredValue": {"stringValue": "x"}}]}],
            "fields": "userEnteredValue"}}]})
    assert api_error(exc)["message"] == (
        "Invalid requests[0].updateCells: Range ('Customers'!A1001) exceeds grid limits. "
        "Max rows: 1000, max columns: 26")
    with pytest.raises(gspread.exceptions.APIError, match="exceeds grid limits"):
        gc.http_client.values_update(sid, "Customers!A1000:A1001",
                                     params={"valueInputOption": "RAW"},
                                     body={"values": [["a"], ["b"]]})


# ------------------------------------------------------------------- strictness
def test_unknown_field_is_rejected_like_google(gc: gspread.Client, sid: str) -> None:
    with pytest.raises(gspread.exceptions.APIError) as exc:
        gc.open_by_key(sid).batch_update({"requests": [{"updateCells": {
            "range": {"sheetId": 0}, "fields": "*", "foo": 1}}]})
    error = api_error(exc)
    message = ("Invalid JSON payload received. Unknown name \"foo\" at "
               "'requests[0].update_cells': Cannot find field.")
    assert error["code"] == 400 and error["status"] == "INVALID_ARGUMENT"
    assert error["message"] == message
    assert error["details"][0]["fieldViolations"] == [
        {"field": "requests[0].update_cells", "description": message}]


def test_bad_enums_and_types_are_rejected(gc: gspread.Client, sid: str) -> None:
    sh = gc.open_by_key(sid)
    with pytest.raises(gspread.exceptions.APIError) as exc:
        sh.batch_update({"requests": [{"sortRange": {"range": {"sheetId": 0}, "sortSpecs": [
            {"dimensionIndex": 0, "sortOrder": "BOGUS"}]}}]})
    assert api_error(exc)["message"] == (
        "Invalid value at 'requests[0].sort_range.sort_specs[0].sort_order' (TYPE_ENUM), \"BOGUS\"")
    with pytest.raises(gspread.exceptions.APIError) as exc:
        gc.http_client.values_update(sid, "Customers!A1", params={"valueInputOption": "BOGUS"},
                                     body={"values": [["x"]]})
    assert api_error(exc)["message"].startswith("Invalid value at 'value_input_option'")
    with pytest.raises(gspread.exceptions.APIError) as exc:
        gc.http_client.values_update(sid, "Customers!A1", params={"valueInputOption": "RAW"},
                                     body={"values": "X"})
    assert api_error(exc)["message"] == (
        "Invalid value at 'data.values' (type.googleapis.com/google.protobuf.ListValue), \"X\"")
    with pytest.raises(gspread.exceptions.APIError, match="oneof field 'kind' is already set"):
        sh.batch_update({"requests": [{"addSheet": {}, "deleteSheet": {"sheetId": 0}}]})
    with pytest.raises(gspread.exceptions.APIError, match="Cannot bind query parameter"):
        gc.http_client.values_get(sid, "Customers!A1", params={"valueRenderOptions": "FORMULA"})


def test_bad_ranges_are_rejected(gc: gspread.Client, sid: str) -> None:
    for text in ("Nope!A1", "Customers!A1:B2:C3", "Customers!1A"):
        with pytest.raises(gspread.exceptions.APIError) as exc:
            gc.http_client.values_get(sid, text)
        assert api_error(exc) == {"code": 400, "message": f"Unable to parse range: {text}",
                                  "status": "INVALID_ARGUMENT"}


def test_unknown_paths_are_404(emu: SheetsEmulator, gc: gspread.Client, sid: str) -> None:
    session = gc.http_client.session
    assert session.get(f"{emu.url}/v4/spreadsheets/{sid}/nothing", timeout=5).status_code == 404
    assert session.delete(f"{emu.url}/v4/spreadsheets/{sid}", timeout=5).status_code == 404


def test_batch_update_is_atomic(emu: SheetsEmulator, gc: gspread.Client, sid: str) -> None:
    with pytest.raises(gspread.exceptions.APIError, match=r"requests\[1\].deleteSheet"):
        gc.open_by_key(sid).batch_update({"requests": [
            {"addSheet": {"properties": {"title": "New"}}},
            {"deleteSheet": {"sheetId": 12345}}]})
    assert emu.spreadsheet(sid).titles() == ["Customers", "Sync log"]


def test_failed_batch_leaves_cells_and_formats_as_they_were(emu: SheetsEmulator,
                                                              gc: gspread.Client, sid: str) -> None:
    sh = gc.open_by_key(sid)
    sheet_id = sh.worksheet("Customers").id
    pink = {"red": 1, "green": 0.8, "blue": 0.8}
    sh.batch_update({"requests": [{"repeatCell": {
        "range": {"sheetId": sheet_id, "startRowIndex": 1, "endRowIndex": 2,
                  "startColumnIndex": 1, "endColumnIndex": 2},
        "cell": {"userEnteredFormat": {"backgroundColor": pink}},
        "fields": "userEnteredFormat.backgroundColor"}}]})
    before = emu.values(sid, "Customers"), emu.cell(sid, "Customers", "B2")
    with pytest.raises(gspread.exceptions.APIError, match=r"requests\[2\].deleteSheet"):
        sh.batch_update({"requests": [
            {"updateCells": {
                "range": {"sheetId": sheet_id, "startRowIndex": 1, "endRowIndex": 2,
                          "startColumnIndex": 1, "endColumnIndex": 2},
                "rows": [{"values": [{"userEnteredValue": {"stringValue": "Acme Corp"},
                                      "userEnteredFormat": {"backgroundColor": {"red": 0}}}]}],
                "fields": "userEnteredValue,userEnteredFormat.backgroundColor"}},
            {"insertDimension": {"range": {"sheetId": sheet_id, "dimension": "ROWS",
                                           "startIndex": 1, "endIndex": 3}}},
            {"deleteSheet": {"sheetId": 12345}}]})
    assert (emu.values(sid, "Customers"), emu.cell(sid, "Customers", "B2")) == before
    assert emu.sheet(sid, "Customers").row_count == 1000


# ---------------------------------------------------------- grid data and masks
def test_fields_mask_and_colour_styles(gc: gspread.Client, sid: str) -> None:
    sh = gc.open_by_key(sid)
    sh.batch_update({"requests": [{"repeatCell": {
        "range": {"sheetId": 0, "startRowIndex": 1, "endRowIndex": 2, "startColumnIndex": 1,
                  "endColumnIndex": 2},
        "cell": {"userEnteredFormat": {"backgroundColor": {"red": 0.8, "green": 0, "blue": 0}}},
        "fields": "userEnteredFormat.backgroundColor"}}]})
    mask = ("sheets(properties(sheetId,title,gridProperties),data(startRow,rowData(values("
            "effectiveValue,userEnteredValue,effectiveFormat(numberFormat,backgroundColor)))))")
    got = gc.http_client.fetch_sheet_metadata(sid, params={
        "ranges": "'Customers'!A2:D2", "fields": mask})
    sheet = got["sheets"][0]
    assert set(got) == {"sheets"} and set(sheet) == {"properties", "data"}
    assert sheet["properties"] == {"sheetId": 0, "title": "Customers",
                                   "gridProperties": {"rowCount": 1000, "columnCount": 26}}
    data = sheet["data"][0]
    assert data["startRow"] == 1
    acme = data["rowData"][0]["values"][1]
    assert acme == {"userEnteredValue": {"stringValue": "Acme"},
                    "effectiveValue": {"stringValue": "Acme"},
                    "effectiveFormat": {"backgroundColor": {"red": 0.8}}}
    date = data["rowData"][0]["values"][3]["effectiveFormat"]["numberFormat"]
    assert date == {"type": "DATE", "pattern": "yyyy-mm-dd"}
    full = gc.http_client.fetch_sheet_metadata(sid, params={
        "ranges": "Customers!B2", "includeGridData": "true"})
    fmt = full["sheets"][0]["data"][0]["rowData"][0]["values"][0]["userEnteredFormat"]
    assert fmt == {"backgroundColor": {"red": 0.8}, "backgroundColorStyle": {"rgbColor": {
        "red": 0.8}}}


def test_time_zone_is_a_spreadsheet_property_like_google(emu: SheetsEmulator, gc: gspread.Client,
                                                          sid: str) -> None:
    # as in gspread's recording SpreadsheetTest.test_timezone_and_locale: a new sheet is in
    # Etc/GMT, updateSpreadsheetProperties changes it, and a field mask can pick it alone
    sh = gc.open_by_key(sid)
    assert sh.timezone == "Etc/GMT"
    sh.update_timezone("Europe/Paris")
    assert gc.open_by_key(sid).timezone == "Europe/Paris"
    emu.set_time_zone(sid, "Asia/Tokyo")  # what a person does in File → Settings
    got = gc.http_client.fetch_sheet_metadata(sid, params={
        "fields": "properties(timeZone),sheets(properties(title))"})
    assert got == {"properties": {"timeZone": "Asia/Tokyo"},
                   "sheets": [{"properties": {"title": "Customers"}},
                              {"properties": {"title": "Sync log"}}]}
    other = emu.create_spreadsheet("Other", time_zone="America/Los_Angeles")
    assert gc.open_by_key(other).timezone == "America/Los_Angeles"


def test_response_ranges_return_written_rows(gc: gspread.Client, sid: str) -> None:
    answer = gc.open_by_key(sid).batch_update({
        "requests": [{"updateCells": {
            "start": {"sheetId": 0, "rowIndex": 3, "columnIndex": 4},
            "rows": [{"values": [{"userEnteredValue": {"numberValue": 81}}]}],
            "fields": "userEnteredValue"}}],
        "includeSpreadsheetInResponse": True, "responseRanges": ["Customers!E4"],
        "responseIncludeGridData": True})
    cell = answer["updatedSpreadsheet"]["sheets"][0]["data"][0]["rowData"][0]["values"][0]
    assert cell["effectiveValue"] == {"numberValue": 81} and cell["formattedValue"] == "81"


def test_sheet_operations(emu: SheetsEmulator, gc: gspread.Client, sid: str) -> None:
    sh = gc.open_by_key(sid)
    reply = sh.batch_update({"requests": [
        {"addSheet": {"properties": {"title": "History"}}},
        {"updateSheetProperties": {"properties": {"sheetId": 0, "gridProperties": {
            "frozenRowCount": 1}}, "fields": "gridProperties.frozenRowCount"}},
        {"appendDimension": {"sheetId": 0, "dimension": "COLUMNS", "length": 2}},
        {"insertDimension": {"range": {"sheetId": 0, "dimension": "ROWS", "startIndex": 1,
                                       "endIndex": 2}}},
        {"setDataValidation": {"range": {"sheetId": 0, "startRowIndex": 2, "endRowIndex": 3,
                                         "startColumnIndex": 1, "endColumnIndex": 2},
                               "rule": {"condition": {"type": "ONE_OF_LIST", "values": [
                                   {"userEnteredValue": "Acme"}]}, "strict": True}}},
    ]})
    assert reply["replies"][0]["addSheet"]["properties"]["title"] == "History"
    assert reply["replies"][1:] == [{}, {}, {}, {}]
    props = emu.sheet(sid, "Customers").properties["gridProperties"]
    assert props == {"rowCount": 1001, "columnCount": 28, "frozenRowCount": 1}
    assert emu.values(sid, "Customers")[1] == []
    assert emu.cell(sid, "Customers", "B3")["dataValidation"]["strict"] is True
    with pytest.raises(gspread.exceptions.APIError, match="already exists"):
        sh.add_worksheet("History", 10, 10)


# ------------------------------------------------------------------------ faults
def test_rate_limit_is_served_with_retry_after(emu: SheetsEmulator, gc: gspread.Client,
                                               sid: str) -> None:
    emu.faults.add(Fault(FaultKind.RATE_LIMIT, method="GET", path="/values/", retry_after=7))
    with pytest.raises(gspread.exceptions.APIError) as exc:
        gc.http_client.values_get(sid, "Customers!A1")
    assert exc.value.response.status_code == 429
    assert exc.value.response.headers["Retry-After"] == "7"
    assert api_error(exc)["status"] == "RESOURCE_EXHAUSTED"
    assert gc.http_client.values_get(sid, "Customers!A1")["values"] == [["Customer ID"]]


def test_write_then_503_applies_the_write(emu: SheetsEmulator, gc: gspread.Client,
                                          sid: str) -> None:
    emu.faults.add(Fault("apply_then_503", method="PUT"))
    with pytest.raises(gspread.exceptions.APIError) as exc:
        gc.http_client.values_update(sid, "Customers!E2", params={"valueInputOption": "RAW"},
                                     body={"values": [["written"]]})
    assert exc.value.response.status_code == 503
    assert emu.values(sid, "Customers")[1][4] == "written"


def test_plain_503_and_500_apply_nothing(emu: SheetsEmulator, gc: gspread.Client,
                                         sid: str) -> None:
    emu.faults.add(Fault(FaultKind.UNAVAILABLE, method="PUT", nth=1))
    emu.faults.add(Fault(FaultKind.INTERNAL, method="PUT", nth=2))
    for code in (503, 500):
        with pytest.raises(gspread.exceptions.APIError) as exc:
            gc.http_client.values_update(sid, "Customers!E2", params={"valueInputOption": "RAW"},
                                         body={"values": [["lost"]]})
        assert exc.value.response.status_code == code
    assert len(emu.values(sid, "Customers")[1]) == 4


def test_stall_makes_the_client_time_out(emu: SheetsEmulator, key: dict[str, str],
                                         sid: str) -> None:
    client = gspread_client(emu.url, key, timeout=0.3)
    client.open_by_key(sid)
    emu.faults.add(Fault(FaultKind.STALL, path="/values/", seconds=1.0))
    with pytest.raises(requests.exceptions.ReadTimeout):
        client.http_client.values_get(sid, "Customers!A1")


def test_dropped_connection(emu: SheetsEmulator, gc: gspread.Client, sid: str) -> None:
    emu.faults.add(Fault(FaultKind.DROP, path=":batchUpdate"))
    with pytest.raises(requests.exceptions.ConnectionError):
        gc.http_client.batch_update(sid, {"requests": [{"appendDimension": {
            "sheetId": 0, "dimension": "ROWS", "length": 1}}]})
    assert emu.requests[-1].status is None and emu.requests[-1].fault == "drop"
    assert emu.sheet(sid, "Customers").row_count == 1000


# ------------------------------------------------------------ people in the sheet
def test_sort_hook_reorders_rows_between_two_calls(emu: SheetsEmulator, gc: gspread.Client,
                                                   sid: str) -> None:
    emu.on_request(2, lambda e, _req: e.sort_rows(sid, "Customers", "Customer", descending=True))
    first = gc.http_client.values_get(sid, "Customers!A2:B")["values"]
    second = gc.http_client.values_get(sid, "Customers!A2:B")["values"]
    assert [r[1] for r in first] == ["Acme", "Globex", "Initech"]
    assert [r[1] for r in second] == ["Initech", "Globex", "Acme"]


def test_edit_helpers(emu: SheetsEmulator, sid: str) -> None:
    emu.insert_rows(sid, "Customers", 2, [["5", "Hooli"]])
    emu.rename_header(sid, "Customers", "ARR", "Annual revenue")
    emu.set_value(sid, "Customers", "C3", "1,500")
    rows = emu.values(sid, "Customers")
    assert rows[0][2] == "Annual revenue"
    assert rows[1][:2] == ["5", "Hooli"] and rows[2][:3] == ["123", "Acme", "1,500"]


# --------------------------------------------------------------------- recording
def test_requests_are_recorded(emu: SheetsEmulator, gc: gspread.Client, sid: str) -> None:
    ws = gc.open_by_key(sid).worksheet("Customers")
    ws.update([["Acme Corp"]], "B2")
    calls = emu.api_requests()
    assert [c.method_id for c in calls] == [
        "sheets.spreadsheets.get", "sheets.spreadsheets.get",
        "sheets.spreadsheets.values.update"]
    put = calls[-1]
    assert put.query == {"valueInputOption": ["RAW"]}
    assert put.body == {"values": [["Acme Corp"]], "majorDimension": None}
    assert put.status == 200 and put.response["updatedRange"] == "Customers!B2"
    emu.reset()
    assert emu.requests == []


def test_shared_fixture_starts_and_stops(sheets_emulator: SheetsEmulator) -> None:
    assert requests.get(sheets_emulator.url + "/v4/spreadsheets/x", timeout=5).status_code == 401


# ----------------------------------------------------------------------- latency
def _exchange(emulator: SheetsEmulator, sid: str) -> list[tuple[str | None, int | None, Any]]:
    """A read, a write, a read back and a bad range, through gspread; what each answered."""
    client = gspread_client(emulator.url, make_service_account_key(emulator))
    ws = client.open_by_key(sid).worksheet("Customers")
    ws.update([["Acme Corp"]], "B2")
    ws.get("A1:C3")
    with pytest.raises(gspread.exceptions.APIError):
        ws.get("Nope!A1")
    return [(r.method_id, r.status, r.response) for r in emulator.api_requests()]


def test_latency_delays_every_api_request_without_changing_the_answer() -> None:
    sid = "same-id"
    slept: list[tuple[float, str]] = []
    slow: SheetsEmulator

    def sleep(seconds: float) -> None:  # stands in for time.sleep: records, does not wait
        slept.append((seconds, slow.values(sid, "Customers")[1][1]))

    with SheetsEmulator() as plain, SheetsEmulator(latency=0.25, sleep=sleep) as slow:
        for emulator in (plain, slow):
            emulator.create_spreadsheet("Health", {"Customers": [list(r) for r in CUSTOMERS]},
                                        spreadsheet_id=sid)
        answers = _exchange(plain, sid), _exchange(slow, sid)
        assert answers[0] == answers[1]
        assert [status for _id, status, _body in answers[1]] == [200, 200, 200, 200, 400]
        assert [r.delay for r in plain.api_requests()] == [0.0] * 5
        assert [r.delay for r in slow.api_requests()] == [0.25] * 5
        # each delay comes before its request is handled: the write had not landed yet
        assert slept == [(0.25, "Acme")] * 3 + [(0.25, "Acme Corp")] * 2
        token = [r for r in slow.requests if r.path == "/token"]
        assert token and all(r.delay == 0.0 for r in token)


def test_negative_latency_is_refused() -> None:
    with pytest.raises(ValueError, match="latency must be 0 or more seconds"):
        SheetsEmulator(latency=-0.1)


def test_recorded_sizes_are_what_crossed_the_wire(emu: SheetsEmulator, gc: gspread.Client,
                                                  sid: str) -> None:
    got = gc.http_client.values_batch_get(sid, ["Customers!A1:B2"])
    ws = gc.open_by_key(sid).worksheet("Customers")
    ws.update([["Acme Corp"]], "B2")
    read, _meta, _meta2, write = emu.api_requests()
    assert read.target == f"/v4/spreadsheets/{sid}/values:batchGet?ranges=Customers%21A1%3AB2"
    assert read.sent_bytes == len(read.target) and read.raw_body == b""
    assert read.response_bytes == len(json.dumps(got, indent=2, ensure_ascii=False)) + 1
    assert write.sent_bytes == len(write.target) + len(write.raw_body) > len(write.target)
    assert write.response_bytes > 0


LOOKUP = ('={"Name";ARRAYFORMULA(IF(A2:A4="",,IFERROR(VLOOKUP(A2:A4,'
          "'Customers'!$A$2:$B,2,FALSE),)))}")


def test_array_results_and_the_grids_extent_follow_every_edit(emu: SheetsEmulator,
                                                              gc: gspread.Client,
                                                              sid: str) -> None:
    """The emulator keeps its formula cells and a tab's used extent as cells change (a read
    of a long tab does not look at every cell): a read sees each edit, a failed batch's
    included."""
    def column_f() -> list[Any]:
        body = gc.http_client.request(
            "get", f"https://sheets.googleapis.com/v4/spreadsheets/{sid}",
            params={"ranges": "Customers!F1:F9", "includeGridData": "true",
                    "fields": "sheets(data(rowData(values(effectiveValue))))"}).json()
        rows = body["sheets"][0]["data"][0].get("rowData", [])
        return [(r.get("values") or [{}])[0].get("effectiveValue") for r in rows]

    def enter(cell: str, value: str) -> None:
        gc.http_client.values_update(sid, f"Customers!{cell}",
                                     params={"valueInputOption": "USER_ENTERED"},
                                     body={"values": [[value]]})

    enter("F1", LOOKUP)
    assert column_f() == [{"stringValue": "Name"}, {"stringValue": "Acme"},
                          {"stringValue": "Globex"}, {"stringValue": "Initech"}]
    enter("F1", "plain")  # no formula any more: nothing spills
    assert column_f() == [{"stringValue": "plain"}]
    enter("F7", "far")
    assert column_f()[-1] == {"stringValue": "far"} and len(column_f()) == 7
    gc.http_client.values_clear(sid, "Customers!F7")
    assert column_f() == [{"stringValue": "plain"}]
    sh = gc.open_by_key(sid)
    with pytest.raises(gspread.exceptions.APIError, match=r"requests\[1\].deleteSheet"):
        sh.batch_update({"requests": [
            {"updateCells": {"start": {"sheetId": sh.worksheet("Customers").id,
                                       "rowIndex": 0, "columnIndex": 5},
                             "rows": [{"values": [{"userEnteredValue": {
                                 "formulaValue": LOOKUP}}]}],
                             "fields": "userEnteredValue"}},
            {"deleteSheet": {"sheetId": 12345}}]})
    assert column_f() == [{"stringValue": "plain"}]  # the formula went with the batch
