"""The quota replay the benchmarks use to charge Google's per-user limits to a request log."""

from __future__ import annotations

import pytest

from benchmarks.quota import kind_of, quota_wait, steady_log


@pytest.mark.parametrize(("log", "wait"), [
    ([], 0.0),
    (steady_log(60, 0.25), 0.0),                  # 60 in 15 s: within the minute's quota
    (steady_log(61, 0.25), 60.0 - 60 * 0.25),     # the 61st waits for the first to age out
    (steady_log(120, 1.0), 0.0),                  # one a second never passes 60 a minute
    (steady_log(121, 0.5), 2 * (60.0 - 60 * 0.5)),  # two full windows to wait out
    (steady_log(60, 0.1, "read") + steady_log(60, 0.1, "write", start=6.0), 0.0),  # apart
    (steady_log(61, 0.1, "read") + steady_log(1, 0.1, "write", start=6.1), 54.0),
])
def test_wait_follows_sixty_per_minute_per_kind(log: list[tuple[float, str]],
                                                wait: float) -> None:
    assert quota_wait(log) == pytest.approx(wait)


def test_a_wait_delays_everything_after_it() -> None:
    # 61 writes then one more a minute later: the wait already paid keeps it in its window
    log = [*steady_log(61, 0.0), (60.0, "write")]
    assert quota_wait(log) == pytest.approx(60.0)


def test_seven_thousand_cell_writes_start_the_last_one_in_the_117th_minute() -> None:
    # write k starts at 60 s × (k // 60) + 0.25 s × (k % 60); unthrottled at 0.25 s × k
    last = 6999
    throttled = 60.0 * (last // 60) + 0.25 * (last % 60)
    assert quota_wait(steady_log(7000, 0.25)) == pytest.approx(throttled - 0.25 * last)


def test_gets_are_reads_and_everything_else_writes() -> None:
    assert [kind_of(m) for m in ("GET", "post", "PUT")] == ["read", "write", "write"]
