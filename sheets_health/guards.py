"""Refuse a run whose outcome looks like broken input rather than real change.

A source that returns nothing, a renamed column or a wrong database turns most customers the
same colour in one run. Real health rarely moves that fast, so a sync that would change the
colour of more than `Max colour changes` (Settings, default 50 %) of the customers that had a
colour is refused (exit 5) unless ``--force``. Pure: it looks at the planned changes only.
"""

from __future__ import annotations

from collections.abc import Sequence

from sheets_health import template as T
from sheets_health.cells import key_text
from sheets_health.changes import ColourChange
from sheets_health.errors import UnsafeInputError
from sheets_health.model import Rag, SheetModel, Table, norm_header

# Below this many changes the guard never fires: on a sheet of a handful of customers, three
# turning Red is a plausible week, not a broken source.
MIN_COLOUR_CHANGES = 5
EXAMPLES = 3
_COLOURS = {norm_header(r.value) for r in Rag}


def coloured_customers(table: Table, model: SheetModel) -> int:
    """Active customers whose `Health` showed Green, Yellow or Red before the run."""
    if table.column(T.HEALTH) is None:
        return 0
    active = {c.id for c in model.customers if not c.inactive}
    count = 0
    for index in range(len(table.rows)):
        if key_text(table.value(index, T.CUSTOMER_ID)) not in active:
            continue
        if norm_header(key_text(table.value(index, T.HEALTH))) in _COLOURS:
            count += 1
    return count


def counted_changes(changes: Sequence[ColourChange], model: SheetModel) -> list[ColourChange]:
    """Changes of customers that had a colour and are still scored (a customer a person
    marked churned is a decision, not a symptom)."""
    inactive = {c.id for c in model.customers if c.inactive}
    return [c for c in changes
            if c.customer_id not in inactive and norm_header(c.before) in _COLOURS]


def check_colour_changes(table: Table, model: SheetModel, changes: Sequence[ColourChange],
                         force: bool) -> None:
    """Raise `UnsafeInputError` when too many customers would change colour at once."""
    if force:
        return
    counted = counted_changes(changes, model)
    base = coloured_customers(table, model)
    limit = model.settings.max_colour_changes
    if len(counted) < MIN_COLOUR_CHANGES or base == 0 or len(counted) <= limit * base:
        return
    shown = "; ".join(str(c) for c in counted[:EXAMPLES])
    more = f" and {len(counted) - EXAMPLES} more" if len(counted) > EXAMPLES else ""
    raise UnsafeInputError(
        f"{len(counted)} of {base} customers ({len(counted) / base:.0%}) would change colour "
        f"in this run, more than '{T.SET_MAX_COLOUR_CHANGES}' ({limit:.0%}) allows; nothing "
        f"was written. For example: {shown}{more}",
        "a broken source looks like this: check the sources' files and databases, the "
        "Scorecard and the Customers columns these customers' reasons name; if the change is "
        "real (e.g. new weights), run `sheets-health sync --force` once, or raise "
        f"'{T.SET_MAX_COLOUR_CHANGES}' in Settings",
    )
