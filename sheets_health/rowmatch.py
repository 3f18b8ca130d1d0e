"""Finding a planned row again by its key: the one rule both backends follow.

People sort and insert rows while a sync runs, so the row number a plan was made with is a
hint only. Pure functions over each backend's own index of the key cells (1-based rows).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

Key = tuple[str, ...]


def key_index(rows: Iterable[tuple[int, Key]]) -> dict[Key, list[int]]:
    """Key -> the rows holding it, in sheet order; rows whose key cells are all blank are
    nobody's."""
    index: dict[Key, list[int]] = {}
    for row, key in rows:
        if any(key):
            index.setdefault(key, []).append(row)
    return index


def label(names: Sequence[str], key: Key) -> str:
    return ", ".join(f"{n} '{k}'" for n, k in zip(names, key, strict=False))


def find_row(tab: str, what: str, hint: int, rows: Sequence[int]
             ) -> tuple[int | None, str | None, str | None]:
    """(row to write, note that it moved, note that it is skipped) for a key found in
    ``rows``: the hinted row when it still holds the key; the key's only row when it moved;
    nothing when it vanished, or moved while held by several rows (which one is meant?)."""
    if hint in rows:
        return hint, None, None
    if len(rows) == 1:
        return rows[0], f"{tab}: {what} moved from row {hint} to row {rows[0]}", None
    if not rows:
        return None, None, f"{tab}: {what} (was row {hint}) is no longer there"
    found = ", ".join(str(r) for r in rows)
    return None, None, f"{tab}: {what} is in several rows ({found}); not written"
