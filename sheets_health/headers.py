"""The header rule for every tab the tool reads: row 1 names each column once."""

from __future__ import annotations

from sheets_health.cells import column_letter, is_blank
from sheets_health.errors import Problem
from sheets_health.model import Table, norm_header

__all__ = ["header_problems"]


def header_problems(table: Table) -> list[Problem]:
    """Row 1 must name each column once: a duplicate header (two `QBR held` columns) or a
    blank header over data would make the tool pick one column silently.

    Columns without a header to the right of the last header are the user's notes: allowed,
    never read, never written. A blank header between headers is allowed only over no data.
    """
    found: list[Problem] = []
    by_name: dict[str, list[int]] = {}
    for index, header in enumerate(table.headers):
        if norm_header(header):
            by_name.setdefault(norm_header(header), []).append(index)
    for columns in by_name.values():
        if len(columns) > 1:
            letters = [column_letter(c) for c in columns]
            both = "both" if len(columns) == 2 else "all"
            named = ", ".join(letters[:-1]) + f" and {letters[-1]}"
            header = table.headers[columns[0]].strip()
            found.append(Problem(
                table.tab, 1, header, f"columns {named} are {both} headed '{header}'",
                "rename or delete the extra column: each header must name one column"))
    last = max((i for i, h in enumerate(table.headers) if norm_header(h)), default=-1)
    for index in range(last):
        if norm_header(table.headers[index]):
            continue
        rows = [table.row_numbers[r] if r < len(table.row_numbers) else r + 2
                for r, row in enumerate(table.rows)
                if index < len(row) and not is_blank(row[index])]
        if not rows:
            continue
        letter = column_letter(index)
        shown = ", ".join(map(str, rows[:5])) + (" …" if len(rows) > 5 else "")
        found.append(Problem(
            table.tab, 1, letter,
            f"column {letter} has no header but holds data (row{'s' if len(rows) > 1 else ''} "
            f"{shown})",
            f"type a header in {letter}1 (a column the tool does not use stays yours), or move "
            f"the data to the right of the last header ({column_letter(last)}1), where "
            "unlabelled columns are never read"))
    return found
