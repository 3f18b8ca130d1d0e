"""One exception base with a hint, typed subclasses, and the documented exit codes.

A cron job must tell success, bad input and an outage apart, so every error class carries the
exit code the CLI returns for it:

====  =====================================================================================
code  meaning
====  =====================================================================================
0     success (also: nothing to change)
1     unexpected internal error (a bug: rerun with ``--debug`` and report the traceback)
2     bad input: the config, the sheet (tab/row/column named) or a source's data is wrong
3     outage: the API, network or a database is unavailable or timed out — retry later
4     access denied: credentials missing, unreadable or rejected, or the sheet is not shared
      with the account
5     refused for safety: the input looks wrong (e.g. the customer list shrank by more
      than half, an empty source); check it, then rerun with ``--force``
6     another sync holds the lock; this run did nothing
====  =====================================================================================
"""

from __future__ import annotations

from dataclasses import dataclass

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_BAD_INPUT = 2
EXIT_OUTAGE = 3
EXIT_ACCESS = 4
EXIT_REFUSED = 5
EXIT_LOCKED = 6


class SheetsHealthError(Exception):
    """Base class: a message for the user and a hint saying how to fix it."""

    exit_code = EXIT_INTERNAL

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\n  Fix: {self.hint}"


class ConfigError(SheetsHealthError):
    """The config file or its environment variables are wrong."""

    exit_code = EXIT_BAD_INPUT


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the sheet, located precisely enough to find and fix."""

    tab: str
    row: int | None
    column: str | None
    message: str
    fix: str

    def location(self) -> str:
        # a source's values are located by config section ("[sources.tickets]") and metric
        parts = [self.tab if self.tab.startswith("[") else f"tab '{self.tab}'"]
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column is not None:
            parts.append(self.column if self.tab.startswith("[") else f"column '{self.column}'")
        return ", ".join(parts)

    def __str__(self) -> str:
        return f"{self.location()}: {self.message}. Fix: {self.fix}"

    def as_dict(self) -> dict[str, object]:
        return {
            "tab": self.tab,
            "row": self.row,
            "column": self.column,
            "message": self.message,
            "fix": self.fix,
        }


class ContractError(SheetsHealthError):
    """The sheet breaks its contract; carries every problem found, not just the first."""

    exit_code = EXIT_BAD_INPUT

    def __init__(self, problems: list[Problem]) -> None:
        count = len(problems)
        noun = "problem" if count == 1 else "problems"
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"Found {count} {noun} in the input; no score was written:\n{lines}")
        self.problems = problems

    def __str__(self) -> str:
        return self.message


class SourceError(SheetsHealthError):
    """A metric source is misconfigured or holds bad data."""

    exit_code = EXIT_BAD_INPUT


class SourceUnavailableError(SheetsHealthError):
    """A metric source (database, file share, API) could not be reached."""

    exit_code = EXIT_OUTAGE


class OutageError(SheetsHealthError):
    """The spreadsheet API or network failed after bounded retries."""

    exit_code = EXIT_OUTAGE


class AccessDeniedError(SheetsHealthError):
    """Credentials were rejected or the sheet is not shared with the account."""

    exit_code = EXIT_ACCESS


class CredentialsError(AccessDeniedError):
    """The credentials are missing, unreadable or not a usable key: an access problem (exit 4),
    not bad sheet input, so cron can tell it apart."""


class NotFoundError(SheetsHealthError):
    """The spreadsheet or workbook does not exist (the id or path looks wrong)."""

    exit_code = EXIT_BAD_INPUT


class UnsafeInputError(SheetsHealthError):
    """The input looks wrong enough that writing could do harm; ``--force`` overrides."""

    exit_code = EXIT_REFUSED


class LockedError(SheetsHealthError):
    """Another run holds the lock."""

    exit_code = EXIT_LOCKED


class WriteConflictError(SheetsHealthError):
    """Rows moved under us and could not be matched again; nothing unsafe was written."""

    exit_code = EXIT_OUTAGE
