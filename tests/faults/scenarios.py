"""The fault suite's table: every scenario a sync must survive, as (name, how to arm it)."""

from __future__ import annotations

import random
from collections.abc import Callable

from tests.emulator import Fault, FaultKind, SheetsEmulator

from .harness import CUSTOMERS, DAY2, TIMEOUT, Scenario, Suite

Arm = Callable[[Suite, str, random.Random], None]
REQUESTS = (1, 2, 3)  # a steady sync: the read, the claim on the sheet, the write
EDITS_BEFORE = (2, 3)  # a person edits between the read and the claim, or right before the write
POSTS = (2, 3)  # the claim and the write


def _fault(kind: FaultKind, nth: int | None = None, times: int | None = 1,
           **extra: object) -> Arm:
    def arm(suite: Suite, _sid: str, _rng: random.Random) -> None:
        suite.emulator.faults.add(Fault(kind, nth=nth, times=times, **extra))  # type: ignore[arg-type]
    return arm


def _before(n: int, edit: Callable[[SheetsEmulator, str, random.Random], None]) -> Arm:
    def arm(suite: Suite, sid: str, rng: random.Random) -> None:
        suite.emulator.on_request(n, lambda emu, _rec: edit(emu, sid, rng))
    return arm


def _sort(emu: SheetsEmulator, sid: str, rng: random.Random) -> None:
    emu.sort_rows(sid, "Customers", rng.choice(["Customer", "CSM score", "Exec sponsor"]),
                  descending=rng.random() < 0.5)


def _insert(emu: SheetsEmulator, sid: str, rng: random.Random) -> None:
    emu.insert_rows(sid, "Customers", rng.randrange(2, CUSTOMERS + 2),
                    [["Z900", "A new customer", 5, "none"]])


def _delete(emu: SheetsEmulator, sid: str, rng: random.Random) -> None:
    emu.delete_rows(sid, "Customers", rng.randrange(2, CUSTOMERS + 2))


def _rename(emu: SheetsEmulator, sid: str, rng: random.Random) -> None:
    emu.rename_header(sid, "Customers", rng.choice(["Customer", "CSM score", "Customer ID"]),
                      "Renamed")


def _expire(emu: SheetsEmulator, _sid: str, _rng: random.Random) -> None:
    with emu.auth.lock:
        emu.auth.tokens.clear()


def _unshare(emu: SheetsEmulator, sid: str, _rng: random.Random) -> None:
    emu.unshare_all(sid)


def _second_sync(machine: str) -> Arm:
    """Once the first sync has claimed the sheet and before its write, a second one starts
    (cron and a person, or cron and CI): on the same machine (same cache folder) or on
    another. (A second sync that claims first wins instead: `tests/test_sync_flow.py`.)"""
    def arm(suite: Suite, sid: str, _rng: random.Random) -> None:
        suite.emulator.on_request(3, lambda _emu, _rec: suite.second_codes.append(
            suite.sync(sid, DAY2, machine)[0]))
    return arm


def _sorted_then_outage(suite: Suite, sid: str, rng: random.Random) -> None:
    _before(3, _sort)(suite, sid, rng)
    suite.emulator.on_request(4, lambda emu, _rec: emu.faults.add(
        Fault(FaultKind.UNAVAILABLE, times=None)))


def scenarios() -> list[Scenario]:
    table = [
        Scenario("none", lambda *_a: None),
        Scenario("429 storm, Retry-After", _fault(FaultKind.RATE_LIMIT, times=3)),
        Scenario("429 storm, no Retry-After", _fault(FaultKind.RATE_LIMIT, times=3,
                                                     retry_after=None)),
        Scenario("write applied then 503", _fault(FaultKind.APPLY_THEN_503, method="POST")),
    ]
    for n in REQUESTS:
        table += [
            Scenario(f"500 on request {n}", _fault(FaultKind.INTERNAL, n)),
            Scenario(f"503 on request {n}", _fault(FaultKind.UNAVAILABLE, n)),
            Scenario(f"dropped connection on request {n}", _fault(FaultKind.DROP, n)),
            # the write is held long enough that the client's check and resend come first
            Scenario(f"slower than the timeout on request {n}",
                     _fault(FaultKind.STALL, n, seconds=TIMEOUT + (3.0 if n in POSTS else 0.5)),
                     settle=3.5 if n in POSTS else 0.0),
            Scenario(f"token expired before request {n}", _before(n, _expire)),
            Scenario(f"permission lost before request {n}", _before(n, _unshare),
                     exits=frozenset({4})),
        ]
    for n in EDITS_BEFORE:
        table += [
            Scenario(f"sorted before request {n}", _before(n, _sort)),
            Scenario(f"row inserted before request {n}", _before(n, _insert)),
            Scenario(f"row deleted before request {n}", _before(n, _delete)),
            Scenario(f"header renamed before request {n}", _before(n, _rename),
                     exits=frozenset({0, 2})),
        ]
    table += [
        Scenario("sorted before the write, then an outage", _sorted_then_outage,
                 exits=frozenset({0, 3})),
        Scenario("two syncs at once on one machine", _second_sync("a"), second_exit=6),
        Scenario("two syncs at once on two machines", _second_sync("b"), second_exit=6),
    ]
    return table
