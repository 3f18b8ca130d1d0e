"""Python's cycle collector paused while a sync builds its large, long-lived structures.

Why: a sync parses a read of tens of megabytes (a dict per cell), builds a row per customer and
a request per changed cell; every object it allocates counts towards the collector's next pass,
and each full pass walks all that are alive again. At 5,000 customers on Google that was about
half the client's time (`benchmarks/README.md`, "Cycle collector"). Nothing in a sync depends on a
reference cycle being freed: plain references free almost everything as it goes, and what is
left is collected when the pause ends.
"""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Iterator

_lock = threading.Lock()
_depth = 0  # nested or concurrent pauses: the collector resumes when the last one ends
_was_on = False


@contextlib.contextmanager
def paused() -> Iterator[None]:
    """The collector off inside, back to how it was (on or off) when the last pause ends."""
    global _depth, _was_on
    with _lock:
        if _depth == 0:
            _was_on = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _was_on:
                gc.enable()
