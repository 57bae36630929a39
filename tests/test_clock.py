"""Clocks: ManualClock (virtual) and MonotonicClock (real)."""

from __future__ import annotations

import math
import threading
import time

import pytest

import decoupling as dc
from decoupling.clock import DEFAULT_EPOCH

EPOCH_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z


# -- ManualClock: reading -----------------------------------------------------------------------


def test_manual_clock_defaults() -> None:
    clock = dc.ManualClock()
    assert clock.now() == 0.0
    assert clock.wall() == DEFAULT_EPOCH == 1_767_225_600.0
    assert clock.wall_ms() == EPOCH_MS
    assert clock.autojump_threshold == 0.0
    assert clock.is_virtual is True
    assert isinstance(clock, dc.Clock)


def test_manual_clock_start_and_epoch() -> None:
    clock = dc.ManualClock(100.0, epoch=1_000.0, autojump_threshold=None)
    assert clock.now() == 100.0
    assert clock.wall() == 1_000.0
    clock.advance(2.5)
    assert clock.now() == 102.5
    assert clock.wall() == 1_002.5
    assert clock.wall_ms() == 1_002_500
    assert clock.autojump_threshold is None


def test_wall_ms_rounds_to_the_nearest_millisecond() -> None:
    clock = dc.ManualClock()
    clock.advance(0.0015)
    assert clock.wall_ms() == EPOCH_MS + 2
    clock.advance(0.0004)  # 1.9 ms
    assert clock.wall_ms() == EPOCH_MS + 2
    clock.advance(29.998)  # 29.9999 s
    assert clock.wall_ms() == EPOCH_MS + 30_000


# -- ManualClock: moving ------------------------------------------------------------------------


def test_advance_and_advance_to() -> None:
    clock = dc.ManualClock()
    clock.advance(0)
    assert clock.now() == 0.0
    clock.advance(30)
    assert clock.now() == 30.0
    clock.advance_to(45.5)
    assert clock.now() == 45.5
    clock.advance_to(45.5)  # staying put is allowed
    assert clock.now() == 45.5


@pytest.mark.parametrize(
    "move",
    [
        lambda c: c.advance(-0.001),
        lambda c: c.advance(float("nan")),
        lambda c: c.advance(float("inf")),
        lambda c: c.advance_to(9.999),
        lambda c: c.advance_to(float("nan")),
        lambda c: c.advance_to(float("inf")),
        lambda c: c.advance_to(float("-inf")),
    ],
    ids=["negative", "nan", "inf", "backwards", "to-nan", "to-inf", "to-minus-inf"],
)
def test_bad_moves_raise_and_change_nothing(move) -> None:  # type: ignore[no-untyped-def]
    clock = dc.ManualClock(10.0)
    loop = dc.EventLoop(clock=clock)
    fired: list[float] = []
    loop.call_at(11.0, lambda: fired.append(clock.now()))
    with pytest.raises(ValueError):
        move(clock)
    assert clock.now() == 10.0
    assert fired == []
    assert loop.next_timer_due() == 11.0


def test_backwards_message_says_what_was_wrong() -> None:
    clock = dc.ManualClock(5.0)
    with pytest.raises(ValueError, match=r"time can't go backwards: advance\(-1\)"):
        clock.advance(-1)
    with pytest.raises(ValueError, match=r"advance_to\(4.0\) < now \(5.0\)"):
        clock.advance_to(4.0)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"autojump_threshold": -0.1},
        {"autojump_threshold": float("nan")},
        {"start": float("nan")},
        {"epoch": float("inf")},
    ],
)
def test_bad_construction_raises(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        dc.ManualClock(**kwargs)


def test_autojump_threshold_can_be_changed() -> None:
    clock = dc.ManualClock(autojump_threshold=None)
    clock.autojump_threshold = 0.05
    assert clock.autojump_threshold == 0.05
    assert repr(clock) == "ManualClock(now=0.0, autojump_threshold=0.05)"


def test_concurrent_advances_add_up_exactly() -> None:
    clock = dc.ManualClock()
    loop = dc.EventLoop(clock=clock)
    fired: list[float] = []
    for t in range(1, 401):
        loop.call_at(float(t), lambda t=t: fired.append(t))  # type: ignore[misc]

    def mover() -> None:
        for _ in range(100):
            clock.advance(1.0)

    threads = [threading.Thread(target=mover) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert clock.now() == 400.0
    assert fired == [float(t) for t in range(1, 401)]  # each once, in time order


# -- MonotonicClock -----------------------------------------------------------------------------


def test_monotonic_clock_reads_real_time() -> None:
    clock = dc.MonotonicClock()
    assert clock.is_virtual is False
    assert isinstance(clock, dc.Clock)
    a = clock.now()
    b = clock.now()
    assert a <= b
    before = time.monotonic()
    now = clock.now()
    assert before <= now <= time.monotonic()
    before = time.time()
    wall, wall_ms = clock.wall(), clock.wall_ms()
    after = time.time()
    assert before - 0.05 <= wall <= after + 0.05  # within 50 ms of time.time (clock drift)
    assert before * 1000 - 50 <= wall_ms <= after * 1000 + 50
    # wall and now move together: their difference is fixed at construction
    d1 = clock.wall() - clock.now()
    d2 = clock.wall() - clock.now()
    assert math.isclose(d1, d2, abs_tol=1e-3)
    assert repr(clock).startswith("MonotonicClock(now=")
