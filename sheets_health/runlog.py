"""The Sync log row of a failed run, so the sheet itself shows that scores went stale and why.

Best effort by design: writing the row must never hide the error that stopped the run, so any
failure here is swallowed (and logged at debug level only: a warning on stderr would break a
`--json >> sync.log` history). Error rows leave the counts blank; whatever reads the Sync log
(the shrink check) looks at `ok` rows only.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import secrets
from collections.abc import Iterator

from sheets_health import template as T
from sheets_health.backends import Backend
from sheets_health.errors import (
    EXIT_INTERNAL,
    LockedError,
    OutageError,
    SheetsHealthError,
)
from sheets_health.model import CellValue, WritePlan
from sheets_health.plan import fit, plan_sync_log
from sheets_health.sources.common import scrub

log = logging.getLogger(__name__)

RESULT_OK = "ok"
RESULT_ERROR = "error"


def new_run_id() -> str:
    """A run's id: on its Sync-log row, and on its claim on a Google Sheet."""
    return secrets.token_hex(4)


def exit_code_of(exc: BaseException) -> int:
    return exc.exit_code if isinstance(exc, SheetsHealthError) else EXIT_INTERNAL


def error_message(exc: BaseException) -> str:
    """What the log row says: the library's message, or the type and text of a bug; passwords
    in URLs and secret query values are masked either way."""
    if isinstance(exc, SheetsHealthError):
        text = exc.message
    else:
        text = f"internal error: {type(exc).__name__}: {exc} (rerun with --debug)"
    return fit(scrub(text, ()))


def error_row(now: dt.datetime, mode: str, exc: BaseException, run_id: str = ""
              ) -> dict[str, CellValue]:
    return {
        "Run at": now.replace(microsecond=0),
        "Mode": mode,
        "Result": RESULT_ERROR,
        "Exit code": exit_code_of(exc),
        "Message": error_message(exc),
        **({"Run id": run_id} if run_id else {}),
    }


def can_log(exc: BaseException) -> bool:
    """Not when another run holds the lock (it is writing), nor when the sheet itself could not
    be reached after retries: trying again at once would only double the run's time."""
    return not isinstance(exc, LockedError | OutageError)


def log_failure(backend: Backend, now: dt.datetime, mode: str, exc: BaseException,
                run_id: str = "") -> bool:
    """Append the error row to the Sync log, if the tab exists; True when it was written."""
    if not can_log(exc):
        return False
    try:
        table = backend.read([T.SYNC_LOG]).get(T.SYNC_LOG)
        if table is None:
            return False
        backend.apply(WritePlan((plan_sync_log(table, error_row(now, mode, exc, run_id)),)))
    except Exception as failure:  # never mask the original error
        log.debug("could not write the error row to the Sync log: %s", type(failure).__name__)
        return False
    return True


@contextlib.contextmanager
def failures_logged(
    backend: Backend, now: dt.datetime, mode: str, *, dry_run: bool, run_id: str = ""
) -> Iterator[None]:
    """Log any failure of the block to the Sync log (not on a dry run), then re-raise it."""
    try:
        yield
    except Exception as exc:
        if not dry_run:
            log_failure(backend, now, mode, exc, run_id)
        raise
