"""No credential text on any error path: every failure mode the CLI has, driven with a known
private key, access token and database password, leaves none of them in stdout, stderr, the
`--json` line, a Sync-log row, a log record or the exception the library raised.

Google runs go through the real gspread + google-auth + requests stack against the emulator,
so the token is the one the emulator really issued for this run.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from sheets_health import commands, sync
from sheets_health.backends import google_http
from sheets_health.cli import main
from sheets_health.config import load_config
from sheets_health.errors import SheetsHealthError
from sheets_health.lock import sheet_lock
from sheets_health.model import CellValue
from tests.emulator import (
    Fault,
    FaultKind,
    SheetsEmulator,
    make_service_account_key,
    write_key_file,
)
from tests.sheets import valid_tabs
from tests.test_google_backend import seed

PASSWORD = "Hunter2-s3cret-pw"
DB_URL = f"postgresql+psycopg://cs:{PASSWORD}@127.0.0.1:9/warehouse?connect_timeout=2"
BROKEN_KEY = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7fakeKEYbody"


@dataclass
class Case:
    config: Path
    emulator: SheetsEmulator
    spreadsheet_id: str | None
    key: dict[str, str]

    def secrets(self) -> list[str]:
        """The private key's body lines, its id, every token issued, the password."""
        body = [line for line in self.key["private_key"].splitlines()
                if line and not line.startswith("-----")]
        with self.emulator.auth.lock:
            tokens = list(self.emulator.auth.tokens)
        return [*body, self.key["private_key_id"], *tokens, PASSWORD, BROKEN_KEY]

    def sync_log(self) -> list[list[CellValue]]:
        if self.spreadsheet_id is None:
            return []
        rows: list[list[CellValue]] = self.emulator.values(self.spreadsheet_id, "Sync log")
        return rows


Setup = Callable[[Case, pytest.MonkeyPatch], contextlib.AbstractContextManager[Any] | None]

SOURCE = f"""
[sources.warehouse]
kind = "sql"
url = "{DB_URL}"
table = "tickets"
id_column = "customer_id"

[metrics."Open tickets"]
source = "warehouse"
column = "open"
"""


def _write_config(case: Case, extra: str = "", spreadsheet: str | None = None,
                  credentials: str = "key.json") -> None:
    sid = spreadsheet or case.spreadsheet_id
    case.config.write_text(
        f'[sheet]\nbackend = "google"\nspreadsheet = "{sid}"\ncredentials = "{credentials}"\n'
        f'api_url = "{case.emulator.url}"\ntimeout = 2\n{extra}', encoding="utf-8")


def _bad_config(case: Case, _mp: pytest.MonkeyPatch) -> None:
    _write_config(case, SOURCE.replace('kind = "sql"', 'kind = "sqll"')
                  + f'\n[sources.other]\nkind = "sql"\nurl = "{DB_URL}"\ntable = 7\n')


def _missing_env(case: Case, mp: pytest.MonkeyPatch) -> None:
    mp.delenv("WAREHOUSE_URL", raising=False)
    mp.setenv("WAREHOUSE_PASSWORD", PASSWORD)
    _write_config(case, SOURCE.replace(f'"{DB_URL}"', '"${WAREHOUSE_URL}"'))


def _bad_key(case: Case, _mp: pytest.MonkeyPatch) -> None:
    broken = {**case.key, "private_key": "-----BEGIN PRIVATE KEY-----\n" + BROKEN_KEY
              + "\n-----END PRIVATE KEY-----\n"}
    write_key_file(case.config.parent / "broken.json", broken)
    _write_config(case, credentials="broken.json")


def _revoked_key(case: Case, _mp: pytest.MonkeyPatch) -> None:
    case.emulator.auth.keys.pop(case.key["client_email"])


def _unauthenticated(case: Case, _mp: pytest.MonkeyPatch) -> None:
    """Every token stops working before each request: 401 on every call."""
    case.emulator.before_request(lambda emu, _r: emu.auth.tokens.clear())


def _forbidden(case: Case, _mp: pytest.MonkeyPatch) -> None:
    assert case.spreadsheet_id
    case.emulator.unshare_all(case.spreadsheet_id)


def _not_found(case: Case, _mp: pytest.MonkeyPatch) -> None:
    _write_config(case, spreadsheet="1NoSuchSpreadsheet0000000000000000000000000")


def _outage(case: Case, _mp: pytest.MonkeyPatch) -> None:
    case.emulator.faults.add(Fault(FaultKind.UNAVAILABLE, times=None))


def _permission_lost_mid_run(case: Case, _mp: pytest.MonkeyPatch) -> None:
    assert case.spreadsheet_id
    sid = case.spreadsheet_id
    case.emulator.before_request(
        lambda emu, rec: emu.unshare_all(sid) if rec.method == "POST" else None)


def _bad_input(case: Case, _mp: pytest.MonkeyPatch) -> None:
    assert case.spreadsheet_id
    case.emulator.set_value(case.spreadsheet_id, "Customers", "H2", "lots")


def _refused(case: Case, _mp: pytest.MonkeyPatch) -> None:
    assert case.spreadsheet_id
    log = case.emulator.sheet(case.spreadsheet_id, "Sync log")
    for col, value in enumerate([46000, "sync", 9, 9, 0, 10, "ok", "", 0]):
        log.put(1, col, {"userEnteredValue": {"numberValue" if isinstance(value, int)
                                              else "stringValue": value}})


def _locked(case: Case, _mp: pytest.MonkeyPatch) -> contextlib.AbstractContextManager[Any]:
    return sheet_lock(load_config(case.config))


def _internal(case: Case, mp: pytest.MonkeyPatch) -> None:
    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError(f"lost {DB_URL} while scoring")

    mp.setattr(sync, "score_customers", broken)


def _source_down(case: Case, _mp: pytest.MonkeyPatch) -> None:
    assert case.spreadsheet_id
    case.emulator.set_value(case.spreadsheet_id, "Scorecard", "A4", "Open tickets")
    for col, value in zip("BCDEFG", ["Support", "linear", 5, 0, 1, 1], strict=True):
        case.emulator.set_value(case.spreadsheet_id, "Scorecard", f"{col}4", value)
    _write_config(case, SOURCE)


CASES: dict[str, tuple[Setup, int]] = {
    "bad-config": (_bad_config, 2),
    "missing-env-var": (_missing_env, 2),
    "bad-key": (_bad_key, 4),
    "revoked-key": (_revoked_key, 4),
    "401": (_unauthenticated, 4),
    "403": (_forbidden, 4),
    "404": (_not_found, 2),
    "outage": (_outage, 3),
    "permission-lost-mid-run": (_permission_lost_mid_run, 4),
    "bad-input": (_bad_input, 2),
    "refused": (_refused, 5),
    "locked": (_locked, 6),
    "internal-error": (_internal, 1),
    "source-down-password-in-url": (_source_down, 3),
}


@pytest.fixture(scope="module")
def emulator() -> Iterator[SheetsEmulator]:
    with SheetsEmulator() as emu:
        yield emu


@pytest.fixture
def case(emulator: SheetsEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
         ) -> Iterator[Case]:
    monkeypatch.setattr(google_http.time, "sleep", lambda _seconds: None)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    emulator.reset()
    emulator.faults.clear()
    key = make_service_account_key(emulator)
    write_key_file(tmp_path / "key.json", key)
    sid = seed(emulator, valid_tabs())
    found = Case(tmp_path / "sheets-health.toml", emulator, sid, key)
    _write_config(found)
    yield found
    with emulator.lock:
        emulator._hooks.clear()
    emulator.faults.clear()


def _leaks(texts: dict[str, str], secrets: list[str]) -> dict[str, list[str]]:
    return {where: [s[:12] + "…" for s in secrets if s and s in text]
            for where, text in texts.items() if any(s and s in text for s in secrets)}


@pytest.mark.parametrize("name", list(CASES))
def test_no_secret_on_any_error_path(name: str, case: Case, monkeypatch: pytest.MonkeyPatch,
                                     caplog: pytest.LogCaptureFixture) -> None:
    setup, exit_code = CASES[name]
    held = setup(case, monkeypatch)
    caplog.set_level(logging.DEBUG)
    with held if held is not None else contextlib.nullcontext():
        plain = CliRunner().invoke(main, ["--config", str(case.config), "sync"])
        as_json = CliRunner().invoke(main, ["--config", str(case.config), "--json", "sync"])
        debug = CliRunner().invoke(main, ["--config", str(case.config), "--debug", "sync"])
        with pytest.raises(Exception) as raised:
            commands.sync(case.config, now=dt.datetime(2026, 11, 22, 9, 30))
    assert (plain.exit_code, as_json.exit_code, debug.exit_code) == (exit_code,) * 3, \
        plain.output
    record = json.loads(as_json.stdout)
    assert (record["ok"], record["exit_code"]) == (False, exit_code)
    exc = raised.value
    texts = {
        "stdout": plain.stdout, "stderr": plain.stderr,
        "json stdout": as_json.stdout, "json stderr": as_json.stderr,
        "--debug output": debug.output,
        "sync log": json.dumps(case.sync_log(), default=str),
        "log records": "\n".join(r.getMessage() for r in caplog.records),
    }
    if isinstance(exc, SheetsHealthError):
        # a bug's own exception reaches the caller unchanged (every output above masks it)
        texts["exception"] = f"{exc}\n{exc!r}\n{exc.hint}"
    else:
        assert exit_code == 1 and "Traceback" in debug.stderr
    assert _leaks(texts, case.secrets()) == {}



@pytest.mark.parametrize("logger", ["urllib3.connectionpool", "google.auth.transport.requests",
                                    "gspread.http_client", "requests", "sheets_health.sync"])
def test_child_loggers_records_are_redacted_too(logger: str,
                                                caplog: pytest.LogCaptureFixture) -> None:
    """A filter on `urllib3` never sees `urllib3.connectionpool`'s records; these are masked
    wherever they are handled."""
    google_http.install_log_redaction()
    token = "ya29.a0AfB_byC-fake-token-1234567890"
    caplog.set_level(logging.DEBUG)
    child = logging.getLogger(logger)
    child.addHandler(caplog.handler)  # google-auth stops "google" propagating to the root
    try:
        child.debug("headers: %s", {"Authorization": f"Bearer {token}"})
    finally:
        child.removeHandler(caplog.handler)
    records = [r for r in caplog.records if r.name == logger and "headers:" in r.getMessage()]
    assert records and all(token not in r.getMessage() and "[redacted]" in r.getMessage()
                           for r in records)
    assert token not in caplog.text
