"""The backend protocol: the only way `sync` touches a spreadsheet."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Protocol

from sheets_health.model import ApplyResult, Mark, Table, WritePlan
from sheets_health.template import TabTemplate


class Backend(Protocol):
    """A spreadsheet the tool reads and writes (a Google Sheet or a local workbook)."""

    @property
    def description(self) -> str:
        """Where the sheet is, for messages (never includes credentials)."""
        ...

    @property
    def time_zone(self) -> str | None:
        """The spreadsheet's own time zone as of the last `read` (a Google sheet's
        ``Europe/Berlin``, read in that same request); None when the file has none."""
        ...

    def read(self, tabs: Sequence[str],
             marks: Mapping[str, Sequence[str | int | Mark]] | None = None
             ) -> dict[str, Table]:
        """Read the named tabs (matched case/space-insensitively) in as few calls as possible.

        Tabs that do not exist are absent from the result; keys are the names asked for.
        ``marks`` may bound the read of growing tabs (by name as asked for): the header row
        plus the rows of the named bookmarks (`Mark`), or of every row from an int on, or the
        cells of a `Mark` given as it is (a fixed rectangle; a backend that reads tabs whole
        anyway may ignore those). A backend without bookmarks, or missing one, reads the
        whole tab (`Table.complete`).
        Cell values follow `sheets_health.cells`: numbers as int/float (a percent-formatted
        number as a `Percent`, its stored fraction), dates as
        `datetime.date`/`datetime.datetime`, text as str, blanks as None, formulas as
        their computed value.
        """
        ...

    def apply(self, plan: WritePlan) -> ApplyResult:
        """Write the plan atomically, touching only the cells it names.

        Rows of a tab with key columns are found again by key right before writing (people
        sort and insert rows while a sync runs) and verified after; headers in
        ``add_headers`` are appended at the right end of row 1. Appended rows go below the
        last used row. Text is stored as text, never evaluated as a formula.
        """
        ...

    def hold_lease(self, mode: str, run_at: dt.datetime, run_id: str) -> None:
        """Claim the sheet for this run's write against runs on other machines, or raise
        `LockedError` naming the run that holds it. The next `apply` that writes the
        run's Sync-log row ends the claim. A no-op where a local lock suffices (a workbook)."""
        ...

    def init(self, template: Sequence[TabTemplate]) -> list[str]:
        """Create missing tabs and headers (never clobbering data); returns what changed."""
        ...
