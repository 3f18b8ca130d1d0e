"""What the pandas and SQL paths share: time, windows, finishing formulas, reports, masking.

Both paths compute the same per-customer aggregates (counts, sums, the latest timestamp …);
the last step that turns them into a metric value (NPS, percent change, days since) lives
here once, so the two cannot drift apart.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from urllib.parse import quote, unquote
from zoneinfo import ZoneInfo

from sheets_health.cells import SERIAL_EPOCH
from sheets_health.errors import EXIT_REFUSED, SourceError
from sheets_health.model import CellValue

UTC = dt.UTC
DAY_SECONDS = 86400.0


class EmptySourceError(SourceError):
    """One or more sources have no rows at all: writing would blank their metrics.

    A subclass of `SourceError`; the exit code is "refused for safety" because ``--force``
    overrides it (the sync then calls ``load_metrics(..., allow_empty=True)``).
    """

    exit_code = EXIT_REFUSED

    def __init__(self, sources: Sequence[str], details: Sequence[str]) -> None:
        names = ", ".join(sources)
        super().__init__(
            f"source(s) {names} returned no rows: " + "; ".join(details),
            "check that the export/table is not empty (a failed export often leaves a file "
            "with headers only); rerun with --force to sync anyway",
        )
        self.sources = tuple(sources)


@dataclass(frozen=True)
class SourceReport:
    """What one source contributed: for the sync log and the `--json` report."""

    name: str
    kind: str
    rows: int  # rows with a customer id (for SQL: counted in the database)
    ids: int  # distinct customer ids seen
    seconds: float
    empty: bool = False
    notes: tuple[str, ...] = ()  # e.g. "3 rows have no customer id"


@dataclass(frozen=True)
class Window:
    """The half-open interval ``(start, end]`` in UTC; ``start`` None means "since ever"."""

    start: dt.datetime | None
    end: dt.datetime

    @classmethod
    def of(cls, end: dt.datetime, length: dt.timedelta | None, back: int = 0) -> Window:
        """The window of ``length`` ending at ``end`` (``back`` windows earlier)."""
        if length is None:
            return cls(None, end)
        stop = end - back * length
        return cls(stop - length, stop)


@dataclass(frozen=True)
class Clock:
    """The run's reference instant as a source sees it (naive run times are in its zone)."""

    zone: ZoneInfo
    end: dt.datetime  # run_at as an aware UTC datetime

    @classmethod
    def of(cls, run_at: dt.datetime, timezone: str) -> Clock:
        zone = ZoneInfo(timezone)
        if run_at.tzinfo is None:
            run_at = run_at.replace(tzinfo=zone)
        return cls(zone=zone, end=run_at.astimezone(UTC))

    def local(self, instant: dt.datetime) -> dt.datetime:
        """A UTC instant as naive wall-clock time in the source's zone."""
        return instant.astimezone(self.zone).replace(tzinfo=None)


def instant(value: object, zone: ZoneInfo) -> dt.datetime | None:
    """One timestamp value (from a database or a cell) as an aware UTC datetime.

    Naive values are wall-clock time in ``zone``; dates are midnight; numbers are
    spreadsheet serial date-times; text must be ISO 8601.
    """
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        moment = dt.datetime(value.year, value.month, value.day)
    elif isinstance(value, bool):
        raise ValueError(f"{value!r} is not a timestamp")
    elif isinstance(value, int | float | decimal.Decimal):
        if isinstance(value, float) and math.isnan(value):
            return None
        moment = dt.datetime.combine(SERIAL_EPOCH, dt.time()) + dt.timedelta(days=float(value))
    else:
        text = str(value).strip()
        if not text:
            return None
        try:
            moment = dt.datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"'{text}' is not an ISO 8601 timestamp") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(UTC)


TIME_FIX = (
    "export timestamps as ISO 8601 (2026-03-31T14:05:00Z, or 2026-03-31 14:05 in the source's "
    'timezone), or set time_format = "%d/%m/%Y %H:%M" on the source'
)
NUMBER_FIX = "fix the export, or filter those rows out with where"
NPS_FIX = "check that column is the 0–10 'how likely to recommend' answer"


def days_since(last: dt.datetime | None, end: dt.datetime) -> float:
    """Whole days (24 h periods) from the last event to the run; NaN without an event."""
    if last is None:
        return math.nan
    return float(math.floor((end - last).total_seconds() / DAY_SECONDS))


def nps(promoters: float, detractors: float, responses: float) -> float:
    """Share of 9–10 minus share of 0–6, × 100 (−100…100); NaN without responses."""
    if not responses:
        return math.nan
    return 100.0 * (promoters - detractors) / responses


PCT_SCALE = 100.0  # percent points: −25.0 means a 25 % drop


def pct_change(current: float, previous: float) -> float:
    """Change of the current window against the previous one, in percent points.

    A previous value of 0 (or none) gives NaN, never infinity; a negative previous value
    keeps the sign meaning "went up / went down".
    """
    if previous is None or current is None:
        return math.nan
    if isinstance(previous, float) and math.isnan(previous):
        return math.nan
    if previous == 0:
        return math.nan
    return PCT_SCALE * (current - previous) / abs(previous)


_INT = re.compile(r"^[+-]?(0|[1-9]\d*)$")
_FLOAT = re.compile(r"^[+-]?(0|[1-9]\d*)\.\d+$")


def natural(text: str) -> CellValue:
    """Text from a file as a cell: blank → None, plain numbers → numbers, else stripped text.

    ``00123`` stays text (a leading zero is part of an id or a code, not a number).
    """
    text = text.strip()
    if not text:
        return None
    if _INT.match(text):
        return int(text)
    if _FLOAT.match(text):
        return float(text)
    return text


def cell_value(value: object) -> CellValue:
    """A database or pandas value as one of the cell types the sheet understands."""
    if value is None:
        return None
    if isinstance(value, bool | str | int | dt.date):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) else value
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    item = getattr(value, "item", None)  # numpy scalars
    if callable(item):
        return cell_value(item())
    return str(value)


def to_float(value: object) -> float:
    if value is None:
        return math.nan
    return float(value)  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- secrets

_SECRET_PARAMS = re.compile(
    r"(?i)([?&;](?:password|passwd|pwd|token|secret|access_token|api_key|private_key)=)([^&;\s]+)"
)
_USERINFO = re.compile(r"(://[^:/@\s]*:)([^@\s]*)(@)")


def mask_url(url: str) -> str:
    """A database URL fit for messages: the password (and secret query values) as ***."""
    masked = _USERINFO.sub(r"\1***\3", url)
    return _SECRET_PARAMS.sub(r"\1***", masked)


def secrets_of(url: str) -> list[str]:
    """The secret parts of a URL, in every spelling they may take in a driver's message."""
    found: list[str] = []
    match = _USERINFO.search(url)
    if match and match.group(2):
        found.append(match.group(2))
    found += [m.group(2) for m in _SECRET_PARAMS.finditer(url)]
    spelled = set()
    for secret in found:
        spelled |= {secret, unquote(secret), quote(unquote(secret), safe="")}
    return sorted((s for s in spelled if len(s) >= 2), key=len, reverse=True)


def scrub(message: str, secrets: Iterable[str]) -> str:
    """Remove secrets from a message that may quote a URL or a connection string."""
    for secret in secrets:
        message = message.replace(secret, "***")
    return _SECRET_PARAMS.sub(r"\1***", _USERINFO.sub(r"\1***\3", message))


@dataclass
class Progress:
    """Calls the caller's ``progress(source, done, total)`` hook, if any, step by step."""

    source: str
    total: int
    hook: Callable[[str, int, int], None] | None = None
    done: int = field(default=0)

    def start(self) -> None:
        self._emit()

    def step(self) -> None:
        self.done = min(self.done + 1, self.total)
        self._emit()

    def _emit(self) -> None:
        if self.hook is not None:
            self.hook(self.source, self.done, self.total)
