"""The emulator: an HTTP server speaking Sheets API v4 and Google's OAuth token endpoint.

Start it in-process (``with SheetsEmulator() as emu:``), seed spreadsheets through the
Python API, point gspread at ``emu.url`` (see ``gspread_client.py``) and inspect
``emu.requests`` afterwards.
"""

from __future__ import annotations

import contextlib
import copy
import json
import secrets
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from requests.structures import CaseInsensitiveDict

from sheets_health import collector

from . import batch_update, fieldmask, protection, values_api
from .a1 import col_to_index, parse_cells
from .auth import AuthRegistry, TokenError
from .discovery import ApiError, Discovery, Route, load
from .faults import Fault, FaultKind, FaultSet
from .grid import GridError, Sheet, Spreadsheet, new_sheet_properties, new_spreadsheet

JSON = dict[str, Any]
Hook = Callable[["SheetsEmulator", "RecordedRequest"], None]
UNAUTHENTICATED = ("Request is missing required authentication credential. Expected OAuth 2 "
                   "access token, login cookie or other valid authentication credential. See "
                   "https://developers.google.com/identity/sign-in/web/devconsole-project.")
INVALID_CREDENTIALS = ("Request had invalid authentication credentials. Expected OAuth 2 access "
                       "token, login cookie or other valid authentication credential. See "
                       "https://developers.google.com/identity/sign-in/web/devconsole-project.")
NOT_FOUND_PAGE = ("<!DOCTYPE html>\n<html lang=en>\n  <meta charset=utf-8>\n  <title>Error 404 "
                  "(Not Found)!!1</title>\n  <p><b>404.</b> <ins>That’s an error.</ins>\n  <p>The "
                  "requested URL <code>{path}</code> was not found on this server.  <ins>That’s "
                  "all we know.</ins>\n")
PAYLOAD_LIMIT = 10_485_760  # Google's limit on a request body, in bytes
MUTATING = {"sheets.spreadsheets.batchUpdate", "sheets.spreadsheets.values.update",
            "sheets.spreadsheets.values.batchUpdate", "sheets.spreadsheets.values.append",
            "sheets.spreadsheets.values.clear", "sheets.spreadsheets.values.batchClear"}


@dataclass
class RecordedRequest:
    """One request as the emulator saw it, and what it answered."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: CaseInsensitiveDict[str]
    raw_body: bytes
    body: Any = None
    method_id: str | None = None  # discovery id, e.g. "sheets.spreadsheets.values.get"
    status: int | None = None  # None: the connection was dropped
    response: Any = None
    fault: str | None = None
    started: float = field(default_factory=time.time)
    target: str = ""  # the request line's target: path and query string, as sent
    delay: float = 0.0  # seconds the emulator waited before answering (its latency)
    response_bytes: int = 0  # length of the body it answered with
    server_seconds: float = 0.0  # the emulator's own work on it, its latency left out

    @property
    def sent_bytes(self) -> int:
        """What the client sent beyond the headers: the URL's path and query, and the body."""
        return len(self.target.encode()) + len(self.raw_body)

    @property
    def is_sheets_api(self) -> bool:
        return self.path.startswith("/v4/")


class SheetsEmulator:
    """``latency``: seconds every Sheets API request waits before it is handled, like a round
    trip to Google (token exchanges are not delayed); ``sleep`` is how it waits."""

    def __init__(self, *, require_auth: bool = True, discovery: Discovery | None = None,
                 latency: float = 0.0, sleep: Callable[[float], None] = time.sleep) -> None:
        if latency < 0:
            raise ValueError(f"latency must be 0 or more seconds, not {latency}")
        self.require_auth = require_auth
        self.latency = latency
        self.sleep = sleep
        self.discovery = discovery or load()
        self.auth = AuthRegistry()
        self.faults = FaultSet()
        self.requests: list[RecordedRequest] = []
        self.spreadsheets: dict[str, Spreadsheet] = {}
        # Stand-in results for formulas, by exact formula text (see cells.py).
        self.formula_results: dict[str, JSON] = {}
        self.lock = threading.RLock()
        self._hooks: list[Hook] = []
        self._nth_hooks: dict[int, list[Hook]] = {}
        self._api_calls = 0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------- lifecycle
    def start(self) -> SheetsEmulator:
        emulator = self

        class Handler(_Handler):
            emu = emulator

        self._server = _QuietServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        daemon=True, name="sheets-emulator")
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> SheetsEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._server is not None, "start() the emulator first"
        port = self._server.server_address[1]
        return f"http://127.0.0.1:{port}"

    @property
    def token_uri(self) -> str:
        return self.url + "/token"

    def reset(self) -> None:
        """Forget requests, faults and hooks (spreadsheets and keys stay)."""
        with self.lock:
            self.requests.clear()
            self.faults.clear()
            self._hooks.clear()
            self._nth_hooks.clear()
            self._api_calls = 0

    def api_requests(self) -> list[RecordedRequest]:
        """Recorded Sheets API requests (token exchanges left out)."""
        return [r for r in self.requests if r.is_sheets_api]

    # ----------------------------------------------------------------- hooks
    def before_request(self, callback: Hook) -> None:
        """Call ``callback(emulator, request)`` before every Sheets API request is handled."""
        self._hooks.append(callback)

    def on_request(self, n: int, callback: Hook) -> None:
        """Call ``callback`` just before the nth (1-based) Sheets API request is handled:
        a person editing the sheet between request n-1 and request n."""
        self._nth_hooks.setdefault(n, []).append(callback)

    # ---------------------------------------------------------- seeding API
    def create_spreadsheet(self, title: str = "Untitled spreadsheet",
                           tabs: dict[str, list[list[Any]]] | None = None, *,
                           spreadsheet_id: str | None = None, rows: int = 1000, cols: int = 26,
                           user_entered: bool = True, shared_with: set[str] | None = None,
                           time_zone: str | None = None) -> str:
        """Create a spreadsheet; each tab is seeded with rows of values (USER_ENTERED by
        default, like typing them). ``shared_with``: client emails allowed (None = all).
        ``time_zone``: its ``properties.timeZone`` (Google's default for a new one: Etc/GMT)."""
        sid = spreadsheet_id or secrets.token_urlsafe(33)[:44]
        ss = new_spreadsheet(sid, title)
        if time_zone is not None:
            ss.properties["timeZone"] = time_zone
        ss.shared_with = shared_with
        ss.formula_results = self.formula_results
        for i, (name, values) in enumerate((tabs or {"Sheet1": []}).items()):
            need_rows = max(rows, len(values))
            need_cols = max([cols] + [len(r) for r in values])
            ss.sheets.append(Sheet(new_sheet_properties(0 if i == 0 else ss.new_sheet_id(), name, i,
                                                        need_rows, need_cols)))
            if values:
                values_api.write(ss, f"'{name}'!A1", {"values": values},
                                 "USER_ENTERED" if user_entered else "RAW")
        with self.lock:
            self.spreadsheets[sid] = ss
        return sid

    def spreadsheet(self, spreadsheet_id: str) -> Spreadsheet:
        return self.spreadsheets[spreadsheet_id]

    def sheet(self, spreadsheet_id: str, tab: str) -> Sheet:
        return self.spreadsheet(spreadsheet_id).sheet_by_title(tab)

    def values(self, spreadsheet_id: str, tab: str,
               render: str = "FORMATTED_VALUE") -> list[list[Any]]:
        """The tab's values as values.get would return them (trimmed)."""
        ss = self.spreadsheet(spreadsheet_id)
        with self.lock:
            sheet = ss.sheet_by_title(tab)
            vr = values_api.render_range(ss, sheet, 0, sheet.row_count, 0, sheet.col_count,
                                         "ROWS", render, "SERIAL_NUMBER")
        return list(vr.get("values", []))

    def _cell_index(self, a1: str) -> tuple[int, int]:
        r0, _r1, c0, _c1 = parse_cells(a1)
        return int(r0 or 0), int(c0 or 0)

    def cell(self, spreadsheet_id: str, tab: str, a1: str) -> JSON:
        """Full CellData (values, formats with colour styles, validation) of one cell."""
        ss = self.spreadsheet(spreadsheet_id)
        r, c = self._cell_index(a1)
        with self.lock:
            ss.fresh_read()
            return ss.cell_data_at(ss.sheet_by_title(tab), r, c)

    def set_value(self, spreadsheet_id: str, tab: str, a1: str, value: Any,
                  user_entered: bool = True) -> None:
        ss = self.spreadsheet(spreadsheet_id)
        with self.lock:
            values_api.write(ss, f"'{tab}'!{a1}", {"values": [[value]]},
                             "USER_ENTERED" if user_entered else "RAW", grow=True)

    def _column(self, sheet: Sheet, by_col: int | str, header_rows: int) -> int:
        """0-based index, a header name (matched like the product does), or letters."""
        if isinstance(by_col, int):
            return by_col
        wanted = by_col.strip().lower()
        for c in range(sheet.col_count):
            value = (sheet.get(max(header_rows - 1, 0), c) or {}).get("userEnteredValue", {})
            if str(next(iter(value.values()), "")).strip().lower() == wanted:
                return c
        if by_col.isalpha() and len(by_col) <= 3:
            return col_to_index(by_col)
        raise KeyError(by_col)

    def sort_rows(self, spreadsheet_id: str, tab: str, by_col: int | str,
                  descending: bool = False, header_rows: int = 1) -> None:
        """Sort the data rows like a person using Data > Sort range (headers stay put).
        ``by_col``: 0-based index, column letters, or a header name."""
        ss = self.spreadsheet(spreadsheet_id)
        with self.lock:
            sheet = ss.sheet_by_title(tab)
            col = self._column(sheet, by_col, header_rows)
            rows, cols = sheet.value_extent()
            batch_update.sort_range(ss, {
                "range": {"sheetId": sheet.sheet_id, "startRowIndex": header_rows,
                          "endRowIndex": max(rows, header_rows), "startColumnIndex": 0,
                          "endColumnIndex": max(cols, 1)},
                "sortSpecs": [{"dimensionIndex": col,
                               "sortOrder": "DESCENDING" if descending else "ASCENDING"}]})

    def insert_rows(self, spreadsheet_id: str, tab: str, at: int, rows: list[list[Any]]) -> None:
        """Insert rows before 1-based row ``at`` and fill them (USER_ENTERED)."""
        ss = self.spreadsheet(spreadsheet_id)
        with self.lock:
            sheet = ss.sheet_by_title(tab)
            sheet.insert("ROWS", at - 1, len(rows))
            ss.shift_named_ranges(sheet.sheet_id, "ROWS", at - 1, len(rows))
            values_api.write(ss, f"'{tab}'!A{at}", {"values": rows}, "USER_ENTERED", grow=True)

    def delete_rows(self, spreadsheet_id: str, tab: str, at: int, count: int = 1) -> None:
        ss = self.spreadsheet(spreadsheet_id)
        with self.lock:
            sheet = ss.sheet_by_title(tab)
            sheet.delete("ROWS", at - 1, at - 1 + count)
            ss.shift_named_ranges(sheet.sheet_id, "ROWS", at - 1, -count)

    def rename_header(self, spreadsheet_id: str, tab: str, old: str, new: str,
                      header_row: int = 1) -> None:
        ss = self.spreadsheet(spreadsheet_id)
        with self.lock:
            col = self._column(ss.sheet_by_title(tab), old, header_row)
        self.set_value(spreadsheet_id, tab, f"{_col_letters(col)}{header_row}", new, False)

    def protect(self, spreadsheet_id: str, tab: str, grid_range: JSON | None = None,
                editors: tuple[str, ...] = (), warning_only: bool = False) -> None:
        """A person protects a range (0-based GridRange bounds; None: the whole tab)."""
        sheet = self.sheet(spreadsheet_id, tab)
        rng = {"sheetId": sheet.sheet_id, **(grid_range or {})}
        ranges = sheet.extra.setdefault("protectedRanges", [])
        entry: JSON = {"protectedRangeId": 1000 + len(ranges), "range": rng,
                       "editors": {"users": list(editors)}}
        if warning_only:
            entry["warningOnly"] = True
        ranges.append(entry)

    def merge(self, spreadsheet_id: str, tab: str, grid_range: JSON) -> None:
        """A person merges cells (0-based GridRange bounds, end exclusive)."""
        sheet = self.sheet(spreadsheet_id, tab)
        sheet.merges.append({"sheetId": sheet.sheet_id, **grid_range})

    def set_time_zone(self, spreadsheet_id: str, time_zone: str) -> None:
        """What File → Settings → Time zone does: the spreadsheet's ``properties.timeZone``
        (a CLDR/IANA name such as ``Europe/Paris``, or a custom ``GMT-07:00``)."""
        with self.lock:
            self.spreadsheet(spreadsheet_id).properties["timeZone"] = time_zone

    def share(self, spreadsheet_id: str, *emails: str) -> None:
        ss = self.spreadsheet(spreadsheet_id)
        ss.shared_with = (ss.shared_with or set()) | set(emails)

    def unshare_all(self, spreadsheet_id: str) -> None:
        """Mark the spreadsheet as shared with nobody: every key gets 403."""
        self.spreadsheet(spreadsheet_id).shared_with = set()

    # ------------------------------------------------------------- dispatch
    def _run_hooks(self, rec: RecordedRequest) -> None:
        with self.lock:
            self._api_calls += 1
            hooks = list(self._hooks) + self._nth_hooks.pop(self._api_calls, [])
        for hook in hooks:
            hook(self, rec)

    def _lookup(self, spreadsheet_id: str, email: str | None) -> Spreadsheet:
        ss = self.spreadsheets.get(spreadsheet_id)
        if ss is None:
            raise ApiError(404, "Requested entity was not found.")
        if ss.shared_with is not None and email not in ss.shared_with:
            raise ApiError(403, "The caller does not have permission")
        return ss

    def handle_api(self, route: Route, query: dict[str, list[str]], body: Any,
                   email: str | None) -> JSON:
        method = route.method
        self.discovery.check_query(method, query)
        if method.request is not None:
            self.discovery.check_body(method, {} if body is None else body)
        fields = query.get("fields", [None])[-1]
        tree = None
        if fields:
            try:
                tree = fieldmask.parse(fields)
            except fieldmask.FieldMaskError:
                raise ApiError(400, f"Invalid field selection {fields}") from None
            bad = fieldmask.validate(tree, method.response or "", self.discovery.schemas)
            if bad is not None:
                raise ApiError(400, f"Invalid field selection {bad}")
        with self.lock:
            if method.id == "sheets.spreadsheets.create":
                result = self._create_from_body(body or {})
            else:
                ss = self._lookup(route.path_params["spreadsheetId"], email)
                result = self._call(ss, route, query, body or {}, tree, email)
        protection.annotate(result, email)
        return fieldmask.select(result, tree) if tree is not None else result

    def _call(self, ss: Spreadsheet, route: Route, query: dict[str, list[str]], body: JSON,
              tree: fieldmask.Tree | None, email: str | None = None) -> JSON:
        mid = route.method.id.removeprefix("sheets.spreadsheets.")
        rng = route.path_params.get("range", "")
        snapshot = ([sheet.snapshot() for sheet in ss.sheets], copy.deepcopy(ss.properties),
                    copy.deepcopy(ss.named_ranges)) if route.method.id in MUTATING else None
        try:
            if mid == "get":
                wants_grid = tree is not None and "data" in (tree.get("sheets") or {})
                grid = wants_grid or query.get("includeGridData", ["false"])[-1].lower() == "true"
                return ss.to_json(query.get("ranges"), grid=grid)
            if mid == "batchUpdate":
                replies = batch_update.apply(ss, body)
                assert snapshot is not None
                protection.check_writes(snapshot[0], ss, email)
                out: JSON = {"spreadsheetId": ss.spreadsheet_id, "replies": replies}
                if body.get("includeSpreadsheetInResponse"):
                    wants_grid = tree is not None and "data" in (
                        ((tree.get("updatedSpreadsheet") or {}).get("sheets")) or {})
                    out["updatedSpreadsheet"] = ss.to_json(
                        body.get("responseRanges"),
                        grid=bool(body.get("responseIncludeGridData")) or wants_grid)
                return out
            handlers: dict[str, Callable[[], JSON]] = {
                "values.get": lambda: values_api.get(ss, rng, query),
                "values.batchGet": lambda: values_api.batch_get(ss, query),
                "values.update": lambda: values_api.update(ss, rng, query, body),
                "values.batchUpdate": lambda: values_api.batch_update(ss, body),
                "values.append": lambda: values_api.append(ss, rng, query, body),
                "values.clear": lambda: values_api.clear(ss, rng),
                "values.batchClear": lambda: values_api.batch_clear(ss, body),
            }
            if mid not in handlers:
                raise ApiError(501, f"Method {route.method.id} is not implemented by the Sheets "
                                    "emulator.", status="UNIMPLEMENTED")
            answer = handlers[mid]()
            if snapshot is not None:
                protection.check_writes(snapshot[0], ss, email)
            return answer
        except batch_update.NotImplementedKind as exc:
            self._restore(ss, snapshot)
            raise ApiError(501, f"Request kind '{exc}' is not implemented by the Sheets emulator.",
                           status="UNIMPLEMENTED") from None
        except GridError as exc:
            self._restore(ss, snapshot)
            raise ApiError(400, str(exc)) from None
        except ApiError:
            self._restore(ss, snapshot)
            raise

    @staticmethod
    def _restore(ss: Spreadsheet, snapshot: tuple[Any, Any, Any] | None) -> None:
        if snapshot is not None:
            ss.sheets, ss.properties, ss.named_ranges = snapshot

    def _create_from_body(self, body: JSON) -> JSON:
        title = (body.get("properties") or {}).get("title") or "Untitled spreadsheet"
        sid = self.create_spreadsheet(title, {})
        ss = self.spreadsheets[sid]
        ss.sheets.clear()
        specs = body.get("sheets") or [{"properties": {"title": "Sheet1", "sheetId": 0}}]
        try:
            for spec in specs:
                batch_update.add_sheet(ss, {"properties": spec.get("properties") or {}})
        except GridError as exc:
            del self.spreadsheets[sid]
            raise ApiError(400, str(exc)) from None
        return ss.to_json()


def _col_letters(col: int) -> str:
    from .a1 import index_to_col
    return index_to_col(col)


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients that time out or vanish (stall/drop faults) are expected; stay quiet."""
        import sys

        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    emu: SheetsEmulator
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    wbufsize = 1 << 16  # headers and body leave in one write (no delayed-ACK stalls)
    server_version = "ESF"
    sys_version = ""
    _began = 0.0  # perf_counter when the request arrived

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def do_PATCH(self) -> None:
        self._dispatch()

    # ---------------------------------------------------------------- plumbing
    def _send(self, rec: RecordedRequest, status: int, payload: Any,
              headers: dict[str, str] | None = None, content_type: str | None = None) -> None:
        if isinstance(payload, str):
            data = payload.encode()
            content_type = content_type or "text/html; charset=UTF-8"
        elif rec.query.get("prettyPrint", ["true"])[-1].lower() == "false":
            # Google's standard parameter: compact JSON instead of the indented default
            data = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
            content_type = content_type or "application/json; charset=UTF-8"
        else:
            data = (json.dumps(payload, indent=2, ensure_ascii=False) + "\n").encode()
            content_type = content_type or "application/json; charset=UTF-8"
        rec.status, rec.response, rec.response_bytes = status, payload, len(data)
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)
        rec.server_seconds = time.perf_counter() - self._began - rec.delay

    def _drop(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)
        self.connection.close()

    def _dispatch(self) -> None:
        # a large read builds a dict per cell: without the cycle collector's passes over
        # them it takes half the time (the sync pauses it too: `sheets_health.collector`)
        with collector.paused():
            self._answer()

    def _answer(self) -> None:
        self._began = time.perf_counter()
        emu = self.emu
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        query = parse_qs(parts.query, keep_blank_values=True)
        rec = RecordedRequest(self.command, parts.path, query,
                              CaseInsensitiveDict(dict(self.headers.items())), raw,
                              target=self.path)
        with emu.lock:
            emu.requests.append(rec)
        if parts.path == "/token" and self.command == "POST":
            self._token(rec)
            return
        route = emu.discovery.route(self.command, parts.path)
        if route is None:
            self._send(rec, 404, NOT_FOUND_PAGE.format(path=parts.path))
            return
        rec.method_id = route.method.id
        if emu.latency:
            rec.delay = emu.latency
            emu.sleep(emu.latency)
        emu._run_hooks(rec)
        info = emu.auth.check_bearer(self.headers.get("Authorization"))
        if emu.require_auth and info is None:
            message = INVALID_CREDENTIALS if self.headers.get("Authorization") else UNAUTHENTICATED
            self._send(rec, 401, {"error": {"code": 401, "message": message,
                                            "status": "UNAUTHENTICATED"}},
                       {"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/"'})
            return
        fault = emu.faults.take(self.command, parts.path)
        if fault is not None:
            rec.fault = FaultKind(fault.kind).value
            if fault.kind == FaultKind.DROP:
                self._drop()
                return
            if fault.kind == FaultKind.STALL:
                time.sleep(fault.seconds)
            elif fault.kind not in (FaultKind.APPLY_THEN_503, FaultKind.APPLY_THEN_STALL):
                self._fault_reply(rec, fault)
                return
        if len(raw) > PAYLOAD_LIMIT:
            self._send(rec, 400, ApiError(
                400, f"Request payload size exceeds the limit: {PAYLOAD_LIMIT} bytes.").body())
            return
        try:
            body = json.loads(raw) if raw.strip() else None
        except ValueError as exc:
            self._send(rec, 400, ApiError(400, f"Invalid JSON payload received. {exc}.").body())
            return
        rec.body = body
        try:
            result = emu.handle_api(route, rec.query, body, info.client_email if info else None)
        except ApiError as exc:
            self._send(rec, exc.code, exc.body())
            return
        if fault is not None and fault.kind == FaultKind.APPLY_THEN_503:
            self._fault_reply(rec, fault)
            return
        if fault is not None and fault.kind == FaultKind.APPLY_THEN_STALL:
            # applied already; the answer comes after the client has given up on it
            time.sleep(fault.seconds)
        self._send(rec, 200, result)

    def _fault_reply(self, rec: RecordedRequest, fault: Fault) -> None:
        code, body = fault.error_body()
        headers = {}
        if fault.kind == FaultKind.RATE_LIMIT and fault.retry_after is not None:
            headers["Retry-After"] = str(fault.retry_after)
        self._send(rec, code, body, headers)

    def _token(self, rec: RecordedRequest) -> None:
        form = parse_qs(rec.raw_body.decode(), keep_blank_values=True)
        rec.body = {k: v[-1] for k, v in form.items()}
        try:
            answer = self.emu.auth.exchange(form, self.emu.token_uri)
        except TokenError as exc:
            self._send(rec, exc.code, {"error": exc.error, "error_description": exc.description})
            return
        self._send(rec, 200, answer)
