"""Metrics: CloudWatch names and meanings, exact counts after scripted workloads, gauges
sampled at period ends on virtual time, and no effect on what the loop does."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

import decoupling as dc
from decoupling.errors import DecouplingError, InvalidParameterValue


@pytest.fixture
def rt(loop: dc.EventLoop) -> Iterator[dc.FunctionRuntime]:
    runtime = dc.FunctionRuntime(loop, isolation="inline")
    yield runtime
    runtime.close()


def values(points: list[Any]) -> list[float | None]:
    return [p.value for p in points]


def test_sqs_counts_and_gauges_after_a_scripted_workload(loop: dc.EventLoop) -> None:
    clock = loop.clock
    assert isinstance(clock, dc.ManualClock)
    metrics = dc.Metrics(loop, period=60)
    dlq = dc.Queue(loop, "dlq")
    q = dc.Queue(loop, "q", visibility_timeout=40, redrive_policy=dc.RedrivePolicy(dlq, 2))
    # t=0: five messages of 1, 2, 3, 2 and 3 bytes (three sends and one batch of two).
    for body in ("a", "bb", "ccc"):
        q.send(body)
    q.send_batch(["dd", "eee"])
    got = q.receive(10)
    assert len(got) == 5
    q.delete(got[0].receipt_handle)
    q.delete(got[1].receipt_handle)
    q.delete(got[1].receipt_handle)  # deleting again succeeds, and AWS counts it
    clock.advance_to(10)
    assert q.receive() == []  # everything is in flight: an empty receive
    clock.advance_to(40)
    assert len(q.receive(10)) == 3  # back after 40 s; in flight again until 80
    clock.advance_to(120)
    assert q.receive(10) == []  # received twice already: all three move to the DLQ
    clock.advance_to(180)

    assert metrics.total(q, "NumberOfMessagesSent") == 5
    assert metrics.total(q, "NumberOfMessagesReceived") == 8
    assert metrics.total(q, "NumberOfMessagesDeleted") == 3
    assert metrics.total(q, "NumberOfEmptyReceives") == 2
    assert metrics.total("dlq", "NumberOfMessagesSent") == 0  # dead letters are not "sent"
    size = metrics.statistics(q, "SentMessageSize")
    assert (size.sample_count, size.sum, size.minimum, size.maximum) == (5, 11.0, 1.0, 3.0)
    assert size.average == 2.2

    # Periods [0, 60), [60, 120), [120, 180); gauges sampled at each period's end.
    assert [p.timestamp for p in metrics.series(q, "NumberOfMessagesSent")] == [0.0, 60.0, 120.0]
    assert values(metrics.series(q, "NumberOfMessagesSent")) == [5, 0, 0]
    assert values(metrics.series(q, "NumberOfMessagesReceived")) == [8, 0, 0]
    assert values(metrics.series(q, "NumberOfEmptyReceives")) == [1, 0, 1]
    assert values(metrics.series(q, "NumberOfMessagesDeleted")) == [3, 0, 0]
    assert values(metrics.series(q, "ApproximateNumberOfMessagesVisible")) == [0, 3, 0]
    assert values(metrics.series(q, "ApproximateNumberOfMessagesNotVisible")) == [3, 0, 0]
    assert values(metrics.series(q, "ApproximateNumberOfMessagesDelayed")) == [0, 0, 0]
    assert values(metrics.series(q, "ApproximateAgeOfOldestMessage")) == [60, 120, None]
    assert values(metrics.series(dlq, "ApproximateNumberOfMessagesVisible")) == [0, 0, 3]
    # A dead letter's age counts from its move to the DLQ (t=120), not from its send.
    assert values(metrics.series(dlq, "ApproximateAgeOfOldestMessage")) == [None, None, 60]
    assert metrics.gauge(dlq, "ApproximateNumberOfMessagesVisible") == 3
    assert metrics.gauge(q, "ApproximateAgeOfOldestMessage") is None


def test_delayed_messages_and_the_age_of_the_oldest(loop: dc.EventLoop) -> None:
    metrics = dc.Metrics(loop, period=60)
    later = dc.Queue(loop, "later")
    later.send("soon", delay_seconds=90)
    loop.clock.advance(150)
    assert values(metrics.series(later, "ApproximateNumberOfMessagesDelayed")) == [1, 0]
    assert values(metrics.series(later, "ApproximateNumberOfMessagesVisible")) == [0, 1]
    assert values(metrics.series(later, "ApproximateAgeOfOldestMessage")) == [60, 120]
    assert metrics.gauge(later, "ApproximateAgeOfOldestMessage") == 150


def test_a_message_received_three_times_leaves_the_age_of_the_oldest(
        loop: dc.EventLoop) -> None:
    # SQS moves a standard-queue message received 3 times without a delete to the back; the
    # metric then measures the next oldest message.
    metrics = dc.Metrics(loop)
    q = dc.Queue(loop, "poison", visibility_timeout=1)
    q.send("pill")
    loop.clock.advance(10)
    q.send("fine")
    for _ in range(3):
        assert q.receive()[0].body == "pill"
        loop.clock.advance(1)
    loop.clock.advance_to(100)
    assert metrics.gauge(q, "ApproximateAgeOfOldestMessage") == 90.0


def test_sns_counts(loop: dc.EventLoop) -> None:
    metrics = dc.Metrics(loop)
    topic = dc.Topic(loop, "events")
    everything = dc.Queue(loop, "everything")
    books = dc.Queue(loop, "books")
    topic.subscribe(everything, raw_message_delivery=True)
    topic.subscribe(books, filter_policy={"kind": ["book"]})

    def refuse(notification: dc.Notification) -> None:
        raise dc.ClientDeliveryError("gone")

    topic.subscribe(refuse)
    topic.publish("one", message_attributes={"kind": "book"})  # 3 + 4 + 6 + 4 = 17 bytes
    topic.publish("two")  # 3 bytes; the books subscription filters it out
    topic.publish_batch(["three", "four"])
    loop.run_until_idle()
    assert metrics.total(topic, "NumberOfMessagesPublished") == 4
    size = metrics.statistics(topic, "PublishSize")
    assert (size.sample_count, size.sum, size.minimum, size.maximum) == (4, 29.0, 3.0, 17.0)
    assert metrics.total(topic, "NumberOfNotificationsFilteredOut") == 3
    # everything: 4; books: 1; the callable refuses all four (client errors: no retry).
    assert metrics.total(topic, "NumberOfNotificationsDelivered") == 5
    assert metrics.total(topic, "NumberOfNotificationsFailed") == 4
    # Deliveries into queues are sends there.
    assert metrics.total(everything, "NumberOfMessagesSent") == 4
    assert metrics.total(books, "NumberOfMessagesSent") == 1


def test_http_failures_count_every_attempt_other_endpoints_once(loop: dc.EventLoop) -> None:
    # NumberOfNotificationsFailed: HTTP/S counts each failed attempt; other endpoints count 1
    # when SNS stops trying. A callable that raises is retried along its retry policy.
    metrics = dc.Metrics(loop)
    topic = dc.Topic(loop, "t")
    calls = []

    def flaky(notification: dc.Notification) -> None:
        calls.append(notification.attempt)
        raise RuntimeError("down")

    sub = topic.subscribe(flaky)
    topic.publish("m")
    assert topic.drain(timeout=10)
    assert len(calls) == sub.retry_policy().num_retries + 1
    assert metrics.total(topic, "NumberOfNotificationsFailed") == 1
    assert metrics.total(topic, "NumberOfNotificationsDelivered") == 0


def test_lambda_counts(loop: dc.EventLoop, rt: dc.FunctionRuntime) -> None:
    metrics = dc.Metrics(loop, period=60)

    def handler(event: Any, context: Any) -> str:
        if event == "boom":
            raise ValueError("boom")
        return "ok"

    rt.register("work", handler, simulated_duration=0.25)
    rt.invoke("work", "a")
    rt.invoke("work", "b")
    assert rt.invoke("work", "boom").function_error == "Unhandled"
    rt.put_function_concurrency("work", 0)
    with pytest.raises(dc.errors.TooManyRequestsException):
        rt.invoke("work", "c")
    assert metrics.total("work", "Invocations") == 3
    assert metrics.total("work", "Errors") == 1
    assert metrics.total("work", "Throttles") == 1
    duration = metrics.statistics("work", "Duration")
    assert (duration.sample_count, duration.sum, duration.maximum) == (3, 750.0, 250.0)
    loop.clock.advance_to(60)
    assert values(metrics.series("work", "ConcurrentExecutions", "Maximum")) == [1.0]
    assert metrics.gauge("work", "ConcurrentExecutions") == 0


def test_iterator_age_of_an_event_source_batch(loop: dc.EventLoop,
                                               rt: dc.FunctionRuntime) -> None:
    metrics = dc.Metrics(loop)
    jobs = dc.Queue(loop, "jobs")
    rt.register("proc", lambda event, context: None)
    rt.add_event_source(jobs, "proc", batch_size=10, maximum_batching_window=5)
    jobs.send("first")
    loop.clock.advance(2)
    jobs.send("last")
    loop.run_until_idle()  # the window ends at 5 s: the last record waited 3 s
    age = metrics.statistics("proc", "IteratorAge")
    assert (age.sample_count, age.sum) == (1, 3000.0)
    assert metrics.total("proc", "Invocations") == 1
    assert metrics.total(jobs, "NumberOfMessagesDeleted") == 2


def test_metrics_do_not_move_virtual_time_or_change_behaviour(loop: dc.EventLoop) -> None:
    metrics = dc.Metrics(loop, period=1)
    q = dc.Queue(loop, "q", visibility_timeout=30)
    q.send("m")
    q.receive()
    loop.run_until_idle()  # nothing is due: time stays, the message stays in flight
    assert loop.clock.now() == 0.0
    assert q.approximate_number_of_messages_not_visible == 1
    assert q.receive(wait_seconds=20) == []  # a long poll auto-jumps 20 s, as without metrics
    assert loop.clock.now() == 20.0
    assert values(metrics.series(q, "ApproximateNumberOfMessagesNotVisible"))[-1] == 1


def test_close_stops_counting_and_removes_every_hook(loop: dc.EventLoop) -> None:
    q = dc.Queue(loop, "q")
    metrics = dc.Metrics(loop)
    assert loop._tap is not None and metrics.enabled
    q.send("counted")
    metrics.close()
    metrics.close()  # idempotent
    assert loop._tap is None and not q._observers
    q.send("not counted")
    assert metrics.total(q, "NumberOfMessagesSent") == 1
    again = dc.Metrics(loop)  # a new one may attach once the old one is closed
    dc.Queue(loop, "later").send("x")
    assert again.total("later", "NumberOfMessagesSent") == 1


def test_queues_created_later_are_counted(loop: dc.EventLoop) -> None:
    metrics = dc.Metrics(loop)
    fifo = dc.FifoQueue(loop, "late.fifo", content_based_deduplication=True)
    fifo.send("x", message_group_id="g")
    fifo.send("x", message_group_id="g")  # a duplicate: accepted, not stored, not counted
    assert metrics.total(fifo, "NumberOfMessagesSent") == 1


@pytest.mark.parametrize(("call", "code"), [
    (lambda m: m.total("q", "NoSuchMetric"), "InvalidParameterValue"),
    (lambda m: m.total(42, "NumberOfMessagesSent"), "InvalidParameterValue"),
    (lambda m: m.total("q", "ApproximateNumberOfMessagesVisible"), "InvalidParameterValue"),
    (lambda m: m.gauge("q", "NumberOfMessagesSent"), "InvalidParameterValue"),
    (lambda m: m.series("q", "NumberOfMessagesSent", "Median"), "InvalidParameterValue"),
])
def test_bad_reads_raise_invalid_parameter_value(loop: dc.EventLoop, call: Any,
                                                 code: str) -> None:
    metrics = dc.Metrics(loop)
    with pytest.raises(DecouplingError) as info:
        call(metrics)
    assert info.value.code == code


@pytest.mark.parametrize("period", [0, -1, float("nan"), "60", True])
def test_a_bad_period_is_refused_and_nothing_attached(loop: dc.EventLoop, period: Any) -> None:
    with pytest.raises(InvalidParameterValue):
        dc.Metrics(loop, period=period)
    assert loop._tap is None


def test_one_metrics_per_loop(loop: dc.EventLoop) -> None:
    dc.Metrics(loop)
    with pytest.raises(InvalidParameterValue):
        dc.Metrics(loop)


def test_real_clock_counts(loop: dc.EventLoop) -> None:
    real = dc.EventLoop()
    try:
        metrics = dc.Metrics(real, period=3600)
        q = dc.Queue(real, "q")
        q.send("x")
        assert q.receive()[0].body == "x"
        assert q.receive() == []
        assert metrics.total(q, "NumberOfMessagesReceived") == 1
        assert metrics.total(q, "NumberOfEmptyReceives") == 1
        metrics.close()
    finally:
        real.stop()
