"""The Google backend through real gspread + google-auth + requests against the local emulator.

What the contract suite cannot see: request counts, retries and their waits, timeouts, a
person sorting or inserting rows while a sync writes, write-then-503, error translation, and
that no credential ever reaches a log line or an error.
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from sheets_health.backends import google as google_module
from sheets_health.backends.google import GoogleBackend, spreadsheet_key
from sheets_health.backends.google_http import (
    SHEETS_SCOPE,
    Context,
    RetryPolicy,
    redact,
    translate_status,
)
from sheets_health.config import SheetConfig
from sheets_health.errors import (
    AccessDeniedError,
    ConfigError,
    NotFoundError,
    OutageError,
    SheetsHealthError,
)
from sheets_health.model import CellValue, CellWrite, Fill, RowUpdate, TabPlan, WritePlan
from sheets_health.template import TEMPLATE
from tests.contract.google_factory import seed_cell
from tests.emulator import Fault, SheetsEmulator, make_service_account_key, write_key_file

ID = ("Customer ID",)
CUSTOMERS: list[list[CellValue]] = [
    ["Customer ID", "Customer", "Health score", "Health", "My notes"],
    ["C-001", "Delta", 40, "Red", "mine"],
    ["C-002", "Alpha", 55, "Yellow", "also mine"],
    ["C-003", "Charlie", 90, "Green", None],
    ["C-004", "Bravo", 75, "Green", "not in the plan"],
]
HISTORY: list[list[CellValue]] = [["Date", "Customer ID", "Health score", "Health"]]
SYNC_LOG: list[list[CellValue]] = [["Run at", "Result"]]


@dataclass
class Env:
    emulator: SheetsEmulator
    spreadsheet_id: str
    key: dict[str, str]
    key_path: Path
    sleeps: list[float] = field(default_factory=list)

    def backend(self, spreadsheet: str | None = None, timeout: float = 10) -> GoogleBackend:
        sheet = SheetConfig(backend="google", spreadsheet=spreadsheet or self.spreadsheet_id,
                            credentials=self.key_path, api_url=self.emulator.url,
                            timeout=timeout)
        return GoogleBackend.from_config(sheet, sleep=self.sleeps.append,
                                         policy=RetryPolicy(base_delay=0.01))

    def api_calls(self) -> list[str]:
        return [str(r.method_id).removeprefix("sheets.spreadsheets.")
                for r in self.emulator.api_requests()]

    def values(self, tab: str) -> list[list[Any]]:
        return self.emulator.values(self.spreadsheet_id, tab, render="UNFORMATTED_VALUE")

    def column(self, tab: str, header: str) -> dict[str, Any]:
        """Customer ID -> the value in the column with this header."""
        rows = self.values(tab)
        col = rows[0].index(header)
        key = rows[0].index("Customer ID")
        return {r[key]: (r[col] if col < len(r) else None) for r in rows[1:] if r and r[key]}


def seed(emulator: SheetsEmulator, tabs: dict[str, list[list[CellValue]]]) -> str:
    """A spreadsheet holding ``tabs``; a tab longer than a new tab's 1,000 rows is grown."""
    spreadsheet_id = emulator.create_spreadsheet("Health", {name: [] for name in tabs})
    with emulator.lock:
        for name, rows in tabs.items():
            sheet = emulator.sheet(spreadsheet_id, name)
            if len(rows) + 10 > 1000:
                sheet.resize(rows=len(rows) + 10)
            for r, values in enumerate(rows):
                for c, value in enumerate(values):
                    cell = seed_cell(value)
                    if cell is not None:
                        sheet.put(r, c, cell)
    return spreadsheet_id


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    with SheetsEmulator() as emulator:
        key = make_service_account_key(emulator)
        key_path = tmp_path / "key.json"
        write_key_file(key_path, key)
        spreadsheet_id = seed(emulator, {"Customers": CUSTOMERS, "History": HISTORY,
                                         "Sync log": SYNC_LOG})
        yield Env(emulator, spreadsheet_id, key, key_path)


def score_plan(scores: dict[str, tuple[int, int]], run_at: dt.datetime | None = None,
               history: bool = False) -> WritePlan:
    """Health score + Health (with fill) for customers: id -> (sheet row, score)."""
    updates = tuple(
        RowUpdate(row, (cid,), {"Health score": CellWrite(score),
                                "Health": CellWrite("Green" if score >= 70 else "Red",
                                                    Fill.GREEN if score >= 70 else Fill.RED)})
        for cid, (row, score) in scores.items())
    tabs = [TabPlan("Customers", ID, updates=updates)]
    if history:
        appends = tuple({"Date": CellWrite(dt.date(2026, 3, 31)), "Customer ID": CellWrite(cid),
                         "Health score": CellWrite(score)} for cid, (_r, score) in scores.items())
        tabs.append(TabPlan("History", ("Date", "Customer ID"), appends=appends))
    if run_at is not None:
        tabs.append(TabPlan("Sync log", appends=({"Run at": CellWrite(run_at),
                                                  "Result": CellWrite("ok")},)))
    return WritePlan(tuple(tabs))


PLAN = {"C-001": (2, 81), "C-002": (3, 12), "C-003": (4, 77)}
WANT = {"C-001": 81, "C-002": 12, "C-003": 77, "C-004": 75}


# ----------------------------------------------------------------------------- round trip


def test_read_then_apply_round_trip_in_one_read_and_two_apply_requests(env: Env) -> None:
    backend = env.backend()
    tables = backend.read(["Customers", "History", "sync LOG"])
    assert env.api_calls() == ["get"]
    assert set(tables) == {"Customers", "History", "sync LOG"}
    customers = tables["Customers"]
    assert customers.headers == tuple(CUSTOMERS[0])
    assert customers.rows[0] == ("C-001", "Delta", 40, "Red", "mine")
    assert customers.row_numbers == (2, 3, 4, 5)
    query = env.emulator.api_requests()[0].query
    assert query["includeGridData"] == ["true"] and "effectiveValue" in query["fields"][0]

    env.emulator.reset()
    result = backend.apply(score_plan(PLAN, run_at=dt.datetime(2026, 3, 31, 9, 0), history=True))
    assert env.api_calls() == ["batchUpdate"]  # the read says where every row is: 1 write
    assert result.cells_written == 6 + 3 * 3 + 2 and result.rows_appended == 4
    assert not result.repaired and not result.skipped
    assert env.column("Customers", "Health score") == WANT
    assert env.column("Customers", "My notes")["C-001"] == "mine"

    env.emulator.reset()
    again = backend.read(["Customers", "History", "Sync log"])
    assert env.api_calls() == ["get"]
    assert again["Customers"].colors[(2, 3)] == Fill.GREEN.value
    assert again["History"].rows[0] == (dt.date(2026, 3, 31), "C-001", 81, None)
    assert again["Sync log"].rows == ((dt.datetime(2026, 3, 31, 9, 0), "ok"),)


def test_a_missing_tab_costs_one_title_lookup_once(env: Env) -> None:
    backend = env.backend()
    assert set(backend.read(["Customers", "Scorecard"])) == {"Customers"}
    calls = env.api_calls()
    assert calls[0] == "get" and len(calls) == 3  # tried, looked up the titles, read
    env.emulator.reset()
    assert set(backend.read(["Customers", "Scorecard"])) == {"Customers"}
    assert env.api_calls() == ["get"]  # titles are known now


def test_only_value_and_background_are_touched(env: Env) -> None:
    with env.emulator.lock:
        sheet = env.emulator.sheet(env.spreadsheet_id, "Customers")
        cell = copy.deepcopy(sheet.get(1, 2))
        cell["userEnteredFormat"] = {"textFormat": {"bold": True},
                                     "numberFormat": {"type": "NUMBER", "pattern": "0.0"}}
        sheet.put(1, 2, cell)
    env.backend().apply(score_plan({"C-001": (2, 81)}))
    stored = env.emulator.cell(env.spreadsheet_id, "Customers", "C2")
    assert stored["userEnteredValue"] == {"numberValue": 81}
    assert stored["userEnteredFormat"]["textFormat"]["bold"] is True
    assert stored["userEnteredFormat"]["numberFormat"]["pattern"] == "0.0"
    body = next(r.body for r in env.emulator.api_requests() if r.method == "POST")
    masks = {req["updateCells"]["fields"] for req in body["requests"]}
    assert masks == {"userEnteredValue", "userEnteredFormat.backgroundColor,userEnteredValue"}


def test_text_starting_with_equals_stays_text(env: Env) -> None:
    plan = WritePlan((TabPlan("Customers", ID, updates=(
        RowUpdate(2, ("C-001",), {"My notes": CellWrite("=SUM(A1:A3)"),
                                  "Customer": CellWrite("00123")}),)),))
    env.backend().apply(plan)
    stored = env.emulator.cell(env.spreadsheet_id, "Customers", "E2")
    assert stored["userEnteredValue"] == {"stringValue": "=SUM(A1:A3)"}
    assert env.emulator.cell(env.spreadsheet_id, "Customers", "B2")["userEnteredValue"] == {
        "stringValue": "00123"}


def test_open_by_url(env: Env) -> None:
    url = f"https://docs.google.com/spreadsheets/d/{env.spreadsheet_id}/edit#gid=0"
    assert spreadsheet_key(url) == env.spreadsheet_id
    assert "Customers" in env.backend(spreadsheet=url).read(["Customers"])
    with pytest.raises(ConfigError, match="not a Google Sheets URL"):
        spreadsheet_key("https://example.com/nothing")


def test_token_request_asks_for_the_spreadsheets_scope_only(env: Env) -> None:
    env.backend().read(["Customers"])
    token = next(r for r in env.emulator.requests if r.path == "/token")
    claims_part = token.body["assertion"].split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(claims_part + "=" * (-len(claims_part) % 4)))
    assert claims["scope"] == SHEETS_SCOPE
    assert all(r.path.startswith("/v4/spreadsheets/") for r in env.emulator.api_requests())
    # that nothing goes anywhere else (iamcredentials...) is in test_library_patches.py


def test_large_plans_split_under_the_payload_limit(env: Env, monkeypatch: pytest.MonkeyPatch
                                                   ) -> None:
    monkeypatch.setattr(google_module, "MAX_PAYLOAD", 600)
    result = env.backend().apply(score_plan(PLAN, run_at=dt.datetime(2026, 3, 31, 9)))
    posts = [r for r in env.emulator.api_requests() if r.method == "POST"]
    assert len(posts) > 1 and result.cells_written == 8
    assert env.column("Customers", "Health score") == WANT
    assert len(env.values("Sync log")) == 2


def test_many_appended_rows_go_in_bounded_chunks_in_order(
        env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    """10,000 customers' History rows in one appendCells request passed 2 MB: appends are
    chunked so every request body stays under the limit, and the rows land once, in order."""
    monkeypatch.setattr(google_module, "APPEND_CHUNK", 10)
    monkeypatch.setattr(google_module, "MAX_PAYLOAD", 3000)
    day = dt.date(2026, 3, 31)
    rows = tuple({"Date": CellWrite(day), "Customer ID": CellWrite(f"X-{i:03d}"),
                  "Health score": CellWrite(i)} for i in range(45))
    plan = WritePlan((TabPlan("History", ("Date", "Customer ID"), appends=rows),))
    result = env.backend().apply(plan)
    posts = [r for r in env.emulator.api_requests() if r.method == "POST"]
    assert result.rows_appended == 45
    assert len(posts) >= 5
    assert all(len(json.dumps(r.body, separators=(",", ":"))) <= 3000 for r in posts)
    history = env.values("History")
    assert [r[1] for r in history[-45:]] == [f"X-{i:03d}" for i in range(45)]
    assert len(history) == 1 + len(HISTORY) - 1 + 45


# ----------------------------------------------------------------------------- people editing


def test_sort_between_read_and_write_puts_no_score_on_the_wrong_customer(env: Env) -> None:
    backend = env.backend()
    backend.read(["Customers"])
    env.emulator.reset()
    env.emulator.on_request(1, lambda emu, _r: emu.sort_rows(env.spreadsheet_id, "Customers",
                                                             "Customer"))
    result = backend.apply(score_plan(PLAN))
    # write; its response shows moved keys; re-read the key columns; repair
    assert env.api_calls() == ["batchUpdate", "get", "batchUpdate"]
    assert env.column("Customers", "Health score") == WANT  # C-004 restored, not blanked
    assert env.column("Customers", "Health")["C-004"] == "Green"
    assert env.column("Customers", "My notes")["C-004"] == "not in the plan"
    assert any("during the write" in line for line in result.repaired)
    colors = backend.read(["Customers"])["Customers"].colors
    rows = {r[0]: n for r, n in zip(backend.read(["Customers"])["Customers"].rows,
                                    backend.read(["Customers"])["Customers"].row_numbers,
                                    strict=True)}
    assert colors[(rows["C-002"], 3)] == Fill.RED.value
    assert colors[(rows["C-001"], 3)] == Fill.GREEN.value


def test_sort_long_before_the_write_is_repaired_from_the_writes_own_response(env: Env
                                                                            ) -> None:
    """No key re-check before the write: the write's response shows which rows it wrote
    hold other customers now, and one repair puts every cell back where it belongs."""
    backend = env.backend()
    backend.read(["Customers"])
    env.emulator.sort_rows(env.spreadsheet_id, "Customers", "Customer", descending=True)
    env.emulator.reset()
    result = backend.apply(score_plan(PLAN))
    assert env.api_calls() == ["batchUpdate", "get", "batchUpdate"]
    assert env.column("Customers", "Health score") == WANT
    assert env.column("Customers", "My notes")["C-004"] == "not in the plan"
    assert len(result.repaired) == 2  # C-001 (Delta) stays in row 2


def test_row_inserted_between_read_and_write(env: Env) -> None:
    backend = env.backend()
    backend.read(["Customers"])
    env.emulator.reset()
    env.emulator.on_request(1, lambda emu, _r: emu.insert_rows(
        env.spreadsheet_id, "Customers", 3, [["C-NEW", "New customer"]]))
    result = backend.apply(score_plan(PLAN))
    scores = env.column("Customers", "Health score")
    assert scores == {**WANT, "C-NEW": None}
    assert env.column("Customers", "Health")["C-NEW"] is None
    assert result.repaired


# ----------------------------------------------------------------------------- faults


def test_429_three_times_honours_retry_after_then_succeeds(env: Env) -> None:
    env.emulator.faults.add(Fault("rate_limit", method="GET", times=3, retry_after=7))
    assert "Customers" in env.backend().read(["Customers"])
    assert env.sleeps == [7, 7, 7]
    assert env.api_calls() == ["get"] * 4


def test_429_on_a_write_is_retried(env: Env) -> None:
    env.emulator.faults.add(Fault("rate_limit", method="POST", times=1, retry_after=2))
    env.backend().apply(score_plan(PLAN, run_at=dt.datetime(2026, 3, 31, 9)))
    assert env.sleeps == [2]
    assert len(env.values("Sync log")) == 2


def test_503_then_success_backs_off_with_jitter(env: Env) -> None:
    env.emulator.faults.add(Fault("unavailable", method="GET", times=1))
    env.backend().read(["Customers"])
    assert env.api_calls() == ["get", "get"]
    assert len(env.sleeps) == 1 and 0 <= env.sleeps[0] <= 0.01


def test_retries_are_bounded(env: Env) -> None:
    env.emulator.faults.add(Fault("internal", method="GET", times=None))
    with pytest.raises(OutageError, match="unavailable"):
        env.backend().read(["Customers"])
    assert len(env.api_calls()) == 5 and len(env.sleeps) == 4
    assert all(s <= 0.01 * 2 ** i for i, s in enumerate(env.sleeps))


@pytest.mark.parametrize("kind", ["apply_then_503", "unavailable", "drop"])
def test_a_failed_write_is_retried_without_duplicating_appends(env: Env, kind: str) -> None:
    backend = env.backend()
    backend.read(["Customers"])
    env.emulator.reset()
    env.emulator.faults.add(Fault(kind, method="POST", path=":batchUpdate", times=1))
    result = backend.apply(score_plan(PLAN, run_at=dt.datetime(2026, 3, 31, 9), history=True))
    assert len(env.values("Sync log")) == 2  # header + exactly one run
    assert len(env.values("History")) == 4
    assert env.column("Customers", "Health score") == WANT
    assert result.rows_appended == 4 and len(env.sleeps) == 1
    # new rows sit at positions fixed from the read: the same write is simply sent again,
    # with no read to find out whether it landed
    assert [r.method for r in env.emulator.api_requests()] == ["GET", "POST", "POST"]


def test_stall_times_out_and_is_retried(env: Env) -> None:
    env.emulator.faults.add(Fault("stall", method="GET", times=1, seconds=1.5))
    backend = env.backend(timeout=0.5)
    assert "Customers" in backend.read(["Customers"])
    assert len(env.sleeps) == 1
    assert [r.status for r in backend.records] == [None, 200]


def test_dropped_connection_on_a_read_is_retried(env: Env) -> None:
    env.emulator.faults.add(Fault("drop", method="GET", times=1))
    assert "Customers" in env.backend().read(["Customers"])
    assert len(env.sleeps) == 1


# ----------------------------------------------------------------------------- errors


def test_403_fails_at_once_naming_the_account_to_share_with(env: Env) -> None:
    env.emulator.unshare_all(env.spreadsheet_id)
    with pytest.raises(AccessDeniedError) as info:
        env.backend().read(["Customers"])
    assert env.api_calls() == ["get"] and env.sleeps == []
    assert env.key["client_email"] in str(info.value) and "Editor" in str(info.value)
    assert info.value.exit_code == 4


def test_404_says_the_id_looks_wrong(env: Env) -> None:
    with pytest.raises(NotFoundError, match="looks wrong") as info:
        env.backend(spreadsheet="1AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdEF").read(["Customers"])
    assert env.api_calls() == ["get"] and env.sleeps == []
    assert "/d/" in str(info.value)


def test_a_revoked_key_is_an_access_error_about_the_key(env: Env, tmp_path: Path) -> None:
    revoked = make_service_account_key(env.emulator, register=False)
    write_key_file(env.key_path, revoked)
    with pytest.raises(AccessDeniedError, match="key was rejected") as info:
        env.backend().read(["Customers"])
    assert "PRIVATE KEY" not in str(info.value) and env.api_calls() == []


@pytest.mark.parametrize(
    ("status", "message", "detail", "kind", "text"),
    [
        (400, "Unable to parse range: Nope", "", ConfigError, "Unable to parse range: Nope"),
        (401, "Request had invalid authentication credentials.", "", AccessDeniedError, "key"),
        (403, "The caller does not have permission", "", AccessDeniedError, "bot@x.iam"),
        (403, "Google Sheets API has not been used in project 1 before or it is disabled.",
         "SERVICE_DISABLED", AccessDeniedError, "enable the Google Sheets API"),
        (404, "Requested entity was not found.", "", NotFoundError, "looks wrong"),
        (503, "The service is currently unavailable.", "", OutageError, "unavailable"),
    ],
)
def test_google_errors_translate_to_typed_errors(
    status: int, message: str, detail: str, kind: type[SheetsHealthError], text: str
) -> None:
    error = translate_status(status, message, detail, Context("Google Sheet x", "x", "bot@x.iam"))
    assert isinstance(error, kind) and text in str(error)


def test_missing_credentials_file_is_an_access_problem(env: Env, tmp_path: Path) -> None:
    sheet = SheetConfig(backend="google", spreadsheet=env.spreadsheet_id,
                        credentials=tmp_path / "nope.json", api_url=env.emulator.url)
    with pytest.raises(AccessDeniedError, match="does not exist") as denied:
        GoogleBackend.from_config(sheet)
    assert denied.value.exit_code == 4
    assert str(tmp_path / "nope.json") in str(denied.value) and env.emulator.requests == []


def test_no_credential_in_any_log_line_or_error(env: Env, caplog: pytest.LogCaptureFixture
                                                ) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("google", "google.auth", "urllib3", "gspread", "sheets_health"):
        caplog.set_level(logging.DEBUG, logger=name)
    backend = env.backend()
    errors: list[str] = []
    env.emulator.faults.add(Fault("rate_limit", method="GET", times=1))
    backend.read(["Customers"])
    backend.apply(score_plan(PLAN, run_at=dt.datetime(2026, 3, 31, 9)))
    env.emulator.unshare_all(env.spreadsheet_id)
    with pytest.raises(AccessDeniedError) as denied:
        backend.read(["Customers"])
    errors += [str(denied.value), repr(denied.value.args), str(denied.value.__cause__)]
    write_key_file(env.key_path, make_service_account_key(env.emulator, register=False))
    with pytest.raises(AccessDeniedError) as rejected:
        env.backend().read(["Customers"])
    errors += [str(rejected.value), str(rejected.value.__cause__)]
    token = backend.http.auth.token
    assert token and len(caplog.records) > 3
    private_key_body = env.key["private_key"].splitlines()[1]
    lines = [r.getMessage() + repr(r.__dict__) for r in caplog.records] + errors
    for line in lines:
        assert token not in line
        assert "Bearer " not in line
        assert private_key_body not in line and "PRIVATE KEY-----" not in line


def test_redact_scrubs_tokens_and_keys() -> None:
    text = ('Authorization: Bearer ya29.abc-DEF_123 {"access_token": "ya29.zzz", '
            '"private_key": "-----BEGIN PRIVATE KEY-----\\nMIIE\\n-----END PRIVATE KEY-----"}')
    clean = redact(text)
    assert "ya29" not in clean and "MIIE" not in clean and "[redacted]" in clean


# ----------------------------------------------------------------------------- init


def test_init_twice_is_idempotent(env: Env) -> None:
    backend = env.backend()
    changes = backend.init(TEMPLATE)
    assert "added tab Scorecard" in changes and "added tab Settings" in changes
    assert "added column CSM to Customers" in changes
    assert "froze the header row of Customers" in changes
    assert "added dropdown Gut RAG to Customers" not in changes  # a new column: no word
    env.emulator.reset()
    assert backend.init(TEMPLATE) == []
    assert "batchUpdate" not in env.api_calls()
    assert env.backend().init(TEMPLATE) == []  # a fresh backend (no cached titles) too
    gut = env.emulator.cell(env.spreadsheet_id, "Customers", "K2")
    assert env.values("Customers")[0][10] == "Gut RAG"
    assert gut["dataValidation"]["condition"]["type"] == "ONE_OF_LIST"
    assert env.emulator.sheet(env.spreadsheet_id, "Customers").properties[
        "gridProperties"]["frozenRowCount"] == 1


def test_init_retried_after_write_then_503_adds_nothing_twice(env: Env) -> None:
    env.emulator.faults.add(Fault("apply_then_503", method="POST", times=1))
    changes = env.backend().init(TEMPLATE)
    assert "added tab Scorecard" in changes
    titles = env.emulator.spreadsheet(env.spreadsheet_id).titles()
    assert sorted(titles) == sorted({"Customers", "History", "Sync log", "Scorecard", "Settings",
                                     "Alerts", "Summary", "Snapshots", "Calibration"})
    assert env.values("Customers")[0].count("Gut RAG") == 1
