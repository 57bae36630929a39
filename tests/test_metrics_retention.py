"""Metrics in a process that runs for months: points are rolled up and expired on CloudWatch's
schedule (1-minute points 15 days, 5-minute 63 days, 1-hour 455 days), so what is held stays
bounded however long the loop runs, and sums survive the roll-ups."""

from __future__ import annotations

import os

import pytest

import decoupling as dc
from decoupling.errors import InvalidParameterValue

DAY = 86_400


#: Virtual days of the year-long test: 365 in the soak profile, 120 by default (the tiers are
#: all in play by day 78; the full year adds ~6 s).
YEAR_TEST_DAYS = 365 if os.environ.get("DECOUPLING_HYPOTHESIS_PROFILE") == "soak" else 120

def test_points_held_stay_bounded_over_a_year_of_virtual_days(loop: dc.EventLoop) -> None:
    clock = loop.clock
    assert isinstance(clock, dc.ManualClock)
    # Every tier held in memory (memory_window=None): this test is about CloudWatch's
    # schedule; tests/test_metrics_spill.py checks the same series read back from disk.
    metrics = dc.Metrics(loop, period=60, memory_window=None)
    queue = dc.Queue(loop, "quiet")
    held = {}
    for day in range(1, YEAR_TEST_DAYS + 1):
        queue.send("ping")
        queue.delete(queue.receive()[0].receipt_handle)
        clock.advance(DAY)
        if day in (1, 15, 30, 63, 100, 200, YEAR_TEST_DAYS):
            held[day] = metrics._points()
    # Three gauges sampled every minute (the queue is empty at each boundary, so no age), and
    # one send, receive and delete a day. Until day 15 everything is held at 1 minute.
    assert held[1] == 3 * 1440 + 4
    assert held[15] == 3 * 15 * 1440 + 4 * (14 * 1440 + 1)
    # Afterwards the 1-minute tier holds 15 days plus at most a roll-up chunk (1/8 of it), the
    # 5-minute tier 48 days plus a chunk, the 1-hour tier the rest up to 455 days.
    per_metric_bound = (15 * 1440 * 9 // 8) + (48 * 288 * 9 // 8) + 365 * 24
    assert all(held[d] <= 7 * per_metric_bound for d in held)
    last = YEAR_TEST_DAYS
    if last == 365:
        assert held[365] - held[200] < held[200] // 4  # growth slows to the 1-hour tier's 24 a day
    else:
        assert held[last] - held[100] <= 7 * (last - 100) * 24 * 2  # 1-hour growth, tiers at their caps
    # series() gives each resolution over the window it is still held at.
    assert len(metrics.series(queue, "NumberOfMessagesSent")) < 15 * 1440 * 9 // 8 + 1
    assert metrics.series(queue, "NumberOfMessagesSent")[0].timestamp >= (YEAR_TEST_DAYS - 17) * DAY
    hourly = metrics.series(queue, "NumberOfMessagesSent", period=3600)
    assert hourly[0].timestamp == 0.0 and len(hourly) == YEAR_TEST_DAYS * 24
    # No message was lost to the roll-ups: the hourly series and the total agree.
    assert sum(p.value or 0 for p in hourly) == float(YEAR_TEST_DAYS)
    assert metrics.total(queue, "NumberOfMessagesSent") == float(YEAR_TEST_DAYS)
    assert metrics.total(queue, "NumberOfMessagesDeleted", start=0, end=YEAR_TEST_DAYS * DAY) == float(YEAR_TEST_DAYS)


def test_points_older_than_455_days_are_dropped(loop: dc.EventLoop) -> None:
    clock = loop.clock
    assert isinstance(clock, dc.ManualClock)
    metrics = dc.Metrics(loop, period=3600)
    queue = dc.Queue(loop, "q")
    queue.send("first")
    clock.advance(600 * DAY)
    hourly = metrics.series(queue, "NumberOfMessagesSent")
    assert len(hourly) <= 455 * 24 * 9 // 8
    assert hourly[0].timestamp > 0.0
    assert sum(p.value or 0 for p in hourly) == 0.0  # the send of day 0 has expired...
    assert metrics.total(queue, "NumberOfMessagesSent") == 1.0  # ...the running total has not


def test_a_shorter_retention_keeps_memory_flat(loop: dc.EventLoop) -> None:
    clock = loop.clock
    assert isinstance(clock, dc.ManualClock)
    metrics = dc.Metrics(loop, period=60, retention=DAY)
    dc.Queue(loop, "q")
    clock.advance(2 * DAY)
    after_two = metrics._points()
    clock.advance(10 * DAY)
    assert metrics._points() <= after_two
    assert after_two <= 3 * 1440 * 9 // 8 + 3


def test_series_period_must_be_a_multiple_and_retention_positive(loop: dc.EventLoop) -> None:
    metrics = dc.Metrics(loop, period=60)
    queue = dc.Queue(loop, "q")
    with pytest.raises(InvalidParameterValue, match="multiple of 60"):
        metrics.series(queue, "NumberOfMessagesSent", period=90)
    metrics.close()
    with pytest.raises(InvalidParameterValue, match="retention"):
        dc.Metrics(loop, retention=0)
