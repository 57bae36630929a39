"""Chaos: seeded duplicates, reordering, short-poll sampling and injected faults — within what
SQS, SNS and Lambda allow — catch a consumer that is not idempotent."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import decoupling as dc
from decoupling.errors import InvalidParameterValue, TooManyRequestsException


@pytest.fixture
def rt(loop: dc.EventLoop) -> Iterator[dc.FunctionRuntime]:
    runtime = dc.FunctionRuntime(loop, isolation="inline")
    yield runtime
    runtime.close()


def pay_out(handle: Callable[[dc.Message], None], *, seed: int = 1) -> dc.Chaos:
    """Send 50 payments through a chaotic standard queue and consume them all."""
    loop = dc.EventLoop(clock=dc.ManualClock())
    chaos = dc.Chaos(seed=seed, duplicate_rate=0.2, duplicate_delay=10, reorder=True,
                     short_poll_sampling=True).attach(loop)
    payments = dc.Queue(loop, "payments")
    for i in range(50):
        payments.send(json.dumps({"payment": i, "amount": 10}))
    clock = loop.clock
    assert isinstance(clock, dc.ManualClock)
    while True:
        got = payments.receive(10)  # short polls, a second apart when they find nothing
        if not got:
            if not len(payments) and loop.next_timer_due() is None:
                return chaos
            clock.advance(1)
        for message in got:
            handle(message)
            payments.delete(message.receipt_handle)


def test_a_consumer_that_is_not_idempotent_is_caught() -> None:
    balance = {"paid": 0}

    def naive(message: dc.Message) -> None:
        balance["paid"] += json.loads(message.body)["amount"]

    chaos = pay_out(naive)
    # Seeded, so the same every run: 7 deleted payments came back as copies, 4 short polls
    # found nothing although payments were waiting, and the naive consumer paid 7 twice.
    assert (chaos.duplicates, chaos.false_empty_receives) == (7, 4)
    assert balance["paid"] == 570  # 50 payments of 10 = 500, plus 7 paid twice


def test_an_idempotent_consumer_passes() -> None:
    balance = {"paid": 0}
    seen: set[str] = set()

    def idempotent(message: dc.Message) -> None:
        if message.message_id in seen:  # a duplicate keeps its MessageId
            return
        seen.add(message.message_id)
        balance["paid"] += json.loads(message.body)["amount"]

    chaos = pay_out(idempotent)
    assert chaos.duplicates == 7
    assert balance["paid"] == 500 and len(seen) == 50


def test_a_duplicate_comes_back_after_the_delete(loop: dc.EventLoop) -> None:
    journal = dc.Journal(loop)
    chaos = dc.Chaos(seed=3, duplicate_rate=1.0, duplicate_delay=5)
    q = dc.Queue(loop, "q")
    chaos.attach(q)
    sent = q.send("once", message_attributes={"k": "v"})
    first = q.receive()[0]
    q.delete(first.receipt_handle)
    chaos.detach()  # the copy already scheduled still comes back; no new ones
    copy = q.receive(wait_seconds=20)[0]
    assert loop.clock.now() == 5.0  # seeded delay
    assert (copy.message_id, copy.body, copy.message_attributes) == (
        sent.message_id, "once", first.message_attributes)
    assert copy.sent_timestamp == first.sent_timestamp
    assert copy.receive_count == 1  # counted afresh: the first copy was processed and deleted
    q.delete(copy.receipt_handle)
    assert journal.kinds(sent.message_id) == [
        "sent", "received", "deleted", "duplicate_arrived", "received", "deleted"]
    assert q.receive(wait_seconds=20) == []


def test_an_event_source_mapping_wakes_for_a_duplicate(loop: dc.EventLoop,
                                                       rt: dc.FunctionRuntime) -> None:
    dc.Chaos(seed=3, duplicate_rate=1.0, duplicate_delay=5).attach(loop)
    q = dc.Queue(loop, "jobs")
    bodies: list[str] = []
    rt.register("work", lambda event, context: bodies.extend(r["body"] for r in event["Records"]))
    mapping = rt.add_event_source(q, "work")
    q.send("job")
    loop.run_until_idle(limit=30)
    assert bodies[:2] == ["job", "job"]  # processed, deleted, back as a copy, processed again
    mapping.delete()


def test_event_source_mappings_are_not_sampled(loop: dc.EventLoop,
                                              rt: dc.FunctionRuntime) -> None:
    # Lambda's pollers long-poll: a mapping's receives never come back falsely empty.
    dc.Chaos(seed=1, short_poll_sampling=True, short_poll_fraction=0.0).attach(loop)
    q = dc.Queue(loop, "jobs")
    done: list[str] = []
    rt.register("work", lambda event, context: done.extend(r["body"] for r in event["Records"]))
    rt.add_event_source(q, "work")
    for i in range(3):
        q.send(str(i))
    loop.run_until_idle()
    assert sorted(done) == ["0", "1", "2"] and loop.clock.now() == 0.0


def test_short_polls_sample_long_polls_see_everything(loop: dc.EventLoop) -> None:
    metrics = dc.Metrics(loop)
    chaos = dc.Chaos(seed=7, short_poll_sampling=True, short_poll_fraction=0.5).attach(loop)
    q = dc.Queue(loop, "q")
    for i in range(3):
        q.send(str(i))
    counts = [len(q.receive(10, wait_seconds=0, visibility_timeout=0)) for _ in range(8)]
    assert counts == [1, 2, 2, 2, 0, 3, 1, 2]  # often fewer than visible, once none at all
    assert chaos.sampled_receives == 8 and chaos.false_empty_receives == 1
    assert metrics.total(q, "NumberOfEmptyReceives") == 1
    for _ in range(5):
        assert len(q.receive(10, wait_seconds=20, visibility_timeout=0)) == 3


def test_reordering_stays_within_its_window(loop: dc.EventLoop) -> None:
    chaos = dc.Chaos(seed=5, reorder=True, reorder_window=3).attach(loop)
    q = dc.Queue(loop, "q")
    for i in range(20):
        q.send(str(i))
    order = [int(m.body) for _ in range(2) for m in q.receive(10)]
    assert sorted(order) == list(range(20)) and order != list(range(20))
    assert chaos.reordered > 0
    for position, value in enumerate(order):
        assert value - position <= 3  # a message moves at most 3 places ahead of its turn


def test_fifo_queues_are_left_alone(loop: dc.EventLoop) -> None:
    dc.Chaos(seed=1, duplicate_rate=1.0, reorder=True, short_poll_sampling=True,
             short_poll_fraction=0.0).attach(loop)
    q = dc.FifoQueue(loop, "q.fifo", content_based_deduplication=True)
    for i in range(5):
        q.send(str(i), message_group_id="g")
    got = q.receive(10, wait_seconds=0)
    assert [m.body for m in got] == ["0", "1", "2", "3", "4"]
    for message in got:
        q.delete(message.receipt_handle)
    assert loop.next_timer_due() is None and len(q) == 0
    with pytest.raises(InvalidParameterValue):
        dc.Chaos().attach(q)


def test_topic_delivery_failures_are_retried(loop: dc.EventLoop) -> None:
    metrics = dc.Metrics(loop)
    topic = dc.Topic(loop, "t")
    chaos = dc.Chaos(seed=2, delivery_failure_rate=0.5).attach(topic)
    got: list[tuple[str, int]] = []
    topic.subscribe(lambda n: got.append((n.message, n.attempt)))
    for i in range(10):
        topic.publish(str(i))
    assert topic.drain(timeout=10)
    assert sorted(m for m, _ in got) == [str(i) for i in range(10)]  # each delivered once
    assert chaos.failed_deliveries == 10
    assert sum(attempt - 1 for _, attempt in got) == 10  # the failed attempts were retried
    assert metrics.total(topic, "NumberOfNotificationsDelivered") == 10
    assert metrics.total(topic, "NumberOfNotificationsFailed") == 0  # retried, not given up


def test_invocation_errors_after_the_handler_ran(loop: dc.EventLoop,
                                                 rt: dc.FunctionRuntime) -> None:
    # The runtime "crashes" after the handler did its work: the batch is not deleted, comes
    # back after the visibility timeout and is processed again.
    chaos = dc.Chaos(seed=4, invocation_error_rate=0.5)
    q = dc.Queue(loop, "jobs", visibility_timeout=30)
    processed: list[str] = []
    fn = rt.register("work", lambda e, c: processed.extend(r["body"] for r in e["Records"]))
    chaos.attach(fn)
    for i in range(4):
        q.send(str(i))
    rt.add_event_source(q, "work", batch_size=1)
    loop.run_until_idle(limit=1000)
    assert sorted(set(processed)) == ["0", "1", "2", "3"] and len(q) == 0
    assert len(processed) == 4 + chaos.injected_errors
    assert chaos.injected_errors == 2


def test_injected_throttles(loop: dc.EventLoop, rt: dc.FunctionRuntime) -> None:
    metrics = dc.Metrics(loop)
    chaos = dc.Chaos(seed=6, throttle_rate=0.5)
    chaos.attach(rt.register("f", lambda e, c: "ok"))
    outcomes = []
    for _ in range(10):
        try:
            outcomes.append(rt.invoke("f", {}).payload)
        except TooManyRequestsException:
            outcomes.append("throttled")
    assert outcomes.count("throttled") == chaos.injected_throttles == 3
    assert metrics.total("f", "Throttles") == 3 and metrics.total("f", "Invocations") == 7


@pytest.mark.parametrize("kwargs", [
    {"duplicate_rate": 1.5}, {"duplicate_rate": -0.1}, {"short_poll_fraction": "half"},
    {"delivery_failure_rate": True}, {"duplicate_delay": -1}, {"reorder_window": 0},
    {"seed": 1.5},
])
def test_bad_settings(kwargs: dict[str, Any]) -> None:
    with pytest.raises(InvalidParameterValue):
        dc.Chaos(**kwargs)


def test_attach_to_something_else_or_twice(loop: dc.EventLoop) -> None:
    with pytest.raises(InvalidParameterValue):
        dc.Chaos().attach("payments")
    dc.Chaos().attach(loop)
    with pytest.raises(InvalidParameterValue):
        dc.Chaos().attach(loop)


def test_detach_restores_plain_behaviour(loop: dc.EventLoop) -> None:
    chaos = dc.Chaos(seed=1, short_poll_sampling=True, short_poll_fraction=0.0).attach(loop)
    q = dc.Queue(loop, "q")
    q.send("m")
    assert q.receive() == []  # sampled nothing
    chaos.detach()
    assert loop._tap is None
    assert q.receive()[0].body == "m"


def test_observed_queues_keep_their_plain_paths_until_chaos_comes(loop: dc.EventLoop) -> None:
    # Issue #23: metrics, journal and meter leave a queue "quiet" (its plain send and delete
    # keep their fast paths and tell the tap directly); chaos needs every event, so while it
    # is attached (to the loop or to any resource) the queues take their general paths.
    q = dc.Queue(loop, "q")
    metrics, journal, meter = dc.Metrics(loop), dc.Journal(loop), dc.RequestMeter(loop)
    other = dc.Queue(loop, "other")
    assert q._quiet and other._quiet and q._plain_max == other._plain_max == 1_048_576

    def cycle() -> str:
        message_id = q.send("m").message_id
        (got,) = q.receive()
        q.delete(got.receipt_handle)
        return message_id

    first = cycle()
    chaos = dc.Chaos(seed=1).attach(other)
    assert not q._quiet and q._plain_max == 0
    second = cycle()
    chaos.detach()
    assert q._quiet and q._plain_max == 1_048_576
    third = cycle()
    for message_id in (first, second, third):  # the same record either way
        assert journal.kinds(message_id) == ["sent", "received", "deleted"]
    assert journal.message_ids() == [first, second, third]
    for metric in ("NumberOfMessagesSent", "NumberOfMessagesReceived",
                   "NumberOfMessagesDeleted"):
        assert metrics.total(q, metric) == 3.0
    assert metrics.statistics(q, "SentMessageSize").sum == 3.0
    assert [meter.calls(q, action) for action in ("SendMessage", "ReceiveMessage",
                                                  "DeleteMessage")] == [3, 3, 3]
    for instrument in (metrics, journal, meter):
        instrument.close()
    assert loop._tap is None and q._quiet and q._observers == ()
