"""Keep a `--json` run to its one line: what libraries would print to stderr is collected.

Cron runs `sync --json >> sync.log 2>&1`, so a stray `UserWarning` from openpyxl (common on
workbooks Excel saved with extensions it cannot read) or a log record from an HTTP library
would break the one-JSON-line-per-run history. Python warnings and WARNING-level log records
are gathered instead, masked for secrets, and travel in the JSON line.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import warnings
from collections.abc import Iterator

from sheets_health.sources.common import scrub


class _Gather(logging.Handler):
    def __init__(self, notes: list[str]) -> None:
        super().__init__(logging.WARNING)
        self.notes = notes

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.notes.append(f"{record.name}: {record.getMessage()}")
        except Exception:  # a broken record is not ours to fix
            self.notes.append(f"{record.name}: {record.msg!r}")


class Gathered:
    """What the block let out so far: log records and warnings, unique, secrets masked."""

    def __init__(self) -> None:
        self.records: list[str] = []
        self.warnings: list[warnings.WarningMessage] = []

    def notes(self) -> list[str]:
        redact = None
        google = sys.modules.get("sheets_health.backends.google_http")  # loaded only for Google
        if google is not None:
            redact = google.redact
        seen: dict[str, None] = {}
        texts = [*self.records, *(f"{w.category.__name__}: {w.message}" for w in self.warnings)]
        for text in texts:
            masked = scrub(text, ())
            seen[redact(masked) if redact else masked] = None
        return list(seen)


@contextlib.contextmanager
def gathered() -> Iterator[Gathered]:
    """Collect warnings and WARNING+ log records raised inside the block."""
    found = Gathered()
    handler = _Gather(found.records)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("default")
            found.warnings = caught
            yield found
    finally:
        root.removeHandler(handler)
