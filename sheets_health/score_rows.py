"""One scorecard's numbers for all its customers at once, and lazy per-customer details.

Why: building a `MeasureScore` for every customer × measure costs more than the scoring
itself (two million objects at 100,000 × 20), yet only `explain` and a few reports read
them. A `Card` keeps the numbers as arrays (rows: customers, columns: measures); the
Reasons text picks its few drivers from the arrays, and `RowDetails` builds one customer's
`MeasureScore`s the first time someone reads them. The figures are the same floats the
per-customer arithmetic gave (the same IEEE operations, element by element).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar, overload

import numpy as np

from sheets_health.model import Measure, MeasureScore, ScoringKind, Settings

T = TypeVar("T")


@dataclass(eq=False)
class Card:
    """A scorecard's members (rows) × its measures (columns)."""

    measures: Sequence[Measure]
    raws: np.ndarray  # object: the raw values as read
    sub: np.ndarray  # sub-scores after the missing-data policy; NaN where left out
    weight: np.ndarray  # each measure's normalised share of the customer's score
    known: np.ndarray  # bool: has data and is due
    due: np.ndarray  # bool: applies (a milestone not yet due does not)
    no_data_notes: Sequence[str]
    given: Sequence[Sequence[MeasureScore]] | None = None  # details passed in as they were
    target_texts: dict[int, str] = field(default_factory=dict)  # column -> "target ≥ 20"
    texts: dict[tuple[Any, ...], list[str]] = field(default_factory=dict)  # per-row texts

    def __post_init__(self) -> None:
        left_out = np.isnan(self.sub)
        self.points = np.where(left_out, 0.0, self.weight * self.sub)
        self.lost = np.where(left_out, 0.0, self.weight * (100.0 - self.sub))
        # each row's measures by points lost, most first; ties keep Scorecard order
        self.order = np.argsort(-self.lost, axis=1, kind="stable")
        self.lost_counts = (np.floor(self.lost + 0.5) >= 1).sum(axis=1)  # ≥ 1 point lost

    @classmethod
    def of(cls, details: Sequence[MeasureScore], measures: Mapping[str, Measure]) -> Card:
        """A one-row card from details built elsewhere (a caller's own `OutcomeScore`)."""
        subs = [np.nan if d.sub_score is None else d.sub_score for d in details]
        measured = [d.sub_score is not None and not d.note.startswith("no data")
                    for d in details]
        card = cls([measures[d.measure] for d in details],
                   np.array([[d.raw for d in details]], dtype=object).reshape(1, -1),
                   np.array([subs], dtype=float).reshape(1, -1),
                   np.array([[d.weight for d in details]], dtype=float).reshape(1, -1),
                   np.array([measured], dtype=bool).reshape(1, -1),
                   np.ones((1, len(details)), dtype=bool), ["no data"] * len(details),
                   (tuple(details),))
        card.points = np.array([[d.points for d in details]], dtype=float).reshape(1, -1)
        card.lost = np.array([[d.points_lost for d in details]], dtype=float).reshape(1, -1)
        card.order = np.argsort(-card.lost, axis=1, kind="stable")
        card.lost_counts = (np.floor(card.lost + 0.5) >= 1).sum(axis=1)
        return card

    @functools.cached_property
    def lost_rows(self) -> list[list[float]]:
        """`lost` as Python floats, row by row (one conversion instead of one per cell)."""
        return self.lost.tolist()

    @functools.cached_property
    def _order_rows(self) -> list[list[int]]:
        return self.order.tolist()

    @functools.cached_property
    def _counts(self) -> list[int]:
        return self.lost_counts.tolist()

    def cell(self, i: int, j: int) -> tuple[Any, float | None, str]:
        """(raw value, sub-score or None, note) of one customer's measure."""
        if self.given is not None:
            d = self.given[i][j]
            return d.raw, d.sub_score, d.note
        sub = float(self.sub[i, j])
        if self.known[i, j]:
            note = ""
        else:
            note = "not yet due" if not self.due[i, j] else self.no_data_notes[j]
        return self.raws[i, j], None if sub != sub else sub, note

    def detail(self, i: int, j: int) -> MeasureScore:
        if self.given is not None:
            return self.given[i][j]
        sub = float(self.sub[i, j])
        known, due = bool(self.known[i, j]), bool(self.due[i, j])
        return MeasureScore(
            measure=self.measures[j].name,
            raw=self.raws[i, j],
            sub_score=None if np.isnan(sub) else sub,
            weight=float(self.weight[i, j]),
            points=float(self.points[i, j]),
            points_lost=float(self.lost[i, j]),
            note="" if known else ("not yet due" if not due else self.no_data_notes[j]),
        )

    def most_lost(self, i: int, limit: int | None = None) -> list[int]:
        """Columns of row ``i`` that cost at least one (rounded) point, most first."""
        count = self._counts[i]
        return self._order_rows[i][: count if limit is None else min(count, limit)]

    def strengths(self, i: int, settings: Settings, limit: int) -> list[int]:
        """Measured columns on target that add at least one (rounded) point, most first."""
        sub, points = self.sub[i], self.points[i]
        with np.errstate(invalid="ignore"):
            keep = self.known[i] & (sub >= self.targets(settings)) & (np.floor(points + 0.5) >= 1)
        chosen = np.flatnonzero(keep)
        ranked = chosen[np.argsort(-points[chosen], kind="stable")]
        return [int(j) for j in ranked[:limit]]

    def weak(self, i: int, settings: Settings, limit: int) -> list[int]:
        """Measured columns in their red zone (sub-score below `Red below`), most lost first."""
        with np.errstate(invalid="ignore"):
            chosen = np.flatnonzero(self.known[i] & (self.sub[i] < settings.red_below))
        ranked = chosen[np.argsort(-self.lost[i][chosen], kind="stable")]
        return [int(j) for j in ranked[:limit]]

    def targets(self, settings: Settings) -> np.ndarray:
        """The sub-score from which each measure counts as on target."""
        return np.array([_target_score(m, settings) for m in self.measures], dtype=float)

    def missing(self, i: int) -> tuple[str, ...]:
        return tuple(self.measures[int(j)].name
                     for j in np.flatnonzero(self.due[i] & ~self.known[i]))


def _target_score(measure: Measure, settings: Settings) -> float:
    """At or above target: the best sub-score the measure gives (100, or the top band's or
    category's points); a percentile, which has no target, from the Green setting up."""
    if measure.kind is ScoringKind.PERCENTILE:
        return settings.green_at
    if measure.kind in (ScoringKind.BANDS, ScoringKind.CATEGORY):
        return max(p for _, p in measure.points) - 1e-9
    return 100 - 1e-9


class Lazy(Sequence[T]):
    """A tuple built the first time it is read; equal to the tuple it stands for."""

    __slots__ = ("_args", "_build", "_items")

    def __init__(self, build: Callable[..., tuple[T, ...]], *args: Any) -> None:
        self._build = build
        self._args = args
        self._items: tuple[T, ...] | None = None

    def _all(self) -> tuple[T, ...]:
        if self._items is None:
            self._items = self._build(*self._args)
            self._args = ()
        return self._items

    @overload
    def __getitem__(self, index: int) -> T: ...
    @overload
    def __getitem__(self, index: slice) -> tuple[T, ...]: ...
    def __getitem__(self, index: int | slice) -> T | tuple[T, ...]:
        return self._all()[index]

    def __len__(self) -> int:
        return len(self._all())

    def __iter__(self) -> Iterator[T]:
        return iter(self._all())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Lazy | tuple | list):
            return self._all() == tuple(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._all())

    def __repr__(self) -> str:
        return repr(self._all())


class RowDetails(Lazy[MeasureScore]):
    """One customer's `MeasureScore`s on one card, built when first read."""

    __slots__ = ("card", "row")

    def __init__(self, card: Card, row: int) -> None:
        # the fields `Lazy.__init__` sets, set here: one is made per customer and scorecard
        self._build, self._args, self._items = _row_details, (card, row), None
        self.card = card
        self.row = row


def _row_details(card: Card, row: int) -> tuple[MeasureScore, ...]:
    return tuple(card.detail(row, j) for j in range(len(card.measures)))


def card_row(details: Sequence[MeasureScore], measures: Mapping[str, Measure]
             ) -> tuple[Card, int]:
    """The card and row behind an outcome's details (a one-row card for plain tuples)."""
    if isinstance(details, RowDetails):
        return details.card, details.row
    return Card.of(details, measures), 0
