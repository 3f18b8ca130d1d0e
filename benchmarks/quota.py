"""Google's per-user Sheets API quota, applied to a request log after the fact.

Google allows each user (a service account is one) 60 read requests and 60 write requests per
minute per project; past that it answers 429 until the minute has passed. The emulator does
not enforce it (a benchmark would then sleep through real minutes), so the benchmarks replay
their request log here instead: requests go out one after another, as the clients measured do;
a request that would be the 61st of its kind within 60 seconds waits until the oldest of those
60 is a minute old, and everything after it moves later by that wait. The total wait is what
the method pays on top of its measured wall time.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

PER_MINUTE = 60
WINDOW = 60.0


def kind_of(http_method: str) -> str:
    """Google counts GETs as reads and every POST/PUT (batchUpdate, update, append) as a write."""
    return "read" if http_method.upper() == "GET" else "write"


def quota_wait(log: Iterable[tuple[float, str]], per_minute: int = PER_MINUTE,
               window: float = WINDOW) -> float:
    """Seconds of waiting the quota adds to ``log``: (start offset in seconds, "read"/"write")
    for each request, in the order they were sent."""
    shift = 0.0
    starts: dict[str, deque[float]] = {}
    for offset, kind in log:
        sent = offset + shift
        recent = starts.setdefault(kind, deque(maxlen=per_minute))
        if len(recent) == per_minute and sent < recent[0] + window:
            wait = recent[0] + window - sent
            shift += wait
            sent += wait
        recent.append(sent)
    return shift


def steady_log(count: int, seconds_each: float, kind: str = "write",
               start: float = 0.0) -> list[tuple[float, str]]:
    """``count`` requests of one kind back to back, each taking ``seconds_each``."""
    return [(start + i * seconds_each, kind) for i in range(count)]
