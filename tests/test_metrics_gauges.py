"""The SQS gauges a Metrics samples once a period, over a long stretch: every datapoint of
``series`` (memory and disk, every statistic, 1-minute to 1-hour periods) is the value the
queue showed at that period's end, as :meth:`Metrics.gauge` read it at the same instant."""

from __future__ import annotations

import random

import decoupling as dc

GAUGES = ("ApproximateNumberOfMessagesVisible", "ApproximateNumberOfMessagesNotVisible",
          "ApproximateNumberOfMessagesDelayed", "ApproximateAgeOfOldestMessage")
HOURS = 8  # past the 2-hour memory window several times: most points are read from disk


def test_sampled_gauges_equal_the_values_read_at_each_boundary(
        clock: dc.ManualClock, loop: dc.EventLoop) -> None:
    metrics = dc.Metrics(loop, period=60, memory_window=2 * 3600)
    dlq = dc.Queue(loop, "dlq")
    queues = [
        # Received and not deleted: in flight for 100 s, dead letters after 2 receives.
        dc.Queue(loop, "busy", visibility_timeout=100, redrive_policy=dc.RedrivePolicy(dlq, 2)),
        dc.Queue(loop, "delayed", delay_seconds=90),  # every message delayed 90 s
        dc.Queue(loop, "poison", visibility_timeout=30),  # received 3+ times: out of the age
        dc.Queue(loop, "idle"),  # empty throughout: zeros and no age
    ]
    rnd = random.Random(23)
    seen: dict[tuple[str, str], list[tuple[float, float | None]]] = {}
    for minute in range(HOURS * 60):
        clock.advance(rnd.choice((5.0, 20.5, 37.0)))  # traffic inside the minute
        for queue in queues[:3]:
            if rnd.random() < 0.4:
                for _ in range(rnd.randrange(1, 4)):
                    queue.send("m")
            if rnd.random() < 0.5:
                for message in queue.receive(rnd.randrange(1, 4)):
                    if queue.name == "delayed" or (queue.name == "busy" and rnd.random() < 0.3):
                        queue.delete(message.receipt_handle)
        if minute % 17 == 0:
            for message in dlq.receive(2):
                dlq.delete(message.receipt_handle)
        clock.advance((minute + 1) * 60 - clock.now())  # exactly to the period's end
        for queue in [*queues, dlq]:
            for metric in GAUGES:
                seen.setdefault((queue.name, metric), []).append(
                    (clock.now() - 60, metrics.gauge(queue, metric)))
    assert metrics._points_on_disk() > 0  # the first hours were spilled
    ages = [value for _, value in seen[("busy", "ApproximateAgeOfOldestMessage")]]
    assert None in ages and any(value is not None and value > 0 for value in ages)
    assert {value for _, value in seen[("idle", "ApproximateNumberOfMessagesVisible")]} == {0.0}
    for (name, metric), values in seen.items():
        # 1-minute periods: one sample each, every statistic is that value.
        for statistic in ("Maximum", "Minimum", "Average", "Sum", "SampleCount"):
            got = [(p.timestamp, p.value) for p in metrics.series(name, metric, statistic)]
            if statistic == "SampleCount":
                expected = [(t, None if v is None else 1.0) for t, v in values]
            else:
                expected = values
            assert got == expected, (name, metric, statistic)
        # 5-minute and 1-hour periods: the statistics of the samples the period holds.
        for width in (300, 3600):
            buckets: dict[float, list[float]] = {}
            for at, value in values:
                bucket = buckets.setdefault(at // width * width, [])
                if value is not None:
                    bucket.append(value)
            expected_max = [(at, max(b) if b else None) for at, b in buckets.items()]
            expected_min = [(at, min(b) if b else None) for at, b in buckets.items()]
            expected_count = [(at, float(len(b)) if b else None) for at, b in buckets.items()]
            expected_sum = {at: sum(b) for at, b in buckets.items() if b}
            assert [(p.timestamp, p.value) for p in metrics.series(
                name, metric, "Maximum", period=width)] == expected_max, (name, metric, width)
            assert [(p.timestamp, p.value) for p in metrics.series(
                name, metric, "Minimum", period=width)] == expected_min, (name, metric, width)
            assert [(p.timestamp, p.value) for p in metrics.series(
                name, metric, "SampleCount", period=width)] == expected_count, (name, metric)
            for point in metrics.series(name, metric, "Average", period=width):
                if point.timestamp in expected_sum:
                    count = len(buckets[point.timestamp])
                    assert point.value == expected_sum[point.timestamp] / count
                else:
                    assert point.value is None
