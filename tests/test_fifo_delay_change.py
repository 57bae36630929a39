"""A FIFO queue's DelaySeconds change reaches the messages still waiting (issue #20).

SQS Developer Guide, "Amazon SQS delay queues": "For standard queues, the per-queue delay
setting is not retroactive—changing the setting doesn't affect the delay of messages already in
the queue. For FIFO queues, the per-queue delay setting is retroactive—changing the setting
affects the delay of messages already in the queue." A waiting message becomes visible at its
send time plus the new delay; visible and in-flight messages are not affected. Natively, through
the boto3 bridge, and in a durable store across a reopen; all times virtual and exact.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import decoupling as dc

E = 1_800_000_000.0  # the wall clock at the store's first open (epoch seconds)


def fifo(loop: dc.EventLoop, delay: int = 60) -> dc.FifoQueue:
    return dc.FifoQueue(loop, "jobs.fifo", delay_seconds=delay, content_based_deduplication=True)


def bodies(q: dc.Queue) -> list[str]:
    """The bodies of one receive of up to 10 messages, each deleted."""
    got = q.receive(10)
    for m in got:
        q.delete(m.receipt_handle)
    return [m.body for m in got]


def test_a_shorter_delay_releases_waiting_messages_at_send_time_plus_the_new_delay(
    loop: dc.EventLoop, clock: dc.ManualClock
) -> None:
    q = fifo(loop, delay=60)
    q.send("a", message_group_id="g")  # t=0: visible at 60 under the old delay
    clock.advance(10)
    q.send("b", message_group_id="g")  # t=10: visible at 70
    clock.advance(10)  # t=20
    q.set_attributes({"DelaySeconds": "30"})
    # a: 0 + 30 = 30; b: 10 + 30 = 40.
    assert q.approximate_number_of_messages_delayed == 2
    clock.advance(9.999)
    assert bodies(q) == []
    clock.advance(0.001)  # t=30
    assert q.approximate_number_of_messages_delayed == 1
    assert bodies(q) == ["a"]
    clock.advance(9.999)
    assert bodies(q) == []
    clock.advance(0.001)  # t=40
    assert bodies(q) == ["b"]


def test_a_delay_already_served_makes_waiting_messages_visible_at_once(
    loop: dc.EventLoop, clock: dc.ManualClock
) -> None:
    q = fifo(loop, delay=60)
    q.send("a", message_group_id="g")
    q.send("x", message_group_id="h")
    clock.advance(25)
    q.set_attributes({"DelaySeconds": "0"})
    assert q.approximate_number_of_messages_delayed == 0
    assert q.approximate_number_of_messages == 2
    assert bodies(q) == ["a", "x"]


def test_a_longer_delay_holds_waiting_messages_and_leaves_visible_and_in_flight_ones(
    loop: dc.EventLoop, clock: dc.ManualClock
) -> None:
    q = fifo(loop, delay=10)
    q.send("early", message_group_id="e")  # visible at 10
    q.send("held", message_group_id="h")  # visible at 10
    clock.advance(10)
    (early,) = q.receive(1, visibility_timeout=100)  # in flight until 110
    assert early.body == "early"
    q.send("late", message_group_id="l")  # t=10: visible at 20 under the old delay
    clock.advance(5)  # t=15
    q.set_attributes({"DelaySeconds": "120"})
    # "held" was visible already, "early" is in flight: neither changes. "late": 10 + 120.
    assert q.approximate_number_of_messages == 1
    assert q.approximate_number_of_messages_not_visible == 1
    assert q.approximate_number_of_messages_delayed == 1
    assert bodies(q) == ["held"]
    q.delete(early.receipt_handle)
    clock.advance(114.999)  # t=129.999
    assert bodies(q) == []
    clock.advance(0.001)  # t=130
    assert bodies(q) == ["late"]


def test_group_order_holds_when_a_waiting_message_is_released(
    loop: dc.EventLoop, clock: dc.ManualClock
) -> None:
    q = fifo(loop, delay=0)
    q.send("1", message_group_id="g")  # visible now
    q.set_attributes({"DelaySeconds": "50"})
    q.send("2", message_group_id="g")  # t=0: waits until 50
    clock.advance(5)
    q.set_attributes({"DelaySeconds": "5"})  # "2": 0 + 5 = 5, visible now, behind "1"
    assert bodies(q) == ["1", "2"]


def test_a_long_poll_wakes_at_the_new_time(loop: dc.EventLoop, clock: dc.ManualClock) -> None:
    q = fifo(loop, delay=300)
    q.send("a", message_group_id="g")
    loop.call_later(2, lambda: q.set_attributes({"DelaySeconds": "7"}))
    got = q.receive(1, wait_seconds=20)  # the clock jumps to the timer, then to 0 + 7
    assert [m.body for m in got] == ["a"]
    assert clock.now() == 7.0


def test_a_standard_queue_keeps_the_delay_a_message_was_sent_with(
    loop: dc.EventLoop, clock: dc.ManualClock
) -> None:
    q = dc.Queue(loop, "jobs", delay_seconds=60)
    q.send("a")  # visible at 60
    clock.advance(20)
    q.set_attributes({"DelaySeconds": "0"})
    assert q.approximate_number_of_messages_delayed == 1
    clock.advance(39.999)
    assert bodies(q) == []
    clock.advance(0.001)  # t=60
    assert bodies(q) == ["a"]
    q.set_attributes({"DelaySeconds": "100"})
    q.send("b")  # t=60: visible at 160
    q.set_attributes({"DelaySeconds": "10"})
    clock.advance(99.999)
    assert bodies(q) == []
    clock.advance(0.001)
    assert bodies(q) == ["b"]


def test_through_the_boto3_bridge(loop: dc.EventLoop, clock: dc.ManualClock) -> None:
    boto3 = pytest.importorskip("boto3")
    from decoupling.boto import serve

    with serve(loop):
        sqs = boto3.client("sqs")
        url = sqs.create_queue(QueueName="jobs.fifo", Attributes={
            "FifoQueue": "true", "ContentBasedDeduplication": "true", "DelaySeconds": "600",
        })["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody="a", MessageGroupId="g")
        clock.advance(100)
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"DelaySeconds": "120"})

        def receive() -> list[str]:
            got: dict[str, Any] = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)
            return [m["Body"] for m in got.get("Messages", [])]

        delayed = sqs.get_queue_attributes(
            QueueUrl=url, AttributeNames=["ApproximateNumberOfMessagesDelayed"]
        )["Attributes"]
        assert delayed == {"ApproximateNumberOfMessagesDelayed": "1"}
        clock.advance(19.999)  # t=119.999
        assert receive() == []
        clock.advance(0.001)  # t=120 = 0 + 120
        assert receive() == ["a"]


def test_the_new_time_survives_a_reopen(tmp_path: Path) -> None:
    db = tmp_path / "queues.db"

    def open_loop(down_for: float) -> dc.EventLoop:
        store = dc.SqliteStore(db, synchronous="OFF")
        return dc.EventLoop(clock=dc.ManualClock(epoch=E + down_for), store=store)

    loop = open_loop(0)
    q = fifo(loop, delay=600)
    q.send("a", message_group_id="g")  # sent at E
    q.send("b", message_group_id="h")
    clock = loop.clock
    assert isinstance(clock, dc.ManualClock)
    clock.advance(30)
    q.set_attributes({"DelaySeconds": "90"})  # a and b: visible at E+90
    assert loop.store is not None
    loop.store.close()

    loop = open_loop(89.999)
    q2 = loop._lookup("sqs", "jobs.fifo")
    assert isinstance(q2, dc.FifoQueue)
    assert q2.delay_seconds == 90
    assert q2.approximate_number_of_messages_delayed == 2
    assert bodies(q2) == []
    assert loop.store is not None
    loop.store.close()

    loop = open_loop(90)
    q3 = loop._lookup("sqs", "jobs.fifo")
    assert isinstance(q3, dc.FifoQueue)
    assert bodies(q3) == ["a", "b"]
    assert loop.store is not None
    loop.store.close()


def test_released_messages_survive_a_reopen_as_visible(tmp_path: Path) -> None:
    db = tmp_path / "queues.db"
    store = dc.SqliteStore(db, synchronous="OFF")
    loop = dc.EventLoop(clock=dc.ManualClock(epoch=E), store=store)
    q = fifo(loop, delay=600)
    q.send("a", message_group_id="g")
    clock = loop.clock
    assert isinstance(clock, dc.ManualClock)
    clock.advance(30)
    q.set_attributes({"DelaySeconds": "0"})  # visible from now (E+30) on
    store.close()
    loop = dc.EventLoop(clock=dc.ManualClock(epoch=E + 31), store=dc.SqliteStore(db))
    q2 = loop._lookup("sqs", "jobs.fifo")
    assert isinstance(q2, dc.FifoQueue)
    assert q2.approximate_number_of_messages_delayed == 0
    assert bodies(q2) == ["a"]
    assert loop.store is not None
    loop.store.close()


def test_a_reopened_queue_sends_with_its_own_delay_size_limit_and_scope(tmp_path: Path) -> None:
    # The store re-creates a queue with defaults, then sets its attributes directly: the plain
    # send must read them, not values from the queue's creation.
    db = tmp_path / "queues.db"
    store = dc.SqliteStore(db, synchronous="OFF")
    loop = dc.EventLoop(clock=dc.ManualClock(epoch=E), store=store)
    q = dc.FifoQueue(loop, "jobs.fifo", delay_seconds=45, maximum_message_size=1024,
                     deduplication_scope="queue")
    q.set_attributes({"DeduplicationScope": "messageGroup"})  # reported; "queue" stays in force
    store.close()

    loop = dc.EventLoop(clock=dc.ManualClock(epoch=E), store=dc.SqliteStore(db))
    q2 = loop._lookup("sqs", "jobs.fifo")
    assert isinstance(q2, dc.FifoQueue)
    first = q2.send("a", message_group_id="g", message_deduplication_id="d")
    again = q2.send("a", message_group_id="h", message_deduplication_id="d")  # same id, queue scope
    assert again.message_id == first.message_id
    with pytest.raises(dc.errors.InvalidParameterValue):
        q2.send("x" * 1025, message_group_id="g", message_deduplication_id="big")
    assert q2.approximate_number_of_messages_delayed == 1
    clock = loop.clock
    assert isinstance(clock, dc.ManualClock)
    clock.advance(44.999)
    assert bodies(q2) == []
    clock.advance(0.001)
    assert bodies(q2) == ["a"]
    assert loop.store is not None
    loop.store.close()
