"""Which customers change colour in a sync: the Customers tab as read against the new scores.

"From" is what the team saw in the sheet before the run (the `Health` and `Health score` cells
as read), so a weight edited in Scorecard that turns a customer Green is announced by the sync
that does it. A customer whose `Health` was blank has no colour to change from: its first score
is not a change.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sheets_health import template as T
from sheets_health.cells import format_number, key_text
from sheets_health.model import CustomerScore, SheetModel, Table, norm_header
from sheets_health.plan import output_cells


@dataclass(frozen=True)
class ColourChange:
    customer_id: str
    before: str  # the Health cell as read, e.g. "Green"
    after: str  # what the sync writes, e.g. "Yellow" or "Not enough data"
    score_before: float | None
    score_after: float | None
    reason: str  # the new top reason

    def __str__(self) -> str:
        scores = f"{_score_text(self.score_before)} → {_score_text(self.score_after)}"
        text = f"{self.customer_id} {self.before} → {self.after} ({scores})"
        return f"{text}: {self.reason}" if self.reason else text

    def as_dict(self) -> dict[str, object]:
        return {
            "customer_id": self.customer_id,
            "from": self.before,
            "to": self.after,
            "from_score": self.score_before,
            "to_score": self.score_after,
            "reason": self.reason,
        }


def _score_text(score: float | None) -> str:
    return "no score" if score is None else format_number(score)


def _number(value: object) -> float | None:
    """A score as a number (whole scores as int, so JSON shows 75, not 75.0); else None."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    return int(value) if float(value).is_integer() else float(value)


def top_reason(reasons: str) -> str:
    """The first driver of a Reasons text (drivers are separated by "; ")."""
    return reasons.split("; ", 1)[0].strip()


def colour_changes(
    table: Table, model: SheetModel, scores: Mapping[str, CustomerScore]
) -> tuple[ColourChange, ...]:
    """The customers whose Health changes, in sheet order."""
    if table.column(T.HEALTH) is None:
        return ()
    index_of = {key_text(table.value(i, T.CUSTOMER_ID)): i for i in range(len(table.rows))}
    changes = []
    for customer in model.customers:
        index = index_of.get(customer.id)
        if index is None:
            continue
        before = key_text(table.value(index, T.HEALTH)).strip()
        if not before:
            continue
        score = scores[customer.id]
        after = str(output_cells(score)[T.HEALTH].value)
        if norm_header(before) == norm_header(after):
            continue
        changes.append(ColourChange(
            customer_id=customer.id,
            before=before,
            after=after,
            score_before=_number(table.value(index, T.HEALTH_SCORE)),
            score_after=_number(score.score),
            reason=top_reason(score.reasons),
        ))
    return tuple(changes)
