"""The two patches of library internals: what they prevent, and their version guards.

google-auth can look up a "regional access boundary" at iamcredentials.googleapis.com after a
token refresh, past the API base URL; here every https request is routed to a local listener
(``HTTPS_PROXY``), so a lookup shows up as a ``CONNECT`` there. openpyxl drops the cached
results of formula cells on save; that patch is exercised in test_xlsx_backend.py.
"""

from __future__ import annotations

import socket
import threading
import tomllib
from collections.abc import Iterator
from pathlib import Path

import google.auth
import openpyxl
import openpyxl.worksheet._writer as sheet_writer
import pytest
from click.testing import CliRunner
from google.auth.transport.requests import AuthorizedSession
from google.oauth2.service_account import Credentials
from openpyxl import load_workbook

from sheets_health.backends.private_api import (
    GOOGLE_AUTH,
    OPENPYXL,
    Checked,
    UnsupportedLibraryError,
)
from sheets_health.backends.xlsx import XlsxBackend
from sheets_health.cli import main
from sheets_health.errors import EXIT_INTERNAL, EXIT_OK
from tests.emulator import SheetsEmulator, make_service_account_key, write_key_file
from tests.sheets import valid_tabs, write_sheet
from tests.test_google_backend import seed
from tests.test_xlsx_backend import GRID, PLAN, digest, leftovers, with_cached_formulas

ROOT = Path(__file__).resolve().parents[1]
LOOKUP_SWITCH = "GOOGLE_SDK_EXPERIMENTAL_PYTHON_REGIONAL_ACCESS_BOUNDARY_LOOKUP_ENABLED"


class Listener:
    """A TCP listener that records the first line of every connection, then hangs up."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.server.getsockname()[1]}"
        self.lines: list[str] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:  # closed
                return
            with conn:
                self.lines.append(conn.recv(4096).split(b"\r\n", 1)[0].decode(errors="replace"))


@pytest.fixture
def outside(monkeypatch: pytest.MonkeyPatch) -> Iterator[Listener]:
    """Every https request goes to the listener, and google-auth's lookup is switched on."""
    listener = Listener()
    for name in ("NO_PROXY", "ALL_PROXY", "HTTP_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    monkeypatch.setenv("HTTPS_PROXY", listener.url)
    monkeypatch.setenv("https_proxy", listener.url)
    monkeypatch.setenv(LOOKUP_SWITCH, "1")
    yield listener
    listener.server.close()


@pytest.fixture
def emulator() -> Iterator[SheetsEmulator]:
    with SheetsEmulator() as running:
        yield running


def finish_new_threads(before: set[threading.Thread]) -> None:
    """Wait for the threads a call started (google-auth looks the boundary up in one), but
    not for the emulator's connection handlers (named after socketserver's method), which
    live as long as a kept-alive connection."""
    for thread in set(threading.enumerate()) - before:
        if "process_request_thread" not in thread.name:
            thread.join(timeout=30)


# ----------------------------------------------------------------------------- google-auth


def test_google_auth_alone_would_look_the_boundary_up_past_the_api_url(
    outside: Listener, emulator: SheetsEmulator
) -> None:
    """The control: without the patch, the listener sees the lookup."""
    key = make_service_account_key(emulator)
    spreadsheet_id = seed(emulator, {"Customers": [["Customer ID"]]})
    creds = Credentials.from_service_account_info(
        key, scopes=["https://www.googleapis.com/auth/spreadsheets"])
    before = set(threading.enumerate())
    with AuthorizedSession(creds) as session:
        response = session.get(f"{emulator.url}/v4/spreadsheets/{spreadsheet_id}", timeout=5)
    finish_new_threads(before)
    assert response.status_code == 200
    assert "CONNECT iamcredentials.googleapis.com:443 HTTP/1.0" in outside.lines


def test_a_sync_on_google_sends_nothing_past_the_api_url(
    outside: Listener, emulator: SheetsEmulator, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    key = make_service_account_key(emulator)
    write_key_file(tmp_path / "key.json", key)
    spreadsheet_id = seed(emulator, valid_tabs())
    config = tmp_path / "sheets-health.toml"
    config.write_text(f'[sheet]\nbackend = "google"\nspreadsheet = "{spreadsheet_id}"\n'
                      'credentials = "key.json"\n', encoding="utf-8")
    monkeypatch.setenv("SHEETS_HEALTH_API_URL", emulator.url)
    before = set(threading.enumerate())
    result = CliRunner().invoke(main, ["--config", str(config), "sync"])
    finish_new_threads(before)
    assert result.exit_code == EXIT_OK, result.output
    assert emulator.api_requests()  # the sync did talk to the (emulated) Sheets API
    assert outside.lines == []


def test_an_unchecked_google_auth_is_refused_before_any_request(
    emulator: SheetsEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_key_file(tmp_path / "key.json", make_service_account_key(emulator))
    spreadsheet_id = seed(emulator, valid_tabs())
    config = tmp_path / "sheets-health.toml"
    config.write_text(f'[sheet]\nbackend = "google"\nspreadsheet = "{spreadsheet_id}"\n'
                      'credentials = "key.json"\n', encoding="utf-8")
    monkeypatch.setenv("SHEETS_HEALTH_API_URL", emulator.url)
    monkeypatch.setattr(google.auth, "__version__", "2.64.0")
    result = CliRunner().invoke(main, ["--config", str(config), "sync"])
    assert result.exit_code == EXIT_INTERNAL
    assert result.stderr == (
        "Error: google-auth 2.64.0 is not supported: sheets-health switches off the "
        "regional-access-boundary lookup through google-auth's private internals, checked "
        "only with google-auth>=2.63.0,<2.64\n"
        "  Fix: install a checked version: pip install 'google-auth>=2.63.0,<2.64'\n"
    )
    assert emulator.requests == []


# ----------------------------------------------------------------------------- openpyxl


@pytest.fixture
def book_with_formulas(tmp_path: Path) -> Path:
    """Customers with Total = ARR * Seats, as Excel saved it (with the cached result)."""
    from tests.contract.factories import make_xlsx

    path = make_xlsx(tmp_path, {"Customers": GRID}).path
    wb = load_workbook(path)
    wb["Customers"]["D2"] = "=B2*C2"
    wb.save(path)
    with_cached_formulas(path, {"D2": "2000"})
    return path


def test_an_unchecked_openpyxl_is_refused_and_the_workbook_left_as_it_was(
    book_with_formulas: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = digest(book_with_formulas)
    monkeypatch.setattr(openpyxl, "__version__", "3.2.0")
    with pytest.raises(UnsupportedLibraryError) as caught:
        XlsxBackend(book_with_formulas).apply(PLAN)
    assert str(caught.value) == (
        "openpyxl 3.2.0 is not supported: sheets-health keeps the cached results of formula "
        "cells through openpyxl's private internals, checked only with openpyxl>=3.1.5,<3.2\n"
        "  Fix: install a checked version: pip install 'openpyxl>=3.1.5,<3.2'"
    )
    assert caught.value.exit_code == EXIT_INTERNAL
    assert digest(book_with_formulas) == before and leftovers(book_with_formulas) == []


def test_openpyxl_without_its_private_cell_writer_is_refused(
    book_with_formulas: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Silent misbehaviour (formula results dropped) is not an option: it fails loudly."""
    before = digest(book_with_formulas)
    monkeypatch.delattr(sheet_writer, "write_cell")
    unsupported = r"openpyxl 3\.1\.\d+ is not supported: .*\(no worksheet\._writer\.write_cell\)"
    with pytest.raises(UnsupportedLibraryError, match=unsupported):
        XlsxBackend(book_with_formulas).apply(PLAN)
    assert digest(book_with_formulas) == before


def test_a_sync_on_a_workbook_with_formulas_exits_1_under_an_unchecked_openpyxl(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tabs = valid_tabs()
    tabs["Customers"][0].append("Name length")
    config = write_sheet(tmp_path, tabs)
    workbook = tmp_path / "sheet.xlsx"
    wb = load_workbook(workbook)
    wb["Customers"]["J2"] = "=LEN(B2)"  # a person's own formula, as Excel saved it
    wb.save(workbook)
    with_cached_formulas(workbook, {"J2": "4"})
    before = digest(workbook)
    monkeypatch.setattr(openpyxl, "__version__", "3.2.0")
    result = CliRunner().invoke(main, ["--config", str(config), "sync"])
    assert result.exit_code == EXIT_INTERNAL
    assert result.stderr.startswith("Error: openpyxl 3.2.0 is not supported: ")
    assert "pip install 'openpyxl>=3.1.5,<3.2'" in result.stderr
    assert digest(workbook) == before


def test_a_workbook_without_formulas_needs_no_patch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write_sheet(tmp_path)
    monkeypatch.setattr(openpyxl, "__version__", "3.2.0")
    result = CliRunner().invoke(main, ["--config", str(config), "sync"])
    assert result.exit_code == EXIT_OK, result.output


# ----------------------------------------------------------------------------- the guards


@pytest.mark.parametrize(
    ("installed", "accepted"),
    [("3.1.5", True), ("3.1.6", True), ("3.1.4", False), ("3.2", False), ("3.2.0b1", False),
     ("3.0.10", False), ("4.0.0", False)],
)
def test_the_checked_range(installed: str, accepted: bool) -> None:
    guard = Checked("openpyxl", "3.1.5", "3.2", "patches")
    if accepted:
        guard.require(installed)
    else:
        with pytest.raises(UnsupportedLibraryError, match=f"openpyxl {installed} is not supported"):
            guard.require(installed)


def test_pyproject_pins_the_checked_versions() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert {OPENPYXL.pin(), GOOGLE_AUTH.pin()} <= set(project["dependencies"])


def test_the_installed_versions_are_the_checked_ones() -> None:
    OPENPYXL.require(openpyxl.__version__)
    GOOGLE_AUTH.require(google.auth.__version__)
