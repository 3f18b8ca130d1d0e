"""Replay gspread's recorded real-API cassettes against the emulator and compare answers.

Drive calls (file create/delete/copy/metadata) are skipped: each spreadsheet is created in
the emulator with the recorded id and the state the cassette's first spreadsheets.get
shows. Every Sheets call is then sent as recorded (method, path, query, body) and the
answer compared with the recording: status code, and the JSON that matters per endpoint.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

from .auth import make_service_account_key
from .grid import Sheet
from .server import SheetsEmulator

JSON = dict[str, Any]
REPO_ROOT = Path(__file__).resolve().parents[2]
CASSETTES = REPO_ROOT.parent / "shared" / "reference" / "gspread-cassettes"
_ID = re.compile(r"^/v4/spreadsheets/([^/:]+)")
# Per endpoint, the top-level keys compared (None = the whole body).
COMPARED: dict[str, tuple[str, ...] | None] = {
    "sheets.spreadsheets.values.get": ("range", "majorDimension", "values"),
    "sheets.spreadsheets.values.batchGet": ("spreadsheetId", "valueRanges"),
    "sheets.spreadsheets.values.update": ("updatedRange", "updatedRows", "updatedColumns",
                                          "updatedCells", "updatedData"),
    "sheets.spreadsheets.values.batchUpdate": None,
    "sheets.spreadsheets.values.append": ("tableRange", "updates"),
    "sheets.spreadsheets.values.clear": ("clearedRange",),
    "sheets.spreadsheets.values.batchClear": ("clearedRanges",),
    "sheets.spreadsheets.batchUpdate": ("replies", "updatedSpreadsheet"),
    "sheets.spreadsheets.get": None,
}


@dataclass
class Outcome:
    cassette: str
    method: str
    uri: str
    endpoint: str
    matched: bool
    differences: list[str] = field(default_factory=list)


@dataclass
class Report:
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def replayed(self) -> int:
        return len(self.outcomes)

    @property
    def matching(self) -> int:
        return sum(o.matched for o in self.outcomes)

    def by_endpoint(self) -> dict[str, tuple[int, int]]:
        out: dict[str, tuple[int, int]] = {}
        for o in self.outcomes:
            total, ok = out.get(o.endpoint, (0, 0))
            out[o.endpoint] = (total + 1, ok + o.matched)
        return out

    def categories(self) -> Counter[str]:
        counts: Counter[str] = Counter()
        for o in self.outcomes:
            for diff in set(o.differences):
                counts[f"{o.endpoint}: {diff}"] += 1
        return counts

    def summary(self, examples: int = 0) -> str:
        lines = [f"Replayed {self.replayed} Sheets API interactions, {self.matching} match "
                 f"({100 * self.matching / max(self.replayed, 1):.1f}%)", "", "Per endpoint:"]
        for endpoint, (total, ok) in sorted(self.by_endpoint().items()):
            lines.append(f"  {endpoint:45s} {ok:4d} / {total:4d}")
        lines += ["", "What differs (interactions affected):"]
        for category, count in self.categories().most_common():
            lines.append(f"  {count:4d}  {category}")
            if examples:
                for o in [o for o in self.outcomes if any(
                        f"{o.endpoint}: {d}" == category for d in o.differences)][:examples]:
                    lines.append(f"          e.g. {o.cassette}: {o.method} {o.uri[:110]}")
        return "\n".join(lines)


def _norm_path(path: str) -> str:
    return re.sub(r"\[\d+\]", "[]", path)


def diff(expected: Any, actual: Any, path: str = "") -> list[str]:
    """Differences as 'path: what' strings (list indices folded to [])."""
    where = _norm_path(path) or "<body>"
    if isinstance(expected, dict) and isinstance(actual, dict):
        out: list[str] = []
        for key in expected.keys() | actual.keys():
            sub = f"{path}.{key}" if path else key
            if key not in actual:
                out.append(f"{_norm_path(sub)}: missing in emulator")
            elif key not in expected:
                out.append(f"{_norm_path(sub)}: extra in emulator")
            else:
                out += diff(expected[key], actual[key], sub)
        return out
    if isinstance(expected, list) and isinstance(actual, list):
        if len(expected) != len(actual):
            return [f"{where}: length differs"]
        out = []
        for i, (e, a) in enumerate(zip(expected, actual, strict=True)):
            out += diff(e, a, f"{path}[{i}]")
        return out
    if isinstance(expected, float) or isinstance(actual, float):
        try:
            if abs(float(expected) - float(actual)) < 1e-6:
                return []
        except (TypeError, ValueError):
            pass
    return [] if expected == actual else [f"{where}: value differs"]


def compare(endpoint: str, status: int, expected_status: int, expected: Any,
            actual: Any) -> list[str]:
    if status != expected_status:
        return [f"status {expected_status} -> emulator {status}"]
    if expected_status >= 400:
        e, a = expected.get("error", {}), (actual or {}).get("error", {})
        out = [f"error.{k} differs" for k in ("code", "status") if e.get(k) != a.get(k)]
        if e.get("message") != a.get("message"):
            out.append("error.message differs")
        return out
    keys = COMPARED.get(endpoint)
    if keys is not None:
        expected = {k: v for k, v in expected.items() if k in keys}
        actual = {k: v for k, v in (actual or {}).items() if k in keys}
    return diff(expected, actual)


def _body_json(text: str | None) -> Any:
    try:
        return json.loads(text) if text else None
    except ValueError:
        return text


def _seed(emu: SheetsEmulator, sid: str, recorded: JSON, status: int) -> None:
    if status == 404:
        return
    emu.create_spreadsheet(spreadsheet_id=sid, shared_with=set() if status == 403 else None)
    if status != 200:
        return
    ss = emu.spreadsheet(sid)
    ss.properties = recorded["properties"]
    ss.sheets = [Sheet(s["properties"]) for s in recorded.get("sheets", [])]
    ss.named_ranges = recorded.get("namedRanges", [])


def _expect_ids(emu: SheetsEmulator, sid: str, body: Any, recorded: Any) -> None:
    """Hand the emulator the ids Google generated, so later requests naming them work."""
    ss = emu.spreadsheets.get(sid)
    if ss is None or not isinstance(body, dict) or not isinstance(recorded, dict):
        return
    for req, reply in zip(body.get("requests") or [], recorded.get("replies") or [], strict=False):
        props = (reply.get("addSheet") or reply.get("duplicateSheet") or {}).get("properties")
        if props and "sheetId" not in ((req.get("addSheet") or {}).get("properties") or {}):
            ss.next_ids.append(int(props["sheetId"]))
        named = (reply.get("addNamedRange") or {}).get("namedRange")
        if named:
            ss.next_ids.append(int(named["namedRangeId"]))


def interactions(path: Path) -> Iterator[JSON]:
    yield from json.loads(path.read_text())["interactions"]


def replay(folder: Path = CASSETTES) -> Report:
    report = Report()
    with SheetsEmulator() as emu:
        key = make_service_account_key(emu)
        token = _token(emu, key)
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {token}"
        for cassette in sorted(folder.glob("*.json")):
            emu.spreadsheets.clear()
            for item in interactions(cassette):
                outcome = _one(emu, session, cassette.stem, item)
                if outcome is not None:
                    report.outcomes.append(outcome)
    return report


def _token(emu: SheetsEmulator, key: JSON) -> str:
    from google.auth.transport.requests import Request
    from google.oauth2.service_account import Credentials

    from .gspread_client import no_boundary_lookup

    creds = no_boundary_lookup(Credentials.from_service_account_info(
        key, scopes=["https://www.googleapis.com/auth/spreadsheets"]))
    creds.refresh(Request())
    return str(creds.token)


def _one(emu: SheetsEmulator, session: requests.Session, name: str, item: JSON) -> Outcome | None:
    req, resp = item["request"], item["response"]
    parts = urlsplit(req["uri"])
    if parts.netloc != "sheets.googleapis.com":
        return None
    m = _ID.match(parts.path)
    expected_status = int(resp["status"]["code"])
    expected = _body_json(resp["body"]["string"])
    body = req.get("body")
    if m and m.group(1) not in emu.spreadsheets and req["method"] == "GET":
        _seed(emu, m.group(1), expected if isinstance(expected, dict) else {}, expected_status)
    route = emu.discovery.route(req["method"], parts.path)
    endpoint = route.method.id if route else f"{req['method']} (no route)"
    if m:
        _expect_ids(emu, m.group(1), _body_json(body), expected)
    url = emu.url + parts.path + (f"?{parts.query}" if parts.query else "")
    data = body.encode() if isinstance(body, str) else body
    headers = {"Content-Type": "application/json"} if data else {}
    answer = session.request(req["method"], url, data=data, headers=headers, timeout=10)
    try:
        actual = answer.json()
    except ValueError:
        actual = answer.text
    differences = compare(endpoint, answer.status_code, expected_status, expected, actual)
    return Outcome(name, req["method"], req["uri"], endpoint, not differences, differences)
