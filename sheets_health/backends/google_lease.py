"""The lease: one sync at a time per Google Sheet, whatever machine it runs on.

A local file lock only stops two runs on one machine. Two machines (a cron job and a scheduled
CI workflow, say) syncing the same sheet would both write. So right before its write a sync
*claims* the sheet: it appends a `running` row to the Sync log with ``appendCells``, which
Google applies one after the other, and the same request returns the rows below what this
sync read. The claim wins only when it is the first row there: any row that landed between
this sync's read and its claim is another run's claim or the row of a run that finished since
(either way this sync's plan is stale). A loser changes its own row to `locked` and exits 6,
saying who holds the sheet and until when; a `locked` row blocks no later claim, as that run
wrote nothing else. The winner's write turns its claim row into the
run's final row, in the same atomic batch as everything else.

A claim row says::

    Result   running 1f3a9c2e                       (the run id)
    Message  sa@project.iam.gserviceaccount.com on cron-host (pid 4242) holds the lock
             until 2026-12-02 09:15:00 UTC

A claim whose time has passed belongs to a run that stopped without finishing (a crash, a
killed job): it blocks nothing, and the next winner marks it `expired`. A run still writing
when half its lease has gone renews it. Rows are found by their run id with ``findReplace``,
never by position, so a row deletion in between (Sync-log retention) cannot make a run edit
another run's row.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import socket
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from sheets_health.backends.google_grid import JSON, Grid
from sheets_health.cells import key_text

LEASE = dt.timedelta(minutes=15)  # far beyond one write; a crashed run blocks at most this
RUNNING = "running"
LOCKED = "locked"
EXPIRED = "expired"
DUPLICATE = "duplicate"
_RESULT = re.compile(r"running ([0-9a-f]{8,32})", re.IGNORECASE)
_UNTIL = re.compile(r"(.*) holds the lock until (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) UTC$")
STAMP = "%Y-%m-%d %H:%M:%S"


def owner(email: str | None) -> str:
    """Who runs: the account, the machine and the process (no secret in any of them)."""
    return f"{email or 'an unknown account'} on {socket.gethostname()} (pid {os.getpid()})"


def claim_message(who: str, until: dt.datetime) -> str:
    return f"{who} holds the lock until {until.strftime(STAMP)} UTC"


@dataclass(frozen=True)
class Claim:
    row: int  # 0-based
    run_id: str
    owner: str
    until: dt.datetime  # UTC, naive
    result: str  # the cells' text, as found
    message: str

    def expired(self, now_utc: dt.datetime) -> bool:
        return self.until <= now_utc

    def holder_text(self) -> str:
        until = self.until.strftime(STAMP)
        return f"{self.owner} (run {self.run_id}) holds this sheet until {until} UTC"


def claim_at(grid: Grid, row: int, result_col: int, message_col: int) -> Claim | None:
    result = key_text(grid.values.get((row, result_col)))
    message = key_text(grid.values.get((row, message_col)))
    found, until = _RESULT.fullmatch(result), _UNTIL.match(message)
    if not found or not until:
        return None
    try:
        when = dt.datetime.strptime(until.group(2), STAMP)
    except ValueError:
        return None
    return Claim(row, found.group(1).lower(), until.group(1), when, result, message)


def claims(grid: Grid, rows: Iterable[int], result_col: int, message_col: int) -> list[Claim]:
    found = (claim_at(grid, r, result_col, message_col) for r in rows)
    return [c for c in found if c is not None]


@dataclass
class Lease:
    """A claim this run holds."""

    sheet_id: int
    run_id: str
    row: int  # 0-based: where the run's final Sync-log row goes
    result: str
    message: str
    who: str
    until: dt.datetime
    expired: list[Claim] = field(default_factory=list)  # crashed runs' claims, to mark
    dead: list[Claim] = field(default_factory=list)  # late copies of finished runs' claims
    copies: list[int] = field(default_factory=list)  # rows: this claim, sent twice, seen twice

    def due(self, now_utc: dt.datetime) -> bool:
        return now_utc >= self.until - LEASE / 2


def replace_text(sheet_id: int, old: str, new: str) -> JSON:
    """Change one cell's whole text wherever it is in the tab: rows found by content."""
    return {"findReplace": {"find": old, "replacement": new, "matchEntireCell": True,
                            "matchCase": True, "sheetId": sheet_id}}


def closing_requests(lease: Lease, shift: int) -> list[JSON]:
    """Sent at the end of the write that turns the claim row into the run's final row.

    A claim sent again after a timeout may be applied twice. The copies of this run's claim
    that its claim's answer showed are deleted (rows below the final row: ``shift`` is the
    rows the same write deletes at the top, for retention). Any other copy (one that landed
    later, or a finished run's) is marked `duplicate`, and the claims of runs that stopped
    without finishing are marked `expired`: those are found by content, not position."""
    out: list[JSON] = [{"deleteDimension": {"range": {
        "sheetId": lease.sheet_id, "dimension": "ROWS",
        "startIndex": row - shift, "endIndex": row - shift + 1}}}
        for row in sorted(lease.copies, reverse=True)]
    for old in lease.expired:
        out.append(replace_text(lease.sheet_id, old.result, EXPIRED))
        out.append(replace_text(lease.sheet_id, old.message,
                                f"stopped without finishing; its lock ran out at "
                                f"{old.until.strftime(STAMP)} UTC (taken over by run "
                                f"{lease.run_id})"))
    copies = {(c.result, c.message, c.run_id) for c in lease.dead}
    copies.add((lease.result, lease.message, lease.run_id))
    for result, message, run_id in sorted(copies):
        out.append(replace_text(lease.sheet_id, result, DUPLICATE))
        out.append(replace_text(lease.sheet_id, message,
                                f"a second copy of run {run_id}'s claim (sent again after a "
                                "timeout); nothing ran twice"))
    return out


def loser_requests(sheet_id: int, result: str, message: str, holder: str) -> list[JSON]:
    return [replace_text(sheet_id, result, LOCKED),
            replace_text(sheet_id, message, f"did nothing: {holder}")]


def columns(headers: Mapping[str, int]) -> tuple[int, int] | None:
    """The Result and Message columns of a Sync log, if it has both."""
    result, message = headers.get("result"), headers.get("message")
    return (result, message) if result is not None and message is not None else None


def finished_runs(grid: Grid, run_col: int | None, result_col: int) -> set[str]:
    """Run ids of the rows that are not claims: runs that are over."""
    if run_col is None:
        return set()
    out = set()
    for (row, col), value in grid.values.items():
        if col == run_col and key_text(value) and not _RESULT.fullmatch(
                key_text(grid.values.get((row, result_col)))):
            out.add(key_text(value).lower())
    return out
