"""Receiving: arguments, system attributes, handles, long polling, retention, in-flight limit,
asyncio."""

from __future__ import annotations

import asyncio
import gc
import threading
import time
from typing import Any

import pytest

import decoupling as dc
from decoupling import errors
from decoupling.sqs.queue import _Record

EPOCH_MS = 1_767_225_600_000


# -- arguments ----------------------------------------------------------------------------------


def test_receive_one_to_ten(loop: dc.EventLoop) -> None:
    q = dc.Queue(loop, "q")
    for i in range(12):
        q.send(f"m{i}")
    assert [m.body for m in q.receive()] == ["m0"]  # default 1
    assert [m.body for m in q.receive(max_messages=10)] == [f"m{i}" for i in range(1, 11)]
    assert [m.body for m in q.receive(max_messages=10)] == ["m11"]
    assert q.receive(max_messages=10) == []


@pytest.mark.parametrize(
    ("kwargs", "parameter"),
    [
        ({"max_messages": 0}, "MaxNumberOfMessages"),
        ({"max_messages": 11}, "MaxNumberOfMessages"),
        ({"max_messages": True}, "MaxNumberOfMessages"),
        ({"max_messages": "1"}, "MaxNumberOfMessages"),
        ({"wait_seconds": -1}, "WaitTimeSeconds"),
        ({"wait_seconds": 21}, "WaitTimeSeconds"),
        ({"wait_seconds": 1.5}, "WaitTimeSeconds"),
        ({"visibility_timeout": -1}, "VisibilityTimeout"),
        ({"visibility_timeout": 43_201}, "VisibilityTimeout"),
        ({"visibility_timeout": "30"}, "VisibilityTimeout"),
    ],
)
def test_bad_receive_arguments_change_nothing(
    loop: dc.EventLoop, kwargs: dict[str, Any], parameter: str
) -> None:
    q = dc.Queue(loop, "q")
    q.send("x")
    with pytest.raises(errors.InvalidParameterValue, match=f"parameter {parameter} is invalid"):
        q.receive(**kwargs)
    assert (q.approximate_number_of_messages, q.approximate_number_of_messages_not_visible) == (
        1, 0,
    )
    assert q._ledger.entries().__next__().receive_count == 0


# -- system attributes and handles --------------------------------------------------------------


def test_system_attributes_are_exact(clock: dc.ManualClock, loop: dc.EventLoop) -> None:
    q = dc.Queue(loop, "q", visibility_timeout=30)
    clock.advance(1.25)
    sent = q.send("hello")
    clock.advance(2)
    [first] = q.receive()
    assert first.attributes == {
        "SenderId": "000000000000",
        "SentTimestamp": str(EPOCH_MS + 1_250),
        "ApproximateReceiveCount": "1",
        "ApproximateFirstReceiveTimestamp": str(EPOCH_MS + 3_250),
    }
    assert (first.message_id, first.receive_count, first.sent_timestamp,
            first.first_receive_timestamp) == (sent.message_id, 1, EPOCH_MS + 1_250,
                                               EPOCH_MS + 3_250)
    assert first.md5_of_body == sent.md5_of_message_body
    clock.advance(30)
    [second] = q.receive()
    assert second.attributes["ApproximateReceiveCount"] == "2"
    assert second.attributes["ApproximateFirstReceiveTimestamp"] == str(EPOCH_MS + 3_250)
    assert second.receipt_handle != first.receipt_handle
    assert first.receive_count == 1  # a Message is a snapshot of its receive


def test_every_receive_issues_a_new_handle(clock: dc.ManualClock, loop: dc.EventLoop) -> None:
    q = dc.Queue(loop, "q")
    q.send("x")
    handles = set()
    for _ in range(20):
        handles.add(q.receive(visibility_timeout=1)[0].receipt_handle)
        clock.advance(1)
    assert len(handles) == 20


def test_per_call_visibility_timeout_and_the_queue_default(
    clock: dc.ManualClock, loop: dc.EventLoop
) -> None:
    q = dc.Queue(loop, "q", visibility_timeout=100)
    q.send("a")
    q.send("b")
    q.receive(visibility_timeout=10)  # a for 10 s
    q.receive()  # b for the queue's 100 s
    clock.advance(9.999)
    assert q.receive(max_messages=10) == []
    clock.advance_to(10.0)
    assert [m.body for m in q.receive(max_messages=10, visibility_timeout=0)] == ["a"]
    clock.advance_to(99.999)
    assert [m.body for m in q.receive(max_messages=10)] == ["a"]  # timeout 0: back at once
    clock.advance_to(100.0)
    assert [m.body for m in q.receive(max_messages=10)] == ["b"]


def test_attempt_id_is_ignored_on_standard_queues(loop: dc.EventLoop) -> None:
    q = dc.Queue(loop, "q")
    q.send("a")
    q.send("b")
    assert [m.body for m in q.receive(receive_request_attempt_id="x")] == ["a"]
    assert [m.body for m in q.receive(receive_request_attempt_id="x")] == ["b"]


# -- long polling -------------------------------------------------------------------------------


def test_long_poll_returns_empty_at_exactly_the_deadline(
    clock: dc.ManualClock, loop: dc.EventLoop
) -> None:
    q = dc.Queue(loop, "q")
    clock.advance(3)
    assert q.receive(wait_seconds=20) == []
    assert clock.now() == 23.0


def test_long_poll_uses_the_queue_wait_time(clock: dc.ManualClock, loop: dc.EventLoop) -> None:
    q = dc.Queue(loop, "q", receive_message_wait_time_seconds=7)
    assert q.receive() == []
    assert clock.now() == 7.0
    assert q.receive(wait_seconds=0) == []  # an explicit 0 short-polls
    assert clock.now() == 7.0


def test_long_poll_returns_when_a_delay_ends(clock: dc.ManualClock, loop: dc.EventLoop) -> None:
    q = dc.Queue(loop, "q")
    q.send("soon", delay_seconds=5)
    assert [m.body for m in q.receive(wait_seconds=20)] == ["soon"]
    assert clock.now() == 5.0


def test_long_poll_returns_when_a_visibility_timeout_ends(
    clock: dc.ManualClock, loop: dc.EventLoop
) -> None:
    q = dc.Queue(loop, "q")
    q.send("x")
    q.receive(visibility_timeout=12)
    [again] = q.receive(wait_seconds=20)
    assert (again.body, again.receive_count, clock.now()) == ("x", 2, 12.0)


def test_long_poll_returns_the_moment_another_thread_sends() -> None:
    clock = dc.ManualClock(autojump_threshold=None)
    loop = dc.EventLoop(clock=clock)
    q = dc.Queue(loop, "q")
    result: list[list[dc.Message]] = []
    waiter = threading.Thread(target=lambda: result.append(q.receive(wait_seconds=20)))
    waiter.start()
    while not q._waiting:
        waiter.join(0.001)
    q.send("now")
    waiter.join(2)
    assert [m.body for m in result[0]] == ["now"]
    assert clock.now() == 0.0  # no virtual time passed


def test_several_long_polls_share_a_burst() -> None:
    clock = dc.ManualClock(autojump_threshold=None)
    loop = dc.EventLoop(clock=clock)
    q = dc.Queue(loop, "q")
    results: list[list[str]] = []
    lock = threading.Lock()

    def poll() -> None:
        got = q.receive(max_messages=10, wait_seconds=20)
        with lock:
            results.append([m.body for m in got])

    waiters = [threading.Thread(target=poll) for _ in range(3)]
    for w in waiters:
        w.start()
    while q._waiting < 3:  # until all three are blocked
        waiters[0].join(0.001)
    q.send_batch(["a", "b", "c"])  # one send call per message: each wakes a waiter
    clock.advance(20)  # those that got nothing return empty at the deadline
    for w in waiters:
        w.join(2)
    assert sorted(b for r in results for b in r) == ["a", "b", "c"]
    assert len(results) == 3


@pytest.mark.realtime
def test_long_poll_on_the_real_clock() -> None:
    with dc.EventLoop() as loop:
        q = dc.Queue(loop, "q")
        threading.Timer(0.05, lambda: q.send("hi")).start()
        started = time.monotonic()
        got = q.receive(wait_seconds=20)
        waited = time.monotonic() - started
        assert [m.body for m in got] == ["hi"]
        assert 0.04 <= waited < 10  # when the message came, not at the 20 s deadline
        started = time.monotonic()
        assert q.receive(wait_seconds=1) == []
        assert 0.99 <= time.monotonic() - started < 5  # the whole second, then stops


@pytest.mark.realtime
def test_every_long_poll_sees_a_delayed_message_when_it_matures() -> None:
    # Waking only one waiter for a delayed send left the other asleep until its own deadline:
    # the short poll ends just before the message matures, and the long one then slept to 2 s.
    with dc.EventLoop() as loop:
        q = dc.Queue(loop, "q")
        got: list[tuple[float, list[str]]] = []
        arrived = threading.Event()

        def poll(wait: int) -> None:
            bodies = [m.body for m in q.receive(wait_seconds=wait)]
            got.append((time.monotonic(), bodies))
            if bodies:
                arrived.set()

        short = threading.Thread(target=poll, args=(1,))
        short.start()
        while q._waiting < 1:
            short.join(0.001)
        long = threading.Thread(target=poll, args=(20,))
        long.start()
        while q._waiting < 2:
            long.join(0.001)
        sent = time.monotonic()
        q.send("delayed", delay_seconds=1)
        arrived.wait(25)
        loop.stop()  # returns the other poll now (if the short one got it), not at 20 s
        short.join(25)
        long.join(25)
    [(when, bodies)] = [(t, b) for t, b in got if b]
    assert bodies == ["delayed"]  # one poll got it (the long one, unless the short woke late)
    assert 0.99 <= when - sent < 10  # as soon as it matured, not at the long poll's 20 s deadline


# -- retention ----------------------------------------------------------------------------------


def test_a_message_is_never_delivered_after_retention_ends(
    clock: dc.ManualClock, loop: dc.EventLoop
) -> None:
    q = dc.Queue(loop, "q", message_retention_period=60)
    q.send("a")
    q.send("b")
    clock.advance(10)
    q.send("c")
    [a] = q.receive(visibility_timeout=100)
    clock.advance_to(59.999)
    assert (len(q), q.approximate_number_of_messages,
            q.approximate_number_of_messages_not_visible) == (3, 2, 1)
    clock.advance_to(60.0)
    assert (len(q), q.approximate_number_of_messages,
            q.approximate_number_of_messages_not_visible) == (1, 1, 0)
    assert [m.body for m in q.receive(max_messages=10)] == ["c"]
    q.delete(a.receipt_handle)  # the handle of an expired message: succeeds, nothing to do
    clock.advance_to(70.0)
    assert len(q) == 0 and q.receive(max_messages=10, wait_seconds=5) == []


def test_a_delayed_message_can_expire_before_it_is_seen(
    clock: dc.ManualClock, loop: dc.EventLoop
) -> None:
    q = dc.Queue(loop, "q", message_retention_period=60)
    q.send("never", delay_seconds=120)
    clock.advance(60)
    assert len(q) == 0
    clock.advance(60)
    assert q.receive() == []


def test_long_poll_across_a_retention_expiry_returns_at_its_deadline() -> None:
    # 0.3 + 60 - 60 < 0.3 in floating point: before the fix the poll spun forever at 60.3.
    clock = dc.ManualClock(start=0.3)
    loop = dc.EventLoop(clock=clock)
    q = dc.Queue(loop, "q", message_retention_period=60)
    q.send("x")
    q.receive(visibility_timeout=100)
    clock.advance_to(45.3)
    result: list[list[dc.Message]] = []
    poll = threading.Thread(target=lambda: result.append(q.receive(wait_seconds=20)))
    poll.start()
    poll.join(5)
    assert not poll.is_alive()
    assert result == [[]] and clock.now() == 65.3 and len(q) == 0


def test_shorter_retention_applies_to_messages_already_held(
    clock: dc.ManualClock, loop: dc.EventLoop
) -> None:
    q = dc.Queue(loop, "q")
    q.send("x")
    clock.advance(100)
    q.set_attributes({"MessageRetentionPeriod": "60"})
    assert len(q) == 0


# -- the in-flight limit ------------------------------------------------------------------------


def test_over_limit_with_a_small_limit(loop: dc.EventLoop) -> None:
    q = dc.Queue(loop, "q")
    q.max_in_flight = 3
    for i in range(6):
        q.send(f"m{i}")
    assert len(q.receive(max_messages=2)) == 2
    assert [m.body for m in q.receive(max_messages=10)] == ["m2"]  # only one slot was left
    with pytest.raises(errors.OverLimit) as info:
        q.receive()
    assert (info.value.code, info.value.status) == ("OverLimit", 403)
    assert info.value.message == (
        "Too many messages in flight: the queue has 3 and the limit is 3."
    )
    assert (q.approximate_number_of_messages, q.approximate_number_of_messages_not_visible) == (
        3, 3,
    )


def test_full_in_flight_with_nothing_visible_is_just_empty(loop: dc.EventLoop) -> None:
    q = dc.Queue(loop, "q")
    q.max_in_flight = 1
    q.send("x")
    [m] = q.receive()
    assert q.receive() == []  # nothing visible: no error
    q.delete(m.receipt_handle)
    q.send("y")
    assert [m.body for m in q.receive()] == ["y"]


def test_over_limit_at_the_real_120000(loop: dc.EventLoop) -> None:
    q = dc.Queue(loop, "q")
    assert q.max_in_flight == 120_000
    ledger = q._ledger
    record = _Record("filler", "x", None, EPOCH_MS)  # records are opaque to the core
    gc.disable()  # 240,000 new objects would trigger many collections
    try:
        for _ in range(120_000):  # straight into the core: 120,000 sends take seconds
            ledger.enqueue(record, 0.0)
        received, _ = ledger.receive(0.0, 120_000, 43_200.0)
    finally:
        gc.enable()
    assert len(received) == 120_000
    q.send("one too many")
    with pytest.raises(errors.OverLimit, match="the queue has 120000 and the limit is 120000"):
        q.receive()
    q.delete(received[0].receipt or "")
    assert [m.body for m in q.receive()] == ["one too many"]


# -- asyncio ------------------------------------------------------------------------------------


def test_receive_async_returns_at_once_when_messages_are_there(loop: dc.EventLoop) -> None:
    q = dc.Queue(loop, "q")

    async def main() -> list[str]:
        await q.send_async("a")
        got = await q.receive_async(max_messages=10, wait_seconds=20)
        await q.delete_async(got[0].receipt_handle)
        return [m.body for m in got]

    threads = threading.active_count()
    assert asyncio.run(main()) == ["a"]
    assert len(q) == 0
    assert threading.active_count() == threads  # no worker thread was needed


def test_receive_async_waits_without_blocking_the_event_loop() -> None:
    clock = dc.ManualClock(autojump_threshold=None)
    loop = dc.EventLoop(clock=clock)
    q = dc.Queue(loop, "q")
    ticks: list[int] = []

    async def heartbeat() -> None:
        for i in range(5):
            ticks.append(i)
            await asyncio.sleep(0)

    async def sender() -> None:
        while not q._waiting:
            await asyncio.sleep(0.001)
        await q.send_async("late")

    async def main() -> list[str]:
        got, _, _ = await asyncio.gather(q.receive_async(wait_seconds=20), heartbeat(), sender())
        return [m.body for m in got]

    try:
        assert asyncio.run(main()) == ["late"]
    finally:
        loop.stop()
    assert ticks == [0, 1, 2, 3, 4]
    assert clock.now() == 0.0


def test_receive_async_times_out_on_virtual_time(
    clock: dc.ManualClock, loop: dc.EventLoop
) -> None:
    q = dc.Queue(loop, "q")
    try:
        assert asyncio.run(q.receive_async(wait_seconds=20)) == []
    finally:
        loop.stop()
    assert clock.now() == 20.0


def test_receive_async_checks_its_arguments_first(loop: dc.EventLoop) -> None:
    q = dc.Queue(loop, "q")
    q.send("x")
    with pytest.raises(errors.InvalidParameterValue, match="WaitTimeSeconds"):
        asyncio.run(q.receive_async(wait_seconds=21))
    assert q.approximate_number_of_messages == 1
