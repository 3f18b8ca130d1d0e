"""One run at a time per sheet on this machine: a `filelock` lock in the user's cache folder.

The lock file lives in the cache folder, never beside the workbook, so a team's shared folder
does not collect lock files. The lock is held by an open file the OS releases when the process
ends, so a crashed run never blocks the next cron run. (A lease in the spreadsheet, across
machines, would slot in behind `sheet_lock`.)
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path

from filelock import FileLock, Timeout

from sheets_health.config import Backend as BackendKind
from sheets_health.config import Config
from sheets_health.errors import LockedError

_SHEET_ID = re.compile(r"/spreadsheets/d/([A-Za-z0-9_-]+)")


def lock_dir() -> Path:
    """The per-user cache folder: %LOCALAPPDATA% on Windows, else $XDG_CACHE_HOME or ~/.cache."""
    if sys.platform == "win32" and os.environ.get("LOCALAPPDATA"):
        base = Path(os.environ["LOCALAPPDATA"])
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "sheets-health" / "locks"


def lock_path(config: Config) -> Path:
    """One lock file per sheet: the workbook's absolute path or the spreadsheet id, hashed."""
    sheet = config.sheet
    if sheet.backend is BackendKind.XLSX and sheet.path is not None:
        identity = f"xlsx:{sheet.path.expanduser().resolve()}"
    else:  # the id, whether the config gives the id or the sheet's URL
        found = _SHEET_ID.search(str(sheet.spreadsheet))
        identity = f"google:{found.group(1) if found else str(sheet.spreadsheet).strip()}"
    digest = hashlib.sha256(identity.encode("utf-8")).hexdigest()[:16]
    return lock_dir() / f"{digest}.lock"


@contextlib.contextmanager
def run_lock(path: Path) -> Iterator[None]:
    """Hold the lock at ``path`` or fail at once with `LockedError` (exit 6): never wait."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(path, timeout=0)
    try:
        lock.acquire()
    except Timeout:
        raise LockedError(
            "another sheets-health run is working on this sheet; this run did nothing",
            f"nothing to do: the next scheduled run catches up (the lock is {path})",
        ) from None
    try:
        yield
    finally:
        lock.release()


def sheet_lock(config: Config) -> contextlib.AbstractContextManager[None]:
    """The lock for the sheet a config names."""
    return run_lock(lock_path(config))
