"""Google Sheets backend: few, atomic requests through gspread's pluggable HTTP client.

Per sync: one ``spreadsheets.get`` reads every tab asked for (values, date formats and
backgrounds under a field mask, and the spreadsheet's time zone); ``apply`` re-reads the key
columns (one request), maps rows again by key, and writes everything in one ``batchUpdate``
whose response carries the key columns after the write, so a sort or insert that raced the
write is seen and repaired.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import gspread
from gspread.urls import SPREADSHEET_BATCH_UPDATE_URL, SPREADSHEET_URL

from sheets_health import rowmatch
from sheets_health import template as T
from sheets_health.backends import google_grid as gg
from sheets_health.backends import google_lease as gl
from sheets_health.backends import google_scores as gs
from sheets_health.backends.google_auth import load_credentials, spreadsheet_key
from sheets_health.backends.google_grid import JSON, CellAt, Grid
from sheets_health.backends.google_http import (
    Context,
    GoogleRequestError,
    RequestRecord,
    RetryPolicy,
    SheetsHTTPClient,
    UncertainWriteError,
    install_log_redaction,
)
from sheets_health.backends.google_init import init_requests
from sheets_health.cells import column_letter, key_text
from sheets_health.config import SheetConfig
from sheets_health.errors import (
    ConfigError,
    ContractError,
    LockedError,
    OutageError,
    Problem,
    WriteConflictError,
)
from sheets_health.model import (
    ApplyResult,
    CellWrite,
    Mark,
    Table,
    TabPlan,
    WritePlan,
    norm_header,
)
from sheets_health.summary_sheet import SummarySheet
from sheets_health.template import TabTemplate

log = logging.getLogger("sheets_health.backends.google")

# Google refuses request bodies over 10,485,760 bytes ("Request payload size exceeds the
# limit"); the requests' own JSON is counted, so leave room for the envelope and escaping
MAX_PAYLOAD = 9_000_000
COMPACT = {"prettyPrint": "false"}  # a standard Google API parameter: no indentation
APPEND_CHUNK = 1_000  # new rows per updateCells request (~260 KB for History rows)
REPAIR_ROUNDS = 3


@dataclass
class _Batch:
    requests: list[JSON] = field(default_factory=list)
    size: int = 0
    rows: set[tuple[int, int]] = field(default_factory=set)  # (sheet id, row) written
    # new rows, at positions fixed from the read: sid -> (0-based first row, planned values)
    placed: dict[int, list[tuple[int, dict[int, Any]]]] = field(default_factory=dict)
    deletes: bool = False  # holds a row deletion: not safe to send twice
    headers: dict[int, list[tuple[int, str]]] = field(default_factory=dict)


@dataclass
class _Target:
    """A keyed tab being written: where its key columns are and what each row must hold."""

    plan: TabPlan
    grid: Grid
    cols: dict[str, int]  # normalised header -> column
    key_cols: list[int]
    expected: dict[int, tuple[str, ...]] = field(default_factory=dict)  # row -> key
    wrote: dict[int, dict[int, CellWrite]] = field(default_factory=dict)  # row -> col -> cell


class GoogleBackend:
    """A Google Sheet, opened by id with the spreadsheets scope only."""

    # naming a missing tab in a read is a 400 and a titles read: a sync says so, with the
    # `init` that ends it (`sheets_health.sync`)
    missing_tabs_cost_requests = True

    def __init__(self, client: gspread.Client, spreadsheet_id: str,
                 client_email: str | None = None) -> None:
        http = client.http_client
        if not isinstance(http, SheetsHTTPClient):
            raise TypeError("GoogleBackend needs a gspread.Client built with SheetsHTTPClient")
        self.client = client
        self.http = http
        self.spreadsheet_id = spreadsheet_id
        self.client_email = client_email
        self._titles: dict[str, str] | None = None  # normalised title -> title
        self._grids: dict[str, Grid] = {}  # normalised title -> last layout seen
        self._tables: dict[str, Table] = {}  # normalised title -> last table read
        self._time_zone: str | None = None  # properties.timeZone, from the last read
        self._named: dict[str, gg.NamedRange] = {}  # the tool's named ranges, by mark name
        self._widths: dict[str, int] = {}  # normalised title -> used width, from whole reads
        # normalised title -> the grid `read` returned, until a write changes that tab
        self._read_grids: dict[str, Grid] = {}
        self._summary: list[JSON] = []  # Summary requests the next `apply` sends with its write
        self._lease: gl.Lease | None = None  # this run's claim on the sheet (`hold_lease`)
        self._leased_at = 0.0  # time.monotonic() when the lease was claimed or renewed

    @classmethod
    def from_config(
        cls,
        sheet: SheetConfig,
        *,
        sleep: Callable[[float], None] | None = None,
        rng: random.Random | None = None,
        policy: RetryPolicy | None = None,
    ) -> GoogleBackend:
        install_log_redaction()
        if not sheet.spreadsheet:
            raise ConfigError("[sheet] spreadsheet is not set", "add spreadsheet = \"<id or URL>\"")
        key = spreadsheet_key(sheet.spreadsheet)
        creds, email = load_credentials(sheet.credentials)
        client = gspread.Client(creds, http_client=SheetsHTTPClient)
        http = client.http_client
        assert isinstance(http, SheetsHTTPClient)
        secrets = [str(getattr(creds, "_private_key_id", "") or "")]
        http.configure(
            api_url=sheet.api_url,
            timeout=sheet.timeout,
            context=Context(f"Google Sheet {key}", key, email, secrets),
            sleep=sleep,
            rng=rng,
            policy=policy,
        )
        return cls(client, key, email)

    @property
    def description(self) -> str:
        return f"Google Sheet {self.spreadsheet_id}"

    @property
    def time_zone(self) -> str | None:
        """The spreadsheet's File → Settings time zone, as the last `read` returned it."""
        return self._time_zone

    def row_link(self, tab: str, row: int) -> str | None:
        """A link that opens the sheet at a row (for the webhook's lines); None for a tab not
        read yet."""
        grid = self._grids.get(norm_header(tab))
        if grid is None:
            return None
        return (f"https://docs.google.com/spreadsheets/d/{self.spreadsheet_id}/edit"
                f"#gid={grid.sheet_id}&range=A{row}")

    @property
    def records(self) -> list[RequestRecord]:
        """Every HTTP request sent (kind, path, status, sizes): for tests and benchmarks."""
        return self.http.records

    # ------------------------------------------------------------------ low level

    def _get(self, params: dict[str, Any], kind: str) -> JSON:
        self.http.kind = kind
        response = self.http.request("get", SPREADSHEET_URL % self.spreadsheet_id,
                                     params={**params, **COMPACT})
        body: JSON = response.json()
        return body

    def _post(self, body: JSON, kind: str, fields: str | None = None) -> JSON:
        self.http.kind = kind
        params: dict[str, Any] = {"fields": fields, **COMPACT} if fields else dict(COMPACT)
        response = self.http.request("post", SPREADSHEET_BATCH_UPDATE_URL % self.spreadsheet_id,
                                     params=params, json=body)
        answer: JSON = response.json()
        return answer

    def _load_titles(self, kind: str) -> dict[str, str]:
        grids = gg.parse_grids(self._get({"fields": gg.META_FIELDS}, kind + "-titles"))
        self._titles = {norm_header(g.title): g.title for g in grids}
        for g in grids:
            self._grids.setdefault(norm_header(g.title), g)
        return self._titles

    def _fetch(self, wanted: Mapping[str, Sequence[str | gg.Named]], fields: str, kind: str
               ) -> dict[str, Grid]:
        """Cell ranges ("" = whole tab) or named ranges of the named tabs in one
        spreadsheets.get.

        Naming a missing tab in ``ranges`` is a 400 at Google, so titles come from the cache;
        without one the names are tried as given, and on a 400 the titles are fetched once.
        A 400 for one of the tool's named ranges, or for a range past a tab's grid, is raised
        at once (`read` falls back): fetching titles would not change it.
        """
        titles = self._titles
        for attempt in (1, 2):
            if titles is None:
                resolved = {name: name for name in wanted}
            else:
                resolved = {n: titles[norm_header(n)] for n in wanted if norm_header(n) in titles}
            if not resolved:
                return {}
            ranges = [cells.name if isinstance(cells, gg.Named)
                      else gg.quote_title(title) + (f"!{cells}" if cells else "")
                      for name, title in resolved.items() for cells in wanted[name]]
            try:
                body = self._get({"ranges": ranges, "includeGridData": "true",
                                  "fields": fields}, kind)
            except GoogleRequestError as exc:
                if attempt == 2 or gg.NAMED_PREFIX in exc.google_message \
                        or gg.GRID_LIMITS in exc.google_message:
                    raise
                titles = self._load_titles(kind)
                continue
            zone = (body.get("properties") or {}).get("timeZone")
            if zone:
                self._time_zone = str(zone)
            if gg.NAMED_FIELDS in fields:
                self._named = gg.parse_named(body)
            grids = {norm_header(g.title): g for g in gg.parse_grids(body)}
            for norm, grid in grids.items():
                self._grids[norm] = grid
            return {name: grids[norm_header(title)] for name, title in resolved.items()
                    if norm_header(title) in grids}
        return {}  # pragma: no cover - the loop returns or raises

    # ------------------------------------------------------------------ read

    def read(self, tabs: Sequence[str],
             marks: Mapping[str, Sequence[str | int | Mark]] | None = None
             ) -> dict[str, Table]:
        """One spreadsheets.get. A tab with ``marks`` is read as its header row plus the
        tool's named ranges (``sheets_health_<mark>``) or every row from an int on; when a
        named range is missing (a first sync, an old sheet, a person deleted it) Google
        answers 400 and those tabs are read whole instead, once."""
        marks = {t: m for t, m in (marks or {}).items() if t in tabs and m}
        fields = f"{gg.READ_FIELDS},{gg.NAMED_FIELDS}"
        wanted = {tab: self._ranges(tab, marks.get(tab, ())) for tab in tabs}
        try:
            grids = self._fetch(wanted, fields, "read")
        except GoogleRequestError as exc:
            fixed = {t for t, m in marks.items() if any(isinstance(x, Mark) for x in m)}
            if fixed and gg.GRID_LIMITS in exc.google_message:
                # a tab narrower than its fixed rectangle (a Summary drawn before the
                # colour-mix table had its place): those tabs whole, the others as asked
                log.info("%s: reading %s whole", exc.google_message, ", ".join(sorted(fixed)))
                return self.read(tabs, {t: m for t, m in marks.items() if t not in fixed})
            if not marks or gg.NAMED_PREFIX not in exc.google_message:
                raise
            log.info("a bookmark is missing (%s): reading those tabs whole", exc.google_message)
            marks = {}
            grids = self._fetch({tab: [""] for tab in wanted}, fields, "read")
        tables = {}
        for name, grid in grids.items():
            found = {n: r.mark for n, r in self._named.items() if r.sheet_id == grid.sheet_id}
            spans = tuple(found[m] if isinstance(m, str) else m if isinstance(m, Mark)
                          else Mark(m) for m in marks.get(name, ())
                          if not isinstance(m, str) or m in found)
            if name in marks and len(spans) < len(marks[name]):  # a mark on another tab
                return self.read(tabs)
            table = gg.to_table(grid, spans, found)
            if norm_header(name) == norm_header(T.CUSTOMERS):
                problems = gs.broken(grid)
                if problems:
                    raise ContractError(problems)
                table = replace(table, colors={**table.colors, **gs.cf_colours(grid, grid.rules)})
            if not spans:
                self._widths[norm_header(grid.title)] = grid.used_width()
            self._tables[norm_header(grid.title)] = table
            self._read_grids[norm_header(grid.title)] = grid
            tables[name] = table
        return tables

    def _tail(self, tab: str) -> int | None:
        """The last used row (1-based) of a tab whose read reached its bottom, else None."""
        table = self._tables.get(norm_header(tab))
        if table is None or not (table.complete or any(s.end is None for s in table.read_spans)):
            return None
        return max(table.row_numbers, default=1)

    def _ranges(self, tab: str, marks: Sequence[str | int | Mark]) -> list[str | gg.Named]:
        if not marks:
            return [""]
        out: list[str | gg.Named] = ["1:1"]
        for mark in marks:
            if isinstance(mark, str):
                out.append(gg.Named(gg.NAMED_PREFIX + mark))
            elif isinstance(mark, Mark):  # a fixed rectangle
                assert mark.end is not None and mark.end_col is not None
                out.append(f"{column_letter(mark.first_col)}{mark.start}:"
                           f"{column_letter(mark.end_col - 1)}{mark.end - 1}")
            else:
                layout = self._grids.get(norm_header(tab))
                bottom = max(layout.row_count if layout else mark, mark)
                out.append(f"{mark}:{bottom}")
        return out

    # ------------------------------------------------------------------ apply

    def apply(self, plan: WritePlan) -> ApplyResult:
        summary, self._summary = self._summary, []
        outputs = next((t for t in plan.tabs if t.outputs), None)  # even unchanged: see gs
        tabs = [tab for tab in plan.tabs if not tab.is_empty]
        if outputs is None and not tabs and not summary:
            return ApplyResult()
        tabs = [t for t in tabs if t is not outputs]
        scores = self._outputs(outputs) if outputs is not None else gs.Outputs([], 0, [])
        if not tabs and not scores.requests and not summary:
            return ApplyResult(skipped=tuple(scores.skipped))
        grids = self._layouts(tabs)
        for tab in tabs:  # what is read from now on must come from the sheet again
            self._read_grids.pop(norm_header(tab.tab), None)
        leading = [*scores.requests, *summary]
        repaired: list[str] = []
        skipped: list[str] = list(scores.skipped)
        batches, targets, cells, appended = self._build(tabs, grids, repaired, skipped,
                                                        leading)
        cells += scores.cells
        if len(batches) > 1 and any(t.delete_rows for t in tabs):
            # row deletions shift every row after them: only within one atomic batch; the
            # old rows go on a later, smaller sync
            repaired, skipped = [], []
            tabs = [replace(t, delete_rows=0) for t in tabs]
            batches, targets, cells, appended = self._build(tabs, grids, repaired, skipped,
                                                            leading)
            cells += scores.cells
        closing = self._closing(tabs)
        if closing:
            batches[-1].requests.extend(closing)
            batches[-1].deletes |= any("deleteDimension" in r for r in closing)
        plain = None
        if len(batches) == 1 and batches[0].deletes:  # what a resend sends (see `_send`)
            again, again_targets, _c, _a = self._build(
                [replace(t, delete_rows=0) for t in tabs], grids, [], [], leading)
            plain = (again[0], again_targets) if len(again) == 1 else None
        after: dict[int, Grid] = {}
        for batch in batches:
            self._renew_if_due()
            after, targets = self._send(batch, targets, plain)
            mismatched = self._verify(targets, after, batch.rows)
            for _round in range(REPAIR_ROUNDS):
                if not mismatched:
                    break
                after = self._key_columns(targets, {sid for sid, _row in mismatched})
                mismatched = self._verify(targets, after, {*mismatched})
                if not mismatched:
                    break
                repair = self._repair(targets, after, mismatched, repaired, skipped)
                if not repair.requests:
                    break
                after, targets = self._send(repair, targets)
                mismatched = self._verify(targets, after, repair.rows)
            if mismatched:
                raise WriteConflictError(
                    f"{self.description}: rows kept moving while writing "
                    f"({len(mismatched)} rows could not be matched by key)",
                    "someone is sorting or inserting rows right now: rerun the sync",
                )
        if closing is not None:
            self._lease = None  # the claim row is the run's final row now
        return ApplyResult(cells_written=cells, rows_appended=appended,
                           repaired=tuple(repaired), skipped=tuple(skipped))

    # ------------------------------------------------------------------ lease

    def hold_lease(self, mode: str, run_at: dt.datetime, run_id: str) -> None:
        """Claim the sheet for this run's write, across machines (`google_lease`): one
        request, right before the write. Raises `LockedError` (exit 6) when another run holds
        it, naming who and until when. No claim without a Sync log this sync read."""
        norm = norm_header(T.SYNC_LOG)
        grid, tail = self._read_grids.get(norm), self._tail(T.SYNC_LOG)
        if self._lease is not None or grid is None or tail is None:
            return
        cols = {norm_header(h): i for i, h in enumerate(grid.headers()) if h}
        where = gl.columns(cols)
        if where is None:
            return
        result_col, message_col = where
        now = _utc(run_at)
        finished = gl.finished_runs(grid, cols.get(norm_header("Run id")), result_col)
        seen = gl.claims(grid, sorted({r for r, _c in grid.values}), result_col, message_col)
        dead = [c for c in seen if c.run_id in finished]
        live = [c for c in seen if c.run_id not in finished and not c.expired(now)]
        if live:
            raise self._locked(live[0].holder_text())
        who = gl.owner(self.client_email)
        until = (now + gl.LEASE).replace(microsecond=0)
        result, message = f"{gl.RUNNING} {run_id}", gl.claim_message(who, until)
        values = {norm_header(h): v for h, v in (
            ("Run at", run_at.replace(tzinfo=None, microsecond=0)), ("Mode", mode),
            ("Result", result), ("Message", message), ("Run id", run_id))}
        empty: tuple[JSON, frozenset[str]] = ({}, frozenset())
        row = [empty] * (max(cols.values()) + 1)
        for header, value in values.items():
            if header in cols:
                row[cols[header]] = gg.cell_data(CellWrite(value))
        last = gg.column_letters(max(cols.values()))
        body: JSON = {"requests": [gg.append_request(grid.sheet_id, [row])],
                      "includeSpreadsheetInResponse": True,
                      "responseRanges": [f"{gg.quote_title(grid.title)}!A{tail + 1}:{last}"],
                      "responseIncludeGridData": True}
        attempts = self.http.policy.attempts
        answer: JSON = {}
        for attempt in range(1, attempts + 1):
            try:
                answer = self._post(body, "lease", f"updatedSpreadsheet({gg.KEY_FIELDS})")
                break
            except UncertainWriteError as exc:  # sent again: a second copy is marked later
                self._wait_or_give_up(attempt, exc, "the next scheduled run will try again")
        after = next((g for g in gg.parse_grids(answer.get("updatedSpreadsheet") or {})
                      if g.sheet_id == grid.sheet_id), grid)
        rows = sorted({r for (r, _c), v in after.values.items()
                       if r >= tail and key_text(v) != ""})
        found = {c.row: c for c in gl.claims(after, rows, result_col, message_col)}
        # what does not count: copies of finished runs' claims, and the rows of runs that
        # lost their claim (they wrote nothing else, so what this run read is still current)
        rows = [r for r in rows if (r not in found or found[r].run_id not in finished)
                and key_text(after.values.get((r, result_col))) != gl.LOCKED]
        first = found.get(rows[0]) if rows else None
        if first is not None and first.run_id == run_id:
            copies = [r for r, c in found.items() if c.run_id == run_id and r != first.row]
            self._lease = gl.Lease(grid.sheet_id, run_id, first.row, result, message, who,
                                   until, [c for c in seen if c.expired(now) and c not in dead],
                                   dead, copies)
            self._leased_at = time.monotonic()
            rows_now = max(after.row_count, grid.row_count)
            self._read_grids[norm] = replace(grid, row_count=rows_now)
            self._grids[norm] = replace(self._grids.get(norm, grid), row_count=rows_now)
            return
        holder = (first.holder_text() if first is not None else
                  "another run wrote to the Sync log after this run read the sheet")
        try:  # best effort: a claim left behind blocks nothing once its time is up
            self._post({"requests": gl.loser_requests(grid.sheet_id, result, message, holder)},
                       "lease-release")
        except Exception as exc:
            log.debug("could not mark this run's claim as locked: %s", type(exc).__name__)
        raise self._locked(holder)

    def _locked(self, holder: str) -> LockedError:
        return LockedError(f"{self.description}: {holder}; this run did nothing",
                           "nothing to do: the next scheduled run catches up; a run that "
                           "stopped without finishing blocks only until its lock runs out")

    def _closing(self, tabs: Sequence[TabPlan]) -> list[JSON] | None:
        """With the write that holds the run's final Sync-log row: the lease's loose ends."""
        log_tab = next((t for t in tabs if norm_header(t.tab) == norm_header(T.SYNC_LOG)
                        and t.appends), None)
        if self._lease is None or log_tab is None:
            return None
        return gl.closing_requests(self._lease, log_tab.delete_rows)

    def _renew_if_due(self) -> None:
        """A long write keeps its lease: past half of it, the claim's time moves on."""
        lease = self._lease
        if lease is None or time.monotonic() - self._leased_at < gl.LEASE.total_seconds() / 2:
            return
        elapsed = dt.timedelta(seconds=time.monotonic() - self._leased_at)
        until = (lease.until + elapsed).replace(microsecond=0)
        message = gl.claim_message(lease.who, until)
        self._post({"requests": [gl.replace_text(lease.sheet_id, lease.message, message)]},
                   "lease-renew")
        self._lease = replace(lease, message=message, until=until)
        self._leased_at = time.monotonic()

    def _layouts(self, tabs: Sequence[TabPlan]) -> dict[str, Grid]:
        """Where each tab's rows and columns are: from this sync's read, with no request.

        A person's sort or insert between the read and the write is caught by the write's
        own response (the key cells of the rows it wrote) and repaired, as it would be after a
        re-check; Customers' outputs are looked up by key and never land on a row. Only what
        the read could not show is fetched first: the used width of a tab that gets a new
        header, the end of a tab that gets new rows, a tab this backend did not read.
        """
        known = {t.tab: self._read_grids[norm_header(t.tab)] for t in tabs
                 if norm_header(t.tab) in self._read_grids and not self._needs_recheck(t)}
        rest = [t for t in tabs if t.tab not in known]
        return {**known, **(self._recheck(rest) if rest else {})}

    def _needs_recheck(self, tab: TabPlan) -> bool:
        if tab.add_headers and norm_header(tab.tab) not in self._widths:
            return True
        return bool(tab.appends) and self._tail(tab.tab) is None

    def _recheck(self, tabs: Sequence[TabPlan], full: bool = False) -> dict[str, Grid]:
        """Header row and key columns of every tab in the plan, right before writing."""
        def key_cols(tab: TabPlan, layout: Grid | None) -> list[int | None]:
            return [layout.column(k) if layout else None for k in tab.key_columns]

        def ranges(tab: TabPlan, layout: Grid | None) -> list[str | gg.Named]:
            if full or (tab.add_headers and norm_header(tab.tab) not in self._widths):
                return [""]  # a new header must not land on unlabelled notes: see used width
            if tab.add_headers and not tab.updates:
                return ["1:1"]  # the used width is known from this sync's whole read
            if tab.appends and self._tail(tab.tab) is None:
                return [""]  # where new rows go: the tab's end was not seen by a read
            if not tab.updates:  # appends, bookmarks, deletions: the header row says where
                return ["1:1"]
            letters = [gg.column_letters(c) for c in key_cols(tab, layout) if c is not None]
            start = tab.recheck_from or 1  # rows above it are not written (growing tabs)
            return ["1:1", *(f"{c}{start}:{c}" for c in letters)]

        guesses = {tab.tab: self._grids.get(norm_header(tab.tab)) for tab in tabs}
        grids = self._fetch({t.tab: ranges(t, guesses[t.tab]) for t in tabs}, gg.KEY_FIELDS,
                            "recheck")
        stale = [t for t in tabs if t.tab in grids and t.key_columns and t.updates
                 and ranges(t, guesses[t.tab]) != [""]
                 and (guesses[t.tab] is None
                      or key_cols(t, guesses[t.tab]) != key_cols(t, grids[t.tab]))]
        if stale:  # columns moved since the read (or never read): fetch the right ones
            again = self._fetch({t.tab: ranges(t, grids[t.tab]) for t in stale}, gg.KEY_FIELDS,
                                "recheck")
            grids.update(again)
        return grids

    def _outputs(self, plan: TabPlan) -> gs.Outputs:
        """Customers' outputs: the Scores rewrite and the lookups (`google_scores`)."""
        norm = norm_header(T.CUSTOMERS)
        if norm not in self._tables:
            self.read([T.CUSTOMERS])  # a plan applied without this backend's read
        grid = self._grids[norm]
        used = {g.sheet_id for g in self._grids.values()}
        scores = self._named.get(gs.SCORES_MARK)
        new_id = next(i for i in range(1_000_001, 1_000_100) if i not in used)
        return gs.plan_requests(plan, self._tables[norm], grid, grid.rules, scores, new_id,
                                self._widths.get(norm, 0))

    def _build(self, tabs: Sequence[TabPlan], grids: Mapping[str, Grid], repaired: list[str],
               skipped: list[str], leading: Sequence[JSON] = ()
               ) -> tuple[list[_Batch], dict[int, _Target], int, int]:
        problems: list[Problem] = []
        structure: list[tuple[JSON, _Batch]] = [(r, _Batch()) for r in leading]
        cells_at: list[CellAt] = []
        appends: list[tuple[JSON, int, list[tuple[int, dict[int, Any]]]]] = []
        deletes: list[JSON] = []  # first in the batch: every row below moves up by `shift`
        named: list[JSON] = []  # last: bookmarks once the rows they point at exist
        targets: dict[int, _Target] = {}
        cells = appended = 0
        for tab in tabs:
            grid = grids.get(tab.tab)
            if grid is None:
                problems.append(Problem(tab.tab, None, None, "the tab does not exist",
                                        "run `sheets-health init` to create it"))
                continue
            shift = tab.delete_rows
            if shift:
                deletes.append(gg.delete_rows_request(grid.sheet_id, shift))
            for name, mark in tab.marks.items():
                known = self._named.get(name)
                named.append(gg.named_range_request(
                    grid.sheet_id, name, mark.after_deleting(shift) if shift else mark,
                    known.range_id if known else None))
            headers = grid.headers()
            cols = {norm_header(h): i for i, h in enumerate(headers) if h}
            new = [h for h in dict.fromkeys(tab.add_headers) if norm_header(h) not in cols]
            if new:
                start = max(len(headers), grid.used_width(),
                            self._widths.get(norm_header(grid.title), 0))
                part = _Batch(headers={grid.sheet_id: [(start + i, h) for i, h in enumerate(new)]})
                if start + len(new) > grid.column_count:
                    extra = start + len(new) - grid.column_count
                    structure.append((gg.append_columns_request(grid.sheet_id, extra), _Batch()))
                structure.append((gg.header_request(grid.sheet_id, start, new), part))
                cols.update({norm_header(h): start + i for i, h in enumerate(new)})
            key_cols = [cols.get(norm_header(k)) for k in tab.key_columns]
            if any(c is None for c in key_cols):
                problems += [Problem(grid.title, 1, k, "the key column is missing",
                                     f"add a column headed '{k}' back to row 1")
                             for k, c in zip(tab.key_columns, key_cols, strict=True) if c is None]
                continue
            target = _Target(tab, grid, cols, [c for c in key_cols if c is not None])
            targets[grid.sheet_id] = target
            index = _key_index(grid, target.key_cols)
            for update in tab.updates:
                row = update.row - 1
                if target.key_cols:
                    key = tuple(key_text(k) for k in update.key)
                    label = _label(tab.key_columns, key)
                    found, moved, skip = rowmatch.find_row(
                        grid.title, label, update.row, [r + 1 for r in index.get(key, [])])
                    repaired.extend([moved] if moved else [])
                    if found is None:
                        skipped.extend([skip] if skip else [])
                        continue
                    row = found - 1
                    if row < 1 + shift:  # never: retention deletes only the oldest rows
                        skipped.append(f"{grid.title}: {label} is among the rows deleted")
                        continue
                    row -= shift
                    target.expected[row] = key
                else:
                    row -= shift
                for header, write in update.cells.items():
                    col = _column(cols, header, grid.title, problems)
                    if col is None:
                        continue
                    data, mask = gg.cell_data(write)
                    cells_at.append(CellAt(grid.sheet_id, row, col, data, mask))
                    target.wrote.setdefault(row, {})[col] = write
                    cells += 1
            if tab.appends:
                rows_json = []
                planned = []
                for values in tab.appends:
                    found_cols = {h: _column(cols, h, grid.title, problems) for h in values}
                    by_col = {c: values[h] for h, c in found_cols.items() if c is not None}
                    width = max(by_col, default=-1) + 1
                    rows_json.append([gg.cell_data(by_col[c]) if c in by_col else ({}, frozenset())
                                      for c in range(width)])
                    planned.append({c: w.value for c, w in by_col.items()})
                    cells += len(values)
                # at rows fixed from the read, so a resent write lands on the same cells;
                # in chunks, so one tab's new rows never pass the payload limit on their own
                tail = self._tail(tab.tab)
                if self._lease is not None and norm_header(tab.tab) == norm_header(T.SYNC_LOG):
                    tail = self._lease.row  # the run's claim row becomes its final row
                first = (tail if tail is not None else _last_row(grid)) - shift
                missing = first + len(rows_json) - (grid.row_count - shift)
                if missing > 0:
                    structure.append((gg.append_rows_request(grid.sheet_id, missing), _Batch()))
                for start in range(0, len(rows_json), APPEND_CHUNK):
                    request = gg.rows_request(grid.sheet_id, first + start,
                                              rows_json[start:start + APPEND_CHUNK])
                    appends.append((request, grid.sheet_id,
                                    list(enumerate(planned[start:start + APPEND_CHUNK],
                                                   start=first + start))))
                appended += len(tab.appends)
        if problems:
            raise ContractError(problems)
        requests: list[tuple[JSON, _Batch]] = [(d, _Batch(deletes=True)) for d in deletes]
        requests += structure
        for request in gg.update_requests(cells_at):
            rng = request["updateCells"]["range"]
            covered = {(int(rng["sheetId"]), r)
                       for r in range(rng["startRowIndex"], rng["endRowIndex"])}
            requests.append((request, _Batch(rows=covered)))
        for request, sid, placed in appends:
            requests.append((request, _Batch(placed={sid: placed})))
        requests += [(n, _Batch()) for n in named]
        return _split(requests), targets, cells, appended

    def _response_ranges(self, batch: _Batch, targets: Mapping[int, _Target]) -> list[str]:
        """The key cells of the rows this batch wrote, to verify them from its response."""
        out = []
        for sid, target in targets.items():
            rows = [r for s, r in batch.rows if s == sid]
            if not rows or not target.key_cols:
                continue
            for col in target.key_cols:
                letter = gg.column_letters(col)
                out.append(f"{gg.quote_title(target.grid.title)}!{letter}{min(rows) + 1}:"
                           f"{letter}{max(rows) + 1}")
        return out

    def _key_columns(self, targets: Mapping[int, _Target], sids: set[int]) -> dict[int, Grid]:
        """Whole key columns of some tabs: where every key is now (before a repair)."""
        wanted = {t.grid.title: [f"{gg.column_letters(c)}1:{gg.column_letters(c)}"
                                 for c in t.key_cols]
                  for sid, t in targets.items() if sid in sids and t.key_cols}
        grids = self._fetch(wanted, gg.KEY_FIELDS, "repair-check")
        return {g.sheet_id: g for g in grids.values()}

    def _send(self, batch: _Batch, targets: Mapping[int, _Target],
              plain: tuple[_Batch, dict[int, _Target]] | None = None
              ) -> tuple[dict[int, Grid], dict[int, _Target]]:
        """One batchUpdate; returns the key columns after it and the targets they answer.

        Every cell it writes sits at a position fixed before sending (new History and Sync-log
        rows included), so a resend lands on the same cells: nothing is added twice. A row
        deletion is the exception: when a batch holding one failed in a way that may have
        applied it, the rows are read back first, and if they are not there the batch is
        resent without the deletion (``plain``), at the rows as they were read. Should the
        first try land later after all, its deletion moves those rows up onto the very cells
        it writes itself. Old rows then go on a later sync.
        """
        attempts = self.http.policy.attempts
        for attempt in range(1, attempts + 1):
            ranges = self._response_ranges(batch, targets)
            body: JSON = {"requests": batch.requests}
            if ranges:
                body.update(includeSpreadsheetInResponse=True, responseRanges=ranges,
                            responseIncludeGridData=True)
            fields = f"updatedSpreadsheet({gg.KEY_FIELDS})" if ranges else "spreadsheetId"
            try:
                answer = self._post(body, "write", fields)
                grids = gg.parse_grids(answer.get("updatedSpreadsheet") or {})
                return {g.sheet_id: g for g in grids}, dict(targets)
            except GoogleRequestError as exc:
                if "already exists" not in exc.google_message:
                    raise
                if attempt == 1:
                    raise ContractError([Problem(
                        T.SCORES, None, None, "a tab of that name exists but is not the tool's "
                        f"(Google: {exc.google_message})",
                        f"rename that tab: sheets-health keeps Customers' outputs in a tab "
                        f"named '{T.SCORES}' it creates itself")]) from None
                # a resend of the write that creates the Scores tab: the first one landed
                log.info("the failed write had been applied; not sending it again")
                return {}, dict(targets)
            except UncertainWriteError as exc:
                self._wait_or_give_up(attempt, exc, "the next scheduled run will try again")
                if not batch.deletes:
                    continue  # the same cells again: safe whether or not it landed
                landed = self._landed(batch, targets)
                if landed is not None:
                    log.info("the failed write had been applied; not sending it again")
                    return landed, dict(targets)
                if plain is not None:
                    batch, targets, plain = plain[0], plain[1], None
        raise AssertionError("unreachable")  # pragma: no cover

    def _landed(self, batch: _Batch, targets: Mapping[int, _Target]) -> dict[int, Grid] | None:
        """After a write holding a row deletion failed mid-way: did Google apply it? Its new
        rows are read back where it put them (a batchUpdate applies whole or not at all)."""
        by_id = {t.grid.sheet_id: t for t in targets.values()}
        wanted: dict[str, list[str]] = {}
        for sid, rows in batch.placed.items():
            if sid in by_id and rows:
                first, last = min(r for r, _ in rows), max(r for r, _ in rows)
                wanted[by_id[sid].grid.title] = [f"{first + 1}:{last + 1}"]
        if not wanted:
            return None
        for target in targets.values():
            if target.key_cols and target.grid.title not in wanted:
                letters = [gg.column_letters(c) for c in target.key_cols]
                wanted[target.grid.title] = [f"{c}1:{c}" for c in letters]
        grids = {g.sheet_id: g for g in self._fetch(wanted, gg.KEY_FIELDS, "write-check").values()}
        for sid, rows in batch.placed.items():
            grid = grids.get(sid)
            if grid is None or not all(gg.same_written(value, grid.values.get((row, col)))
                                       for row, values in rows for col, value in values.items()):
                return None
        return grids

    def _verify(self, targets: Mapping[int, _Target], after: Mapping[int, Grid],
                rows: set[tuple[int, int]]) -> list[tuple[int, int]]:
        """(sheet id, row) written whose key is no longer the customer it was meant for."""
        bad = []
        for sid, row in sorted(rows):
            target = targets.get(sid)
            grid = after.get(sid)
            if target is None or grid is None or not target.key_cols or row not in target.expected:
                continue
            if grid.row_key(row, target.key_cols) != target.expected[row]:
                bad.append((sid, row))
        return bad

    def _repair(self, targets: Mapping[int, _Target], after: Mapping[int, Grid],
                mismatched: Sequence[tuple[int, int]], repaired: list[str],
                skipped: list[str]) -> _Batch:
        """Rewrite moved rows where their key now is; restore what landed on someone else."""
        cells_at: list[CellAt] = []
        rows: set[tuple[int, int]] = set()
        for sid in sorted({sid for sid, _ in mismatched}):
            target, grid = targets[sid], after[sid]
            index = _key_index(grid, target.key_cols)
            dirty = sorted(row for s, row in mismatched if s == sid)
            moved = {row: target.expected.pop(row) for row in dirty}
            wrote = {row: target.wrote.pop(row, {}) for row in dirty}
            planned = {key: wrote[row] for row, key in moved.items()}
            new_writes: dict[int, dict[int, CellWrite]] = {}
            for row, key in moved.items():
                found = index.get(key, [])
                if not found:
                    skipped.append(f"{grid.title}: {_label(target.plan.key_columns, key)} "
                                   "vanished while writing")
                    continue
                new_writes[found[0]] = planned[key]
                target.expected[found[0]] = key
                repaired.append(f"{grid.title}: {_label(target.plan.key_columns, key)} moved "
                                f"from row {row + 1} to row {found[0] + 1} during the write; "
                                "written again there")
            cache = self._tables.get(norm_header(grid.title))
            for row in dirty:  # what we wrote on someone else's row goes back to what it was
                owner = grid.row_key(row, target.key_cols)
                for col, write in wrote[row].items():
                    if col in new_writes.get(row, {}):
                        continue
                    data, mask = _restore(cache, target, owner, col, write)
                    cells_at.append(CellAt(sid, row, col, data, mask))
                    rows.add((sid, row))
                if row not in new_writes:
                    target.expected[row] = owner
            for row, by_col in new_writes.items():
                for col, write in by_col.items():
                    data, mask = gg.cell_data(write)
                    cells_at.append(CellAt(sid, row, col, data, mask))
                target.wrote[row] = dict(by_col)
                rows.add((sid, row))
        batch = _Batch(requests=gg.update_requests(cells_at), rows=rows)
        return batch

    # ------------------------------------------------------------------ init

    def stage_summary(self, tab: str, sheet: SummarySheet) -> bool:
        """Have the next `apply` replace the Summary tab inside its own batchUpdate (one atomic
        write: never scores written but the Summary not). False when this sync's read did not
        see the tab (`write_summary` then writes it on its own)."""
        from sheets_health.backends.google_summary import summary_requests

        grid = self._read_grids.get(norm_header(tab))
        if grid is None:
            return False
        self._summary = summary_requests(grid.sheet_id, grid.title, grid.index, True, sheet)
        return True

    def write_summary(self, tab: str, sheet: SummarySheet) -> None:
        """Replace the Summary tab (cells, widths, chart) in one batchUpdate; a retry of an
        uncertain write is rebuilt from a fresh look at the tabs, so it lands once."""
        from sheets_health.backends.google_summary import summary_requests

        attempts = self.http.policy.attempts
        for attempt in range(1, attempts + 1):
            body = self._get({"fields": "sheets.properties(sheetId,title,index)"},
                             "summary-titles")
            props = [s.get("properties") or {} for s in body.get("sheets") or []]
            found = next((p for p in props if norm_header(p.get("title")) == norm_header(tab)),
                         None)
            ids = [int(p.get("sheetId", 0)) for p in props]
            if found is not None:
                sid, title, index = int(found.get("sheetId", 0)), str(found["title"]), int(
                    found.get("index", 0))
            else:
                sid, title, index = max(ids, default=0) + 1, tab, len(props)
            requests = summary_requests(sid, title, index, found is not None, sheet)
            try:
                self._post({"requests": requests}, "summary-write", "spreadsheetId")
            except UncertainWriteError as exc:
                self._wait_or_give_up(attempt, exc)
                continue
            finally:
                self._titles = None
            return

    def _wait_or_give_up(self, attempt: int, exc: UncertainWriteError,
                         hint: str | None = None) -> None:
        """After a write whose outcome is unknown: wait before the next try, or give up (exit
        3) when this was the last one."""
        if attempt == self.http.policy.attempts:
            raise OutageError(f"{exc.message}; gave up after {attempt} tries", hint) from None
        self.http.backoff_sleep(attempt, exc.message)

    def init(self, template: Sequence[TabTemplate]) -> list[str]:
        """Missing tabs, headers, frozen header rows and dropdowns; a second run sends nothing."""
        attempts = self.http.policy.attempts
        changes: list[str] = []
        for attempt in range(1, attempts + 1):
            grids = self._fetch({t.name: ["1:2"] for t in template},
                                f"{gg.INIT_FIELDS},{gg.NAMED_FIELDS}", "init-read")
            widths = self._used_widths(template, grids)
            used = {g.sheet_id for g in self._grids.values()}
            named = frozenset(gg.NAMED_PREFIX + n for n in self._named)
            requests, now = init_requests(template, grids, widths, used, named)
            if not requests:
                return changes  # a retried write that had landed: report what it did
            changes = now
            try:
                self._post({"requests": requests}, "init-write", "spreadsheetId")
            except UncertainWriteError as exc:
                self._wait_or_give_up(attempt, exc)
                continue  # recomputed from a fresh read: nothing is added twice
            finally:
                self._titles = None
            return changes
        return changes  # pragma: no cover

    def _used_widths(self, template: Sequence[TabTemplate], grids: Mapping[str, Grid]
                     ) -> dict[str, int]:
        """Used width of tabs that get new headers (a second read, only when there are)."""
        needing = [t.name for t in template if t.name in grids and any(
            grids[t.name].column(h) is None for h in t.headers)]
        if not needing:
            return {}
        full = self._fetch({name: [""] for name in needing}, gg.VALUES_FIELDS, "init-read")
        return {name: grid.used_width() for name, grid in full.items()}

# ----------------------------------------------------------------------------- helpers


_label = rowmatch.label


def _column(cols: Mapping[str, int], header: str, title: str, problems: list[Problem]
            ) -> int | None:
    col = cols.get(norm_header(header))
    if col is None:
        problems.append(Problem(title, 1, header, "the column is missing",
                                "run `sheets-health init` to add it back to row 1"))
    return col


def _key_index(grid: Grid, key_cols: Sequence[int]) -> dict[tuple[str, ...], list[int]]:
    """Key -> 0-based rows, by the shared rule (`sheets_health.rowmatch`)."""
    if not key_cols:
        return {}
    rows = sorted({r for (r, c) in grid.values if r > 0 and c in key_cols})
    return rowmatch.key_index((row, grid.row_key(row, key_cols)) for row in rows)


def _utc(moment: dt.datetime) -> dt.datetime:
    """A run time as naive UTC (a naive time is this machine's local time)."""
    aware = moment if moment.tzinfo is not None else moment.astimezone()
    return aware.astimezone(dt.UTC).replace(tzinfo=None)


def _last_row(grid: Grid) -> int:
    """The last row (1-based) holding a value, from a whole read of the tab."""
    return max((r + 1 for (r, _c), v in grid.values.items() if v is not None), default=1)


def _restore(cache: Table | None, target: _Target, owner: tuple[str, ...], col: int,
             write: CellWrite) -> tuple[JSON, frozenset[str]]:
    """The cell as it was before our write landed on ``owner``'s row (blank if unknown)."""
    value: Any = None
    color: str | None = None
    if cache is not None and any(owner):
        key_headers = [target.plan.key_columns[i] for i in range(len(target.key_cols))]
        header = next((h for h, c in target.cols.items() if c == col), None)
        for i, row_values in enumerate(cache.rows):
            cached_key = tuple(key_text(cache.value(i, h)) for h in key_headers)
            if cached_key == owner and header is not None:
                cached_col = next((j for j, h in enumerate(cache.headers)
                                   if norm_header(h) == header), None)
                if cached_col is not None and cached_col < len(row_values):
                    value = row_values[cached_col]
                    color = cache.colors.get((cache.row_numbers[i], cached_col))
                break
    data, mask = gg.cell_data(CellWrite(value))
    if write.fill is not None:
        mask = mask | {gg.BACKGROUND}
        if color:
            data.setdefault("userEnteredFormat", {})["backgroundColor"] = gg.rgb(color)
    return data, frozenset(mask)


def _split(requests: Sequence[tuple[JSON, _Batch]]) -> list[_Batch]:
    """Group requests into batchUpdates under the payload limit (usually exactly one)."""
    batches: list[_Batch] = []
    current = _Batch()
    for request, part in requests:
        size = len(json.dumps(request, separators=(",", ":")))
        if current.requests and current.size + size > MAX_PAYLOAD:
            batches.append(current)
            current = _Batch()
        current.requests.append(request)
        current.size += size
        current.rows |= part.rows
        current.deletes |= part.deletes
        for sid, rows in part.placed.items():
            current.placed.setdefault(sid, []).extend(rows)
        for sid, headers in part.headers.items():
            current.headers.setdefault(sid, []).extend(headers)
    if current.requests:
        batches.append(current)
    return batches
