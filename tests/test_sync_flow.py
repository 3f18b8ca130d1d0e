"""The Google sync's request flow under faults and people, end to end: real syncs (gspread +
google-auth + requests) against the Sheets API emulator.

Three ways a sync used to damage a sheet: a slow write retried after the client's timeout
(every History and Sync-log row twice), a person sorting Customers right before the write with
every request after it failing (scores on other customers' rows), and two machines syncing at
the same moment (every History row twice).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from sheets_health.errors import SheetsHealthError
from tests.emulator import Fault, FaultKind, SheetsEmulator
from tests.emulator.server import RecordedRequest
from tests.test_bounded_history import DAY0, Sheet, make_sheet

# the client's timeout, and a write held up well past it (room for a busy test machine)
TIMEOUT = 5.0
SLOW = 12.0


@pytest.fixture
def emulator(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[SheetsEmulator]:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    with SheetsEmulator() as emu:
        yield emu


def history_keys(sheet: Sheet) -> Counter[tuple[Any, Any]]:
    rows = sheet.values("History")
    date, cid = rows[0].index("Date"), rows[0].index("Customer ID")
    return Counter((r[date], r[cid]) for r in rows[1:] if len(r) > cid and r[cid] != "")


def log_results(sheet: Sheet) -> list[str]:
    rows = sheet.values("Sync log")
    col = rows[0].index("Result")
    return [str(r[col]) for r in rows[1:] if len(r) > col and r[col] != ""]


def shown(sheet: Sheet) -> dict[str, tuple[Any, Any, str | None]]:
    """Customer ID -> (Health score, Health, Health's colour) as a person sees them."""
    rows = sheet.values("Customers")
    cols = {h: i for i, h in enumerate(rows[0])}
    out = {}
    for n, r in enumerate(rows[1:], start=2):
        r = r + [""] * (len(rows[0]) - len(r))
        cell = sheet.emulator.cell(sheet.sid, "Customers", f"{_letter(cols['Health'])}{n}")
        color = ((cell.get("effectiveFormat") or {}).get("backgroundColor"))
        out[str(r[cols["Customer ID"]])] = (r[cols["Health score"]], r[cols["Health"]],
                                            _hex(color))
    return out


def _letter(col: int) -> str:
    return chr(65 + col)


def _hex(color: dict[str, float] | None) -> str | None:
    if not color:
        return None
    text = "".join(f"{round(color.get(k, 0.0) * 255):02X}" for k in ("red", "green", "blue"))
    return None if text == "FFFFFF" else text


# the write applied at once and answered late, or held up and applied after the client's retry
@pytest.mark.parametrize("other_starts", ["before this run's claim", "after this run's claim"])
def test_two_machines_syncing_at_once_write_history_once(
        emulator: SheetsEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        other_starts: str) -> None:
    """A second machine (its own cache folder, so its own local lock) syncs the same sheet
    while this run is between its read and its write: exactly one of the two writes, the
    other exits 6 naming the run that holds the sheet, and History gets each row once."""
    sheet = make_sheet(emulator, tmp_path, 20)
    sheet.sync(DAY0)
    other: list[BaseException | None] = []
    posts: list[RecordedRequest] = []
    trigger = 1 if other_starts == "before this run's claim" else 2

    def second_machine(emu: SheetsEmulator, rec: RecordedRequest) -> None:
        if rec.method != "POST" or other:
            return
        posts.append(rec)
        if len(posts) < trigger:
            return
        other.append(None)
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "other-machine"))
        try:
            sheet.sync(DAY0 + dt.timedelta(days=1))
        except SheetsHealthError as exc:
            other[0] = exc
        finally:
            monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))

    emulator.before_request(second_machine)
    mine: SheetsHealthError | None = None
    try:
        sheet.sync(DAY0 + dt.timedelta(days=1))
    except SheetsHealthError as exc:
        mine = exc
    keys = history_keys(sheet)
    assert len(keys) == 40 and set(keys.values()) == {1}
    results = log_results(sheet)
    assert results.count("ok") == 2 and not any(r.startswith("running") for r in results)
    loser = mine if other_starts == "before this run's claim" else other[0]
    assert isinstance(loser, SheetsHealthError) and loser.exit_code == 6
    assert "holds this sheet until" in loser.message or "after this run read" in loser.message
    winner = other[0] if loser is mine else mine
    assert winner is None
    assert results.count("locked") == (1 if loser is mine else 0)


@pytest.mark.parametrize("request_held", ["claim", "write"])
@pytest.mark.parametrize("kind", [FaultKind.APPLY_THEN_STALL, FaultKind.STALL])
def test_a_slow_write_retried_after_the_timeout_duplicates_no_row(
        emulator: SheetsEmulator, tmp_path: Path, kind: FaultKind, request_held: str) -> None:
    """A batchUpdate held up past the client's timeout (the claim, or the write) is sent
    again and may land twice: no History or Sync-log row twice, and a second copy of the
    claim seen at once is deleted by the same run, one that lands after the run finished is
    marked `duplicate` by the next run."""
    sheet = make_sheet(emulator, tmp_path, 20)
    sheet.config = replace(sheet.config, sheet=replace(sheet.config.sheet, timeout=TIMEOUT))
    sheet.sync(DAY0)  # bookmarks in place: the steady state
    nth = 1 if request_held == "claim" else 2
    emulator.faults.add(Fault(kind, method="POST", path=":batchUpdate", nth=nth, times=1,
                              seconds=SLOW))
    sheet.sync(DAY0 + dt.timedelta(days=1))
    time.sleep(SLOW + 0.5)  # the held-up request has landed by now
    assert any(r.status is None for r in sheet.runs[-1])  # the client did time out
    keys = history_keys(sheet)
    assert len(keys) == 40 and set(keys.values()) == {1}
    assert log_results(sheet)[:2] == ["ok", "ok"]
    emulator.faults.clear()
    sheet.sync(DAY0 + dt.timedelta(days=1, hours=1))  # and the next clean run agrees
    results = log_results(sheet)
    assert set(history_keys(sheet).values()) == {1}
    assert [r for r in results if r != "duplicate"] == ["ok"] * 3
    copies = results.count("duplicate")
    assert copies == (1 if request_held == "claim" and kind is FaultKind.STALL else 0)


def test_a_sort_right_before_the_write_then_an_outage_shows_no_score_on_another_customer(
        emulator: SheetsEmulator, tmp_path: Path) -> None:
    calm = make_sheet(emulator, tmp_path, 30)
    calm.sync(DAY0)
    calm.sync(DAY0 + dt.timedelta(days=1))
    sheet = make_sheet(emulator, tmp_path, 30)  # the same customers and scores
    sheet.sync(DAY0)
    for cid, score in (("C0001", 0), ("C0002", 10)):  # something to write on the next run
        sheet.set_score(cid, score)
        calm.set_score(cid, score)
    calm.sync(DAY0 + dt.timedelta(days=1, hours=1))
    want = shown(calm)
    sid = sheet.sid
    state = {"armed": False}

    posts = []

    def person_then_outage(emu: SheetsEmulator, rec: RecordedRequest) -> None:
        if rec.method == "POST" and sid in rec.path:
            posts.append(rec)
        if len(posts) == 2 and not state["armed"]:  # the write: after the sync's claim
            state["armed"] = True
            emu.sort_rows(sid, "Customers", "Customer", descending=True)
        elif state["armed"] and not len(emu.faults):
            emu.faults.add(Fault(FaultKind.UNAVAILABLE, times=None))

    emulator.before_request(person_then_outage)
    # with a repair write the sync fails; with nothing left to send after the write it is done
    with contextlib.suppress(SheetsHealthError):
        sheet.sync(DAY0 + dt.timedelta(days=1, hours=1))
    assert state["armed"]
    emulator.faults.clear()
    now = shown(sheet)
    ids = [r[0] for r in sheet.values("Customers")[1:]]
    assert ids == sorted(ids, key=lambda c: f"Customer {int(c[1:])}", reverse=True)
    wrong = {cid: (now[cid], want[cid]) for cid in want if now[cid] != want[cid]}
    assert wrong == {}


@pytest.mark.parametrize("kind", [FaultKind.APPLY_THEN_STALL, FaultKind.STALL,
                                  FaultKind.APPLY_THEN_503, FaultKind.DROP])
def test_a_write_that_deletes_old_rows_is_never_applied_twice(
        emulator: SheetsEmulator, tmp_path: Path, kind: FaultKind) -> None:
    """Retention deletes the oldest rows in the same write: a resent deletion would delete
    more and move the new rows, so it is read back first, then resent without it."""
    sheet = make_sheet(emulator, tmp_path, 10, window=1, settings=[["Sync log rows kept", 2],
                                                                   ["History days kept", 2]])
    sheet.config = replace(sheet.config, sheet=replace(sheet.config.sheet, timeout=TIMEOUT))
    for day in range(3):
        sheet.sync(DAY0 + dt.timedelta(days=day))
    emulator.faults.add(Fault(kind, method="POST", path=":batchUpdate", times=1, seconds=SLOW))
    sheet.sync(DAY0 + dt.timedelta(days=3))
    time.sleep(SLOW + 0.5)  # a held-up write has landed by now
    emulator.faults.clear()
    sheet.sync(DAY0 + dt.timedelta(days=4))
    keys = history_keys(sheet)
    assert set(keys.values()) == {1}
    days = sorted({day for day, _cid in keys})
    assert len(keys) == 10 * len(days) and days[-1] == 46086  # 2026-03-05, every customer
    rows = sheet.values("Sync log")
    run_at = [r[0] for r in rows[1:] if r]
    assert len(run_at) == len(set(run_at)) and len(run_at) <= 3 and log_results(sheet)[-1] == "ok"


def test_the_emulator_refuses_a_body_over_googles_limit_like_google() -> None:
    import requests

    with SheetsEmulator(require_auth=False) as emu:
        sid = emu.create_spreadsheet("x", {"Sheet1": []})
        url = f"{emu.url}/v4/spreadsheets/{sid}:batchUpdate"
        big = {"requests": [{"updateCells": {"range": {"sheetId": 0}, "fields": "note",
                                             "rows": [{"values": [{"note": "x" * 10_485_760}]}]}}]}
        answer = requests.post(url, json=big, timeout=30)
        assert answer.status_code == 400
        assert answer.json()["error"]["message"] == (
            "Request payload size exceeds the limit: 10485760 bytes.")
        small = {"requests": [{"updateCells": {"range": {"sheetId": 0}, "fields": "note",
                                               "rows": [{"values": [{"note": "x"}]}]}}]}
        assert requests.post(url, json=small, timeout=30).status_code == 200
