"""Naive wall-clock times → UTC, as one SQL expression, by the same rules as the pandas path.

A naive timestamp is wall-clock time in the source's zone. Turning it into an instant inside
DuckDB with its own time-zone functions would follow ICU's rules, which differ from the pandas
path's (`frames._localize`) exactly where it matters: an ambiguous time (the repeated hour in
autumn) must be the *earlier* instant, and a non-existent one (the skipped hour in spring) is
shifted forward to the transition (pandas agrees for whole-hour gaps; in rare half-hour gaps
such as Lord Howe's, pandas lands up to an hour later). So the zone's transitions are read from
Python's own ``zoneinfo`` (the same data pandas uses), cut into wall-clock segments with one
rule each, and compiled into a balanced ``CASE`` tree: a few comparisons per row, no per-row
zone lookup.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from zoneinfo import ZoneInfo

UTC = dt.UTC
FIRST_YEAR = 1970  # before this, the zone's offset of 1970 applies
_STEP = dt.timedelta(days=1)  # since 1970, a zone's changes are days apart


@dataclass(frozen=True)
class Segment:
    """From ``start`` (naive wall-clock time) on, until the next segment: UTC = wall - offset,
    or, in a gap that wall clocks skip, the fixed instant ``shifted_to`` (naive UTC)."""

    start: dt.datetime | None  # None: since ever
    offset: dt.timedelta
    shifted_to: dt.datetime | None = None


def _offset(zone: ZoneInfo, seconds: int) -> dt.timedelta:
    offset = dt.datetime.fromtimestamp(seconds, zone).utcoffset()
    assert offset is not None
    return offset


def transitions(
    zone: ZoneInfo, last_year: int
) -> list[tuple[dt.datetime, dt.timedelta, dt.timedelta]]:
    """(naive UTC instant, offset before, offset after) of each change from 1970 to last_year."""
    start = int(dt.datetime(FIRST_YEAR, 1, 1, tzinfo=UTC).timestamp())
    stop = int(dt.datetime(last_year + 1, 1, 1, tzinfo=UTC).timestamp())
    step = int(_STEP.total_seconds())
    found = []
    previous = _offset(zone, start)
    for low in range(start, stop, step):
        high = low + step
        after = _offset(zone, high)
        if after == previous:
            continue
        lo, hi = low, high  # the offset changes in (lo, hi]
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if _offset(zone, mid) == previous:
                lo = mid
            else:
                hi = mid
        moment = dt.datetime.fromtimestamp(hi, UTC).replace(tzinfo=None)
        found.append((moment, previous, after))
        previous = after
    return found


@functools.lru_cache(maxsize=32)
def segments(zone_name: str, last_year: int) -> tuple[Segment, ...]:
    """The wall-clock segments of a zone, in order (one segment for a fixed-offset zone)."""
    zone = ZoneInfo(zone_name)
    changes = transitions(zone, last_year)
    first = changes[0][1] if changes else _offset(zone, 0)
    result = [Segment(None, first)]
    for moment, before, after in changes:
        start = moment + before  # the wall-clock time at which the old rule stops
        if result[-1].start is not None and start <= result[-1].start:
            continue  # a change too close to the previous one to be a separate rule
        if after > before:  # a gap: wall times in [moment+before, moment+after) do not exist
            result.append(Segment(start, before, shifted_to=moment))
            result.append(Segment(moment + after, after))
        else:  # an overlap: the repeated wall times keep the earlier (old) offset
            result.append(Segment(start, after))
    return tuple(result)


def is_utc(zone_name: str, last_year: int) -> bool:
    """Is wall-clock time in this zone UTC (always, since 1970)?"""
    items = segments(zone_name, last_year)
    return len(items) == 1 and not items[0].offset


def _timestamp(moment: dt.datetime) -> str:
    return f"TIMESTAMP '{moment.isoformat(sep=' ')}'"


def _rule(wall: str, segment: Segment) -> str:
    if segment.shifted_to is not None:
        return _timestamp(segment.shifted_to)
    seconds = int(segment.offset.total_seconds())
    return wall if seconds == 0 else f"({wall} - INTERVAL '{seconds} seconds')"


def _tree(wall: str, items: tuple[Segment, ...]) -> str:
    if len(items) == 1:
        return _rule(wall, items[0])
    middle = len(items) // 2
    split = items[middle].start
    assert split is not None
    left, right = _tree(wall, items[:middle]), _tree(wall, items[middle:])
    return f"CASE WHEN {wall} < {_timestamp(split)} THEN {left} ELSE {right} END"


def to_utc_sql(wall: str, zone_name: str, last_year: int) -> str:
    """DuckDB SQL turning the naive TIMESTAMP expression ``wall`` (a column name: it is repeated)
    into a naive UTC TIMESTAMP; NULL stays NULL."""
    items = segments(zone_name, last_year)
    if len(items) == 1:
        return _rule(wall, items[0])
    return f"CASE WHEN {wall} IS NULL THEN NULL ELSE {_tree(wall, items)} END"
