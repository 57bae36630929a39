"""Visibility timeouts, DeleteMessage and ChangeMessageVisibility (single and batch)."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

import decoupling as dc
from decoupling import errors


def state(q: dc.Queue) -> Any:
    ledger = q._ledger
    return (
        q.get_attributes(),
        [(e.record.message_id, e.state, e.receive_count, e.deadline, e.receipt)
         for e in ledger.entries()],
        sorted(ledger.handles),
    )


def test_invisible_until_the_timeout_ends_exactly(clock: dc.ManualClock, loop: dc.EventLoop) -> None:
    q = dc.Queue(loop, "q")
    q.send("x")
    [m] = q.receive(visibility_timeout=30)
    clock.advance(29.999)
    assert q.receive() == []
    assert q.approximate_number_of_messages_not_visible == 1
    clock.advance_to(30.0)
    [again] = q.receive()
    assert (again.message_id, again.receive_count) == (m.message_id, 2)


# -- DeleteMessage ------------------------------------------------------------------------------


def test_delete_with_the_latest_handle(clock: dc.ManualClock, loop: dc.EventLoop) -> None:
    q = dc.Queue(loop, "q")
    q.send("x")
    [m] = q.receive()
    q.delete(m.receipt_handle)
    assert len(q) == 0
    q.delete(m.receipt_handle)  # deleting a deleted message succeeds
    q.delete(m.receipt_handle)
    assert len(q) == 0


def test_the_latest_handle_deletes_even_after_the_timeout(
    clock: dc.ManualClock, loop: dc.EventLoop
) -> None:
    q = dc.Queue(loop, "q")
    q.send("x")
    [m] = q.receive(visibility_timeout=1)
    clock.advance(2)
    assert q.approximate_number_of_messages == 1
    q.delete(m.receipt_handle)
    assert len(q) == 0
    assert q.receive() == []


def test_an_older_handle_succeeds_without_deleting(clock: dc.ManualClock, loop: dc.EventLoop) -> None:
    q = dc.Queue(loop, "q")
    q.send("x")
    [first] = q.receive(visibility_timeout=1)
    clock.advance(1)
    [second] = q.receive(visibility_timeout=10)
    before = state(q)
    q.delete(first.receipt_handle)
    assert state(q) == before
    assert q.approximate_number_of_messages_not_visible == 1
    q.delete(second.receipt_handle)
    assert len(q) == 0


@pytest.mark.parametrize("suffix", ["", "zz", "-1", " 1", "0x1", "1_0", "A"])
def test_malformed_handles_are_invalid(loop: dc.EventLoop, suffix: str) -> None:
    q = dc.Queue(loop, "q")
    q.send("x")
    [m] = q.receive()
    prefix = m.receipt_handle.rsplit("/", 1)[0] + "/"
    bad = prefix + suffix
    before = state(q)
    with pytest.raises(errors.ReceiptHandleIsInvalid) as info:
        q.delete(bad)
    assert info.value.message == f'The input receipt handle "{bad}" is not a valid receipt handle.'
    with pytest.raises(errors.ReceiptHandleIsInvalid):
        q.change_visibility(bad, 10)
    assert state(q) == before


@pytest.mark.parametrize("handle", ["garbage", "", 5, None])
def test_garbage_handles_are_invalid(loop: dc.EventLoop, handle: Any) -> None:
    q = dc.Queue(loop, "q")
    with pytest.raises(errors.ReceiptHandleIsInvalid) as info:
        q.delete(handle)
    assert info.value.code == "ReceiptHandleIsInvalid"
    if handle == "garbage":
        assert info.value.message == (
            'The input receipt handle "garbage" is not a valid receipt handle.'
        )


def test_a_handle_of_another_queue_is_invalid(clock: dc.ManualClock, loop: dc.EventLoop) -> None:
    a, b = dc.Queue(loop, "a"), dc.Queue(loop, "b")
    a.send("x")
    b.send("y")
    [ma] = a.receive()
    [mb] = b.receive(visibility_timeout=1)
    clock.advance(1)
    b.receive()  # mb's handle is now an old handle of b
    for handle in (ma.receipt_handle, mb.receipt_handle):
        with pytest.raises(errors.ReceiptHandleIsInvalid):
            (b if handle is ma.receipt_handle else a).delete(handle)
    assert (len(a), len(b)) == (1, 1)


# -- ChangeMessageVisibility --------------------------------------------------------------------


def test_change_visibility_counts_from_now(clock: dc.ManualClock, loop: dc.EventLoop) -> None:
    q = dc.Queue(loop, "q", visibility_timeout=30)
    q.send("x")
    [m] = q.receive()
    clock.advance(20)
    q.change_visibility(m.receipt_handle, 15)  # visible again at 35, not 50
    clock.advance_to(34.999)
    assert q.receive() == []
    clock.advance_to(35.0)
    assert [x.receive_count for x in q.receive()] == [2]


def test_change_visibility_to_zero_returns_it_at_once(loop: dc.EventLoop) -> None:
    q = dc.Queue(loop, "q")
    q.send("x")
    [m] = q.receive()
    q.change_visibility(m.receipt_handle, 0)
    assert q.approximate_number_of_messages == 1
    [again] = q.receive()
    assert (again.message_id, again.receive_count) == (m.message_id, 2)
    assert q.receive() == []


def test_change_visibility_to_zero_wakes_a_long_poll() -> None:
    clock = dc.ManualClock(autojump_threshold=None)
    loop = dc.EventLoop(clock=clock)
    q = dc.Queue(loop, "q")
    q.send("x")
    [m] = q.receive()
    result: list[list[dc.Message]] = []
    poll = threading.Thread(target=lambda: result.append(q.receive(wait_seconds=20)))
    poll.start()
    while not q._waiting:
        poll.join(0.001)
    q.change_visibility(m.receipt_handle, 0)
    poll.join(2)
    assert [x.message_id for x in result[0]] == [m.message_id]
    assert clock.now() == 0.0


@pytest.mark.realtime
def test_a_shorter_timeout_reaches_a_waiting_long_poll_on_time() -> None:
    # The poll planned to sleep to its deadline (the message was due back at 10 s); a change
    # to 1 s must wake it to re-plan, or it would return the message a second late.
    with dc.EventLoop() as loop:
        q = dc.Queue(loop, "q")
        q.send("x")
        [m] = q.receive(visibility_timeout=10)
        result: list[tuple[float, list[str]]] = []

        def poll() -> None:
            started = time.monotonic()
            got = q.receive(wait_seconds=20)
            result.append((time.monotonic() - started, [x.body for x in got]))

        waiter = threading.Thread(target=poll)
        waiter.start()
        while not q._waiting:
            time.sleep(0.001)
        q.change_visibility(m.receipt_handle, 1)
        waiter.join(25)
    [(waited, bodies)] = result
    assert bodies == ["x"]
    assert 0.99 <= waited < 5  # at the new 1 s timeout, not the old 10 s one


def test_twelve_hour_ceiling_counts_from_the_receive_that_issued_the_handle(
    clock: dc.ManualClock, loop: dc.EventLoop
) -> None:
    q = dc.Queue(loop, "q")
    q.send("x")
    clock.advance(50_000)  # long after the send: the send time does not matter
    [m] = q.receive(visibility_timeout=30)
    clock.advance(100)
    before = state(q)
    with pytest.raises(errors.InvalidParameterValue) as info:
        q.change_visibility(m.receipt_handle, 43_101)
    assert info.value.message == (
        "Value 43101 for parameter VisibilityTimeout is invalid. Reason: Total VisibilityTimeout "
        "for the message is beyond the limit [43200 seconds]."
    )
    assert state(q) == before
    q.change_visibility(m.receipt_handle, 43_100)  # 100 + 43,100 = 12 hours exactly
    clock.advance(43_099.999)
    assert q.receive() == []
    clock.advance_to(50_000 + 43_200.0)
    [again] = q.receive(visibility_timeout=60)
    q.change_visibility(again.receipt_handle, 43_200)  # a new receive, a new 12 hours


@pytest.mark.parametrize("timeout", [-1, 43_201, "10", True, 1.5, None])
def test_bad_timeouts_change_nothing(loop: dc.EventLoop, timeout: Any) -> None:
    q = dc.Queue(loop, "q")
    q.send("x")
    [m] = q.receive()
    before = state(q)
    with pytest.raises(errors.InvalidParameterValue) as info:
        q.change_visibility(m.receipt_handle, timeout)
    assert info.value.message == (
        f"Value {timeout!r} for parameter VisibilityTimeout is invalid. Reason: Must be between "
        "0 and 43200, if provided."
    )
    assert state(q) == before


def test_change_visibility_of_a_deleted_message(loop: dc.EventLoop) -> None:
    q = dc.Queue(loop, "q")
    q.send("x")
    [m] = q.receive()
    q.change_visibility(m.receipt_handle, 42)
    q.delete(m.receipt_handle)
    with pytest.raises(errors.InvalidParameterValue) as info:
        q.change_visibility(m.receipt_handle, 42)
    assert info.value.message == (
        f"Value {m.receipt_handle} for parameter ReceiptHandle is invalid. Reason: Message does "
        "not exist or is not available for visibility timeout change."
    )


def test_change_visibility_with_an_older_handle(clock: dc.ManualClock, loop: dc.EventLoop) -> None:
    q = dc.Queue(loop, "q")
    q.send("x")
    [first] = q.receive(visibility_timeout=1)
    clock.advance(1)
    q.receive(visibility_timeout=100)
    before = state(q)
    with pytest.raises(errors.InvalidParameterValue, match="Message does not exist"):
        q.change_visibility(first.receipt_handle, 0)
    assert state(q) == before


def test_latest_handle_after_the_timeout_hides_the_message_again(
    clock: dc.ManualClock, loop: dc.EventLoop
) -> None:
    q = dc.Queue(loop, "q", visibility_timeout=1)
    q.send("x")
    [m] = q.receive()
    clock.advance(2)
    assert q.approximate_number_of_messages == 1
    q.change_visibility(m.receipt_handle, 0)  # 0: it stays visible
    assert q.approximate_number_of_messages == 1
    q.change_visibility(m.receipt_handle, 10)  # SQS answers 200; it is hidden again
    assert (q.approximate_number_of_messages, q.approximate_number_of_messages_not_visible) == (
        0, 1,
    )
    assert q.receive() == []
    clock.advance(9.999)
    assert q.receive() == []
    clock.advance_to(12.0)
    [again] = q.receive()
    assert again.receive_count == 2  # hiding is not a receive
    with pytest.raises(errors.InvalidParameterValue):  # and the ceiling still applies
        q.change_visibility(again.receipt_handle, 43_201)


def test_latest_handle_after_the_timeout_still_has_the_ceiling(
    clock: dc.ManualClock, loop: dc.EventLoop
) -> None:
    q = dc.Queue(loop, "q")
    q.send("x")
    [m] = q.receive(visibility_timeout=100)
    clock.advance(200)
    with pytest.raises(errors.InvalidParameterValue, match="beyond the limit"):
        q.change_visibility(m.receipt_handle, 43_001)
    assert q.approximate_number_of_messages == 1
    q.change_visibility(m.receipt_handle, 43_000)
    assert q.approximate_number_of_messages_not_visible == 1


# -- DeleteMessageBatch -------------------------------------------------------------------------


def test_delete_batch(loop: dc.EventLoop) -> None:
    q = dc.Queue(loop, "q")
    q.send_batch(["a", "b", "c"])
    got = q.receive(max_messages=10)
    result = q.delete_batch([
        {"Id": "first", "ReceiptHandle": got[0].receipt_handle},
        {"Id": "bad", "ReceiptHandle": "garbage"},
        {"Id": "third", "ReceiptHandle": got[2].receipt_handle},
    ])
    assert result.successful == [{"Id": "first"}, {"Id": "third"}]
    assert result.failed == [{
        "Id": "bad", "Code": "ReceiptHandleIsInvalid",
        "Message": 'The input receipt handle "garbage" is not a valid receipt handle.',
        "SenderFault": True,
    }]
    assert len(q) == 1
    plain = q.delete_batch([got[1].receipt_handle])  # plain handles: Id is the index
    assert (plain.successful, plain.failed) == ([{"Id": "0"}], [])
    assert len(q) == 0


@pytest.mark.parametrize(
    ("entries", "error"),
    [
        ([], errors.EmptyBatchRequest),
        ([{"Id": str(i), "ReceiptHandle": "h"} for i in range(11)],
         errors.TooManyEntriesInBatchRequest),
        ([{"Id": "a.b", "ReceiptHandle": "h"}], errors.InvalidBatchEntryId),
        ([{"Id": "a", "ReceiptHandle": "h"}, {"Id": "a", "ReceiptHandle": "h"}],
         errors.BatchEntryIdsNotDistinct),
    ],
)
def test_whole_delete_batch_errors_delete_nothing(
    loop: dc.EventLoop, entries: Any, error: type[Exception]
) -> None:
    q = dc.Queue(loop, "q")
    q.send("x")
    [m] = q.receive()
    entries = [dict(e, ReceiptHandle=m.receipt_handle) for e in entries]
    before = state(q)
    with pytest.raises(error):
        q.delete_batch(entries)
    with pytest.raises(error):
        q.change_visibility_batch([dict(e, VisibilityTimeout=0) for e in entries])
    assert state(q) == before


# -- ChangeMessageVisibilityBatch ---------------------------------------------------------------


def test_change_visibility_batch(clock: dc.ManualClock, loop: dc.EventLoop) -> None:
    q = dc.Queue(loop, "q")
    q.send_batch(["a", "b", "c", "d"])
    a, b, c, d = q.receive(max_messages=10)
    q.delete(d.receipt_handle)
    result = q.change_visibility_batch([
        {"Id": "a", "ReceiptHandle": a.receipt_handle, "VisibilityTimeout": 0},
        {"Id": "b", "ReceiptHandle": b.receipt_handle, "VisibilityTimeout": 43_201},
        {"Id": "c", "ReceiptHandle": c.receipt_handle, "VisibilityTimeout": 100},
        {"Id": "d", "ReceiptHandle": d.receipt_handle, "VisibilityTimeout": 100},
        {"Id": "e", "ReceiptHandle": "garbage", "VisibilityTimeout": 100},
    ])
    assert result.successful == [{"Id": "a"}, {"Id": "c"}]
    assert [(f["Id"], f["Code"], f["SenderFault"]) for f in result.failed] == [
        ("b", "InvalidParameterValue", True),
        ("d", "InvalidParameterValue", True),
        ("e", "ReceiptHandleIsInvalid", True),
    ]
    assert [m.body for m in q.receive(max_messages=10, visibility_timeout=1000)] == ["a"]
    clock.advance(30)
    assert [m.body for m in q.receive(max_messages=10, visibility_timeout=1000)] == ["b"]
    clock.advance_to(100.0)
    assert [m.body for m in q.receive(max_messages=10)] == ["c"]
