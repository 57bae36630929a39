"""Metrics kept on CloudWatch's schedule with flat memory: points older than the memory window
(1 day by default) move to SQLite in bulk at roll-up time and come back, exactly, when read."""

from __future__ import annotations

import gc
import math
import os
from pathlib import Path
from typing import Any

import pytest

import decoupling as dc
from decoupling.clock import DEFAULT_EPOCH
from decoupling.errors import InvalidParameterValue

DAY = 86_400
COUNTS = ("NumberOfMessagesSent", "NumberOfMessagesReceived", "NumberOfMessagesDeleted",
          "NumberOfEmptyReceives")


def _traffic(loop: dc.EventLoop, queue: dc.Queue, until: float, step: float) -> None:
    """A message every ``step`` seconds whose body grows and shrinks (sizes 1..50), received
    and deleted 3/7 of a step later, and an empty receive every 9 steps."""
    clock = loop.clock
    assert isinstance(clock, dc.ManualClock)
    n = 0
    while clock.now() < until:
        queue.send("x" * (1 + n % 50))
        clock.advance(step * 3 / 7)
        for message in queue.receive(10):
            queue.delete(message.receipt_handle)
        if n % 9 == 0:
            queue.receive()
        clock.advance(step * 4 / 7)
        n += 1


def test_points_older_than_the_window_come_back_from_disk_exactly() -> None:
    # 10-second points (CloudWatch keeps them 3 hours, then as 1-minute points 15 days) and a
    # 30-minute memory window, over 6 hours: the same traffic seen by a Metrics holding
    # everything in memory and by one that spilled, and rolled up on disk, most of it.
    held, spilled = (dc.Metrics(dc.EventLoop(clock=dc.ManualClock()), period=10,
                                memory_window=window) for window in (None, 1_800))
    for metrics in (held, spilled):
        _traffic(metrics.loop, dc.Queue(metrics.loop, "orders"), 6 * 3_600, 70)
    assert spilled._points_on_disk() > 0
    assert spilled._points_in_memory() < held._points_in_memory() // 4
    for metric in (*COUNTS, "SentMessageSize"):
        for period in (10, 60, 300, 3600):
            for statistic in ("Sum", "SampleCount", "Minimum", "Maximum"):
                assert spilled.series("orders", metric, statistic, period=period) == \
                    held.series("orders", metric, statistic, period=period), (metric, period)
        for start, end in ((0, 3_600), (3_610, 7_190), (0, math.inf), (5 * 3_600, None)):
            assert spilled.statistics("orders", metric, start=start, end=end) == \
                held.statistics("orders", metric, start=start, end=end)
        assert spilled.statistics("orders", metric) == held.statistics("orders", metric)
    for metric in ("ApproximateNumberOfMessagesVisible", "ApproximateAgeOfOldestMessage"):
        assert spilled.series("orders", metric, "Maximum", period=300) == \
            held.series("orders", metric, "Maximum", period=300)


def test_roll_up_boundaries_are_exact_on_disk() -> None:
    loop = dc.EventLoop(clock=dc.ManualClock())
    clock = loop.clock
    assert isinstance(clock, dc.ManualClock)
    metrics = dc.Metrics(loop, period=10, memory_window=600)
    queue = dc.Queue(loop, "edges")
    # Sends on both sides of minute and 5-minute boundaries in the first hour.
    for at, count in ((59, 1), (60, 2), (299, 3), (300, 4), (3_599, 5)):
        clock.advance_to(float(at))
        for _ in range(count):
            queue.send("edge" * count)
    clock.advance_to(5 * 3_600.0)  # past 3 hours + a chunk: 1-minute points now, on disk
    assert metrics._points_in_memory() < 7 * 90
    minutes = {p.timestamp: p.value for p in
               metrics.series(queue, "NumberOfMessagesSent", period=60) if p.value}
    assert minutes == {0.0: 1.0, 60.0: 2.0, 240.0: 3.0, 300.0: 4.0, 3_540.0: 5.0}
    five = {p.timestamp: p.value for p in
            metrics.series(queue, "NumberOfMessagesSent", period=300) if p.value}
    assert five == {0.0: 6.0, 300.0: 4.0, 3_300.0: 5.0}
    # The 10-second points of the first hour are gone (kept 3 hours, rolled a chunk at a time).
    assert metrics.series(queue, "NumberOfMessagesSent")[0].timestamp >= 3_600
    assert metrics.total(queue, "NumberOfMessagesSent", start=60, end=300) == 5.0
    size = metrics.statistics(queue, "SentMessageSize", start=0, end=3_600)
    assert (size.sample_count, size.sum, size.minimum, size.maximum) == (15, 220.0, 4.0, 20.0)


def test_points_held_in_memory_stay_bounded_over_30_days() -> None:
    loop = dc.EventLoop(clock=dc.ManualClock())
    clock = loop.clock
    assert isinstance(clock, dc.ManualClock)
    metrics = dc.Metrics(loop, period=300)  # the default 1-day window
    queue = dc.Queue(loop, "busy")
    in_memory, on_disk = {}, {}
    for day in range(1, 31):
        for _ in range(24):  # a message an hour
            queue.send("tick")
            queue.delete(queue.receive()[0].receipt_handle)
            clock.advance(3_600)
        in_memory[day] = metrics._points_in_memory()
        on_disk[day] = metrics._points_on_disk()
    # 7 metrics (3 gauges sampled each period, 4 counts dense from their first point), at
    # most the 1-day window plus one spill chunk (3 hours) of 5-minute points each.
    bound = 7 * (288 + 36)
    assert all(in_memory[day] <= bound for day in in_memory)
    assert in_memory[30] <= in_memory[2]
    # Disk holds the rest (5-minute points are kept 63 days: it grows all month).
    assert on_disk[2] < on_disk[15] < on_disk[30]
    assert metrics.total(queue, "NumberOfMessagesSent") == 720.0
    assert metrics.total(queue, "NumberOfMessagesSent", start=0, end=30 * DAY) == 720.0


def test_a_durable_store_keeps_spilled_points_across_a_reopen(tmp_path: Path) -> None:
    path = tmp_path / "app.sqlite3"
    loop = dc.EventLoop(clock=dc.ManualClock(), store=dc.SqliteStore(path, synchronous="OFF"))
    metrics = dc.Metrics(loop, period=60, memory_window=3_600)
    queue = dc.Queue(loop, "kept")
    _traffic(loop, queue, 6 * 3_600, 600)
    before = metrics.series(queue, "NumberOfMessagesSent", period=3_600)
    sizes = metrics.statistics(queue, "SentMessageSize", start=0, end=6 * 3_600)
    assert len(before) == 6 and sum(p.value or 0 for p in before) == 36.0
    assert metrics._points_on_disk() > 0  # the first hours went to the store's table
    metrics.close()  # and the rest now: nothing of it stays only in memory
    store = loop.store
    assert store is not None
    store.close()

    # The same virtual timeline, continued: a clock that starts where the first stopped.
    later = dc.ManualClock(start=6 * 3_600, epoch=DEFAULT_EPOCH + 6 * 3_600)
    loop2 = dc.EventLoop(clock=later, store=dc.SqliteStore(path, synchronous="OFF"))
    metrics2 = dc.Metrics(loop2, period=60, memory_window=3_600)
    queue2 = loop2._lookup("sqs", "kept")
    assert queue2 is not None
    later.advance(3_600)
    queue2.send("after")
    later.advance(3_600)
    after = metrics2.series(queue2, "NumberOfMessagesSent", period=3_600)
    assert after[:len(before)] == before
    assert after[len(before)].value == 0.0 and after[len(before) + 1].value == 1.0
    assert metrics2.statistics(queue2, "SentMessageSize", start=0, end=6 * 3_600) == sizes
    assert metrics2.total(queue2, "NumberOfMessagesSent") == 1.0  # counted by this Metrics
    assert ("AWS/SQS", "kept", "NumberOfEmptyReceives") in metrics2.names()  # only on disk
    metrics2.close()
    store2 = loop2.store
    assert store2 is not None
    store2.close()


def test_without_a_store_a_private_file_is_made_and_removed_at_close() -> None:
    loop = dc.EventLoop(clock=dc.ManualClock())
    metrics = dc.Metrics(loop, period=60, memory_window=600)
    queue = dc.Queue(loop, "q")
    assert metrics._spill.path is None  # nothing spilled yet: no file
    for _ in range(12):
        queue.send("m")
        loop.clock.advance(600)  # type: ignore[attr-defined]
    path = metrics._spill.path
    assert path is not None and os.path.exists(path)
    assert metrics._points_on_disk() > 0
    assert metrics.total(queue, "NumberOfMessagesSent", start=0, end=7_200) == 12.0
    metrics.close()
    assert not os.path.exists(path)


def test_a_garbage_collected_metrics_removes_its_file() -> None:
    loop = dc.EventLoop(clock=dc.ManualClock())
    metrics = dc.Metrics(loop, period=60, memory_window=600)
    queue = dc.Queue(loop, "q")
    for _ in range(12):
        queue.send("m")
        loop.clock.advance(600)  # type: ignore[attr-defined]
    path = metrics._spill.path
    assert path is not None and os.path.exists(path)
    del metrics, queue, loop
    gc.collect()
    assert not os.path.exists(path)


def test_memory_window_none_keeps_everything_in_memory(loop: dc.EventLoop) -> None:
    metrics = dc.Metrics(loop, period=60, memory_window=None)
    dc.Queue(loop, "q")
    loop.clock.advance(3 * DAY)  # type: ignore[attr-defined]
    assert metrics._points_on_disk() == 0 and metrics._spill.path is None
    assert metrics._points_in_memory() == metrics._points() == 3 * 3 * 1_440


@pytest.mark.parametrize("bad", [0, -1, 30, math.nan, math.inf, "3600", True])
def test_bad_memory_window(loop: dc.EventLoop, bad: Any) -> None:
    with pytest.raises(InvalidParameterValue, match="memory_window"):
        dc.Metrics(loop, period=60, memory_window=bad)
