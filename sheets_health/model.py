"""Frozen dataclasses shared by every layer: tables read, the validated sheet, results, plans.

Nothing here does IO or imports click, gspread or openpyxl.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

CellValue = str | int | float | bool | dt.date | dt.datetime | None


class Rag(StrEnum):
    GREEN = "Green"
    YELLOW = "Yellow"
    RED = "Red"


class Fill(StrEnum):
    """Background colours the tool owns (hex RGB, as both backends store them)."""

    GREEN = "B7E1CD"
    YELLOW = "FCE8B2"
    RED = "F4C7C3"
    GREY = "D9D9D9"

    @classmethod
    def for_rag(cls, rag: Rag | None) -> Fill:
        if rag is None:
            return cls.GREY
        return {Rag.GREEN: cls.GREEN, Rag.YELLOW: cls.YELLOW, Rag.RED: cls.RED}[rag]


class ScoringKind(StrEnum):
    LINEAR = "linear"
    LOG = "log"  # linear on log(1 + x): counts with a long tail
    BANDS = "bands"
    BOOLEAN = "boolean"
    CATEGORY = "category"
    PERCENTILE = "percentile"
    MILESTONE = "milestone"


class MissingPolicy(StrEnum):
    SKIP = "skip"
    NEUTRAL = "neutral"
    ZERO = "zero"


class RollUp(StrEnum):
    MEAN = "mean"
    MIN = "min"


class CustomerStatus(StrEnum):
    ACTIVE = "active"
    CHURNED = "churned"
    RENEWED = "renewed"
    EXPANDED = "expanded"


_SPACE = re.compile(r"\s+")


@functools.lru_cache(maxsize=4096)
def _norm_text(text: str) -> str:
    return _SPACE.sub("", text).casefold()


def norm_header(text: object) -> str:
    """Header identity: case- and space-insensitive (`Health Score` == `healthscore`)."""
    return _norm_text(text if isinstance(text, str) else str(text or ""))


# ----------------------------------------------------------------------------- tables


MARK_PREFIX = "sheets_health_"  # a bookmark's name in the sheet: sheets_health_<mark name>


@dataclass(frozen=True)
class Mark:
    """A tool-owned bookmark in a growing tab (on Google a named range, which follows its
    rows when people insert or delete rows above it): rows ``start``..``end - 1`` (1-based;
    ``end`` None = to the bottom, so appended rows join it) × columns ``first_col``..
    ``end_col - 1`` (0-based; ``end_col`` None = every column)."""

    start: int
    end: int | None = None
    first_col: int = 0
    end_col: int | None = None

    def holds_row(self, row: int) -> bool:
        return self.start <= row and (self.end is None or row < self.end)

    def holds_col(self, col: int) -> bool:
        return self.first_col <= col and (self.end_col is None or col < self.end_col)

    def after_deleting(self, count: int, first: int = 2) -> Mark:
        """Where the mark is once rows ``first`` .. ``first + count - 1`` are deleted (a bound
        inside them moves to ``first``), as a spreadsheet moves a named range."""
        def moved(row: int) -> int:
            return row - count if row >= first + count else min(row, first)
        return Mark(moved(self.start), None if self.end is None else moved(self.end),
                    self.first_col, self.end_col)


@dataclass(frozen=True)
class Blocked:
    """Cells a write would fail on or hide its values in: merged, or protected against the
    account that writes. Rows 1-based, columns 0-based, inclusive; None runs to the edge."""

    kind: str  # "merged cells" or "a protected range"
    first_row: int
    last_row: int | None
    first_col: int
    last_col: int | None
    fix: str  # backend-specific: where in the app the merge or protection is undone

    def overlaps(self, rows: tuple[int, int | None], cols: Sequence[int]) -> bool:
        low, high = rows
        if self.last_row is not None and self.last_row < low:
            return False
        if high is not None and self.first_row > high:
            return False
        return any(self.first_col <= c and (self.last_col is None or c <= self.last_col)
                   for c in cols)


@dataclass(frozen=True)
class Table:
    """One tab as read: header row 1, data rows below (fully blank rows are dropped).

    ``row_numbers`` are 1-based sheet rows; ``colors`` maps (sheet row, 0-based column) to
    the hex RGB of a non-white background, where the backend reads colours.

    A bounded read of a growing tab holds the header row and only the rows inside
    ``read_spans`` (empty: every row was read). ``marks`` are the tool's bookmarks found in
    the tab, by name; ``grid`` is the tab's size in rows × columns where the backend has a
    cell limit (Google), else (0, 0).
    """

    tab: str
    headers: tuple[str, ...]
    rows: tuple[tuple[CellValue, ...], ...] = ()
    row_numbers: tuple[int, ...] = ()
    colors: Mapping[tuple[int, int], str] = field(default_factory=dict)
    read_spans: tuple[Mark, ...] = ()
    marks: Mapping[str, Mark] = field(default_factory=dict)
    grid: tuple[int, int] = (0, 0)
    blocked: tuple[Blocked, ...] = ()  # merged / protected cells (`sheets_health.preflight`)

    @property
    def complete(self) -> bool:
        """Every row of the tab is here (not a bounded read)."""
        return not self.read_spans

    def __post_init__(self) -> None:
        # Index once, then look up: every per-customer access goes through `column`.
        index: dict[str, int] = {}
        for i, name in enumerate(self.headers):
            index.setdefault(norm_header(name), i)
        object.__setattr__(self, "_index", index)

    def column(self, header: str) -> int | None:
        """0-based index of a header, matched by name, never by position."""
        found: int | None = self._index.get(norm_header(header))  # type: ignore[attr-defined]
        return found

    def header_of(self, header: str) -> str:
        """The header as the sheet spells it (falls back to the given name)."""
        index = self.column(header)
        return header if index is None else self.headers[index]

    def value(self, row_index: int, header: str) -> CellValue:
        index = self.column(header)
        if index is None:
            return None
        row = self.rows[row_index]
        return row[index] if index < len(row) else None


# ----------------------------------------------------------------------------- the sheet


@dataclass(frozen=True)
class Stage:
    """A journey stage: customers whose tenure (days since `Start date`) is under
    ``until_day`` and past the previous stage's limit; ``None`` for the last, open-ended one."""

    name: str
    until_day: int | None = None


@dataclass(frozen=True)
class Settings:
    green_at: float = 70.0
    red_below: float = 40.0
    missing: MissingPolicy = MissingPolicy.SKIP
    min_coverage: float = 0.5
    trend_days: int = 30
    rollup: RollUp = RollUp.MEAN
    max_reasons: int = 3
    # Status values (casefolded) whose customers are not scored: Health shows the status
    inactive_statuses: tuple[str, ...] = (CustomerStatus.CHURNED.value,)
    time_zone: dt.tzinfo | None = None  # the `Time zone` row; None: see sheets_health.zones
    sync_log_rows: int = 1000  # Sync-log rows kept; older ones are deleted by the sync
    history_days: int | None = None  # History days kept; None: all of it
    stages: tuple[Stage, ...] = ()  # the `Stages` row (journey); empty: no stages
    max_colour_changes: float = 0.5  # share of coloured customers a run may recolour

    def rag(self, score: float) -> Rag:
        if score >= self.green_at:
            return Rag.GREEN
        if score < self.red_below:
            return Rag.RED
        return Rag.YELLOW


DEFAULT_SCORECARD = ""  # the key of the default `Weight` column in Measure.weights


@dataclass(frozen=True)
class Measure:
    """A Scorecard row: how one raw value becomes 0–100 and how much it counts where."""

    name: str
    dimension: str
    kind: ScoringKind
    red_at: float | None = None
    green_at: float | None = None
    # bands: ascending (threshold, points); category: (normalised text, points)
    points: tuple[tuple[float | str, float], ...] = ()
    weights: Mapping[str, float] = field(default_factory=dict)
    value_degree: int | None = None
    proactive: bool | None = None
    action_when_red: str = ""
    action_when_green: str = ""  # optional: advocacy, expansion… for a Green customer
    missing: MissingPolicy | None = None
    lower_is_better: bool = False
    row: int = 0
    # boolean: which value is good (True unless Green at says "no")
    good_value: bool = True
    # linear/bands: the thresholds were typed as percents (values must be percents too)
    percent: bool = False

    def weight(self, scorecard: str) -> float:
        return self.weights.get(scorecard, 0.0)


@dataclass(frozen=True)
class Override:
    rag: Rag
    reason: str
    until: dt.date | None = None

    def applies_on(self, day: dt.date) -> bool:
        return self.until is None or day <= self.until


@dataclass(frozen=True)
class Customer:
    id: str
    name: str
    row: int
    outcomes: tuple[str, ...] = ()
    start_date: dt.date | None = None
    override: Override | None = None
    status: str | None = None  # casefolded: a CustomerStatus value or an inactive status
    status_date: dt.date | None = None
    inactive: bool = False  # Status is one of Settings' inactive statuses: not scored

    @property
    def status_label(self) -> str:
        """The Status as Health shows it for an inactive customer: `Churned`."""
        return (self.status or "").capitalize()


@dataclass(frozen=True)
class HistoryPoint:
    day: dt.date
    customer_id: str
    score: float | None
    baseline: float | None = None  # the score that day's Trend was measured against
    row: int = 0  # sheet row, where it was read from a sheet


@dataclass(frozen=True)
class SheetModel:
    """The validated contents of the sheet a sync needs."""

    customers: tuple[Customer, ...]
    measures: tuple[Measure, ...]
    scorecards: tuple[str, ...]  # outcome names with a `Weight: <outcome>` column
    settings: Settings
    # raw values of measures that are Customers columns: customer id -> measure -> value
    sheet_values: Mapping[str, Mapping[str, CellValue]]
    history: tuple[HistoryPoint, ...] = ()
    # Trend baseline per customer for the day scored; None: scoring works it out from history
    baselines: Mapping[str, float | None] | None = None


# ----------------------------------------------------------------------------- results


@dataclass(frozen=True)
class MeasureScore:
    """One measure for one customer on one scorecard: the numbers `explain` prints."""

    measure: str
    raw: CellValue
    sub_score: float | None  # None: left out
    weight: float  # normalised share of the scorecard (0–1) after missing-data policy
    points: float  # weight × sub-score: what it adds to the score
    points_lost: float  # weight × (100 − sub-score)
    note: str = ""  # e.g. "missing → neutral 50", "not yet due"


@dataclass(frozen=True)
class OutcomeScore:
    scorecard: str  # "" for the default `Weight` column
    score: float | None
    coverage: float
    # a Sequence: scoring hands a lazy one, built when first read (`score_rows.RowDetails`)
    measures: Sequence[MeasureScore]
    missing: Sequence[str] = ()


@dataclass(frozen=True)
class CustomerScore:
    customer_id: str
    score: float | None  # None: not enough data
    rag: Rag | None  # shown colour (after override); None: not enough data
    computed_rag: Rag | None
    overridden: bool
    reasons: str
    next_step: str
    trend: str
    outcomes: tuple[OutcomeScore, ...]
    inactive: str = ""  # not scored: the Status word Health shows instead of a colour
    # what the `Stage` column shows; None without a `Stages` setting: the column is not ours
    stage: str | None = None


# ----------------------------------------------------------------------------- write plan


@dataclass(frozen=True)
class CellWrite:
    """A value for a tool-owned cell; ``fill`` set means the background is owned too."""

    value: CellValue
    fill: Fill | None = None


@dataclass(frozen=True)
class RowUpdate:
    """Cells of one existing row, found by key: ``key`` is what the key columns must hold."""

    row: int
    key: tuple[str, ...]
    cells: Mapping[str, CellWrite]


@dataclass(frozen=True)
class TabPlan:
    """What to write in one tab. Row numbers (``updates``, ``marks``, ``recheck_from``) are
    the sheet's rows as read, before ``delete_rows``: the oldest data rows (right below the
    header) that retention removes in the same atomic write."""

    tab: str
    key_columns: tuple[str, ...] = ()
    add_headers: tuple[str, ...] = ()  # missing output columns, added at the right end
    updates: tuple[RowUpdate, ...] = ()
    appends: tuple[Mapping[str, CellWrite], ...] = ()
    marks: Mapping[str, Mark] = field(default_factory=dict)  # bookmarks to set (see Table)
    delete_rows: int = 0
    recheck_from: int | None = None  # rows above are never written: the key re-check skips them
    # the customers' outputs (plan_customers): Google keeps them in a tool-owned tab that
    # Customers shows by lookup on the key; the workbook writes them in place
    outputs: bool = False
    # the output columns this tab shows (empty: all of template.OUTPUT_COLUMNS); `Stage` only
    # with journey stages, so a team's own column of that name is never the tool's
    shown: tuple[str, ...] = ()

    @property
    def is_empty(self) -> bool:
        return not (self.add_headers or self.updates or self.appends or self.marks
                    or self.delete_rows)


@dataclass(frozen=True)
class WritePlan:
    tabs: tuple[TabPlan, ...] = ()

    @property
    def is_empty(self) -> bool:
        return all(tab.is_empty for tab in self.tabs)

    def cell_count(self) -> int:
        return sum(
            sum(len(u.cells) for u in tab.updates) + sum(len(a) for a in tab.appends)
            for tab in self.tabs
        )


@dataclass(frozen=True)
class ApplyResult:
    cells_written: int = 0
    rows_appended: int = 0
    repaired: tuple[str, ...] = ()  # rows that had moved and were matched again by key
    skipped: tuple[str, ...] = ()  # rows whose key vanished before writing
