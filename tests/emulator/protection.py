"""Protected ranges as Google keeps them: returned by spreadsheets.get with the caller's own
``requestingUserCanEdit``, and enforced on writes: a batchUpdate that changes a cell inside a
range protected against the caller is refused whole with Google's 400.

A protected range is stored in ``Sheet.extra["protectedRanges"]`` as Google returns it, with
``editors.users``; a ``warningOnly`` range only warns people in the UI, as at Google.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .grid import GridError, Sheet, Spreadsheet

JSON = dict[str, Any]
PROTECTED_MESSAGE = ("You are trying to edit a protected cell or object. Please contact the "
                     "spreadsheet owner to remove protection if you need to edit.")


class ProtectedEditError(GridError):
    """A write touched a cell protected against the caller (Google: 400 INVALID_ARGUMENT)."""


def _can_edit(protected: JSON, email: str | None) -> bool:
    return bool(protected.get("warningOnly")) or (
        email is not None and email in ((protected.get("editors") or {}).get("users") or []))


def annotate(result: JSON, email: str | None) -> None:
    """Set ``requestingUserCanEdit`` on every protected range of a response, for this caller
    (proto3 JSON leaves a false boolean out)."""
    for holder in (result, result.get("updatedSpreadsheet") or {}):
        for sheet in holder.get("sheets") or []:
            for protected in sheet.get("protectedRanges") or []:
                if _can_edit(protected, email) and not protected.get("warningOnly"):
                    protected["requestingUserCanEdit"] = True
                else:
                    protected.pop("requestingUserCanEdit", None)


def _bounds(sheet: Sheet, rng: JSON) -> tuple[int, int, int, int]:
    return (int(rng.get("startRowIndex", 0)), int(rng.get("endRowIndex", sheet.row_count)),
            int(rng.get("startColumnIndex", 0)), int(rng.get("endColumnIndex", sheet.col_count)))


def check_writes(before: Sequence[Sheet], after: Spreadsheet, email: str | None) -> None:
    """Raise `ProtectedEditError` when a cell inside a range protected against ``email``
    changed between the snapshot ``before`` and now."""
    old = {s.sheet_id: s for s in before}
    for sheet in after.sheets:
        previous = old.get(sheet.sheet_id)
        for protected in sheet.extra.get("protectedRanges") or []:
            if previous is None or _can_edit(protected, email):
                continue
            r0, r1, c0, c1 = _bounds(sheet, protected.get("range") or {})
            keys = {k for k in (*previous.cells, *sheet.cells)
                    if r0 <= k[0] < r1 and c0 <= k[1] < c1}
            if any(previous.cells.get(k) != sheet.cells.get(k) for k in keys):
                raise ProtectedEditError(PROTECTED_MESSAGE)
