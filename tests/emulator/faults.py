"""Fault injection: make chosen requests fail the way Google (or the network) fails.

A :class:`Fault` matches on HTTP method, a regex on the path (``search``, raw path
without query) and which matching call it is (``nth``, 1-based; None = every one),
and fires ``times`` times at most (None = unlimited).
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class FaultKind(StrEnum):
    RATE_LIMIT = "rate_limit"        # 429 RESOURCE_EXHAUSTED with Retry-After
    INTERNAL = "internal"            # 500 INTERNAL
    UNAVAILABLE = "unavailable"      # 503 UNAVAILABLE, nothing applied
    APPLY_THEN_503 = "apply_then_503"  # the write is applied, the answer is a 503
    STALL = "stall"                  # sleep `seconds` before handling normally
    APPLY_THEN_STALL = "apply_then_stall"  # apply the request, answer `seconds` later
    DROP = "drop"                    # close the connection without an answer


ERROR_BODIES: dict[FaultKind, tuple[int, str, str]] = {
    FaultKind.RATE_LIMIT: (
        429, "RESOURCE_EXHAUSTED",
        "Quota exceeded for quota metric 'Write requests' and limit 'Write requests per "
        "minute per user' of service 'sheets.googleapis.com' for consumer "
        "'project_number:000000000000'.",
    ),
    FaultKind.INTERNAL: (500, "INTERNAL", "Internal error encountered."),
    FaultKind.UNAVAILABLE: (503, "UNAVAILABLE", "The service is currently unavailable."),
    FaultKind.APPLY_THEN_503: (503, "UNAVAILABLE", "The service is currently unavailable."),
}


@dataclass
class Fault:
    kind: FaultKind | str
    method: str | None = None          # "GET", "POST", ... (None = any)
    path: str | None = None            # regex searched in the raw path
    nth: int | None = None             # fire on the nth matching call only
    times: int | None = 1              # how many times it may fire (None = always)
    retry_after: int | None = 1        # seconds, for RATE_LIMIT (None: no Retry-After)
    seconds: float = 1.0               # for STALL and APPLY_THEN_STALL
    seen: int = field(default=0, init=False)
    fired: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        self.kind = FaultKind(self.kind)

    def matches(self, method: str, path: str) -> bool:
        if self.method and self.method.upper() != method.upper():
            return False
        return not (self.path and not re.search(self.path, path))

    def error_body(self) -> tuple[int, dict[str, Any]]:
        code, status, message = ERROR_BODIES[FaultKind(self.kind)]
        body: dict[str, Any] = {"error": {"code": code, "message": message, "status": status}}
        if self.kind == FaultKind.RATE_LIMIT:
            body["error"]["details"] = [{
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": "RATE_LIMIT_EXCEEDED",
                "domain": "googleapis.com",
                "metadata": {"service": "sheets.googleapis.com",
                             "quota_metric": "sheets.googleapis.com/write_requests"},
            }]
        return code, body


class FaultSet:
    """Thread-safe list of armed faults; the first one that fires wins."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def add(self, fault: Fault) -> Fault:
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def __len__(self) -> int:
        return len(self._faults)

    def take(self, method: str, path: str) -> Fault | None:
        with self._lock:
            chosen = None
            for fault in self._faults:
                if not fault.matches(method, path):
                    continue
                fault.seen += 1
                if chosen is not None:
                    continue
                if fault.times is not None and fault.fired >= fault.times:
                    continue
                if fault.nth is not None and fault.seen != fault.nth:
                    continue
                fault.fired += 1
                chosen = fault
            return chosen
